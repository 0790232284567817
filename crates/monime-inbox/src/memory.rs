//! The in-memory inbox: one process, bounded, each record kept for a TTL.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::Outcome;

/// Event ids processed by this process, each remembered for `ttl` and at most `capacity` of
/// them (the oldest are forgotten first). Cheap to share: wrap it in an `Arc`.
///
/// Monime retries for hours; pick a TTL longer than its retry window (24 h is safe) and a
/// capacity above the events you receive in that time, or accept that a very late retry of
/// an evicted event runs again.
pub struct MemoryInbox {
    capacity: usize,
    ttl: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    in_flight: HashSet<String>,
    /// When each done id expires; `None` when the TTL reaches past what `Instant` can hold.
    done: HashMap<String, Option<Instant>>,
    /// Done ids in the order they completed; all share one TTL, so this is expiry order too.
    order: VecDeque<(String, Option<Instant>)>,
}

/// The answer of [`MemoryInbox::claim`].
#[derive(Debug)]
pub enum Claim<'a> {
    /// Process the event, then [`MemoryClaim::commit`]; dropping the claim releases it.
    Claimed(MemoryClaim<'a>),
    /// Already processed.
    Duplicate,
    /// Being processed by another task right now.
    InProgress,
}

/// The right to process one event. [`MemoryClaim::commit`] records it as processed; dropping
/// it without committing (the handler failed, or panicked) lets a redelivery process it.
pub struct MemoryClaim<'a> {
    inbox: &'a MemoryInbox,
    event_id: String,
    committed: bool,
}

impl MemoryInbox {
    /// An inbox remembering up to `capacity` processed events (at least 1), each for `ttl`
    /// (`Duration::MAX`, or any TTL too long to add to the clock, means for ever).
    pub fn new(capacity: usize, ttl: Duration) -> MemoryInbox {
        MemoryInbox {
            capacity: capacity.max(1),
            ttl,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the maps consistent (each update is one call).
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Claims `event_id` unless it was processed within the TTL or is being processed.
    pub fn claim(&self, event_id: &str) -> Claim<'_> {
        self.claim_at(event_id, Instant::now())
    }

    fn claim_at(&self, event_id: &str, now: Instant) -> Claim<'_> {
        let mut state = self.lock();
        state.expire(now);
        if state.done.contains_key(event_id) {
            return Claim::Duplicate;
        }
        if !state.in_flight.insert(event_id.to_owned()) {
            return Claim::InProgress;
        }
        Claim::Claimed(MemoryClaim {
            inbox: self,
            event_id: event_id.to_owned(),
            committed: false,
        })
    }

    /// Runs `handler` if this delivery claims `event_id`; records the event as processed when
    /// the handler succeeds, and releases it when the handler fails (the error is returned,
    /// and a redelivery will run the handler again).
    pub async fn process<T, E>(
        &self,
        event_id: &str,
        handler: impl AsyncFnOnce() -> Result<T, E>,
    ) -> Result<Outcome<T>, E> {
        match self.claim(event_id) {
            Claim::Duplicate => Ok(Outcome::Duplicate),
            Claim::InProgress => Ok(Outcome::InProgress),
            Claim::Claimed(claim) => {
                let value = handler().await?;
                claim.commit();
                Ok(Outcome::Processed(value))
            }
        }
    }

    /// How many processed events are remembered now.
    pub fn len(&self) -> usize {
        let mut state = self.lock();
        state.expire(Instant::now());
        state.done.len()
    }

    /// Whether no processed event is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn finish(&self, event_id: &str, committed: bool) {
        let mut state = self.lock();
        state.in_flight.remove(event_id);
        if committed {
            let now = Instant::now();
            state.expire(now);
            while state.done.len() >= self.capacity {
                match state.order.pop_front() {
                    Some((oldest, _)) => {
                        state.done.remove(&oldest);
                    }
                    None => break,
                }
            }
            let expires = now.checked_add(self.ttl);
            state.done.insert(event_id.to_owned(), expires);
            state.order.push_back((event_id.to_owned(), expires));
        }
    }
}

impl State {
    fn expire(&mut self, now: Instant) {
        while let Some((_, expires)) = self.order.front() {
            if expires.is_none_or(|expires| expires > now) {
                break;
            }
            if let Some((id, _)) = self.order.pop_front() {
                self.done.remove(&id);
            }
        }
    }
}

impl MemoryClaim<'_> {
    /// The claimed event id.
    pub fn event_id(&self) -> &str {
        &self.event_id
    }

    /// Records the event as processed.
    pub fn commit(mut self) {
        self.committed = true;
        self.inbox.finish(&self.event_id, true);
    }
}

impl Drop for MemoryClaim<'_> {
    fn drop(&mut self) {
        if !self.committed {
            self.inbox.finish(&self.event_id, false);
        }
    }
}

impl fmt::Debug for MemoryInbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryInbox")
            .field("capacity", &self.capacity)
            .field("ttl", &self.ttl)
            .field("remembered", &self.len())
            .finish()
    }
}

impl fmt::Debug for MemoryClaim<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryClaim")
            .field("event_id", &self.event_id)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_expire_after_the_ttl() {
        let inbox = MemoryInbox::new(10, Duration::from_secs(60));
        let start = Instant::now();
        let Claim::Claimed(claim) = inbox.claim_at("wkd-1", start) else {
            panic!("first claim")
        };
        claim.commit();
        assert!(matches!(
            inbox.claim_at("wkd-1", start + Duration::from_secs(30)),
            Claim::Duplicate
        ));
        assert!(matches!(
            inbox.claim_at("wkd-1", start + Duration::from_secs(61)),
            Claim::Claimed(_)
        ));
    }

    #[test]
    fn a_ttl_too_long_for_the_clock_never_expires() {
        let inbox = MemoryInbox::new(10, Duration::MAX);
        let start = Instant::now();
        for round in 0..2 {
            let Claim::Claimed(claim) = inbox.claim_at(&format!("wkd-{round}"), start) else {
                panic!("first claim of round {round}")
            };
            claim.commit();
        }
        for round in 0..2 {
            assert!(matches!(
                inbox.claim_at(
                    &format!("wkd-{round}"),
                    start + Duration::from_secs(1 << 40)
                ),
                Claim::Duplicate
            ));
        }
        assert_eq!(inbox.len(), 2);
    }
}
