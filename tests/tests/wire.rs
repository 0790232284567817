//! The generated client, and the client users call on top of it, against a recording server on
//! 127.0.0.1: exact headers and bodies on the wire, envelope decoding, typed errors, and
//! requests refused before any I/O.

use monime_webhooks_api::types::{
    CreateWebhookRequestApiRelease, CreateWebhookRequestVerificationMethod, MonimeVersion,
};
use monime_webhooks_api::{
    ApiRelease, Client, Error, Hs256, JsonObject, Settings, WebhookVerificationMethod,
};
use monime_webhooks_tests::recorder::{Canned, Recorded, Recorder};
use serde_json::{Value, json};

const TOKEN: &str = "mon_test_wire";
const SPACE: &str = "spc-wire";
const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn client(recorder: &Recorder) -> Client {
    let settings = Settings::none().with_token(TOKEN);
    Client::new_with_client(&recorder.base_url(), reqwest::Client::new(), settings)
}

fn webhook(id: &str) -> Value {
    json!({
        "id": id,
        "name": "Orders",
        "url": "https://shop.example/hooks/monime",
        "enabled": true,
        "events": ["payment.completed"],
        "apiRelease": "caph",
        "verificationMethod": { "type": "ES256", "publicKey": "-----BEGIN PUBLIC KEY-----\nMFk=\n-----END PUBLIC KEY-----\n" },
        "headers": { "X-Shop": "1" },
        "alertEmails": ["ops@shop.example"],
        "createTime": "2025-08-23T10:00:00Z",
        "updateTime": null,
        "metadata": { "team": "payments" }
    })
}

fn envelope(result: Value) -> Value {
    json!({ "success": true, "messages": [], "result": result })
}

/// Authorization, space and version on every request; never progenitor's `api-version`.
fn assert_common_headers(request: &Recorded) {
    assert_eq!(
        request.header("authorization"),
        Some("Bearer mon_test_wire")
    );
    assert_eq!(request.header("monime-space-id"), Some(SPACE));
    assert_eq!(request.header("monime-version"), Some("caph.2025-08-23"));
    assert_eq!(request.headers.get_all("monime-version").iter().count(), 1);
    assert!(
        request.headers.get("api-version").is_none(),
        "api-version must not be sent"
    );
    assert_eq!(request.header("accept"), Some("application/json"));
    // Each header once, and nothing beyond what an operation of the spec sends.
    let known = [
        "accept",
        "authorization",
        "monime-space-id",
        "monime-version",
        "idempotency-key",
        "content-type",
        "content-length",
        "host",
    ];
    for name in request.headers.keys() {
        assert!(known.contains(&name.as_str()), "unexpected header {name}");
        assert_eq!(
            request.headers.get_all(name).iter().count(),
            1,
            "{name} sent more than once"
        );
    }
}

fn only_request(recorder: &Recorder) -> Recorded {
    let requests = recorder.requests();
    assert_eq!(requests.len(), 1, "exactly one request expected");
    requests.into_iter().next().unwrap()
}

#[tokio::test]
async fn list_sends_paging_query_and_decodes_the_page() {
    let recorder = Recorder::start().await;
    recorder.answer(Canned::ok(json!({
        "success": true,
        "messages": [],
        "result": [webhook("whk-1"), webhook("whk-2")],
        "pagination": { "count": 2, "next": "cursor-2" }
    })));
    let page = client(&recorder)
        .list_webhooks()
        .monime_space_id(SPACE)
        .limit(std::num::NonZeroU64::new(20).unwrap())
        .after("cursor-1")
        .send()
        .await
        .expect("list succeeds");
    assert_eq!(page.headers().get("monime-request-id").unwrap(), "req-ok");
    let page = page.into_inner();
    let ids: Vec<_> = page
        .result
        .unwrap()
        .into_iter()
        .map(|w| w.id.to_string())
        .collect();
    assert_eq!(ids, ["whk-1", "whk-2"]);
    let pagination = page.pagination.unwrap();
    assert_eq!(pagination.count, Some(2));
    assert_eq!(pagination.next.as_deref(), Some("cursor-2"));

    let request = only_request(&recorder);
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, "/v1/webhooks");
    let mut query: Vec<&str> = request.query.as_deref().unwrap().split('&').collect();
    query.sort_unstable();
    assert_eq!(query, ["after=cursor-1", "limit=20"]);
    assert_common_headers(&request);
    assert!(request.headers.get("idempotency-key").is_none());
    assert!(request.body.is_empty());
}

