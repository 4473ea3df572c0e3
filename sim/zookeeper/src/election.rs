//! Leader election: `QuorumCnxManager` (connections on the election port) and
//! `FastLeaderElection.lookForLeader`.
//!
//! A vote beats another when its peer epoch is higher, or the epochs tie and its zxid is higher,
//! or both tie and its server id is higher (`totalOrderPredicate`). A LOOKING peer settles once a
//! quorum of the votes it received agree with its own proposal and no better vote arrives within
//! `finalizeWait` (200 ms). Peers that already follow or lead answer a LOOKING peer with the
//! vote they settled on, so a restarted server finds the sitting leader.

use super::proto::{ElectionMsg, Notification, ServerState, Vote};
use super::quorum_peer::QuorumPeer;
pub use super::vote_order::{total_order_predicate, DefaultVoteOrder, VoteOrder};
use futures::channel::mpsc;
use futures::StreamExt;
use sim_core::hw::{Conn, Listener};
use sim_core::trace::kind;
use sim_core::trace::{fields, lock};
use sim_core::world::ProcCtx;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `FastLeaderElection.finalizeWait`.
pub const FINALIZE_WAIT: Duration = Duration::from_millis(200);
/// `FastLeaderElection.maxNotificationInterval`.
pub const MAX_NOTIFICATION_INTERVAL: Duration = Duration::from_millis(60_000);
/// `QuorumCnxManager.cnxTO`: connect timeout on the election port.
pub const CNX_TIMEOUT: Duration = Duration::from_millis(5000);

/// A vote as stored in the received-votes tables: with its round and the voter's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ballot {
    vote: Vote,
    election_epoch: u64,
    state: ServerState,
}

/// Sends notifications to other peers, one worker per peer keeping only the newest message
/// (`SendWorker` with a queue of one).
#[derive(Clone)]
pub struct QuorumCnxManager {
    ctx: ProcCtx,
    myid: u64,
    slots: Arc<Mutex<BTreeMap<u64, mpsc::UnboundedSender<Notification>>>>,
}

impl QuorumCnxManager {
    /// Starts the election listener and one send worker per other voter. Received notifications
    /// arrive on the returned channel.
    pub fn start(
        ctx: &ProcCtx,
        peer: &QuorumPeer,
        listener: Listener<ElectionMsg>,
    ) -> (Self, mpsc::UnboundedReceiver<Notification>) {
        let (in_tx, in_rx) = mpsc::unbounded();
        let (myid, peers) = {
            let st = peer.lock();
            let peers: Vec<(u64, String, u16)> = st
                .cfg
                .servers
                .values()
                .filter(|s| !s.observer)
                .map(|s| (s.id, s.host.clone(), s.election_port))
                .collect();
            (st.myid, peers)
        };
        let mgr = QuorumCnxManager {
            ctx: ctx.clone(),
            myid,
            slots: Arc::new(Mutex::new(BTreeMap::new())),
        };
        for (sid, host, port) in peers {
            if sid == myid {
                continue;
            }
            let (tx, rx) = mpsc::unbounded();
            lock(&mgr.slots).insert(sid, tx);
            madsim::task::spawn(send_worker(ctx.clone(), myid, host, port, rx));
        }
        madsim::task::spawn(accept_loop(ctx.clone(), peer.clone(), mgr.clone(), listener, in_tx));
        (mgr, in_rx)
    }

    /// Queues a notification for `sid`.
    pub fn send(&self, sid: u64, n: Notification) {
        if let Some(tx) = lock(&self.slots).get(&sid) {
            let _ = tx.unbounded_send(n);
        }
    }

    /// Sends a notification to every other voter.
    pub fn send_all(&self, n: &Notification) {
        let sids: Vec<u64> = lock(&self.slots).keys().copied().collect();
        for sid in sids {
            self.send(sid, n.clone());
        }
        let _ = (&self.ctx, self.myid);
    }
}

