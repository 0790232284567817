//! The emulator's in-memory state: webhooks per space in creation order, and each space's
//! idempotency records. Every operation is one short critical section, so a request either
//! takes effect whole or not at all.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use monime_signature::Signer;
use monime_webhooks_api::types::Webhook;
use monime_webhooks_api::{ApiRelease, WebhookVerificationMethod};
use serde_json::{Map, Value};

use crate::validate::{CreateInput, MethodInput, Patch, UpdateInput};

/// How long a successful create is replayed for its `Idempotency-Key`.
pub const IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Debug, Default)]
pub struct Store {
    spaces: HashMap<String, Space>,
    /// Creation sequence shared by all spaces: the stable list order and the cursor position.
    next_seq: u64,
}

#[derive(Debug, Default)]
struct Space {
    webhooks: BTreeMap<u64, StoredWebhook>,
    seq_by_id: HashMap<String, u64>,
    idempotency: HashMap<String, Replay>,
}

#[derive(Debug, Clone)]
pub struct StoredWebhook {
    pub id: String,
    name: String,
    pub url: String,
    pub enabled: bool,
    pub events: Option<Vec<String>>,
    api_release: String,
    method: Option<StoredMethod>,
    pub headers: Option<BTreeMap<String, String>>,
    alert_emails: Option<Vec<String>>,
    metadata: Option<Map<String, Value>>,
    create_time: SystemTime,
    update_time: Option<SystemTime>,
}

#[derive(Debug, Clone)]
enum StoredMethod {
    Hs256 {
        secret: String,
        signer: Signer,
    },
    /// Monime keeps the private key; the emulator does too, to sign deliveries.
    Es256 {
        signer: Signer,
        public_key_pem: String,
    },
}

/// A successful create kept for replay under its idempotency key.
#[derive(Debug, Clone)]
pub struct Replay {
    pub request: Value,
    pub response: Value,
    at: SystemTime,
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

impl StoredWebhook {
    /// The webhook as the API returns it, built from the generated type so the shape follows
    /// the spec.
    pub fn to_json(&self) -> Value {
        let method = self.method.as_ref().map(|method| match method {
            StoredMethod::Hs256 { secret, .. } => WebhookVerificationMethod::Hs256 {
                secret: Some(secret.clone()),
            },
            StoredMethod::Es256 { public_key_pem, .. } => WebhookVerificationMethod::Es256 {
                public_key: Some(public_key_pem.clone()),
            },
        });
        let webhook = Webhook {
            id: Some(self.id.clone()),
            name: Some(self.name.clone()),
            url: Some(self.url.clone()),
            enabled: Some(self.enabled),
            events: self.events.clone(),
            api_release: self.api_release.parse::<ApiRelease>().ok(),
            verification_method: method,
            headers: self.headers.clone(),
            alert_emails: self.alert_emails.clone(),
            create_time: Some(DateTime::<Utc>::from(self.create_time)),
            update_time: self.update_time.map(DateTime::<Utc>::from),
            metadata: self.metadata.clone(),
        };
        let mut json = serde_json::to_value(webhook).unwrap_or(Value::Null);
        // Nullable fields are sent as null rather than left out, as Monime does.
        if let Value::Object(map) = &mut json {
            for key in [
                "events",
                "verificationMethod",
                "headers",
                "alertEmails",
                "updateTime",
                "metadata",
            ] {
                map.entry(key).or_insert(Value::Null);
            }
        }
        json
    }

