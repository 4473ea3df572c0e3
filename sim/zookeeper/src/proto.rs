//! Wire messages: the client protocol (port 2181), the quorum protocol between leader and
//! learners (port 2888, `QuorumPacket`) and leader-election notifications (port 3888).
//!
//! Sizes approximate ZooKeeper's jute encoding so the NIC model charges realistic bytes.

use super::data_tree::DataTree;
use super::txn::{SessionId, Stat, Txn, TxnHeader, Zxid};
use serde::{Deserialize, Serialize};
use sim_core::hw::Wire;

/// Peer state as announced in election notifications (`QuorumPeer.ServerState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerState {
    /// Electing a leader.
    Looking,
    /// Following the leader.
    Following,
    /// Leading.
    Leading,
}

/// A vote: who should lead, and the credentials it was judged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    /// Proposed leader's sid.
    pub leader: u64,
    /// Proposed leader's last logged zxid.
    pub zxid: Zxid,
    /// Proposed leader's current epoch (`peerEpoch`).
    pub peer_epoch: u32,
}

/// `FastLeaderElection.Notification`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Notification {
    /// The sender's vote.
    pub vote: Vote,
    /// The sender's logical clock (election round).
    pub election_epoch: u64,
    /// The sender's state.
    pub state: ServerState,
    /// The sender's id.
    pub sid: u64,
}

/// Messages on the election port.
#[derive(Debug, Clone)]
pub enum ElectionMsg {
    /// First message on a new connection: who is calling (`QuorumCnxManager` handshake).
    Hello {
        /// Caller's sid.
        sid: u64,
    },
    /// A vote.
    Notification(Notification),
}

impl Wire for ElectionMsg {
    fn wire_size(&self) -> usize {
        match self {
            ElectionMsg::Hello { .. } => 8,
            // state, leader, zxid, electionEpoch, peerEpoch + length prefix.
            ElectionMsg::Notification(_) => 4 + 4 + 8 + 8 + 8 + 8,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            ElectionMsg::Hello { .. } => "fle.hello",
            ElectionMsg::Notification(_) => "fle.notification",
        }
    }
}

/// `QuorumPacket` between the leader and a learner.
#[derive(Debug, Clone)]
pub enum QuorumPacket {
    /// Learner → leader: who I am and the epoch I accepted.
    FollowerInfo {
        /// Learner sid.
        sid: u64,
        /// Learner's acceptedEpoch.
        accepted_epoch: u32,
        /// Learner's last logged zxid.
        last_zxid: Zxid,
    },
    /// Leader → learner: the new epoch.
    LeaderInfo {
        /// New epoch.
        epoch: u32,
    },
    /// Learner → leader: I accept the epoch; here is my history.
    AckEpoch {
        /// Learner's currentEpoch.
        current_epoch: u32,
        /// Learner's last logged zxid.
        last_zxid: Zxid,
    },
    /// Sync by replaying proposals after the learner's last zxid.
    Diff {
        /// Leader's last committed zxid.
        zxid: Zxid,
    },
    /// Learner must drop its log after `zxid`.
    Trunc {
        /// Truncation point.
        zxid: Zxid,
    },
    /// Learner must load this whole snapshot.
    Snap {
        /// Leader's tree.
        tree: Box<DataTree>,
        /// Its zxid.
        zxid: Zxid,
    },
    /// Leader → learner: end of sync; the new epoch starts at this zxid.
    NewLeader {
        /// First zxid of the epoch.
        zxid: Zxid,
    },
    /// Learner → leader: logged (of a proposal, or of NEWLEADER).
    Ack {
        /// Acknowledged zxid.
        zxid: Zxid,
    },
    /// Leader → learner: start serving.
    UpToDate,
    /// A transaction to log.
    Proposal {
        /// Header.
        hdr: TxnHeader,
        /// Transaction.
        txn: Txn,
    },
    /// Apply everything up to this zxid.
    Commit {
        /// Committed zxid.
        zxid: Zxid,
    },
    /// Liveness both ways; the learner's answer carries the sessions its clients touched.
    Ping {
        /// (session, timeout) touched since the last ping.
        touches: Vec<(SessionId, i32)>,
    },
    /// Learner → leader: a client's write to propose.
    Request {
        /// Client session.
        session_id: SessionId,
        /// Client's request number.
        cxid: i32,
        /// The operation.
        txn: Txn,
    },
}

impl Wire for QuorumPacket {
    fn wire_size(&self) -> usize {
        // type + zxid + data length + data (+ auth, empty).
        16 + match self {
            QuorumPacket::Snap { tree, .. } => tree.approximate_data_size() as usize,
            QuorumPacket::Proposal { txn, .. } | QuorumPacket::Request { txn, .. } => {
                txn.wire_size()
            }
            QuorumPacket::Ping { touches } => touches.len() * 12,
            QuorumPacket::FollowerInfo { .. } | QuorumPacket::AckEpoch { .. } => 16,
            _ => 0,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            QuorumPacket::FollowerInfo { .. } => "zab.followerinfo",
            QuorumPacket::LeaderInfo { .. } => "zab.leaderinfo",
            QuorumPacket::AckEpoch { .. } => "zab.ackepoch",
            QuorumPacket::Diff { .. } => "zab.diff",
            QuorumPacket::Trunc { .. } => "zab.trunc",
            QuorumPacket::Snap { .. } => "zab.snap",
            QuorumPacket::NewLeader { .. } => "zab.newleader",
            QuorumPacket::Ack { .. } => "zab.ack",
            QuorumPacket::UpToDate => "zab.uptodate",
            QuorumPacket::Proposal { .. } => "zab.proposal",
            QuorumPacket::Commit { .. } => "zab.commit",
            QuorumPacket::Ping { .. } => "zab.ping",
            QuorumPacket::Request { .. } => "zab.request",
        }
    }
    fn traced(&self) -> bool {
        !matches!(self, QuorumPacket::Ping { .. })
    }
}

