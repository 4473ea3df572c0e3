//! `lab bench throughput`: Jay Kreps' 2014 benchmark ("Benchmarking Apache Kafka: 2 Million
//! Writes Per Second (On Three Cheap Machines)") on the simulated cluster, in virtual time.
//!
//! Three brokers (master, slave1, slave2) and three client machines (worker1..3) on one
//! profile; a topic with 6 partitions. Each experiment runs in a fresh world: producers in the
//! style of `kafka-producer-perf-test.sh` (records of a fixed size, batches per partition, up to
//! `max.in.flight.requests.per.connection` requests outstanding, an optional rate limit) and
//! consumers that fetch every partition from the beginning.
//!
//! What the simulator charges: the NICs (bandwidth, latency), the disks (page cache, write-back),
//! the brokers' fetch path (see `hw::send`) and replication as the brokers do it. What it does not:
//! per-record CPU in the clients and in the brokers' request handling, so rates with small records
//! are upper bounds set by the network and the protocol's round trips.
use super::{records, start_cluster};
use crate::hw::HardwareProfile;
use crate::kafka::log::{
    decode_message_set, encode_message_set, message::LOG_OVERHEAD, message::MESSAGE_OVERHEAD_V0,
};
use crate::kafka::proto::{
    FetchPartition, FetchPartitionResponse, FetchRequest, KafkaError, KafkaPacket,
    ProducePartitionData, ProduceRequest, Request, Response,
};
use crate::world::{HostSpec, ProcCtx, Sim, WorldConfig};
use madsim::time::Instant;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// Where a consumer sends its count, bytes, latencies and the time it finished.
type ConsumerReport =
    futures::channel::mpsc::UnboundedSender<Result<(u64, u64, Vec<Duration>, Instant), String>>;

/// The topic every experiment uses.
pub const TOPIC: &str = "test";
/// Partitions of the topic (as in the 2014 post).
pub const PARTITIONS: u32 = 6;

/// Producer settings (`--producer-props`).
#[derive(Debug, Clone, PartialEq)]
pub struct ProducerSpec {
    /// Records to send (per producer).
    pub num_records: u64,
    /// Value bytes per record.
    pub record_size: usize,
    /// Records per partition per request.
    pub batch: u64,
    /// 0, 1 or −1 (all).
    pub acks: i16,
    /// Requests outstanding per broker connection.
    pub max_in_flight: usize,
    /// Records per second (per producer); `None` is as fast as possible.
    pub throughput: Option<f64>,
}

impl Default for ProducerSpec {
    fn default() -> Self {
        ProducerSpec {
            num_records: 100_000,
            record_size: 100,
            batch: 50,
            acks: 1,
            max_in_flight: 5,
            throughput: None,
        }
    }
}

/// One experiment of the post.
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    /// Row label.
    pub name: String,
    /// Replication factor of the topic.
    pub replication: u32,
    /// Producers (on worker1..).
    pub producers: u32,
    /// Consumers (on worker1..) reading the whole topic.
    pub consumers: u32,
    /// Consumers start after the producers finished (else they run together).
    pub consume_after: bool,
    /// Measure end-to-end latency (records carry their send time).
    pub latency: bool,
    /// Producer settings.
    pub producer: ProducerSpec,
    /// The 2014 post's published result for this row, if it has one.
    pub published: Option<&'static str>,
}

/// What an experiment measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Records produced, all producers.
    pub produced: u64,
    /// Record value bytes produced.
    pub produced_bytes: u64,
    /// Virtual time of the producing phase.
    pub produce_time: Duration,
    /// Records consumed, all consumers.
    pub consumed: u64,
    /// Message-set bytes consumed.
    pub consumed_bytes: u64,
    /// Virtual time of the consuming phase.
    pub consume_time: Duration,
    /// End-to-end latencies, sorted.
    pub latencies: Vec<Duration>,
}

impl Outcome {
    /// Producer records per second.
    pub fn produce_rate(&self) -> f64 {
        self.produced as f64 / self.produce_time.as_secs_f64().max(1e-9)
    }
    /// Producer MB/s of record values.
    pub fn produce_mb(&self) -> f64 {
        self.produced_bytes as f64 / 1e6 / self.produce_time.as_secs_f64().max(1e-9)
    }
    /// Consumer records per second.
    pub fn consume_rate(&self) -> f64 {
        self.consumed as f64 / self.consume_time.as_secs_f64().max(1e-9)
    }
    /// Consumer MB/s.
    pub fn consume_mb(&self) -> f64 {
        self.consumed_bytes as f64 / 1e6 / self.consume_time.as_secs_f64().max(1e-9)
    }
    /// Latency percentile (0..=100).
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        if self.latencies.is_empty() {
            return None;
        }
        let i = ((p / 100.0) * (self.latencies.len() - 1) as f64).round() as usize;
        self.latencies.get(i.min(self.latencies.len() - 1)).copied()
    }
}

