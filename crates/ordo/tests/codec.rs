//! Payload encryption end to end on a real dev server: an `ordo worker` and a client with
//! `ENCRYPT_PAYLOADS` on complete a run; `temporal workflow show` shows only ciphertext without a
//! codec endpoint and the clear input through `ordo codec-server`; the recorded, encrypted
//! history replays with the codec and not without it; search attributes stay readable.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use ordo_codec::keys::{Key, Keyring};
use ordo_codec::CodecConfig;
use ordo_core::devserver::{find_temporal_binary, free_port};
use ordo_provision::client::{ListFilter, ProvisionClient};
use ordo_provision::model::status;
use ordo_provision::workflows::{DeprovisionInfraWorkflow, ProvisionInfraWorkflow};
use serde_json::Value;
use support::{poll, Env};
use temporalio_client::{Client, ClientOptions, WorkflowFetchHistoryOptions, WorkflowHistory};
use temporalio_common::data_converters::DataConverter;
use temporalio_sdk::workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions};

/// A child process killed when the test ends.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `ORDO_CODEC_KEYS` with a fresh key: no key lives in the source.
fn fresh_keys() -> String {
    format!("test-{}:{}", uuid::Uuid::new_v4().simple(), Key::generate().to_base64())
}

fn converter(keys: &str) -> DataConverter {
    let keyring = Keyring::from_sources(Some(keys), None, None).unwrap();
    CodecConfig { encrypt: true, keyring: Some(keyring), ..Default::default() }.data_converter()
}

/// An `ordo worker` of `env` with `ENCRYPT_PAYLOADS` on and the keys `keys`.
fn encrypting_worker(env: &Env, keys: &str) -> Process {
    Process(
        env.ordo(&["worker"])
            .env("ENCRYPT_PAYLOADS", "true")
            .env("ORDO_CODEC_KEYS", keys)
            .env_remove("ORDO_CODEC_KEY_FILE")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("ordo worker starts"),
    )
}

/// A client of `env`'s runs that encrypts with the keys `keys`.
fn encrypting_client(env: &Env, keys: &str) -> ProvisionClient {
    let options = ClientOptions::new(env.namespace.clone()).data_converter(converter(keys)).build();
    let encrypted = Client::new(env.client.temporal().connection().clone(), options).unwrap();
    ProvisionClient::new(encrypted, env.task_queue.clone())
}

fn replayer(data_converter: DataConverter) -> WorkflowReplayer {
    let options = WorkflowReplayerOptions::new()
        .data_converter(data_converter)
        .register_workflow::<ProvisionInfraWorkflow>()
        .unwrap()
        .register_workflow::<DeprovisionInfraWorkflow>()
        .unwrap()
        .build();
    WorkflowReplayer::new(options).unwrap()
}

async fn wait_for_port(port: u16) {
    poll(&format!("something to listen on port {port}"), Duration::from_secs(10), async || {
        tokio::net::TcpStream::connect(("127.0.0.1", port)).await.map(drop)
    })
    .await
}

/// Every `{metadata, data}` payload in `temporal workflow show -o json` output: (encoding, data).
fn payloads_in(value: &Value, out: &mut Vec<(String, Vec<u8>)>) {
    let b64 = base64::engine::general_purpose::STANDARD;
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(metadata)) = map.get("metadata") {
                let encoding = metadata
                    .get("encoding")
                    .and_then(Value::as_str)
                    .and_then(|e| b64.decode(e).ok())
                    .map(|e| String::from_utf8_lossy(&e).into_owned())
                    .unwrap_or_default();
                let data = map.get("data").and_then(Value::as_str).and_then(|d| b64.decode(d).ok()).unwrap_or_default();
                out.push((encoding, data));
            }
            map.values().for_each(|v| payloads_in(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| payloads_in(v, out)),
        _ => {}
    }
}

