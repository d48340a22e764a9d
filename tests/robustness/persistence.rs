//! Persistence

use super::*;

#[test]
fn restart_keeps_keys_aliases_events_and_clock() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let mut sb = start_with_state(&state);
    let ep = sb.endpoint.clone();

    let key = run_json(aws(&ep).args(["kms", "create-key", "--description", "survives a restart"]));
    let key_id = key["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    run_json(aws(&ep).args([
        "kms",
        "create-alias",
        "--alias-name",
        "alias/Persisted",
        "--target-key-id",
        &key_id,
    ]));
    let dk = run_json(aws(&ep).args(common::words("kms generate-data-key --key-id alias/Persisted --key-spec AES_256 --encryption-context project=workshop")));
    let keys_before = run_json(aws(&ep).args(["kms", "list-keys"]))["Keys"]
        .as_array()
        .unwrap()
        .len();
    let gdk_before = run_json(aws(&ep).args(common::words("cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=GenerateDataKey")));
    let gdk_id = gdk_before["Events"][0]["EventId"]
        .as_str()
        .unwrap()
        .to_string();
    let advanced = Command::new(bin())
        .args(["sandbox", "clock", "advance", "2d", "--endpoint", &ep])
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .unwrap();
    assert!(advanced.status.success());
    // An SDK client holding an idle keep-alive connection must not hold up the shutdown.
    let rt = runtime();
    let client = rt.block_on(kms_client(&ep));
    rt.block_on(async { client.list_keys().send().await.expect("ListKeys") });
    stop_gracefully(&mut sb);
    drop(client);

    let sb = start_with_state(&state);
    let ep = sb.endpoint.clone();
    let md = run_json(aws(&ep).args(["kms", "describe-key", "--key-id", "alias/Persisted"]));
    assert_eq!(
        md["KeyMetadata"]["KeyId"],
        key_id.as_str(),
        "the alias still points at the key"
    );
    assert_eq!(md["KeyMetadata"]["KeyState"], "Enabled");
    assert_eq!(
        run_json(aws(&ep).args(["kms", "list-keys"]))["Keys"]
            .as_array()
            .unwrap()
            .len(),
        keys_before,
        "no key lost, and the seed was not applied a second time"
    );
    let aliases = run_json(aws(&ep).args(["kms", "list-aliases", "--key-id", &key_id]));
    assert_eq!(aliases["Aliases"][0]["AliasName"], "alias/Persisted");

    // The key material survived: the data key still decrypts.
    let blob = base64::engine::general_purpose::STANDARD
        .decode(dk["CiphertextBlob"].as_str().unwrap())
        .unwrap();
    let blob_path = dir.path().join("dk.enc");
    std::fs::write(&blob_path, blob).unwrap();
    let d = run_json(aws(&ep).args([
        "kms",
        "decrypt",
        "--ciphertext-blob",
        &format!("fileb://{}", blob_path.display()),
        "--encryption-context",
        "project=workshop",
    ]));
    assert_eq!(d["Plaintext"], dk["Plaintext"]);

    // The event history survived, with the same event ids.
    let gdk_after = run_json(aws(&ep).args(common::words("cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=GenerateDataKey")));
    let after_ids: Vec<&str> = gdk_after["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["EventId"].as_str().unwrap())
        .collect();
    assert!(
        after_ids.contains(&gdk_id.as_str()),
        "{after_ids:?} should contain {gdk_id}"
    );
    for name in ["CreateKey", "CreateAlias"] {
        let attr = format!("AttributeKey=EventName,AttributeValue={name}");
        let found =
            run_json(aws(&ep).args(["cloudtrail", "lookup-events", "--lookup-attributes", &attr]));
        assert_eq!(
            found["Events"].as_array().unwrap().len(),
            1,
            "{name} event after restart"
        );
    }

    // The clock offset survived too.
    let shown = Command::new(bin())
        .args(["sandbox", "clock", "show", "--endpoint", &ep])
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .unwrap();
    let now = time::OffsetDateTime::parse(
        String::from_utf8_lossy(&shown.stdout).trim(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(
        now > time::OffsetDateTime::now_utc() + time::Duration::days(1),
        "sandbox clock {now} lost its 2-day advance"
    );
}

#[test]
fn kill_9_during_a_stream_of_writes_loses_nothing_acknowledged() {
    const WRITERS: usize = 2;
    const MIN_ACKED_BEFORE_KILL: usize = 60;
    const MAX_WRITES_PER_WRITER: usize = 5000;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let rt = runtime();
    let mut acked_keys: BTreeSet<String> = BTreeSet::new();
    let mut acked_aliases: BTreeMap<String, String> = BTreeMap::new();

    // Round 0 is killed mid-write; round 1 reopens that state and is killed again; round 2 is
    // stopped with SIGTERM while the writers are busy, which must end cleanly and keep
    // everything too.
    for round in 0..3 {
        let mut sb = start_with_state(&state);
        let ep = sb.endpoint.clone();
        let keys = Arc::new(Mutex::new(Vec::<String>::new()));
        let aliases = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
        let killed = Arc::new(AtomicBool::new(false));
        let early_errors = Arc::new(Mutex::new(Vec::<String>::new()));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (ep, keys, aliases, killed, early_errors) = (
                    ep.clone(),
                    keys.clone(),
                    aliases.clone(),
                    killed.clone(),
                    early_errors.clone(),
                );
                std::thread::spawn(move || {
                    runtime().block_on(async move {
                        let client = kms_client(&ep).await;
                        for i in 0..MAX_WRITES_PER_WRITER {
                            let created = client
                                .create_key()
                                .description(format!("stream r{round} w{w} #{i}"))
                                .send()
                                .await;
                            let key_id = match created {
                                Ok(out) => out.key_metadata().unwrap().key_id().to_string(),
                                Err(e) => {
                                    if !killed.load(Ordering::SeqCst) {
                                        early_errors.lock().unwrap().push(format!("{e:?}"));
                                    }
                                    return;
                                }
                            };
                            keys.lock().unwrap().push(key_id.clone());
                            let alias = format!("alias/stream-r{round}-w{w}-{i}");
                            match client
                                .create_alias()
                                .alias_name(&alias)
                                .target_key_id(&key_id)
                                .send()
                                .await
                            {
                                Ok(_) => aliases.lock().unwrap().push((alias, key_id)),
                                Err(e) => {
                                    if !killed.load(Ordering::SeqCst) {
                                        early_errors.lock().unwrap().push(format!("{e:?}"));
                                    }
                                    return;
                                }
                            }
                        }
                    })
                })
            })
            .collect();

        let deadline = Instant::now() + Duration::from_secs(300);
        while keys.lock().unwrap().len() < MIN_ACKED_BEFORE_KILL {
            assert!(
                Instant::now() < deadline,
                "the writers did not get {MIN_ACKED_BEFORE_KILL} keys acknowledged"
            );
            assert!(
                early_errors.lock().unwrap().is_empty(),
                "writes failed before the kill: {:?}",
                early_errors.lock().unwrap()
            );
            assert!(
                !writers.iter().all(|w| w.is_finished()),
                "writers stopped early: {:?}",
                early_errors.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        killed.store(true, Ordering::SeqCst);
        if round < 2 {
            sb.kill9();
        } else {
            stop_gracefully(&mut sb);
        }
        for w in writers {
            w.join().expect("writer thread");
        }
        assert!(
            early_errors.lock().unwrap().is_empty(),
            "writes failed before the kill: {:?}",
            early_errors.lock().unwrap()
        );
        eprintln!(
            "round {round}: stopped after {} keys and {} aliases were acknowledged",
            keys.lock().unwrap().len(),
            aliases.lock().unwrap().len()
        );
        acked_keys.extend(keys.lock().unwrap().iter().cloned());
        acked_aliases.extend(aliases.lock().unwrap().iter().cloned());
    }

    // The state loads, and everything acknowledged is there.
    let sb = start_with_state(&state);
    let client = rt.block_on(kms_client(&sb.endpoint));
    rt.block_on(async {
        let present = all_key_ids(&client).await;
        let missing: Vec<&String> = acked_keys.difference(&present).collect();
        assert!(
            missing.is_empty(),
            "{} of {} acknowledged keys lost: {missing:?}",
            missing.len(),
            acked_keys.len()
        );
        let aliases = all_alias_names(&client).await;
        for (alias, target) in &acked_aliases {
            assert_eq!(
                aliases.get(alias),
                Some(target),
                "acknowledged alias {alias} lost or changed"
            );
        }
        // The recovered keys work: their material was persisted with them.
        let last = acked_keys.iter().next_back().unwrap();
        let enc = client
            .encrypt()
            .key_id(last)
            .plaintext(aws_sdk_kms::primitives::Blob::new(b"still here".to_vec()))
            .send()
            .await
            .expect("Encrypt with a recovered key");
        let dec = client
            .decrypt()
            .set_ciphertext_blob(enc.ciphertext_blob().cloned())
            .send()
            .await
            .expect("Decrypt");
        assert_eq!(dec.plaintext().unwrap().as_ref(), b"still here");
        // And the sandbox takes new writes on the recovered state.
        client
            .create_key()
            .send()
            .await
            .expect("CreateKey after recovery");
    });
}

#[test]
fn a_state_directory_serves_one_sandbox_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let mut first = start_with_state(&state);
    let created =
        run_json(aws(&first.endpoint).args(["kms", "create-key", "--description", "first"]));
    let key_id = created["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    let keys_before = run_json(aws(&first.endpoint).args(["kms", "list-keys"]));

    // A second sandbox on the same directory would append to the same log and each would
    // overwrite the other's writes: it must refuse to start.
    let before = snapshot_dir(&state);
    let out = serve_expecting_refusal(&state_args(&state));
    assert_refused(&out, &[&state.display().to_string(), "in use"]);
    assert_eq!(
        snapshot_dir(&state),
        before,
        "the refused sandbox wrote nothing"
    );
    run_json(aws(&first.endpoint).args(["kms", "list-keys"]));

    // The lock dies with its process, even on kill -9.
    first.kill9();
    let second = start_with_state(&state);
    let keys = run_json(aws(&second.endpoint).args(["kms", "list-keys"]));
    assert_eq!(keys["Keys"], keys_before["Keys"]);
    assert!(keys["Keys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["KeyId"] == key_id.as_str()));
}