#[tokio::test]
async fn list_without_paging_sends_no_query_and_accepts_a_null_result() {
    let recorder = Recorder::start().await;
    recorder.answer(Canned::ok(json!({
        "success": true, "messages": [], "result": null, "pagination": { "count": 0, "next": null }
    })));
    let page = client(&recorder)
        .list_webhooks()
        .monime_space_id(SPACE)
        .send()
        .await
        .unwrap();
    assert!(page.into_inner().result.is_none());
    assert_eq!(only_request(&recorder).query, None);
}

#[tokio::test]
async fn create_sends_the_json_body_and_the_idempotency_key() {
    let recorder = Recorder::start().await;
    let mut created = webhook("whk-new");
    created["verificationMethod"] = json!({ "type": "HS256", "secret": SECRET });
    recorder.answer(Canned::ok(envelope(created)));
    let response = client(&recorder)
        .create_webhook()
        .monime_space_id(SPACE)
        .idempotency_key("order-hook-1")
        .body_map(|body| {
            body.name("Orders")
                .url("https://shop.example/hooks/monime")
                .api_release(CreateWebhookRequestApiRelease::Caph)
                .events(vec![
                    "payment.completed".to_owned(),
                    "payout.failed".to_owned(),
                ])
                .headers(std::collections::BTreeMap::from([(
                    "X-Shop".to_owned(),
                    "1".to_owned(),
                )]))
                .verification_method(Hs256(SECRET.to_owned()))
        })
        .send()
        .await
        .expect("create succeeds");
    let created = response.into_inner().result.unwrap();
    assert_eq!(created.id.as_str(), "whk-new");
    match created.verification_method {
        Some(WebhookVerificationMethod::Hs256 { secret }) => {
            assert_eq!(secret.as_deref(), Some(SECRET))
        }
        other => panic!("expected HS256, got {other:?}"),
    }

    let request = only_request(&recorder);
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/webhooks");
    assert_common_headers(&request);
    assert_eq!(request.header("idempotency-key"), Some("order-hook-1"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.json(),
        json!({
            "name": "Orders",
            "url": "https://shop.example/hooks/monime",
            "apiRelease": "caph",
            "enabled": true,
            "events": ["payment.completed", "payout.failed"],
            "headers": { "X-Shop": "1" },
            "verificationMethod": { "type": "HS256", "secret": SECRET }
        })
    );
}

#[tokio::test]
async fn create_with_es256_sends_only_the_type() {
    let recorder = Recorder::start().await;
    recorder.answer(Canned::ok(envelope(webhook("whk-es"))));
    let created = client(&recorder)
        .create_webhook()
        .monime_space_id(SPACE)
        .idempotency_key("k-es")
        .body_map(|body| {
            body.name("Orders")
                .url("https://shop.example/hooks/monime")
                .api_release(CreateWebhookRequestApiRelease::Caph)
                .events(vec!["payment.completed".to_owned()])
                .verification_method(CreateWebhookRequestVerificationMethod::Es256 {
                    public_key: None,
                })
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    match created.verification_method {
        Some(WebhookVerificationMethod::Es256 { public_key }) => {
            assert!(
                public_key
                    .unwrap()
                    .starts_with("-----BEGIN PUBLIC KEY-----")
            );
        }
        other => panic!("expected ES256, got {other:?}"),
    }
    assert_eq!(
        only_request(&recorder).json()["verificationMethod"],
        json!({ "type": "ES256" })
    );
}

#[tokio::test]
async fn get_decodes_values_the_spec_does_not_know_yet() {
    let recorder = Recorder::start().await;
    let mut future = webhook("whk-future");
    future["apiRelease"] = json!("vega");
    future["verificationMethod"] = json!({ "type": "ED25519", "publicKey": "abc", "keyId": 7 });
    future["deliveryStats"] = json!({ "failed": 0 });
    recorder.answer(Canned::ok(envelope(future)));
    let got = client(&recorder)
        .get_webhook()
        .id("whk-future")
        .monime_space_id(SPACE)
        .send()
        .await
        .expect("unknown values still decode")
        .into_inner()
        .result
        .unwrap();
    assert_eq!(got.api_release, ApiRelease::Unknown("vega".to_owned()));
    match got.verification_method.unwrap() {
        WebhookVerificationMethod::Unknown { kind, fields } => {
            assert_eq!(kind, "ED25519");
            assert_eq!(fields["keyId"], json!(7));
        }
        other => panic!("expected an unknown method, got {other:?}"),
    }
    assert_eq!(got.create_time.to_rfc3339(), "2025-08-23T10:00:00+00:00");
    assert!(got.update_time.is_none());

    let request = only_request(&recorder);
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, "/v1/webhooks/whk-future");
    assert_common_headers(&request);
    assert!(request.headers.get("idempotency-key").is_none());
}

#[tokio::test]
async fn update_sends_only_the_changed_fields() {
    let recorder = Recorder::start().await;
    recorder.answer(Canned::ok(envelope(webhook("whk-1"))));
    client(&recorder)
        .update_webhook()
        .id("whk-1")
        .monime_space_id(SPACE)
        .body(JsonObject(
            json!({ "enabled": false, "name": "Renamed" })
                .as_object()
                .cloned()
                .unwrap(),
        ))
        .send()
        .await
        .expect("update succeeds");
    let request = only_request(&recorder);
    assert_eq!(request.method, "PATCH");
    assert_eq!(request.path, "/v1/webhooks/whk-1");
    assert_common_headers(&request);
    assert!(request.headers.get("idempotency-key").is_none());
    assert_eq!(
        request.json(),
        json!({ "enabled": false, "name": "Renamed" })
    );
}

#[tokio::test]
async fn delete_decodes_the_envelope_without_result() {
    let recorder = Recorder::start().await;
    recorder.answer(Canned::ok(json!({ "success": true, "messages": [] })));
    let deleted = client(&recorder)
        .delete_webhook()
        .id("whk-1")
        .monime_space_id(SPACE)
        .send()
        .await
        .expect("delete succeeds")
        .into_inner();
    assert_eq!(deleted.success, Some(true));
    let request = only_request(&recorder);
    assert_eq!(request.method, "DELETE");
    assert_eq!(request.path, "/v1/webhooks/whk-1");
    assert_common_headers(&request);
    assert!(request.headers.get("idempotency-key").is_none());
}

#[tokio::test]
async fn a_version_chosen_on_the_builder_replaces_the_default() {
    let recorder = Recorder::start().await;
    recorder.answer(Canned::ok(json!({ "success": true, "messages": [] })));
    client(&recorder)
        .delete_webhook()
        .id("whk-1")
        .monime_space_id(SPACE)
        .monime_version(MonimeVersion::Caph20250620)
        .send()
        .await
        .unwrap();
    let request = only_request(&recorder);
    let versions: Vec<_> = request.headers.get_all("monime-version").iter().collect();
    assert_eq!(versions, ["caph.2025-06-20"]);
}

async fn error_for(canned: Canned) -> (Recorder, Error<monime_webhooks_api::types::ErrorEnvelope>) {
    let recorder = Recorder::start().await;
    recorder.answer(canned);
    let error = client(&recorder)
        .get_webhook()
        .id("whk-missing")
        .monime_space_id(SPACE)
        .send()
        .await
        .expect_err("the server answered with an error");
    (recorder, error)
}

#[tokio::test]
async fn not_found_is_a_typed_error_with_the_servers_message() {
    let (_recorder, error) =
        error_for(Canned::error(404, "not_found", "no webhook whk-missing")).await;
    let Error::ErrorResponse(response) = error else {
        panic!("expected a typed error: {error:?}")
    };
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers().get("monime-request-id").unwrap(),
        "req-404"
    );
    assert_eq!(response.error.code, 404);
    assert_eq!(response.error.reason, "not_found");
    assert_eq!(response.error.message, "no webhook whk-missing");
    assert_eq!(response.success, Some(false));
}

#[tokio::test]
async fn conflict_is_a_typed_error() {
    let (_recorder, error) = error_for(Canned::error(
        409,
        "idempotency_key_in_use",
        "key reused with another body",
    ))
    .await;
    let Error::ErrorResponse(response) = error else {
        panic!("expected a typed error: {error:?}")
    };
    assert_eq!(response.status(), 409);
    assert_eq!(response.error.reason, "idempotency_key_in_use");
}

#[tokio::test]
async fn rate_limit_is_a_typed_error_with_its_headers() {
    let canned = Canned::error(429, "rate_limited", "slow down")
        .with_header("retry-after", "2")
        .with_header("monime-rate-limit", "space-limit");
    let (_recorder, error) = error_for(canned).await;
    let Error::ErrorResponse(response) = error else {
        panic!("expected a typed error: {error:?}")
    };
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers().get("retry-after").unwrap(), "2");
    assert_eq!(
        response.headers().get("monime-rate-limit").unwrap(),
        "space-limit"
    );
    assert_eq!(response.error.reason, "rate_limited");
}

