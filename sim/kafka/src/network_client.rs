//! `NetworkClient`: the request/response connection a Kafka client keeps to one broker.
//!
//! Named after `org.apache.kafka.clients.NetworkClient`, which 0.9 uses for the producer, the new
//! consumer, the controller's channel to each broker (`ControllerChannelManager`) and the
//! replica fetcher; the old consumer and `SimpleConsumer` use `kafka.network.BlockingChannel`,
//! whose blocking send-and-receive is [`NetworkClient::request`] here. Every client in the lab
//! talks to a broker through one of these:
//!
//! - it owns the connection to one node ([`NetworkClient::ready`] opens it, again after
//!   [`NetworkClient::close`]); a client of several brokers keeps one per broker and shares their
//!   [`CorrelationIds`], as Java's one `NetworkClient` per producer numbers the requests to all
//!   nodes from one counter;
//! - it hands out correlation ids (`nextRequestHeader`: 0, 1, 2, … per counter, never reused);
//! - it enforces `max.in.flight.requests.per.connection` (`InFlightRequests.canSendMore`): a
//!   send beyond the limit fails with [`NetworkError::NotReady`], as 0.9's `send` throws
//!   "Attempt to send a request to node … which is not ready."; the default is the producer's 5;
//! - it waits for an answer with a timeout ([`NetworkClient::receive`]), and drops the late answer
//!   of a request it gave up on: a request whose wait timed out (or failed) is *abandoned*, and
//!   when its answer comes after all, it is skipped while waiting for the next one. Any other
//!   unexpected correlation id is [`NetworkError::CorrelationMismatch`] (0.9's `correlate` throws
//!   `IllegalStateException`).
//!
//! One difference from 0.9 is deliberate: on a request timeout 0.9's `NetworkClient` closes the
//! connection (`handleTimedOutRequests`), while here the caller decides. Most callers close it on
//! any failure, as `BlockingChannel`'s users and the controller's `RequestSendThread` do; a
//! fetcher whose ListOffsets went unanswered keeps the connection for its next request, which
//! then skips the late answer. An abandoned request does not count against the in-flight limit
//! (its answer is no longer wanted), and closing the connection forgets all of them. Requests that expect no answer (`acks=0`
//! produces, [`NetworkClient::send_no_response`]) are complete once sent, as in 0.9.
//!
//! Nothing here awaits except the connect and the receive, so a caller's schedule is its own:
//! `request` is one `Conn::send` and then `Conn::recv_timeout` until the deadline.

use super::coordinator::protocol::{GroupRequest, GroupResponse};
use super::proto::{BrokerEndPoint, KafkaPacket, Request, Response};
use madsim::time::Instant;
use sim_core::hw::{Conn, NetError};
use sim_core::world::ProcCtx;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// `max.in.flight.requests.per.connection`'s default (the producer's, 5).
pub const DEFAULT_MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION: usize = 5;

/// How long the lab's clients wait for a connection to a broker.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A counter of correlation ids (`NetworkClient.correlation`), shared by the connections of one
/// client: each request takes the next id, starting at 0.
#[derive(Debug, Clone, Default)]
pub struct CorrelationIds(Arc<AtomicI32>);

impl CorrelationIds {
    /// A counter whose first id is 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next id (wrapping like Java's `int`).
    pub fn next_id(&self) -> i32 {
        self.0.fetch_add(1, Ordering::Relaxed)
    }

