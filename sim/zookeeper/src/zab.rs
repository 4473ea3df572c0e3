//! ZAB after the election: discovery, synchronisation and broadcast (`Leader`,
//! `LearnerHandler`, `Follower`).
//!
//! Discovery: each follower sends FOLLOWERINFO with its acceptedEpoch; once a quorum has, the
//! leader proposes `max(acceptedEpoch) + 1` in LEADERINFO and waits for a quorum of ACKEPOCH.
//! Sync: per follower the leader sends DIFF (the committed proposals it lacks), TRUNC (drop a
//! divergent tail) or SNAP (the whole tree), then NEWLEADER; after a quorum ACKs NEWLEADER, the
//! followers get UPTODATE and everyone serves. Broadcast: PROPOSAL → ACK (after fsync) → COMMIT
//! once a quorum has logged it, strictly in zxid order. Pings every half tick keep both sides
//! honest: a follower that hears nothing for `syncLimit` ticks, or a leader that loses its quorum
//! of synced followers, goes back to LOOKING.

use super::persistence::{FileTxnSnapLog, PersistError};
use super::proto::QuorumPacket;
use super::quorum_peer::QuorumPeer;
use super::server::WriteReq;
use super::server_log::{exit_severe, SevereExit};
use super::txn::{fmt_zxid, make_zxid, zxid_epoch, Txn, TxnHeader, Zxid};
use futures::channel::mpsc;
use futures::{FutureExt, StreamExt};
use madsim::time::{sleep_until, Instant};
use sim_core::hw::{Conn, NetError};
use sim_core::trace::{fields, kind};
use sim_core::world::ProcCtx;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

enum LeaderEv {
    Connected { sid: u64, conn: Arc<Conn<QuorumPacket>>, accepted_epoch: u32, last_zxid: Zxid },
    Packet { sid: u64, conn_id: u64, pkt: QuorumPacket },
    Gone { sid: u64, conn_id: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// FOLLOWERINFO received.
    Info,
    /// LEADERINFO sent.
    EpochSent,
    /// Sync packets and NEWLEADER sent: proposals are forwarded from now on.
    Forwarding,
    /// NEWLEADER acknowledged.
    Synced,
}

struct Learner {
    conn: Arc<Conn<QuorumPacket>>,
    phase: Phase,
    accepted_epoch: u32,
    last_zxid: Zxid,
    epoch_acked: bool,
    last_heard: Instant,
}

struct Proposal {
    hdr: TxnHeader,
    txn: Txn,
    acks: BTreeSet<u64>,
}

/// The leader's state for one epoch.
struct Leader {
    ctx: ProcCtx,
    peer: QuorumPeer,
    myid: u64,
    quorum: usize,
    voters: BTreeSet<u64>,
    learners: BTreeMap<u64, Learner>,
    epoch: Option<u32>,
    established: bool,
    newleader_acks: BTreeSet<u64>,
    serving: bool,
    next_zxid: Zxid,
    outstanding: BTreeMap<Zxid, Proposal>,
    write_tx: mpsc::UnboundedSender<WriteReq>,
}

impl Leader {
    fn send(&self, sid: u64, pkt: QuorumPacket) {
        if let Some(l) = self.learners.get(&sid) {
            let _ = l.conn.send(pkt);
        }
    }

    fn forwarding(&self) -> Vec<u64> {
        self.learners
            .iter()
            .filter(|(_, l)| l.phase >= Phase::Forwarding)
            .map(|(s, _)| *s)
            .collect()
    }

    fn drop_learner(&mut self, sid: u64) {
        if let Some(l) = self.learners.remove(&sid) {
            l.conn.shutdown();
        }
    }

