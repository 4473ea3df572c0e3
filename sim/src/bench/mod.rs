//! Benchmarks in virtual time: experiments run on the simulated cluster, reporting what the
//! hardware model says a workload costs.
//!
//! Nothing here reads the wall clock: every number is virtual time and model counters, so a
//! bench is as deterministic as any other run (the `lab bench` command adds the wall time a run
//! took, outside the simulation). The cluster is set up exactly as a learner would, through shell
//! lines (`lab set`, made as a typed `ConfigEdit`, `kafka-server-start.sh`, `kafka-topics.sh`);
//! the load comes from small benchmark clients that speak the Kafka protocol directly, like
//! `kafka-producer-perf-test.sh` and `kafka-consumer-perf-test.sh` do.
//!
//! - [`zerocopy`]: the same fetch workload through `sendfile` and `read+write`.
//! - [`throughput`]: Jay Kreps' 2014 "2 million writes per second" experiments.
//! - [`sim_speed`]: how fast the simulator runs a loaded cluster (the CLI adds wall time and memory).
//!
//! # How it works
//!
//! (Moved here from ARCHITECTURE.md, which keeps only the map.)
//!
//! Benchmarks in virtual time, set up through shell lines like a learner would and loaded by small
//! protocol-level clients (`ConsumerPerformance`, `ProducerPerformance` processes).
//! `zerocopy.rs`: the same fetch workload through both send paths in three regimes (CPU-bound with a
//! what-if NIC, network-bound, disk-bound with the page cache dropped), reporting throughput and the
//! broker host's CPU counters and resource utilisations; `report_json` is `--json`'s document, with the
//! CPU-bound ratio the profile predicts (`predicted_cpu_bound_ratio`, from `hw::send::send_cost`).
//! `throughput.rs`: Jay Kreps' 2014 experiments on three brokers plus three client hosts
//! (`worker1..3`). `sim_speed.rs`: the simulator's own speed test — 3 ZooKeepers, 3 brokers, a topic
//! of 3 partitions × 3 replicas, the real `KafkaProducer` at a steady rate and `PartitionFetcher`
//! consumers — with its trace streamed into the hash (`Tracer::stream_into_hash`) so memory measures
//! the cluster, not its history. Results are pure functions of (profile, seed, settings); the CLI adds
//! wall time and, for `sim-speed`, peak RSS (`VmHWM`). `profile_tests` edits a profile file and checks
//! that each bench moves the way the model says.

pub mod sim_speed;
pub mod throughput;
pub mod zerocopy;

use crate::fault::ConfigEdit;
use crate::kafka::log::{encode_message_set, Record};
use crate::kafka::proto::{
    FetchPartition, FetchPartitionResponse, FetchRequest, KafkaError, KafkaPacket, MetadataRequest,
    MetadataResponse, ProducePartitionData, ProduceRequest, Request, Response,
};
use crate::kafka::server::KAFKA_HOME;
use crate::shell::Shell;
use crate::world::{ProcCtx, World};
use std::collections::BTreeMap;
use std::time::Duration;

/// The broker config file on every host.
pub fn server_properties() -> String {
    format!("{KAFKA_HOME}/config/server.properties")
}

/// Starts ZooKeeper on every host and a broker on each of `brokers` (with `props` set in their
/// `server.properties` first), then creates `topic`; waits until every partition has a leader.
/// Returns the leader of each partition, or a message saying what did not come up.
pub async fn start_cluster(
    world: &World,
    brokers: &[&str],
    props: &[(String, String)],
    topic: &str,
    partitions: u32,
    replication: u32,
) -> Result<BTreeMap<i32, String>, String> {
    let mut sh = Shell::new(world.clone());
    // The seed's installation; ZooKeeper runs on the seed's three hosts only (a world may have
    // extra client machines).
    sh.boot_cluster(false).await;
    let seed_hosts: Vec<String> = world.host_names().into_iter().take(3).collect();
    sh.boot_hosts(&seed_hosts).await;
    sh.wait_for_quorum(Duration::from_secs(60)).await;
    for host in brokers {
        for (k, v) in props {
            sh.edit(&ConfigEdit::new(host, &server_properties(), k, v)).await;
        }
        sh.exec_line(&format!("ssh {host} kafka-server-start.sh -daemon {}", server_properties()))
            .await;
    }
    madsim::time::sleep(Duration::from_secs(5)).await;
    let code = sh
        .exec_line(&format!(
            "kafka-topics.sh --create --zookeeper master:2181 --replication-factor {replication} --partitions {partitions} --topic {topic}"
        ))
        .await;
    if code != 0 {
        return Err(format!("kafka-topics.sh --create failed: {}", sh.take_output().trim()));
    }
    for _ in 0..100 {
        madsim::time::sleep(Duration::from_millis(200)).await;
        if let Some(l) = leaders(world, brokers.first().copied().unwrap_or("master"), topic).await {
            if l.len() == partitions as usize {
                return Ok(l);
            }
        }
    }
    Err(format!("topic {topic} has no leaders after 20 s of virtual time"))
}