/// Each case must fail in `send()` with `InvalidRequest` naming the problem, and the server
/// must see nothing.
async fn assert_refused_before_sending(
    result: Result<impl std::fmt::Debug, Error<monime_webhooks_api::types::ErrorEnvelope>>,
    recorder: &Recorder,
    expected: &str,
) {
    match result {
        Err(Error::InvalidRequest(message)) => {
            assert!(
                message.contains(expected),
                "message {message:?} should mention {expected:?}"
            );
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
    assert!(
        recorder.requests().is_empty(),
        "nothing may reach the server"
    );
}

/// A webhook id that would leave its path segment (`\\` is `/` in http(s) URLs, and dot
/// segments are resolved) is refused by the generated operations themselves: the first one
/// reached `/v1/payouts/pyt-1` with the app's token.
#[tokio::test]
async fn ids_that_would_leave_their_segment_are_refused_before_sending() {
    let recorder = Recorder::start().await;
    let client = client(&recorder);
    for id in [
        "whk-\\..\\..\\payouts\\pyt-1",
        "whk-..",
        "whk-%2e%2e",
        "whk-a/b",
        "whk-a?b",
        "whk-a#b",
    ] {
        let get = client
            .get_webhook()
            .id(id)
            .monime_space_id(SPACE)
            .send()
            .await;
        assert_refused_before_sending(get, &recorder, "id").await;
        let delete = client
            .delete_webhook()
            .id(id)
            .monime_space_id(SPACE)
            .send()
            .await;
        assert_refused_before_sending(delete, &recorder, "id").await;
        let update = client
            .update_webhook()
            .id(id)
            .monime_space_id(SPACE)
            .body(JsonObject(serde_json::Map::new()))
            .send()
            .await;
        assert_refused_before_sending(update, &recorder, "id").await;
    }
    // The same operation with an id of the spec's shape does reach the server, in its path.
    let _ = client
        .get_webhook()
        .id("whk-Ab_9-z")
        .monime_space_id(SPACE)
        .send()
        .await;
    assert_eq!(only_request(&recorder).path, "/v1/webhooks/whk-Ab_9-z");
}

fn valid_body(
    body: monime_webhooks_api::types::builder::CreateWebhookRequest,
) -> monime_webhooks_api::types::builder::CreateWebhookRequest {
    body.name("Orders")
        .url("https://shop.example/hooks/monime")
        .api_release(CreateWebhookRequestApiRelease::Caph)
        .events(vec!["payment.completed".to_owned()])
}

#[tokio::test]
async fn a_101_character_name_is_refused_before_sending() {
    let recorder = Recorder::start().await;
    let result = client(&recorder)
        .create_webhook()
        .monime_space_id(SPACE)
        .idempotency_key("k")
        .body_map(|body| valid_body(body).name("n".repeat(101)))
        .send()
        .await;
    assert_refused_before_sending(result, &recorder, "name").await;
}

#[tokio::test]
async fn a_65_character_idempotency_key_is_refused_before_sending() {
    let recorder = Recorder::start().await;
    let result = client(&recorder)
        .create_webhook()
        .monime_space_id(SPACE)
        .idempotency_key("k".repeat(65))
        .body_map(valid_body)
        .send()
        .await;
    assert_refused_before_sending(result, &recorder, "idempotency_key").await;
}

#[tokio::test]
async fn a_space_id_without_the_spc_prefix_is_refused_before_sending() {
    let recorder = Recorder::start().await;
    let result = client(&recorder)
        .list_webhooks()
        .monime_space_id("space-1")
        .send()
        .await;
    assert_refused_before_sending(result, &recorder, "monime_space_id").await;
}

#[tokio::test]
async fn a_31_character_secret_is_refused_before_sending() {
    let recorder = Recorder::start().await;
    let result = client(&recorder)
        .create_webhook()
        .monime_space_id(SPACE)
        .idempotency_key("k")
        .body_map(|body| valid_body(body).verification_method(Hs256("s".repeat(31))))
        .send()
        .await;
    assert_refused_before_sending(result, &recorder, "32 to 256 characters").await;
}

#[test]
fn secrets_never_show_in_debug_output() {
    let method: Option<CreateWebhookRequestVerificationMethod> =
        Hs256(SECRET.to_owned()).try_into().unwrap();
    let printed = format!("{method:?} {:?}", Hs256(SECRET.to_owned()));
    assert!(!printed.contains(SECRET), "{printed}");
    let decoded: WebhookVerificationMethod =
        serde_json::from_value(json!({ "type": "HS256", "secret": SECRET })).unwrap();
    assert!(!format!("{decoded:?}").contains(SECRET));
}

fn users_client(recorder: &Recorder) -> monime_webhooks::Client {
    monime_webhooks::Client::builder()
        .access_token(TOKEN)
        .space_id(SPACE)
        .api_url(recorder.base_url())
        .build()
        .unwrap()
}

/// The client users call goes through the generated operations: the same method, path and
/// headers, an `Idempotency-Key` on create, and a PATCH that sends `null` for a cleared field.
#[tokio::test]
async fn the_client_users_call_puts_the_spec_request_on_the_wire() {
    let recorder = Recorder::start().await;
    let client = users_client(&recorder);
    recorder.answer(Canned::ok(envelope(webhook("whk-1"))));
    client
        .create()
        .name("Orders")
        .url("https://shop.example/hooks/monime")
        .event("payment.completed")
        .header("X-Shop", "42")
        .metadata_entry("team", "payments")
        .hs256(SECRET)
        .send()
        .await
        .expect("create succeeds");
    let request = only_request(&recorder);
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/webhooks");
    assert_common_headers(&request);
    let key = request
        .header("idempotency-key")
        .expect("an Idempotency-Key");
    assert_eq!(key.len(), 36, "a UUID: {key}");
    assert_eq!(
        request.json(),
        json!({
            "name": "Orders",
            "url": "https://shop.example/hooks/monime",
            "apiRelease": "caph",
            "enabled": true,
            "events": ["payment.completed"],
            "headers": { "X-Shop": "42" },
            "metadata": { "team": "payments" },
            "verificationMethod": { "type": "HS256", "secret": SECRET }
        })
    );

    let recorder = Recorder::start().await;
    let client = users_client(&recorder);
    recorder.answer(Canned::ok(envelope(webhook("whk-1"))));
    client
        .update("whk-1")
        .name("Renamed")
        .clear_alert_emails()
        .send()
        .await
        .expect("update succeeds");
    let request = only_request(&recorder);
    assert_eq!(request.method, "PATCH");
    assert_eq!(request.path, "/v1/webhooks/whk-1");
    assert_common_headers(&request);
    assert_eq!(
        request.json(),
        json!({ "name": "Renamed", "alertEmails": null })
    );
}

/// progenitor's own `Client::new` builds an HTTP client that follows redirects; the hooks
/// refuse the answer that came from another URL before reading it.
#[tokio::test]
async fn the_generated_client_new_refuses_an_answer_from_elsewhere() {
    let elsewhere = Recorder::start().await;
    elsewhere.answer(Canned::ok(envelope(webhook("whk-1"))));
    let redirecting = Recorder::start().await;
    let location = format!("{}/v1/webhooks/whk-1", elsewhere.base_url());
    redirecting.answer(Canned {
        status: 307,
        headers: vec![("location", location.clone())],
        body: serde_json::Value::Null,
    });
    let client = Client::new(&redirecting.base_url(), Settings::none().with_token(TOKEN));
    let result = client
        .get_webhook()
        .id("whk-1")
        .monime_space_id(SPACE)
        .send()
        .await;
    match result {
        Err(Error::Custom(message)) => {
            assert!(
                message.contains("redirected to") && message.contains(&location),
                "{message}"
            )
        }
        other => panic!("expected the hooks' refusal, got {other:?}"),
    }
}
