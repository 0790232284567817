//! The emulator's in-memory state: webhooks per space in creation order, and each space's
//! idempotency records. Every operation is one short critical section, so a request either
//! takes effect whole or not at all.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use monime_signature::Signer;
use monime_webhooks_api::WebhookVerificationMethod;
use monime_webhooks_api::schema::{Kind, Object, Property};
use monime_webhooks_api::spec::schemas;
use monime_webhooks_api::types::{CreateWebhookRequest, Webhook};
use serde_json::{Map, Value};

/// How long a successful create is replayed for its `Idempotency-Key`.
pub const IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// The most idempotency records a space keeps; past it the oldest is forgotten first, so a
/// long run holds bounded memory. A retry of a forgotten key creates anew, as after 24 h.
pub const IDEMPOTENCY_RECORDS_PER_SPACE: usize = 10_000;

#[derive(Debug, Default)]
pub struct Store {
    spaces: HashMap<String, Space>,
    /// Creation sequence shared by all spaces: the stable list order and the cursor position.
    next_seq: u64,
}

#[derive(Debug, Default)]
struct Space {
    webhooks: BTreeMap<u64, Entry>,
    seq_by_id: HashMap<String, u64>,
    idempotency: HashMap<String, Replay>,
    /// Keys in the order they were recorded, with the sequence of that record: the oldest is
    /// forgotten first (a key recorded again after expiry has a newer sequence).
    recorded: VecDeque<(String, u64)>,
}

/// A webhook as the API returns it (the spec's own type), and the key its deliveries are
/// signed with (Monime keeps the ES256 private key; the emulator does too).
#[derive(Clone)]
struct Entry {
    id: String,
    webhook: Webhook,
    signer: Option<Signer>,
}

/// What a delivery needs of a stored webhook.
#[derive(Clone)]
pub struct StoredWebhook {
    pub id: String,
    pub space_id: String,
    pub url: String,
    pub headers: Option<BTreeMap<String, String>>,
    signer: Option<Signer>,
}

impl StoredWebhook {
    /// The key deliveries are signed with, if the webhook has a verification method.
    pub fn signer(&self) -> Option<&Signer> {
        self.signer.as_ref()
    }
}

/// Why a body the validator accepted cannot be stored: the generated types and the spec tables
/// disagree, which regeneration should have prevented.
#[derive(Debug)]
pub struct Unstorable(pub String);

/// The spec's `Webhook` object schema.
fn webhook_schema() -> &'static Object {
    match schemas::WEBHOOK.object() {
        Some(object) => object,
        None => unreachable!("the spec's Webhook is an object"),
    }
}

impl Space {
    /// Drops expired records, and the oldest ones while the space is at its limit. Records are
    /// kept in the order they were made, so both are at the front: O(1) a create, amortised.
    fn forget_old_records(&mut self, now: SystemTime) {
        while let Some((key, seq)) = self.recorded.front() {
            let current = self.idempotency.get(key).filter(|r| r.seq == *seq);
            let stale = current.is_none_or(|record| !record.is_live(now));
            if !stale && self.recorded.len() < IDEMPOTENCY_RECORDS_PER_SPACE {
                break;
            }
            if current.is_some() {
                self.idempotency.remove(key);
            }
            self.recorded.pop_front();
        }
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("id", &self.id)
            .field("url", &self.webhook.url)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for StoredWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values are often credentials of the receiver.
        let names: Vec<&String> = self.headers.iter().flat_map(|h| h.keys()).collect();
        f.debug_struct("StoredWebhook")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("header_names", &names)
            .field("signed", &self.signer.is_some())
            .finish()
    }
}

impl Entry {
    /// The webhook as the API returns it. Nullable fields are sent as null rather than left
    /// out, as Monime does.
    fn to_json(&self) -> Value {
        let mut json = serde_json::to_value(&self.webhook).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut json {
            for property in webhook_schema().properties {
                if property.schema.nullable {
                    map.entry(property.name).or_insert(Value::Null);
                }
            }
        }
        json
    }

    fn delivery_view(&self, space: &str) -> StoredWebhook {
        StoredWebhook {
            id: self.id.clone(),
            space_id: space.to_owned(),
            url: self.webhook.url.clone(),
            headers: self.webhook.headers.clone(),
            signer: self.signer.clone(),
        }
    }
}

