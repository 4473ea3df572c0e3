//! `lab bench sim-speed`: how fast the simulator itself runs a realistic cluster.
//!
//! The workload is the lab's everyday cluster at a steady load: ZooKeeper on the seed's three
//! hosts, a broker on each, a topic of 3 partitions replicated 3 times, one producer on `slave2`
//! sending `rate` records of `record_size` bytes per second through the real `KafkaProducer`, paced
//! as kafka-producer-perf-test paces it (acks=1, `linger.ms`=10, `batch.size`=16384), and `consumers` independent consumers on
//! `slave1` and `master` reading the whole topic through `PartitionFetcher`, as console consumers
//! do. Everything is the real protocol code; nothing is skipped because it is a benchmark.
//!
//! The run reports virtual time and counts only; the CLI times it with the wall clock and reads
//! the process's peak memory, outside the simulation. The trace is streamed into its hash
//! ([`crate::trace::Tracer::stream_into_hash`]) so a long run's memory is the cluster's state, not
//! its history; the hash still pins the run (same seed, same hash).
//!
//! ```no_run
//! use sim::bench::sim_speed::{run, Settings};
//! let o = run(&Settings { duration: std::time::Duration::from_secs(5), ..Settings::default() }).unwrap();
//! assert!(o.acked > 0);
//! ```
use super::start_cluster;
use crate::hw::HardwareProfile;
use crate::kafka::clients::{bootstrap_consumer, KafkaProducer, OffsetReset, ProducerConfig};
use crate::world::{ProcCtx, Sim};
use madsim::time::Instant;
use std::time::Duration;

/// The topic of the run.
pub const TOPIC: &str = "sim-speed";

/// `ThroughputThrottler.MIN_SLEEP_NS`: the producer sleeps only when this far ahead of its rate.
const MIN_SLEEP: Duration = Duration::from_millis(2);

/// What to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Hardware of every host.
    pub profile: HardwareProfile,
    /// Simulation seed.
    pub seed: u64,
    /// Virtual time the producer runs (the measured phase), after the cluster is up.
    pub duration: Duration,
    /// Records per second.
    pub rate: u64,
    /// Value bytes per record.
    pub record_size: usize,
    /// Independent consumers reading the whole topic.
    pub consumers: u32,
    /// Partitions of the topic.
    pub partitions: u32,
    /// Replication factor of the topic.
    pub replication: u32,
}

impl Default for Settings {
    /// 60 virtual seconds of 10,000 records/s of 100 bytes, 2 consumers, 3 partitions × 3 replicas.
    fn default() -> Self {
        Settings {
            profile: HardwareProfile::default(),
            seed: 1,
            duration: Duration::from_secs(60),
            rate: 10_000,
            record_size: 100,
            consumers: 2,
            partitions: 3,
            replication: 3,
        }
    }
}

impl Settings {
    /// Records the producer sends: `rate` × `duration`.
    pub fn records(&self) -> u64 {
        (self.rate as f64 * self.duration.as_secs_f64()).round() as u64
    }
}

/// What a run did, in virtual time.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Virtual time to bring the cluster up (ZooKeeper quorum, brokers, topic leaders).
    pub setup: Duration,
    /// Virtual time from the first record sent until every consumer had every record.
    pub measured: Duration,
    /// Records sent.
    pub sent: u64,
    /// Records acknowledged by the brokers.
    pub acked: u64,
    /// Records each consumer received.
    pub consumed: Vec<u64>,
    /// Trace events of the whole run.
    pub trace_events: u64,
    /// The run's trace hash.
    pub trace_hash: String,
}

impl Outcome {
    /// Virtual time of the whole run.
    pub fn virtual_time(&self) -> Duration {
        self.setup + self.measured
    }

    /// Messages the simulation moved: each record produced once and consumed by every consumer.
    pub fn messages(&self) -> u64 {
        self.acked + self.consumed.iter().sum::<u64>()
    }
}

/// A record value of `size` bytes carrying its sequence number (values are unique, as the
/// checkers that match produced and consumed records by value need).
fn value(seq: u64, size: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(size.max(1));
    v.extend_from_slice(itoa::Buffer::new().format(seq).as_bytes());
    v.resize(size.max(1), b'.');
    v
}

