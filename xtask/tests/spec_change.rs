//! The spec is the single source of truth: a copy of the workspace gets a changed spec (a new
//! optional property on create and on `Webhook`, a smaller `maxLength`, a new enum value),
//! `cargo xtask generate` runs on it, and nothing else is edited. A small program then uses the
//! new setter against the emulator, and the CLI of the copy is asked about the new value.
//!
//! The copy shares this workspace's compiled dependencies (its intermediate artifacts go to
//! the same build directory) but writes its binaries elsewhere, so it never replaces ours.

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
    std::fs::write(&path, serde_yaml::to_string(&spec).unwrap()).unwrap();
    path
}

const PROBE: &str = r#"
use monime_webhooks::api::spec::operations;
use monime_webhooks::{Client, Error, Method};

#[tokio::main(flavor = "current_thread")]
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
    mock.shutdown().await;
}
"#;

fn cargo(root: &Path, args: &[&str]) -> Output {
    let target = target_dir();
    Command::new(env!("CARGO"))
        .args(args)
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
    std::fs::write(
        root.join("crates/monime-webhooks/examples/spec_change_probe.rs"),
        PROBE,
    )
    .unwrap();

    let probe = cargo(
        &root,
        &[
            "run",
            "-q",
            "-p",
            "monime-webhooks",
            "--example",
            "spec_change_probe",
        ],
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
    let _ = std::fs::remove_dir_all(&root);
}
