//! KMS: key deletion, aliases, tags, rotation, key policies, listing.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_and_cancel_key_deletion() {
    let env = start().await;
    let kms = env.kms();
    let s = seeded(&kms).await;
    // K1 is already pending deletion.
    assert_eq!(
        code!(
            kms.schedule_key_deletion()
                .key_id(&s.k1)
                .pending_window_in_days(7)
                .send()
                .await
        ),
        "KMSInvalidStateException"
    );
    // The window is 7–30 days.
    for bad in [0, 6, 31, 365] {
        assert_eq!(
            code!(
                kms.schedule_key_deletion()
                    .key_id(&s.k2)
                    .pending_window_in_days(bad)
                    .send()
                    .await
            ),
            "ValidationException",
            "window {bad}"
        );
    }
    // Aliases are refused.
    assert_eq!(
        code!(
            kms.schedule_key_deletion()
                .key_id(FIRST_ALIAS)
                .pending_window_in_days(7)
                .send()
                .await
        ),
        "NotFoundException"
    );
    let sched = kms
        .schedule_key_deletion()
        .key_id(&s.k2)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    assert_eq!(sched.key_id(), Some(key_arn(&s.k2).as_str()));
    assert_eq!(sched.key_state(), Some(&KeyState::PendingDeletion));
    assert_eq!(sched.pending_window_in_days(), Some(7));
    let in_secs = secs_from_now(sched.deletion_date().unwrap());
    assert!(
        (7 * 86_400 - 60..=7 * 86_400 + 60).contains(&in_secs),
        "deletion in 7 days, not {in_secs} s"
    );
    let md = kms
        .describe_key()
        .key_id(FIRST_ALIAS)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(md.key_state(), Some(&KeyState::PendingDeletion));
    assert_eq!(md.pending_deletion_window_in_days(), Some(7));
    assert_eq!(
        code!(
            kms.encrypt()
                .key_id(FIRST_ALIAS)
                .plaintext(Blob::new(b"x".to_vec()))
                .send()
                .await
        ),
        "KMSInvalidStateException"
    );
    assert_eq!(
        code!(kms.schedule_key_deletion().key_id(&s.k2).send().await),
        "KMSInvalidStateException"
    );

    let cancel = kms
        .cancel_key_deletion()
        .key_id(&s.k2)
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.key_id(), Some(key_arn(&s.k2).as_str()));
    // A key whose deletion was cancelled is Disabled.
    let md = kms
        .describe_key()
        .key_id(&s.k2)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(md.key_state(), Some(&KeyState::Disabled));
    assert!(md.deletion_date().is_none());
    assert!(md.pending_deletion_window_in_days().is_none());
    kms.enable_key().key_id(&s.k2).send().await.unwrap();
    let refused = [
        (s.k2.as_str(), "KMSInvalidStateException"),
        (FIRST_ALIAS, "NotFoundException"),
    ];
    refused!(refused, |key_id| kms
        .cancel_key_deletion()
        .key_id(key_id)
        .send()
        .await);

    // Default window: 30 days. The seeded K1 can be cancelled too.
    let d = kms
        .schedule_key_deletion()
        .key_id(&s.k3)
        .send()
        .await
        .unwrap();
    assert_eq!(d.pending_window_in_days(), Some(30));
    kms.cancel_key_deletion()
        .key_id(&s.k1)
        .send()
        .await
        .unwrap();
    // AWS managed keys cannot be scheduled for deletion.
    assert!(kms
        .schedule_key_deletion()
        .key_id(&s.ebs)
        .pending_window_in_days(7)
        .send()
        .await
        .is_err());
    // Passing the deletion date deletes the key and its aliases.
    env.sb.advance_clock(time::Duration::days(31)).unwrap();
    env.sb.tick();
    let refused = [
        (s.k3.as_str(), "NotFoundException"),
        (IMPORTED_ALIAS, "NotFoundException"),
    ];
    refused!(refused, |key_id| kms
        .describe_key()
        .key_id(key_id)
        .send()
        .await);
    let names: Vec<String> = kms
        .list_aliases()
        .send()
        .await
        .unwrap()
        .aliases()
        .iter()
        .filter_map(|a| a.alias_name().map(str::to_string))
        .collect();
    assert!(!names.contains(&IMPORTED_ALIAS.to_string()));
    assert!(names.contains(&FIRST_ALIAS.to_string()));
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliases() {
    let env = start().await;
    let kms = env.kms();
    let s = seeded(&kms).await;
    let all = kms.list_aliases().send().await.unwrap();
    let names: Vec<&str> = all
        .aliases()
        .iter()
        .filter_map(|a| a.alias_name())
        .collect();
    for n in [FIRST_ALIAS, IMPORTED_ALIAS, "alias/aws/ebs"] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    let first = all
        .aliases()
        .iter()
        .find(|a| a.alias_name() == Some(FIRST_ALIAS))
        .unwrap();
    assert_eq!(first.target_key_id(), Some(s.k2.as_str()));
    assert_eq!(
        first.alias_arn(),
        Some(
            format!(
                "arn:aws:kms:{}:{}:{FIRST_ALIAS}",
                seed::REGION,
                seed::ACCOUNT
            )
            .as_str()
        )
    );
    assert!(first.creation_date().is_some());

    kms.create_alias()
        .alias_name("alias/SdkTest")
        .target_key_id(&s.k2)
        .send()
        .await
        .unwrap();
    let refused = [
        ("alias/SdkTest", s.k3.as_str(), "AlreadyExistsException"),
        ("alias/aws/mine", s.k2.as_str(), "InvalidAliasNameException"),
        ("NoPrefix", s.k2.as_str(), "ValidationException"),
        ("alias/bad name", s.k2.as_str(), "ValidationException"),
        // An alias cannot point at another alias, nor at a key pending deletion.
        ("alias/Chained", FIRST_ALIAS, "NotFoundException"),
        ("alias/ToK1", s.k1.as_str(), "KMSInvalidStateException"),
    ];
    refused!(refused, |alias_name, target_key_id| kms
        .create_alias()
        .alias_name(alias_name)
        .target_key_id(target_key_id)
        .send()
        .await);
    let for_k2 = kms.list_aliases().key_id(&s.k2).send().await.unwrap();
    let mut names: Vec<&str> = for_k2
        .aliases()
        .iter()
        .filter_map(|a| a.alias_name())
        .collect();
    names.sort_unstable();
    assert_eq!(names, [FIRST_ALIAS, "alias/SdkTest"]);

    kms.update_alias()
        .alias_name("alias/SdkTest")
        .target_key_id(&s.k3)
        .send()
        .await
        .unwrap();
    let md = kms
        .describe_key()
        .key_id("alias/SdkTest")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(md.key_id(), s.k3);
    assert_eq!(
        code!(
            kms.update_alias()
                .alias_name("alias/Missing")
                .target_key_id(&s.k3)
                .send()
                .await
        ),
        "NotFoundException"
    );
    kms.delete_alias()
        .alias_name("alias/SdkTest")
        .send()
        .await
        .unwrap();
    assert_eq!(
        code!(kms.delete_alias().alias_name("alias/SdkTest").send().await),
        "NotFoundException"
    );
    assert_eq!(
        code!(kms.describe_key().key_id("alias/SdkTest").send().await),
        "NotFoundException"
    );

    // Paging.
    for i in 0..5 {
        kms.create_alias()
            .alias_name(format!("alias/page-{i}"))
            .target_key_id(&s.k2)
            .send()
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let page = kms
            .list_aliases()
            .limit(2)
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        assert!(page.aliases().len() <= 2);
        seen.extend(
            page.aliases()
                .iter()
                .filter_map(|a| a.alias_name().map(str::to_string)),
        );
        if !page.truncated() {
            assert!(page.next_marker().is_none());
            break;
        }
        marker = page.next_marker().map(str::to_string);
        assert!(marker.is_some());
    }
    // The account's 9 aliases (alias/aws/ebs among them) and AWS's 13 other predefined ones,
    // each once.
    assert_eq!(seen.len(), 22, "{seen:?}");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 22);
    assert!(seen.iter().any(|a| a == "alias/aws/s3"));
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags() {
    let env = start().await;
    let kms = env.kms();
    let s = seeded(&kms).await;
    let tag = |k: &str, v: &str| Tag::builder().tag_key(k).tag_value(v).build().unwrap();
    let pairs = |t: &aws_sdk_kms::operation::list_resource_tags::ListResourceTagsOutput| {
        let mut got: Vec<(String, String)> = t
            .tags()
            .iter()
            .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
            .collect();
        got.sort();
        got
    };
    let owned = |p: &[(&str, &str)]| -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    // The starting state's tags: the workshop's and the key's role.
    let t = kms.list_resource_tags().key_id(&s.k3).send().await.unwrap();
    assert_eq!(
        pairs(&t),
        owned(&[("kmsworkshop-key", "imported"), ("project", "kmsworkshop")])
    );
    assert!(!t.truncated());

    kms.tag_resource()
        .key_id(&s.k2)
        .tags(tag("team", "a"))
        .tags(tag("env", "lab"))
        .send()
        .await
        .unwrap();
    kms.tag_resource()
        .key_id(key_arn(&s.k2))
        .tags(tag("team", "b"))
        .send()
        .await
        .unwrap();
    let t = kms.list_resource_tags().key_id(&s.k2).send().await.unwrap();
    assert_eq!(
        pairs(&t),
        owned(&[
            ("env", "lab"),
            ("kmsworkshop-key", "first"),
            ("project", "kmsworkshop"),
            ("team", "b")
        ])
    );
    kms.untag_resource()
        .key_id(&s.k2)
        .tag_keys("team")
        .tag_keys("absent")
        .send()
        .await
        .unwrap();
    let t = kms.list_resource_tags().key_id(&s.k2).send().await.unwrap();
    assert_eq!(
        pairs(&t),
        owned(&[
            ("env", "lab"),
            ("kmsworkshop-key", "first"),
            ("project", "kmsworkshop")
        ])
    );

    let refused = [
        (s.k2.as_str(), tag("aws:x", "y"), "TagException"),
        (FIRST_ALIAS, tag("a", "b"), "NotFoundException"),
        (s.k1.as_str(), tag("a", "b"), "KMSInvalidStateException"),
    ];
    refused!(refused, |key_id, tags| kms
        .tag_resource()
        .key_id(key_id)
        .tags(tags.clone())
        .send()
        .await);

    // Tags given at creation.
    let k = kms
        .create_key()
        .tags(tag("project", "sdk"))
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let t = kms
        .list_resource_tags()
        .key_id(k.key_id())
        .send()
        .await
        .unwrap();
    assert_eq!(t.tags().len(), 1);
    assert_eq!(t.tags()[0].tag_value(), "sdk");
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation() {
    let env = start().await;
    let kms = env.kms();
    let s = seeded(&kms).await;
    let st = kms
        .get_key_rotation_status()
        .key_id(&s.k2)
        .send()
        .await
        .unwrap();
    assert!(!st.key_rotation_enabled());
    kms.enable_key_rotation()
        .key_id(&s.k2)
        .send()
        .await
        .unwrap();
    let st = kms
        .get_key_rotation_status()
        .key_id(&s.k2)
        .send()
        .await
        .unwrap();
    assert!(st.key_rotation_enabled());
    assert_eq!(st.rotation_period_in_days(), Some(365));
    assert!(st.next_rotation_date().is_some());
    kms.enable_key_rotation()
        .key_id(&s.k2)
        .rotation_period_in_days(90)
        .send()
        .await
        .unwrap();
    let st = kms
        .get_key_rotation_status()
        .key_id(&s.k2)
        .send()
        .await
        .unwrap();
    assert_eq!(st.rotation_period_in_days(), Some(90));
    assert_eq!(
        code!(
            kms.enable_key_rotation()
                .key_id(&s.k2)
                .rotation_period_in_days(89)
                .send()
                .await
        ),
        "ValidationException"
    );
    kms.disable_key_rotation()
        .key_id(&s.k2)
        .send()
        .await
        .unwrap();
    assert!(!kms
        .get_key_rotation_status()
        .key_id(&s.k2)
        .send()
        .await
        .unwrap()
        .key_rotation_enabled());

    // Keys with imported material cannot rotate automatically.
    assert_eq!(
        code!(kms.enable_key_rotation().key_id(&s.k3).send().await),
        "UnsupportedOperationException"
    );
    assert!(!kms
        .get_key_rotation_status()
        .key_id(&s.k3)
        .send()
        .await
        .unwrap()
        .key_rotation_enabled());
    let refused = [
        (s.k1.as_str(), "KMSInvalidStateException"),
        (FIRST_ALIAS, "NotFoundException"),
    ];
    refused!(refused, |key_id| kms
        .enable_key_rotation()
        .key_id(key_id)
        .send()
        .await);
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_policies() {
    let env = start().await;
    let kms = env.kms();
    let s = seeded(&kms).await;
    let names = kms.list_key_policies().key_id(&s.k2).send().await.unwrap();
    assert_eq!(names.policy_names(), ["default"]);
    assert!(!names.truncated());
    let p = kms
        .get_key_policy()
        .key_id(&s.k2)
        .policy_name("default")
        .send()
        .await
        .unwrap();
    let doc: J = serde_json::from_str(p.policy().unwrap()).unwrap();
    assert_eq!(doc["Version"], "2012-10-17");
    assert_eq!(
        doc["Statement"][0]["Principal"]["AWS"],
        format!("arn:aws:iam::{}:root", seed::ACCOUNT)
    );
    assert_eq!(doc["Statement"][0]["Action"], "kms:*");
    // PolicyName is optional in current KMS.
    let p2 = kms.get_key_policy().key_id(&s.k2).send().await.unwrap();
    assert_eq!(p2.policy(), p.policy());
    assert_eq!(
        code!(
            kms.get_key_policy()
                .key_id(&s.k2)
                .policy_name("other")
                .send()
                .await
        ),
        "NotFoundException"
    );

    let new_policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{}:root", seed::ACCOUNT)}, "Action": "kms:*", "Resource": "*"}]
    })
    .to_string();
    kms.put_key_policy()
        .key_id(&s.k2)
        .policy_name("default")
        .policy(&new_policy)
        .send()
        .await
        .unwrap();
    let p3 = kms
        .get_key_policy()
        .key_id(&s.k2)
        .policy_name("default")
        .send()
        .await
        .unwrap();
    assert_eq!(p3.policy(), Some(new_policy.as_str()));
    assert_eq!(
        code!(
            kms.put_key_policy()
                .key_id(&s.k2)
                .policy_name("default")
                .policy("{not json")
                .send()
                .await
        ),
        "MalformedPolicyDocumentException"
    );
    env.running.shutdown().await;
}

