//! The routes: Monime's five webhook operations under `/v1`, and the emulator's own controls
//! under `/_mock` (trigger an event, list delivery attempts, read the counters).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, delete, get, on, patch, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use monime_signature::ObjectRef;
use serde_json::{Value, json};

use crate::delivery;
use crate::error::ApiError;
use crate::server::{Shared, inject_faults, stamp};
use crate::store::{IdempotencyCheck, Unstorable};
use crate::validate;
use monime_webhooks_api::schema::Operation;
use monime_webhooks_api::spec::{operations, params, response_headers};

/// The operations the emulator implements, each with its handler below.
const IMPLEMENTED: [&Operation; 5] = [
    &operations::LIST_WEBHOOKS,
    &operations::CREATE_WEBHOOK,
    &operations::GET_WEBHOOK,
    &operations::UPDATE_WEBHOOK,
    &operations::DELETE_WEBHOOK,
];

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let mut api = Router::new()
        .route(operations::LIST_WEBHOOKS.path, get(list))
        .route(operations::CREATE_WEBHOOK.path, post(create))
        .route(operations::GET_WEBHOOK.path, get(fetch))
        .route(operations::UPDATE_WEBHOOK.path, patch(update))
        .route(operations::DELETE_WEBHOOK.path, delete(remove));
    // An operation the spec gained after this file was written still gets its route, which
    // says what is missing instead of answering 404 or 405.
    for operation in unimplemented_operations() {
        let Some(filter) = Method::from_bytes(operation.method.as_bytes())
            .ok()
            .and_then(|method| MethodFilter::try_from(method).ok())
        else {
            continue;
        };
        api = api.route(
            operation.path,
            on(filter, move || not_implemented(operation)),
        );
    }
    let api = api.route_layer(from_fn_with_state(shared.clone(), inject_faults));
    let controls = Router::new()
        .route("/_mock/events", post(trigger_event))
        .route("/_mock/deliveries", get(deliveries))
        .route("/_mock/deliveries/{id}/resend", post(resend))
        .route("/_mock/stats", get(stats))
        .route("/_mock/", get(crate::dashboard::page))
        .route("/_mock", get(crate::dashboard::page))
        .route("/_mock/webhooks", get(crate::dashboard::webhooks))
        .route_layer(axum::middleware::from_fn(loopback_only));
    api.merge(controls)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(shared.config.body_limit))
        .layer(from_fn_with_state(shared.clone(), stamp))
        .with_state(shared)
}

type Answer = Result<Response, ApiError>;

/// The `/_mock` controls answer only requests addressed by a loopback name, and POSTs from no
/// other origin: a web page that rebinds its own domain to 127.0.0.1, or posts across origins,
/// can neither read the delivery log nor trigger anything.
async fn loopback_only(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if addressed_locally(request.headers()) {
        return next.run(request).await;
    }
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "the /_mock controls answer only on localhost, 127.0.0.1 and [::1], from their own page",
    )
    .into_response()
}

fn addressed_locally(headers: &HeaderMap) -> bool {
    let header = |name| headers.get(name).and_then(|value| value.to_str().ok());
    let host = header(header::HOST).unwrap_or("");
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let same_origin = header(header::ORIGIN).is_none_or(|origin| {
        let origin = origin
            .strip_prefix("http://")
            .or(origin.strip_prefix("https://"));
        origin == Some(host)
    });
    matches!(name, "localhost" | "127.0.0.1" | "[::1]") && same_origin
}

pub(crate) fn success(result: Value) -> Value {
    json!({ "success": true, "messages": [], "result": result })
}

/// Authentication, then the space and version headers every operation carries.
fn caller(shared: &Shared, headers: &HeaderMap) -> Result<String, ApiError> {
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthenticated(
            "missing Authorization header; send `Authorization: Bearer <token>`",
        )
    })?;
    // The scheme is case-insensitive (RFC 9110, section 11.1).
    let token = value
        .to_str()
        .ok()
        .and_then(|text| text.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            ApiError::unauthenticated("malformed Authorization header; expected `Bearer <token>`")
        })?;
    let accepted = if shared.config.tokens.is_empty() {
        token.starts_with("mon_")
    } else {
        shared.config.tokens.iter().any(|t| t == token)
    };
    if !accepted {
        return Err(ApiError::unauthenticated("the access token is not valid"));
    }
    let space = validate::space_id(headers)?;
    validate::monime_version(headers)?;
    Ok(space)
}

/// The JSON body, or `None` when the body is empty and not `required`.
fn json_body(
    shared: &Shared,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    required: bool,
) -> Result<Option<Value>, ApiError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body is larger than {} bytes", shared.config.body_limit),
            )
        } else {
            ApiError::invalid(format!("the body could not be read: {rejection}"))
        }
    })?;
    if bytes.is_empty() && !required {
        return Ok(None);
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::invalid(format!(
            "Content-Type: must be application/json, got `{content_type}`"
        )));
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| ApiError::invalid(format!("the body is not valid JSON: {e}")))
}