async fn send_worker(
    ctx: ProcCtx,
    myid: u64,
    host: String,
    port: u16,
    mut rx: mpsc::UnboundedReceiver<Notification>,
) {
    let mut conn: Option<Conn<ElectionMsg>> = None;
    while let Some(mut n) = rx.next().await {
        // Only the newest notification matters.
        while let Ok(newer) = rx.try_recv() {
            n = newer;
        }
        if conn.is_none() {
            match ctx
                .net()
                .connect::<ElectionMsg>(&ctx.host, &ctx.name, &host, port, CNX_TIMEOUT)
                .await
            {
                Ok(c) => {
                    if c.send(ElectionMsg::Hello { sid: myid }).is_ok() {
                        conn = Some(c);
                    }
                }
                Err(_) => continue,
            }
        }
        if let Some(c) = &conn {
            if c.send(ElectionMsg::Notification(n)).is_err() {
                conn = None;
            }
        }
    }
}

async fn accept_loop(
    ctx: ProcCtx,
    peer: QuorumPeer,
    mgr: QuorumCnxManager,
    mut listener: Listener<ElectionMsg>,
    in_tx: mpsc::UnboundedSender<Notification>,
) {
    while let Some(conn) = listener.accept().await {
        madsim::task::spawn(recv_worker(
            ctx.clone(),
            peer.clone(),
            mgr.clone(),
            conn,
            in_tx.clone(),
        ));
    }
}

async fn recv_worker(
    _ctx: ProcCtx,
    peer: QuorumPeer,
    mgr: QuorumCnxManager,
    conn: Conn<ElectionMsg>,
    in_tx: mpsc::UnboundedSender<Notification>,
) {
    while let Ok(msg) = conn.recv().await {
        let ElectionMsg::Notification(n) = msg else { continue };
        // WorkerReceiver: a peer that is not LOOKING answers a LOOKING peer with its settled vote;
        // a LOOKING peer queues the vote, and answers a peer whose round lags behind its own.
        let (answer, queue) = {
            let st = peer.lock();
            let ours = Notification {
                vote: st.current_vote,
                election_epoch: st.logical_clock,
                state: st.state,
                sid: st.myid,
            };
            match (st.state, n.state) {
                (ServerState::Looking, ServerState::Looking)
                    if n.election_epoch < st.logical_clock =>
                {
                    (Some(ours), true)
                }
                (ServerState::Looking, _) => (None, true),
                (_, ServerState::Looking) => (Some(ours), false),
                _ => (None, false),
            }
        };
        if let Some(a) = answer {
            mgr.send(n.sid, a);
        }
        if queue {
            let _ = in_tx.unbounded_send(n);
        }
    }
}

/// The servers whose ballots agree with `target` (`termPredicate`'s set).
fn agreeing(votes: &BTreeMap<u64, Ballot>, target: &Ballot, same_round: bool) -> BTreeSet<u64> {
    votes
        .iter()
        .filter(|(_, b)| {
            b.vote == target.vote && (!same_round || b.election_epoch == target.election_epoch)
        })
        .map(|(sid, _)| *sid)
        .collect()
}

