//! The serving side of a peer: its database (`ZKDatabase`), client connections
//! (`NIOServerCnxn`), sessions (`SessionTracker`), and the final step of every committed
//! transaction (`FinalRequestProcessor`): apply to the tree, fire watches, answer the client.
//!
//! Reads are answered from the local tree (possibly stale, as in ZooKeeper); writes go to the
//! current role — the leader proposes them, a follower forwards them — and are answered when their
//! COMMIT is applied here. A connection handles its requests in order, so a client always reads
//! its own writes.

use super::config::QuorumPeerConfig;
use super::data_tree::{DataTree, ProcessTxnResult};
use super::persistence::FileTxnSnapLog;
use super::proto::{ClientPacket, Op, ReplyBody, ServerState, Vote};
use super::txn::{fmt_zxid, SessionId, Txn, TxnHeader, ZkError, Zxid};
use super::watch_manager::{EventType, WatchManager};
use futures::channel::mpsc;
use futures::{FutureExt, StreamExt};
use madsim::time::Instant;
use sim_core::hw::{Conn, Listener};
use sim_core::trace::kind;
use sim_core::trace::{fields, lock};
use sim_core::world::ProcCtx;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many committed proposals a peer keeps in memory for DIFF syncs (`ZKDatabase.commitLogCount`).
pub const COMMIT_LOG_COUNT: usize = 500;

/// A write handed to the current role.
#[derive(Debug)]
pub struct WriteReq {
    /// Session of the client.
    pub session_id: SessionId,
    /// Client's request number.
    pub cxid: i32,
    /// The transaction.
    pub txn: Txn,
}

struct ClientSlot {
    session_id: SessionId,
    out: mpsc::UnboundedSender<ClientPacket>,
}

/// A local request waiting for its commit: which connection, which xid.
struct Waiting {
    conn_id: u64,
    xid: i32,
    op: Op,
}

/// Everything a peer's tasks share.
pub struct PeerState {
    /// This server's id.
    pub myid: u64,
    /// Its configuration.
    pub cfg: QuorumPeerConfig,
    /// LOOKING / FOLLOWING / LEADING.
    pub state: ServerState,
    /// The vote this peer settled on (answered to LOOKING peers).
    pub current_vote: Vote,
    /// Election round.
    pub logical_clock: u64,
    /// True while the ZooKeeperServer accepts clients (after UPTODATE, or after the leader's
    /// NEWLEADER quorum).
    pub serving: bool,
    /// The replicated tree.
    pub tree: DataTree,
    /// Recently committed proposals, for DIFF.
    pub committed_log: VecDeque<(TxnHeader, Txn)>,
    /// Highest zxid in the local log (may be uncommitted).
    pub last_logged: Zxid,
    /// `acceptedEpoch` file.
    pub accepted_epoch: u32,
    /// `currentEpoch` file.
    pub current_epoch: u32,
    /// The log.
    pub snap_log: FileTxnSnapLog,
    watches: WatchManager<u64>,
    clients: BTreeMap<u64, ClientSlot>,
    waiting: BTreeMap<(SessionId, i32), Waiting>,
    /// Follower: sessions touched since the last ping, reported to the leader.
    pub touches: BTreeMap<SessionId, i32>,
    /// Leader: when each session expires.
    pub session_deadlines: BTreeMap<SessionId, (Instant, i32)>,
    /// Where writes go while a role runs.
    pub role_tx: Option<mpsc::UnboundedSender<WriteReq>>,
    next_session: i64,
}

/// Shared handle to a peer's state.
pub type Shared = Arc<Mutex<PeerState>>;

impl PeerState {
    /// A peer that has loaded its database.
    pub fn new(
        myid: u64,
        cfg: QuorumPeerConfig,
        snap_log: FileTxnSnapLog,
        tree: DataTree,
        log: Vec<(TxnHeader, Txn)>,
        wall_ms: i64,
    ) -> Self {
        let mut st = PeerState {
            myid,
            cfg,
            state: ServerState::Looking,
            current_vote: Vote { leader: myid, zxid: 0, peer_epoch: 0 },
            logical_clock: 0,
            serving: false,
            tree: DataTree::new(),
            committed_log: VecDeque::new(),
            last_logged: 0,
            accepted_epoch: 0,
            current_epoch: 0,
            snap_log,
            watches: WatchManager::new(),
            clients: BTreeMap::new(),
            waiting: BTreeMap::new(),
            touches: BTreeMap::new(),
            session_deadlines: BTreeMap::new(),
            role_tx: None,
            // SessionTrackerImpl.initializeNextSession: time in the middle bits, server id on top.
            next_session: ((wall_ms << 24) as u64 >> 8) as i64 | ((myid as i64) << 56),
        };
        st.reset_database(tree, log);
        st
    }