    /// The id the next request will get.
    pub fn peek(&self) -> i32 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    /// No connection: never opened, or closed.
    #[error("Connection to node {0} is not open")]
    NotConnected(i32),
    /// Opening the connection failed.
    #[error("Connection to node {node} failed: {cause}")]
    Connect {
        /// The node.
        node: i32,
        /// What the socket said.
        cause: NetError,
    },
    /// `max.in.flight.requests.per.connection` requests already wait for answers.
    #[error("Attempt to send a request to node {0} which is not ready.")]
    NotReady(i32),
    /// Sending or receiving failed: the connection is broken.
    #[error(transparent)]
    Net(#[from] NetError),
    /// No answer within the timeout (the request is abandoned).
    #[error("No response received within {0} ms")]
    Timeout(u128),
    /// An answer no request on this connection is waiting for (nor was abandoned).
    #[error("Correlation id for response ({got}) does not match request ({expected})")]
    CorrelationMismatch {
        /// The id the answer carried.
        got: i32,
        /// The id waited for.
        expected: i32,
    },
    /// A request arrived where only answers should.
    #[error("Received a request on a client connection")]
    UnexpectedRequest,
    /// No request with this id waits for an answer (never sent, answered, or abandoned).
    #[error("No in-flight request with correlation id {0}")]
    NotInFlight(i32),
    /// The answer is of another kind than the request expects.
    #[error("Unexpected response to a group request")]
    UnexpectedResponse,
}

/// A connection to one broker with Kafka's request bookkeeping (see the module docs).
pub struct NetworkClient {
    ctx: ProcCtx,
    node: BrokerEndPoint,
    client_id: String,
    conn: Option<Conn<KafkaPacket>>,
    ids: CorrelationIds,
    max_in_flight: usize,
    /// Requests sent that wait for their answers, oldest first (`InFlightRequests`).
    in_flight: VecDeque<i32>,
    /// Requests given up on whose answers may still come: dropped when they do.
    abandoned: BTreeSet<i32>,
    /// Answers that came while the answer to a later request was awaited.
    completed: BTreeMap<i32, Response>,
}

impl std::fmt::Debug for NetworkClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetworkClient")
            .field("node", &self.node)
            .field("client_id", &self.client_id)
            .field("conn", &self.conn)
            .field("in_flight", &self.in_flight)
            .field("abandoned", &self.abandoned)
            .finish_non_exhaustive()
    }
}

impl NetworkClient {
    /// A client of `node` for the process `ctx`, not connected yet, with its own correlation ids
    /// and the default in-flight limit.
    pub fn new(ctx: &ProcCtx, node: BrokerEndPoint, client_id: impl Into<String>) -> Self {
        NetworkClient {
            ctx: ctx.clone(),
            node,
            client_id: client_id.into(),
            conn: None,
            ids: CorrelationIds::new(),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION,
            in_flight: VecDeque::new(),
            abandoned: BTreeSet::new(),
            completed: BTreeMap::new(),
        }
    }

    /// Opens a client of `node`: [`NetworkClient::new`] and [`NetworkClient::ready`].
    pub async fn connect(
        ctx: &ProcCtx,
        node: &BrokerEndPoint,
        client_id: &str,
        timeout: Duration,
    ) -> Result<Self, NetworkError> {
        let mut client = Self::new(ctx, node.clone(), client_id);
        client.ready(timeout).await?;
        Ok(client)
    }

    /// The same client numbering its requests from `ids` (shared with the client's other
    /// connections).
    pub fn with_correlation_ids(mut self, ids: CorrelationIds) -> Self {
        self.ids = ids;
        self
    }

    /// The same client with `max.in.flight.requests.per.connection` = `max` (at least 1).
    pub fn with_max_in_flight(mut self, max: usize) -> Self {
        self.max_in_flight = max.max(1);
        self
    }

    /// `blockingReady`: connects unless connected, waiting up to `timeout` for the connection.
    pub async fn ready(&mut self, timeout: Duration) -> Result<(), NetworkError> {
        if self.conn.is_some() {
            return Ok(());
        }
        let ctx = &self.ctx;
        let conn = ctx
            .net()
            .connect::<KafkaPacket>(&ctx.host, &ctx.name, &self.node.host, self.node.port, timeout)
            .await
            .map_err(|cause| NetworkError::Connect { node: self.node.id, cause })?;
        self.conn = Some(conn);
        Ok(())
    }

    /// Whether a connection is open.
    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    /// Whether a request may be sent now (`canSendRequest`): connected and below the limit.
    pub fn is_ready(&self) -> bool {
        self.is_connected() && self.in_flight.len() < self.max_in_flight
    }

    /// `close(node)`: drops the connection; requests in flight and abandoned are forgotten (no
    /// answer to them can come on the next connection).
    pub fn close(&mut self) {
        self.conn = None;
        self.in_flight.clear();
        self.abandoned.clear();
        self.completed.clear();
    }

    /// The broker this client talks to.
    pub fn node(&self) -> &BrokerEndPoint {
        &self.node
    }

    /// The `client.id` every request carries.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Requests sent that wait for their answers.
    pub fn in_flight_count(&self) -> usize {
        self.in_flight.len()
    }

    /// Requests given up on whose answers have not come.
    pub fn abandoned_count(&self) -> usize {
        self.abandoned.len()
    }

    /// Sends a request whose answer [`NetworkClient::receive`] will wait for; returns its
    /// correlation id.
    pub fn send(&mut self, body: Request) -> Result<i32, NetworkError> {
        let id = self.send_request(body)?;
        self.in_flight.push_back(id);
        Ok(id)
    }

