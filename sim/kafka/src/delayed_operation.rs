//! `kafka.server.DelayedOperationPurgatory`: where requests that cannot be answered yet wait —
//! an acks=all produce until the high watermark passes its records (`DelayedProduce`), a fetch
//! until it has `min_bytes` or something it reads from moved (`DelayedFetch`) — each until its
//! own timeout at the latest.
//!
//! As in Kafka, whatever may complete a waiting operation (an append, a high watermark move, a
//! leadership change) calls [`DelayedOperationPurgatory::check_and_complete`]; each waiting
//! operation then runs its `tryComplete` test again. One purgatory serves both kinds here: a
//! broker wakes them all on every change, and each test is cheap (no log read until an end
//! offset moved). The timeouts share one [`TimeoutTimer`] per broker (see there why).

use madsim::time::Instant;
use sim_core::hw::{Clock, TimeoutAt, TimeoutTimer};
use tokio::sync::futures::Notified;
use tokio::sync::Notify;

/// A broker's purgatory for delayed produce and fetch requests.
pub struct DelayedOperationPurgatory {
    /// Woken on every append, HW change and leadership change.
    changed: Notify,
    /// The waiting operations' timeouts.
    timeouts: TimeoutTimer,
    clock: Clock,
}

impl DelayedOperationPurgatory {
    /// An empty purgatory on the current simulation's clock.
    pub fn new() -> Self {
        DelayedOperationPurgatory {
            changed: Notify::new(),
            timeouts: TimeoutTimer::default(),
            clock: Clock::current(),
        }
    }

    /// `checkAndComplete`: something changed; every waiting operation tries to complete.
    pub fn check_and_complete(&self) {
        self.changed.notify_waiters();
    }

    /// A watch for the next [`Self::check_and_complete`]. Taken before an operation's test, so
    /// a change between the test and the wait is not missed (`tryCompleteElseWatch`).
    pub fn watch(&self) -> Notified<'_> {
        self.changed.notified()
    }

    /// An operation's expiration at `deadline`.
    pub fn expiration(&self, deadline: Instant) -> TimeoutAt<'_> {
        self.timeouts.at(&self.clock, deadline)
    }
}

impl Default for DelayedOperationPurgatory {
    fn default() -> Self {
        Self::new()
    }
}
