//! `QuorumPeer`: one server of the ensemble, as the handle its tasks share.
//!
//! The client connections, the election workers and the current role each hold a clone of the
//! peer; all of them share one [`PeerState`] behind one mutex ([`QuorumPeer::lock`]), and the
//! elections use the [`VoteOrder`] the peer was built with. The accessors are the real class's
//! (`getPeerState`, `getCurrentVote`, `getCurrentEpoch`, …). The main loop, [`QuorumPeer::start`]
//! and [`QuorumPeer::run`], is in [`crate::quorum_peer_main`]: it drives the election and the ZAB
//! roles, which take this handle, so it cannot live in a file they import.

use super::persistence::PersistError;
use super::proto::{ServerState, Vote};
use super::server::PeerState;
use super::vote_order::VoteOrder;
use sim_core::trace::lock;
use std::sync::{Arc, Mutex, MutexGuard};

/// A server of the ensemble (`QuorumPeer`): a cheap handle to the state its tasks share, with the
/// vote order its elections use.
#[derive(Clone)]
pub struct QuorumPeer {
    inner: Arc<Inner>,
}

struct Inner {
    my_id: u64,
    state: Mutex<PeerState>,
    vote_order: Arc<dyn VoteOrder>,
}

impl QuorumPeer {
    /// A peer over a loaded database; `vote_order` decides its elections (the exercises' hook).
    pub fn new(state: PeerState, vote_order: Arc<dyn VoteOrder>) -> Self {
        QuorumPeer {
            inner: Arc::new(Inner { my_id: state.myid, state: Mutex::new(state), vote_order }),
        }
    }

    /// The shared state. Hold the guard only between awaits, never across one.
    pub fn lock(&self) -> MutexGuard<'_, PeerState> {
        lock(&self.inner.state)
    }

    /// `getId`: this server's id (`myid`).
    pub fn my_id(&self) -> u64 {
        self.inner.my_id
    }

    /// The vote order and quorum check FastLeaderElection uses.
    pub fn vote_order(&self) -> &dyn VoteOrder {
        self.inner.vote_order.as_ref()
    }

    /// `getPeerState`: LOOKING, FOLLOWING or LEADING.
    pub fn get_peer_state(&self) -> ServerState {
        self.lock().state
    }

    /// `setPeerState`.
    pub fn set_peer_state(&self, state: ServerState) {
        self.lock().state = state;
    }

    /// `getCurrentVote`: the vote this peer proposes or settled on.
    pub fn get_current_vote(&self) -> Vote {
        self.lock().current_vote
    }

    /// `setCurrentVote`.
    pub fn set_current_vote(&self, vote: Vote) {
        self.lock().current_vote = vote;
    }

    /// `getCurrentEpoch`: the epoch this peer last synced with a leader in.
    pub fn get_current_epoch(&self) -> u32 {
        self.lock().current_epoch
    }

    /// `getAcceptedEpoch`: the newest epoch this peer agreed to join.
    pub fn get_accepted_epoch(&self) -> u32 {
        self.lock().accepted_epoch
    }

    /// `setCurrentEpoch`: writes the `currentEpoch` file durably, then takes the value.
    pub async fn set_current_epoch(&self, epoch: u32) -> Result<(), PersistError> {
        let snap_log = self.lock().snap_log.clone();
        snap_log.write_epoch("currentEpoch", epoch).await?;
        self.lock().current_epoch = epoch;
        Ok(())
    }

    /// `setAcceptedEpoch`: writes the `acceptedEpoch` file durably, then takes the value.
    pub async fn set_accepted_epoch(&self, epoch: u32) -> Result<(), PersistError> {
        let snap_log = self.lock().snap_log.clone();
        snap_log.write_epoch("acceptedEpoch", epoch).await?;
        self.lock().accepted_epoch = epoch;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::QuorumPeerConfig;
    use crate::persistence::FileTxnSnapLog;
    use sim_core::world::{Sim, WorldConfig};
    use std::collections::BTreeSet;

    /// A vote order that never sees a quorum: tells the peer's hook from the built-in one.
    struct NoQuorum;

    impl VoteOrder for NoQuorum {
        fn total_order_predicate(&self, _new: &Vote, _cur: &Vote) -> bool {
            false
        }

        fn contains_quorum(&self, _ackers: &BTreeSet<u64>, _voting_members: usize) -> bool {
            false
        }
    }

    /// Server 2 of the seed ensemble, over an empty database on `master`'s disk.
    fn fresh_peer(disk: sim_core::hw::HostDisk) -> QuorumPeer {
        let cfg = QuorumPeerConfig::parse(QuorumPeerConfig::seed_default()).expect("seed zoo.cfg");
        let snap_log = FileTxnSnapLog::new(disk, &cfg.data_dir, &cfg.data_log_dir);
        let tree = crate::data_tree::DataTree::new();
        QuorumPeer::new(PeerState::new(2, cfg, snap_log, tree, Vec::new(), 0), Arc::new(NoQuorum))
    }

    #[test]
    fn accessors_read_and_write_the_state_every_clone_shares() {
        Sim::new(WorldConfig::seeded(1)).run(|world| async move {
            let peer = fresh_peer(world.disk("master").expect("seed host"));
            let other = peer.clone();
            assert_eq!(peer.my_id(), 2);
            assert_eq!(peer.get_peer_state(), ServerState::Looking);
            assert_eq!(peer.get_current_vote(), Vote { leader: 2, zxid: 0, peer_epoch: 0 });
            assert!(!peer.vote_order().contains_quorum(&BTreeSet::from([1, 2, 3]), 3));

            peer.set_peer_state(ServerState::Following);
            peer.set_current_vote(Vote { leader: 3, zxid: 7, peer_epoch: 1 });
            assert_eq!(other.get_peer_state(), ServerState::Following);
            assert_eq!(other.get_current_vote(), Vote { leader: 3, zxid: 7, peer_epoch: 1 });
            assert_eq!(other.lock().state, ServerState::Following);
        });
    }

    #[test]
    fn epoch_setters_persist_the_epoch_files_and_update_the_peer() {
        Sim::new(WorldConfig::seeded(1)).run(|world| async move {
            let peer = fresh_peer(world.disk("master").expect("seed host"));
            assert_eq!((peer.get_accepted_epoch(), peer.get_current_epoch()), (0, 0));
            peer.set_accepted_epoch(5).await.expect("disk writes");
            assert_eq!((peer.get_accepted_epoch(), peer.get_current_epoch()), (5, 0));
            peer.set_current_epoch(4).await.expect("disk writes");
            assert_eq!((peer.get_accepted_epoch(), peer.get_current_epoch()), (5, 4));
            let snap_log = peer.lock().snap_log.clone();
            assert_eq!(snap_log.read_epoch("acceptedEpoch").await, Ok(Some(5)));
            assert_eq!(snap_log.read_epoch("currentEpoch").await, Ok(Some(4)));
        });
    }
}