/// A client operation (`OpCode`). Writes carry the very transaction ZAB will replicate.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// create, delete, setData, closeSession.
    Write(Txn),
    /// exists
    Exists {
        /// Path.
        path: String,
        /// Leave a data watch.
        watch: bool,
    },
    /// getData
    GetData {
        /// Path.
        path: String,
        /// Leave a data watch.
        watch: bool,
    },
    /// getChildren
    GetChildren {
        /// Path.
        path: String,
        /// Leave a child watch.
        watch: bool,
    },
    /// sync: catch up with the leader before the next read.
    Sync {
        /// Path.
        path: String,
    },
    /// ping (xid −2)
    Ping,
    /// setWatches (xid −8): after a reconnect, the client re-registers its watches; the server
    /// fires at once those whose node changed after `relative_zxid`.
    SetWatches {
        /// The last zxid the client saw.
        relative_zxid: Zxid,
        /// Paths with a data watch (getData/exists on an existing node).
        data: Vec<String>,
        /// Paths with an exists watch on a missing node.
        exist: Vec<String>,
        /// Paths with a child watch.
        child: Vec<String>,
    },
}

impl Op {
    /// The path an operation is about ("" for session operations).
    pub fn path(&self) -> &str {
        match self {
            Op::Write(txn) => txn.path().unwrap_or(""),
            Op::Exists { path, .. }
            | Op::GetData { path, .. }
            | Op::GetChildren { path, .. }
            | Op::Sync { path } => path,
            Op::Ping | Op::SetWatches { .. } => "",
        }
    }
}

/// A reply's payload.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyBody {
    /// Nothing (delete, ping, close, errors).
    Empty,
    /// create: the actual path.
    Created(String),
    /// exists / setData.
    Stat(Stat),
    /// getData.
    Data(Vec<u8>, Stat),
    /// getChildren.
    Children(Vec<String>),
}

/// Messages on the client port.
#[derive(Debug, Clone)]
pub enum ClientPacket {
    /// Session handshake.
    ConnectRequest {
        /// Highest zxid the client has seen.
        last_zxid_seen: Zxid,
        /// Requested session timeout.
        timeout_ms: i32,
        /// 0 for a new session.
        session_id: SessionId,
    },
    /// Handshake answer; a timeout of 0 means the session has expired.
    ConnectResponse {
        /// Negotiated timeout.
        timeout_ms: i32,
        /// Session id.
        session_id: SessionId,
    },
    /// A request.
    Request {
        /// Request number (−2 for pings).
        xid: i32,
        /// The operation.
        op: Op,
    },
    /// A reply (`ReplyHeader` + body).
    Reply {
        /// Request number.
        xid: i32,
        /// Server's last zxid.
        zxid: Zxid,
        /// 0 or a KeeperException code.
        err: i32,
        /// Payload.
        body: ReplyBody,
    },
    /// A watch fired (xid −1).
    WatcherEvent {
        /// `EventType` code.
        event_type: i32,
        /// Path.
        path: String,
    },
    /// A four-letter word (`srvr`, `stat`, `ruok`).
    FourLetter(String),
    /// Its text answer; the server closes the connection after it.
    FourLetterReply(String),
}

impl Wire for ClientPacket {
    fn wire_size(&self) -> usize {
        match self {
            ClientPacket::ConnectRequest { .. } => 48,
            ClientPacket::ConnectResponse { .. } => 36,
            ClientPacket::Request { op, .. } => {
                12 + match op {
                    Op::Write(txn) => txn.wire_size(),
                    Op::SetWatches { data, exist, child, .. } => {
                        20 + data
                            .iter()
                            .chain(exist)
                            .chain(child)
                            .map(|p| 4 + p.len())
                            .sum::<usize>()
                    }
                    _ => op.path().len() + 4,
                }
            }
            ClientPacket::Reply { body, .. } => {
                16 + match body {
                    ReplyBody::Empty => 0,
                    ReplyBody::Created(p) => 4 + p.len(),
                    ReplyBody::Stat(_) => 68,
                    ReplyBody::Data(d, _) => 72 + d.len(),
                    ReplyBody::Children(c) => 4 + c.iter().map(|s| 4 + s.len()).sum::<usize>(),
                }
            }
            ClientPacket::WatcherEvent { path, .. } => 24 + path.len(),
            ClientPacket::FourLetter(_) => 4,
            ClientPacket::FourLetterReply(s) => s.len(),
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            ClientPacket::ConnectRequest { .. } => "zk.connect",
            ClientPacket::ConnectResponse { .. } => "zk.connected",
            ClientPacket::Request { .. } => "zk.request",
            ClientPacket::Reply { .. } => "zk.reply",
            ClientPacket::WatcherEvent { .. } => "zk.watch_event",
            ClientPacket::FourLetter(_) => "zk.4lw",
            ClientPacket::FourLetterReply(_) => "zk.4lw_reply",
        }
    }
    fn traced(&self) -> bool {
        !matches!(
            self,
            ClientPacket::Request { op: Op::Ping, .. } | ClientPacket::Reply { xid: -2, .. }
        )
    }
}
