//! The grader: Kafka's murmur2 test vectors, random keys of every tail length against the
//! reference hash, partitions of keys whose hash is negative, and a keyed producer in the
//! simulator whose every record is partitioned by your code.

use exercise_grading::{failed_checks, hidden_seeds, per_seed, Cases, Effort, Outcome, Witness};
use sim::hooks::{Hooks, KeyPartitioner};
use sim::kafka::partitioner::{murmur2 as kafka_murmur2, to_positive};
use sim::scenario::{run_with_hooks, Scenario};
use std::sync::Arc;

/// The exercise's name.
pub const NAME: &str = "murmur2-partitioner";

/// The two functions of `learner.rs`.
#[derive(Debug, Clone, Copy)]
pub struct Partitioner {
    /// `murmur2(data)`.
    pub murmur2: fn(&[u8]) -> i32,
    /// `partition(key, num_partitions)`.
    pub partition: fn(&[u8], i32) -> i32,
}

/// `Utils.murmur2` test vectors from Kafka's `UtilsTest` (signed 32-bit).
const VECTORS: &[(&str, i32)] = &[
    ("21", -973932308),
    ("foobar", -790332482),
    ("a-little-bit-long-string", -985981536),
    ("a-little-bit-longer-string", -1486304829),
    ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    ("abc", 479470107),
];

fn hint_for(len: usize) -> &'static str {
    match len % 4 {
        0 if len == 0 => " (an empty key: only the length and the final mix)",
        0 => " (no tail bytes: look at the chunk loop or the final mix)",
        1 => " (1 tail byte: case 1 of the switch)",
        2 => " (2 tail bytes: cases 2 and 1 — Java's switch falls through)",
        _ => " (3 tail bytes: cases 3, 2 and 1 — Java's switch falls through)",
    }
}

/// Your `partition` as the simulator's key partitioner, each call checked against Kafka's.
struct Graded {
    f: fn(&[u8], i32) -> i32,
    w: Witness,
}

impl KeyPartitioner for Graded {
    fn partition(&self, key: &[u8], n: i32) -> i32 {
        let f = self.f;
        let got = self.w.call(|| f(key, n), || to_positive(kafka_murmur2(key)) % n);
        let want = to_positive(kafka_murmur2(key)) % n;
        if got != want {
            self.w.mismatch(|| {
                format!(
                    "key {:?} over {n} partitions: expected {want}, got {got}",
                    String::from_utf8_lossy(key)
                )
            });
        }
        // A partition out of range would be a request for a partition that does not exist.
        if (0..n).contains(&got) {
            got
        } else {
            want
        }
    }
}

/// A keyed producer (keys "0", "1", …) on a topic of 5 partitions, and a reader.
const KEYED_SCENARIO: &str = r#"
[[topic]]
name = "clicks"
partitions = 5
replication_factor = 2

[[workload]]
kind = "producer"
topic = "clicks"
host = "slave1"
rate = 100
key = "seq"
start = "1s"
stop = "5s"
acks = "all"
retries = 3

[[check]]
name = "no_acked_loss"
expect = "pass"

[[check]]
name = "consumer_order_per_partition"
expect = "pass"

[run]
duration = "6s"
settle = "3s"
"#;