/// `lookForLeader`: runs one election with the peer's [`VoteOrder`] and returns the settled vote;
/// the peer's state is set to LEADING or FOLLOWING.
pub async fn look_for_leader(
    ctx: &ProcCtx,
    peer: &QuorumPeer,
    mgr: &QuorumCnxManager,
    inbox: &mut mpsc::UnboundedReceiver<Notification>,
) -> Vote {
    // The vote order and the quorum check are plug-in points (VoteOrder), built in by default.
    let order = peer.vote_order();
    let total_order_predicate = |new: &Vote, cur: &Vote| order.total_order_predicate(new, cur);
    let (myid, voters, mut proposal, mut logical_clock) = {
        let mut st = peer.lock();
        st.logical_clock += 1;
        st.state = ServerState::Looking;
        let v = Vote { leader: st.myid, zxid: st.last_logged, peer_epoch: st.current_epoch };
        st.current_vote = v;
        (st.myid, st.cfg.voting_members(), v, st.logical_clock)
    };
    ctx.trace(kind::FLE_START, None, fields! { "round" => logical_clock, "zxid" => super::txn::fmt_zxid(proposal.zxid), "epoch" => proposal.peer_epoch });
    let notify = |proposal: Vote, round: u64| Notification {
        vote: proposal,
        election_epoch: round,
        state: ServerState::Looking,
        sid: myid,
    };
    let mut recvset: BTreeMap<u64, Ballot> = BTreeMap::new();
    let mut outofelection: BTreeMap<u64, Ballot> = BTreeMap::new();
    let mut not_timeout = FINALIZE_WAIT;
    let mut pending: Option<Notification> = None;
    mgr.send_all(&notify(proposal, logical_clock));
    let me = |p: Vote, r: u64| Ballot { vote: p, election_epoch: r, state: ServerState::Looking };
    recvset.insert(myid, me(proposal, logical_clock));

    let settle = |vote: Vote, round: u64| {
        let mut st = peer.lock();
        st.state = if vote.leader == myid { ServerState::Leading } else { ServerState::Following };
        st.current_vote = vote;
        st.logical_clock = round;
        ctx.trace(
            kind::FLE_SETTLED,
            None,
            fields! { "leader" => vote.leader, "round" => round, "zxid" => super::txn::fmt_zxid(vote.zxid), "state" => format!("{:?}", st.state).to_uppercase() },
        );
        vote
    };

    loop {
        let n = match pending.take() {
            Some(n) => n,
            None => match madsim::time::timeout(not_timeout, inbox.next()).await {
                Ok(Some(n)) => n,
                Ok(None) => return proposal,
                Err(_) => {
                    // Nothing heard: say it again, backing off.
                    mgr.send_all(&notify(proposal, logical_clock));
                    not_timeout = (not_timeout * 2).min(MAX_NOTIFICATION_INTERVAL);
                    continue;
                }
            },
        };
        ctx.trace(
            kind::FLE_VOTE,
            None,
            fields! { "from" => n.sid, "leader" => n.vote.leader, "zxid" => super::txn::fmt_zxid(n.vote.zxid), "round" => n.election_epoch, "state" => format!("{:?}", n.state).to_uppercase() },
        );
        match n.state {
            ServerState::Looking => {
                if n.election_epoch > logical_clock {
                    logical_clock = n.election_epoch;
                    peer.lock().logical_clock = logical_clock;
                    recvset.clear();
                    let own = {
                        let st = peer.lock();
                        Vote { leader: myid, zxid: st.last_logged, peer_epoch: st.current_epoch }
                    };
                    proposal = if total_order_predicate(&n.vote, &own) { n.vote } else { own };
                    mgr.send_all(&notify(proposal, logical_clock));
                } else if n.election_epoch < logical_clock {
                    continue;
                } else if total_order_predicate(&n.vote, &proposal) {
                    proposal = n.vote;
                    mgr.send_all(&notify(proposal, logical_clock));
                }
                peer.set_current_vote(proposal);
                recvset.insert(
                    n.sid,
                    Ballot { vote: n.vote, election_epoch: n.election_epoch, state: n.state },
                );
                recvset.insert(myid, me(proposal, logical_clock));
                if order.contains_quorum(
                    &agreeing(&recvset, &me(proposal, logical_clock), true),
                    voters,
                ) {
                    // finalizeWait: a better late vote reopens the election.
                    let mut better = None;
                    while let Ok(Some(late)) =
                        madsim::time::timeout(FINALIZE_WAIT, inbox.next()).await
                    {
                        if total_order_predicate(&late.vote, &proposal) {
                            better = Some(late);
                            break;
                        }
                    }
                    match better {
                        Some(late) => pending = Some(late),
                        None => return settle(proposal, logical_clock),
                    }
                }
            }
            ServerState::Following | ServerState::Leading => {
                let ballot =
                    Ballot { vote: n.vote, election_epoch: n.election_epoch, state: n.state };
                let check_leader =
                    |votes: &BTreeMap<u64, Ballot>, leader: u64, round: u64, clock: u64| {
                        if leader != myid {
                            votes.get(&leader).is_some_and(|b| b.state == ServerState::Leading)
                        } else {
                            clock == round
                        }
                    };
                if n.election_epoch == logical_clock {
                    recvset.insert(n.sid, ballot);
                    if order.contains_quorum(&agreeing(&recvset, &ballot, true), voters)
                        && check_leader(
                            &outofelection,
                            n.vote.leader,
                            n.election_epoch,
                            logical_clock,
                        )
                    {
                        return settle(n.vote, logical_clock);
                    }
                }
                outofelection.insert(n.sid, ballot);
                if order.contains_quorum(&agreeing(&outofelection, &ballot, true), voters)
                    && check_leader(&outofelection, n.vote.leader, n.election_epoch, logical_clock)
                {
                    return settle(n.vote, n.election_epoch);
                }
            }
        }
    }
}