    /// Replaces the in-memory database with one loaded from disk.
    pub fn reset_database(&mut self, tree: DataTree, log: Vec<(TxnHeader, Txn)>) {
        self.last_logged = log
            .last()
            .map_or(tree.last_processed_zxid(), |(h, _)| h.zxid.max(tree.last_processed_zxid()));
        self.committed_log = log.into_iter().rev().take(COMMIT_LOG_COUNT).rev().collect();
        self.tree = tree;
    }

    /// Tick length.
    pub fn tick(&self) -> Duration {
        Duration::from_millis(self.cfg.tick_time as u64)
    }

    /// Voting members needed for a quorum.
    pub fn quorum(&self) -> usize {
        self.cfg.quorum_size()
    }

    /// Records client activity on a session so it does not expire.
    pub fn touch(&mut self, session_id: SessionId) {
        let Some(timeout) = self.tree.sessions().get(&session_id).copied() else { return };
        if self.state == ServerState::Leading {
            let deadline = Instant::now() + Duration::from_millis(timeout.max(0) as u64);
            self.session_deadlines.insert(session_id, (deadline, timeout));
        } else {
            self.touches.insert(session_id, timeout);
        }
    }

    /// Applies a committed transaction: tree, watches, the waiting client (FinalRequestProcessor).
    pub fn apply(&mut self, ctx: &ProcCtx, hdr: &TxnHeader, txn: &Txn) -> ProcessTxnResult {
        let rc = self.tree.process_txn(hdr, txn);
        self.committed_log.push_back((*hdr, txn.clone()));
        while self.committed_log.len() > COMMIT_LOG_COUNT {
            self.committed_log.pop_front();
        }
        self.last_logged = self.last_logged.max(hdr.zxid);
        let mut f = fields! {
            "zxid" => fmt_zxid(hdr.zxid),
            "op" => txn.op_name(),
            "session" => format!("0x{:x}", hdr.session_id),
            "err" => rc.err.as_ref().map(|e| e.code()).unwrap_or(0),
            "crc" => txn_crc(hdr, txn)
        };
        // The node a create or delete touched (with a sequential create's suffix) and whether it
        // is ephemeral, so pictures can follow each session's ephemerals from the trace alone.
        if matches!(txn, Txn::Create { .. } | Txn::Delete { .. }) && rc.err.is_none() {
            f.insert("path".into(), rc.path.clone().into());
            if let Txn::Create { mode, .. } = txn {
                if mode.is_ephemeral() {
                    f.insert("ephemeral".into(), true.into());
                }
            }
        }
        ctx.trace(kind::ZK_APPLY, None, f);
        for ev in &rc.events {
            for (conn_id, ev) in self.watches.trigger(ev) {
                if let Some(c) = self.clients.get(&conn_id) {
                    let _ = c.out.unbounded_send(ClientPacket::WatcherEvent {
                        event_type: ev.kind.code(),
                        path: ev.path.clone(),
                    });
                }
            }
        }
        match txn {
            Txn::CreateSession { timeout_ms } if self.state == ServerState::Leading => {
                let deadline = Instant::now() + Duration::from_millis((*timeout_ms).max(0) as u64);
                self.session_deadlines.insert(hdr.session_id, (deadline, *timeout_ms));
            }
            Txn::CloseSession => {
                self.session_deadlines.remove(&hdr.session_id);
                self.touches.remove(&hdr.session_id);
            }
            _ => {}
        }
        if let Some(w) = self.waiting.remove(&(hdr.session_id, hdr.cxid)) {
            if let Some(c) = self.clients.get(&w.conn_id) {
                let (err, body) = match (&rc.err, &w.op) {
                    (Some(e), _) => (e.code(), ReplyBody::Empty),
                    (None, Op::Write(Txn::Create { .. })) => {
                        (0, ReplyBody::Created(rc.path.clone()))
                    }
                    (None, Op::Write(Txn::SetData { .. })) => {
                        (0, rc.stat.clone().map_or(ReplyBody::Empty, ReplyBody::Stat))
                    }
                    (None, _) => (0, ReplyBody::Empty),
                };
                let _ = c.out.unbounded_send(ClientPacket::Reply {
                    xid: w.xid,
                    zxid: hdr.zxid,
                    err,
                    body,
                });
            }
        }
        if matches!(txn, Txn::CloseSession) {
            // The session is gone: its connection closes (NIOServerCnxnFactory.closeSession).
            let conns: Vec<u64> = self
                .clients
                .iter()
                .filter(|(_, c)| c.session_id == hdr.session_id)
                .map(|(id, _)| *id)
                .collect();
            for id in conns {
                self.clients.remove(&id);
            }
        }
        rc
    }

