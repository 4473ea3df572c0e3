//! The grader: Kafka's own test cases, random groups against the rule, and consumer groups in
//! the simulator with your assignor as the group leader's `range` assignor.

use exercise_grading::{
    call, failed_checks, hidden_seeds, per_seed, Cases, Effort, Outcome, Witness,
};
use sim::hooks::{Hooks, PartitionAssignor, RangeAssignor};
use sim::scenario::{run_with_hooks, Scenario};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The exercise's name.
pub const NAME: &str = "range-assignor";

/// The shape of `learner::assign`.
pub type AssignFn = fn(
    &BTreeMap<String, i32>,
    &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<(String, i32)>>;

type Counts = BTreeMap<String, i32>;
type Subs = BTreeMap<String, Vec<String>>;
type Assignment = BTreeMap<String, Vec<(String, i32)>>;

/// Sorted lists, every member present: what must equal the reference.
fn normalize(a: &Assignment, subs: &Subs) -> Assignment {
    let mut out: Assignment = subs.keys().map(|m| (m.clone(), Vec::new())).collect();
    for (m, tps) in a {
        let mut tps = tps.clone();
        tps.sort();
        out.insert(m.clone(), tps);
    }
    out
}

fn show(a: &Assignment) -> String {
    a.iter()
        .map(|(m, tps)| {
            format!(
                "{m}={}",
                tps.iter().map(|(t, p)| format!("{t}-{p}")).collect::<Vec<_>>().join(",")
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn describe(counts: &Counts, subs: &Subs) -> String {
    let topics = counts.iter().map(|(t, n)| format!("{t}:{n}")).collect::<Vec<_>>().join(", ");
    let members =
        subs.iter().map(|(m, ts)| format!("{m}→[{}]", ts.join(","))).collect::<Vec<_>>().join(" ");
    format!("partitions {{{topics}}}, subscriptions {members}")
}

/// One case: `Ok(())`, or why not.
fn compare(f: AssignFn, counts: &Counts, subs: &Subs) -> Result<Result<(), String>, String> {
    let got = call(|| f(counts, subs))?;
    let want = RangeAssignor.assign(counts, subs);
    let missing: Vec<&String> = subs.keys().filter(|m| !got.contains_key(*m)).collect();
    if !missing.is_empty() {
        return Ok(Err(format!("{}: members {missing:?} are missing from your result (every member needs an entry, even an empty one)", describe(counts, subs))));
    }
    let (got, want) = (normalize(&got, subs), normalize(&want, subs));
    if got != want {
        return Ok(Err(format!(
            "{}: expected {}, got {}",
            describe(counts, subs),
            show(&want),
            show(&got)
        )));
    }
    Ok(Ok(()))
}

fn subs(v: &[(&str, &[&str])]) -> Subs {
    v.iter().map(|(m, ts)| (m.to_string(), ts.iter().map(|t| t.to_string()).collect())).collect()
}

fn counts(v: &[(&str, i32)]) -> Counts {
    v.iter().map(|(t, n)| (t.to_string(), *n)).collect()
}

/// RangeAssignorTest (Kafka 0.9) and the course's example.
fn kafka_cases() -> Vec<(Counts, Subs)> {
    let both: &[&str] = &["topic1", "topic2"];
    vec![
        (counts(&[("t", 7)]), subs(&[("c1", &["t"]), ("c2", &["t"]), ("c3", &["t"])])),
        (
            counts(&[("topic1", 3), ("topic2", 3)]),
            subs(&[("consumer1", both), ("consumer2", both)]),
        ),
        (
            counts(&[("topic1", 3), ("topic2", 2)]),
            subs(&[("consumer1", &["topic1"]), ("consumer2", both), ("consumer3", &["topic1"])]),
        ),
        (counts(&[("t", 1)]), subs(&[("a", &["t"]), ("b", &["t"])])),
        (counts(&[("t", 3)]), subs(&[("consumer", &["t"])])),
        (counts(&[]), subs(&[("consumer", &["nope"])])),
        (counts(&[("t", 0)]), subs(&[("consumer", &["t"])])),
    ]
}

/// A random group: 1–8 members with ids whose string order is not their numeric order, 1–3
/// topics of 0–12 partitions (one sometimes without metadata), random subscriptions.
fn random_case(r: &mut Cases) -> (Counts, Subs) {
    let n_topics = r.range(1, 4);
    let topics: Vec<String> =
        (0..n_topics).map(|i| format!("topic{}", ["a", "b", "c"][i as usize])).collect();
    let mut c = Counts::new();
    for (i, t) in topics.iter().enumerate() {
        if i > 0 && r.range(0, 8) == 0 {
            continue; // no metadata for this one
        }
        c.insert(t.clone(), r.range(0, 13) as i32);
    }
    let mut s = Subs::new();
    for _ in 0..r.range(1, 9) {
        let id = format!("consumer-{}-{:04x}", r.range(1, 20), r.next_u64() & 0xffff);
        let mine: Vec<String> = topics.iter().filter(|_| r.range(0, 3) > 0).cloned().collect();
        let mine = if mine.is_empty() { vec![topics[0].clone()] } else { mine };
        s.insert(id, mine);
    }
    (c, s)
}

/// Your assignor as the simulator's `range` assignor: every call is also checked against
/// Kafka's rule.
struct Graded {
    f: AssignFn,
    w: Witness,
}

impl PartitionAssignor for Graded {
    fn name(&self) -> &'static str {
        "range"
    }

    fn assign(&self, counts: &Counts, subs: &Subs) -> Assignment {
        let f = self.f;
        let got = self.w.call(|| f(counts, subs), || RangeAssignor.assign(counts, subs));
        let want = RangeAssignor.assign(counts, subs);
        if normalize(&got, subs) != normalize(&want, subs) {
            self.w.mismatch(|| {
                format!("{}: expected {}, got {}", describe(counts, subs), show(&want), show(&got))
            });
        }
        got
    }
}

/// One group of three members sharing a 7-partition topic while records flow: a member joins
/// late (rebalance), one is killed (rebalance after its session times out), one leaves.
const GROUP_SCENARIO: &str = r#"
[cluster]
hosts = ["master", "slave1", "slave2", "client1", "client2"]

[[topic]]
name = "orders"
partitions = 7
replication_factor = 2

[[workload]]
kind = "producer"
topic = "orders"
host = "master"
rate = 40
key = "seq"
start = "1s"
stop = "16s"
acks = "all"
retries = 5

[[workload]]
kind = "consumer"
topic = "orders"
group = "billing"
name = "B1"
host = "client1"
start = "2s"
from_beginning = true
commit = "after-process"
session_timeout = "6s"

[[workload]]
kind = "consumer"
topic = "orders"
group = "billing"
name = "B2"
host = "client2"
start = "2s"
from_beginning = true
commit = "after-process"
session_timeout = "6s"

[[workload]]
kind = "consumer"
topic = "orders"
group = "billing"
name = "B3"
host = "client1"
start = "5s"
from_beginning = true
commit = "after-process"
session_timeout = "6s"

[[step]]
at = "9s"
run = "ssh client2 pkill -9 B2"

[[check]]
name = "no_partition_owned_twice"
expect = "pass"

[[check]]
name = "each_message_once_per_group"
expect = "pass"

[[check]]
name = "each_group_sees_all"
expect = "pass"

[run]
duration = "20s"
settle = "10s"
"#;

/// Grades `f`.
pub fn grade(f: AssignFn, effort: Effort) -> Outcome {
    exercise_grading::quiet_panics();
    let mut out = Outcome::new(NAME);

    // 1. Kafka's own examples.
    let mut first = None;
    for (c, s) in kafka_cases() {
        match compare(f, &c, &s) {
            Err(panic) => {
                out.panicked(panic);
                return out;
            }
            Ok(Err(msg)) if first.is_none() => first = Some(msg),
            _ => {}
        }
    }
    out.check("kafka's RangeAssignorTest cases", first.is_none(), || {
        first.clone().unwrap_or_default()
    });

    // 2. Random groups.
    let mut r = Cases::new(hidden_seeds(NAME, "random", 1)[0]);
    let mut bad = (0, None);
    for _ in 0..effort.cases {
        let (c, s) = random_case(&mut r);
        match compare(f, &c, &s) {
            Err(panic) => {
                out.panicked(panic);
                return out;
            }
            Ok(Err(msg)) => {
                bad.0 += 1;
                bad.1.get_or_insert(msg);
            }
            Ok(Ok(())) => {}
        }
    }
    out.check(&format!("{} random groups", effort.cases), bad.0 == 0, || {
        format!("{} wrong, the first: {}", bad.0, bad.1.clone().unwrap_or_default())
    });

    // 3. Consumer groups in the simulator.
    let sc = match Scenario::parse(GROUP_SCENARIO) {
        Ok(sc) => sc,
        Err(e) => {
            out.check("group scenario", false, || {
                format!("the grader's scenario does not parse: {e}")
            });
            return out;
        }
    };
    let seeds = hidden_seeds(NAME, "group", effort.seeds);
    let runs = per_seed(&seeds, exercise_grading::jobs(), |seed| {
        let w = Witness::new();
        let hooks =
            Hooks { range_assignor: Arc::new(Graded { f, w: w.clone() }), ..Hooks::default() };
        let (report, _) = run_with_hooks(&sc, seed, hooks);
        (seed, report, w)
    });
    let mut failures = Vec::new();
    let mut mismatch = None;
    for (seed, report, w) in &runs {
        if let Some(p) = w.panic() {
            out.panicked(p);
            return out;
        }
        if w.calls() == 0 {
            failures.push(format!("seed {seed}: the group leader never called your assignor"));
        }
        if let Some(m) = w.mismatches() {
            mismatch.get_or_insert(format!("seed {seed}: {m}"));
        }
        failures.extend(failed_checks(report));
    }
    out.check("the group leader's assignments follow the Range rule", mismatch.is_none(), || {
        mismatch.clone().unwrap_or_default()
    });
    out.check(
        &format!("group scenario over {} seeds (no_partition_owned_twice, each_message_once_per_group, each_group_sees_all)", seeds.len()),
        failures.is_empty(),
        || failures.join("; "),
    );
    out
}