    /// Sync one learner whose ACKEPOCH arrived (`LearnerHandler.syncFollower`).
    async fn sync_learner(&mut self, sid: u64) {
        let Some(epoch) = self.epoch else { return };
        let Some(peer) = self.learners.get(&sid).map(|l| l.last_zxid) else { return };
        let mut packets = Vec::new();
        let kind;
        {
            let st = self.peer.lock();
            let leader_last = st.tree.last_processed_zxid();
            let min = st.committed_log.front().map(|(h, _)| h.zxid);
            let max = st.committed_log.back().map(|(h, _)| h.zxid);
            if peer == leader_last {
                kind = "DIFF";
                packets.push(QuorumPacket::Diff { zxid: leader_last });
            } else if peer > leader_last {
                kind = "TRUNC";
                packets.push(QuorumPacket::Trunc { zxid: leader_last });
            } else if let (Some(min), Some(max)) = (min, max) {
                if min <= peer && peer <= max {
                    // The learner's last zxid may be a proposal we never committed: then it
                    // truncates to the last committed zxid before it first.
                    let known = st.committed_log.iter().any(|(h, _)| h.zxid == peer);
                    if known {
                        kind = "DIFF";
                    } else {
                        kind = "TRUNC+DIFF";
                        let prev = st
                            .committed_log
                            .iter()
                            .map(|(h, _)| h.zxid)
                            .filter(|z| *z < peer)
                            .max()
                            .unwrap_or(0);
                        packets.push(QuorumPacket::Trunc { zxid: prev });
                    }
                    packets.push(QuorumPacket::Diff { zxid: max });
                    for (h, t) in st.committed_log.iter().filter(|(h, _)| h.zxid > peer) {
                        packets.push(QuorumPacket::Proposal { hdr: *h, txn: t.clone() });
                        packets.push(QuorumPacket::Commit { zxid: h.zxid });
                    }
                } else {
                    kind = "SNAP";
                    packets.push(QuorumPacket::Snap {
                        tree: Box::new(st.tree.clone()),
                        zxid: leader_last,
                    });
                }
            } else {
                kind = "SNAP";
                packets.push(QuorumPacket::Snap {
                    tree: Box::new(st.tree.clone()),
                    zxid: leader_last,
                });
            }
        }
        // Proposals still in flight follow, so the learner misses nothing (`startForwarding`).
        for p in self.outstanding.values() {
            packets.push(QuorumPacket::Proposal { hdr: p.hdr, txn: p.txn.clone() });
        }
        packets.push(QuorumPacket::NewLeader { zxid: make_zxid(epoch, 0) });
        self.ctx.trace(
            kind::ZAB_SYNC,
            None,
            fields! { "learner" => sid, "mode" => kind, "peer_zxid" => fmt_zxid(peer) },
        );
        for pkt in packets {
            self.send(sid, pkt);
        }
        if let Some(l) = self.learners.get_mut(&sid) {
            l.phase = Phase::Forwarding;
        }
    }