    /// Leaves the serving state: every client connection is closed (clients see ConnectionLoss
    /// and move to another server) and pending writes are forgotten.
    pub fn stop_serving(&mut self, ctx: &ProcCtx) {
        if self.serving {
            ctx.trace(kind::ZK_SERVING, None, fields! { "serving" => false });
        }
        self.serving = false;
        self.role_tx = None;
        self.clients.clear();
        self.waiting.clear();
        self.session_deadlines.clear();
    }

    /// Enters the serving state.
    pub fn start_serving(&mut self, ctx: &ProcCtx, role_tx: mpsc::UnboundedSender<WriteReq>) {
        self.serving = true;
        self.role_tx = Some(role_tx);
        ctx.trace(
            kind::ZK_SERVING,
            None,
            fields! { "serving" => true, "zxid" => fmt_zxid(self.tree.last_processed_zxid()) },
        );
    }

    fn submit(&mut self, conn_id: u64, session_id: SessionId, xid: i32, op: &Op, txn: Txn) -> bool {
        let Some(tx) = &self.role_tx else { return false };
        self.waiting.insert((session_id, xid), Waiting { conn_id, xid, op: op.clone() });
        tx.unbounded_send(WriteReq { session_id, cxid: xid, txn }).is_ok()
    }

    /// Text of the `srvr`/`stat` four-letter words.
    fn four_letter(&self, word: &str) -> String {
        if !self.serving {
            return "This ZooKeeper instance is not currently serving requests\n".to_string();
        }
        let mode = match self.state {
            ServerState::Leading => "leader",
            ServerState::Following => "follower",
            ServerState::Looking => "standalone",
        };
        let mode = if self.cfg.is_standalone() { "standalone" } else { mode };
        match word {
            "ruok" => "imok".to_string(),
            _ => format!(
                "Zookeeper version: 3.4.6-1569965, built on 02/20/2014 09:09 GMT\nLatency min/avg/max: 0/0/0\nReceived: 0\nSent: 0\nConnections: {}\nOutstanding: 0\nZxid: {}\nMode: {mode}\nNode count: {}\n",
                self.clients.len(),
                fmt_zxid(self.tree.last_processed_zxid()),
                self.tree.node_count()
            ),
        }
    }
}

/// A checksum of a transaction and its header: two servers that applied the same zxid must agree.
fn txn_crc(hdr: &TxnHeader, txn: &Txn) -> u32 {
    crc32fast::hash(serde_json::to_string(&(hdr, txn)).unwrap_or_default().as_bytes())
}

/// Accepts client connections on the client port for the life of the process.
pub async fn serve_clients(ctx: ProcCtx, shared: Shared, mut listener: Listener<ClientPacket>) {
    let mut next_conn = 1u64;
    while let Some(conn) = listener.accept().await {
        let id = next_conn;
        next_conn += 1;
        madsim::task::spawn(handle_client(ctx.clone(), shared.clone(), conn, id));
    }
}

