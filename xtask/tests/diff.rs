//! `cargo xtask diff`: one change per fixture pair, each classified; a whole-document release pair.

use serde_json::{Value, json};
use xtask::diff::{self, Impact};
use xtask::{paths, upstream};

fn base() -> Value {
    let root = paths::workspace_root();
    let document = upstream::load_document(&paths::current_spec(&root).unwrap()).unwrap();
    serde_json::to_value(document).unwrap()
}

/// `diff::changes` of two edited JSON copies, as the YAML trees the xtask reads.
fn changes(old: &Value, new: &Value, prefix: &str) -> Vec<diff::Change> {
    let yaml = |document: &Value| serde_yaml::to_value(document).unwrap();
    diff::changes(&yaml(old), &yaml(new), prefix)
}

fn at<'a>(doc: &'a mut Value, pointer: &str) -> &'a mut Value {
    doc.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer} in the spec"))
}

const CREATE: &str = "/components/schemas/CreateWebhookRequest";
const WEBHOOK: &str = "/components/schemas/Webhook";
const LIST: &str = "/paths/~1v1~1webhooks/get";

/// Applies `change` to a copy of our spec and diffs the two.
fn diff_with(change: impl FnOnce(&mut Value)) -> Vec<diff::Change> {
    let old = base();
    let mut new = old.clone();
    change(&mut new);
    changes(&old, &new, upstream::WEBHOOK_PATH_PREFIX)
}

#[test]
fn fixture_pairs_with_one_change_each_are_classified() {
    type Mutation = Box<dyn FnOnce(&mut Value)>;
    let pairs: Vec<(&str, Mutation, Impact, &str)> = vec![
        (
            "operation removed",
            Box::new(|d| {
                at(d, "/paths/~1v1~1webhooks~1{id}")
                    .as_object_mut()
                    .unwrap()
                    .remove("delete");
            }),
            Impact::Breaking,
            "DeleteWebhook",
        ),
        (
            "operation added",
            Box::new(|d| {
                at(d, "/paths").as_object_mut().unwrap().insert("/v1/webhooks/{id}/test".into(), json!({ "post": { "operationId": "TestWebhook", "responses": { "200": { "description": "ok" } } } }));
            }),
            Impact::Compatible,
            "TestWebhook",
        ),
        (
            "request property removed",
            Box::new(|d| {
                at(d, &format!("{CREATE}/properties"))
                    .as_object_mut()
                    .unwrap()
                    .remove("metadata");
            }),
            Impact::Breaking,
            "schema.metadata",
        ),
        (
            "optional request property added",
            Box::new(|d| {
                at(d, &format!("{CREATE}/properties"))
                    .as_object_mut()
                    .unwrap()
                    .insert("description".into(), json!({ "type": "string" }));
            }),
            Impact::Compatible,
            "schema.description",
        ),
        (
            "required request property added",
            Box::new(|d| {
                at(d, &format!("{CREATE}/properties"))
                    .as_object_mut()
                    .unwrap()
                    .insert("region".into(), json!({ "type": "string" }));
                at(d, &format!("{CREATE}/required"))
                    .as_array_mut()
                    .unwrap()
                    .push(json!("region"));
            }),
            Impact::Breaking,
            "schema.required",
        ),
        (
            "request property renamed",
            Box::new(|d| {
                let props = at(d, &format!("{CREATE}/properties"))
                    .as_object_mut()
                    .unwrap();
                let value = props.remove("alertEmails").unwrap();
                props.insert("alertAddresses".into(), value);
            }),
            Impact::Breaking,
            "schema.alertEmails",
        ),
        (
            "request maxLength narrowed",
            Box::new(|d| {
                *at(d, &format!("{CREATE}/properties/name/maxLength")) = json!(80);
            }),
            Impact::Breaking,
            "schema.name.maxLength",
        ),
        (
            "request maxLength widened",
            Box::new(|d| {
                *at(d, &format!("{CREATE}/properties/url/maxLength")) = json!(512);
            }),
            Impact::Compatible,
            "schema.url.maxLength",
        ),
        (
            "request minItems widened",
            Box::new(|d| {
                *at(d, &format!("{CREATE}/properties/events/minItems")) = json!(0);
            }),
            Impact::Compatible,
            "schema.events.minItems",
        ),
        (
            "request enum narrowed",
            Box::new(|d| {
                *at(d, &format!("{CREATE}/properties/apiRelease/enum")) = json!(["caph"]);
            }),
            Impact::Breaking,
            "schema.apiRelease.enum",
        ),
        (
            "request enum widened",
            Box::new(|d| {
                *at(d, &format!("{CREATE}/properties/apiRelease/enum")) =
                    json!(["caph", "siriusb", "vega"]);
            }),
            Impact::Compatible,
            "schema.apiRelease.enum",
        ),
        (
            "request type changed",
            Box::new(|d| {
                *at(d, &format!("{CREATE}/properties/enabled/type")) = json!("string");
            }),
            Impact::Breaking,
            "schema.enabled.type",
        ),
        (
            "request default changed",
            Box::new(|d| {
                *at(d, &format!("{CREATE}/properties/enabled/default")) = json!(false);
            }),
            Impact::Breaking,
            "schema.enabled.default",
        ),
        (
            "response field made nullable",
            Box::new(|d| {
                at(d, &format!("{WEBHOOK}/properties/name"))
                    .as_object_mut()
                    .unwrap()
                    .insert("nullable".into(), json!(true));
            }),
            Impact::Breaking,
            "schema.result.name.nullable",
        ),
        (
            "new response field",
            Box::new(|d| {
                at(d, &format!("{WEBHOOK}/properties"))
                    .as_object_mut()
                    .unwrap()
                    .insert("deliveryStats".into(), json!({ "type": "object" }));
            }),
            Impact::Compatible,
            "schema.result.deliveryStats",
        ),
        (
            "parameter made required",
            Box::new(|d| {
                at(d, &format!("{LIST}/parameters/0"))
                    .as_object_mut()
                    .unwrap()
                    .insert("required".into(), json!(true));
            }),
            Impact::Breaking,
            "parameter query limit required",
        ),
        (
            "optional parameter added",
            Box::new(|d| {
                at(d, &format!("{LIST}/parameters")).as_array_mut().unwrap().push(json!({ "name": "enabled", "in": "query", "schema": { "type": "boolean" } }));
            }),
            Impact::Compatible,
            "parameter query enabled",
        ),
        (
            "parameter removed",
            Box::new(|d| {
                at(d, &format!("{LIST}/parameters"))
                    .as_array_mut()
                    .unwrap()
                    .remove(1);
            }),
            Impact::Breaking,
            "parameter query after",
        ),
        (
            "path pattern changed",
            Box::new(|d| {
                *at(d, "/components/schemas/WebhookId/pattern") = json!("^wh-.*$");
            }),
            Impact::Breaking,
            "parameter path id schema.pattern",
        ),
        (
            "request uniqueItems dropped",
            Box::new(|d| {
                at(d, &format!("{CREATE}/properties/events"))
                    .as_object_mut()
                    .unwrap()
                    .remove("uniqueItems");
            }),
            Impact::Compatible,
            "schema.events.uniqueItems",
        ),
    ];
    assert!(pairs.len() >= 15);
    for (label, mutation, expected, fact) in pairs {
        let changes = diff_with(mutation);
        assert!(!changes.is_empty(), "{label}: no change found");
        let worst = changes.iter().map(|c| c.impact).max().unwrap();
        assert_eq!(worst, expected, "{label}: {changes:#?}");
        assert!(
            changes.iter().any(|c| c.fact.contains(fact)),
            "{label}: no fact contains {fact:?}: {changes:#?}"
        );
    }
}