const CURSOR_PREFIX: &str = "pos:";

fn encode_cursor(position: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{position}"))
}

fn decode_cursor(text: &str) -> Option<u64> {
    let raw = URL_SAFE_NO_PAD.decode(text).ok()?;
    std::str::from_utf8(&raw)
        .ok()?
        .strip_prefix(CURSOR_PREFIX)?
        .parse()
        .ok()
}

/// The page size when the request names none: the spec's `default` of `limit`.
fn default_limit() -> usize {
    params::LIMIT
        .schema
        .default
        .and_then(|text| text.parse().ok())
        .unwrap_or(1)
}

async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Answer {
    let space = caller(&shared, &headers)?;
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
            .map_err(|e| ApiError::invalid(format!("the query string is malformed: {e}")))?;
    let mut limit = default_limit();
    let mut after = 0u64;
    for (name, value) in pairs {
        match name.as_str() {
            name if name == params::LIMIT.name => {
                validate::query(&params::LIMIT, &value)?;
                limit = value.trim().parse().unwrap_or(limit);
            }
            name if name == params::AFTER.name => {
                validate::query(&params::AFTER, &value)?;
                if !value.is_empty() {
                    // Any string is a schema-valid `after`; one that names no position in
                    // this list is a position that does not exist: 404, not 400.
                    after = decode_cursor(&value).ok_or_else(|| {
                        ApiError::new(
                            StatusCode::NOT_FOUND,
                            "cursor_not_found",
                            "after: not a cursor this API returned; pass `pagination.next` unchanged",
                        )
                    })?;
                }
            }
            _ => {}
        }
    }
    let (items, next) = shared.lock_store().page(&space, after, limit);
    let body = json!({
        "success": true,
        "messages": [],
        "pagination": { "count": items.len(), "next": next.map(encode_cursor) },
        "result": items,
    });
    Ok(axum::Json(body).into_response())
}

async fn create(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let space = caller(&shared, &headers)?;
    let key = validate::idempotency_key(&headers)?;
    let body = json_body(&shared, &headers, body, true)?.unwrap_or(Value::Null);
    validate::body(&operations::CREATE_WEBHOOK, &body)?;
    let now = shared.clock.now();
    let mut store = shared.lock_store();
    match store.check_idempotency(&space, &key, &body, now) {
        IdempotencyCheck::Replay(response) => {
            shared
                .counters
                .idempotent_replays
                .fetch_add(1, Ordering::SeqCst);
            Ok((
                [(response_headers::MONIME_CACHE, "irc")],
                axum::Json(response),
            )
                .into_response())
        }
        IdempotencyCheck::Conflict => Err(ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_key_in_use",
            format!("Idempotency-Key `{key}` was already used with a different request body"),
        )),
        IdempotencyCheck::Fresh => {
            let response = store.create(&space, &body, now, Some((key, body.clone())), success)?;
            shared.counters.creates.fetch_add(1, Ordering::SeqCst);
            Ok(axum::Json(response).into_response())
        }
    }
}

