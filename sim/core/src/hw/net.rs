//! The virtual network: hosts with one NIC each, links with latency, bandwidth, loss and
//! partitions, and TCP-like connections between processes.
//!
//! A [`Conn`] is an ordered, reliable byte stream in the TCP sense, carrying typed messages whose
//! [`Wire::wire_size`] is what the NIC is charged for. Timing follows the profile's [`NetParams`]:
//! a message waits for the sender's NIC (bytes / bandwidth), flies for a one-way latency (a minimum
//! plus an exponential tail), waits for the receiver's NIC, and pays a retransmission timeout when
//! the seeded RNG says a segment was lost. Messages of one connection never overtake each other.
//!
//! Faults behave like real TCP, which is what makes ZooKeeper's and Kafka's own timeouts matter:
//! - a **partition** holds data in flight (TCP keeps retransmitting); after a heal it is delivered,
//!   unless the partition outlasted `tcp_give_up_ms`, in which case the connection breaks;
//! - a **port-scoped partition** ([`Net::block_port`]) does the same to the connections of one
//!   service only — those whose listening port is the given one, in either direction — as
//!   `iptables -A INPUT -p tcp --dport 9092 -j DROP` plus the matching `--sport` rule would: the
//!   hosts' other services (ZooKeeper on 2181/2888/3888) keep talking;
//! - a **process death** closes its sockets: the peer reads end-of-stream after the data in flight;
//! - a **host crash** says nothing: peers hear silence until their own timeouts fire, and the first
//!   segment that reaches the rebooted host is answered with a reset.
//!
//! One link can be given its own latency, loss or bandwidth ([`Net::set_link`], `lab net latency
//! 200ms master slave1`), as `tc qdisc … netem` or a `tc` rate limit for one destination would on
//! a real host: its latency and loss replace the network's on that directed link only, and a
//! bandwidth limit is a shaper in front of the sender's NIC that only this link's traffic queues
//! in. Such a link's messages still wait for the receiver's NIC but do not hold it for the other
//! links (whose messages may arrive first). Links without settings draw exactly what they drew
//! before.
//!
//! ```
//! use sim_core::hw::{net::{Net, Wire}, NetParams, HardwareProfile};
//! use sim_core::trace::Tracer;
//! #[derive(Debug)] struct Ping(u32);
//! impl Wire for Ping { fn wire_size(&self) -> usize { 64 } fn kind(&self) -> &'static str { "ping" } }
//! let rt = madsim::runtime::Runtime::new();
//! rt.block_on(async {
//!     let net = Net::new(HardwareProfile::default().net, Tracer::new());
//!     net.add_host("a"); net.add_host("b");
//!     let mut listener = net.listen::<Ping>("b", "server", 7).unwrap();
//!     let client = net.connect::<Ping>("a", "client", "b", 7, std::time::Duration::from_secs(1)).await.unwrap();
//!     client.send(Ping(1)).unwrap();
//!     let server = listener.accept().await.unwrap();
//!     assert_eq!(server.recv().await.unwrap().0, 1);
//! });
//! ```

use super::profile::NetParams;
use super::sleep_exact as sleep;
use crate::trace::{fields, kind, lock, EventId, Tracer};
use futures::channel::mpsc;
use futures::StreamExt;
use madsim::rand::Rng;
use madsim::time::Instant;
use std::any::Any;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::future::poll_fn;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Poll, Waker};
use std::time::Duration;

/// A message that can cross the virtual network.
pub trait Wire: Send + 'static {
    /// Bytes on the wire (headers included); the NIC is charged for these.
    fn wire_size(&self) -> usize;
    /// A short name for the trace (`"zab.proposal"`, `"fle.notification"`).
    fn kind(&self) -> &'static str;
    /// Whether sends and receives of this message are traced (heartbeats may opt out).
    fn traced(&self) -> bool {
        true
    }
}

/// Network errors, as a socket would report them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// Nothing listens on that port (RST to the SYN).
    #[error("Connection refused")]
    Refused,
    /// No answer in time (host down, partitioned, or TCP gave up retransmitting).
    #[error("Connection timed out")]
    TimedOut,
    /// The peer reset the connection.
    #[error("Connection reset by peer")]
    Reset,
    /// The peer closed the connection in order (end of stream).
    #[error("end of stream")]
    Closed,
    /// The port is already bound on that host.
    #[error("Address already in use")]
    AddrInUse,
    /// No such host.
    #[error("unknown host {0}")]
    UnknownHost(String),
}

/// Per-host NIC state.
#[derive(Debug)]
struct HostNic {
    up: bool,
    /// Incremented on every boot: a socket of an older incarnation is dead.
    epoch: u64,
    egress_free_at: Instant,
    ingress_free_at: Instant,
    bytes_sent: u64,
    bytes_received: u64,
}

/// One directed link's own settings (`lab net latency|loss|bandwidth VALUE A B`); `None` follows
/// the network's parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkParams {
    /// One-way latency on this link (minimum and mean).
    pub latency: Option<Duration>,
    /// Probability that a segment on this link is lost (and resent after an RTO).
    pub loss: Option<f64>,
    /// A rate limit for this link's traffic, bits per second.
    pub bandwidth_bps: Option<u64>,
}

impl LinkParams {
    fn is_default(&self) -> bool {
        *self == LinkParams::default()
    }
}

#[derive(Debug)]
struct LinkState {
    params: LinkParams,
    /// When the link's shaper is free again (only with a bandwidth limit).
    free_at: Instant,
}

