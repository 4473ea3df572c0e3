//! Pictures drawn from real runs' traces: the partition log view shows what was lost, the
//! Perfetto export opens as a trace, and both are byte-identical for a seed.

use sim::scenario::{run_traced, Scenario};

fn trace_of(name: &str, seed: u64) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios").join(name);
    let text = std::fs::read_to_string(&path).expect("scenario file");
    let sc = Scenario::parse_named(&text, name).unwrap_or_else(|e| panic!("{name}:{e}"));
    run_traced(&sc, seed).1
}

#[test]
fn the_partition_log_view_shows_the_record_hw_truncation_lost() {
    let events = viz::parse_jsonl(&trace_of("hw-truncation-loss.toml", 1)).expect("trace");
    let h = viz::partition_log::PartitionHistory::from_events(&events, "events", 0).expect("history");
    assert_eq!(h.lost_offsets().into_iter().collect::<Vec<_>>(), vec![199], "the acknowledged record at 199");
    assert_eq!(h.final_leader, Some(2), "slave2 leads at the end");
    let windows = h.default_windows();
    assert!(windows.iter().any(|w| w.0 <= 199 && 199 < w.1), "{windows:?}");
    let svg = viz::partition_log::render_svg(&h, &windows).expect("svg");
    assert!(svg.contains("broker 2 (slave2)") && svg.contains("final leader 2"), "labels");
    assert!(svg.matches(">\n199\n</text>").count() >= 4, "199 on the logs and in the lost rows");
    let again = viz::parse_jsonl(&trace_of("hw-truncation-loss.toml", 1)).expect("trace");
    let h2 = viz::partition_log::PartitionHistory::from_events(&again, "events", 0).expect("history");
    assert_eq!(viz::partition_log::render_svg(&h2, &windows).expect("svg"), svg, "same seed, same picture");

    // With KIP-101 truncation nothing is lost.
    let kept = viz::parse_jsonl(&trace_of("hw-truncation-kip101.toml", 1)).expect("trace");
    let h3 = viz::partition_log::PartitionHistory::from_events(&kept, "events", 0).expect("history");
    assert!(h3.lost_offsets().iter().all(|o| *o != 199), "{:?}", h3.lost_offsets());
}

#[test]
fn the_perfetto_export_has_tracks_flows_and_the_faults() {
    let events = viz::parse_jsonl(&trace_of("broker-failover.toml", 1)).expect("trace");
    let v = viz::perfetto::export(&events);
    let evs = v["traceEvents"].as_array().expect("traceEvents");
    let tracks: Vec<&str> = evs.iter().filter(|e| e["name"] == "thread_name").filter_map(|e| e["args"]["name"].as_str()).collect();
    for t in ["QuorumPeerMain", "Kafka", "ProducerPerformance"] {
        assert!(tracks.contains(&t), "{t} in {tracks:?}");
    }
    assert!(evs.iter().any(|e| e["name"] == "host.crash" && e["s"] == "g"), "the power loss cuts across every track");
    let sends = evs.iter().filter(|e| e["cat"] == "flow" && e["ph"] == "s").count();
    let ends = evs.iter().filter(|e| e["cat"] == "flow" && e["ph"] == "f").count();
    assert!(sends > 1000 && ends > 1000 && ends <= sends, "{sends} sends, {ends} receives");
    let text = serde_json::to_string(&v).expect("json");
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
}

/// Every figure in the book is a fresh render of a scenario run: `lab plot partition-log
/// --scenario scenarios/FILE --seed N -o book/src/figures/NAME.svg`. `UPDATE_BOOK=1` rewrites them.
#[test]
fn the_book_figures_match_a_fresh_render() {
    let figures = [("hw-truncation-loss.toml", 1, "events", "hw-truncation-loss.svg"), ("unclean-election-loss.toml", 1, "events", "unclean-election-loss.svg")];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src/figures");
    let update = std::env::var_os("UPDATE_BOOK").is_some_and(|v| v != "0" && !v.is_empty());
    for (scenario, seed, topic, file) in figures {
        let events = viz::parse_jsonl(&trace_of(scenario, seed)).expect("trace");
        let h = viz::partition_log::PartitionHistory::from_events(&events, topic, 0).expect("history");
        let svg = viz::partition_log::render_svg(&h, &h.default_windows()).expect("svg");
        let path = dir.join(file);
        if update {
            std::fs::write(&path, &svg).expect("write figure");
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(committed == svg, "book/src/figures/{file} is stale: UPDATE_BOOK=1 cargo test -p lab-tests --test plots");
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
        let mut committed: Vec<(i64, i64)> = s.ranges.iter().filter(|r| r.partition == p && r.output == "committed").map(|r| (r.from, r.until)).collect();
        committed.sort();
        assert_eq!(committed.first().map(|r| r.0), Some(0), "partition {p} is read from its start");
        for w in committed.windows(2) {
            assert_eq!(w[0].1, w[1].0, "partition {p}: each batch starts where the last one ended");
        }
    }
    assert!(s.ranges.iter().all(|r| !r.repeated), "exactly once: no range output twice");
    let svg = viz::stream_batches::render_svg(&s).expect("svg");
    for needle in ["words-0", "words-2", "driver killed", "restarted from checkpoint", "output committed"] {
        assert!(svg.contains(needle), "{needle} in the figure");
    }
    assert_eq!(viz::stream_batches::render_svg(&s).expect("svg"), svg, "same trace, same picture");
}

#[test]
fn the_space_time_diagram_of_a_failover_shows_crash_expiry_leader_and_isr_and_the_new_band() {
    let events = viz::parse_jsonl(&trace_of("broker-failover.toml", 1)).expect("trace");
    let opts = viz::spacetime::Options::default();
    let svg = viz::spacetime::render_svg(&events, &opts).expect("svg");
    for needle in ["power loss master", "session expire", "LeaderAndIsr", "elect 1 for events-0", "leader events-0"] {
        assert!(svg.contains(needle), "{needle} in the diagram");
    }
    // The old leader's band ends at the crash; the new one starts on slave1.
    assert!(svg.matches("leader events-0").count() >= 2, "two leadership bands");
    assert_eq!(viz::spacetime::render_svg(&events, &opts).expect("svg"), svg, "same seed, same picture");
}

#[test]
fn the_unclean_election_view_shows_the_old_leaders_lost_offsets_and_the_divergent_log() {
    let events = viz::parse_jsonl(&trace_of("unclean-election-loss.toml", 1)).expect("trace");
    let h = viz::partition_log::PartitionHistory::from_events(&events, "events", 0).expect("history");
    let lost = h.lost_offsets();
    let divergent = h.divergent_offsets();
    assert!(lost.len() > 100 && !divergent.is_empty(), "{} lost, {} divergent", lost.len(), divergent.len());
    assert!(h.replicas[&0].lost.len() == lost.len(), "the old leader (broker 0) lost them");
    assert_ne!(h.final_leader, Some(0), "an out-of-ISR replica leads");
    let svg = viz::partition_log::render_svg(&h, &h.default_windows()).expect("svg");
    let first_lost = lost.first().copied().unwrap_or(-1);
    let first_div = divergent.first().copied().unwrap_or(-1);
    for o in [first_lost, first_lost + 1, first_div] {
        assert!(svg.contains(&format!(">\n{o}\n</text>")), "offset {o} is labelled");
    }
}
