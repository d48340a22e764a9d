//! Resource policy documents (SNS topic policies, IAM trust policies) evaluated for a service
//! principal and for an IAM identity, with and without condition context. Input: the policy.
#![no_main]

use kms_workshop_sandbox::common::policy::{evaluate, Caller, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(policy) = std::str::from_utf8(data) else {
        return;
    };
    let topic = "arn:aws:sns:us-east-1:111122223333:snsworkshop";
    let context = [
        ("aws:SourceAccount", Some("111122223333")),
        (
            "aws:SourceArn",
            Some("arn:aws:events:us-east-1:111122223333:rule/r"),
        ),
        ("sts:ExternalId", None),
    ];
    let callers = [
        Caller::Service("events.amazonaws.com"),
        Caller::Identity {
            account: "999988887777",
            arn: "arn:aws:iam::999988887777:user/workshop-instructor",
        },
    ];
    for caller in callers {
        for (action, resource, ctx) in [
            ("SNS:Publish", Some(topic), &context[..]),
            ("sts:AssumeRole", None, &context[2..]),
        ] {
            let _ = evaluate(
                policy,
                &Request {
                    caller,
                    action,
                    resource,
                    context: ctx,
                },
            );
        }
    }
});
