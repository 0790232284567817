//! The emulated API: operations, auth, spaces, validation, idempotency, paging, PATCH
//! semantics, verification methods and bad input.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::{Api, SECRET, SPACE, uuid_key, valid_body};
use monime_mock::{ManualClock, MockConfig, MonimeMock};
use p256::pkcs8::DecodePublicKey;
use reqwest::Method;
use serde_json::{Value, json};

async fn mock() -> (MonimeMock, Api) {
    let mock = MonimeMock::start().await.unwrap();
    let api = Api::new(&mock);
    (mock, api)
}

#[tokio::test]
async fn all_five_operations_round_trip_with_request_ids() {
    let (mock, api) = mock().await;
    let created = api.create(&valid_body()).await;
    assert_eq!(created.status, 200);
    assert_eq!(created.body["success"], json!(true));
    assert_eq!(created.body["messages"], json!([]));
    let webhook = &created.body["result"];
    let id = webhook["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("whk-"));
    assert_eq!(webhook["name"], "Orders");
    assert_eq!(webhook["enabled"], true, "enabled defaults to true");
    assert_eq!(webhook["apiRelease"], "caph");
    assert_eq!(
        webhook["events"],
        json!(["payment.completed", "payout.failed"])
    );
    assert_eq!(
        webhook["verificationMethod"],
        json!({ "type": "HS256", "secret": SECRET })
    );
    assert_eq!(webhook["updateTime"], Value::Null);
    assert!(webhook["createTime"].as_str().unwrap().ends_with('Z'));
    assert!(
        created
            .header("monime-request-id")
            .unwrap()
            .starts_with("req-")
    );

    let got = api.get(&id).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["result"], *webhook);

    let page = api.list("").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body["result"].as_array().unwrap().len(), 1);
    assert_eq!(page.body["pagination"], json!({ "count": 1, "next": null }));

    let updated = api.patch(&id, &json!({ "enabled": false })).await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.body["result"]["enabled"], false);
    assert!(updated.body["result"]["updateTime"].is_string());

    let deleted = api.delete(&id).await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.body, json!({ "success": true, "messages": [] }));
    api.get(&id).await.assert_error(404, "not_found");
    api.delete(&id).await.assert_error(404, "not_found");

    let ids: Vec<_> = [created, got, page, updated, deleted]
        .iter()
        .map(|r| r.header("monime-request-id").unwrap().to_owned())
        .collect();
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "request ids are unique: {ids:?}");
    mock.shutdown().await;
}