/// Host of each broker id, in the seed's order (broker.id = 0, 1, 2 on master, slave1, slave2).
fn broker_host(world: &World, id: i32) -> Option<String> {
    usize::try_from(id).ok().and_then(|i| world.host_names().get(i).cloned())
}

/// The leader host of every partition of `topic` that has one, asked of the broker on `via`.
pub async fn leaders(world: &World, via: &str, topic: &str) -> Option<BTreeMap<i32, String>> {
    let (tx, rx) = futures::channel::oneshot::channel();
    let topic_s = topic.to_string();
    let w = world.clone();
    let via_s = via.to_string();
    world
        .spawn(via, "MetadataProbe", move |ctx: ProcCtx| async move {
            let mut out = None;
            if let Ok(c) = ctx
                .net()
                .connect::<KafkaPacket>(&ctx.host, &ctx.name, &via_s, 9092, Duration::from_secs(5))
                .await
            {
                let req = KafkaPacket::Request {
                    correlation_id: 0,
                    client_id: "bench".into(),
                    body: Request::Metadata(MetadataRequest { topics: vec![topic_s.clone()] }),
                };
                if c.send(req).is_ok() {
                    if let Ok(KafkaPacket::Response {
                        body: Response::Metadata(MetadataResponse { topic_metadata, .. }),
                        ..
                    }) = c.recv_timeout(Duration::from_secs(5)).await
                    {
                        let mut m = BTreeMap::new();
                        for t in topic_metadata {
                            if t.topic == topic_s && t.error_code == KafkaError::None {
                                for p in t.partition_metadata.iter().filter(|p| p.leader >= 0) {
                                    if let Some(h) = broker_host(&w, p.leader) {
                                        m.insert(p.partition, h);
                                    }
                                }
                            }
                        }
                        out = Some(m);
                    }
                }
            }
            let _ = tx.send(out);
        })
        .ok()?;
    rx.await.ok().flatten()
}

/// `count` records of `size` bytes (value only, no key), as a perf-test producer makes them.
pub fn records(count: u64, size: usize) -> Vec<Record> {
    (0..count).map(|i| Record { offset: i as i64, ..Record::value(vec![b'x'; size]) }).collect()
}

