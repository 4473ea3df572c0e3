//! Client connections (`NIOServerCnxn`): the session handshake, then requests in order.
//!
//! Reads are answered from the local tree (possibly stale, as in ZooKeeper); writes go to the
//! current role — the leader proposes them, a follower forwards them — and are answered when their
//! COMMIT is applied ([`crate::server::PeerState::apply`]). A connection handles its requests in
//! order, so a client always reads its own writes.

use super::proto::{ClientPacket, Op, ReplyBody};
use super::quorum_peer::QuorumPeer;
use super::server::ClientSlot;
use super::txn::{fmt_zxid, SessionId, Txn, ZkError, Zxid};
use super::watch_manager::EventType;
use futures::channel::mpsc;
use futures::{FutureExt, StreamExt};
use sim_core::hw::{Conn, Listener};
use sim_core::trace::{fields, kind};
use sim_core::world::ProcCtx;
use std::collections::VecDeque;

/// Accepts client connections on the client port for the life of the process.
pub async fn serve_clients(ctx: ProcCtx, peer: QuorumPeer, mut listener: Listener<ClientPacket>) {
    let mut next_conn = 1u64;
    while let Some(conn) = listener.accept().await {
        let id = next_conn;
        next_conn += 1;
        madsim::task::spawn(handle_client(ctx.clone(), peer.clone(), conn, id));
    }
}

/// One client connection (`NIOServerCnxn`): handshake, then requests in order.
async fn handle_client(ctx: ProcCtx, peer: QuorumPeer, conn: Conn<ClientPacket>, conn_id: u64) {
    let first = match conn.recv().await {
        Ok(p) => p,
        Err(_) => return,
    };
    let (session_id, timeout_ms) = match first {
        ClientPacket::FourLetter(word) => {
            let text = peer.lock().four_letter(&word);
            let _ = conn.send(ClientPacket::FourLetterReply(text));
            return;
        }
        ClientPacket::ConnectRequest { last_zxid_seen, timeout_ms, session_id } => {
            match establish(&ctx, &peer, &conn, conn_id, last_zxid_seen, timeout_ms, session_id)
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
        let mut st = peer.lock();
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
                            handle_request(&ctx, &peer, &conn, conn_id, session_id, xid, op);
                    }
                }
            }
            Step::In(Some(ClientPacket::Request { xid, op })) => {
                peer.lock().touch(session_id);
                if outstanding.is_some() {
                    queued.push_back((xid, op));
                } else {
                    outstanding = handle_request(&ctx, &peer, &conn, conn_id, session_id, xid, op);
                }
            }
            Step::In(Some(_)) => {}
        }
    }
    let mut st = peer.lock();
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
    peer: &QuorumPeer,
    conn: &Conn<ClientPacket>,
    conn_id: u64,
    last_zxid_seen: Zxid,
    requested: i32,
    session_id: SessionId,
) -> Option<(SessionId, i32)> {
    let (timeout, new_session, waiter) = {
        let mut st = peer.lock();
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
    peer.lock().clients.remove(&conn_id);
    match committed {
        Some(ClientPacket::Reply { err: 0, .. }) => Some((new_session, timeout)),
        _ => None,
    }
}

/// Handles one request; returns its xid if it is a write still waiting for its commit.
fn handle_request(
    ctx: &ProcCtx,
    peer: &QuorumPeer,
    conn: &Conn<ClientPacket>,
    conn_id: u64,
    session_id: SessionId,
    xid: i32,
    op: Op,
) -> Option<i32> {
    let mut st = peer.lock();
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