/// The post's experiments with these producer settings (`sizes` adds the record-size sweep,
/// with batch 1 and the given batch).
pub fn experiments(p: &ProducerSpec, sizes: &[usize]) -> Vec<Experiment> {
    let row = |name: &str, replication, producers, consumers, acks: i16, published| Experiment {
        name: name.into(),
        replication,
        producers,
        consumers,
        consume_after: true,
        latency: false,
        producer: ProducerSpec { acks, ..p.clone() },
        published,
    };
    let mut v = vec![
        row("1 producer, no replication", 1, 1, 0, p.acks, Some("821,557 rec/s (78.3 MB/s)")),
        row("1 producer, 3x async (acks=1)", 3, 1, 0, 1, Some("786,980 rec/s (75.1 MB/s)")),
        row("1 producer, 3x sync (acks=all)", 3, 1, 0, -1, Some("421,823 rec/s (40.2 MB/s)")),
        row("3 producers, 3x async", 3, 3, 0, 1, Some("2,024,032 rec/s (193.0 MB/s)")),
        row("1 consumer", 3, 1, 1, 1, Some("940,521 rec/s (89.7 MB/s)")),
        row("3 consumers", 3, 1, 3, 1, Some("2,615,968 rec/s (249.5 MB/s)")),
        Experiment {
            consume_after: false,
            ..row("producer + consumer together", 3, 1, 1, 1, Some("795,064 rec/s (75.8 MB/s)"))
        },
        Experiment {
            consume_after: false,
            latency: true,
            producer: ProducerSpec {
                num_records: p.num_records.min(5_000),
                batch: 1,
                max_in_flight: 1,
                throughput: Some(p.throughput.unwrap_or(1000.0)),
                acks: 1,
                ..p.clone()
            },
            ..row("end-to-end latency", 3, 1, 1, 1, Some("2 ms median, 3 ms p99, 14 ms p99.9"))
        },
    ];
    for &size in sizes {
        for batch in [1, p.batch] {
            // Keep each run bounded: at most ~50 MB, and 20,000 one-record requests.
            let cap = if batch == 1 { 20_000 } else { u64::MAX };
            let n = p.num_records.min((50_000_000 / size.max(1) as u64).max(100)).min(cap);
            let mut e = row(&format!("size {size} B, batch {batch}"), 3, 1, 0, 1, None);
            e.producer = ProducerSpec { record_size: size, batch, num_records: n, ..e.producer };
            v.push(e);
        }
    }
    v
}

/// The world of the benchmark: the seed's three hosts as brokers plus three client machines.
pub fn world_config(profile: &HardwareProfile, seed: u64) -> WorldConfig {
    let mut cfg = crate::seeded(seed);
    cfg.profile = profile.clone();
    for (i, ip) in [(1, "192.168.1.111"), (2, "192.168.1.112"), (3, "192.168.1.113")] {
        cfg.hosts.push(HostSpec { name: format!("worker{i}"), ip: ip.into() });
    }
    cfg
}

/// Runs one experiment in a fresh world.
pub fn run(profile: &HardwareProfile, seed: u64, e: &Experiment) -> Result<Outcome, String> {
    let e = e.clone();
    Sim::new(world_config(profile, seed)).run(|world| async move {
        let leaders = start_cluster(
            &world,
            &["master", "slave1", "slave2"],
            &[],
            TOPIC,
            PARTITIONS,
            e.replication,
        )
        .await?;
        let mut out = Outcome::default();
        let total = e.producer.num_records * u64::from(e.producers);
        let (ptx, mut prx) = futures::channel::mpsc::unbounded();
        let (ctx_tx, mut crx) = futures::channel::mpsc::unbounded();
        let spawn_consumers = |tx: ConsumerReport| -> Result<(), String> {
            for i in 0..e.consumers {
                let host = format!("worker{}", 1 + (i + 1) % 3);
                let (leaders, tx, latency) = (leaders.clone(), tx.clone(), e.latency);
                world
                    .spawn(&host, "ConsumerPerformance", move |ctx: ProcCtx| async move {
                        let _ =
                            tx.unbounded_send(consume_all(&ctx, &leaders, total, latency).await);
                    })
                    .map_err(|x| x.to_string())?;
            }
            Ok(())
        };
        let t0 = Instant::now();
        if !e.consume_after {
            spawn_consumers(ctx_tx.clone())?;
        }
        for i in 0..e.producers {
            let host = format!("worker{}", 1 + i % 3);
            let (leaders, tx, spec) = (leaders.clone(), ptx.clone(), e.producer.clone());
            let stamp = e.latency;
            world
                .spawn(&host, "ProducerPerformance", move |ctx: ProcCtx| async move {
                    let _ = tx.unbounded_send(produce(&ctx, &leaders, &spec, stamp).await);
                })
                .map_err(|x| x.to_string())?;
        }
        drop(ptx);
        use futures::StreamExt;
        let mut end = t0;
        while let Some(r) = prx.next().await {
            let (n, bytes) = r?;
            out.produced += n;
            out.produced_bytes += bytes;
            end = end.max(Instant::now());
        }
        out.produce_time = end - t0;
        let c0 = Instant::now();
        if e.consume_after {
            spawn_consumers(ctx_tx.clone())?;
        }
        drop(ctx_tx);
        let mut cend = c0;
        while let Some(r) = crx.next().await {
            let (n, bytes, lat, last) = r?;
            out.consumed += n;
            out.consumed_bytes += bytes;
            out.latencies.extend(lat);
            cend = cend.max(last);
        }
        let cstart = if e.consume_after { c0 } else { t0 };
        out.consume_time = cend - cstart;
        out.latencies.sort();
        Ok(out)
    })
}

