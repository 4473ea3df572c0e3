//! Reference solution (for maintainers and `lab grade --reference`). Try the exercise before
//! reading it.

use sim::hooks::Vote;
use std::collections::BTreeSet;

/// ZooKeeper 3.4's `totalOrderPredicate`: higher epoch, then higher zxid, then higher id.
pub fn total_order_predicate(new: &Vote, cur: &Vote) -> bool {
    new.peer_epoch > cur.peer_epoch
        || (new.peer_epoch == cur.peer_epoch
            && (new.zxid > cur.zxid || (new.zxid == cur.zxid && new.leader > cur.leader)))
}

/// `QuorumMaj.containsQuorum`: `set.size() > half`, with `half = n / 2`.
pub fn contains_quorum(ackers: &BTreeSet<u64>, voting_members: usize) -> bool {
    ackers.len() > voting_members / 2
}
