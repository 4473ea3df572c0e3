//! The client handle, shaped like `org.apache.zookeeper.ZooKeeper` and its `ClientCnxn`.
//!
//! [`ZooKeeper::new`] returns at once and connects in the background to one server of the
//! connection string (shuffled, as `StaticHostProvider` does), moving to the next on failure.
//! Requests issued before the session is established wait in the outgoing queue; when a
//! connection attempt fails or an established connection breaks, every queued and pending request
//! fails with `ConnectionLoss` (`ClientCnxn.cleanup`), while the session itself survives if a
//! reconnect happens before it expires. Watches are one-shot and arrive, with session state
//! changes, through [`ZooKeeper::next_event`].
//!
//! Like `ClientCnxn`, the client remembers its armed watches and re-registers them with
//! `SetWatches` after moving to another server, so a watch survives the death of the server it
//! was set on; the new server fires at once those whose node changed in the meantime.

use super::proto::{ClientPacket, Op, ReplyBody};
use super::txn::{CreateMode, SessionId, Stat, Txn, ZkError, Zxid};
use super::watch_manager::EventType;
use futures::channel::{mpsc, oneshot};
use futures::{FutureExt, StreamExt};
use madsim::rand::seq::SliceRandom;
use madsim::time::Instant;
use sim_core::hw::NetError;
use sim_core::trace::kind;
use sim_core::trace::{fields, lock};
use sim_core::world::ProcCtx;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `Watcher.Event.KeeperState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeeperState {
    /// Connected to a server.
    SyncConnected,
    /// Lost the connection; the session may still be alive.
    Disconnected,
    /// The session expired: ephemerals are gone, the handle is dead.
    Expired,
}

impl KeeperState {
    /// The Java name.
    pub fn name(&self) -> &'static str {
        match self {
            KeeperState::SyncConnected => "SyncConnected",
            KeeperState::Disconnected => "Disconnected",
            KeeperState::Expired => "Expired",
        }
    }
}

/// `WatchedEvent`: a state change (no type) or a fired watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedEvent {
    /// Connection state.
    pub state: KeeperState,
    /// What happened to the node (`None` for state changes).
    pub kind: EventType,
    /// Which node.
    pub path: Option<String>,
}

impl std::fmt::Display for WatchedEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "WatchedEvent state:{} type:{} path:{}",
            self.state.name(),
            self.kind.name(),
            self.path.as_deref().unwrap_or("null")
        )
    }
}

type Reply = Result<ReplyBody, ZkError>;

struct Outgoing {
    op: Op,
    done: oneshot::Sender<Reply>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Life {
    Connecting,
    Connected,
    Closed,
    Expired,
}

struct ClientState {
    session_id: SessionId,
    negotiated_ms: i32,
    life: Life,
    server: Option<String>,
}

/// A ZooKeeper session.
pub struct ZooKeeper {
    state: Arc<Mutex<ClientState>>,
    req_tx: mpsc::UnboundedSender<Outgoing>,
    events: mpsc::UnboundedReceiver<WatchedEvent>,
    task: madsim::task::JoinHandle<()>,
}

impl ZooKeeper {
    /// Starts connecting to one of `servers` (`host:port` pairs) with the requested session
    /// timeout. Returns at once, as the Java constructor does.
    pub fn new(ctx: &ProcCtx, servers: Vec<(String, u16)>, session_timeout: Duration) -> Self {
        let mut servers = servers;
        servers.shuffle(&mut madsim::rand::thread_rng());
        let state = Arc::new(Mutex::new(ClientState {
            session_id: 0,
            negotiated_ms: 0,
            life: Life::Connecting,
            server: None,
        }));
        let (req_tx, req_rx) = mpsc::unbounded();
        let (ev_tx, events) = mpsc::unbounded();
        let task = madsim::task::spawn(event_loop(
            ctx.clone(),
            state.clone(),
            servers,
            session_timeout.as_millis() as i32,
            req_rx,
            ev_tx,
        ));
        ZooKeeper { state, req_tx, events, task }
    }

    /// The session id (0 until connected).
    pub fn session_id(&self) -> SessionId {
        lock(&self.state).session_id
    }

    /// The negotiated session timeout (0 until connected).
    pub fn session_timeout_ms(&self) -> i32 {
        lock(&self.state).negotiated_ms
    }

    /// The server currently connected to.
    pub fn current_server(&self) -> Option<String> {
        lock(&self.state).server.clone()
    }

    /// True while connected.
    pub fn is_connected(&self) -> bool {
        lock(&self.state).life == Life::Connected
    }

    /// The next watch or state event.
    pub async fn next_event(&mut self) -> Option<WatchedEvent> {
        self.events.next().await
    }

    /// Takes the event stream, so the handle can be shared (`Arc`) while one task reads events.
    pub fn take_events(&mut self) -> mpsc::UnboundedReceiver<WatchedEvent> {
        let (_, empty) = mpsc::unbounded();
        std::mem::replace(&mut self.events, empty)
    }

    /// A watch or state event that has already arrived, if any.
    pub fn try_next_event(&mut self) -> Option<WatchedEvent> {
        self.events.try_recv().ok()
    }

    async fn call(&self, op: Op) -> Reply {
        match lock(&self.state).life {
            Life::Expired => return Err(ZkError::SessionExpired),
            Life::Closed => return Err(ZkError::ConnectionLoss),
            _ => {}
        }
        let (done, rx) = oneshot::channel();
        if self.req_tx.unbounded_send(Outgoing { op, done }).is_err() {
            return Err(ZkError::ConnectionLoss);
        }
        rx.await.unwrap_or(Err(ZkError::ConnectionLoss))
    }

    /// Creates a node; returns its actual path (with the sequence suffix for sequential nodes).
    pub async fn create(
        &self,
        path: &str,
        data: &[u8],
        mode: CreateMode,
    ) -> Result<String, ZkError> {
        match self
            .call(Op::Write(Txn::Create { path: path.into(), data: data.to_vec(), mode }))
            .await?
        {
            ReplyBody::Created(p) => Ok(p),
            _ => Ok(path.to_string()),
        }
    }

    /// Deletes a node if its version matches (−1: any).
    pub async fn delete(&self, path: &str, version: i32) -> Result<(), ZkError> {
        self.call(Op::Write(Txn::Delete { path: path.into(), version })).await.map(|_| ())
    }

    /// The node's stat, or `None`; `watch` leaves a watch either way (it fires on creation too).
    pub async fn exists(&self, path: &str, watch: bool) -> Result<Option<Stat>, ZkError> {
        match self.call(Op::Exists { path: path.into(), watch }).await {
            Ok(ReplyBody::Stat(s)) => Ok(Some(s)),
            Ok(_) => Ok(None),
            Err(ZkError::NoNode) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Data and stat of a node.
    pub async fn get_data(&self, path: &str, watch: bool) -> Result<(Vec<u8>, Stat), ZkError> {
        match self.call(Op::GetData { path: path.into(), watch }).await? {
            ReplyBody::Data(d, s) => Ok((d, s)),
            _ => Err(ZkError::MarshallingError),
        }
    }

    /// Replaces a node's data if its version matches (−1: any); returns the new stat.
    pub async fn set_data(&self, path: &str, data: &[u8], version: i32) -> Result<Stat, ZkError> {
        match self
            .call(Op::Write(Txn::SetData { path: path.into(), data: data.to_vec(), version }))
            .await?
        {
            ReplyBody::Stat(s) => Ok(s),
            _ => Err(ZkError::MarshallingError),
        }
    }

    /// Names of a node's children, sorted.
    pub async fn get_children(&self, path: &str, watch: bool) -> Result<Vec<String>, ZkError> {
        match self.call(Op::GetChildren { path: path.into(), watch }).await? {
            ReplyBody::Children(c) => Ok(c),
            _ => Err(ZkError::MarshallingError),
        }
    }

    /// Closes the session: its ephemeral nodes are deleted at once.
    pub async fn close(&self) {
        let connected = lock(&self.state).life == Life::Connected;
        if connected {
            let _ = madsim::time::timeout(
                Duration::from_secs(2),
                self.call(Op::Write(Txn::CloseSession)),
            )
            .await;
        }
        lock(&self.state).life = Life::Closed;
        self.task.abort();
    }
}

fn fail_all(pending: &mut BTreeMap<i32, Outgoing>, queued: &mut Vec<Outgoing>, e: ZkError) {
    for (_, o) in std::mem::take(pending) {
        let _ = o.done.send(Err(e));
    }
    for o in queued.drain(..) {
        let _ = o.done.send(Err(e));
    }
}

async fn event_loop(
    ctx: ProcCtx,
    state: Arc<Mutex<ClientState>>,
    servers: Vec<(String, u16)>,
    timeout_ms: i32,
    mut req_rx: mpsc::UnboundedReceiver<Outgoing>,
    ev_tx: mpsc::UnboundedSender<WatchedEvent>,
) {
    if servers.is_empty() {
        return;
    }
    let mut last_zxid: Zxid = 0;
    // Armed watches by kind (ZKWatchManager's dataWatches, existWatches, childWatches).
    let mut data_w: BTreeSet<String> = BTreeSet::new();
    let mut exist_w: BTreeSet<String> = BTreeSet::new();
    let mut child_w: BTreeSet<String> = BTreeSet::new();
    let mut next = 0usize;
    let mut xid = 1i32;
    let mut was_connected;
    let mut attempts = 0usize;
    loop {
        let (host, port) = servers[next % servers.len()].clone();
        next += 1;
        attempts += 1;
        if attempts > servers.len() {
            // Back off a little once every server has been tried (ClientCnxn sleeps up to 1 s).
            let ms = madsim::rand::Rng::gen_range(&mut madsim::rand::thread_rng(), 0..1000);
            madsim::time::sleep(Duration::from_millis(ms)).await;
        }
        let (session_id, negotiated) = {
            let st = lock(&state);
            (st.session_id, st.negotiated_ms)
        };
        let requested = if negotiated > 0 { negotiated } else { timeout_ms };
        let connect_timeout =
            Duration::from_millis((requested as u64 / servers.len() as u64).max(1));
        let mut queued: Vec<Outgoing> = Vec::new();
        let mut pending: BTreeMap<i32, Outgoing> = BTreeMap::new();
        let conn = ctx
            .net()
            .connect::<ClientPacket>(&ctx.host, &ctx.name, &host, port, connect_timeout)
            .await;
        let conn = match conn {
            Ok(c) => c,
            Err(_) => {
                while let Ok(o) = req_rx.try_recv() {
                    queued.push(o);
                }
                fail_all(&mut pending, &mut queued, ZkError::ConnectionLoss);
                continue;
            }
        };
        let _ = conn.send(ClientPacket::ConnectRequest {
            last_zxid_seen: last_zxid,
            timeout_ms: requested,
            session_id,
        });
        let answer = conn.recv_timeout(connect_timeout.max(Duration::from_millis(500))).await;
        match answer {
            Ok(ClientPacket::ConnectResponse { timeout_ms: t, session_id: s }) if t > 0 => {
                let mut st = lock(&state);
                st.session_id = s;
                st.negotiated_ms = t;
                st.life = Life::Connected;
                st.server = Some(format!("{host}:{port}"));
                attempts = 0;
            }
            Ok(ClientPacket::ConnectResponse { .. }) => {
                lock(&state).life = Life::Expired;
                ctx.trace(
                    kind::ZK_CLIENT_EXPIRED,
                    None,
                    fields! { "session" => format!("0x{session_id:x}") },
                );
                let _ = ev_tx.unbounded_send(WatchedEvent {
                    state: KeeperState::Expired,
                    kind: EventType::None,
                    path: None,
                });
                while let Ok(o) = req_rx.try_recv() {
                    queued.push(o);
                }
                fail_all(&mut pending, &mut queued, ZkError::SessionExpired);
                return;
            }
            _ => {
                while let Ok(o) = req_rx.try_recv() {
                    queued.push(o);
                }
                fail_all(&mut pending, &mut queued, ZkError::ConnectionLoss);
                continue;
            }
        }
        was_connected = true;
        let _ = ev_tx.unbounded_send(WatchedEvent {
            state: KeeperState::SyncConnected,
            kind: EventType::None,
            path: None,
        });
        if !(data_w.is_empty() && exist_w.is_empty() && child_w.is_empty()) {
            let op = Op::SetWatches {
                relative_zxid: last_zxid,
                data: data_w.iter().cloned().collect(),
                exist: exist_w.iter().cloned().collect(),
                child: child_w.iter().cloned().collect(),
            };
            let _ = conn.send(ClientPacket::Request { xid: -8, op });
        }
        let negotiated = lock(&state).negotiated_ms.max(1) as u64;
        let read_timeout = Duration::from_millis(negotiated * 2 / 3);
        let mut last_send = Instant::now();
        let mut last_recv = Instant::now();
        let broke = loop {
            let ping_at = last_send + read_timeout / 2;
            enum Step {
                Req(Option<Outgoing>),
                Pkt(Result<ClientPacket, NetError>),
                Ping,
            }
            let step = futures::select_biased! {
                p = conn.recv().fuse() => Step::Pkt(p),
                r = req_rx.next() => Step::Req(r),
                _ = madsim::time::sleep_until(ping_at).fuse() => Step::Ping,
            };
            match step {
                Step::Req(None) => return,
                Step::Req(Some(o)) => {
                    let close = o.op == Op::Write(Txn::CloseSession);
                    let my_xid = xid;
                    xid += 1;
                    if conn.send(ClientPacket::Request { xid: my_xid, op: o.op.clone() }).is_err() {
                        queued.push(o);
                        break true;
                    }
                    last_send = Instant::now();
                    pending.insert(my_xid, o);
                    if close {
                        lock(&state).life = Life::Closed;
                    }
                }
                Step::Ping => {
                    if Instant::now().duration_since(last_recv) >= read_timeout {
                        ctx.trace(
                            kind::ZK_CLIENT_TIMEOUT,
                            None,
                            fields! { "server" => host.as_str() },
                        );
                        break true;
                    }
                    let _ = conn.send(ClientPacket::Request { xid: -2, op: Op::Ping });
                    last_send = Instant::now();
                }
                Step::Pkt(Err(_)) => break true,
                Step::Pkt(Ok(pkt)) => {
                    last_recv = Instant::now();
                    match pkt {
                        ClientPacket::Reply { xid: r, zxid, err, body } => {
                            if zxid > last_zxid {
                                last_zxid = zxid;
                            }
                            if let Some(o) = pending.remove(&r) {
                                // Remember armed watches (the server armed them with this reply).
                                match (&o.op, err) {
                                    (Op::GetData { path, watch: true }, 0) => {
                                        data_w.insert(path.clone());
                                    }
                                    (Op::Exists { path, watch: true }, 0) => {
                                        data_w.insert(path.clone());
                                    }
                                    (Op::Exists { path, watch: true }, e)
                                        if e == ZkError::NoNode.code() =>
                                    {
                                        exist_w.insert(path.clone());
                                    }
                                    (Op::GetChildren { path, watch: true }, 0) => {
                                        child_w.insert(path.clone());
                                    }
                                    _ => {}
                                }
                                let res = if err == 0 {
                                    Ok(body)
                                } else {
                                    Err(ZkError::from_code(err).unwrap_or(ZkError::SystemError))
                                };
                                let _ = o.done.send(res);
                            }
                        }
                        ClientPacket::WatcherEvent { event_type, path } => {
                            let kind = EventType::from_code(event_type).unwrap_or(EventType::None);
                            // One-shot: a fired watch is no longer armed.
                            match kind {
                                EventType::NodeChildrenChanged => {
                                    child_w.remove(&path);
                                }
                                EventType::NodeDeleted => {
                                    data_w.remove(&path);
                                    exist_w.remove(&path);
                                    child_w.remove(&path);
                                }
                                _ => {
                                    data_w.remove(&path);
                                    exist_w.remove(&path);
                                }
                            }
                            let _ = ev_tx.unbounded_send(WatchedEvent {
                                state: KeeperState::SyncConnected,
                                kind,
                                path: Some(path),
                            });
                        }
                        _ => {}
                    }
                }
            }
        };
        if broke {
            let closed = lock(&state).life == Life::Closed;
            while let Ok(o) = req_rx.try_recv() {
                queued.push(o);
            }
            fail_all(&mut pending, &mut queued, ZkError::ConnectionLoss);
            if closed {
                return;
            }
            lock(&state).life = Life::Connecting;
            lock(&state).server = None;
            if was_connected {
                let _ = ev_tx.unbounded_send(WatchedEvent {
                    state: KeeperState::Disconnected,
                    kind: EventType::None,
                    path: None,
                });
            }
        }
    }
}