/// The webhook a validated create body makes: every property is copied through the generated
/// types into the `Webhook`, so a property the spec adds to both is stored and returned after
/// regeneration alone. A property the `Webhook` lacks is refused, never dropped.
fn new_webhook(body: &Value, id: String, now: SystemTime) -> Result<Entry, Unstorable> {
    let request: CreateWebhookRequest = serde_json::from_value(body.clone()).map_err(|e| {
        Unstorable(format!(
            "the create body does not fit the generated type: {e}"
        ))
    })?;
    let typed = serde_json::to_value(&request)
        .map_err(|e| Unstorable(format!("the create body cannot be re-encoded: {e}")))?;
    let mut kept = Map::new();
    if let Value::Object(fields) = typed {
        for (key, value) in fields {
            if webhook_schema().property(&key).is_none() {
                // Never drop what the caller sent: the spec must say where it is kept.
                return Err(Unstorable(format!(
                    "the create body's `{key}` has no property in the spec's Webhook; add it \
                     there, or teach crates/monime-mock/src/store.rs where it goes"
                )));
            }
            kept.insert(key, value);
        }
    }
    // A `null` in the create body, or a property left out, means what `null` means in an
    // update.
    for property in webhook_schema().properties {
        if matches!(kept.get(property.name), None | Some(Value::Null)) {
            match cleared(property, None) {
                Some(value) => kept.insert(property.name.to_owned(), value),
                None => kept.remove(property.name),
            };
        }
    }
    // What Monime fills in itself: the id and creation time, and the defaults of what the
    // create body may leave out.
    kept.insert("id".to_owned(), Value::String(id.clone()));
    kept.insert(
        "createTime".to_owned(),
        serde_json::to_value(DateTime::<Utc>::from(now)).unwrap_or(Value::Null),
    );
    kept.entry("enabled").or_insert(Value::Bool(true));
    let mut webhook: Webhook = serde_json::from_value(Value::Object(kept))
        .map_err(|e| Unstorable(format!("the create body does not fit Webhook: {e}")))?;
    let signer = match &mut webhook.verification_method {
        Some(WebhookVerificationMethod::Hs256 {
            secret: Some(secret),
        }) => Some(
            Signer::hs256(secret)
                .map_err(|e| Unstorable(format!("the HS256 secret is unusable: {e}")))?,
        ),
        Some(WebhookVerificationMethod::Es256 { public_key }) => {
            let signer = Signer::generate_es256();
            *public_key = signer.public_key_pem();
            Some(signer)
        }
        _ => None,
    };
    webhook.update_time = None;
    Ok(Entry {
        id,
        webhook,
        signer,
    })
}

/// What a `null` sent for `property` leaves in the stored webhook: `None` (the field is
/// absent, read back as null) where the `Webhook` can hold null, an empty list for a list it
/// always carries (a webhook "with no events" has `events: []`), and the value unchanged
/// otherwise (`Some(current)`).
fn cleared(property: &Property, current: Option<&Value>) -> Option<Value> {
    if property.schema.nullable {
        None
    } else if matches!(property.schema.kind, Kind::Array { .. }) {
        Some(Value::Array(Vec::new()))
    } else {
        current.cloned()
    }
}

/// Applies a validated PATCH body: a value replaces the field; `null` clears it as
/// [`cleared`] says.
fn patched(webhook: &Webhook, change: &Map<String, Value>) -> Result<Webhook, Unstorable> {
    let mut json = match serde_json::to_value(webhook) {
        Ok(Value::Object(map)) => map,
        _ => return Err(Unstorable("the webhook cannot be re-encoded".to_owned())),
    };
    for (key, value) in change {
        let Some(property) = webhook_schema().property(key) else {
            return Err(Unstorable(format!(
                "`{key}` is in the update body but not in Webhook"
            )));
        };
        let kept = match value {
            Value::Null => cleared(property, json.get(key)),
            value => Some(value.clone()),
        };
        match kept {
            Some(value) => json.insert(key.clone(), value),
            None => json.remove(key),
        };
    }
    serde_json::from_value(Value::Object(json))
        .map_err(|e| Unstorable(format!("the change does not fit Webhook: {e}")))
}

/// A successful create kept for replay under its idempotency key. `Debug` shows no body: the
/// request holds the HS256 secret.
#[derive(Clone)]
pub struct Replay {
    pub request: Value,
    pub response: Value,
    at: SystemTime,
    seq: u64,
}