/// A perf-test producer: `spec.num_records` records round-robin over the partitions, one
/// request per broker carrying a batch for each of its partitions, pipelined up to
/// `max_in_flight`. Returns (records, value bytes) acknowledged.
async fn produce(
    ctx: &ProcCtx,
    leaders: &BTreeMap<i32, String>,
    spec: &ProducerSpec,
    stamp: bool,
) -> Result<(u64, u64), String> {
    // Partitions by leader host.
    let mut by_host: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    for (p, h) in leaders {
        by_host.entry(h.clone()).or_default().push(*p);
    }
    let mut conns = Vec::new();
    for (h, parts) in by_host {
        let c = ctx
            .net()
            .connect::<KafkaPacket>(&ctx.host, &ctx.name, &h, 9092, Duration::from_secs(5))
            .await
            .map_err(|e| format!("connect {h}: {e}"))?;
        conns.push((c, parts, VecDeque::<u64>::new()));
    }
    if conns.is_empty() {
        return Err("no partition leaders".into());
    }
    let template = encode_message_set(&records(spec.batch.max(1), spec.record_size), 0);
    let (mut sent, mut acked, mut corr) = (0u64, 0u64, 0i32);
    let t0 = Instant::now();
    let mut turn = 0usize;
    while sent < spec.num_records {
        let n_conns = conns.len();
        let (conn, parts, inflight) = &mut conns[turn % n_conns];
        turn += 1;
        if let Some(rate) = spec.throughput {
            let due = t0 + Duration::from_secs_f64(sent as f64 / rate.max(1e-3));
            crate::hw::sleep_until_exact(due).await;
        }
        if inflight.len() >= spec.max_in_flight.max(1) && spec.acks != 0 {
            acked += await_ack(conn, inflight).await?;
        }
        let mut data = Vec::new();
        let mut in_req = 0;
        for p in parts.iter() {
            let n = spec.batch.max(1).min(spec.num_records - sent - in_req);
            if n == 0 {
                break;
            }
            let bytes = if stamp {
                let now = madsim::time::TimeHandle::current().elapsed().as_micros() as u64;
                let mut r = records(n, spec.record_size.max(8));
                for rec in &mut r {
                    if let Some(v) = rec.value.as_mut() {
                        v[..8].copy_from_slice(&now.to_be_bytes());
                    }
                }
                encode_message_set(&r, 0)
            } else if n == spec.batch.max(1) {
                template.clone()
            } else {
                encode_message_set(&records(n, spec.record_size), 0)
            };
            data.push(ProducePartitionData {
                topic: TOPIC.to_string(),
                partition: *p,
                record_set: bytes,
                record_count: n as usize,
            });
            in_req += n;
        }
        corr += 1;
        let req = KafkaPacket::Request {
            correlation_id: corr,
            client_id: "producer-performance".into(),
            body: Request::Produce(ProduceRequest {
                acks: spec.acks,
                timeout: 30_000,
                topic_data: data,
            }),
        };
        conn.send(req).map_err(|e| format!("produce: {e}"))?;
        sent += in_req;
        if spec.acks == 0 {
            acked += in_req;
        } else {
            inflight.push_back(in_req);
        }
    }
    for (conn, _, inflight) in &mut conns {
        while !inflight.is_empty() {
            acked += await_ack(conn, inflight).await?;
        }
    }
    Ok((acked, acked * spec.record_size as u64))
}