/// Fills each partition with `bytes_per_partition` of `message_bytes`-byte records, sent from
/// `from` in ~1 MiB produce requests with acks=1. Returns the records written per partition.
pub async fn bulk_load(
    world: &World,
    from: &str,
    topic: &str,
    leaders: &BTreeMap<i32, String>,
    message_bytes: usize,
    bytes_per_partition: u64,
) -> Result<u64, String> {
    let per_record = (message_bytes
        + crate::kafka::log::message::LOG_OVERHEAD
        + crate::kafka::log::message::MESSAGE_OVERHEAD_V0) as u64;
    let per_partition = (bytes_per_partition / per_record).max(1);
    let batch = ((1 << 20) / per_record).clamp(1, per_partition);
    let (tx, rx) = futures::channel::oneshot::channel();
    let leaders = leaders.clone();
    let topic = topic.to_string();
    world
        .spawn(from, "BulkLoad", move |ctx: ProcCtx| async move {
            let mut result = Ok(per_partition);
            'parts: for (p, host) in &leaders {
                let conn = match ctx
                    .net()
                    .connect::<KafkaPacket>(
                        &ctx.host,
                        &ctx.name,
                        host,
                        9092,
                        Duration::from_secs(5),
                    )
                    .await
                {
                    Ok(c) => c,
                    Err(e) => {
                        result = Err(format!("connect {host}:9092: {e}"));
                        break;
                    }
                };
                let set = encode_message_set(&records(batch, message_bytes), 0);
                let mut sent = 0;
                let mut corr = 0;
                while sent < per_partition {
                    let n = batch.min(per_partition - sent);
                    let bytes = if n == batch {
                        set.clone()
                    } else {
                        encode_message_set(&records(n, message_bytes), 0)
                    };
                    corr += 1;
                    let req = KafkaPacket::Request {
                        correlation_id: corr,
                        client_id: "bench-load".into(),
                        body: Request::Produce(ProduceRequest {
                            acks: 1,
                            timeout: 30_000,
                            topic_data: vec![ProducePartitionData {
                                topic: topic.clone(),
                                partition: *p,
                                record_set: bytes,
                                record_count: n as usize,
                            }],
                        }),
                    };
                    if conn.send(req).is_err() {
                        result = Err("produce: connection lost".into());
                        break 'parts;
                    }
                    match conn.recv_timeout(Duration::from_secs(30)).await {
                        Ok(KafkaPacket::Response { body: Response::Produce(r), .. })
                            if r.responses.iter().all(|x| x.error_code == KafkaError::None) => {}
                        other => {
                            result = Err(format!("produce failed: {other:?}"));
                            break 'parts;
                        }
                    }
                    sent += n;
                }
            }
            let _ = tx.send(result);
        })
        .map_err(|e| e.to_string())?;
    rx.await.map_err(|_| "bulk load process died".to_string())?
}

/// A fetch-only consumer, like `kafka-consumer-perf-test.sh` with the simple consumer: reads
/// `partition` of `topic` from offset 0 until `until_offset`, `fetch_bytes` per request.
/// Returns (bytes, messages, fetch requests).
pub async fn consume(
    ctx: &ProcCtx,
    leader: &str,
    topic: &str,
    partition: i32,
    until_offset: i64,
    fetch_bytes: i32,
) -> Result<(u64, u64, u64), String> {
    let conn = ctx
        .net()
        .connect::<KafkaPacket>(&ctx.host, &ctx.name, leader, 9092, Duration::from_secs(5))
        .await
        .map_err(|e| format!("connect {leader}:9092: {e}"))?;
    let (mut offset, mut bytes, mut messages, mut corr) = (0i64, 0u64, 0u64, 0);
    while offset < until_offset {
        corr += 1;
        let req = KafkaPacket::Request {
            correlation_id: corr,
            client_id: "bench-consumer".into(),
            body: Request::Fetch(FetchRequest {
                replica_id: -1,
                max_wait_time: 100,
                min_bytes: 1,
                topics: vec![FetchPartition {
                    topic: topic.to_string(),
                    partition,
                    fetch_offset: offset,
                    max_bytes: fetch_bytes,
                }],
            }),
        };
        conn.send(req).map_err(|e| format!("fetch: {e}"))?;
        match conn.recv_timeout(Duration::from_secs(30)).await {
            Ok(KafkaPacket::Response { body: Response::Fetch(parts), .. }) => {
                for FetchPartitionResponse { error_code: err, record_set: set, .. } in
                    parts.responses
                {
                    if err != KafkaError::None {
                        return Err(format!("fetch error {err:?}"));
                    }
                    let (msgs, _) = crate::kafka::log::decode_message_set(&set);
                    if let Some(last) = msgs.last() {
                        offset = last.record.offset + 1;
                    }
                    messages += msgs.len() as u64;
                    bytes += set.len() as u64;
                }
            }
            other => return Err(format!("fetch failed: {other:?}")),
        }
    }
    Ok((bytes, messages, corr as u64))
}

/// Every hardware number a bench uses comes from its profile: a world's NICs, disks and CPUs are
/// built from it, and editing a profile file moves the results the way the model says.
#[cfg(test)]
mod profile_tests {
    use super::zerocopy::{run_case, Case, Regime, Settings};
    use crate::hw::{HardwareProfile, SendPath};
    use crate::world::Sim;

    const COMMODITY_2014: &str = include_str!("../../core/src/hw/profiles/commodity-2014.toml");

    /// commodity-2014 with one line of its file changed.
    fn edited(from: &str, to: &str) -> HardwareProfile {
        assert!(COMMODITY_2014.contains(from), "the profile file has `{from}`");
        HardwareProfile::from_toml_str(&COMMODITY_2014.replace(from, to))
            .expect("edited profile parses")
    }

