//! Every operation against the emulator, paging, configuration and redaction.

use std::collections::BTreeSet;

use futures_util::TryStreamExt;
use monime_mock::MonimeMock;
use monime_webhooks::{ApiRelease, Client, ClientBuilder, Error, WebhookVerificationMethod};
use serde_json::json;

const SECRET: &str = "test_secret_for_vector_0123456789abcdef";

fn client_for(mock: &MonimeMock) -> Client {
    Client::builder()
        .access_token("mon_test_client")
        .space_id("spc-client")
        .api_url(mock.base_url())
        .build()
        .unwrap()
}

#[tokio::test]
async fn every_operation_round_trips() {
    let mock = MonimeMock::start().await.unwrap();
    let client = client_for(&mock);
    let hs = client
        .create()
        .name("Orders")
        .url("https://shop.example/hooks/hs")
        .events(["payment.completed", "payout.failed"])
        .header("X-Shop", "main")
        .alert_email("ops@shop.example")
        .metadata_entry("team", "payments")
        .api_release(ApiRelease::Caph)
        .hs256(SECRET)
        .send()
        .await
        .unwrap();
    assert!(hs.request_id().unwrap().starts_with("req-"));
    let hs_id = hs.id.to_string();
    assert!(hs.enabled);
    assert!(
        matches!(&hs.verification_method, Some(WebhookVerificationMethod::Hs256 { secret: Some(s) }) if s == SECRET)
    );

    let es = client
        .create()
        .name("Refunds")
        .url("https://shop.example/hooks/es")
        .event("payout.failed")
        .es256()
        .enabled(false)
        .send()
        .await
        .unwrap();
    match &es.verification_method {
        Some(WebhookVerificationMethod::Es256 {
            public_key: Some(pem),
        }) => {
            monime_signature::Verifier::es256(pem).expect("a usable P-256 public key");
        }
        other => panic!("expected ES256 with a key, got {other:?}"),
    }
    let es_id = es.id.to_string();

    let got = client.get(&hs_id).await.unwrap();
    assert_eq!(got.name, "Orders");
    assert_eq!(got.headers.as_ref().unwrap()["X-Shop"], "main");

    let updated = client
        .update(&hs_id)
        .name("Orders v2")
        .clear_headers()
        .clear_alert_emails()
        .events(["payment.completed"])
        .send()
        .await
        .unwrap();
    assert_eq!(updated.name, "Orders v2");
    assert_eq!(updated.headers, None, "cleared with an explicit null");
    assert_eq!(updated.alert_emails, None);
    assert_eq!(updated.events, ["payment.completed".to_owned()]);
    assert_eq!(
        updated.metadata.as_ref().unwrap()["team"],
        json!("payments"),
        "untouched"
    );
    assert!(updated.update_time.is_some());

    let page = client.list().limit(1).send().await.unwrap();
    assert_eq!(page.webhooks.len(), 1);
    let second = client
        .list()
        .limit(1)
        .after(page.next.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(second.webhooks[0].id.as_str(), es_id.as_str());
    assert_eq!(second.next, None);

    let all: Vec<_> = client.list_all().try_collect().await.unwrap();
    assert_eq!(all.len(), 2);

    let raw = client
        .raw(
            monime_webhooks::Method::GET,
            &format!("/v1/webhooks/{es_id}"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(raw["result"]["name"], "Refunds");

    client.delete(&hs_id).await.unwrap();
    client.delete(&es_id).await.unwrap();
    match client.get(&hs_id).await.unwrap_err() {
        Error::Api {
            status: 404,
            reason,
            request_id,
            ..
        } => {
            assert_eq!(reason, "not_found");
            assert!(request_id.is_some());
        }
        other => panic!("expected a 404 Api error, got {other:?}"),
    }
    assert_eq!(mock.webhook_count(), 0);
    mock.shutdown().await;
}

#[tokio::test]
async fn paging_over_a_thousand_webhooks_with_limit_7_yields_each_once() {
    let mock = MonimeMock::start().await.unwrap();
    let client = client_for(&mock);
    let mut created = Vec::new();
    for i in 0..1000 {
        let webhook = client
            .create()
            .name(format!("hook {i}"))
            .url("https://x.example")
            .event("payment.completed")
            .send()
            .await
            .unwrap();
        created.push(webhook.id.to_string());
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut request = client.list().limit(7);
        if let Some(cursor) = &after {
            request = request.after(cursor);
        }
        let page = request.send().await.unwrap().into_inner();
        assert!(page.webhooks.len() <= 7);
        seen.extend(page.webhooks.into_iter().map(|w| w.id.to_string()));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, created, "each exactly once, in creation order");
    let streamed: Vec<String> = client
        .list_all()
        .map_ok(|w| w.id.to_string())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(streamed, created);
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 1000);
    mock.shutdown().await;
}

#[test]
fn configuration_errors_name_the_field_or_variable() {
    let error = |builder: ClientBuilder| builder.build().unwrap_err().to_string();
    assert_eq!(
        error(Client::builder()),
        "invalid configuration: access_token is required"
    );
    assert_eq!(
        error(Client::builder().access_token("mon_test_x")),
        "invalid configuration: space_id is required"
    );
    assert_eq!(
        error(
            Client::builder()
                .access_token("mon_test_x")
                .space_id("space-1")
        ),
        "invalid configuration: space_id must match ^spc-.*$, got `space-1`"
    );
    assert!(
        error(Client::builder().access_token("mon test").space_id("spc-1"))
            .starts_with("invalid configuration: access_token contains whitespace")
    );
    assert!(
        error(
            Client::builder()
                .access_token("mon_test_x")
                .space_id("spc-1")
                .api_url("ftp://x")
        )
        .contains("api_url must be an http or https URL")
    );
    assert!(
        error(
            Client::builder()
                .access_token("mon_test_x")
                .space_id("spc-1")
                .api_url("not a url")
        )
        .contains("api_url is not a URL")
    );
    // A query or fragment would swallow every operation's path.
    for url in ["https://api.example?x=1", "https://api.example#x"] {
        assert!(
            error(
                Client::builder()
                    .access_token("mon_test_x")
                    .space_id("spc-1")
                    .api_url(url)
            )
            .contains("api_url must not have a query or fragment"),
            "{url}"
        );
    }
    assert!(
        error(
            Client::builder()
                .access_token("mon_test_x")
                .space_id("spc-1")
                .version("v9")
        )
        .contains("version must be one of")
    );

    let vars = |pairs: &'static [(&'static str, &'static str)]| {
        ClientBuilder::from_vars(move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    };
    assert_eq!(
        error(vars(&[])),
        "invalid configuration: MONIME_ACCESS_TOKEN is not set"
    );
    assert_eq!(
        error(vars(&[("MONIME_ACCESS_TOKEN", "mon_test_x")])),
        "invalid configuration: MONIME_SPACE_ID is not set"
    );
    assert!(
        error(vars(&[
            ("MONIME_ACCESS_TOKEN", "mon_test_x"),
            ("MONIME_SPACE_ID", "spc-1"),
            ("MONIME_API_URL", "nope")
        ]))
        .contains("MONIME_API_URL is not a URL")
    );
    assert!(
        error(vars(&[
            ("MONIME_ACCESS_TOKEN", "mon_test_x"),
            ("MONIME_SPACE_ID", "spc-1"),
            ("MONIME_VERSION", "x")
        ]))
        .contains("MONIME_VERSION must be one of")
    );
    let client = vars(&[
        ("MONIME_ACCESS_TOKEN", "mon_test_x"),
        ("MONIME_SPACE_ID", "spc-1"),
    ])
    .build()
    .unwrap();
    assert_eq!(client.api_url(), "https://api.monime.io");
}

#[test]
fn secrets_and_tokens_never_show_in_debug_output() {
    let builder = Client::builder()
        .access_token("mon_test_supersecret")
        .space_id("spc-1");
    let client = builder.clone().build().unwrap();
    let create = client.create().name("a").hs256(SECRET);
    let printed = format!("{builder:?} {client:?} {create:?}");
    assert!(!printed.contains("supersecret"), "{printed}");
    assert!(!printed.contains(SECRET), "{printed}");
    assert!(printed.contains("[redacted]"));
}