struct NetState {
    params: NetParams,
    /// Directed links with settings of their own: (from, to).
    links: BTreeMap<(String, String), LinkState>,
    hosts: BTreeMap<String, HostNic>,
    /// Directed links that drop everything: (from, to).
    blocked: BTreeSet<(String, String)>,
    /// Directed links that drop one service's traffic: (from, to, listening port). A connection's
    /// port is the one its server listens on, so both directions of it are matched.
    blocked_ports: BTreeSet<(String, String, u16)>,
    listeners: BTreeMap<(String, u16), (u64, Box<dyn Any + Send>)>,
    /// Pipes that may hold packets during a partition, released on heal.
    pipes: Vec<Weak<dyn Releasable>>,
    next_conn: u64,
}

/// The world's network. Cheap to clone.
#[derive(Clone)]
pub struct Net {
    state: Arc<Mutex<NetState>>,
    tracer: Tracer,
    clock: super::Clock,
}

impl std::fmt::Debug for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Net").finish_non_exhaustive()
    }
}

impl NetState {
    fn is_blocked(&self, from: &str, to: &str) -> bool {
        // Checked on every send: no key to build while nothing is blocked.
        !self.blocked.is_empty() && self.blocked.contains(&(from.to_string(), to.to_string()))
    }

    /// Whether traffic from `from` to `to` on a connection to listening port `port` is dropped:
    /// the whole link is blocked, or that port on it.
    fn is_blocked_on(&self, from: &str, to: &str, port: u16) -> bool {
        self.is_blocked(from, to)
            || (!self.blocked_ports.is_empty()
                && self.blocked_ports.contains(&(from.to_string(), to.to_string(), port)))
    }

    /// The settings of the link `from` → `to`, if it has any.
    fn link(&self, from: &str, to: &str) -> Option<&LinkParams> {
        // Looked up on every send: no key to build while no link has settings.
        if self.links.is_empty() {
            return None;
        }
        self.links.get(&(from.to_string(), to.to_string())).map(|l| &l.params)
    }

    fn one_way_latency(&self, from: &str, to: &str) -> Duration {
        if from == to {
            return Duration::from_micros(self.params.loopback_latency_us);
        }
        let link = self.link(from, to);
        let (min_us, mean_us) = match link.and_then(|l| l.latency) {
            Some(d) => (d.as_micros() as u64, d.as_micros() as u64),
            None => (self.params.latency_min_us, self.params.latency_mean_us),
        };
        let loss = link.and_then(|l| l.loss).unwrap_or(self.params.loss);
        let min = min_us as f64;
        let tail = mean_us.saturating_sub(min_us) as f64;
        let u: f64 = madsim::rand::thread_rng().gen_range(f64::EPSILON..1.0);
        let mut us = min + (-u.ln()) * tail;
        if loss > 0.0 && madsim::rand::thread_rng().gen_bool(loss.min(1.0)) {
            us += (self.params.rto_ms * 1000) as f64;
        }
        Duration::from_micros(us as u64)
    }

    /// When a message of `size` bytes sent at `now` (the current time) from `from` reaches `to`:
    /// sender NIC, flight, receiver NIC. Loopback skips the NIC.
    fn schedule(&mut self, now: Instant, from: &str, to: &str, size: usize) -> Instant {
        let latency = self.one_way_latency(from, to);
        if from == to {
            return now + latency;
        }
        let tx = Duration::from_nanos(
            (size as u128 * 8 * 1_000_000_000 / self.params.bandwidth_bps.max(1) as u128) as u64,
        );
        let sent_at = match self.hosts.get_mut(from) {
            Some(h) => {
                let start = h.egress_free_at.max(now);
                h.egress_free_at = start + tx;
                h.bytes_sent += size as u64;
                start + tx
            }
            None => now + tx,
        };
        // A rate limit on this link: its traffic also queues in the link's own shaper.
        let link = if self.links.is_empty() {
            None
        } else {
            self.links.get_mut(&(from.to_string(), to.to_string()))
        };
        // A link with a latency or rate of its own delivers out of step with the receiver's
        // other links: its messages do not hold the receiver's NIC for those (the NIC model is a
        // queue in sending order, which is arrival order only while every link has one latency).
        let own_timing = link
            .as_ref()
            .is_some_and(|l| l.params.latency.is_some() || l.params.bandwidth_bps.is_some());
        let shaped = match link {
            Some(l) => match l.params.bandwidth_bps {
                Some(bps) => {
                    let t = Duration::from_nanos(
                        (size as u128 * 8 * 1_000_000_000 / bps.max(1) as u128) as u64,
                    );
                    let start = l.free_at.max(now);
                    l.free_at = start + t;
                    Some(l.free_at)
                }
                None => None,
            },
            None => None,
        };
        let sent_at = shaped.map_or(sent_at, |s| s.max(sent_at));
        let arrives = sent_at + latency;
        match self.hosts.get_mut(to) {
            Some(h) => {
                // Cut-through: the receiver's NIC is busy for `tx` per message.
                let done = arrives.max(h.ingress_free_at + tx);
                if !own_timing {
                    h.ingress_free_at = done;
                }
                h.bytes_received += size as u64;
                done
            }
            None => arrives,
        }
    }

    fn host_alive(&self, host: &str, epoch: u64) -> bool {
        self.hosts.get(host).is_some_and(|h| h.up && h.epoch == epoch)
    }
}

impl Net {
    /// A network with these parameters and no hosts.
    pub fn new(params: NetParams, tracer: Tracer) -> Self {
        Net {
            state: Arc::new(Mutex::new(NetState {
                params,
                links: BTreeMap::new(),
                hosts: BTreeMap::new(),
                blocked: BTreeSet::new(),
                blocked_ports: BTreeSet::new(),
                listeners: BTreeMap::new(),
                pipes: Vec::new(),
                next_conn: 1,
            })),
            tracer,
            clock: super::Clock::current(),
        }
    }