impl fmt::Debug for Replay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replay")
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

impl Replay {
    /// Whether the record is still within the 24 h replay window at `now`.
    fn is_live(&self, now: SystemTime) -> bool {
        now.duration_since(self.at)
            .map_or(true, |age| age < IDEMPOTENCY_WINDOW)
    }
}

/// The outcome of looking up an idempotency key.
#[derive(Debug)]
pub enum IdempotencyCheck {
    /// No live record: go ahead and create.
    Fresh,
    /// The same request within the window: answer with the stored response.
    Replay(Value),
    /// The key was used with a different body.
    Conflict,
}

impl Store {
    pub fn check_idempotency(
        &mut self,
        space: &str,
        key: &str,
        request: &Value,
        now: SystemTime,
    ) -> IdempotencyCheck {
        let Some(space) = self.spaces.get_mut(space) else {
            return IdempotencyCheck::Fresh;
        };
        let live = space
            .idempotency
            .get(key)
            .filter(|replay| replay.is_live(now));
        match live {
            None => {
                space.idempotency.remove(key);
                IdempotencyCheck::Fresh
            }
            Some(replay) if &replay.request == request => {
                IdempotencyCheck::Replay(replay.response.clone())
            }
            Some(_) => IdempotencyCheck::Conflict,
        }
    }

    /// Creates the webhook and, under `idempotency`, records the response for replay: both in
    /// one step, so a retry after a lost response finds the record.
    pub fn create(
        &mut self,
        space: &str,
        body: &Value,
        now: SystemTime,
        idempotency: Option<(String, Value)>,
        envelope: impl FnOnce(Value) -> Value,
    ) -> Result<Value, Unstorable> {
        let entry = new_webhook(body, format!("whk-{}", uuid::Uuid::new_v4().simple()), now)?;
        self.next_seq += 1;
        let seq = self.next_seq;
        let response = envelope(entry.to_json());
        let space = self.spaces.entry(space.to_owned()).or_default();
        space.seq_by_id.insert(entry.id.clone(), seq);
        space.webhooks.insert(seq, entry);
        if let Some((key, request)) = idempotency {
            space.forget_old_records(now);
            space.recorded.push_back((key.clone(), seq));
            space.idempotency.insert(
                key,
                Replay {
                    request,
                    response: response.clone(),
                    at: now,
                    seq,
                },
            );
        }
        Ok(response)
    }

    /// The webhook `id` of `space` as the API returns it.
    pub fn get(&self, space: &str, id: &str) -> Option<Value> {
        let space = self.spaces.get(space)?;
        space
            .webhooks
            .get(space.seq_by_id.get(id)?)
            .map(Entry::to_json)
    }

    /// Applies a validated change; `None` when there is no such webhook.
    pub fn update(
        &mut self,
        space: &str,
        id: &str,
        change: &Map<String, Value>,
        now: SystemTime,
    ) -> Option<Result<Value, Unstorable>> {
        let space = self.spaces.get_mut(space)?;
        let entry = space.webhooks.get_mut(space.seq_by_id.get(id)?)?;
        Some(patched(&entry.webhook, change).map(|mut webhook| {
            webhook.update_time = Some(DateTime::<Utc>::from(now));
            entry.webhook = webhook;
            entry.to_json()
        }))
    }

    pub fn delete(&mut self, space: &str, id: &str) -> bool {
        let Some(space) = self.spaces.get_mut(space) else {
            return false;
        };
        match space.seq_by_id.remove(id) {
            Some(seq) => space.webhooks.remove(&seq).is_some(),
            None => false,
        }
    }

    /// Up to `limit` webhooks created after position `after`, in creation order, and the
    /// position to continue from when more remain.
    pub fn page(&self, space: &str, after: u64, limit: usize) -> (Vec<Value>, Option<u64>) {
        let Some(space) = self.spaces.get(space) else {
            return (Vec::new(), None);
        };
        let mut range = space.webhooks.range(after.saturating_add(1)..);
        let items: Vec<(u64, Value)> = range
            .by_ref()
            .take(limit)
            .map(|(seq, entry)| (*seq, entry.to_json()))
            .collect();
        let next = match (items.last(), range.next()) {
            (Some((last, _)), Some(_)) => Some(*last),
            _ => None,
        };
        (items.into_iter().map(|(_, json)| json).collect(), next)
    }