    #[test]
    fn every_host_is_built_from_the_profile() {
        let p = edited("cores = 6", "cores = 3");
        let mut cfg = crate::seeded(1);
        cfg.profile = p.clone();
        Sim::new(cfg).run(|world| async move {
            assert_eq!(world.net().params(), p.net);
            for h in world.host_names() {
                assert_eq!(world.cpu(&h).expect("host").params(), p.cpu);
                assert_eq!(world.cpu(&h).expect("host").cores(), 3);
                assert_eq!(
                    world.disk(&h).expect("host").with_disk(|d, _| d.params().clone()),
                    p.disk
                );
            }
        });
    }

    fn mb_per_sec(p: HardwareProfile, regime: Regime, path: SendPath, consumers: u32) -> f64 {
        let s = Settings::quick(p);
        run_case(&s, &Case { regime, path, tls: false, message_bytes: 1000, consumers })
            .expect("case runs")
            .mb_per_sec()
    }

    #[test]
    fn slower_memcpy_slows_read_write_but_not_sendfile_when_the_cpu_limits() {
        let base = HardwareProfile::default();
        let slow =
            edited("memcpy_bytes_per_sec = 5_000_000_000", "memcpy_bytes_per_sec = 1_000_000_000");
        // 16 consumers saturate the network threads (see zerocopy's tests), so throughput is
        // inversely proportional to CPU per byte.
        let rw = (
            mb_per_sec(base.clone(), Regime::CpuBound, SendPath::ReadWrite, 16),
            mb_per_sec(slow.clone(), Regime::CpuBound, SendPath::ReadWrite, 16),
        );
        let sf = (
            mb_per_sec(base, Regime::CpuBound, SendPath::Sendfile, 16),
            mb_per_sec(slow, Regime::CpuBound, SendPath::Sendfile, 16),
        );
        assert!(rw.1 < rw.0 * 0.6, "read+write {rw:?}");
        // Sendfile copies only response headers: it barely notices.
        assert!((sf.1 / sf.0 - 1.0).abs() < 0.1, "sendfile {sf:?}");
    }

    #[test]
    fn a_faster_nic_speeds_up_the_network_bound_case() {
        let gbe =
            mb_per_sec(HardwareProfile::default(), Regime::NetworkBound, SendPath::Sendfile, 4);
        let ten = mb_per_sec(
            edited("bandwidth_bps = 1_000_000_000", "bandwidth_bps = 10_000_000_000"),
            Regime::NetworkBound,
            SendPath::Sendfile,
            4,
        );
        assert!(gbe > 100.0 && gbe < 125.0, "{gbe}");
        assert!(ten > 3.0 * gbe, "{gbe} -> {ten}");
    }

    #[test]
    fn a_slower_disk_slows_the_disk_bound_case() {
        let base = mb_per_sec(HardwareProfile::default(), Regime::DiskBound, SendPath::Sendfile, 2);
        let slow = mb_per_sec(
            edited("seq_read_bytes_per_sec = 140_000_000", "seq_read_bytes_per_sec = 50_000_000"),
            Regime::DiskBound,
            SendPath::Sendfile,
            2,
        );
        // Seeks between the consumers' files still cost the same, so less than proportionally.
        assert!(slow < base * 0.8, "{base} -> {slow}");
    }

    #[test]
    fn the_throughput_bench_follows_the_nic() {
        use super::throughput::{experiments, run, ProducerSpec};
        let spec =
            ProducerSpec { num_records: 2_000, record_size: 10_000, ..ProducerSpec::default() };
        let e = experiments(&spec, &[]).into_iter().next().expect("first experiment");
        assert_eq!(e.name, "1 producer, no replication");
        let gbe = run(&HardwareProfile::default(), 1, &e).expect("runs").produce_mb();
        let ten =
            run(&edited("bandwidth_bps = 1_000_000_000", "bandwidth_bps = 10_000_000_000"), 1, &e)
                .expect("runs")
                .produce_mb();
        // 10 KB records in batches of 50 fill a 1 GbE link; ten times the link moves far more.
        assert!(gbe < 125.0, "{gbe}");
        assert!(ten > 2.0 * gbe, "{gbe} -> {ten}");
    }
}
