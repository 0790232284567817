//! The generated types derive `schemars::JsonSchema`: users export JSON Schemas from them with
//! the right properties and required lists. `generated.rs` is progenitor's output, so the
//! derived schemas carry only what progenitor puts there: the spec itself, not the exported
//! schemas, is the place for constraints (lengths, patterns, counts). The hand-written
//! `WebhookSecret` and the open verification method state the spec's limits themselves.

use monime_webhooks_api::types::{CreateWebhookRequest, Webhook};
use serde_json::json;

#[test]
fn generated_types_export_json_schemas() {
    let webhook = serde_json::to_value(schemars::schema_for!(Webhook)).unwrap();
    let properties = webhook["properties"].as_object().expect("an object schema");
    for field in [
        "id",
        "name",
        "url",
        "enabled",
        "events",
        "apiRelease",
        "verificationMethod",
        "createTime",
        "updateTime",
        "metadata",
    ] {
        assert!(
            properties.contains_key(field),
            "Webhook schema lacks {field}"
        );
    }
    let create = serde_json::to_value(schemars::schema_for!(CreateWebhookRequest)).unwrap();
    let required = create["required"].as_array().unwrap();
    for field in ["name", "url", "apiRelease"] {
        assert!(
            required.contains(&json!(field)),
            "{field} should be required: {required:?}"
        );
    }
    // `events` is required but nullable: an Option in Rust, so schemars lists it as optional.
    assert!(create["properties"]["events"].is_object());
    assert_eq!(create["additionalProperties"], json!(false));
}

/// A fixture built from the generated types serializes to a body the spec's constraints
/// accept, and parses back.
#[test]
fn fixtures_built_from_generated_types_are_schema_valid() {
    let body = CreateWebhookRequest::builder()
        .name("Orders")
        .url("https://shop.example/hooks/monime")
        .api_release(monime_webhooks_api::types::CreateWebhookRequestApiRelease::Caph)
        .events(vec!["payment.completed".to_owned()]);
    let body: CreateWebhookRequest = body.try_into().expect("a complete body");
    let json = serde_json::to_value(&body).unwrap();
    let schema = monime_webhooks_api::spec::operations::CREATE_WEBHOOK
        .body
        .expect("create has a body");
    monime_webhooks_api::constraints::check_body(schema, &json)
        .expect("valid per the spec's constraints");
    let back: CreateWebhookRequest = serde_json::from_value(json).unwrap();
    assert_eq!(back.name.as_str(), "Orders");
}

/// The keywords that constrain a value.
const CONSTRAINTS: [&str; 9] = [
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "maxProperties",
    "minimum",
    "maximum",
];

/// The newest spec, as JSON.
fn spec() -> serde_json::Value {
    let dir = monime_webhooks_tests::workspace_root().join("openapi");
    let newest = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("monime-webhooks.") && n.ends_with(".yaml"))
        })
        .max()
        .expect("a spec in openapi/");
    serde_yaml::from_str(&std::fs::read_to_string(newest).unwrap()).unwrap()
}

/// Follows `$ref`s within `root` (`#/components/schemas/X` in the spec, `#/$defs/X` in an
/// exported schema).
fn resolve<'a>(root: &'a serde_json::Value, node: &'a serde_json::Value) -> &'a serde_json::Value {
    match node.get("$ref").and_then(|r| r.as_str()) {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            resolve(root, root.pointer(pointer).expect("a resolvable $ref"))
        }
        None => node,
    }
}

/// Every (keyword, value) of [`CONSTRAINTS`] in `node` and below, `$ref`s followed.
fn constraints_in(
    root: &serde_json::Value,
    node: &serde_json::Value,
    depth: usize,
    out: &mut Vec<(String, serde_json::Value)>,
) {
    if depth > 12 {
        return;
    }
    match node {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                if key == "$ref" {
                    // The target, and the keywords beside the `$ref` (JSON Schema 2020-12).
                    constraints_in(root, resolve(root, node), depth + 1, out);
                } else if CONSTRAINTS.contains(&key.as_str()) {
                    out.push((key.clone(), value.clone()));
                } else if key != "example" && key != "default" && key != "description" {
                    constraints_in(root, value, depth + 1, out);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                constraints_in(root, item, depth + 1, out);
            }
        }
        _ => {}
    }
}

/// Asserts that each property of the spec's schema `name` carries, in the schema exported
/// from the Rust type, every constraint the spec gives it (the whole schema when it has no
/// properties).
fn assert_constraints_exported(name: &str, exported: serde_json::Value) {
    let spec = spec();
    let schema = &spec["components"]["schemas"][name];
    assert!(schema.is_object(), "no schema {name} in the spec");
    let pairs: Vec<(String, &serde_json::Value, &serde_json::Value)> =
        match schema["properties"].as_object() {
            Some(properties) => properties
                .iter()
                .map(|(property, node)| {
                    let theirs = &exported["properties"][property];
                    assert!(!theirs.is_null(), "{name}.{property} is not exported");
                    (format!("{name}.{property}"), node, theirs)
                })
                .collect(),
            None => vec![(name.to_owned(), schema, &exported)],
        };
    let mut checked = 0;
    for (path, spec_node, exported_node) in pairs {
        let mut wanted = Vec::new();
        constraints_in(&spec, spec_node, 0, &mut wanted);
        let mut carried = Vec::new();
        constraints_in(&exported, exported_node, 0, &mut carried);
        for constraint in wanted {
            assert!(
                carried.contains(&constraint),
                "{path}: the spec says {} = {}, the exported schema has {carried:?}",
                constraint.0,
                constraint.1
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "{name}: the spec constrains nothing?");
}

#[test]
fn the_hand_written_secret_exports_the_specs_limits() {
    assert_constraints_exported(
        "WebhookSecret",
        serde_json::to_value(schemars::schema_for!(monime_webhooks_api::WebhookSecret)).unwrap(),
    );
}

/// The open verification method of `Webhook` exports each known method with the spec's
/// constraints (the HS256 secret's lengths from the spec's `WebhookSecret`), and leaves other
/// methods open.
#[test]
fn the_open_verification_method_exports_the_secret_limits() {
    use monime_webhooks_api::WebhookSecret;
    let schema = serde_json::to_value(schemars::schema_for!(
        monime_webhooks_api::WebhookVerificationMethod
    ))
    .unwrap();
    let branches = schema["oneOf"]
        .as_array()
        .expect("one branch per method, and one open");
    let hs256 = branches
        .iter()
        .find(|b| b["properties"]["type"]["const"] == json!("HS256"))
        .expect("an HS256 branch");
    let (min, max) = WebhookSecret::limits();
    assert_eq!(hs256["properties"]["secret"]["minLength"], json!(min));
    assert_eq!(hs256["properties"]["secret"]["maxLength"], json!(max));
    assert!(min.is_some() && max.is_some());
    let open = branches.last().unwrap();
    assert_eq!(
        open["properties"]["type"]["not"]["enum"],
        json!(monime_webhooks_api::WebhookVerificationMethod::KNOWN)
    );
}