    /// Sends a request that gets no answer (a Produce with `acks=0`); returns its correlation id.
    pub fn send_no_response(&mut self, body: Request) -> Result<i32, NetworkError> {
        self.send_request(body)
    }

    fn send_request(&mut self, body: Request) -> Result<i32, NetworkError> {
        let Some(conn) = &self.conn else { return Err(NetworkError::NotConnected(self.node.id)) };
        if self.in_flight.len() >= self.max_in_flight {
            return Err(NetworkError::NotReady(self.node.id));
        }
        let correlation_id = self.ids.next_id();
        conn.send(KafkaPacket::Request {
            correlation_id,
            client_id: self.client_id.clone(),
            body,
        })?;
        Ok(correlation_id)
    }

    /// Waits up to `timeout` for the answer to the request `correlation_id`. Answers to requests
    /// given up on are dropped on the way; answers to other requests in flight are kept for their
    /// own `receive`. On failure the request is abandoned.
    pub async fn receive(
        &mut self,
        correlation_id: i32,
        timeout: Duration,
    ) -> Result<Response, NetworkError> {
        if let Some(body) = self.completed.remove(&correlation_id) {
            return Ok(body);
        }
        if !self.in_flight.contains(&correlation_id) {
            return Err(NetworkError::NotInFlight(correlation_id));
        }
        let deadline = Instant::now() + timeout;
        let result = loop {
            let Some(conn) = &self.conn else {
                break Err(NetworkError::NotConnected(self.node.id));
            };
            let left = deadline.saturating_duration_since(Instant::now());
            let packet = match conn.recv_timeout(left).await {
                Ok(p) => p,
                Err(NetError::TimedOut) if Instant::now() >= deadline => {
                    break Err(NetworkError::Timeout(timeout.as_millis()))
                }
                Err(e) => break Err(NetworkError::Net(e)),
            };
            let (got, body) = match packet {
                KafkaPacket::Response { correlation_id: got, body } => (got, body),
                KafkaPacket::Request { .. } => break Err(NetworkError::UnexpectedRequest),
            };
            if got == correlation_id {
                break Ok(body);
            }
            if self.abandoned.remove(&got) {
                continue;
            }
            if let Some(i) = self.in_flight.iter().position(|&id| id == got) {
                self.in_flight.remove(i);
                self.completed.insert(got, body);
                continue;
            }
            break Err(NetworkError::CorrelationMismatch { got, expected: correlation_id });
        };
        if let Some(i) = self.in_flight.iter().position(|&id| id == correlation_id) {
            self.in_flight.remove(i);
        }
        if result.is_err() {
            self.abandoned.insert(correlation_id);
        }
        result
    }

    /// `blockingSendAndReceive`: sends a request and waits up to `timeout` for its answer.
    pub async fn request(
        &mut self,
        body: Request,
        timeout: Duration,
    ) -> Result<Response, NetworkError> {
        let id = self.send(body)?;
        self.receive(id, timeout).await
    }

