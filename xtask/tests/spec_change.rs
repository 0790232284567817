//! The spec is the single source of truth: a copy of the workspace gets a changed spec (a new
//! optional property on create and on `Webhook`, nullable on update; a smaller `maxLength`; a
//! new enum value; query parameters named like locals of generated code; a new optional
//! header parameter; a new operation), `cargo xtask generate` runs on it, and nothing else is
//! edited. The copy then builds, and a small program uses each change against the emulator,
//! through the client and through the copy's CLI.
//!
//! The copy shares this workspace's compiled dependencies (its intermediate artifacts go to
//! the same build directory) but writes its binaries elsewhere. Its own crates get another
//! version first: cargo names a workspace crate's artifacts by its path relative to the
//! workspace root and its version, so the copy's crates would otherwise overwrite ours in the
//! shared build directory, and a later build here would take them as up to date.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_yaml::{Mapping, Value};
use xtask::{generate, paths};

fn workspace() -> PathBuf {
    paths::workspace_root()
}

/// The target directory this test was built in (`CARGO_TARGET_TMPDIR` is `<target>/tmp`).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the tmp dir lies in the target dir")
        .to_path_buf()
}

/// Every file git knows of (tracked or new, not ignored), copied to a fresh folder.
fn copy_workspace(to: &Path) {
    let listing = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(workspace())
        .output()
        .expect("git runs");
    assert!(listing.status.success(), "git ls-files failed");
    for name in listing.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = std::str::from_utf8(name).expect("UTF-8 file names");
        let from = workspace().join(name);
        if !from.is_file() {
            continue;
        }
        let dest = to.join(name);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&from, &dest).unwrap();
    }
}

fn at<'a>(value: &'a mut Value, path: &[&str]) -> &'a mut Mapping {
    let mut current = value;
    for key in path {
        current = current
            .get_mut(*key)
            .unwrap_or_else(|| panic!("the spec has no {path:?}"));
    }
    current.as_mapping_mut().expect("a mapping")
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).unwrap()
}

/// Gives the copy's own crates a version ours do not have (see the module doc).
fn set_copy_apart(root: &Path) {
    let listing = Command::new("git")
        .args(["ls-files", "*Cargo.toml"])
        .current_dir(workspace())
        .output()
        .expect("git runs");
    for name in String::from_utf8_lossy(&listing.stdout).lines() {
        let path = root.join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        let apart = text
            .replace("version = \"0.1.0", "version = \"0.1.99")
            .replace("version = \"=0.1.0\"", "version = \"=0.1.99\"");
        std::fs::write(&path, apart).unwrap();
    }
}

/// The three changes, made to the newest spec of the copy.
fn change_spec(root: &Path) -> PathBuf {
    let path = paths::current_spec(root).unwrap();
    let mut spec: Value = yaml(&std::fs::read_to_string(&path).unwrap());
    let schemas = ["components", "schemas"];
    let property = |schema: &'static str| [schemas[0], schemas[1], schema, "properties"];
    at(&mut spec, &property("CreateWebhookRequest")).insert(
        "labelColor".into(),
        yaml("{type: string, maxLength: 12, description: A colour people tell webhooks apart by.}"),
    );
    at(&mut spec, &property("Webhook")).insert(
        "labelColor".into(),
        yaml("{type: string, description: The webhook's colour.}"),
    );
    at(
        &mut spec,
        &[
            schemas[0],
            schemas[1],
            "CreateWebhookRequest",
            "properties",
            "name",
        ],
    )
    .insert("maxLength".into(), Value::from(40));
    for place in [
        vec![
            schemas[0],
            schemas[1],
            "CreateWebhookRequest",
            "properties",
            "apiRelease",
        ],
        vec![
            schemas[0],
            schemas[1],
            "UpdateWebhookRequest",
            "properties",
            "apiRelease",
        ],
        vec![schemas[0], schemas[1], "WebhookApiRelease"],
    ] {
        let values = at(&mut spec, &place)
            .get_mut("enum")
            .and_then(Value::as_sequence_mut)
            .expect("an enum");
        values.push(Value::from("vega"));
    }
    // A nullable property the update body can clear.
    at(&mut spec, &property("UpdateWebhookRequest")).insert(
        "labelColor".into(),
        yaml("{type: string, maxLength: 12, nullable: true, description: The colour.}"),
    );
    at(&mut spec, &property("Webhook"))
        .get_mut("labelColor")
        .and_then(Value::as_mapping_mut)
        .expect("added above")
        .insert("nullable".into(), Value::from(true));
    // Query parameters named like locals of generated code.
    let list = ["paths", "/v1/webhooks", "get"];
    let parameters = at(&mut spec, &list)
        .get_mut("parameters")
        .and_then(Value::as_sequence_mut)
        .expect("ListWebhooks has parameters");
    for name in ["url", "request", "client"] {
        parameters.push(yaml(&format!(
            "{{name: {name}, in: query, required: false, description: A filter., schema: {{type: string, maxLength: 40}}}}"
        )));
    }
    // A new optional header parameter.
    let get = ["paths", "/v1/webhooks/{id}", "get"];
    at(&mut spec, &get)
        .get_mut("parameters")
        .and_then(Value::as_sequence_mut)
        .expect("GetWebhook has parameters")
        .push(yaml(
            "{name: X-Probe-Trace, in: header, required: false, description: A trace id., schema: {type: string, maxLength: 40}}",
        ));
    // A new operation.
    at(&mut spec, &["paths"]).insert(
        "/v1/webhooks/{id}/ping".into(),
        yaml(
            r##"
parameters:
  - $ref: "#/components/parameters/WebhookId"
post:
  tags: [Webhook]
  operationId: PingWebhook
  summary: Ping a webhook
  description: Sends a test delivery.
  parameters:
    - $ref: "#/components/parameters/MonimeVersion"
    - $ref: "#/components/parameters/MonimeSpaceId"
  responses:
    "200":
      description: Sent.
      content:
        application/json:
          schema:
            $ref: "#/components/schemas/EmptyEnvelope"
    "400":
      $ref: "#/components/responses/BadRequest"
"##,
        ),
    );
    std::fs::write(&path, serde_yaml::to_string(&spec).unwrap()).unwrap();
    path
}