    async fn on_event(&mut self, ev: LeaderEv) {
        match ev {
            LeaderEv::Connected { sid, conn, accepted_epoch, last_zxid } => {
                self.drop_learner(sid);
                self.learners.insert(
                    sid,
                    Learner {
                        conn,
                        phase: Phase::Info,
                        accepted_epoch,
                        last_zxid,
                        epoch_acked: false,
                        last_heard: Instant::now(),
                    },
                );
                if let Some(epoch) = self.epoch {
                    self.send(sid, QuorumPacket::LeaderInfo { epoch });
                    if let Some(l) = self.learners.get_mut(&sid) {
                        l.phase = Phase::EpochSent;
                    }
                }
            }
            LeaderEv::Gone { sid, conn_id } => {
                if self.learners.get(&sid).is_some_and(|l| l.conn.id() == conn_id) {
                    self.learners.remove(&sid);
                    self.ctx.trace(kind::ZAB_LEARNER_GONE, None, fields! { "learner" => sid });
                }
            }
            LeaderEv::Packet { sid, conn_id, pkt } => {
                let Some(l) = self.learners.get_mut(&sid).filter(|l| l.conn.id() == conn_id) else {
                    return;
                };
                l.last_heard = Instant::now();
                match pkt {
                    QuorumPacket::AckEpoch { last_zxid, .. } => {
                        l.last_zxid = last_zxid;
                        l.epoch_acked = true;
                        if self.established && l.phase == Phase::EpochSent {
                            self.sync_learner(sid).await;
                        }
                    }
                    QuorumPacket::Ack { zxid } => {
                        if Some(zxid) == self.epoch.map(|e| make_zxid(e, 0))
                            && l.phase == Phase::Forwarding
                        {
                            l.phase = Phase::Synced;
                            self.newleader_acks.insert(sid);
                            if self.serving {
                                self.send(sid, QuorumPacket::UpToDate);
                            }
                        } else if let Some(p) = self.outstanding.get_mut(&zxid) {
                            if self.voters.contains(&sid) {
                                p.acks.insert(sid);
                            }
                            self.try_commit();
                        }
                    }
                    QuorumPacket::Request { session_id, cxid, txn } => {
                        self.propose(WriteReq { session_id, cxid, txn }).await;
                    }
                    QuorumPacket::Ping { touches } => {
                        let mut st = self.peer.lock();
                        let now = Instant::now();
                        for (s, t) in touches {
                            if st.tree.sessions().contains_key(&s) {
                                st.session_deadlines
                                    .insert(s, (now + Duration::from_millis(t.max(0) as u64), t));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Assigns a zxid, sends the PROPOSAL, logs it durably and acknowledges it ourselves.
    async fn propose(&mut self, w: WriteReq) {
        if !self.serving {
            return;
        }
        self.next_zxid += 1;
        let zxid = self.next_zxid;
        let hdr =
            TxnHeader { session_id: w.session_id, cxid: w.cxid, zxid, time_ms: self.ctx.wall_ms() };
        self.ctx.trace(
            kind::ZAB_PROPOSE,
            None,
            fields! { "zxid" => fmt_zxid(zxid), "op" => w.txn.op_name() },
        );
        for sid in self.forwarding() {
            self.send(sid, QuorumPacket::Proposal { hdr, txn: w.txn.clone() });
        }
        self.outstanding.insert(zxid, Proposal { hdr, txn: w.txn.clone(), acks: BTreeSet::new() });
        let mut log = self.peer.lock().snap_log.clone();
        let logged = log_durably(&mut log, &hdr, &w.txn).await;
        self.peer.lock().snap_log = log;
        if let Err(e) = logged {
            exit_severe(&self.ctx, self.myid, SevereExit::TxnLog, &e).await;
        }
        self.peer.lock().last_logged = zxid;
        if let Some(p) = self.outstanding.get_mut(&zxid) {
            p.acks.insert(self.myid);
        }
        self.try_commit();
    }

    /// Commits the oldest proposals that a quorum has logged, in order.
    fn try_commit(&mut self) {
        while let Some((&zxid, p)) = self.outstanding.iter().next() {
            if p.acks.len() < self.quorum {
                break;
            }
            let Some(p) = self.outstanding.remove(&zxid) else { break };
            for sid in self.forwarding() {
                self.send(sid, QuorumPacket::Commit { zxid });
            }
            self.ctx.trace(kind::ZAB_COMMIT, None, fields! { "zxid" => fmt_zxid(zxid), "acks" => p.acks.iter().copied().collect::<Vec<_>>() });
            self.peer.lock().apply(&self.ctx, &p.hdr, &p.txn);
        }
    }

    fn synced_count(&self, window: Duration) -> (usize, Vec<u64>) {
        let now = Instant::now();
        let mut sids: Vec<u64> = self
            .learners
            .iter()
            .filter(|(s, l)| {
                self.voters.contains(s)
                    && l.phase == Phase::Synced
                    && now.duration_since(l.last_heard) <= window
            })
            .map(|(s, _)| *s)
            .collect();
        sids.push(self.myid);
        sids.sort();
        (sids.len(), sids)
    }

    /// Sessions whose deadline passed are closed through ZAB (`SessionTracker` expiry).
    async fn expire_sessions(&mut self) {
        let now = Instant::now();
        let expired: Vec<i64> = {
            let mut st = self.peer.lock();
            let e: Vec<i64> = st
                .session_deadlines
                .iter()
                .filter(|(_, (d, _))| *d <= now)
                .map(|(s, _)| *s)
                .collect();
            for s in &e {
                st.session_deadlines.remove(s);
            }
            e
        };
        for s in expired {
            self.ctx.trace(
                kind::ZK_SESSION_EXPIRE,
                None,
                fields! { "session" => format!("0x{s:x}") },
            );
            let _ = self.write_tx.unbounded_send(WriteReq {
                session_id: s,
                cxid: 0,
                txn: Txn::CloseSession,
            });
        }
    }
}

/// Appends a proposal to the transaction log and fsyncs it: only then may it be acknowledged.
async fn log_durably(
    log: &mut FileTxnSnapLog,
    hdr: &TxnHeader,
    txn: &Txn,
) -> Result<(), PersistError> {
    log.append(hdr, txn).await?;
    log.commit().await
}

/// Leads until the quorum is lost. Returns when the peer must go back to LOOKING.
pub async fn lead(ctx: &ProcCtx, peer: &QuorumPeer) {
    let (myid, quorum, voters, tick, init_limit, sync_limit, port, standalone, accepted) = {
        let st = peer.lock();
        let voters: BTreeSet<u64> =
            st.cfg.servers.values().filter(|s| !s.observer).map(|s| s.id).collect();
        let port = st.cfg.servers.get(&st.myid).map(|s| s.quorum_port).unwrap_or(2888);
        (
            st.myid,
            st.quorum(),
            voters,
            st.tick(),
            st.cfg.init_limit.max(1),
            st.cfg.sync_limit.max(1),
            port,
            st.cfg.is_standalone(),
            st.accepted_epoch,
        )
    };
    let (ev_tx, mut ev_rx) = mpsc::unbounded::<LeaderEv>();
    let acceptor = if standalone {
        None
    } else {
        match ctx.net().listen::<QuorumPacket>(&ctx.host, &ctx.name, port) {
            Ok(listener) => Some(madsim::task::spawn(accept_learners(listener, ev_tx.clone()))),
            Err(e) => {
                ctx.trace(
                    kind::ZAB_BIND_FAILED,
                    None,
                    fields! { "port" => port, "error" => e.to_string() },
                );
                madsim::time::sleep(tick).await;
                return;
            }
        }
    };
    let (write_tx, mut write_rx) = mpsc::unbounded::<WriteReq>();
    let mut leader = Leader {
        ctx: ctx.clone(),
        peer: peer.clone(),
        myid,
        quorum,
        voters,
        learners: BTreeMap::new(),
        epoch: None,
        established: false,
        newleader_acks: BTreeSet::from([myid]),
        serving: false,
        next_zxid: 0,
        outstanding: BTreeMap::new(),
        write_tx: write_tx.clone(),
    };
    ctx.trace(kind::ZAB_LEADING, None, fields! {});
    let init_deadline = Instant::now() + tick * init_limit;
    let result = lead_epoch(
        &mut leader,
        &mut ev_rx,
        &mut write_rx,
        init_deadline,
        tick,
        sync_limit,
        accepted,
    )
    .await;
    if let Err(why) = result {
        ctx.trace(kind::ZAB_LEADER_SHUTDOWN, None, fields! { "reason" => why });
    }
    for sid in leader.learners.keys().copied().collect::<Vec<_>>() {
        leader.drop_learner(sid);
    }
    if let Some(a) = acceptor {
        a.abort();
    }
}

async fn next_ev(
    ev_rx: &mut mpsc::UnboundedReceiver<LeaderEv>,
    deadline: Instant,
) -> Result<LeaderEv, String> {
    match madsim::time::timeout(deadline.saturating_duration_since(Instant::now()), ev_rx.next())
        .await
    {
        Ok(Some(ev)) => Ok(ev),
        _ => Err("timeout".into()),
    }
}

async fn lead_epoch(
    l: &mut Leader,
    ev_rx: &mut mpsc::UnboundedReceiver<LeaderEv>,
    write_rx: &mut mpsc::UnboundedReceiver<WriteReq>,
    init_deadline: Instant,
    tick: Duration,
    sync_limit: u32,
    accepted: u32,
) -> Result<(), String> {
    // Discovery: a quorum of FOLLOWERINFO decides the new epoch (`getEpochToPropose`).
    while 1 + l.learners.iter().filter(|(s, _)| l.voters.contains(s)).count() < l.quorum {
        let ev = next_ev(ev_rx, init_deadline)
            .await
            .map_err(|_| "Timeout while waiting for epoch from quorum".to_string())?;
        l.on_event(ev).await;
    }
    let epoch =
        l.learners.values().map(|x| x.accepted_epoch).chain([accepted]).max().unwrap_or(0) + 1;
    l.epoch = Some(epoch);
    l.peer.set_accepted_epoch(epoch).await.map_err(|e| e.to_string())?;
    l.ctx.trace(kind::ZAB_NEW_EPOCH, None, fields! { "epoch" => epoch });
    for sid in l.learners.keys().copied().collect::<Vec<_>>() {
        l.send(sid, QuorumPacket::LeaderInfo { epoch });
        if let Some(x) = l.learners.get_mut(&sid) {
            x.phase = Phase::EpochSent;
        }
    }
    // A quorum of ACKEPOCH (`waitForEpochAck`). A learner's ACKEPOCH only moves it along later.
    loop {
        let acked =
            l.learners.iter().filter(|(s, x)| l.voters.contains(s) && x.epoch_acked).count();
        if acked + 1 >= l.quorum {
            break;
        }
        let ev = next_ev(ev_rx, init_deadline)
            .await
            .map_err(|_| "Timeout while waiting for epoch to be acked by quorum".to_string())?;
        l.on_event(ev).await;
    }
    l.peer.set_current_epoch(epoch).await.map_err(|e| e.to_string())?;
    l.next_zxid = make_zxid(epoch, 0);
    // ZooKeeperServer.loadData ends with a snapshot.
    {
        let (mut snap_log, tree) = {
            let st = l.peer.lock();
            (st.snap_log.clone(), st.tree.clone())
        };
        let taken = snap_log.snapshot(&tree).await;
        l.peer.lock().snap_log = snap_log;
        if let Err(e) = taken {
            exit_severe(&l.ctx, l.myid, SevereExit::Snapshot, &e).await;
        }
    }
    l.established = true;
    for sid in l
        .learners
        .iter()
        .filter(|(_, x)| x.phase == Phase::EpochSent && x.epoch_acked)
        .map(|(s, _)| *s)
        .collect::<Vec<_>>()
    {
        l.sync_learner(sid).await;
    }
    // A quorum of NEWLEADER acks (`waitForNewLeaderAck`).
    while l.newleader_acks.iter().filter(|s| l.voters.contains(s)).count() < l.quorum {
        let ev = next_ev(ev_rx, init_deadline)
            .await
            .map_err(|_| "Timeout while waiting for NEWLEADER to be acked by quorum".to_string())?;
        l.on_event(ev).await;
    }
    l.serving = true;
    for sid in l.newleader_acks.iter().copied().filter(|s| *s != l.myid).collect::<Vec<_>>() {
        l.send(sid, QuorumPacket::UpToDate);
    }
    {
        let mut st = l.peer.lock();
        let now = Instant::now();
        // The new leader's SessionTracker gives every known session a fresh timeout.
        let sessions: Vec<(i64, i32)> = st.tree.sessions().iter().map(|(s, t)| (*s, *t)).collect();
        for (s, t) in sessions {
            st.session_deadlines.insert(s, (now + Duration::from_millis(t.max(0) as u64), t));
        }
        st.start_serving(&l.ctx, l.write_tx.clone());
    }
    l.ctx.trace(kind::ZAB_ESTABLISHED, None, fields! { "epoch" => epoch, "leader" => l.myid });
    // Broadcast.
    let half_tick = tick / 2;
    let mut next_ping = Instant::now() + half_tick;
    let mut tick_no = 0u64;
    loop {
        enum Step {
            Ev(Option<LeaderEv>),
            Write(Option<WriteReq>),
            Tick,
        }
        let step = futures::select_biased! {
            ev = ev_rx.next() => Step::Ev(ev),
            w = write_rx.next() => Step::Write(w),
            _ = sleep_until(next_ping).fuse() => Step::Tick,
        };
        match step {
            Step::Ev(Some(ev)) => l.on_event(ev).await,
            Step::Write(Some(w)) => l.propose(w).await,
            Step::Ev(None) | Step::Write(None) => return Err("leader channels closed".into()),
            Step::Tick => {
                next_ping += half_tick;
                tick_no += 1;
                for sid in l.learners.keys().copied().collect::<Vec<_>>() {
                    l.send(sid, QuorumPacket::Ping { touches: Vec::new() });
                }
                l.expire_sessions().await;
                if tick_no.is_multiple_of(2) {
                    let (n, sids) = l.synced_count(tick * sync_limit);
                    if n < l.quorum {
                        return Err(format!(
                            "Not sufficient followers synced, only synced with sids: [ {} ]",
                            sids.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(",")
                        ));
                    }
                }
            }
        }
    }
}

async fn accept_learners(
    mut listener: sim_core::hw::Listener<QuorumPacket>,
    ev_tx: mpsc::UnboundedSender<LeaderEv>,
) {
    while let Some(conn) = listener.accept().await {
        madsim::task::spawn(learner_handler(Arc::new(conn), ev_tx.clone()));
    }
}

/// Reads one learner's packets and hands them to the leader (`LearnerHandler.run`).
async fn learner_handler(conn: Arc<Conn<QuorumPacket>>, ev_tx: mpsc::UnboundedSender<LeaderEv>) {
    let Ok(QuorumPacket::FollowerInfo { sid, accepted_epoch, last_zxid }) = conn.recv().await
    else {
        return;
    };
    let conn_id = conn.id();
    if ev_tx
        .unbounded_send(LeaderEv::Connected { sid, conn: conn.clone(), accepted_epoch, last_zxid })
        .is_err()
    {
        return;
    }
    loop {
        match conn.recv().await {
            Ok(pkt) => {
                if ev_tx.unbounded_send(LeaderEv::Packet { sid, conn_id, pkt }).is_err() {
                    conn.shutdown();
                    return;
                }
            }
            Err(_) => {
                let _ = ev_tx.unbounded_send(LeaderEv::Gone { sid, conn_id });
                return;
            }
        }
    }
}

/// Follows `leader_sid` until the leader is lost. Returns when the peer must go back to LOOKING.
pub async fn follow(ctx: &ProcCtx, peer: &QuorumPeer, leader_sid: u64) {
    if let Err(why) = follow_inner(ctx, peer, leader_sid).await {
        ctx.trace(kind::ZAB_FOLLOWER_SHUTDOWN, None, fields! { "reason" => why });
    }
}

async fn follow_inner(ctx: &ProcCtx, peer: &QuorumPeer, leader_sid: u64) -> Result<(), String> {
    let (myid, host, port, tick, init_limit, sync_limit) = {
        let st = peer.lock();
        let s = st.cfg.servers.get(&leader_sid).ok_or("leader is not in the configuration")?;
        (
            st.myid,
            s.host.clone(),
            s.quorum_port,
            st.tick(),
            st.cfg.init_limit.max(1),
            st.cfg.sync_limit.max(1),
        )
    };
    ctx.trace(kind::ZAB_FOLLOWING, None, fields! { "leader" => leader_sid });
    // connectToLeader: five tries, a second apart.
    let mut conn = None;
    for _ in 0..5 {
        match ctx
            .net()
            .connect::<QuorumPacket>(&ctx.host, &ctx.name, &host, port, tick * init_limit)
            .await
        {
            Ok(c) => {
                conn = Some(c);
                break;
            }
            Err(_) => madsim::time::sleep(Duration::from_secs(1)).await,
        }
    }
    let conn = conn.ok_or("Unable to connect to the leader")?;
    let (accepted, current, last_logged) = {
        let st = peer.lock();
        (st.accepted_epoch, st.current_epoch, st.last_logged)
    };
    conn.send(QuorumPacket::FollowerInfo {
        sid: myid,
        accepted_epoch: accepted,
        last_zxid: last_logged,
    })
    .map_err(|e| e.to_string())?;
    let init_timeout = tick * init_limit;
    let epoch = match conn.recv_timeout(init_timeout).await.map_err(|e| e.to_string())? {
        QuorumPacket::LeaderInfo { epoch } => epoch,
        other => {
            return Err(format!(
                "First packet should have been LEADERINFO, got {}",
                sim_core::hw::Wire::kind(&other)
            ))
        }
    };
    if epoch < accepted {
        return Err(format!("Leaders epoch, {epoch} is less than accepted epoch, {accepted}"));
    }
    if epoch > accepted {
        peer.set_accepted_epoch(epoch).await.map_err(|e| e.to_string())?;
    }
    conn.send(QuorumPacket::AckEpoch { current_epoch: current, last_zxid: last_logged })
        .map_err(|e| e.to_string())?;

    let (write_tx, mut write_rx) = mpsc::unbounded::<WriteReq>();
    let mut pending: BTreeMap<Zxid, (TxnHeader, Txn)> = BTreeMap::new();
    let mut synced = false;
    // Learner.syncWithLeader: a DIFF needs no snapshot; SNAP and TRUNC take one at NEWLEADER.
    let mut snapshot_needed = true;
    loop {
        let timeout = if synced { tick * sync_limit } else { init_timeout };
        enum Step {
            Pkt(Result<QuorumPacket, NetError>),
            Write(Option<WriteReq>),
        }
        let step = futures::select_biased! {
            p = conn.recv_timeout(timeout).fuse() => Step::Pkt(p),
            w = write_rx.next() => Step::Write(w),
        };
        let pkt = match step {
            Step::Write(Some(w)) => {
                conn.send(QuorumPacket::Request {
                    session_id: w.session_id,
                    cxid: w.cxid,
                    txn: w.txn,
                })
                .map_err(|e| e.to_string())?;
                continue;
            }
            Step::Write(None) => continue,
            Step::Pkt(Err(e)) => return Err(format!("Exception when following the leader: {e}")),
            Step::Pkt(Ok(p)) => p,
        };
        match pkt {
            QuorumPacket::Diff { .. } => snapshot_needed = false,
            QuorumPacket::Trunc { zxid } => {
                let mut snap_log = peer.lock().snap_log.clone();
                snap_log.truncate(zxid).await.map_err(|e| e.to_string())?;
                let loaded = snap_log.load().await.map_err(|e| e.to_string())?;
                let mut st = peer.lock();
                st.snap_log = snap_log;
                st.reset_database(loaded.tree, loaded.log);
                ctx.trace(kind::ZAB_TRUNCATED, None, fields! { "zxid" => fmt_zxid(zxid) });
            }
            QuorumPacket::Snap { tree, zxid } => {
                let mut st = peer.lock();
                st.tree = *tree;
                st.committed_log.clear();
                st.last_logged = zxid;
                ctx.trace(kind::ZAB_SNAP_LOADED, None, fields! { "zxid" => fmt_zxid(zxid) });
            }
            QuorumPacket::Proposal { hdr, txn } => {
                let mut snap_log = peer.lock().snap_log.clone();
                let logged = log_durably(&mut snap_log, &hdr, &txn).await;
                peer.lock().snap_log = snap_log;
                if let Err(e) = logged {
                    exit_severe(ctx, myid, SevereExit::TxnLog, &e).await;
                }
                {
                    let mut st = peer.lock();
                    st.last_logged = st.last_logged.max(hdr.zxid);
                }
                let zxid = hdr.zxid;
                pending.insert(zxid, (hdr, txn));
                conn.send(QuorumPacket::Ack { zxid }).map_err(|e| e.to_string())?;
            }
            QuorumPacket::Commit { zxid } => {
                // Commits arrive in order; anything older still pending is committed too.
                let ready: Vec<Zxid> = pending.range(..=zxid).map(|(z, _)| *z).collect();
                for z in ready {
                    if let Some((hdr, txn)) = pending.remove(&z) {
                        peer.lock().apply(ctx, &hdr, &txn);
                    }
                }
            }
            QuorumPacket::NewLeader { zxid } => {
                if snapshot_needed {
                    let (mut snap_log, tree) = {
                        let st = peer.lock();
                        (st.snap_log.clone(), st.tree.clone())
                    };
                    let taken = snap_log.snapshot(&tree).await;
                    peer.lock().snap_log = snap_log;
                    if let Err(e) = taken {
                        exit_severe(ctx, myid, SevereExit::Snapshot, &e).await;
                    }
                }
                let epoch = zxid_epoch(zxid);
                peer.set_current_epoch(epoch).await.map_err(|e| e.to_string())?;
                conn.send(QuorumPacket::Ack { zxid }).map_err(|e| e.to_string())?;
            }
            QuorumPacket::UpToDate => {
                synced = true;
                peer.lock().start_serving(ctx, write_tx.clone());
            }
            QuorumPacket::Ping { .. } => {
                let touches: Vec<(i64, i32)> =
                    std::mem::take(&mut peer.lock().touches).into_iter().collect();
                conn.send(QuorumPacket::Ping { touches }).map_err(|e| e.to_string())?;
            }
            _ => {}
        }
    }
}
