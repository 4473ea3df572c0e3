//! The Spark Streaming engine over the simulated Kafka (`sim::stream`), through its scenarios:
//! the direct stream with transactional output counts every acknowledged record once across a
//! driver crash; the receiver without a write-ahead log loses what the crashed driver held; with
//! the log it loses nothing; runs are byte-identical for a seed. Small seed counts: `lab sweep`
//! does the 200-seed runs.

use sim::scenario::{run_traced, Report, Scenario};
use sim::trace::kind;

fn load(name: &str) -> Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios").join(name);
    let text = std::fs::read_to_string(&path).expect("scenario file");
    Scenario::parse_named(&text, name).unwrap_or_else(|e| panic!("{name}:{e}"))
}

fn events(trace: &str) -> Vec<serde_json::Value> {
    trace.lines().map(|l| serde_json::from_str(l).expect("JSONL")).collect()
}

fn kind<'a>(evs: &'a [serde_json::Value], k: &str) -> Vec<&'a serde_json::Value> {
    evs.iter().filter(|e| e["kind"] == k).collect()
}

fn check<'a>(r: &'a Report, name: &str) -> &'a sim::scenario::CheckOutcome {
    r.checks.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("{name} in {:?}", r.checks))
}

fn metric(r: &Report, k: &str) -> u64 {
    r.metrics
        .get(k)
        .and_then(|v| v.as_u64())
        .unwrap_or_else(|| panic!("metric {k} in {:?}", r.metrics))
}

#[test]
fn the_direct_stream_with_transactional_output_counts_each_record_once_across_a_driver_crash() {
    let sc = load("stream-direct-exactly-once.toml");
    for seed in 1..=2 {
        let (r, trace) = run_traced(&sc, seed);
        assert!(r.passed(), "seed {seed}: {:?}\n{}", r.checks, r.transcript);
        let ev = events(&trace);
        assert_eq!(
            kind(&ev, kind::STREAM_DRIVER_CRASH).len(),
            1,
            "seed {seed}: the driver was killed"
        );
        let starts = kind(&ev, kind::STREAM_CONTEXT_START);
        assert!(
            starts.len() >= 2 && starts[1]["recovered"] == true,
            "seed {seed}: restarted from its checkpoint"
        );
        assert!(metric(&r, "messages_acked") > 900, "{:?}", r.metrics);
        assert_eq!((metric(&r, "output_lost"), metric(&r, "output_duplicated")), (0, 0));
        // Consecutive batches' ranges tile each partition's log: no gap, no overlap.
        let mut next: std::collections::BTreeMap<i64, i64> = Default::default();
        for c in kind(&ev, kind::STREAM_OUTPUT_COMMIT) {
            for r in c["ranges"].as_array().expect("ranges") {
                let (p, from, until) =
                    (r[1].as_i64().unwrap(), r[2].as_i64().unwrap(), r[3].as_i64().unwrap());
                if from == until {
                    continue;
                }
                assert_eq!(
                    next.get(&p).copied().unwrap_or(0),
                    from,
                    "seed {seed}: partition {p} continues where it stopped"
                );
                next.insert(p, until);
            }
        }
    }
}

#[test]
fn the_receiver_without_a_write_ahead_log_loses_what_the_crashed_driver_held() {
    let sc = load("stream-receiver-no-wal.toml");
    let (r, trace) = run_traced(&sc, 1);
    assert!(r.passed(), "{:?}\n{}", r.checks, r.transcript);
    assert!(
        !check(&r, "at_least_once_output").ok
            && check(&r, "at_least_once_output").detail.contains("lost")
    );
    assert!(metric(&r, "output_lost") > 0, "{:?}", r.metrics);
    let ev = events(&trace);
    assert!(
        !kind(&ev, kind::KAFKA_ZKCONSUMER_COMMIT).is_empty(),
        "offsets auto-committed to ZooKeeper"
    );
    assert!(kind(&ev, kind::STREAM_WAL_WRITE).is_empty(), "no write-ahead log");
    // And the same seed, same bytes.
    assert_eq!(run_traced(&sc, 1).0.trace_hash, r.trace_hash);
}