/// Runs `temporal workflow show -o json` (with extra arguments) and returns the history's
/// payloads, excluding search attributes (which are never encrypted).
fn show(env: &Env, id: &str, extra: &[&str]) -> Vec<(String, Vec<u8>)> {
    let out = Command::new(find_temporal_binary())
        .args(["workflow", "show", "--workflow-id", id, "--address", &env.address, "--namespace", &env.namespace])
        .args(["-o", "json"])
        .args(extra)
        .output()
        .expect("temporal CLI runs");
    assert!(out.status.success(), "temporal workflow show failed: {}", String::from_utf8_lossy(&out.stderr));
    let mut history: Value = serde_json::from_slice(&out.stdout).expect("JSON history");
    for event in history["events"].as_array_mut().expect("events").iter_mut() {
        for attributes in event.as_object_mut().unwrap().values_mut() {
            if let Some(object) = attributes.as_object_mut() {
                object.remove("searchAttributes");
                // Temporal core's own bookkeeping in a marker (a patch's id; a local activity's
                // sequence, type and times) is plain JSON by design and holds no user data; a
                // local activity's result (`details.result`) goes through the codec and stays.
                if let Some(details) = object.get_mut("details").and_then(Value::as_object_mut) {
                    details.remove("data");
                    details.remove("patch-data");
                }
            }
        }
    }

    let mut payloads = Vec::new();
    payloads_in(&history, &mut payloads);
    payloads
}

/// The whole story: an encrypted run completes, the CLI sees ciphertext without the codec server
/// and the secret with it, visibility still filters on search attributes, and the recorded
/// encrypted history replays only with the codec.
#[tokio::test]
async fn encrypted_run_is_ciphertext_on_the_server_and_clear_through_the_codec_server() {
    let env = Env::without_worker().await;
    let keys = fresh_keys();
    let _worker = encrypting_worker(&env, &keys);
    let codec_port = free_port().unwrap();
    let _codec_server = Process(
        env.ordo(&["codec-server", "--addr", &format!("127.0.0.1:{codec_port}"), "--codec-namespace", &env.namespace])
            .env("ORDO_CODEC_KEYS", &keys)
            .env_remove("ORDO_CODEC_KEY_FILE")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("ordo codec-server starts"),
    );
    let client = encrypting_client(&env, &keys);

    // Seed 001's reason for encryption: a Temporal Cloud API key in the run's input.
    let secret = format!("tcld-api-key-{}", uuid::Uuid::new_v4());
    let mut request = env.scenario("advanced_visibility");
    request.env_vars.insert("TEMPORAL_CLOUD_API_KEY".into(), secret.clone());
    let id = client.start(&request, false).await.unwrap();
    let result = client.result(&id).await.unwrap();
    assert_eq!(result.status, status::APPLIED);

    // A client without the key cannot read the result.
    let err = env.client.result(&id).await.expect_err("the result must not decode without the codec");
    let text = format!("{err:#}").to_lowercase();
    // Failing to decode, not failing for another reason (a missing run, a timeout).
    assert!(["decod", "serializ", "encrypt", "payload"].iter().any(|w| text.contains(w)), "{text}");

    // Search attributes are not payloads the codec touches: visibility filters still work.
    let filter = ListFilter {
        status: Some("applied".into()),
        scenario: Some("advanced_visibility".into()),
        ..Default::default()
    };
    let found = env.wait_listed(&filter).await;
    assert_eq!(found.iter().map(|r| r.workflow_id.as_str()).collect::<Vec<_>>(), [id.as_str()]);

    // Without a codec endpoint: every payload is AES-GCM ciphertext, the secret is nowhere.
    let raw = show(&env, &id, &[]);
    assert!(raw.len() >= 5, "input, activity inputs/results and the result are payloads: {}", raw.len());
    assert!(
        raw.iter().all(|(encoding, _)| encoding == "binary/encrypted"),
        "{:?}",
        raw.iter().map(|p| &p.0).collect::<Vec<_>>()
    );
    assert!(!raw.iter().any(|(_, data)| String::from_utf8_lossy(data).contains(&secret)));
    // So is the workspace lock's input, which a raw start request writes (not the typed client).
    let lock_payloads = show(&env, &env.workspace_lock_id("advanced_visibility"), &[]);
    assert!(!lock_payloads.is_empty(), "the lock's input is a payload");
    assert!(
        lock_payloads.iter().all(|(encoding, _)| encoding == "binary/encrypted"),
        "{:?}",
        lock_payloads.iter().map(|p| &p.0).collect::<Vec<_>>()
    );

    // Through Ordo's codec server: clear JSON, and the input carries the secret.
    wait_for_port(codec_port).await;
    let endpoint = format!("http://127.0.0.1:{codec_port}/encryption_codec");
    let clear = show(&env, &id, &["--codec-endpoint", &endpoint]);
    assert_eq!(clear.len(), raw.len());
    assert!(clear.iter().all(|(encoding, _)| encoding != "binary/encrypted"));
    let input: Value = serde_json::from_slice(&clear[0].1).expect("the first payload is the JSON input");
    assert_eq!(input["env_vars"]["TEMPORAL_CLOUD_API_KEY"], secret.as_str());
    assert_eq!(input["directory"], request.directory.as_str());

    // Replay the recorded history: it is encrypted, needs the codec, and fails without it.
    let handle = client.temporal().get_workflow_handle::<ProvisionInfraWorkflow>(&id);
    let events = handle.fetch_history(WorkflowFetchHistoryOptions::default()).into_events().await.unwrap();
    let recorded = handle.fetch_history(WorkflowFetchHistoryOptions::default()).to_json().await.unwrap();
    assert!(events.len() > 10);
    replayer(converter(&keys))
        .replay_workflow(WorkflowHistory::from_json(&recorded).unwrap())
        .await
        .expect("the encrypted history replays with the codec");
    let err = replayer(DataConverter::default())
        .replay_workflow(WorkflowHistory::from_json(&recorded).unwrap())
        .await
        .expect_err("without the codec the workflow's input cannot be read");
    assert!(err.to_string().contains("Failed to create workflow"), "{err}");
    eprintln!("replay without the codec: {err}");
    let other =
        replayer(converter(&fresh_keys())).replay_workflow(WorkflowHistory::from_json(&recorded).unwrap()).await;
    assert!(other.is_err(), "a different key must not replay it either");
}

