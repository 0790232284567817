//! Fault injection: injected errors carry the envelope, rate limits carry their headers,
//! drop-after-commit takes effect without answering, a seed reproduces a run, and a run with
//! 30% faults leaves the state consistent with the counters.

mod common;

use std::time::{Duration, Instant};

use common::{Api, uuid_key, valid_body};
use monime_mock::{Faults, MockConfig, MonimeMock};

async fn with_faults(faults: Faults) -> (MonimeMock, Api) {
    let config = MockConfig {
        faults,
        ..MockConfig::default()
    };
    let mock = MonimeMock::start_with(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let api = Api::new(&mock);
    (mock, api)
}

#[tokio::test]
async fn injected_server_errors_use_the_envelope_and_store_nothing() {
    let (mock, api) = with_faults(Faults {
        server_error_rate: 1.0,
        ..Faults::none()
    })
    .await;
    let mut statuses = std::collections::BTreeSet::new();
    for _ in 0..30 {
        let reply = api.create(&valid_body()).await;
        // The mapping the crate README promises for injected errors.
        let reason = match reply.status {
            500 => "internal_error",
            502 => "bad_gateway",
            503 => "service_unavailable",
            other => panic!("injected status {other} is none of 500, 502, 503"),
        };
        reply.assert_error(reply.status, reason);
        statuses.insert(reply.status);
    }
    assert_eq!(
        statuses.len(),
        3,
        "500, 502 and 503 all occur: {statuses:?}"
    );
    assert_eq!(mock.webhook_count(), 0);
    assert_eq!(mock.counters().injected_server_errors, 30);
    mock.shutdown().await;
}

#[tokio::test]
async fn injected_rate_limits_carry_retry_after_and_the_limit_kind() {
    let faults = Faults {
        rate_limit_rate: 1.0,
        retry_after_secs: 2,
        ..Faults::none()
    };
    let (mock, api) = with_faults(faults).await;
    let reply = api.list("").await;
    reply.assert_error(429, "rate_limited");
    assert_eq!(reply.header("retry-after"), Some("2"));
    assert_eq!(reply.header("monime-rate-limit"), Some("space-limit"));
    assert_eq!(mock.counters().injected_rate_limits, 1);
    mock.shutdown().await;
}

#[tokio::test]
async fn latency_is_added_to_api_requests() {
    let (mock, api) = with_faults(Faults {
        latency: Duration::from_millis(150),
        ..Faults::none()
    })
    .await;
    let started = Instant::now();
    assert_eq!(api.list("").await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    mock.shutdown().await;
}

#[tokio::test]
async fn drop_after_commit_takes_effect_but_never_answers() {
    let (mock, api) = with_faults(Faults {
        drop_after_commit_rate: 1.0,
        ..Faults::none()
    })
    .await;
    let outcome = api
        .request(reqwest::Method::POST, "/v1/webhooks")
        .header("Idempotency-Key", "dropped-1")
        .json(&valid_body())
        .send()
        .await;
    let error = outcome.expect_err("the connection closes without a response");
    assert!(!error.is_timeout(), "{error}");
    assert_eq!(mock.webhook_count(), 1, "the create took effect");
    let counters = mock.counters();
    assert_eq!((counters.creates, counters.dropped_after_commit), (1, 1));
    mock.shutdown().await;
}

fn mixed(seed: u64) -> Faults {
    Faults {
        seed,
        server_error_rate: 0.1,
        rate_limit_rate: 0.1,
        drop_after_commit_rate: 0.1,
        ..Faults::none()
    }
}

async fn status_sequence(seed: u64) -> Vec<Option<u16>> {
    let (mock, api) = with_faults(mixed(seed)).await;
    let mut statuses = Vec::new();
    for _ in 0..40 {
        let outcome = api
            .request(reqwest::Method::GET, "/v1/webhooks")
            .send()
            .await;
        statuses.push(outcome.ok().map(|r| r.status().as_u16()));
    }
    mock.shutdown().await;
    statuses
}

#[tokio::test]
async fn the_same_seed_gives_the_same_faults() {
    let first = status_sequence(7).await;
    assert_eq!(first, status_sequence(7).await);
    assert_ne!(first, status_sequence(8).await);
    assert!(first.contains(&Some(200)) && first.iter().any(|s| *s != Some(200)));
}

/// 200 logical creates, each retried with its key until it succeeds, under 30% faults.
#[tokio::test]
async fn a_thirty_percent_fault_run_leaves_state_consistent_with_the_counters() {
    let (mock, api) = with_faults(mixed(42)).await;
    let mut sent = 0u64;
    let mut answered_ok = 0u64;
    let mut ids = std::collections::BTreeSet::new();
    for _ in 0..200 {
        let key = uuid_key();
        loop {
            sent += 1;
            let outcome = api
                .request(reqwest::Method::POST, "/v1/webhooks")
                .header("Idempotency-Key", &key)
                .json(&valid_body())
                .send()
                .await;
            let Ok(response) = outcome else { continue };
            if response.status() == 200 {
                answered_ok += 1;
                let body: serde_json::Value = response.json().await.unwrap();
                ids.insert(body["result"]["id"].as_str().unwrap().to_owned());
                break;
            }
            assert!([429, 500, 502, 503].contains(&response.status().as_u16()));
        }
    }
    let counters = mock.counters();
    assert_eq!(ids.len(), 200, "each logical create has one id");
    assert_eq!(
        mock.webhook_count(),
        200,
        "no duplicate from a retried dropped response"
    );
    assert_eq!(counters.creates, 200);
    assert_eq!(counters.requests, sent);
    assert_eq!(
        counters.injected_server_errors
            + counters.injected_rate_limits
            + counters.dropped_after_commit
            + answered_ok,
        sent,
        "every request is accounted for: {counters:?}"
    );
    assert!(
        counters.dropped_after_commit > 0 && counters.idempotent_replays > 0,
        "{counters:?}"
    );
    assert!(
        counters.injected_server_errors > 0 && counters.injected_rate_limits > 0,
        "{counters:?}"
    );
    let faulty = sent - answered_ok;
    let share = faulty as f64 / sent as f64;
    assert!(
        (0.2..0.4).contains(&share),
        "about 30% faults, got {share:.2}"
    );
    mock.shutdown().await;
}