/// A key policy that denies an action refuses it to the caller it names, with AWS's error;
/// what it does not deny still works, and a policy without the denial lets it through again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_deny_in_a_key_policy_refuses_the_call() {
    let env = start().await;
    let kms = env.kms();
    let key = kms.create_key().send().await.unwrap();
    let key_id = key.key_metadata().unwrap().key_id().to_string();
    let root = serde_json::json!({"Sid": "Root", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{}:root", seed::ACCOUNT)},
        "Action": "kms:*", "Resource": "*"});
    let deny = serde_json::json!({"Sid": "NoDataKeys", "Effect": "Deny", "Principal": "*",
        "Action": "kms:GenerateDataKey*", "Resource": "*"});
    let put = |statements: serde_json::Value| {
        let policy = serde_json::json!({"Version": "2012-10-17", "Statement": statements});
        kms.put_key_policy()
            .key_id(&key_id)
            .policy_name("default")
            .policy(policy.to_string())
            .send()
    };
    let data_key = || {
        kms.generate_data_key()
            .key_id(&key_id)
            .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
            .send()
    };
    put(serde_json::json!([root, deny])).await.unwrap();
    let refused = data_key().await.expect_err("denied");
    let refused = refused.into_service_error();
    assert_eq!(refused.meta().code(), Some("AccessDeniedException"));
    let message = refused.meta().message().unwrap_or_default();
    assert!(
        message.contains("kms:GenerateDataKey") && message.contains("explicit deny"),
        "{message}"
    );
    let sealed = kms
        .encrypt()
        .key_id(&key_id)
        .plaintext(aws_sdk_kms::primitives::Blob::new(b"not denied".to_vec()))
        .send()
        .await;
    assert!(sealed.is_ok(), "Encrypt is not denied: {sealed:?}");
    put(serde_json::json!([root])).await.unwrap();
    assert!(data_key().await.is_ok(), "the denial is gone");
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_keys_paging() {
    let env = start().await;
    let kms = env.kms();
    for _ in 0..5 {
        kms.create_key().send().await.unwrap();
    }
    let all = kms.list_keys().limit(1000).send().await.unwrap();
    assert!(!all.truncated());
    assert!(all.next_marker().is_none());
    let all: Vec<String> = all
        .keys()
        .iter()
        .map(|k| k.key_id().unwrap().to_string())
        .collect();
    assert_eq!(all.len(), 10, "5 seeded keys + 5 new ones");
    for k in kms.list_keys().send().await.unwrap().keys() {
        assert_eq!(k.key_arn(), Some(key_arn(k.key_id().unwrap()).as_str()));
    }

    let mut paged = Vec::new();
    let mut marker = None;
    let mut pages = 0;
    loop {
        let page = kms
            .list_keys()
            .limit(2)
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(page.keys().len() <= 2);
        paged.extend(page.keys().iter().map(|k| k.key_id().unwrap().to_string()));
        if !page.truncated() {
            break;
        }
        marker = Some(
            page.next_marker()
                .expect("a truncated page has a marker")
                .to_string(),
        );
    }
    assert_eq!(pages, 5);
    assert_eq!(
        paged, all,
        "paging returns every key once, in the same order"
    );

    // The SDK paginator agrees.
    let via_paginator: Vec<String> = kms
        .list_keys()
        .limit(3)
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .map(|k| k.unwrap().key_id().unwrap().to_string())
        .collect();
    assert_eq!(via_paginator, all);

    let refused = [(0, "ValidationException"), (1001, "ValidationException")];
    refused!(refused, |limit| kms.list_keys().limit(limit).send().await);
    assert_eq!(
        code!(kms.list_keys().marker("not-a-marker").send().await),
        "InvalidMarkerException"
    );
    env.running.shutdown().await;
}
