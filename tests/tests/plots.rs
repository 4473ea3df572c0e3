//! Pictures drawn from real runs' traces: the partition log view shows what was lost, the
//! Perfetto export opens as a trace, the group view shows who owned what, the ZooKeeper view the
//! elections, the copy-path diagram the model's copies, and each is byte-identical for a seed.

use sim::scenario::{run_traced, Scenario};
use sim::trace::kind;

fn trace_of(name: &str, seed: u64) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios").join(name);
    let text = std::fs::read_to_string(&path).expect("scenario file");
    let sc = Scenario::parse_named(&text, name).unwrap_or_else(|e| panic!("{name}:{e}"));
    run_traced(&sc, seed).1
}

#[test]
fn the_partition_log_view_shows_the_record_hw_truncation_lost() {
    let events = viz::parse_jsonl(&trace_of("hw-truncation-loss.toml", 1)).expect("trace");
    let h =
        viz::partition_log::PartitionHistory::from_events(&events, "events", 0).expect("history");
    assert_eq!(
        h.lost_offsets().into_iter().collect::<Vec<_>>(),
        vec![199],
        "the acknowledged record at 199"
    );
    assert_eq!(h.final_leader, Some(2), "slave2 leads at the end");
    let windows = h.default_windows();
    assert!(windows.iter().any(|w| w.0 <= 199 && 199 < w.1), "{windows:?}");
    let svg = viz::partition_log::render_svg(&h, &windows).expect("svg");
    assert!(svg.contains("broker 2 (slave2)") && svg.contains("final leader 2"), "labels");
    assert!(svg.matches(">\n199\n</text>").count() >= 4, "199 on the logs and in the lost rows");
    let again = viz::parse_jsonl(&trace_of("hw-truncation-loss.toml", 1)).expect("trace");
    let h2 =
        viz::partition_log::PartitionHistory::from_events(&again, "events", 0).expect("history");
    assert_eq!(
        viz::partition_log::render_svg(&h2, &windows).expect("svg"),
        svg,
        "same seed, same picture"
    );

    // With KIP-101 truncation nothing is lost.
    let kept = viz::parse_jsonl(&trace_of("hw-truncation-kip101.toml", 1)).expect("trace");
    let h3 =
        viz::partition_log::PartitionHistory::from_events(&kept, "events", 0).expect("history");
    assert!(h3.lost_offsets().iter().all(|o| *o != 199), "{:?}", h3.lost_offsets());
}

#[test]
fn the_perfetto_export_has_tracks_flows_and_the_faults() {
    let events = viz::parse_jsonl(&trace_of("broker-failover.toml", 1)).expect("trace");
    let v = viz::perfetto::export(&events);
    let evs = v["traceEvents"].as_array().expect("traceEvents");
    let tracks: Vec<&str> = evs
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .filter_map(|e| e["args"]["name"].as_str())
        .collect();
    for t in ["QuorumPeerMain", "Kafka", "ProducerPerformance"] {
        assert!(tracks.contains(&t), "{t} in {tracks:?}");
    }
    assert!(
        evs.iter().any(|e| e["name"] == kind::HOST_CRASH && e["s"] == "g"),
        "the power loss cuts across every track"
    );
    let sends = evs.iter().filter(|e| e["cat"] == "flow" && e["ph"] == "s").count();
    let ends = evs.iter().filter(|e| e["cat"] == "flow" && e["ph"] == "f").count();
    assert!(sends > 1000 && ends > 1000 && ends <= sends, "{sends} sends, {ends} receives");
    let text = serde_json::to_string(&v).expect("json");
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
}

