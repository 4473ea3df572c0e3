//! FastLeaderElection's two decisions as a plug-in point: which vote wins (`totalOrderPredicate`)
//! and which set of agreeing servers is a quorum (`QuorumMaj.containsQuorum`). [`crate::election`]
//! re-exports them; they live apart from it because [`crate::quorum_peer::QuorumPeer`] holds one
//! and the election takes the peer.

use super::proto::Vote;
use std::collections::BTreeSet;

/// `totalOrderPredicate`: does `new` beat `cur`?
pub fn total_order_predicate(new: &Vote, cur: &Vote) -> bool {
    (new.peer_epoch, new.zxid, new.leader) > (cur.peer_epoch, cur.zxid, cur.leader)
}

/// FastLeaderElection's two decisions, a plug-in point of the graded exercises. The peer is
/// handed one when it is built ([`crate::quorum_peer::QuorumPeer::new`]); [`DefaultVoteOrder`]
/// is 3.4.6's.
pub trait VoteOrder: Send + Sync {
    /// `totalOrderPredicate`: does the received vote `new` beat the current proposal `cur`?
    fn total_order_predicate(&self, new: &Vote, cur: &Vote) -> bool;
    /// `QuorumMaj.containsQuorum`: do the servers in `ackers` (those whose votes agree) form a
    /// quorum of an ensemble of `voting_members` servers?
    fn contains_quorum(&self, ackers: &BTreeSet<u64>, voting_members: usize) -> bool;
}

/// ZooKeeper 3.4.6's vote order ([`total_order_predicate`]) and majority quorums (`QuorumMaj`).
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultVoteOrder;

impl VoteOrder for DefaultVoteOrder {
    fn total_order_predicate(&self, new: &Vote, cur: &Vote) -> bool {
        total_order_predicate(new, cur)
    }

    fn contains_quorum(&self, ackers: &BTreeSet<u64>, voting_members: usize) -> bool {
        ackers.len() > voting_members / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vote_order_is_epoch_then_zxid_then_id() {
        let v = |leader, zxid, peer_epoch| Vote { leader, zxid, peer_epoch };
        assert!(total_order_predicate(&v(1, 0, 2), &v(3, 100, 1)));
        assert!(total_order_predicate(&v(1, 5, 1), &v(3, 4, 1)));
        assert!(total_order_predicate(&v(3, 5, 1), &v(2, 5, 1)));
        assert!(!total_order_predicate(&v(2, 5, 1), &v(2, 5, 1)));
    }
}