async fn await_ack(
    conn: &crate::hw::Conn<KafkaPacket>,
    inflight: &mut VecDeque<u64>,
) -> Result<u64, String> {
    match conn.recv_timeout(Duration::from_secs(60)).await {
        Ok(KafkaPacket::Response { body: Response::Produce(r), .. }) => {
            if let Some(bad) = r.responses.iter().find(|x| x.error_code != KafkaError::None) {
                return Err(format!(
                    "produce error {:?} on partition {}",
                    bad.error_code, bad.partition
                ));
            }
            Ok(inflight.pop_front().unwrap_or(0))
        }
        other => Err(format!("produce failed: {other:?}")),
    }
}

/// A consumer reading every partition from offset 0 until `total` records arrived, one fetch per
/// broker for all its partitions (1 MiB each). With `latency`, each record's first 8 bytes are
/// its send time in µs of virtual time.
async fn consume_all(
    ctx: &ProcCtx,
    leaders: &BTreeMap<i32, String>,
    total: u64,
    latency: bool,
) -> Result<(u64, u64, Vec<Duration>, Instant), String> {
    let mut by_host: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    for (p, h) in leaders {
        by_host.entry(h.clone()).or_default().push(*p);
    }
    let (tx, mut rx) =
        futures::channel::mpsc::unbounded::<Result<(u64, u64, Vec<Duration>, Instant), String>>();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    for (h, parts) in by_host {
        let (ctx, tx, done) = (ctx.clone(), tx.clone(), done.clone());
        madsim::task::spawn(async move {
            let r = async {
                let c = ctx
                    .net()
                    .connect::<KafkaPacket>(&ctx.host, &ctx.name, &h, 9092, Duration::from_secs(5))
                    .await
                    .map_err(|e| format!("connect {h}: {e}"))?;
                let mut offsets: BTreeMap<i32, i64> = parts.iter().map(|p| (*p, 0)).collect();
                let (mut n, mut bytes, mut lat, mut corr, mut last) =
                    (0u64, 0u64, Vec::new(), 0, Instant::now());
                while done.load(std::sync::atomic::Ordering::Relaxed) < total {
                    corr += 1;
                    let topics = offsets
                        .iter()
                        .map(|(p, o)| FetchPartition {
                            topic: TOPIC.to_string(),
                            partition: *p,
                            fetch_offset: *o,
                            max_bytes: 1 << 20,
                        })
                        .collect();
                    let req = KafkaPacket::Request {
                        correlation_id: corr,
                        client_id: "consumer-performance".into(),
                        body: Request::Fetch(FetchRequest {
                            replica_id: -1,
                            max_wait_time: 100,
                            min_bytes: 1,
                            topics,
                        }),
                    };
                    c.send(req).map_err(|e| format!("fetch: {e}"))?;
                    let resp = c
                        .recv_timeout(Duration::from_secs(30))
                        .await
                        .map_err(|e| format!("fetch: {e}"))?;
                    let KafkaPacket::Response { body: Response::Fetch(ps), .. } = resp else {
                        return Err("unexpected response".to_string());
                    };
                    let now = madsim::time::TimeHandle::current().elapsed();
                    for FetchPartitionResponse {
                        partition: p,
                        error_code: err,
                        record_set: set,
                        ..
                    } in ps.responses
                    {
                        if err != KafkaError::None {
                            return Err(format!("fetch error {err:?}"));
                        }
                        let (msgs, _) = decode_message_set(&set);
                        if let Some(last) = msgs.last() {
                            offsets.insert(p, last.record.offset + 1);
                        }
                        if latency {
                            for m in &msgs {
                                let v = m.record.value.as_deref().unwrap_or_default();
                                if let Some(ts) =
                                    v.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok())
                                {
                                    lat.push(now.saturating_sub(Duration::from_micros(
                                        u64::from_be_bytes(ts),
                                    )));
                                }
                            }
                        }
                        if !msgs.is_empty() {
                            last = Instant::now();
                        }
                        n += msgs.len() as u64;
                        bytes += set.len() as u64;
                        done.fetch_add(msgs.len() as u64, std::sync::atomic::Ordering::Relaxed);
                    }
                }
                Ok((n, bytes, lat, last))
            }
            .await;
            let _ = tx.unbounded_send(r);
        });
    }
    drop(tx);
    use futures::StreamExt;
    let (mut n, mut bytes, mut lat, mut end) = (0, 0, Vec::new(), None::<Instant>);
    while let Some(r) = rx.next().await {
        let (a, b, l, t) = r?;
        n += a;
        bytes += b;
        lat.extend(l);
        // The last record's arrival, not the end of the last (empty) long poll.
        if a > 0 {
            end = Some(end.map_or(t, |e| e.max(t)));
        }
    }
    Ok((n, bytes, lat, end.unwrap_or_else(Instant::now)))
}

/// Bytes one record takes in a v0 message set.
pub fn record_bytes(value: usize) -> usize {
    value + LOG_OVERHEAD + MESSAGE_OVERHEAD_V0
}