async fn fetch(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Answer {
    let space = caller(&shared, &headers)?;
    let id = webhook_id(id)?;
    let webhook = shared
        .lock_store()
        .get(&space, &id)
        .ok_or_else(|| missing(&id))?;
    Ok(axum::Json(success(webhook)).into_response())
}

async fn update(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let space = caller(&shared, &headers)?;
    let id = webhook_id(id)?;
    // A missing PATCH body is an empty change.
    let body = json_body(&shared, &headers, body, false)?.unwrap_or_else(|| json!({}));
    validate::body(&operations::UPDATE_WEBHOOK, &body)?;
    let change = body.as_object().cloned().unwrap_or_default();
    let now = shared.clock.now();
    let webhook = shared
        .lock_store()
        .update(&space, &id, &change, now)
        .ok_or_else(|| missing(&id))??;
    Ok(axum::Json(success(webhook)).into_response())
}

async fn remove(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Answer {
    let space = caller(&shared, &headers)?;
    let id = webhook_id(id)?;
    if shared.lock_store().delete(&space, &id) {
        Ok(axum::Json(json!({ "success": true, "messages": [] })).into_response())
    } else {
        Err(missing(&id))
    }
}

/// The path id, read only after authentication so that an unauthenticated caller gets the
/// 401 envelope whatever the path holds.
fn webhook_id(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    let Path(id) =
        path.map_err(|rejection| ApiError::invalid(format!("id: {}", rejection.body_text())))?;
    validate::webhook_id(&id)?;
    Ok(id)
}

impl From<Unstorable> for ApiError {
    fn from(Unstorable(reason): Unstorable) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", reason)
    }
}

fn missing(id: &str) -> ApiError {
    ApiError::not_found(format!("no webhook `{id}` in this space"))
}

/// `POST /_mock/events` `{name, object {id, type}, data, set}`: deliver an event to every
/// enabled webhook of the space (`Monime-Space-Id`) subscribed to `name`; `set` changes fields
/// of `data` (or of the sample), checked against the object's type.
async fn trigger_event(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let space = validate::space_id(&headers)?;
    let body = json_body(&shared, &headers, body, true)?.unwrap_or(Value::Null);
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .ok_or_else(|| ApiError::invalid("name: is required, e.g. `payment.completed`"))?;
    let object: ObjectRef = body
        .get("object")
        .cloned()
        .and_then(|object| serde_json::from_value(object).ok())
        .ok_or_else(|| ApiError::invalid("object: must be {\"id\": ..., \"type\": ...}"))?;
    // Without `data`, a realistic object built from the typed objects receivers decode.
    let data = body.get("data").cloned().unwrap_or_else(|| {
        serde_json::to_value(monime_signature::sample(name, &object.id)).unwrap_or_default()
    });
    // `"set": {"data.amount.value": 5000}`: fields changed, checked against the object's type.
    let overrides = match body.get("set") {
        None => Vec::new(),
        Some(Value::Object(set)) => set
            .iter()
            .map(|(path, value)| monime_signature::Override::new(path, value.clone()))
            .collect::<Result<_, _>>()
            .map_err(|e| ApiError::invalid(format!("set: {e}")))?,
        Some(_) => {
            return Err(ApiError::invalid(
                "set: must be {\"data.path\": value, ...}",
            ));
        }
    };
    let data = monime_signature::apply_overrides(&object.kind, data, &overrides)
        .map_err(|e| ApiError::invalid(format!("set: {e}")))?;
    let subscribers = shared.lock_store().subscribers(&space, name);
    let scheduled = delivery::schedule(&shared, subscribers, name, object, data);
    Ok(axum::Json(success(
        json!({ "eventName": name, "deliveries": scheduled }),
    ))
    .into_response())
}

#[derive(serde::Deserialize)]
struct Newest {
    limit: Option<usize>,
}

/// `GET /_mock/deliveries[?limit=N]`: the logged attempts, oldest first (the newest N).
async fn deliveries(
    State(shared): State<Arc<Shared>>,
    axum::extract::Query(newest): axum::extract::Query<Newest>,
) -> Response {
    let attempts: Vec<crate::DeliveryAttempt> = {
        let log = shared.lock_deliveries();
        let skip = newest
            .limit
            .map_or(0, |limit| log.len().saturating_sub(limit));
        log.iter().skip(skip).cloned().collect()
    };
    axum::Json(success(
        serde_json::to_value(attempts).unwrap_or(Value::Null),
    ))
    .into_response()
}

/// `POST /_mock/deliveries/{id}/resend`: sends the body of attempt `id` to its webhook again,
/// signed now, as one new attempt (no retries), and answers with that attempt.
async fn resend(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Answer {
    let original = shared
        .lock_deliveries()
        .iter()
        .find(|attempt| attempt.id == id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("no delivery attempt `{id}` in the log")))?;
    let webhook = shared
        .lock_store()
        .delivery_target(&original.space_id, &original.webhook_id)
        .ok_or_else(|| missing(&original.webhook_id))?;
    let sent = delivery::Sent {
        event_id: &original.event_id,
        event_name: &original.event_name,
        body: original.body.clone(),
        attempt: 0,
    };
    let attempt = delivery::attempt_once(&shared, &webhook, &sent).await;
    Ok(axum::Json(success(
        serde_json::to_value(attempt).unwrap_or(Value::Null),
    ))
    .into_response())
}

async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    let mut counters = serde_json::to_value(shared.counters.snapshot()).unwrap_or(Value::Null);
    counters["webhooks"] = json!(shared.lock_store().webhook_count());
    axum::Json(success(counters)).into_response()
}

/// The spec's operations without a handler here.
pub(crate) fn unimplemented_operations() -> impl Iterator<Item = &'static Operation> {
    operations::ALL.iter().copied().filter(|operation| {
        !IMPLEMENTED
            .iter()
            .any(|known| std::ptr::eq(*known, *operation))
    })
}

async fn not_implemented(operation: &'static Operation) -> ApiError {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "not_implemented",
        format!(
            "the emulator does not implement {} ({} {}) yet: add a handler in \
             crates/monime-mock/src/api.rs",
            operation.id, operation.method, operation.path
        ),
    )
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route for {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed on {}", uri.path()),
    )
}

#[cfg(test)]
mod tests {
    /// A new operation in the spec fails here, naming it and the place to add its handler.
    #[test]
    fn every_operation_of_the_spec_has_a_handler() {
        let missing: Vec<&str> = super::unimplemented_operations()
            .map(|operation| operation.id)
            .collect();
        assert!(
            missing.is_empty(),
            "the emulator has no handler for {missing:?}: add one in \
             crates/monime-mock/src/api.rs"
        );
    }
}