#[test]
fn the_receiver_with_a_write_ahead_log_loses_nothing() {
    let sc = load("stream-receiver-wal.toml");
    let (r, trace) = run_traced(&sc, 1);
    assert!(r.passed(), "{:?}\n{}", r.checks, r.transcript);
    assert_eq!(metric(&r, "output_lost"), 0);
    let ev = events(&trace);
    assert!(
        !kind(&ev, kind::STREAM_WAL_WRITE).is_empty()
            && !kind(&ev, kind::STREAM_RECEIVER_COMMIT).is_empty()
    );
    assert!(
        !kind(&ev, kind::STREAM_WAL_RECOVERED).is_empty(),
        "the restarted driver read its logs back"
    );
}

#[test]
fn rate_capping_spreads_a_backlog_over_batches() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../scenarios/stream-direct-exactly-once.toml"),
    )
    .expect("file");
    // No crash, a tight cap: no batch reads more than 5 records/s × 2 s per partition.
    let text = text
        .replace("crash_between = [\"8s\", \"30s\"]\n", "")
        .replace("max_rate_per_partition = 50", "max_rate_per_partition = 5");
    let sc = Scenario::parse(&text).expect("valid");
    let (r, trace) = run_traced(&sc, 3);
    let ev = events(&trace);
    let mut lagged = false;
    for b in kind(&ev, kind::STREAM_BATCH_SCHEDULED) {
        for rg in b["ranges"].as_array().expect("ranges") {
            assert!(rg[3].as_i64().unwrap() - rg[2].as_i64().unwrap() <= 10, "{rg}");
        }
        lagged |= b["lag"].as_i64().unwrap_or(0) > 0;
    }
    assert!(lagged, "the cap leaves a lag behind");
    // 30 sentences/s over 3 partitions is more than 3 × 5: the stream cannot keep up before the
    // drain limit, so some records are never output.
    assert!(!check(&r, "exactly_once_output").ok);
}

#[test]
fn results_can_go_to_another_topic_at_least_once() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../scenarios/stream-direct-exactly-once.toml"),
    )
    .expect("file");
    let text = text
        .replace("commit = \"transactional\"", "commit = \"at-least-once\"")
        .replace("output = \"table\"", "output = \"topic:counts\"")
        .replace("crash_between = [\"8s\", \"30s\"]\n", "")
        .replacen(
            "[[workload]]",
            "[[topic]]\nname = \"counts\"\nreplication_factor = 3\n\n[[workload]]",
            1,
        );
    let sc = Scenario::parse(&text).expect("valid");
    let (r, trace) = run_traced(&sc, 1);
    assert!(r.passed(), "{:?}", r.checks);
    let ev = events(&trace);
    let commits = kind(&ev, kind::STREAM_OUTPUT_COMMIT);
    assert!(
        !commits.is_empty()
            && commits.iter().all(|c| c["sink"] == "topic" && c["topic"] == "counts")
    );
    // Every row was acknowledged by the brokers, and the final reader finds them in `counts`.
    let rows: u64 = commits.iter().map(|c| c["rows"].as_u64().unwrap_or(0)).sum();
    let acked_counts: u64 = kind(&ev, kind::KAFKA_CLIENT_ACKED)
        .iter()
        .filter(|e| e["topic"] == "counts")
        .map(|e| e["records"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(rows, acked_counts);
    assert!(kind(&ev, kind::KAFKA_CLIENT_CONSUMED).iter().any(|e| e["topic"] == "counts"
        && e["values"]
            .as_array()
            .is_some_and(|vs| vs.iter().any(|v| v.as_str().is_some_and(|v| v.contains('\t'))))));
}