/// `POST`s `body` over a plain socket; returns the status line, the headers and the body.
async fn post(port: u16, path: &str, origin: &str, body: &str) -> (String, String, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("codec server listens");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: {origin}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    (status.to_owned(), headers.to_ascii_lowercase(), body.to_owned())
}

/// `ordo up` serves the codec server too, with the keys from its environment, for the Web UI's
/// origin.
#[tokio::test]
async fn ordo_up_serves_the_codec_server() {
    let env = Env::without_worker().await;
    let keys = fresh_keys();
    let codec_port = free_port().unwrap();
    let _up = Process(
        env.ordo(&["up", "--codec-addr", &format!("127.0.0.1:{codec_port}"), "--http-addr", "off"])
            .env("ORDO_CODEC_KEYS", &keys)
            .env_remove("ORDO_CODEC_KEY_FILE")
            .env_remove("ENCRYPT_PAYLOADS")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("ordo up starts"),
    );
    wait_for_port(codec_port).await;
    let plain = ordo_codec::Payload {
        metadata: [("encoding".to_owned(), b"json/plain".to_vec())].into(),
        data: br#"{"secret":"shown only to key holders"}"#.to_vec(),
        ..Default::default()
    };
    let body = ordo_codec::json::payloads_to_json(std::slice::from_ref(&plain)).to_string();
    let (status, headers, response) =
        post(codec_port, "/encryption_codec/encode", "http://localhost:8233", &body).await;
    assert!(status.contains(" 200 "), "{status}: {response}");
    assert!(headers.contains("access-control-allow-origin: http://localhost:8233"), "{headers}");
    let sealed = ordo_codec::json::parse_payloads(response.as_bytes()).unwrap();
    assert_eq!(sealed[0].metadata["encoding"], b"binary/encrypted");
    let keyring = Keyring::from_sources(Some(&keys), None, None).unwrap();
    let opened = ordo_codec::Codec::decode(&ordo_codec::EncryptionCodec::new(&keyring), sealed[0].clone()).unwrap();
    assert_eq!(opened, plain, "sealed with the key from ordo up's environment");
    let (status, _, _) = post(codec_port, "/encryption_codec/decode", "http://evil.example", &body).await;
    assert!(status.contains(" 403 "), "{status}");
}