    /// Virtual now, read through the clock the network keeps (cheaper than `Instant::now()`).
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Virtual time since the simulation started, in microseconds (the trace's time stamps).
    fn now_us(&self) -> u64 {
        self.clock.elapsed().as_micros() as u64
    }

    /// Adds a powered-on host.
    pub fn add_host(&self, name: &str) {
        let now = self.now();
        lock(&self.state).hosts.insert(
            name.to_string(),
            HostNic {
                up: true,
                epoch: 0,
                egress_free_at: now,
                ingress_free_at: now,
                bytes_sent: 0,
                bytes_received: 0,
            },
        );
    }

    /// Power state of a host. Powering off leaves peers in silence; powering on starts a new
    /// incarnation whose sockets answer old connections with resets.
    pub fn set_host_up(&self, host: &str, up: bool) {
        let mut st = lock(&self.state);
        if let Some(h) = st.hosts.get_mut(host) {
            if up && !h.up {
                h.epoch += 1;
            }
            h.up = up;
        }
    }

    /// Current parameters.
    pub fn params(&self) -> NetParams {
        lock(&self.state).params.clone()
    }

    /// Replaces the parameters (`lab net latency …`).
    pub fn set_params(&self, params: NetParams) {
        lock(&self.state).params = params;
    }

    /// The settings of the directed link `from` → `to` (all `None`: it follows the network's).
    pub fn link(&self, from: &str, to: &str) -> LinkParams {
        lock(&self.state).link(from, to).cloned().unwrap_or_default()
    }

    /// Changes the settings of the directed link `from` → `to` (`lab net latency 200ms A B` does
    /// it for both directions). Traced as `net.link` with what the link's settings now are.
    pub fn set_link(&self, from: &str, to: &str, change: impl FnOnce(&mut LinkParams)) {
        let now = self.now();
        let params = {
            let mut st = lock(&self.state);
            let key = (from.to_string(), to.to_string());
            let l = st
                .links
                .entry(key.clone())
                .or_insert_with(|| LinkState { params: LinkParams::default(), free_at: now });
            change(&mut l.params);
            let params = l.params.clone();
            if params.is_default() {
                st.links.remove(&key);
            }
            params
        };
        self.tracer.emit(
            self.now_us(),
            "lab",
            "net",
            kind::NET_LINK,
            None,
            fields! {
                "from" => from,
                "to" => to,
                "latency_us" => params.latency.map(|d| d.as_micros() as u64),
                "loss" => params.loss,
                "bandwidth_bps" => params.bandwidth_bps,
            },
        );
    }

    /// Every link follows the network's parameters again (nothing is traced if none had
    /// settings of its own).
    pub fn clear_links(&self) {
        let links: Vec<(String, String)> =
            std::mem::take(&mut lock(&self.state).links).into_keys().collect();
        for (from, to) in links {
            self.set_link(&from, &to, |l| *l = LinkParams::default());
        }
    }

    /// Bytes (sent, received) by a host's NIC so far.
    pub fn nic_bytes(&self, host: &str) -> (u64, u64) {
        lock(&self.state).hosts.get(host).map_or((0, 0), |h| (h.bytes_sent, h.bytes_received))
    }

    /// Drops traffic between every host of `a` and every host of `b`, both directions.
    pub fn partition(&self, a: &[String], b: &[String]) {
        for x in a {
            for y in b {
                self.block(x, y);
                self.block(y, x);
            }
        }
    }

    /// Drops traffic from `from` to `to` only.
    pub fn block(&self, from: &str, to: &str) {
        let mut st = lock(&self.state);
        if st.blocked.insert((from.to_string(), to.to_string())) {
            drop(st);
            self.tracer.emit(
                self.now_us(),
                "lab",
                "net",
                kind::NET_BLOCK,
                None,
                fields! { "from" => from, "to" => to },
            );
            self.hold_in_flight(from, to, None);
        }
    }

    /// Drops the traffic of connections to listening port `port` between every host of `a` and
    /// every host of `b`, both directions; other services on those hosts keep talking.
    pub fn partition_port(&self, a: &[String], b: &[String], port: u16) {
        for x in a {
            for y in b {
                self.block_port(x, y, port);
                self.block_port(y, x, port);
            }
        }
    }

    /// Drops traffic from `from` to `to` on connections whose server listens on `port` (the
    /// requests to a service on `to`, and the responses of a service on `from`).
    pub fn block_port(&self, from: &str, to: &str, port: u16) {
        let mut st = lock(&self.state);
        if st.blocked_ports.insert((from.to_string(), to.to_string(), port)) {
            drop(st);
            self.tracer.emit(
                self.now_us(),
                "lab",
                "net",
                kind::NET_BLOCK,
                None,
                fields! { "from" => from, "to" => to, "port" => port },
            );
            self.hold_in_flight(from, to, Some(port));
        }
    }

    /// True if traffic from `from` to `to` is dropped.
    pub fn is_blocked(&self, from: &str, to: &str) -> bool {
        lock(&self.state).is_blocked(from, to)
    }

    /// True if traffic from `from` to `to` on a connection to listening port `port` is dropped.
    pub fn is_blocked_on(&self, from: &str, to: &str, port: u16) -> bool {
        lock(&self.state).is_blocked_on(from, to, port)
    }

    /// Removes every partition; held data flows again (or the connection breaks if TCP gave up).
    pub fn heal(&self) {
        let pipes = {
            let mut st = lock(&self.state);
            st.blocked.clear();
            st.blocked_ports.clear();
            st.pipes.retain(|p| p.strong_count() > 0);
            st.pipes.clone()
        };
        self.tracer.emit(self.now_us(), "lab", "net", kind::NET_HEAL, None, fields! {});
        for p in pipes.iter().filter_map(Weak::upgrade) {
            p.release(self);
        }
    }

    /// Data in flight on a newly blocked link (or port of it) is held too: it was "on the wire".
    fn hold_in_flight(&self, from: &str, to: &str, port: Option<u16>) {
        let pipes: Vec<_> = lock(&self.state).pipes.iter().filter_map(Weak::upgrade).collect();
        for p in pipes {
            p.hold_if(from, to, port);
        }
    }

    /// Binds `host:port` for messages of type `T`.
    pub fn listen<T: Wire>(
        &self,
        host: &str,
        proc: &str,
        port: u16,
    ) -> Result<Listener<T>, NetError> {
        let mut st = lock(&self.state);
        if !st.hosts.contains_key(host) {
            return Err(NetError::UnknownHost(host.to_string()));
        }
        let key = (host.to_string(), port);
        if st.listeners.contains_key(&key) {
            return Err(NetError::AddrInUse);
        }
        let (tx, rx) = mpsc::unbounded::<Conn<T>>();
        let id = st.next_conn;
        st.next_conn += 1;
        st.listeners.insert(key, (id, Box::new(tx)));
        Ok(Listener {
            net: self.clone(),
            host: host.to_string(),
            proc: proc.to_string(),
            port,
            id,
            rx,
        })
    }

    /// Opens a connection from a process on `from` to `to:port`: one round trip when something
    /// listens, `Refused` when nothing does, `TimedOut` after `timeout` when the SYN gets no answer.
    pub async fn connect<T: Wire>(
        &self,
        from: &str,
        proc: &str,
        to: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<Conn<T>, NetError> {
        // The SYN is retransmitted after 1 s, then doubling (Linux's initial RTO), until the
        // caller's timeout: a host that comes back or a partition that heals in time connects.
        let started = self.now();
        let mut rto = Duration::from_secs(1);
        let (latency, from_epoch) = loop {
            let (reachable, latency, from_epoch) = {
                let st = lock(&self.state);
                let from_h =
                    st.hosts.get(from).ok_or_else(|| NetError::UnknownHost(from.to_string()))?;
                let from_epoch = from_h.epoch;
                let to_h = st.hosts.get(to).ok_or_else(|| NetError::UnknownHost(to.to_string()))?;
                let reachable = to_h.up
                    && !st.is_blocked_on(from, to, port)
                    && !st.is_blocked_on(to, from, port);
                (reachable, st.one_way_latency(from, to), from_epoch)
            };
            if reachable {
                break (latency, from_epoch);
            }
            let waited = self.now().duration_since(started);
            if waited + rto >= timeout {
                sleep(timeout.saturating_sub(waited)).await;
                return Err(NetError::TimedOut);
            }
            sleep(rto).await;
            rto *= 2;
        };
        // SYN travels.
        sleep(latency).await;
        enum Outcome<C> {
            Up(C),
            Down,
            Refused,
        }
        let outcome = {
            let mut st = lock(&self.state);
            match st.hosts.get(to).filter(|h| h.up).map(|h| h.epoch) {
                None => Outcome::Down,
                Some(to_epoch) => {
                    let key = (to.to_string(), port);
                    match st
                        .listeners
                        .get(&key)
                        .map(|(_, l)| l.downcast_ref::<mpsc::UnboundedSender<Conn<T>>>())
                    {
                        Some(Some(sender)) => {
                            let sender = sender.clone();
                            let id = st.next_conn;
                            st.next_conn += 1;
                            let up: Arc<Mutex<Pipe<T>>> =
                                Arc::new(Mutex::new(Pipe::new(from, to, port)));
                            let down: Arc<Mutex<Pipe<T>>> =
                                Arc::new(Mutex::new(Pipe::new(to, from, port)));
                            st.pipes.push(Arc::downgrade(&(up.clone() as Arc<dyn Releasable>)));
                            st.pipes.push(Arc::downgrade(&(down.clone() as Arc<dyn Releasable>)));
                            drop(st);
                            let end = |local: &str, peer: &str, proc: &str, epoch, tx, rx| Conn {
                                net: self.clone(),
                                id,
                                local: local.to_string(),
                                proc: proc.to_string(),
                                peer: peer.to_string(),
                                port,
                                epoch,
                                tx,
                                rx,
                                timeouts: super::TimeoutTimer::default(),
                            };
                            let client = end(from, to, proc, from_epoch, up.clone(), down.clone());
                            let server = end(to, from, "", to_epoch, down, up);
                            if sender.unbounded_send(server).is_err() {
                                Outcome::Refused
                            } else {
                                Outcome::Up(client)
                            }
                        }
                        _ => Outcome::Refused,
                    }
                }
            }
        };
        let client = match outcome {
            Outcome::Up(c) => c,
            Outcome::Down => {
                sleep(timeout.saturating_sub(latency)).await;
                return Err(NetError::TimedOut);
            }
            Outcome::Refused => {
                sleep(latency).await;
                return Err(NetError::Refused);
            }
        };
        // SYN-ACK travels back.
        sleep(latency).await;
        Ok(client)
    }
}

/// A bound port accepting connections of type `T`. Dropping it unbinds the port.
pub struct Listener<T: Wire> {
    net: Net,
    host: String,
    proc: String,
    port: u16,
    id: u64,
    rx: mpsc::UnboundedReceiver<Conn<T>>,
}

impl<T: Wire> Listener<T> {
    /// The next incoming connection; `None` once the listener is closed.
    pub async fn accept(&mut self) -> Option<Conn<T>> {
        let mut conn = self.rx.next().await?;
        conn.proc = self.proc.clone();
        Some(conn)
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl<T: Wire> Drop for Listener<T> {
    fn drop(&mut self) {
        let mut st = lock(&self.net.state);
        let key = (self.host.clone(), self.port);
        // Only unbind our own binding, never a successor's.
        if st.listeners.get(&key).is_some_and(|(id, _)| *id == self.id) {
            st.listeners.remove(&key);
        }
    }
}

enum Packet<T> {
    Data {
        msg: T,
        size: usize,
        deliver_at: Option<Instant>,
        held_since: Instant,
        send_id: Option<EventId>,
    },
    Fin {
        deliver_at: Option<Instant>,
        held_since: Instant,
    },
}

impl<T> Packet<T> {
    fn deliver_at(&self) -> Option<Instant> {
        match self {
            Packet::Data { deliver_at, .. } | Packet::Fin { deliver_at, .. } => *deliver_at,
        }
    }
}

/// One direction of a connection.
struct Pipe<T> {
    src: String,
    dst: String,
    /// The connection's listening port (what a port-scoped partition matches).
    port: u16,
    q: VecDeque<Packet<T>>,
    last_deliver: Option<Instant>,
    waker: Option<Waker>,
    /// The receiving socket is gone: `Some(true)` if it was closed (RST to new data),
    /// `Some(false)` if its host lost power (data vanishes silently).
    receiver_gone: Option<bool>,
    /// Epoch of the receiving host when it went silent, to detect a reboot.
    receiver_epoch: u64,
    broken: Option<NetError>,
}

impl<T> Pipe<T> {
    fn new(src: &str, dst: &str, port: u16) -> Self {
        Pipe {
            src: src.to_string(),
            dst: dst.to_string(),
            port,
            q: VecDeque::new(),
            last_deliver: None,
            waker: None,
            receiver_gone: None,
            receiver_epoch: 0,
            broken: None,
        }
    }

    fn wake(&mut self) {
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }

    /// Orders delivery after everything already queued on this connection.
    fn in_order(&mut self, at: Instant) -> Instant {
        let at = self.last_deliver.map_or(at, |l| l.max(at));
        self.last_deliver = Some(at);
        at
    }

    fn break_with(&mut self, e: NetError) {
        if self.broken.is_none() {
            self.broken = Some(e);
        }
        self.q.clear();
        self.wake();
    }
}

/// Type-erased view of a pipe for partitions and heals.
trait Releasable: Send + Sync {
    /// Holds this pipe's in-flight data if it runs `from` → `to` (and, for a port-scoped block,
    /// belongs to a connection to `port`).
    fn hold_if(&self, from: &str, to: &str, port: Option<u16>);
    fn release(&self, net: &Net);
}

impl<T: Wire> Releasable for Mutex<Pipe<T>> {
    fn hold_if(&self, from: &str, to: &str, port: Option<u16>) {
        let mut p = lock(self);
        if p.src != from || p.dst != to || port.is_some_and(|port| port != p.port) {
            return;
        }
        let now = super::now();
        for pkt in p.q.iter_mut() {
            match pkt {
                Packet::Data { deliver_at, held_since, .. }
                | Packet::Fin { deliver_at, held_since } => {
                    if deliver_at.is_some_and(|d| d > now) {
                        *deliver_at = None;
                        *held_since = now;
                    }
                }
            }
        }
    }

    fn release(&self, net: &Net) {
        let mut st = lock(&net.state);
        let give_up = Duration::from_millis(st.params.tcp_give_up_ms);
        let mut p = lock(self);
        if st.is_blocked_on(&p.src, &p.dst, p.port) {
            return;
        }
        let now = net.now();
        let (src, dst) = (p.src.clone(), p.dst.clone());
        let mut expired = false;
        let mut times = Vec::new();
        for pkt in p.q.iter() {
            match pkt {
                Packet::Data { deliver_at: None, held_since, size, .. } => {
                    expired |= now.duration_since(*held_since) >= give_up;
                    times.push(Some(st.schedule(now, &src, &dst, *size)));
                }
                Packet::Fin { deliver_at: None, held_since } => {
                    expired |= now.duration_since(*held_since) >= give_up;
                    times.push(Some(st.schedule(now, &src, &dst, 40)));
                }
                _ => times.push(None),
            }
        }
        if expired {
            p.break_with(NetError::TimedOut);
            return;
        }
        let mut last: Option<Instant> = None;
        for (pkt, t) in p.q.iter_mut().zip(times) {
            let at = match (pkt.deliver_at(), t) {
                (Some(d), _) => d,
                (None, Some(t)) => t,
                (None, None) => now,
            };
            let at = last.map_or(at, |l: Instant| l.max(at));
            last = Some(at);
            match pkt {
                Packet::Data { deliver_at, .. } | Packet::Fin { deliver_at, .. } => {
                    *deliver_at = Some(at)
                }
            }
        }
        p.last_deliver = last;
        p.wake();
    }
}

/// One end of a TCP-like connection carrying messages of type `T`.
pub struct Conn<T: Wire> {
    net: Net,
    id: u64,
    local: String,
    proc: String,
    peer: String,
    port: u16,
    epoch: u64,
    tx: Arc<Mutex<Pipe<T>>>,
    rx: Arc<Mutex<Pipe<T>>>,
    /// The timer of this end's read timeouts (one pending at a time, see [`super::TimeoutTimer`]).
    timeouts: super::TimeoutTimer,
}

impl<T: Wire> std::fmt::Debug for Conn<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Conn#{}({} -> {}:{})", self.id, self.local, self.peer, self.port)
    }
}

enum RecvStep<T> {
    Ready(T, Option<EventId>),
    Eof(NetError),
    SleepUntil(Instant),
    Wait(Option<Instant>),
}

impl<T: Wire> Conn<T> {
    /// The host at the other end.
    pub fn peer_host(&self) -> &str {
        &self.peer
    }

    /// The host of this end.
    pub fn local_host(&self) -> &str {
        &self.local
    }

    /// A number identifying the connection (equal at both ends).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Queues a message. Fails if the connection is known to be broken or reset; succeeds
    /// silently when the peer's host has lost power (TCP cannot tell).
    pub fn send(&self, msg: T) -> Result<(), NetError> {
        let mut st = lock(&self.net.state);
        let mut p = lock(&self.tx);
        if let Some(e) = &p.broken {
            return Err(e.clone());
        }
        match p.receiver_gone {
            Some(true) => return Err(NetError::Reset),
            Some(false) => {
                // A rebooted host answers with RST; a dark one swallows the segment.
                let rebooted =
                    st.hosts.get(&self.peer).is_some_and(|h| h.up && h.epoch != p.receiver_epoch);
                if rebooted && !st.is_blocked_on(&self.local, &self.peer, self.port) {
                    p.break_with(NetError::Reset);
                    lock(&self.rx).break_with(NetError::Reset);
                    return Err(NetError::Reset);
                }
                return Ok(());
            }
            None => {}
        }
        let size = msg.wire_size();
        let traced = msg.traced();
        let send_id = traced.then(|| {
            self.net.tracer.emit(
                self.net.now_us(),
                &self.local,
                &self.proc,
                kind::NET_SEND,
                None,
                fields! { "msg" => msg.kind(), "to" => self.peer.as_str(), "bytes" => size, "conn" => self.id },
            )
        });
        let now = self.net.now();
        let deliver_at = if st.is_blocked_on(&self.local, &self.peer, self.port)
            || p.q.iter().any(|x| x.deliver_at().is_none())
        {
            None
        } else {
            let at = st.schedule(now, &self.local, &self.peer, size);
            Some(p.in_order(at))
        };
        p.q.push_back(Packet::Data { msg, size, deliver_at, held_since: now, send_id });
        p.wake();
        Ok(())
    }

    fn poll_step(&self) -> RecvStep<T> {
        let mut p = lock(&self.rx);
        if let Some(e) = &p.broken {
            return RecvStep::Eof(e.clone());
        }
        let now = self.net.now();
        match p.q.front() {
            None => RecvStep::Wait(None),
            Some(pkt) => match pkt.deliver_at() {
                Some(at) if at <= now => match p.q.pop_front() {
                    Some(Packet::Data { msg, send_id, .. }) => RecvStep::Ready(msg, send_id),
                    Some(Packet::Fin { .. }) => {
                        p.broken = Some(NetError::Closed);
                        RecvStep::Eof(NetError::Closed)
                    }
                    None => RecvStep::Wait(None),
                },
                Some(at) => RecvStep::SleepUntil(at),
                None => {
                    // Only held data needs the give-up time: no lock on the network otherwise.
                    let give_up =
                        Duration::from_millis(lock(&self.net.state).params.tcp_give_up_ms);
                    let held_since = match pkt {
                        Packet::Data { held_since, .. } | Packet::Fin { held_since, .. } => {
                            *held_since
                        }
                    };
                    if now.duration_since(held_since) >= give_up {
                        p.break_with(NetError::TimedOut);
                        drop(p);
                        lock(&self.tx).break_with(NetError::TimedOut);
                        return RecvStep::Eof(NetError::TimedOut);
                    }
                    RecvStep::Wait(Some(held_since + give_up))
                }
            },
        }
    }

    /// The next message, in order. `Err(Closed)` after the peer closed, `Err(Reset)` or
    /// `Err(TimedOut)` when the connection broke. Waits forever in silence: callers that need a
    /// bound use [`Conn::recv_timeout`], as real servers set socket timeouts.
    pub async fn recv(&self) -> Result<T, NetError> {
        loop {
            match self.poll_step() {
                RecvStep::Ready(msg, send_id) => {
                    if msg.traced() {
                        self.net.tracer.emit(
                            self.net.now_us(),
                            &self.local,
                            &self.proc,
                            kind::NET_RECV,
                            send_id,
                            fields! { "msg" => msg.kind(), "from" => self.peer.as_str(), "conn" => self.id },
                        );
                    }
                    return Ok(msg);
                }
                RecvStep::Eof(e) => return Err(e),
                RecvStep::SleepUntil(at) => self.net.clock.sleep_until_exact(at).await,
                RecvStep::Wait(deadline) => {
                    let woken = poll_fn(|cx| {
                        let mut p = lock(&self.rx);
                        let ready = p.broken.is_some()
                            || p.q.front().is_some_and(|x| x.deliver_at().is_some());
                        if ready {
                            Poll::Ready(())
                        } else {
                            p.waker = Some(cx.waker().clone());
                            Poll::Pending
                        }
                    });
                    match deadline {
                        Some(d) => {
                            let _ = super::until(&mut super::Deadline::at(d), woken).await;
                        }
                        None => woken.await,
                    }
                }
            }
        }
    }

    /// [`Conn::recv`] bounded by `timeout`: `Err(TimedOut)` if nothing arrives in time (the
    /// connection stays usable, like a socket read timeout).
    pub async fn recv_timeout(&self, timeout: Duration) -> Result<T, NetError> {
        let deadline = self.timeouts.at(&self.net.clock, self.net.now() + timeout);
        super::until(deadline, self.recv()).await.unwrap_or(Err(NetError::TimedOut))
    }
}

impl<T: Wire> Conn<T> {
    /// Closes the connection now, as `socket.close()` from another thread would: the peer reads
    /// end-of-stream after the data in flight, and a local reader gets `Err(Closed)`.
    pub fn shutdown(&self) {
        self.close(true);
    }

    fn close(&self, wake_local: bool) {
        let mut st = lock(&self.net.state);
        let alive = st.host_alive(&self.local, self.epoch);
        let blocked = st.is_blocked_on(&self.local, &self.peer, self.port);
        let mut tx = lock(&self.tx);
        if tx.broken.is_none() && tx.receiver_gone.is_none() && alive {
            // Orderly close: a FIN follows the data in flight.
            let now = self.net.now();
            let deliver_at = if blocked || tx.q.iter().any(|x| x.deliver_at().is_none()) {
                None
            } else {
                let at = st.schedule(now, &self.local, &self.peer, 40);
                Some(tx.in_order(at))
            };
            tx.q.push_back(Packet::Fin { deliver_at, held_since: now });
            tx.wake();
        }
        drop(tx);
        let mut rx = lock(&self.rx);
        if rx.receiver_gone.is_none() {
            rx.receiver_gone = Some(alive);
            rx.receiver_epoch = self.epoch;
        }
        rx.q.clear();
        if wake_local {
            rx.break_with(NetError::Closed);
        }
    }
}

impl<T: Wire> Drop for Conn<T> {
    fn drop(&mut self) {
        // Dropped after the simulation ended (while it unwinds from a panic): nobody is left to
        // hear the FIN, and there is no clock or RNG to send it with.
        if madsim::runtime::Handle::try_current().is_err() {
            return;
        }
        self.close(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hw::HardwareProfile;

    #[derive(Debug)]
    struct Msg(u64, usize);
    impl Wire for Msg {
        fn wire_size(&self) -> usize {
            self.1
        }
        fn kind(&self) -> &'static str {
            "msg"
        }
    }

    fn params() -> NetParams {
        let mut p = HardwareProfile::default().net;
        p.latency_min_us = 100;
        p.latency_mean_us = 100;
        p.loss = 0.0;
        p
    }

    fn run<F: std::future::Future<Output = ()>>(f: impl FnOnce(Net) -> F) {
        let rt = madsim::runtime::Runtime::with_seed_and_config(7, madsim::Config::default());
        rt.block_on(async move {
            let net = Net::new(params(), Tracer::new());
            for h in ["a", "b", "c"] {
                net.add_host(h);
            }
            f(net).await
        });
    }

    async fn pair(net: &Net) -> (Conn<Msg>, Conn<Msg>, Listener<Msg>) {
        let mut l = net.listen::<Msg>("b", "srv", 9).unwrap();
        let c = net.connect::<Msg>("a", "cli", "b", 9, Duration::from_secs(1)).await.unwrap();
        let s = l.accept().await.unwrap();
        (c, s, l)
    }

    #[test]
    fn delivers_in_order_after_latency() {
        run(|net| async move {
            let (c, s, _l) = pair(&net).await;
            let t0 = Instant::now();
            for i in 0..10 {
                c.send(Msg(i, 100)).unwrap();
            }
            for i in 0..10 {
                assert_eq!(s.recv().await.unwrap().0, i);
            }
            assert!(Instant::now() - t0 >= Duration::from_micros(100));
        });
    }

    #[test]
    fn partitioned_link_delivers_nothing_until_heal() {
        run(|net| async move {
            let (c, s, _l) = pair(&net).await;
            net.partition(&["a".into()], &["b".into()]);
            c.send(Msg(1, 100)).unwrap();
            assert_eq!(
                s.recv_timeout(Duration::from_secs(5)).await.unwrap_err(),
                NetError::TimedOut
            );
            net.heal();
            assert_eq!(s.recv_timeout(Duration::from_secs(1)).await.unwrap().0, 1);
        });
    }

    #[test]
    fn long_partition_breaks_the_connection() {
        run(|net| async move {
            let (c, s, _l) = pair(&net).await;
            net.partition(&["a".into()], &["b".into()]);
            c.send(Msg(1, 100)).unwrap();
            sleep(Duration::from_millis(params().tcp_give_up_ms + 1)).await;
            net.heal();
            assert_eq!(s.recv().await.unwrap_err(), NetError::TimedOut);
        });
    }

    #[test]
    fn new_connections_across_a_partition_time_out() {
        run(|net| async move {
            let _l = net.listen::<Msg>("b", "srv", 9).unwrap();
            net.partition(&["a".into()], &["b".into(), "c".into()]);
            let e =
                net.connect::<Msg>("a", "cli", "b", 9, Duration::from_secs(3)).await.unwrap_err();
            assert_eq!(e, NetError::TimedOut);
            let e =
                net.connect::<Msg>("c", "cli", "b", 8, Duration::from_secs(3)).await.unwrap_err();
            assert_eq!(e, NetError::Refused);
        });
    }

    #[test]
    fn port_scoped_partition_blocks_one_service_only() {
        run(|net| async move {
            let (c9, s9, _l9) = pair(&net).await;
            let mut l8 = net.listen::<Msg>("b", "other", 8).unwrap();
            let c8 = net.connect::<Msg>("a", "cli", "b", 8, Duration::from_secs(1)).await.unwrap();
            let s8 = l8.accept().await.unwrap();
            net.partition_port(&["a".into()], &["b".into()], 9);
            assert!(net.is_blocked_on("a", "b", 9) && net.is_blocked_on("b", "a", 9));
            assert!(!net.is_blocked_on("a", "b", 8) && !net.is_blocked("a", "b"));
            // Port 9 is cut both ways, on the open connection and for new ones.
            c9.send(Msg(1, 10)).unwrap();
            s9.send(Msg(2, 10)).unwrap();
            assert_eq!(
                s9.recv_timeout(Duration::from_secs(2)).await.unwrap_err(),
                NetError::TimedOut
            );
            assert_eq!(
                c9.recv_timeout(Duration::from_secs(2)).await.unwrap_err(),
                NetError::TimedOut
            );
            let e =
                net.connect::<Msg>("b", "cli", "a", 9, Duration::from_secs(2)).await.unwrap_err();
            assert_eq!(e, NetError::TimedOut, "a SYN to port 9 is dropped too");
            // Port 8 between the same hosts still works.
            c8.send(Msg(3, 10)).unwrap();
            assert_eq!(s8.recv_timeout(Duration::from_secs(1)).await.unwrap().0, 3);
            s8.send(Msg(4, 10)).unwrap();
            assert_eq!(c8.recv_timeout(Duration::from_secs(1)).await.unwrap().0, 4);
            // And port 9 to a third host.
            let mut lc = net.listen::<Msg>("c", "srv", 9).unwrap();
            let cc = net.connect::<Msg>("a", "cli", "c", 9, Duration::from_secs(1)).await.unwrap();
            cc.send(Msg(5, 10)).unwrap();
            assert_eq!(lc.accept().await.unwrap().recv().await.unwrap().0, 5);
            net.heal();
            assert_eq!(
                s9.recv_timeout(Duration::from_secs(1)).await.unwrap().0,
                1,
                "held data flows after heal"
            );
            assert_eq!(c9.recv_timeout(Duration::from_secs(1)).await.unwrap().0, 2);
        });
    }

    #[test]
    fn one_way_partition_blocks_one_direction() {
        run(|net| async move {
            let (c, s, _l) = pair(&net).await;
            net.block("a", "b");
            c.send(Msg(1, 10)).unwrap();
            s.send(Msg(2, 10)).unwrap();
            assert_eq!(c.recv_timeout(Duration::from_secs(1)).await.unwrap().0, 2);
            assert!(s.recv_timeout(Duration::from_secs(1)).await.is_err());
        });
    }

    /// Time for one 100-byte message from `from` to `to` on a fresh connection.
    async fn one_trip(net: &Net, from: &str, to: &str, port: u16) -> Duration {
        let mut l = net.listen::<Msg>(to, "srv", port).unwrap();
        let c = net.connect::<Msg>(from, "cli", to, port, Duration::from_secs(5)).await.unwrap();
        let s = l.accept().await.unwrap();
        let t0 = Instant::now();
        c.send(Msg(1, 100)).unwrap();
        s.recv().await.unwrap();
        Instant::now() - t0
    }

    #[test]
    fn link_settings_slow_that_link_only() {
        run(|net| async move {
            let fast = one_trip(&net, "a", "c", 1).await;
            assert!(fast < Duration::from_millis(1), "{fast:?}");
            net.set_link("a", "b", |l| l.latency = Some(Duration::from_millis(200)));
            assert_eq!(net.link("a", "b").latency, Some(Duration::from_millis(200)));
            assert_eq!(net.link("b", "a"), LinkParams::default(), "one direction only");
            let slow = one_trip(&net, "a", "b", 2).await;
            assert!(
                slow >= Duration::from_millis(200) && slow < Duration::from_millis(201),
                "{slow:?}"
            );
            assert!(one_trip(&net, "b", "a", 3).await < Duration::from_millis(1));
            assert!(one_trip(&net, "a", "c", 4).await < Duration::from_millis(1));
            let cb = one_trip(&net, "c", "b", 5).await;
            assert!(cb < Duration::from_millis(1), "{cb:?}");
            // A rate limit on the link: 1 MB at 8 Mbit/s takes a second; other links keep 1 Gbit/s.
            net.set_link("a", "b", |l| l.bandwidth_bps = Some(8_000_000));
            let (c, s, _l) = pair(&net).await;
            let t0 = Instant::now();
            c.send(Msg(1, 1_000_000)).unwrap();
            s.recv().await.unwrap();
            let t = Instant::now() - t0;
            assert!(t >= Duration::from_millis(1200) && t < Duration::from_millis(1210), "{t:?}");
            // Back to the network's parameters.
            net.clear_links();
            assert_eq!(net.link("a", "b"), LinkParams::default());
            assert!(one_trip(&net, "a", "b", 6).await < Duration::from_millis(1));
        });
    }

    #[test]
    fn link_loss_costs_retransmissions_on_that_link_only() {
        run(|net| async move {
            net.set_link("a", "b", |l| l.loss = Some(1.0));
            let rto = Duration::from_millis(params().rto_ms);
            assert!(one_trip(&net, "a", "b", 1).await >= rto);
            assert!(one_trip(&net, "a", "c", 2).await < Duration::from_millis(1));
            let kinds: Vec<_> = net.tracer.events().into_iter().map(|e| e.kind).collect();
            assert!(kinds.iter().any(|k| k == kind::NET_LINK), "{kinds:?}");
        });
    }

    #[test]
    fn bandwidth_bounds_throughput() {
        run(|net| async move {
            let (c, s, _l) = pair(&net).await;
            // 100 MB over 1 Gb/s takes at least 0.8 s.
            let t0 = Instant::now();
            for i in 0..100 {
                c.send(Msg(i, 1_000_000)).unwrap();
            }
            for _ in 0..100 {
                s.recv().await.unwrap();
            }
            let secs = (Instant::now() - t0).as_secs_f64();
            let bps = 100.0 * 1_000_000.0 * 8.0 / secs;
            assert!(bps <= 1.0e9 * 1.0001, "throughput {bps} above the link's bandwidth");
            assert!(bps > 0.9e9, "throughput {bps} far below the link's bandwidth");
        });
    }

    #[test]
    fn process_death_closes_and_host_crash_is_silent() {
        run(|net| async move {
            let (c, s, l) = pair(&net).await;
            drop(l);
            c.send(Msg(1, 10)).unwrap();
            drop(c); // process killed: FIN after the data
            assert_eq!(s.recv().await.unwrap().0, 1);
            assert_eq!(s.recv().await.unwrap_err(), NetError::Closed);

            let (c, s, l) = pair(&net).await;
            net.set_host_up("b", false);
            drop(s);
            drop(l);
            c.send(Msg(2, 10)).unwrap(); // swallowed in silence
            assert_eq!(
                c.recv_timeout(Duration::from_secs(2)).await.unwrap_err(),
                NetError::TimedOut
            );
            net.set_host_up("b", true);
            assert_eq!(c.send(Msg(3, 10)).unwrap_err(), NetError::Reset);
        });
    }
}