    /// A group coordinator request ([`Request::Group`]) and its answer.
    pub async fn group_request(
        &mut self,
        req: GroupRequest,
        timeout: Duration,
    ) -> Result<GroupResponse, NetworkError> {
        match self.request(Request::Group(req), timeout).await? {
            Response::Group(g) => Ok(g),
            _ => Err(NetworkError::UnexpectedResponse),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{KafkaError, MetadataRequest, MetadataResponse, TopicMetadata};
    use futures::channel::oneshot;
    use sim_core::world::{Sim, World, WorldConfig};
    use std::future::Future;
    use std::sync::Mutex;

    const PORT: u16 = 9092;

    fn broker() -> BrokerEndPoint {
        BrokerEndPoint { id: 7, host: "slave1".into(), port: PORT }
    }

    fn metadata(topic: &str) -> Request {
        Request::Metadata(MetadataRequest { topics: vec![topic.into()] })
    }

    /// The topic a fake broker's answer names.
    fn topic_of(answer: Result<Response, NetworkError>) -> Result<String, NetworkError> {
        match answer? {
            Response::Metadata(m) => Ok(m.topic_metadata.into_iter().map(|t| t.topic).collect()),
            other => panic!("not a metadata answer: {other:?}"),
        }
    }

    /// A broker on slave1 that answers Metadata requests one at a time per connection (like
    /// `SocketServer`), naming the topic asked for: `slow:<ms>` is answered after that long,
    /// `mute` never, `wrong-id` with another correlation id. Returns the correlation ids it got.
    fn fake_broker(world: &World) -> Arc<Mutex<Vec<i32>>> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        world
            .spawn("slave1", "FakeBroker", move |ctx| async move {
                let Ok(mut listener) = ctx.net().listen::<KafkaPacket>(&ctx.host, &ctx.name, PORT)
                else {
                    return;
                };
                while let Some(conn) = listener.accept().await {
                    let log = log.clone();
                    madsim::task::spawn(async move {
                        while let Ok(KafkaPacket::Request { correlation_id, body, .. }) =
                            conn.recv().await
                        {
                            log.lock().unwrap().push(correlation_id);
                            let Request::Metadata(MetadataRequest { topics }) = body else {
                                continue;
                            };
                            let topic = topics.concat();
                            if topic == "mute" {
                                continue;
                            }
                            if let Some(ms) = topic.strip_prefix("slow:") {
                                let ms = ms.parse().expect("slow:<ms>");
                                madsim::time::sleep(Duration::from_millis(ms)).await;
                            }
                            let correlation_id = if topic == "wrong-id" {
                                correlation_id + 100
                            } else {
                                correlation_id
                            };
                            let body = Response::Metadata(MetadataResponse {
                                brokers: Vec::new(),
                                topic_metadata: vec![TopicMetadata {
                                    error_code: KafkaError::None,
                                    topic,
                                    partition_metadata: Vec::new(),
                                }],
                            });
                            if conn.send(KafkaPacket::Response { correlation_id, body }).is_err() {
                                return;
                            }
                        }
                    });
                }
            })
            .expect("slave1 is up");
        seen
    }

    /// Runs `client` as a process on master next to [`fake_broker`]; returns what it returns and
    /// the correlation ids the broker received, in order.
    fn with_client<T, Fut>(client: impl FnOnce(ProcCtx) -> Fut + Send + 'static) -> (T, Vec<i32>)
    where
        T: Send + 'static,
        Fut: Future<Output = T> + Send + 'static,
    {
        Sim::new(WorldConfig::seeded(1)).run(|world| async move {
            let seen = fake_broker(&world);
            let (tx, rx) = oneshot::channel();
            world
                .spawn("master", "Client", move |ctx| async move {
                    // The broker binds its port first.
                    madsim::time::sleep(Duration::from_millis(10)).await;
                    let _ = tx.send(client(ctx).await);
                })
                .expect("master is up");
            let out = rx.await.expect("the client finished");
            let seen = seen.lock().unwrap().clone();
            (out, seen)
        })
    }

    async fn connected(ctx: &ProcCtx) -> NetworkClient {
        NetworkClient::connect(ctx, &broker(), "test", CONNECT_TIMEOUT).await.expect("connects")
    }

    #[test]
    fn a_late_answer_to_an_abandoned_request_is_dropped_and_the_next_gets_its_own() {
        let (out, seen) = with_client(|ctx| async move {
            let mut c = connected(&ctx).await;
            let first = c.request(metadata("slow:2000"), Duration::from_millis(500)).await;
            let abandoned = c.abandoned_count();
            // Sent at 0.5 s; the broker answers the first at 2 s, then this one.
            let second = topic_of(c.request(metadata("b"), Duration::from_secs(5)).await);
            let third = topic_of(c.request(metadata("c"), Duration::from_secs(5)).await);
            (first.err(), abandoned, second, third, c.abandoned_count(), c.in_flight_count())
        });
        assert_eq!(
            out,
            (Some(NetworkError::Timeout(500)), 1, Ok("b".into()), Ok("c".into()), 0, 0)
        );
        assert_eq!(seen, vec![0, 1, 2]);
    }

    #[test]
    fn an_answer_no_request_waits_for_is_a_correlation_mismatch() {
        let (out, _) = with_client(|ctx| async move {
            let mut c = connected(&ctx).await;
            let a = topic_of(c.request(metadata("a"), Duration::from_secs(1)).await);
            let wrong = c.request(metadata("wrong-id"), Duration::from_secs(1)).await.err();
            (a, wrong, c.abandoned_count())
        });
        assert_eq!(
            out,
            (Ok("a".into()), Some(NetworkError::CorrelationMismatch { got: 101, expected: 1 }), 1)
        );
    }

    #[test]
    fn a_request_never_answered_times_out_and_close_forgets_it() {
        let (out, seen) = with_client(|ctx| async move {
            let mut c = connected(&ctx).await;
            let started = Instant::now();
            let mute = c.request(metadata("mute"), Duration::from_millis(300)).await.err();
            let waited = Instant::now().duration_since(started).as_millis();
            let next = topic_of(c.request(metadata("a"), Duration::from_secs(1)).await);
            let abandoned = c.abandoned_count();
            c.close();
            let closed = (c.is_connected(), c.abandoned_count());
            let unconnected = c.request(metadata("a"), Duration::from_secs(1)).await.err();
            (mute, waited, next, abandoned, closed, unconnected)
        });
        assert_eq!(
            out,
            (
                Some(NetworkError::Timeout(300)),
                300,
                Ok("a".into()),
                1,
                (false, 0),
                Some(NetworkError::NotConnected(7))
            )
        );
        assert_eq!(seen, vec![0, 1]);
    }

    #[test]
    fn correlation_ids_increase_across_reconnects_and_shared_connections() {
        let (out, seen) = with_client(|ctx| async move {
            let ids = CorrelationIds::new();
            let mut c =
                NetworkClient::new(&ctx, broker(), "test").with_correlation_ids(ids.clone());
            let mut got = Vec::new();
            c.ready(CONNECT_TIMEOUT).await.expect("connects");
            for t in ["a", "b"] {
                got.push(c.send(metadata(t)).expect("sent"));
                c.receive(*got.last().expect("one"), Duration::from_secs(1)).await.expect("answer");
            }
            c.close();
            c.ready(CONNECT_TIMEOUT).await.expect("connects again");
            got.push(c.send(metadata("c")).expect("sent"));
            let mut other = NetworkClient::new(&ctx, broker(), "test").with_correlation_ids(ids);
            other.ready(CONNECT_TIMEOUT).await.expect("connects");
            got.push(other.send_no_response(metadata("mute")).expect("sent"));
            let mut own = connected(&ctx).await;
            got.push(own.send(metadata("mute")).expect("sent"));
            madsim::time::sleep(Duration::from_millis(100)).await;
            got
        });
        assert_eq!(out, vec![0, 1, 2, 3, 0]);
        assert_eq!(seen, vec![0, 1, 2, 3, 0]);
    }

    #[test]
    fn the_in_flight_limit_holds_and_answers_are_kept_for_their_requests() {
        let (out, _) = with_client(|ctx| async move {
            let mut c = connected(&ctx).await;
            let sent: Vec<_> = (0..6).map(|i| c.send(metadata(&format!("t{i}")))).collect();
            let full = (c.in_flight_count(), c.is_ready());
            // The third answer is awaited first: the two before it are kept for their receives.
            let third = topic_of(c.receive(2, Duration::from_secs(1)).await);
            let at = Instant::now();
            let first = topic_of(c.receive(0, Duration::from_secs(1)).await);
            let kept_without_waiting = Instant::now() == at;
            let again = c.receive(0, Duration::from_secs(1)).await.err();
            let after = c.send(metadata("t6"));
            (sent, full, third, first, kept_without_waiting, again, after, c.in_flight_count())
        });
        assert_eq!(
            out,
            (
                vec![Ok(0), Ok(1), Ok(2), Ok(3), Ok(4), Err(NetworkError::NotReady(7))],
                (5, false),
                Ok("t2".into()),
                Ok("t0".into()),
                true,
                Some(NetworkError::NotInFlight(0)),
                Ok(5),
                3
            )
        );
    }

    #[test]
    fn requests_without_answers_do_not_count_against_the_limit() {
        let (out, _) = with_client(|ctx| async move {
            let mut c = connected(&ctx).await.with_max_in_flight(1);
            let quiet =
                [c.send_no_response(metadata("mute")), c.send_no_response(metadata("mute"))];
            let one = c.send(metadata("a"));
            let over = c.send(metadata("b"));
            let over_quiet = c.send_no_response(metadata("mute"));
            let answer = topic_of(c.receive(2, Duration::from_secs(1)).await);
            (quiet, one, over, over_quiet, answer, c.is_ready())
        });
        assert_eq!(
            out,
            (
                [Ok(0), Ok(1)],
                Ok(2),
                Err(NetworkError::NotReady(7)),
                Err(NetworkError::NotReady(7)),
                Ok("a".into()),
                true
            )
        );
    }

    #[test]
    fn connecting_to_a_port_nobody_listens_on_fails() {
        let (out, _) = with_client(|ctx| async move {
            let node = BrokerEndPoint { id: 3, host: "slave2".into(), port: PORT };
            NetworkClient::connect(&ctx, &node, "test", CONNECT_TIMEOUT).await.err()
        });
        assert_eq!(out, Some(NetworkError::Connect { node: 3, cause: NetError::Refused }));
    }
}