    /// Enabled webhooks of `space` subscribed to `event`.
    pub fn subscribers(&self, space_id: &str, event: &str) -> Vec<StoredWebhook> {
        let Some(space) = self.spaces.get(space_id) else {
            return Vec::new();
        };
        space
            .webhooks
            .values()
            .filter(|entry| {
                entry.webhook.enabled && entry.webhook.events.iter().any(|n| n == event)
            })
            .map(|entry| entry.delivery_view(space_id))
            .collect()
    }

    /// Webhook `id` of `space` as deliveries use it, enabled or not (a resend is asked for).
    pub fn delivery_target(&self, space: &str, id: &str) -> Option<StoredWebhook> {
        let entries = self.spaces.get(space)?;
        Some(
            entries
                .webhooks
                .get(entries.seq_by_id.get(id)?)?
                .delivery_view(space),
        )
    }

    /// The webhooks the dashboard shows (of `space`, or of every space): what identifies them
    /// and where they deliver, never a secret or a header value.
    pub fn overview(&self, space: Option<&str>) -> Vec<Value> {
        let mut spaces: Vec<(&String, &Space)> = self
            .spaces
            .iter()
            .filter(|(id, _)| space.is_none_or(|wanted| wanted == id.as_str()))
            .collect();
        spaces.sort_by(|a, b| a.0.cmp(b.0));
        spaces
            .into_iter()
            .flat_map(|(space_id, space)| {
                space.webhooks.values().map(move |entry| {
                    serde_json::json!({
                        "spaceId": space_id,
                        "id": entry.id,
                        "name": entry.webhook.name,
                        "url": entry.webhook.url,
                        "events": entry.webhook.events,
                        "enabled": entry.webhook.enabled,
                    })
                })
            })
            .collect()
    }

    /// How many webhooks exist, in all spaces.
    pub fn webhook_count(&self) -> usize {
        self.spaces.values().map(|space| space.webhooks.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use serde_json::json;

    use super::{IDEMPOTENCY_RECORDS_PER_SPACE, IdempotencyCheck, Store};

    fn body(name: &str) -> serde_json::Value {
        json!({ "name": name, "url": "https://x.example", "apiRelease": "caph", "events": ["a.b"],
                "verificationMethod": { "type": "HS256", "secret": "test_secret_for_vector_0123456789abcdef" } })
    }

    /// A space keeps at most its limit of records, the newest; and no record prints the secret.
    #[test]
    fn idempotency_records_stay_bounded_oldest_first() {
        let mut store = Store::default();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let total = IDEMPOTENCY_RECORDS_PER_SPACE + 5;
        for i in 0..total {
            let request = body(&format!("n{i}"));
            store
                .create(
                    "spc-a",
                    &request,
                    now,
                    Some((format!("key-{i}"), request.clone())),
                    |v| v,
                )
                .unwrap();
        }
        let space = &store.spaces["spc-a"];
        assert_eq!(space.idempotency.len(), IDEMPOTENCY_RECORDS_PER_SPACE);
        assert!(
            !space.idempotency.contains_key("key-0"),
            "the oldest is forgotten first"
        );
        assert!(
            space
                .idempotency
                .contains_key(&format!("key-{}", total - 1))
        );
        let last = body(&format!("n{}", total - 1));
        assert!(matches!(
            store.check_idempotency("spc-a", &format!("key-{}", total - 1), &last, now),
            IdempotencyCheck::Replay(_)
        ));
        let debug = format!(
            "{:?}",
            store.spaces["spc-a"].idempotency.values().next().unwrap()
        );
        assert!(!debug.contains("test_secret"), "{debug}");
    }
    use monime_webhooks_api::spec::operations;

    use super::webhook_schema;

    /// Every property a create or an update can send has a home in the `Webhook`; a spec change
    /// that breaks this fails here, naming the property.
    #[test]
    fn every_request_property_is_kept_by_the_webhook() {
        for operation in [&operations::CREATE_WEBHOOK, &operations::UPDATE_WEBHOOK] {
            let Some(body) = operation.body.and_then(|b| b.object()) else {
                panic!("{} has an object body", operation.id);
            };
            for property in body.properties {
                assert!(
                    webhook_schema().property(property.name).is_some(),
                    "{}'s `{}` has no property in Webhook",
                    operation.id,
                    property.name
                );
            }
        }
    }
}
