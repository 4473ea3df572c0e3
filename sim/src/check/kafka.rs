//! Kafka invariant checkers over the trace. STUB: being written by a helper.

use super::CheckResult;
use crate::trace::Event;

macro_rules! stub {
    ($($name:ident),*) => {$(
        /// See the module doc.
        pub fn $name(events: &[Event]) -> CheckResult {
            let _ = events;
            CheckResult::new(stringify!($name), vec!["not implemented".into()], String::new())
        }
    )*};
}
stub!(no_acked_loss, no_duplicates, offsets_consistent, single_leader_per_epoch, monotonic_hw, consumer_order_per_partition);