const PROBE: &str = r#"
use monime_webhooks::api::spec::operations;
use monime_webhooks::{Client, Error, Method};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mock = monime_mock::MonimeMock::start().await.expect("emulator");
    let client = Client::builder()
        .access_token("mon_test_probe")
        .space_id("spc-probe")
        .api_url(mock.base_url())
        .build()
        .expect("client");
    let hook = "https://shop.example/hooks/monime";
    let created = client
        .create()
        .name("Probe")
        .url(hook)
        .event("payment.completed")
        .label_color("teal")
        .api_release("vega")
        .send()
        .await
        .expect("create with the new setter");
    let got = client.get(created.id.as_str()).await.expect("get");
    println!(
        "stored label_color={} api_release={}",
        got.label_color.as_deref().unwrap_or("-"),
        got.api_release
    );
    for (what, request) in [
        ("name", client.create().name("n".repeat(41)).url(hook).event("a.b")),
        ("labelColor", client.create().name("ok").url(hook).event("a.b").label_color("x".repeat(13))),
    ] {
        match request.send().await {
            Err(Error::Validation { field, message }) => println!("client refused {field}: {message}"),
            other => println!("client sent the bad {what}: {other:?}"),
        }
    }
    let body = serde_json::json!({
        "name": "n".repeat(41), "url": hook, "apiRelease": "vega", "events": ["a.b"]
    });
    match client.raw(Method::POST, operations::CREATE_WEBHOOK.path, Some(body)).await {
        Err(Error::Api { status, message, .. }) => println!("emulator refused {status}: {message}"),
        other => println!("emulator accepted the bad name: {other:?}"),
    }
    let page = client
        .api()
        .list_webhooks()
        .monime_space_id("spc-probe")
        .url("u")
        .request("r")
        .client("c")
        .send()
        .await
        .expect("list with the new query parameters");
    println!("listed {} with the new query parameters", page.result.as_ref().map_or(0, Vec::len));
    let traced = client
        .api()
        .get_webhook()
        .id(created.id.as_str())
        .monime_space_id("spc-probe")
        .x_probe_trace("trace-1")
        .send()
        .await;
    println!("get with the new header: {}", traced.is_ok());
    match client.api().ping_webhook().id(created.id.as_str()).monime_space_id("spc-probe").send().await {
        Err(monime_webhooks::api::Error::UnexpectedResponse(response)) => {
            let status = response.status();
            println!("ping answered {status}: {}", response.text().await.unwrap_or_default());
        }
        other => println!("ping: {other:?}"),
    }

    // The copy's CLI: the new flag is sent and stored, cleared, and the lowered limit refused.
    // The emulator runs on this runtime: the CLI is waited for off its workers.
    let cli = |args: &[&str]| {
        tokio::task::block_in_place(|| {
            std::process::Command::new(std::env::var("PROBE_CLI").expect("PROBE_CLI"))
                .args(["--api-url", &mock.base_url(), "--output", "json"])
                .args(args)
                .env("MONIME_ACCESS_TOKEN", "mon_test_probe")
                .env("MONIME_SPACE_ID", "spc-probe")
                .output()
                .expect("the CLI runs")
        })
    };
    let made = cli(&["create", "--name", "Cli", "--url", hook, "--event", "a.b", "--label-color", "plum"]);
    assert!(made.status.success(), "cli create: {}", String::from_utf8_lossy(&made.stderr));
    let made: serde_json::Value = serde_json::from_slice(&made.stdout).expect("JSON from create");
    let id = made["id"].as_str().expect("an id").to_owned();
    let stored = client.get(&id).await.expect("get the CLI's webhook");
    println!("cli stored label_color={}", stored.label_color.as_deref().unwrap_or("-"));
    let cleared = cli(&["update", &id, "--clear-label-color"]);
    let stored = client.get(&id).await.expect("get after the clear");
    println!(
        "cli clear exit={:?} label_color={}",
        cleared.status.code(),
        stored.label_color.as_deref().unwrap_or("-")
    );
    let long = "n".repeat(41);
    let refused = cli(&["create", "--name", &long, "--url", hook, "--event", "a.b"]);
    println!(
        "cli long name exit={:?}: {}",
        refused.status.code(),
        String::from_utf8_lossy(&refused.stderr).trim()
    );
    mock.shutdown().await;
}
"#;

