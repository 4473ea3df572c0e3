//! Consumer-group scenarios: one group is a queue, many groups are a broadcast; idle members;
//! a rebalance storm; commit timing (at most once against at least once).

use sim::scenario::{run, Report, Scenario};

fn load(name: &str) -> Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios").join(name);
    let text = std::fs::read_to_string(&path).expect("scenario file");
    Scenario::parse_named(&text, name).unwrap_or_else(|e| panic!("{name}:{e}"))
}

fn metric<'a>(r: &'a Report, name: &str) -> &'a serde_json::Value {
    r.metrics.get(name).unwrap_or_else(|| panic!("metric {name} in {:?}", r.metrics))
}

fn check<'a>(r: &'a Report, name: &str) -> &'a sim::scenario::CheckOutcome {
    r.checks.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("check {name}"))
}

#[test]
fn queue_vs_broadcast_seed_1() {
    let r = run(&load("queue-vs-broadcast.toml"), 1);
    assert!(r.passed(), "{}", r.human("queue-vs-broadcast.toml"));
    let by_group = metric(&r, "processed_by_group");
    let by_member = metric(&r, "processed_by_member");
    // Both members of A worked, and A's total is theirs.
    let a1 = by_member["A/ConsumerA1"].as_u64().unwrap_or(0);
    let a2 = by_member["A/ConsumerA2"].as_u64().unwrap_or(0);
    assert!(a1 > 0 && a2 > 0, "{by_member}");
    assert_eq!(by_group["A"].as_u64(), Some(a1 + a2));
    // Broadcast: B and C each got everything acknowledged.
    for g in ["A", "B", "C"] {
        assert_eq!(metric(&r, "acked_not_processed_by_group")[g].as_u64(), Some(0), "{g}");
    }
    // The kill of A1 made A rebalance at least once after its first generation.
    assert!(metric(&r, "generations_by_group")["A"].as_u64().unwrap_or(0) >= 2);
}

#[test]
fn queue_vs_broadcast_seeds_1_to_20_never_own_a_partition_twice() {
    let sc = load("queue-vs-broadcast.toml");
    let mut bad = Vec::new();
    for seed in 1..=20 {
        let r = run(&sc, seed);
        let c = check(&r, "no_partition_owned_twice");
        if !c.ok {
            bad.push(format!("seed {seed}: {}", c.detail));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn idle_consumers_seed_1() {
    let r = run(&load("idle-consumers.toml"), 1);
    assert!(r.passed(), "{}", r.human("idle-consumers.toml"));
    let by_member = metric(&r, "processed_by_member");
    let working =
        (1..=4).filter(|k| by_member[format!("workers/Idle{k}")].as_u64().unwrap_or(0) > 0).count();
    // Two partitions: two members work once the whole group has joined, a standby takes over
    // after the kill; members that joined first may have worked briefly before the rest came.
    assert!((2..=4).contains(&working), "{by_member}");
    let generations = metric(&r, "generations_by_group");
    assert!(
        generations["workers"].as_u64().unwrap_or(0) >= 2,
        "the kill caused a rebalance: {generations}"
    );
}

#[test]
fn rebalance_storm_seed_1() {
    let r = run(&load("rebalance-storm.toml"), 1);
    assert!(r.passed(), "{}", r.human("rebalance-storm.toml"));
    assert!(
        metric(&r, "generations_by_group")["storm"].as_u64().unwrap_or(0) >= 5,
        "{:?}",
        r.metrics
    );
}

#[test]
fn commit_timing_seed_2() {
    let most = run(&load("commit-timing-at-most-once.toml"), 2);
    assert!(most.passed(), "{}", most.human("commit-timing-at-most-once.toml"));
    assert!(!check(&most, "each_group_sees_all").ok);
    assert!(metric(&most, "acked_not_processed_by_group")["billing"].as_u64().unwrap_or(0) > 0);

    let least = run(&load("commit-timing-at-least-once.toml"), 2);
    assert!(least.passed(), "{}", least.human("commit-timing-at-least-once.toml"));
    assert_eq!(metric(&least, "acked_not_processed_by_group")["billing"].as_u64(), Some(0));
    assert!(
        metric(&least, "redelivered_by_group")["billing"].as_u64().unwrap_or(0) > 0,
        "{:?}",
        least.metrics
    );
}
