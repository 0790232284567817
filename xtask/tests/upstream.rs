//! `cargo xtask upstream-diff`: our spec against the committed facts of Monime's document,
//! fact by fact. Everything here reads only the repository or files the test makes.

use std::path::PathBuf;

use serde_json::Value;
use xtask::{paths, upstream};

fn root() -> PathBuf {
    paths::workspace_root()
}

/// Monime's side as CI sees it: the facts committed for our spec's release.
fn committed() -> upstream::Facts {
    let (_, release, _) = upstream::our_facts(&root()).unwrap();
    upstream::load_facts(&paths::upstream_facts(&root(), &release)).unwrap()
}

fn ours() -> upstream::Facts {
    upstream::our_facts(&root()).unwrap().0
}

fn our_document() -> Value {
    let document = upstream::load_document(&paths::current_spec(&root()).unwrap()).unwrap();
    serde_json::to_value(document).unwrap()
}

fn allow_list() -> Vec<upstream::Allowance> {
    let path = root().join(paths::UPSTREAM_ALLOW_LIST);
    let text = std::fs::read_to_string(&path).unwrap();
    upstream::parse_allow_list(&text, "upstream-allow.txt").unwrap()
}

fn unexplained(theirs: &upstream::Facts) -> Vec<String> {
    let differences = upstream::compare(&ours(), theirs);
    let verdict = upstream::judge(differences, &allow_list());
    verdict
        .unexplained
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn our_spec_differs_from_monimes_only_where_the_allow_list_says_why() {
    let differences = upstream::compare(&ours(), &committed());
    let verdict = upstream::judge(differences, &allow_list());
    let unexplained: Vec<String> = verdict
        .unexplained
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(unexplained.is_empty(), "{unexplained:#?}");
    assert!(verdict.unused.is_empty(), "{:#?}", verdict.unused);
    assert!(!verdict.allowed.is_empty());
}

#[test]
fn the_committed_facts_cover_every_operation_parameter_and_property() {
    let facts = committed();
    for fact in [
        "ListWebhooks",
        "ListWebhooks parameter query limit schema.maximum",
        "ListWebhooks parameter query after schema.maxLength",
        "CreateWebhook parameter header idempotency-key schema.maxLength",
        "GetWebhook parameter path id schema.pattern",
        "CreateWebhook requestBody content application/json schema.additionalProperties",
        "CreateWebhook requestBody content application/json schema.events.uniqueItems",
        "CreateWebhook requestBody content application/json schema.verificationMethod.oneOf[0].secret.minLength",
        "UpdateWebhook requestBody content application/json schema.metadata.maxProperties",
        "DeleteWebhook response 200 content application/json schema.messages",
    ] {
        assert!(facts.contains_key(fact), "missing fact {fact}");
    }
    assert!(
        !facts.contains_key("DeleteWebhook response 200 content application/json schema.result")
    );
    // The objects events carry: every property, enum and union variant.
    for fact in [
        "object Payment.status.enum",
        "object Payment.amount.value.type",
        "object Payment.channel.oneOf",
        "object Payment.channel.oneOf[3].phoneNumber",
        "object Payout.destination.oneOf[0].providerId.enum",
        "object CheckoutSession.lineItems.data[].oneOf[0].price.value.type",
        "object PaymentCode.authorizedProviders[].enum",
        "object Receipt.entitlements[].remaining.minimum",
        "object UssdOtp.status.enum",
    ] {
        assert!(facts.contains_key(fact), "missing fact {fact}");
    }
}

/// Our objects spec carries the facts of every event object of Monime's document: a changed
/// enum there is reported.
#[test]
fn a_changed_object_enum_is_reported() {
    let mut theirs = committed();
    let fact = "object Payout.status.enum";
    theirs.insert(
        fact.to_owned(),
        r#"["pending","processing","completed","failed","reversed"]"#.to_owned(),
    );
    let shown = unexplained(&theirs);
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert!(shown[0].starts_with(fact), "{shown:#?}");
}

#[test]
fn the_committed_facts_hold_structure_only() {
    let facts = committed();
    for (fact, value) in &facts {
        // A property may be called `description`; its fact is then `declared`, never text.
        for prose in ["description", "title", "example", "summary"] {
            if fact.ends_with(&format!(".{prose}")) || fact.ends_with(&format!(" {prose}")) {
                assert_eq!(value, "declared", "{fact} holds prose");
            }
        }
        assert!(value.len() < 200, "{fact} holds a long text: {value}");
    }
}

#[test]
fn a_changed_constraint_is_reported_with_both_values() {
    let mut theirs = committed();
    let fact = "CreateWebhook requestBody content application/json schema.name.maxLength";
    theirs.insert(fact.to_owned(), "99".to_owned());
    assert_eq!(
        unexplained(&theirs),
        [format!("{fact}: ours 100, Monime 99")]
    );
}

#[test]
fn a_property_missing_from_ours_is_reported_once_at_its_root() {
    let mut theirs = committed();
    let root = "UpdateWebhook requestBody content application/json schema.labels";
    theirs.insert(root.to_owned(), "declared".to_owned());
    theirs.insert(format!("{root}.type"), "\"array\"".to_owned());
    theirs.insert(format!("{root}.maxItems"), "3".to_owned());
    theirs.insert(format!("{root}[].type"), "\"string\"".to_owned());
    assert_eq!(
        unexplained(&theirs),
        [format!("{root}: ours (absent), Monime declared")]
    );
}

#[test]
fn facts_written_and_read_back_are_the_same() {
    let document = upstream::load_document(&paths::current_spec(&root()).unwrap()).unwrap();
    let facts = upstream::document_facts(&document);
    let text = upstream::render_facts("caph.test", &facts);
    let dir = TempDir::new("facts-roundtrip");
    let path = dir.0.join("facts.json");
    std::fs::write(&path, &text).unwrap();
    assert_eq!(upstream::load_facts(&path).unwrap(), facts);
    assert_eq!(
        upstream::render_facts("caph.test", &facts),
        text,
        "stable output"
    );
}

/// `--refresh` in a workspace the test makes: the facts file is written from the document
/// given, and a later comparison sees exactly the change made to that document.
#[test]
fn refresh_rewrites_the_facts_of_our_release_from_a_document() {
    let dir = TempDir::new("refresh");
    let openapi = dir.0.join("openapi");
    std::fs::create_dir_all(&openapi).unwrap();
    let spec = paths::current_spec(&root()).unwrap();
    std::fs::copy(&spec, openapi.join(spec.file_name().unwrap())).unwrap();
    // Monime's side: our spec with one limit changed.
    let mut theirs = our_document();
    theirs
        .pointer_mut("/components/schemas/CreateWebhookRequest/properties/name")
        .unwrap()["maxLength"] = Value::from(42);
    let doc = dir.0.join("monime.yaml");
    std::fs::write(&doc, serde_yaml::to_string(&theirs).unwrap()).unwrap();

    upstream::refresh(&dir.0, &doc).unwrap();
    let (ours, release, _) = upstream::our_facts(&dir.0).unwrap();
    let written = upstream::load_facts(&paths::upstream_facts(&dir.0, &release)).unwrap();
    // The document's component schemas show as objects we lack (no objects spec was copied).
    let differences: Vec<String> = upstream::compare(&ours, &written)
        .iter()
        .filter(|d| !d.fact.starts_with("object "))
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        differences,
        [
            "CreateWebhook requestBody content application/json schema.name.maxLength: ours 100, Monime 42"
        ]
    );
    // Comparing with the committed facts and with the document itself agree.
    upstream::run(&dir.0, &upstream::Theirs::Committed, None).unwrap();
    upstream::run(&dir.0, &upstream::Theirs::Document(doc.clone()), None).unwrap();
}