/// Every figure in the book is a fresh render of a scenario run: `lab plot partition-log
/// --scenario scenarios/FILE --seed N -o book/src/figures/NAME.svg` (or `lab plot groups --view
/// ownership|rate …`). `UPDATE_BOOK=1` rewrites them.
#[test]
fn the_book_figures_match_a_fresh_render() {
    // (scenario, seed, what to draw, file): `lab plot partition-log --topic events`, or
    // `lab plot groups --view ownership|rate`.
    let figures = [
        ("hw-truncation-loss.toml", 1, "partition-log", "hw-truncation-loss.svg"),
        ("unclean-election-loss.toml", 1, "partition-log", "unclean-election-loss.svg"),
        ("queue-vs-broadcast.toml", 1, "groups-ownership", "queue-vs-broadcast-groups.svg"),
        ("queue-vs-broadcast.toml", 1, "groups-rate", "queue-vs-broadcast-rate.svg"),
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src/figures");
    let update = std::env::var_os("UPDATE_BOOK").is_some_and(|v| v != "0" && !v.is_empty());
    let mut traces: std::collections::BTreeMap<(&str, u64), Vec<viz::Event>> = Default::default();
    for (scenario, seed, what, file) in figures {
        let events = traces
            .entry((scenario, seed))
            .or_insert_with(|| viz::parse_jsonl(&trace_of(scenario, seed)).expect("trace"));
        let svg = match what {
            "partition-log" => {
                let h = viz::partition_log::PartitionHistory::from_events(events, "events", 0)
                    .expect("history");
                viz::partition_log::render_svg(&h, &h.default_windows()).expect("svg")
            }
            "groups-ownership" => viz::groups::render_ownership_svg(
                &viz::groups::GroupsHistory::from_events(events).expect("groups"),
            )
            .expect("svg"),
            _ => viz::groups::render_rate_svg(
                &viz::groups::GroupsHistory::from_events(events).expect("groups"),
            )
            .expect("svg"),
        };
        let path = dir.join(file);
        if update {
            std::fs::write(&path, &svg).expect("write figure");
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == svg,
            "book/src/figures/{file} is stale: UPDATE_BOOK=1 cargo test -p lab-tests --test plots"
        );
    }
    // The Spark Streaming chapter: `lab plot stream-batches --scenario
    // scenarios/stream-direct-exactly-once.toml --seed 1 -o book/src/figures/stream-offset-ranges.svg`.
    let events = viz::parse_jsonl(&trace_of("stream-direct-exactly-once.toml", 1)).expect("trace");
    let s = viz::stream_batches::StreamBatches::from_events(&events).expect("batches");
    let svg = viz::stream_batches::render_svg(&s).expect("svg");
    let path = dir.join("stream-offset-ranges.svg");
    if update {
        std::fs::write(&path, &svg).expect("write figure");
    } else {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(committed == svg, "book/src/figures/stream-offset-ranges.svg is stale: UPDATE_BOOK=1 cargo test -p lab-tests --test plots");
    }
}

#[test]
fn the_stream_batches_view_tiles_each_partition_and_marks_the_crash() {
    let events = viz::parse_jsonl(&trace_of("stream-direct-exactly-once.toml", 1)).expect("trace");
    let s = viz::stream_batches::StreamBatches::from_events(&events).expect("batches");
    assert_eq!((s.topic.as_str(), s.crashes.len(), s.restarts.len()), ("words", 1, 1));
    for p in 0..3 {
        let mut committed: Vec<(i64, i64)> = s
            .ranges
            .iter()
            .filter(|r| r.partition == p && r.output == "committed")
            .map(|r| (r.from, r.until))
            .collect();
        committed.sort();
        assert_eq!(committed.first().map(|r| r.0), Some(0), "partition {p} is read from its start");
        for w in committed.windows(2) {
            assert_eq!(w[0].1, w[1].0, "partition {p}: each batch starts where the last one ended");
        }
    }
    assert!(s.ranges.iter().all(|r| !r.repeated), "exactly once: no range output twice");
    let svg = viz::stream_batches::render_svg(&s).expect("svg");
    for needle in
        ["words-0", "words-2", "driver killed", "restarted from checkpoint", "output committed"]
    {
        assert!(svg.contains(needle), "{needle} in the figure");
    }
    assert_eq!(viz::stream_batches::render_svg(&s).expect("svg"), svg, "same trace, same picture");
}

#[test]
fn the_space_time_diagram_of_a_failover_shows_crash_expiry_leader_and_isr_and_the_new_band() {
    let events = viz::parse_jsonl(&trace_of("broker-failover.toml", 1)).expect("trace");
    let opts = viz::spacetime::Options::default();
    let svg = viz::spacetime::render_svg(&events, &opts).expect("svg");
    for needle in [
        "power loss master",
        "session expire",
        "LeaderAndIsr",
        "elect 1 for events-0",
        "leader events-0",
    ] {
        assert!(svg.contains(needle), "{needle} in the diagram");
    }
    // The old leader's band ends at the crash; the new one starts on slave1.
    assert!(svg.matches("leader events-0").count() >= 2, "two leadership bands");
    assert_eq!(
        viz::spacetime::render_svg(&events, &opts).expect("svg"),
        svg,
        "same seed, same picture"
    );
}

#[test]
fn the_unclean_election_view_shows_the_old_leaders_lost_offsets_and_the_divergent_log() {
    let events = viz::parse_jsonl(&trace_of("unclean-election-loss.toml", 1)).expect("trace");
    let h =
        viz::partition_log::PartitionHistory::from_events(&events, "events", 0).expect("history");
    let lost = h.lost_offsets();
    let divergent = h.divergent_offsets();
    assert!(
        lost.len() > 100 && !divergent.is_empty(),
        "{} lost, {} divergent",
        lost.len(),
        divergent.len()
    );
    assert!(h.replicas[&0].lost.len() == lost.len(), "the old leader (broker 0) lost them");
    assert_ne!(h.final_leader, Some(0), "an out-of-ISR replica leads");
    let svg = viz::partition_log::render_svg(&h, &h.default_windows()).expect("svg");
    let first_lost = lost.first().copied().unwrap_or(-1);
    let first_div = divergent.first().copied().unwrap_or(-1);
    for o in [first_lost, first_lost + 1, first_div] {
        assert!(svg.contains(&format!(">\n{o}\n</text>")), "offset {o} is labelled");
    }
}

#[test]
fn the_group_view_of_queue_vs_broadcast_shows_members_generations_and_the_killed_members_gap() {
    let events = viz::parse_jsonl(&trace_of("queue-vs-broadcast.toml", 1)).expect("trace");
    let h = viz::groups::GroupsHistory::from_events(&events).expect("groups");
    assert_eq!(h.groups.keys().map(String::as_str).collect::<Vec<_>>(), ["A", "B", "C"]);
    let a = &h.groups["A"];
    assert_eq!(a.partitions, ["events-0", "events-1", "events-2", "events-3"]);
    assert!(
        a.members.len() >= 2,
        "A1 and A2 (and A2 again after a rejoin with a new id): {:?}",
        a.members
    );
    assert!(
        a.generations.len() >= 2,
        "a new generation after ConsumerA1 is killed: {:?}",
        a.generations
    );
    assert!(!a.rebalances.is_empty(), "A rebalanced");
    // ConsumerA1 is killed at 20 s: its stretches end then, by the kill, and every partition it
    // held is later owned by someone else.
    let (a1, _) = a
        .members
        .iter()
        .find(|(_, m)| m.proc_name == "ConsumerA1")
        .expect("ConsumerA1 is a member");
    let killed: Vec<_> =
        a.owned.iter().filter(|o| o.member == *a1 && o.ended_by == kind::PROC_KILL).collect();
    assert!(!killed.is_empty(), "A1's ownership ends at its kill");
    for o in &killed {
        assert!((20_000_000..21_500_000).contains(&o.to_us), "{o:?}");
        assert!(
            a.owned
                .iter()
                .any(|x| x.partition == o.partition && x.member != *a1 && x.from_us > o.to_us),
            "{} is taken over",
            o.partition
        );
    }
    // B and C each own every partition: a broadcast.
    for g in ["B", "C"] {
        assert_eq!(h.groups[g].partitions.len(), 4, "group {g}");
    }
    let svg = viz::groups::render_ownership_svg(&h).expect("svg");
    for needle in [
        a1.as_str(),
        "ConsumerA2 on client2",
        "events-3",
        "group C",
        "gen 1",
        &format!("gen {}", a.generations.last().map_or(0, |g| g.1)),
    ] {
        assert!(svg.contains(needle), "{needle} in the ownership chart");
    }
    let rate = viz::groups::render_rate_svg(&h).expect("svg");
    for needle in [
        "queue: members of group A",
        "broadcast: group B, C",
        "group A: total",
        "group B: ConsumerB on client1",
        "group A: ConsumerA2 on client2",
    ] {
        assert!(rate.contains(needle), "{needle} in the rate chart");
    }
    // The queue's members add up to what each broadcast group got.
    let total = |g: &str| h.rate_per_second(g).values().flatten().sum::<u64>();
    let (ta, tb) = (total("A"), total("B"));
    assert!(tb > 1000 && ta >= tb, "A processed {ta} (with redeliveries), B {tb}");
    let again = viz::parse_jsonl(&trace_of("queue-vs-broadcast.toml", 1)).expect("trace");
    let h2 = viz::groups::GroupsHistory::from_events(&again).expect("groups");
    assert_eq!(
        viz::groups::render_ownership_svg(&h2).expect("svg"),
        svg,
        "same seed, same picture"
    );
    assert_eq!(viz::groups::render_rate_svg(&h2).expect("svg"), rate, "same seed, same picture");
}

#[test]
fn the_zookeeper_view_shows_both_elections_zxids_and_the_brokers_sessions_and_ephemerals() {
    let events = viz::parse_jsonl(&trace_of("zk-leader-failover.toml", 1)).expect("trace");
    let h = viz::zk::ZkHistory::from_events(&events).expect("zk");
    let leaders: Vec<(i64, i64)> = h.elections.iter().filter_map(|e| e.leader()).collect();
    assert!(
        leaders.len() >= 2,
        "the first election and the one after slave2's server dies: {leaders:?}"
    );
    assert_eq!(leaders[0].0, 3, "slave2 (myid 3) leads first");
    let after = leaders.iter().find(|l| l.0 != 3).expect("a new leader after the failover");
    assert_eq!(after.0, 2, "slave1 (myid 2) leads next");
    assert_eq!(h.servers.len(), 3);
    let epochs: Vec<(i64, i64)> = h.epochs.iter().map(|e| (e.1, e.2)).collect();
    assert!(
        epochs.starts_with(&[(1, 3), (2, 2)]),
        "slave2 established epoch 1, slave1 epoch 2: {epochs:?}"
    );
    assert!(
        h.zxids.values().all(|z| z.iter().all(|x| x.1 >> 32 == 1)),
        "nothing is written in epoch 2: Kafka does not notice"
    );
    // Each broker holds one session with its /brokers/ids/N ephemeral.
    let kafka: Vec<_> = h.clients.iter().filter(|((_, p), _)| p == "Kafka").collect();
    assert_eq!(kafka.len(), 3, "{:?}", h.clients.keys().collect::<Vec<_>>());
    for ((host, _), ss) in &kafka {
        assert!(
            ss.iter().flat_map(|s| &s.ephemerals).any(|e| e.0.starts_with("/brokers/ids/")),
            "{host}'s registration"
        );
    }
    assert!(
        h.clients.values().flatten().flat_map(|s| &s.ephemerals).any(|e| e.0 == "/controller"),
        "the controller's ephemeral"
    );
    let svg = viz::zk::render_svg(&h).expect("svg");
    let round = h.elections.iter().find_map(|e| e.leader().filter(|l| l.0 == 2)).map_or(0, |l| l.1);
    for needle in [
        format!("server 2 leads (round {round})"),
        format!("LEADING (round {round})"),
        "epoch 2, leader 2".into(),
        "ephemeral /controller".into(),
        "Kafka on slave1".into(),
    ] {
        assert!(svg.contains(&needle), "{needle} in the ZooKeeper view");
    }
    let again = viz::parse_jsonl(&trace_of("zk-leader-failover.toml", 1)).expect("trace");
    assert_eq!(
        viz::zk::render_svg(&viz::zk::ZkHistory::from_events(&again).expect("zk")).expect("svg"),
        svg,
        "same seed, same picture"
    );
}

/// What `lab plot copy-path` draws, from the same bench cases (tests cannot call the lab binary's
/// functions, so the small conversion is repeated here).
fn copy_path_of(seed: u64) -> viz::copy_path::CopyPath {
    use sim::bench::zerocopy::{run_case, Case, Regime, Settings};
    use sim::hw::{HardwareProfile, SendPath};
    let s = Settings { seed, ..Settings::quick(HardwareProfile::default()) };
    let mut data = viz::copy_path::CopyPath {
        profile: "commodity-2014".into(),
        counted_run: "disk-bound".into(),
        ..Default::default()
    };
    for regime in [Regime::CpuBound, Regime::DiskBound] {
        for path in [SendPath::Sendfile, SendPath::ReadWrite] {
            let r =
                run_case(&s, &Case { regime, path, tls: false, message_bytes: 1000, consumers: 4 })
                    .expect("bench case");
            let name = if path == SendPath::Sendfile { "sendfile" } else { "read+write" };
            data.bars.push(viz::copy_path::Bar {
                regime: regime.name().into(),
                path: name.into(),
                mb_per_sec: r.mb_per_sec(),
                bottleneck: r.bottleneck().0.into(),
            });
            if regime == Regime::DiskBound {
                data.paths.push(viz::copy_path::PathCounters {
                    path: name.into(),
                    bytes: r.bytes,
                    cpu_copied: r.cpu.bytes_copied,
                    // Every DMA that is not the NIC taking sent bytes (counted with the kernel's TCP work)
                    // is the disk loading the page cache.
                    disk_dma: r.cpu.dma_bytes.saturating_sub(r.cpu.tcp_tx_bytes),
                    dma: r.cpu.dma_bytes,
                    syscalls: r.cpu.syscalls,
                    mode_switches: r.cpu.mode_switches,
                    context_switches: r.cpu.context_switches,
                    busy_ns: r.cpu.busy_ns,
                    mb_per_sec: r.mb_per_sec(),
                });
            }
        }
    }
    data
}

#[test]
fn the_copy_path_diagram_counts_four_copies_against_two_from_the_model() {
    let data = copy_path_of(1);
    let (zc, rw) = (&data.paths[0], &data.paths[1]);
    assert_eq!(
        (zc.dma_copies(), zc.cpu_copies()),
        (2, 0),
        "sendfile: disk → page cache → NIC by DMA: {zc:?}"
    );
    assert_eq!(
        (rw.dma_copies(), rw.cpu_copies()),
        (2, 2),
        "read+write: two more copies by the CPU: {rw:?}"
    );
    let per_syscall = |p: &viz::copy_path::PathCounters| p.mode_switches as f64 / p.syscalls as f64;
    assert_eq!((per_syscall(zc), per_syscall(rw)), (2.0, 2.0));
    let ratio = rw.syscalls as f64 / zc.syscalls as f64;
    assert!((1.7..2.1).contains(&ratio), "read+write makes about twice the system calls: {ratio}");
    let cpu = |p: &str| {
        data.bars
            .iter()
            .find(|b| b.regime == "cpu-bound" && b.path == p)
            .map_or(0.0, |b| b.mb_per_sec)
    };
    assert!(cpu("sendfile") > 1.3 * cpu("read+write"), "CPU-bound: zero-copy is faster");
    let svg = viz::copy_path::render_svg(&data).expect("svg");
    for needle in [
        "copies: 2 (2 DMA, 0 CPU)",
        "copies: 4 (2 DMA, 2 CPU)",
        "user buffer (JVM): not touched",
        "CPU copy ×1.00 (read)",
        "DMA gather ×1.00",
    ] {
        assert!(svg.contains(needle), "{needle} in the diagram");
    }
    assert_eq!(
        viz::copy_path::render_svg(&copy_path_of(1)).expect("svg"),
        svg,
        "same seed, same picture"
    );
}
