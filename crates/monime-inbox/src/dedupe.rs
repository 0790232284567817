//! What makes two deliveries the same event.

use std::borrow::Cow;

use monime_signature::Event;

/// The key an inbox or a queue deduplicates deliveries by.
///
/// Monime gives each event one id and delivers it until it is acknowledged, so the event id
/// is the right key in almost every case. One case needs another: while a webhook's secret
/// is rotated, the old and the new webhook are both registered, and each delivers the same
/// payment as *its own* event, with its own event id. Keyed by event id, both are processed.
///
/// [`DedupeKey::ObjectTransition`] keys by `object.type`, `object.id` and the event name,
/// which both webhooks share. Use it only for events that happen once per object, such as
/// `payment.completed` or `payout.failed`: an object that can go through the same
/// transition twice (a payment code paid more than once, `payment_code.processed`) would
/// have its second event dropped. Keep [`DedupeKey::EventId`] for those.
///
/// ```
/// use monime_inbox::DedupeKey;
/// use monime_signature::Event;
///
/// let body = br#"{"apiVersion":"caph.2025-08-23","event":{"id":"wkd-1","name":"payment.completed","timestamp":"1771803194"},"object":{"id":"pay-7","type":"payment"},"data":{}}"#;
/// let event = Event::parse(body)?;
/// assert_eq!(DedupeKey::EventId.of(&event), "wkd-1");
/// assert_eq!(DedupeKey::ObjectTransition.of(&event), "payment:pay-7:payment.completed");
/// # Ok::<(), monime_signature::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DedupeKey {
    /// The event id (`wkd-...`).
    #[default]
    EventId,
    /// `<object.type>:<object.id>:<event name>`, the same for one transition of one object
    /// whichever webhook delivers it.
    ObjectTransition,
}

impl DedupeKey {
    /// The key of `event`.
    pub fn of(self, event: &Event) -> Cow<'_, str> {
        match self {
            DedupeKey::EventId => Cow::Borrowed(&event.id),
            DedupeKey::ObjectTransition => Cow::Owned(format!(
                "{}:{}:{}",
                event.object.kind, event.object.id, event.name
            )),
        }
    }
}