/// Runs the workload in a fresh world.
pub fn run(s: &Settings) -> Result<Outcome, String> {
    let mut cfg = crate::seeded(s.seed);
    cfg.profile = s.profile.clone();
    let s = s.clone();
    Sim::new(cfg).run(|world| async move {
        world.tracer().stream_into_hash();
        let brokers = ["master", "slave1", "slave2"];
        start_cluster(&world, &brokers, &[], TOPIC, s.partitions, s.replication).await?;
        let setup = world.elapsed();
        let bootstrap: Vec<(String, u16)> = brokers.iter().map(|h| (h.to_string(), 9092)).collect();
        let total = s.records();
        let t0 = Instant::now();
        // The consumers give up this long after the producer's last record is due.
        let deadline = t0 + s.duration + Duration::from_secs(30);
        let (ptx, prx) = futures::channel::oneshot::channel();
        let (b, rate, size) = (bootstrap.clone(), s.rate.max(1), s.record_size);
        world
            .spawn("slave2", "ProducerPerformance", move |ctx: ProcCtx| async move {
                let cfg = ProducerConfig {
                    bootstrap: b,
                    acks: 1,
                    linger_ms: 10,
                    batch_size: 16_384,
                    retries: 3,
                    retry_backoff_ms: 100,
                    request_timeout_ms: 30_000,
                    client_id: "producer-performance".into(),
                };
                let mut producer = KafkaProducer::new(&ctx, cfg);
                let start = Instant::now();
                for seq in 0..total {
                    // Records are due at a steady rate; a slow send is caught up afterwards. Like
                    // kafka-producer-perf-test's ThroughputThrottler, the producer sleeps only once
                    // it is MIN_SLEEP_NS (2 ms) ahead, so records leave in small bursts.
                    let due = start + Duration::from_nanos(seq * 1_000_000_000 / rate);
                    if due >= crate::hw::now() + MIN_SLEEP {
                        crate::hw::sleep_until_exact(due).await;
                    }
                    producer.send(TOPIC, None, value(seq, size)).await;
                }
                let (acked, _errors) = producer.close().await;
                let _ = ptx.send(acked);
            })
            .map_err(|e| e.to_string())?;
        let (ctx_tx, mut crx) = futures::channel::mpsc::unbounded();
        for i in 0..s.consumers {
            let host = if i % 2 == 0 { "slave1" } else { "master" };
            let (b, tx) = (bootstrap.clone(), ctx_tx.clone());
            world
                .spawn(host, "ConsumerPerformance", move |ctx: ProcCtx| async move {
                    let group = format!("sim-speed-{i}");
                    let mut got = 0u64;
                    let mut last = Instant::now();
                    while got < total && Instant::now() < deadline {
                        let Ok(mut f) =
                            bootstrap_consumer(&ctx, &b, TOPIC, OffsetReset::Earliest, &group)
                                .await
                        else {
                            madsim::time::sleep(Duration::from_secs(1)).await;
                            continue;
                        };
                        while got < total && Instant::now() < deadline {
                            let n = f.poll(500).await.len() as u64;
                            if n > 0 {
                                got += n;
                                last = Instant::now();
                            }
                            if !f.errors.is_empty() {
                                break;
                            }
                        }
                    }
                    let _ = tx.unbounded_send((got, last));
                })
                .map_err(|e| e.to_string())?;
        }
        drop(ctx_tx);
        let acked = prx.await.map_err(|_| "the producer died".to_string())?;
        let mut end = Instant::now();
        let mut consumed = Vec::new();
        use futures::StreamExt;
        while let Some((got, last)) = crx.next().await {
            consumed.push(got);
            end = end.max(last);
        }
        Ok(Outcome {
            setup,
            measured: end - t0,
            sent: total,
            acked,
            consumed,
            trace_events: world.tracer().len() as u64,
            trace_hash: world.tracer().hash(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_run_delivers_every_record_to_every_consumer_and_is_deterministic() {
        let s = Settings { duration: Duration::from_secs(2), rate: 2_000, ..Settings::default() };
        let a = run(&s).expect("run");
        assert_eq!(a.sent, 4_000);
        assert_eq!(a.acked, 4_000);
        assert_eq!(a.consumed, vec![4_000, 4_000]);
        assert_eq!(a.messages(), 12_000);
        // The producer runs for its duration (its last burst leaves up to MIN_SLEEP early);
        // consumers follow within a few fetch round trips (their latest offset is the high
        // watermark, one replication round behind the log end).
        assert!(
            a.measured >= Duration::from_secs(2) - MIN_SLEEP
                && a.measured < Duration::from_millis(3500),
            "{:?}",
            a.measured
        );
        // A poll's records of a partition are one trace event, not one per record.
        assert!(
            a.setup > Duration::ZERO && a.trace_events > 1_000 && a.trace_events < 12_000,
            "{}",
            a.trace_events
        );
        let b = run(&s).expect("run");
        assert_eq!(a, b);
    }

    #[test]
    fn values_are_unique_and_sized() {
        assert_eq!(value(42, 5), b"42...".to_vec());
        assert_eq!(value(7, 100).len(), 100);
        assert_ne!(value(1, 100), value(10, 100));
    }
}
