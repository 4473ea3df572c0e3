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