#[tokio::test]
async fn authentication_is_required_and_checked() {
    let (mock, api) = mock().await;
    let no_token = Api {
        token: None,
        ..api.clone()
    };
    no_token.list("").await.assert_error(401, "unauthenticated");
    let basic = no_token
        .request(Method::GET, "/v1/webhooks")
        .header("Authorization", "Basic abc");
    Api::send(basic).await.assert_error(401, "unauthenticated");
    let empty = Api::send(
        reqwest::Client::new()
            .get(format!("{}/v1/webhooks", api.base))
            .header("Authorization", "Bearer ")
            .header("Monime-Space-Id", SPACE),
    )
    .await;
    empty.assert_error(401, "unauthenticated");
    let not_monime = Api {
        token: Some("sk_live_123".into()),
        ..api.clone()
    };
    not_monime
        .list("")
        .await
        .assert_error(401, "unauthenticated");
    let live = Api {
        token: Some("mon_live_123".into()),
        ..api.clone()
    };
    assert_eq!(live.list("").await.status, 200);
    assert_eq!(api.list("").await.status, 200);
    mock.shutdown().await;

    let config = MockConfig {
        tokens: vec!["mon_test_only".into()],
        ..MockConfig::default()
    };
    let mock = MonimeMock::start_with(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let api = Api::new(&mock);
    api.list("").await.assert_error(401, "unauthenticated");
    let listed = Api {
        token: Some("mon_test_only".into()),
        ..api
    };
    assert_eq!(listed.list("").await.status, 200);
    mock.shutdown().await;
}

#[tokio::test]
async fn spaces_are_validated_and_isolated() {
    let (mock, api) = mock().await;
    let missing = Api::send(
        reqwest::Client::new()
            .get(format!("{}/v1/webhooks", api.base))
            .bearer_auth(common::TOKEN),
    )
    .await;
    missing.assert_error(400, "invalid_request");
    assert!(missing.message().contains("Monime-Space-Id"));
    let wrong = api.in_space("space-1").list("").await;
    wrong.assert_error(400, "invalid_request");
    assert!(wrong.message().contains("Monime-Space-Id"));
    let long = api
        .in_space(&format!("spc-{}", "x".repeat(61)))
        .list("")
        .await;
    long.assert_error(400, "invalid_request");
    assert_eq!(
        api.in_space(&format!("spc-{}", "x".repeat(60)))
            .list("")
            .await
            .status,
        200
    );

    let id = api.create_id(&valid_body()).await;
    let other = api.in_space("spc-other");
    other.get(&id).await.assert_error(404, "not_found");
    other
        .patch(&id, &json!({ "name": "stolen" }))
        .await
        .assert_error(404, "not_found");
    other.delete(&id).await.assert_error(404, "not_found");
    assert!(other.all_ids(50).await.is_empty());
    assert_eq!(api.all_ids(50).await, std::slice::from_ref(&id));
    assert_eq!(api.get(&id).await.body["result"]["name"], "Orders");
    mock.shutdown().await;
}

/// Each case breaks one constraint of the spec: 400, the field named, nothing stored.
#[tokio::test]
async fn every_create_constraint_is_enforced_and_nothing_is_stored() {
    let (mock, api) = mock().await;
    let with = |field: &str, value: Value| {
        let mut body = valid_body();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = valid_body();
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let many = |n: usize| Value::from((0..n).map(|i| format!("event.{i}")).collect::<Vec<_>>());
    let map = |n: usize| Value::Object((0..n).map(|i| (format!("k{i}"), json!("v"))).collect());
    let cases: Vec<(&str, Value, &str)> = vec![
        ("name missing", without("name"), "name"),
        ("name empty", with("name", json!("")), "name"),
        (
            "name 101 chars",
            with("name", json!("n".repeat(101))),
            "name",
        ),
        ("name not a string", with("name", json!(7)), "name"),
        ("name null", with("name", Value::Null), "name"),
        ("url missing", without("url"), "url"),
        ("url 256 chars", with("url", json!("u".repeat(256))), "url"),
        ("apiRelease missing", without("apiRelease"), "apiRelease"),
        (
            "apiRelease unknown",
            with("apiRelease", json!("vega")),
            "apiRelease",
        ),
        ("events missing", without("events"), "events"),
        ("events empty", with("events", json!([])), "events"),
        ("events 101 items", with("events", many(101)), "events"),
        (
            "events duplicate",
            with("events", json!(["a.b", "a.b"])),
            "events",
        ),
        (
            "events not strings",
            with("events", json!([1])),
            "events[0]",
        ),
        ("enabled not bool", with("enabled", json!("yes")), "enabled"),
        ("headers 11 entries", with("headers", map(11)), "headers"),
        (
            "headers value not string",
            with("headers", json!({ "X": 1 })),
            "headers.X",
        ),
        (
            "alertEmails 3 items",
            with("alertEmails", json!(["a@x", "b@x", "c@x"])),
            "alertEmails",
        ),
        (
            "alertEmails duplicate",
            with("alertEmails", json!(["a@x", "a@x"])),
            "alertEmails",
        ),
        (
            "metadata 65 properties",
            with("metadata", map(65)),
            "metadata",
        ),
        (
            "metadata not object",
            with("metadata", json!([1])),
            "metadata",
        ),
        (
            "secret 31 chars",
            with(
                "verificationMethod",
                json!({ "type": "HS256", "secret": "s".repeat(31) }),
            ),
            "verificationMethod.secret",
        ),
        (
            "secret 257 chars",
            with(
                "verificationMethod",
                json!({ "type": "HS256", "secret": "s".repeat(257) }),
            ),
            "verificationMethod.secret",
        ),
        (
            "secret missing",
            with("verificationMethod", json!({ "type": "HS256" })),
            "verificationMethod.secret",
        ),
        (
            "method type unknown",
            with("verificationMethod", json!({ "type": "RS256" })),
            "verificationMethod.type",
        ),
        (
            "method type missing",
            with("verificationMethod", json!({ "secret": SECRET })),
            "verificationMethod.type",
        ),
        (
            "method extra field",
            with(
                "verificationMethod",
                json!({ "type": "ES256", "curve": "P-384" }),
            ),
            "verificationMethod.curve",
        ),
        (
            "header name not a token",
            with("headers", json!({ "Bad Name": "x" })),
            "headers",
        ),
        (
            "header value with a line break",
            with("headers", json!({ "X-Shop": "1\r\nHost: evil" })),
            "headers.X-Shop",
        ),
        (
            "metadata 17 levels deep",
            with(
                "metadata",
                json!({ "deep": (0..16).fold(json!("leaf"), |inner, _| json!({ "k": inner })) }),
            ),
            "metadata",
        ),
        (
            "unknown top-level field",
            with("color", json!("blue")),
            "color",
        ),
        ("body not an object", json!(["a"]), "object"),
    ];
    assert!(cases.len() >= 25);
    for (label, body, field) in cases {
        let reply = api.create(&body).await;
        assert_eq!(reply.status, 400, "{label}: {:#}", reply.body);
        reply.assert_error(400, "invalid_request");
        assert!(
            reply.message().contains(field),
            "{label}: message {:?} should name {field}",
            reply.message()
        );
    }
    for (label, key) in [("key 65 chars", "k".repeat(65))] {
        let reply = api.create_with_key(&key, &valid_body()).await;
        assert_eq!(reply.status, 400, "{label}");
        assert!(reply.message().contains("Idempotency-Key"));
    }
    let no_key = Api::send(
        api.request(Method::POST, "/v1/webhooks")
            .json(&valid_body()),
    )
    .await;
    no_key.assert_error(400, "invalid_request");
    assert!(no_key.message().contains("Idempotency-Key"));
    let bad_version = Api::send(
        api.request(Method::GET, "/v1/webhooks")
            .header("Monime-Version", "caph.2099-01-01"),
    )
    .await;
    bad_version.assert_error(400, "invalid_request");
    assert!(bad_version.message().contains("Monime-Version"));
    assert_eq!(
        mock.webhook_count(),
        0,
        "no invalid request may store anything"
    );
    assert_eq!(mock.counters().creates, 0);
    // The limits themselves are allowed.
    let edge = json!({
        "name": "n".repeat(100), "url": "u".repeat(255), "apiRelease": "siriusb",
        "events": many(100), "headers": map(10), "alertEmails": ["a@x", "b@x"], "metadata": map(64),
        "verificationMethod": { "type": "HS256", "secret": "s".repeat(256) }, "enabled": false
    });
    assert_eq!(api.create(&edge).await.status, 200);
    let nulls = json!({ "name": "n", "url": "u", "apiRelease": "caph", "events": null,
        "headers": null, "alertEmails": null, "metadata": null, "verificationMethod": null });
    assert_eq!(api.create(&nulls).await.status, 200);
    mock.shutdown().await;
}

#[tokio::test]
async fn path_ids_and_list_parameters_are_validated() {
    let (mock, api) = mock().await;
    for reply in [
        api.get("hook-1").await,
        api.patch("hook-1", &json!({})).await,
        api.delete("hook-1").await,
    ] {
        reply.assert_error(400, "invalid_request");
        assert!(reply.message().contains("id"));
    }
    for query in ["?limit=0", "?limit=51", "?limit=ten", "?limit=1.5"] {
        let reply = api.list(query).await;
        reply.assert_error(400, "invalid_request");
        assert!(reply.message().contains("limit"), "{query}");
    }
    let long = api.list(&format!("?after={}", "a".repeat(2001))).await;
    long.assert_error(400, "invalid_request");
    assert!(long.message().contains("after"));
    let forged = api.list("?after=not-a-cursor").await;
    forged.assert_error(404, "cursor_not_found");
    assert!(forged.message().contains("after"));
    assert_eq!(api.list("?limit=50&after=").await.status, 200);
    mock.shutdown().await;
}

#[tokio::test]
async fn idempotent_creates_replay_conflict_and_expire() {
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    let config = MockConfig {
        clock: clock.clone(),
        ..MockConfig::default()
    };
    let mock = MonimeMock::start_with(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let api = Api::new(&mock);

    let first = api.create_with_key("order-hook", &valid_body()).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("monime-cache"), None);
    let replay = api.create_with_key("order-hook", &valid_body()).await;
    assert_eq!(replay.status, 200);
    assert_eq!(replay.header("monime-cache"), Some("irc"));
    assert_eq!(replay.body, first.body, "the first response, same id");
    assert_eq!(mock.webhook_count(), 1);

    let mut different = valid_body();
    different["name"] = json!("Other");
    api.create_with_key("order-hook", &different)
        .await
        .assert_error(409, "idempotency_key_in_use");
    assert_eq!(mock.webhook_count(), 1);

    // Keys are scoped to the space.
    let other_space = api
        .in_space("spc-second")
        .create_with_key("order-hook", &valid_body())
        .await;
    assert_eq!(other_space.status, 200);
    assert_ne!(other_space.body["result"]["id"], first.body["result"]["id"]);

    // Errors are not cached: the same key works once the body is valid.
    let mut invalid = valid_body();
    invalid["name"] = json!("");
    api.create_with_key("fix-me", &invalid)
        .await
        .assert_error(400, "invalid_request");
    assert_eq!(
        api.create_with_key("fix-me", &valid_body())
            .await
            .header("monime-cache"),
        None
    );

    // After 24 hours the key is forgotten.
    clock.advance(Duration::from_secs(24 * 60 * 60 - 1));
    assert_eq!(
        api.create_with_key("order-hook", &valid_body())
            .await
            .header("monime-cache"),
        Some("irc")
    );
    clock.advance(Duration::from_secs(1));
    let later = api.create_with_key("order-hook", &valid_body()).await;
    assert_eq!(later.status, 200);
    assert_eq!(later.header("monime-cache"), None);
    assert_ne!(later.body["result"]["id"], first.body["result"]["id"]);
    let counters = mock.counters();
    assert_eq!(counters.creates, 4);
    assert_eq!(counters.idempotent_replays, 2);
    assert_eq!(mock.webhook_count(), 4);
    mock.shutdown().await;
}

#[tokio::test]
async fn paging_returns_each_webhook_once_in_a_stable_order() {
    let (mock, api) = mock().await;
    let mut created = Vec::new();
    for i in 0..23 {
        let mut body = valid_body();
        body["name"] = json!(format!("hook {i}"));
        created.push(api.create_id(&body).await);
    }
    for limit in [1, 5, 7, 10, 23, 50] {
        assert_eq!(api.all_ids(limit).await, created, "limit {limit}");
    }
    assert_eq!(
        api.list("").await.body["result"].as_array().unwrap().len(),
        10,
        "default limit"
    );

    // Creates and deletes between pages: the webhooks that exist throughout come exactly once.
    let first = api.list("?limit=5").await;
    let mut seen: Vec<String> = first.body["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap().to_owned())
        .collect();
    let deleted = created[10].clone();
    assert_eq!(api.delete(&deleted).await.status, 200);
    let added = api.create_id(&valid_body()).await;
    let mut after = first.body["pagination"]["next"]
        .as_str()
        .unwrap()
        .to_owned();
    loop {
        let page = api.list(&format!("?limit=5&after={after}")).await;
        seen.extend(
            page.body["result"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w["id"].as_str().unwrap().to_owned()),
        );
        match page.body["pagination"]["next"].as_str() {
            Some(next) => after = next.to_owned(),
            None => break,
        }
        // Delete one we have already seen and one we have not, mid-walk.
        let _ = api.delete(&created[2]).await;
        let _ = api.delete(&created[20]).await;
    }
    let unique: std::collections::BTreeSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicates: {seen:?}");
    assert!(!seen.contains(&deleted));
    assert!(
        !seen.contains(&created[20]),
        "deleted before the walk reached it, so never seen"
    );
    assert!(seen.contains(&created[2]), "deleted after it was seen");
    assert!(seen.contains(&added));
    for id in created
        .iter()
        .filter(|id| **id != deleted && **id != created[20])
    {
        assert!(seen.contains(id), "{id} missing");
    }
    mock.shutdown().await;
}

#[tokio::test]
async fn patch_leaves_omitted_fields_clears_nulls_and_refuses_the_method() {
    let (mock, api) = mock().await;
    let mut body = valid_body();
    body["headers"] = json!({ "X-Shop": "1" });
    body["alertEmails"] = json!(["ops@shop.example"]);
    body["metadata"] = json!({ "team": "payments" });
    let id = api.create_id(&body).await;
    let before = api.get(&id).await.body["result"].clone();

    let renamed = api.patch(&id, &json!({ "name": "Renamed" })).await.body["result"].clone();
    for field in [
        "url",
        "enabled",
        "events",
        "apiRelease",
        "verificationMethod",
        "headers",
        "alertEmails",
        "metadata",
        "createTime",
    ] {
        assert_eq!(renamed[field], before[field], "{field} unchanged");
    }
    assert_eq!(renamed["name"], "Renamed");

    let cleared = api
        .patch(&id, &json!({ "headers": null, "alertEmails": null, "metadata": null, "events": null, "name": null }))
        .await;
    assert_eq!(cleared.status, 200);
    let cleared = &cleared.body["result"];
    for field in ["headers", "alertEmails", "metadata"] {
        assert_eq!(cleared[field], Value::Null, "{field} cleared");
    }
    // A webhook always carries its list of events: cleared, it is empty.
    assert_eq!(cleared["events"], json!([]), "events cleared");
    assert_eq!(
        cleared["name"], "Renamed",
        "a null for a non-nullable field changes nothing"
    );

    let refused = api
        .patch(&id, &json!({ "verificationMethod": { "type": "ES256" } }))
        .await;
    refused.assert_error(400, "invalid_request");
    assert!(refused.message().contains("verificationMethod"));
    for (body, field) in [
        (json!({ "name": "" }), "name"),
        (json!({ "events": [] }), "events"),
        (json!({ "headers": { "a": 1 } }), "headers"),
        (json!({ "apiRelease": "vega" }), "apiRelease"),
        (json!({ "color": "blue" }), "color"),
    ] {
        let reply = api.patch(&id, &body).await;
        reply.assert_error(400, "invalid_request");
        assert!(reply.message().contains(field));
    }
    let empty = Api::send(api.request(Method::PATCH, &format!("/v1/webhooks/{id}"))).await;
    assert_eq!(empty.status, 200, "a PATCH without body changes nothing");
    assert_eq!(
        api.get(&id).await.body["result"]["verificationMethod"],
        before["verificationMethod"]
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn es256_webhooks_get_a_p256_public_key_and_hs256_keep_their_secret() {
    let (mock, api) = mock().await;
    let mut body = valid_body();
    body["verificationMethod"] = json!({ "type": "ES256", "publicKey": "ignored: read-only" });
    let created = api.create(&body).await.body["result"].clone();
    let pem = created["verificationMethod"]["publicKey"].as_str().unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    p256::PublicKey::from_public_key_pem(pem).expect("a P-256 SPKI PEM");
    let second = api.create(&body).await.body["result"]["verificationMethod"]["publicKey"].clone();
    assert_ne!(second, json!(pem), "one key pair per webhook");
    let hs = api.create(&valid_body()).await.body["result"]["verificationMethod"].clone();
    assert_eq!(hs, json!({ "type": "HS256", "secret": SECRET }));
    mock.shutdown().await;
}

#[tokio::test]
async fn bad_input_gets_the_envelope_and_changes_nothing() {
    let (mock, api) = mock().await;
    let id = api.create_id(&valid_body()).await;
    let malformed = api
        .request(Method::POST, "/v1/webhooks")
        .header("Idempotency-Key", uuid_key())
        .header("Content-Type", "application/json")
        .body("{\"name\": ");
    Api::send(malformed)
        .await
        .assert_error(400, "invalid_request");
    let wrong_type = api
        .request(Method::POST, "/v1/webhooks")
        .header("Idempotency-Key", uuid_key())
        .header("Content-Type", "text/plain")
        .body(valid_body().to_string());
    let reply = Api::send(wrong_type).await;
    reply.assert_error(400, "invalid_request");
    assert!(reply.message().contains("Content-Type"));
    let huge = api
        .request(Method::POST, "/v1/webhooks")
        .header("Idempotency-Key", uuid_key())
        .header("Content-Type", "application/json")
        .body(vec![b' '; 300 * 1024]);
    Api::send(huge).await.assert_error(413, "payload_too_large");
    let patch_garbage = api
        .request(Method::PATCH, &format!("/v1/webhooks/{id}"))
        .header("Content-Type", "application/json")
        .body("nope");
    Api::send(patch_garbage)
        .await
        .assert_error(400, "invalid_request");
    Api::send(api.request(Method::GET, "/v2/everything"))
        .await
        .assert_error(404, "not_found");
    Api::send(api.request(Method::PUT, "/v1/webhooks"))
        .await
        .assert_error(405, "method_not_allowed");
    Api::send(api.request(Method::POST, &format!("/v1/webhooks/{id}")))
        .await
        .assert_error(405, "method_not_allowed");
    assert_eq!(mock.webhook_count(), 1);
    assert_eq!(api.get(&id).await.body["result"]["name"], "Orders");
    mock.shutdown().await;
}

#[tokio::test]
async fn several_emulators_run_side_by_side() {
    let (a, api_a) = mock().await;
    let (b, api_b) = mock().await;
    assert_ne!(a.base_url(), b.base_url());
    let id = api_a.create_id(&valid_body()).await;
    api_b.get(&id).await.assert_error(404, "not_found");
    assert_eq!((a.webhook_count(), b.webhook_count()), (1, 0));
    a.shutdown().await;
    assert_eq!(api_b.list("").await.status, 200, "b outlives a");
    b.shutdown().await;
}