/// One client connection (`NIOServerCnxn`): handshake, then requests in order.
async fn handle_client(ctx: ProcCtx, shared: Shared, conn: Conn<ClientPacket>, conn_id: u64) {
    let first = match conn.recv().await {
        Ok(p) => p,
        Err(_) => return,
    };
    let (session_id, timeout_ms) = match first {
        ClientPacket::FourLetter(word) => {
            let text = lock(&shared).four_letter(&word);
            let _ = conn.send(ClientPacket::FourLetterReply(text));
            return;
        }
        ClientPacket::ConnectRequest { last_zxid_seen, timeout_ms, session_id } => {
            match establish(&ctx, &shared, &conn, conn_id, last_zxid_seen, timeout_ms, session_id)
                .await
            {
                Some(s) => s,
                None => return,
            }
        }
        _ => return,
    };
    let (out_tx, mut out_rx) = mpsc::unbounded::<ClientPacket>();
    {
        let mut st = lock(&shared);
        if !st.serving {
            return;
        }
        st.clients.insert(conn_id, ClientSlot { session_id, out: out_tx });
    }
    let _ = conn.send(ClientPacket::ConnectResponse { timeout_ms, session_id });
    ctx.trace(
        kind::ZK_SESSION_CONNECTED,
        None,
        fields! { "session" => format!("0x{session_id:x}"), "timeout_ms" => timeout_ms },
    );

    // Requests queued behind an outstanding write keep the client's FIFO order.
    let mut queued: VecDeque<(i32, Op)> = VecDeque::new();
    let mut outstanding: Option<i32> = None;
    loop {
        let step = futures::select_biased! {
            out = out_rx.next() => Step::Out(out),
            pkt = conn.recv().fuse() => Step::In(pkt.ok()),
        };
        match step {
            Step::Out(None) | Step::In(None) => break,
            Step::Out(Some(pkt)) => {
                let done =
                    matches!(&pkt, ClientPacket::Reply { xid, .. } if Some(*xid) == outstanding);
                if conn.send(pkt).is_err() {
                    break;
                }
                if done {
                    outstanding = None;
                    while outstanding.is_none() {
                        let Some((xid, op)) = queued.pop_front() else { break };
                        outstanding =
                            handle_request(&ctx, &shared, &conn, conn_id, session_id, xid, op);
                    }
                }
            }
            Step::In(Some(ClientPacket::Request { xid, op })) => {
                lock(&shared).touch(session_id);
                if outstanding.is_some() {
                    queued.push_back((xid, op));
                } else {
                    outstanding =
                        handle_request(&ctx, &shared, &conn, conn_id, session_id, xid, op);
                }
            }
            Step::In(Some(_)) => {}
        }
    }
    let mut st = lock(&shared);
    st.clients.remove(&conn_id);
    st.watches.remove_watcher(&conn_id);
}

enum Step {
    Out(Option<ClientPacket>),
    In(Option<ClientPacket>),
}

/// Session handshake; returns (session, negotiated timeout), or None when the connection must
/// close (not serving, client ahead of us, session expired).
async fn establish(
    ctx: &ProcCtx,
    shared: &Shared,
    conn: &Conn<ClientPacket>,
    conn_id: u64,
    last_zxid_seen: Zxid,
    requested: i32,
    session_id: SessionId,
) -> Option<(SessionId, i32)> {
    let (timeout, new_session, waiter) = {
        let mut st = lock(shared);
        if !st.serving {
            // "ZooKeeperServer not running": the connection is closed at once.
            return None;
        }
        if last_zxid_seen > st.tree.last_processed_zxid() {
            ctx.trace(
                kind::ZK_SESSION_REFUSED,
                None,
                fields! { "client_zxid" => fmt_zxid(last_zxid_seen), "our_zxid" => fmt_zxid(st.tree.last_processed_zxid()) },
            );
            return None;
        }
        let min = st.cfg.min_session_timeout_ms() as i32;
        let max = st.cfg.max_session_timeout_ms() as i32;
        let timeout = requested.clamp(min, max);
        if session_id != 0 {
            if st.tree.sessions().contains_key(&session_id) {
                st.touch(session_id);
                return Some((
                    session_id,
                    *st.tree.sessions().get(&session_id).unwrap_or(&timeout),
                ));
            }
            let _ = conn.send(ClientPacket::ConnectResponse { timeout_ms: 0, session_id });
            ctx.trace(
                kind::ZK_SESSION_EXPIRED_ON_CONNECT,
                None,
                fields! { "session" => format!("0x{session_id:x}") },
            );
            return None;
        }
        let sid = st.next_session;
        st.next_session += 1;
        // The createSession goes through ZAB like any write; cxid 0 is free for it.
        let (tx, rx) = mpsc::unbounded::<ClientPacket>();
        st.clients.insert(conn_id, ClientSlot { session_id: sid, out: tx });
        let ok = st.submit(conn_id, sid, 0, &Op::Ping, Txn::CreateSession { timeout_ms: timeout });
        if !ok {
            st.clients.remove(&conn_id);
            return None;
        }
        (timeout, sid, rx)
    };
    let mut waiter = waiter;
    let committed = waiter.next().await;
    lock(shared).clients.remove(&conn_id);
    match committed {
        Some(ClientPacket::Reply { err: 0, .. }) => Some((new_session, timeout)),
        _ => None,
    }
}

