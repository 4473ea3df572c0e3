//! The serving side of a peer: its database (`ZKDatabase`), the client connections' reply
//! channels, sessions (`SessionTracker`), and the final step of every committed transaction
//! (`FinalRequestProcessor`): apply to the tree, fire watches, answer the client. The connections
//! themselves are [`crate::server_cnxn`].

use super::config::QuorumPeerConfig;
use super::data_tree::{DataTree, ProcessTxnResult};
use super::persistence::FileTxnSnapLog;
use super::proto::{ClientPacket, Op, ReplyBody, ServerState, Vote};
use super::txn::{fmt_zxid, SessionId, Txn, TxnHeader, Zxid};
use super::watch_manager::WatchManager;
use futures::channel::mpsc;
use madsim::time::Instant;
use sim_core::trace::{fields, kind};
use sim_core::world::ProcCtx;
use std::collections::{BTreeMap, VecDeque};
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

/// A client connection's reply channel, by connection id in [`PeerState`].
pub(crate) struct ClientSlot {
    pub(crate) session_id: SessionId,
    pub(crate) out: mpsc::UnboundedSender<ClientPacket>,
}

/// A local request waiting for its commit: which connection, which xid.
struct Waiting {
    conn_id: u64,
    xid: i32,
    op: Op,
}

/// Everything a peer's tasks share, reached through [`crate::quorum_peer::QuorumPeer::lock`]: what
/// ZooKeeper keeps in `QuorumPeer` (state, vote, epochs), its `ZKDatabase` (tree, committed log,
/// transaction log) and its `ZooKeeperServer` (sessions, watches, connections).
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
    pub(crate) watches: WatchManager<u64>,
    pub(crate) clients: BTreeMap<u64, ClientSlot>,
    waiting: BTreeMap<(SessionId, i32), Waiting>,
    /// Follower: sessions touched since the last ping, reported to the leader.
    pub touches: BTreeMap<SessionId, i32>,
    /// Leader: when each session expires.
    pub session_deadlines: BTreeMap<SessionId, (Instant, i32)>,
    /// Where writes go while a role runs.
    pub role_tx: Option<mpsc::UnboundedSender<WriteReq>>,
    pub(crate) next_session: i64,
}

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

    pub(crate) fn submit(
        &mut self,
        conn_id: u64,
        session_id: SessionId,
        xid: i32,
        op: &Op,
        txn: Txn,
    ) -> bool {
        let Some(tx) = &self.role_tx else { return false };
        self.waiting.insert((session_id, xid), Waiting { conn_id, xid, op: op.clone() });
        tx.unbounded_send(WriteReq { session_id, cxid: xid, txn }).is_ok()
    }

    /// Text of the `srvr`/`stat` four-letter words.
    pub(crate) fn four_letter(&self, word: &str) -> String {
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
