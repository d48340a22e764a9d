//! STS: who each identity is, and refused credentials.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_identity_of_both_identities() {
    let env = start().await;
    let me = aws_sdk_sts::Client::new(&env.learner)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.account(), Some(seed::ACCOUNT));
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:iam::{}:user/{}", seed::ACCOUNT, seed::LEARNER_USER).as_str())
    );
    assert!(me.user_id().unwrap().starts_with("AIDA"));

    let inst = aws_sdk_sts::Client::new(&env.instance)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(inst.account(), Some(seed::ACCOUNT));
    assert_eq!(
        inst.arn(),
        Some(
            format!(
                "arn:aws:sts::{}:assumed-role/{}/{}",
                seed::ACCOUNT,
                seed::INSTANCE_ROLE,
                seed::INSTANCE_ID
            )
            .as_str()
        )
    );
    let uid = inst.user_id().unwrap();
    assert!(
        uid.starts_with("AROA") && uid.ends_with(&format!(":{}", seed::INSTANCE_ID)),
        "{uid}"
    );

    // Bad credentials.
    let endpoint = env.running.endpoint();
    let wrong_secret =
        common::credentials_config(&endpoint, seed::LEARNER_ACCESS_KEY, "wrong", None).await;
    assert_eq!(
        code!(
            aws_sdk_sts::Client::new(&wrong_secret)
                .get_caller_identity()
                .send()
                .await
        ),
        "SignatureDoesNotMatch"
    );
    let unknown = common::credentials_config(&endpoint, "AKIAUNKNOWNUNKNOWN00", "x", None).await;
    assert_eq!(
        code!(
            aws_sdk_sts::Client::new(&unknown)
                .get_caller_identity()
                .send()
                .await
        ),
        "InvalidClientTokenId"
    );
    let no_token = common::credentials_config(
        &endpoint,
        seed::INSTANCE_ACCESS_KEY,
        &common::served(&endpoint)
            .credential(seed::INSTANCE_ACCESS_KEY)
            .expect("the instance's key")
            .secret_access_key,
        None,
    )
    .await;
    assert_eq!(
        code!(
            aws_sdk_sts::Client::new(&no_token)
                .get_caller_identity()
                .send()
                .await
        ),
        "InvalidClientTokenId"
    );
    // The JSON services answer in their own protocol.
    let unknown_kms = aws_sdk_kms::Client::new(&unknown);
    assert_eq!(
        code!(unknown_kms.list_keys().send().await),
        "UnrecognizedClientException"
    );
    let wrong_kms = aws_sdk_kms::Client::new(&wrong_secret);
    assert_eq!(
        code!(wrong_kms.list_keys().send().await),
        "InvalidSignatureException"
    );
    env.running.shutdown().await;
}
