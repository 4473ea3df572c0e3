//! Your FastLeaderElection rules. Edit this file (only this one), then run
//! `cargo run --release -p lab -- grade fle-vote-order`.

use sim::hooks::Vote;
use std::collections::BTreeSet;

/// `FastLeaderElection.totalOrderPredicate`: does the vote `new` (received from a peer) beat
/// `cur` (this server's current proposal)? A `Vote` proposes a leader (`leader`, its server id)
/// with that server's last logged transaction id (`zxid`) and its current epoch
/// (`peer_epoch`). Return `true` only if `new` is strictly better.
pub fn total_order_predicate(new: &Vote, cur: &Vote) -> bool {
    let _ = (new, cur);
    todo!("totalOrderPredicate: compare the epochs first, then the zxids, then the server ids")
}

/// `QuorumMaj.containsQuorum`: are the servers in `ackers` (the ones whose votes agree) a
/// quorum of an ensemble of `voting_members` servers?
pub fn contains_quorum(ackers: &BTreeSet<u64>, voting_members: usize) -> bool {
    let _ = (ackers, voting_members);
    todo!("containsQuorum: a strict majority of the voting members")
}