    /// The key deliveries are signed with, if the webhook has a verification method.
    pub fn signer(&self) -> Option<&Signer> {
        self.method.as_ref().map(|method| match method {
            StoredMethod::Hs256 { signer, .. } | StoredMethod::Es256 { signer, .. } => signer,
        })
    }
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
        input: CreateInput,
        now: SystemTime,
        idempotency: Option<(String, Value)>,
        envelope: impl FnOnce(Value) -> Value,
    ) -> Value {
        self.next_seq += 1;
        let seq = self.next_seq;
        let method = input.method.map(|method| match method {
            MethodInput::Hs256 { secret } => {
                // Validation guaranteed 32..=256 characters, so the key is usable.
                let signer = Signer::hs256(&secret).expect("validated HS256 secret");
                StoredMethod::Hs256 { secret, signer }
            }
            MethodInput::Es256 => {
                let signer = Signer::generate_es256();
                let public_key_pem = signer.public_key_pem().unwrap_or_default();
                StoredMethod::Es256 {
                    signer,
                    public_key_pem,
                }
            }
        });
        let webhook = StoredWebhook {
            id: format!("whk-{}", uuid::Uuid::new_v4().simple()),
            name: input.name,
            url: input.url,
            enabled: input.enabled,
            events: input.events,
            api_release: input.api_release,
            method,
            headers: input.headers,
            alert_emails: input.alert_emails,
            metadata: input.metadata,
            create_time: now,
            update_time: None,
        };
        let response = envelope(webhook.to_json());
        let space = self.spaces.entry(space.to_owned()).or_default();
        space.seq_by_id.insert(webhook.id.clone(), seq);
        space.webhooks.insert(seq, webhook);
        if let Some((key, request)) = idempotency {
            // Forget expired records now and then (when the count reaches a power of two), so
            // a long run does not keep every key forever; amortised, it costs O(1) a create.
            let count = space.idempotency.len();
            if count >= 1024 && count.is_power_of_two() {
                space.idempotency.retain(|_, replay| replay.is_live(now));
            }
            space.idempotency.insert(
                key,
                Replay {
                    request,
                    response: response.clone(),
                    at: now,
                },
            );
        }
        response
    }

    pub fn get(&self, space: &str, id: &str) -> Option<&StoredWebhook> {
        let space = self.spaces.get(space)?;
        space.webhooks.get(space.seq_by_id.get(id)?)
    }

    pub fn update(
        &mut self,
        space: &str,
        id: &str,
        change: UpdateInput,
        now: SystemTime,
    ) -> Option<&StoredWebhook> {
        let space = self.spaces.get_mut(space)?;
        let webhook = space.webhooks.get_mut(space.seq_by_id.get(id)?)?;
        if let Some(name) = change.name {
            webhook.name = name;
        }
        if let Some(url) = change.url {
            webhook.url = url;
        }
        if let Some(enabled) = change.enabled {
            webhook.enabled = enabled;
        }
        if let Some(release) = change.api_release {
            webhook.api_release = release;
        }
        apply(&mut webhook.events, change.events);
        apply(&mut webhook.headers, change.headers);
        apply(&mut webhook.alert_emails, change.alert_emails);
        apply(&mut webhook.metadata, change.metadata);
        webhook.update_time = Some(now);
        Some(webhook)
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
            .map(|(seq, webhook)| (*seq, webhook.to_json()))
            .collect();
        let next = match (items.last(), range.next()) {
            (Some((last, _)), Some(_)) => Some(*last),
            _ => None,
        };
        (items.into_iter().map(|(_, json)| json).collect(), next)
    }

    /// Enabled webhooks of `space` subscribed to `event`.
    pub fn subscribers(&self, space: &str, event: &str) -> Vec<StoredWebhook> {
        let Some(space) = self.spaces.get(space) else {
            return Vec::new();
        };
        space
            .webhooks
            .values()
            .filter(|w| {
                w.enabled
                    && w.events
                        .as_ref()
                        .is_some_and(|e| e.iter().any(|n| n == event))
            })
            .cloned()
            .collect()
    }

    /// How many webhooks exist, in all spaces.
    pub fn webhook_count(&self) -> usize {
        self.spaces.values().map(|space| space.webhooks.len()).sum()
    }
}

fn apply<T>(slot: &mut Option<T>, patch: Patch<T>) {
    match patch {
        Patch::Unchanged => {}
        Patch::Clear => *slot = None,
        Patch::Set(value) => *slot = Some(value),
    }
}