/// Handles one request; returns its xid if it is a write still waiting for its commit.
fn handle_request(
    ctx: &ProcCtx,
    shared: &Shared,
    conn: &Conn<ClientPacket>,
    conn_id: u64,
    session_id: SessionId,
    xid: i32,
    op: Op,
) -> Option<i32> {
    let mut st = lock(shared);
    let zxid = st.tree.last_processed_zxid();
    let reply = |err: i32, body: ReplyBody| ClientPacket::Reply { xid, zxid, err, body };
    let pkt = match &op {
        Op::Ping => reply(0, ReplyBody::Empty),
        Op::Sync { .. } => reply(0, ReplyBody::Empty),
        Op::SetWatches { relative_zxid, data, exist, child } => {
            // DataTree.setWatches: fire what changed while the client was away, re-arm the rest.
            let mut fire = Vec::new();
            for p in data {
                match st.tree.stat_node(p) {
                    None => fire.push((EventType::NodeDeleted, p.clone())),
                    Some(s) if s.mzxid > *relative_zxid => {
                        fire.push((EventType::NodeDataChanged, p.clone()))
                    }
                    Some(_) => st.watches.add_data_watch(p, conn_id),
                }
            }
            for p in exist {
                match st.tree.stat_node(p) {
                    Some(_) => fire.push((EventType::NodeCreated, p.clone())),
                    None => st.watches.add_data_watch(p, conn_id),
                }
            }
            for p in child {
                match st.tree.stat_node(p) {
                    None => fire.push((EventType::NodeDeleted, p.clone())),
                    Some(s) if s.pzxid > *relative_zxid => {
                        fire.push((EventType::NodeChildrenChanged, p.clone()))
                    }
                    Some(_) => st.watches.add_child_watch(p, conn_id),
                }
            }
            for (kind, path) in fire {
                let _ = conn.send(ClientPacket::WatcherEvent { event_type: kind.code(), path });
            }
            reply(0, ReplyBody::Empty)
        }
        Op::Exists { path, watch } => {
            if *watch {
                st.watches.add_data_watch(path, conn_id);
            }
            match st.tree.stat_node(path) {
                Some(s) => reply(0, ReplyBody::Stat(s)),
                None => reply(ZkError::NoNode.code(), ReplyBody::Empty),
            }
        }
        Op::GetData { path, watch } => match st.tree.get_data(path) {
            Ok((d, s)) => {
                if *watch {
                    st.watches.add_data_watch(path, conn_id);
                }
                reply(0, ReplyBody::Data(d, s))
            }
            Err(e) => reply(e.code(), ReplyBody::Empty),
        },
        Op::GetChildren { path, watch } => match st.tree.get_children(path) {
            Ok((c, _)) => {
                if *watch {
                    st.watches.add_child_watch(path, conn_id);
                }
                reply(0, ReplyBody::Children(c))
            }
            Err(e) => reply(e.code(), ReplyBody::Empty),
        },
        // Sessions are opened by the handshake, never by a request.
        Op::Write(Txn::CreateSession { .. }) => {
            reply(ZkError::BadArguments.code(), ReplyBody::Empty)
        }
        Op::Write(txn) => {
            let txn = txn.clone();
            ctx.trace(kind::ZK_REQUEST, None, fields! { "session" => format!("0x{session_id:x}"), "xid" => xid, "op" => txn.op_name(), "path" => op.path() });
            if st.submit(conn_id, session_id, xid, &op, txn) {
                return Some(xid);
            }
            reply(ZkError::ConnectionLoss.code(), ReplyBody::Empty)
        }
    };
    drop(st);
    let _ = conn.send(pkt);
    None
}