fn cargo(root: &Path, args: &[&str]) -> Output {
    cargo_with(root, args, &[])
}

fn cargo_with(root: &Path, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Output {
    let target = target_dir();
    Command::new(env!("CARGO"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root)
        // Dependencies compiled once, for both workspaces; binaries apart.
        .env("CARGO_BUILD_BUILD_DIR", &target)
        .env("CARGO_TARGET_DIR", target.join("spec-change"))
        .output()
        .expect("cargo runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn a_spec_change_reaches_client_emulator_and_cli_through_generation_alone() {
    let root = std::env::temp_dir().join(format!("monime-spec-change-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    copy_workspace(&root);
    change_spec(&root);
    generate::run_at(&root, false).expect("generation succeeds on the changed spec");
    generate::run_at(&root, true).expect("and the copy is then up to date");
    set_copy_apart(&root);
    std::fs::write(
        root.join("crates/monime-webhooks/examples/spec_change_probe.rs"),
        PROBE,
    )
    .unwrap();

    let built = cargo(&root, &["build", "-q", "-p", "monime-webhooks-cli"]);
    assert!(built.status.success(), "{}", text(&built));
    let cli = target_dir().join("spec-change/debug/monime-webhooks");
    let probe = cargo_with(
        &root,
        &[
            "run",
            "-q",
            "-p",
            "monime-webhooks",
            "--example",
            "spec_change_probe",
        ],
        &[("PROBE_CLI", cli.as_os_str())],
    );
    let output = text(&probe);
    assert!(probe.status.success(), "{output}");
    assert!(
        output.contains("stored label_color=teal api_release=vega"),
        "the new property and enum value are sent, stored and returned:\n{output}"
    );
    assert!(
        output.contains("client refused name: must be at most 40 characters long, got 41"),
        "{output}"
    );
    assert!(
        output.contains("client refused labelColor: must be at most 12 characters long, got 13"),
        "{output}"
    );
    assert!(
        output.contains("emulator refused 400: name: must be at most 40 characters long, got 41"),
        "{output}"
    );
    for expected in [
        "listed 1 with the new query parameters",
        "get with the new header: true",
        "ping answered 501 Not Implemented",
        "does not implement ping_webhook",
        "cli stored label_color=plum",
        "cli clear exit=Some(0) label_color=-",
        "cli long name exit=Some(2): error: invalid request, nothing sent: name: must be at most 40 characters long, got 41",
    ] {
        assert!(
            output.contains(expected),
            "expected {expected:?} in:\n{output}"
        );
    }
    // The new operation is named where it must be handled.
    let handlers = cargo(
        &root,
        &[
            "test",
            "-q",
            "-p",
            "monime-mock",
            "--lib",
            "every_operation",
        ],
    );
    assert!(!handlers.status.success(), "{}", text(&handlers));
    assert!(
        text(&handlers).contains("[\"ping_webhook\"]: add one in crates/monime-mock/src/api.rs"),
        "{}",
        text(&handlers)
    );

    let help = cargo(
        &root,
        &[
            "run",
            "-q",
            "-p",
            "monime-webhooks-cli",
            "--",
            "create",
            "--help",
        ],
    );
    assert!(help.status.success(), "{}", text(&help));
    assert!(
        text(&help).contains("[possible values: caph, siriusb, vega]"),
        "the CLI offers the new release:\n{}",
        text(&help)
    );
    for flag in [
        "--label-color <VALUE>",
        "at most 12 characters",
        "--name <VALUE>",
        "1 to 40 characters",
    ] {
        assert!(text(&help).contains(flag), "{flag} in:\n{}", text(&help));
    }
    let _ = std::fs::remove_dir_all(&root);
}
