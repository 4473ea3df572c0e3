//! Scenario files: the library parses, broker failover keeps acknowledged records, runs are
//! deterministic, and bad files are reported with line and column.

use sim::scenario::{run, run_traced, Expect, Scenario};

fn library() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn load(name: &str) -> Scenario {
    let path = library().join(name);
    let text = std::fs::read_to_string(&path).expect("scenario file");
    Scenario::parse_named(&text, name).unwrap_or_else(|e| panic!("{name}:{e}"))
}

fn metric(r: &sim::scenario::Report, k: &str) -> u64 {
    r.metrics.get(k).and_then(|v| v.as_u64()).unwrap_or_else(|| panic!("metric {k} in {:?}", r.metrics))
}

/// Checks that did not meet their expectation, with their details.
fn unmet_real_checks(r: &sim::scenario::Report) -> Vec<String> {
    r.checks.iter().filter(|c| !c.met()).map(|c| format!("{}: {}", c.name, c.detail)).collect()
}

#[test]
fn every_library_file_parses_and_has_a_header() {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(library()).expect("scenarios/") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
        let sc = load(&name);
        assert!(sc.about.lines().count() >= 3, "{name}: the comment header says what it teaches");
        assert!(!sc.checks.is_empty(), "{name}");
        names.push(name);
    }
    for must in ["broker-failover.toml", "acks1-failover-loss.toml", "acks0-silent-loss.toml"] {
        assert!(names.iter().any(|n| n == must), "{must} in {names:?}");
    }
}

#[test]
fn broker_failover_keeps_every_acknowledged_record() {
    let sc = load("broker-failover.toml");
    let r = run(&sc, 1);
    assert_eq!(r.scenario, "broker-failover");
    assert!(unmet_real_checks(&r).is_empty(), "seed 1: {:?}\n{}", r.checks, r.transcript);
    assert!(r.passed(), "{:?}", r.checks);
    let acked = metric(&r, "messages_acked");
    assert!(acked > 300, "the producer wrote through the failover: {acked}");
    assert_eq!(metric(&r, "acked_missing_from_final_read"), 0, "acks=all loses nothing acknowledged");
    assert!(metric(&r, "final_read") >= acked);
    assert!(metric(&r, "messages_consumed") > 0, "the consumer workload read");
    assert!(metric(&r, "leader_changes") >= 1, "master's partition moved");
    let failover = metric(&r, "failover_ms");
    assert!((1_000..20_000).contains(&failover), "failover takes about a ZooKeeper session timeout: {failover} ms");
    assert!(r.virtual_ms >= 40_000, "duration + settle: {}", r.virtual_ms);
}

#[test]
fn acks1_loses_acknowledged_records_for_seed_1() {
    let r = run(&load("acks1-failover-loss.toml"), 1);
    assert!(metric(&r, "acked_missing_from_final_read") > 0, "{:?}", r.metrics);
    let c = r.checks.iter().find(|c| c.name == "no_acked_loss").expect("check");
    assert_eq!(c.expect, Expect::Fail);
    assert!(!c.ok);
}

#[test]
fn acks0_loses_silently() {
    let r = run(&load("acks0-silent-loss.toml"), 1);
    assert_eq!(metric(&r, "messages_acked"), 0);
    assert_eq!(metric(&r, "send_errors"), 0, "nothing reports the loss");
    assert!(metric(&r, "sent_missing_from_final_read") > 100, "{:?}", r.metrics);
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    let sc = load("broker-failover.toml");
    let (a, ta) = run_traced(&sc, 7);
    let b = run(&sc, 7);
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.metrics, b.metrics);
    assert_eq!(ta.lines().count(), ta.lines().filter(|l| l.starts_with("{\"t_us\":")).count());
    let c = run(&sc, 8);
    assert_ne!(a.trace_hash, c.trace_hash, "another seed, another run");
}

#[test]
fn a_nemesis_run_is_deterministic_and_settles() {
    let text = "# Random faults.\n\
        [[topic]]\nname = \"t\"\npartitions = 2\nreplication_factor = 3\n\
        [[workload]]\nkind = \"producer\"\ntopic = \"t\"\nrate = 20\nacks = \"all\"\nretries = 3\nrequest_timeout = \"3s\"\nhost = \"slave2\"\n\
        [nemesis]\nkinds = [\"crash\", \"kill\", \"partition\", \"latency\"]\nevery = \"4s\"\nstart = \"2s\"\nstop = \"18s\"\n\
        [[check]]\nname = \"single_leader_per_epoch\"\n\
        [run]\nduration = \"20s\"\nsettle = \"15s\"\n";
    let sc = Scenario::parse(text).expect("valid");
    let a = run(&sc, 3);
    let b = run(&sc, 3);
    assert_eq!(a.trace_hash, b.trace_hash);
    assert!(a.passed(), "{:?}\n{}", a.checks, a.transcript);
    assert!(a.transcript.contains("lab ") , "the nemesis acted:\n{}", a.transcript);
}

#[test]
fn toml_errors_give_line_and_column() {
    let cases: &[(&str, usize, usize, &str)] = &[
        ("[run]\nduration = \"forty\"\n", 2, 12, "not a duration"),
        ("[[check]]\nname = \"no_acked_los\"\n", 2, 8, "unknown check"),
        ("[cluster]\nbrokers = [\"master\", \"slave3\"]\n", 2, 22, "unknown host"),
        ("[[step]]\nat = \"1s\"\nrun = \"ssh\"\n", 3, 7, "missing host"),
        ("[run]\nduration = \"1s\"\nbogus = 1\n", 3, 1, "unknown field"),
        ("[[topic]]\nname = \"t\"\nreplication_factor = 4\n", 3, 22, "larger than available brokers"),
    ];
    for (text, line, col, msg) in cases {
        let e = Scenario::parse(text).expect_err(text);
        assert_eq!((e.line, e.column), (*line, *col), "{text:?}: {e}");
        assert!(e.message.contains(msg), "{text:?}: {e}");
    }
}