/// Grades `p`.
pub fn grade(p: Partitioner, effort: Effort) -> Outcome {
    exercise_grading::quiet_panics();
    let mut out = Outcome::new(NAME);

    // 1. Kafka's vectors.
    let mut wrong = Vec::new();
    for (key, want) in VECTORS {
        let got = exercise_grading::learner!(out, (p.murmur2)(key.as_bytes()));
        if got != *want {
            wrong.push(format!(
                "murmur2({key:?}) = {got}, Kafka says {want}{}",
                hint_for(key.len())
            ));
        }
    }
    out.check("murmur2 matches Kafka's UtilsTest vectors", wrong.is_empty(), || wrong.join("; "));

    // 2. Random keys, every tail length, bytes ≥ 0x80 included (Java bytes are signed, but the
    //    chunk and tail reads mask them to 0..255).
    let mut r = Cases::new(hidden_seeds(NAME, "keys", 1)[0]);
    let mut bad = (0, None);
    for i in 0..effort.cases {
        let len = if i < 64 { i % 16 } else { r.range(0, 48) as usize };
        let key: Vec<u8> = (0..len).map(|_| r.next_u64() as u8).collect();
        let got = exercise_grading::learner!(out, (p.murmur2)(&key));
        let want = kafka_murmur2(&key);
        if got != want {
            bad.0 += 1;
            bad.1.get_or_insert(format!(
                "murmur2({key:?}) = {got}, expected {want}{}",
                hint_for(len)
            ));
        }
    }
    out.check(&format!("murmur2 on {} random keys", effort.cases), bad.0 == 0, || {
        format!("{} wrong, the first: {}", bad.0, bad.1.clone().unwrap_or_default())
    });

    // 3. partition(): keys with negative hashes and hash i32::MIN's neighbours matter most.
    let mut bad = (0, None);
    let mut negatives = 0;
    for _ in 0..effort.cases {
        let len = r.range(1, 24) as usize;
        let key: Vec<u8> = (0..len).map(|_| b'a' + (r.next_u64() % 26) as u8).collect();
        let n = r.range(1, 64) as i32;
        let h = kafka_murmur2(&key);
        negatives += usize::from(h < 0);
        let got = exercise_grading::learner!(out, (p.partition)(&key, n));
        let want = to_positive(h) % n;
        if got != want {
            bad.0 += 1;
            let why = if h < 0 && got == (h.unsigned_abs() % n as u32) as i32 {
                format!(" — murmur2 of this key is negative ({h}): Kafka's toPositive is x & 0x7fffffff, not abs(x)")
            } else if h < 0 {
                format!(" — murmur2 of this key is negative ({h})")
            } else {
                String::new()
            };
            bad.1.get_or_insert(format!(
                "partition({:?}, {n}) = {got}, expected {want}{why}",
                String::from_utf8_lossy(&key)
            ));
        }
    }
    out.check(
        &format!("partition on {} random keys ({negatives} with a negative hash)", effort.cases),
        bad.0 == 0,
        || format!("{} wrong, the first: {}", bad.0, bad.1.clone().unwrap_or_default()),
    );

    // 4. In the simulator.
    let sc = match Scenario::parse(KEYED_SCENARIO) {
        Ok(sc) => sc,
        Err(e) => {
            out.check("keyed producer scenario", false, || {
                format!("the grader's scenario does not parse: {e}")
            });
            return out;
        }
    };
    let seeds = hidden_seeds(NAME, "producer", effort.seeds.min(2));
    let runs = per_seed(&seeds, exercise_grading::jobs(), |seed| {
        let w = Witness::new();
        let hooks = Hooks {
            partitioner: Arc::new(Graded { f: p.partition, w: w.clone() }),
            ..Hooks::default()
        };
        let (report, _) = run_with_hooks(&sc, seed, hooks);
        (seed, report, w)
    });
    let mut failures = Vec::new();
    let mut mismatch = None;
    for (seed, report, w) in &runs {
        if let Some(panic) = w.panic() {
            out.panicked(panic);
            return out;
        }
        if w.calls() == 0 {
            failures.push(format!("seed {seed}: the producer never called your partitioner"));
        }
        if let Some(m) = w.mismatches() {
            mismatch.get_or_insert(format!("seed {seed}: {m}"));
        }
        failures.extend(failed_checks(report));
    }
    out.check("the producer's records land where Kafka would put them", mismatch.is_none(), || {
        mismatch.clone().unwrap_or_default()
    });
    out.check(
        "keyed producer scenario (no_acked_loss, consumer_order_per_partition)",
        failures.is_empty(),
        || failures.join("; "),
    );
    out
}