/// `ordo up` with its embedded dev server points the Temporal Web UI at its own codec server, so
/// encrypted payloads show decoded there without any set-up in the browser.
#[tokio::test]
async fn embedded_web_ui_decodes_through_the_codec_server() {
    let env = Env::without_worker().await;
    let (port, ui_port, codec_port) = (free_port().unwrap(), free_port().unwrap(), free_port().unwrap());
    let _up = Process(
        env.ordo(&[
            "up",
            "--port",
            &port.to_string(),
            "--ui-port",
            &ui_port.to_string(),
            "--codec-addr",
            &format!("0.0.0.0:{codec_port}"),
            "--http-addr",
            "off",
        ])
        .env_remove("TEMPORAL_ADDRESS")
        .env("ORDO_CODEC_KEYS", fresh_keys())
        .env_remove("ORDO_CODEC_KEY_FILE")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("ordo up starts"),
    );
    let settings =
        poll(&format!("the embedded Web UI to answer on port {ui_port}"), Duration::from_secs(120), async || {
            get(ui_port, "/api/v1/settings").await.ok_or("no 200 answer")
        })
        .await;
    let settings: Value = serde_json::from_str(&settings).unwrap_or_else(|e| panic!("{e}: {settings}"));
    assert_eq!(
        settings["Codec"]["Endpoint"],
        format!("http://127.0.0.1:{codec_port}/encryption_codec"),
        "an unspecified bind address is offered to the browser as localhost: {settings}"
    );
}

/// `GET`s `path` over a plain socket; the body of a 200 response, `None` otherwise.
async fn get(port: u16, path: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_owned())
}

/// With encryption on (and `ORDO_ENCRYPT_FAILURES` off, the default), an update the validator
/// refuses still explains why, and the run completes after a valid approval.
#[tokio::test]
async fn validator_messages_survive_encrypted_failures() {
    use ordo_provision::client::RunError;
    use ordo_provision::model::ApplyDecision;
    let env = Env::without_worker().await;
    let keys = fresh_keys();
    let _worker = encrypting_worker(&env, &keys);
    let client = encrypting_client(&env, &keys);
    let id = client.start(&env.scenario("human_in_the_loop_update"), false).await.unwrap();
    poll("the run to wait for approval", Duration::from_secs(60), async || match client.view(&id).await {
        Ok(view) if view.state.status == status::AWAITING_APPROVAL => Ok(()),
        other => Err(other.map(|view| view.state.status)),
    })
    .await;
    let empty = ApplyDecision { is_approved: true, reason: Some(String::new()), approver: None, ..Default::default() };
    match client.decide(&id, empty, false).await {
        Err(RunError::Refused(r)) => assert!(r.message.contains("reason"), "the validator's message is readable: {r}"),
        other => panic!("an empty reason must be refused, got {other:?}"),
    }
    let approve =
        ApplyDecision { is_approved: true, reason: Some("reviewed".into()), approver: None, ..Default::default() };
    client.decide(&id, approve, false).await.unwrap();
    assert_eq!(client.result(&id).await.unwrap().status, status::APPLIED);
}