#[test]
fn the_same_document_has_no_change() {
    assert!(diff_with(|_| {}).is_empty());
}

#[test]
fn the_semver_bump_follows_the_worst_change() {
    assert_eq!(
        diff::next_version("0.1.0+caph.2025-08-23", Some(Impact::Breaking)),
        "0.2.0"
    );
    assert_eq!(
        diff::next_version("0.1.0+caph.2025-08-23", Some(Impact::Compatible)),
        "0.1.1"
    );
    assert_eq!(diff::next_version("1.4.2", Some(Impact::Breaking)), "2.0.0");
    assert_eq!(
        diff::next_version("1.4.2", Some(Impact::Compatible)),
        "1.5.0"
    );
    // A release with no change still needs a new core: crates.io ignores build metadata.
    assert_eq!(diff::next_version("0.1.0+caph.2025-08-23", None), "0.1.1");
    assert_eq!(diff::next_version("1.4.2", None), "1.4.3");
}

/// A test-made pair of releases of a whole API document: our spec, then the same with a new
/// resource outside the webhooks (the shape of Monime's Receipts addition between its two
/// published releases).
#[test]
fn changes_outside_the_webhooks_are_ignored_under_the_prefix() {
    let old = base();
    let mut new = old.clone();
    at(&mut new, "/paths").as_object_mut().unwrap().insert(
        "/v1/receipts/{orderNumber}".into(),
        json!({ "get": { "operationId": "GetReceipt", "responses": { "200": { "description": "ok",
            "content": { "application/json": { "schema": { "type": "object",
                "properties": { "status": { "type": "string" } } } } } } } } }),
    );
    assert!(
        changes(&old, &new, upstream::WEBHOOK_PATH_PREFIX).is_empty(),
        "the webhook parts are identical"
    );
    let whole = changes(&old, &new, "");
    let facts: Vec<&str> = whole.iter().map(|c| c.fact.as_str()).collect();
    assert!(
        facts.iter().any(|f| f.contains("Receipt")),
        "the Receipts addition: {facts:?}"
    );
    assert!(
        whole
            .iter()
            .filter(|c| c.fact.contains("Receipt"))
            .all(|c| c.impact == Impact::Compatible)
    );
}