#[test]
fn a_document_without_webhook_operations_is_refused() {
    let dir = TempDir::new("refuse");
    let doc = dir.0.join("other.yaml");
    std::fs::write(&doc, "openapi: 3.0.3\npaths: {}\n").unwrap();
    let error = upstream::refresh(&root(), &doc).unwrap_err();
    assert!(
        error.0.contains("no operation under /v1/webhooks"),
        "{error}"
    );
}

#[test]
fn allow_list_entries_that_match_nothing_are_reported() {
    let allow = upstream::parse_allow_list("Nope * | stale entry\n", "x").unwrap();
    let verdict = upstream::judge(Vec::new(), &allow);
    assert_eq!(verdict.unused.len(), 1);
    assert_eq!(verdict.unused[0].line, 1);
}

#[test]
fn allow_list_lines_need_a_reason() {
    let error = upstream::parse_allow_list("Foo bar |  \n", "allow.txt").unwrap_err();
    assert!(error.0.contains("allow.txt:1"), "{error}");
    let error = upstream::parse_allow_list("Foo bar\n", "allow.txt").unwrap_err();
    assert!(error.0.contains("<fact pattern> | <reason>"), "{error}");
}

#[test]
fn globs_match_any_run_of_characters() {
    assert!(upstream::glob_matches(
        "* response 4*",
        "GetWebhook response 404"
    ));
    assert!(upstream::glob_matches("a*c*e", "abcde"));
    assert!(!upstream::glob_matches(
        "* response 4*",
        "GetWebhook response 500"
    ));
    assert!(!upstream::glob_matches("exact", "exactly"));
    assert!(upstream::glob_matches("exact", "exact"));
}

/// Two clones sharing a target folder: the xtask binary reads the workspace cargo names at run
/// time, not the one it was built in.
#[test]
fn the_xtask_binary_works_on_the_workspace_it_runs_in() {
    let dir = TempDir::new("other-clone");
    std::fs::create_dir_all(dir.0.join("openapi")).unwrap();
    std::fs::create_dir_all(dir.0.join("xtask")).unwrap();
    std::fs::write(dir.0.join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
    let spec = paths::current_spec(&root()).unwrap();
    std::fs::copy(&spec, dir.0.join("openapi").join(spec.file_name().unwrap())).unwrap();
    let mut facts = committed();
    facts.insert("OtherClone".to_owned(), "GET /v1/webhooks/other".to_owned());
    let (_, release, _) = upstream::our_facts(&root()).unwrap();
    std::fs::write(
        paths::upstream_facts(&dir.0, &release),
        upstream::render_facts(&release, &facts),
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("upstream-diff")
        .env("CARGO_MANIFEST_DIR", dir.0.join("xtask"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("OtherClone: ours (absent), Monime GET /v1/webhooks/other"),
        "{stdout}"
    );
}

/// A folder under the target directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "xtask-upstream-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
