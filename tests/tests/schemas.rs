//! The generated types derive `schemars::JsonSchema`: users export JSON Schemas from them, and
//! the schemas carry the spec's constraints where the generated types hold them.

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
