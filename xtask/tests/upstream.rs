//! `cargo xtask upstream-diff`: our spec against Monime's document, fact by fact.

use serde_json::Value;
use xtask::{paths, upstream};

fn reference() -> Value {
    upstream::load_document(&paths::workspace_root().join(paths::UPSTREAM_REFERENCE)).unwrap()
}

fn ours() -> Value {
    let root = paths::workspace_root();
    upstream::load_document(&paths::current_spec(&root).unwrap()).unwrap()
}

fn allow_list() -> Vec<upstream::Allowance> {
    let path = paths::workspace_root().join(paths::UPSTREAM_ALLOW_LIST);
    let text = std::fs::read_to_string(&path).unwrap();
    upstream::parse_allow_list(&text, "upstream-allow.txt").unwrap()
}

#[test]
fn our_spec_differs_from_monimes_only_where_the_allow_list_says_why() {
    let differences = upstream::compare(&upstream::facts(&ours()), &upstream::facts(&reference()));
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
fn every_operation_parameter_and_property_of_monime_is_compared() {
    let facts = upstream::facts(&reference());
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
}

#[test]
fn a_changed_constraint_is_reported_with_both_values() {
    let mut theirs = reference();
    let name = theirs
        .pointer_mut("/paths/~1v1~1webhooks/post/requestBody/content/application~1json/schema/properties/name")
        .unwrap();
    name["maxLength"] = Value::from(99);
    let differences = upstream::compare(&upstream::facts(&ours()), &upstream::facts(&theirs));
    let verdict = upstream::judge(differences, &allow_list());
    let shown: Vec<String> = verdict
        .unexplained
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        shown,
        [
            "CreateWebhook requestBody content application/json schema.name.maxLength: ours 100, Monime 99"
        ]
    );
}

#[test]
fn a_property_missing_from_ours_is_reported_once_at_its_root() {
    let mut theirs = reference();
    let properties = theirs
        .pointer_mut("/paths/~1v1~1webhooks~1{id}/patch/requestBody/content/application~1json/schema/properties")
        .unwrap();
    properties["labels"] =
        serde_json::json!({ "type": "array", "items": { "type": "string" }, "maxItems": 3 });
    let differences = upstream::compare(&upstream::facts(&ours()), &upstream::facts(&theirs));
    let verdict = upstream::judge(differences, &allow_list());
    let shown: Vec<String> = verdict
        .unexplained
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        shown,
        [
            "UpdateWebhook requestBody content application/json schema.labels: ours (absent), Monime declared"
        ]
    );
}

#[test]
fn the_whole_monime_document_gives_the_same_webhook_facts_as_the_extract() {
    let whole = paths::workspace_root()
        .join("../shared/monime-openapi/monime-openapi-caph-2025-08-23.yaml");
    let whole = upstream::facts(&upstream::load_document(&whole).unwrap());
    assert_eq!(whole, upstream::facts(&reference()));
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
