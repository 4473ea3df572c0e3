//! The grader: your choice against Kafka's on random partition states, then two failover
//! scenarios with your selector in every controller:
//!
//! - clean (`unclean.leader.election.enable=false`, acks=all, `min.insync.replicas=2`): the
//!   leader's host is crashed, later a second broker; no acknowledged record may be lost, one
//!   leader per leader epoch, and the producer must be acknowledged again after the failover;
//! - unclean (enabled, the Jepsen 2013 set-up): the leader is isolated until it is alone in the
//!   ISR and then cut off; the partition must come back online under a replica outside the ISR
//!   (and, as in real Kafka, acknowledged records are lost — that is expected here).

use exercise_grading::{
    call, failed_checks, hidden_seeds, per_seed, Cases, Effort, Outcome, Witness,
};
use sim::hooks::{Builtin, Hooks, LeaderAndIsr, OfflinePartitionLeaderSelector};
use sim::scenario::{run_with_hooks, Scenario};
use sim::trace::kind;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The exercise's name.
pub const NAME: &str = "controller-leader-election";

/// The shape of `learner::select_leader`.
pub type SelectFn = fn(&[i32], &[i32], &BTreeSet<i32>, bool) -> Option<LeaderAndIsr>;

fn show_case(assigned: &[i32], isr: &[i32], live: &BTreeSet<i32>, unclean: bool) -> String {
    format!("assigned {assigned:?}, ISR {isr:?}, live {live:?}, unclean.leader.election.enable={unclean}")
}

fn show(s: &Option<LeaderAndIsr>) -> String {
    match s {
        Some(s) => format!("leader {} with ISR {:?}", s.leader, s.isr),
        None => "no leader (NoReplicaOnlineException)".into(),
    }
}

/// Leader equal, ISR equal as a set.
fn same(a: &Option<LeaderAndIsr>, b: &Option<LeaderAndIsr>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            a.leader == b.leader
                && a.isr.iter().collect::<BTreeSet<_>>() == b.isr.iter().collect::<BTreeSet<_>>()
        }
        (None, None) => true,
        _ => false,
    }
}

fn hint(
    assigned: &[i32],
    isr: &[i32],
    live: &BTreeSet<i32>,
    unclean: bool,
    got: &Option<LeaderAndIsr>,
    want: &Option<LeaderAndIsr>,
) -> String {
    let Some(g) = got else {
        return " — a live replica could lead: the partition need not stay offline".into();
    };
    if !live.contains(&g.leader) {
        return format!(" — broker {} is not alive", g.leader);
    }
    if !assigned.contains(&g.leader) {
        return format!(" — broker {} holds no replica of this partition", g.leader);
    }
    let live_isr = isr.iter().any(|r| live.contains(r));
    match want {
        None if !unclean => " — no in-sync replica is alive and unclean election is disabled: the partition must stay offline rather than lose acknowledged records".into(),
        Some(w) if live_isr && !isr.contains(&g.leader) => format!(" — broker {} is not in the ISR while {} is: that is an unclean election", g.leader, w.leader),
        Some(w) if g.leader != w.leader => format!(" — among the candidates Kafka takes the first in assignment order ({:?}), broker {}", assigned, w.leader),
        Some(_) if !live_isr => " — after an unclean election the ISR is the new leader alone".into(),
        Some(_) => " — the new ISR is the old one without the dead brokers".into(),
        None => String::new(),
    }
}

/// Random partition states: 1–5 replicas of brokers 0–5 in random order, an ISR that is a
/// subset of them in another order (non-empty), a random set of live brokers.
fn random_case(c: &mut Cases) -> (Vec<i32>, Vec<i32>, BTreeSet<i32>, bool) {
    let mut brokers: Vec<i32> = (0..6).collect();
    for i in (1..brokers.len()).rev() {
        brokers.swap(i, c.range(0, i as u64 + 1) as usize);
    }
    let assigned: Vec<i32> = brokers[..c.range(1, 6) as usize].to_vec();
    let mut isr: Vec<i32> = assigned.iter().copied().filter(|_| c.range(0, 3) > 0).collect();
    if isr.is_empty() {
        isr.push(assigned[0]);
    }
    isr.reverse();
    let live: BTreeSet<i32> = (0..6).filter(|_| c.range(0, 2) == 0).collect();
    (assigned, isr, live, c.range(0, 2) == 0)
}

/// Your selector in the controller, each decision checked against Kafka's.
struct Graded {
    f: SelectFn,
    w: Witness,
}

impl OfflinePartitionLeaderSelector for Graded {
    fn select_leader(
        &self,
        assigned: &[i32],
        isr: &[i32],
        live: &BTreeSet<i32>,
        unclean: bool,
    ) -> Option<LeaderAndIsr> {
        let f = self.f;
        let want = Builtin.select_leader(assigned, isr, live, unclean);
        let got = self.w.call(|| f(assigned, isr, live, unclean), || want.clone());
        if !same(&got, &want) {
            self.w.mismatch(|| {
                format!(
                    "{}: you chose {}, Kafka chooses {}{}",
                    show_case(assigned, isr, live, unclean),
                    show(&got),
                    show(&want),
                    hint(assigned, isr, live, unclean, &got, &want)
                )
            });
        }
        got
    }
}

/// Clean failover: the leader's host (master) crashes at 5 s and comes back at 11 s; slave1's
/// broker is killed at 16 s.
const CLEAN: &str = r#"
[cluster]
hosts = ["master", "slave1", "slave2", "client"]

[cluster.broker_config]
"unclean.leader.election.enable" = "false"
"min.insync.replicas" = "2"

[[topic]]
name = "ledger"
replica_assignment = "0:1:2"

[[workload]]
kind = "producer"
topic = "ledger"
host = "client"
rate = 50
start = "1s"
stop = "22s"
acks = "all"
retries = 5
request_timeout = "4s"

[[step]]
at = "5s"
run = "lab crash master"

[[step]]
at = "11s"
run = "lab boot master"

[[step]]
at = "11s"
run = "ssh master zkServer.sh start"

[[step]]
at = "12s"
run = "ssh master kafka-server-start.sh -daemon $KAFKA_HOME/config/server.properties"

[[step]]
at = "16s"
run = "ssh slave1 pkill -9 Kafka"

[[check]]
name = "no_acked_loss"
expect = "pass"

[[check]]
name = "kafka_single_leader_per_epoch"
expect = "pass"

[run]
duration = "24s"
settle = "10s"
"#;

/// Unclean: the Jepsen set-up of scenarios/unclean-election-loss.toml, shortened.
const UNCLEAN: &str = r#"
[cluster]
hosts = ["master", "slave1", "slave2", "client"]

[cluster.broker_config]
"min.insync.replicas" = "1"
"unclean.leader.election.enable" = "true"
"replica.lag.time.max.ms" = "4000"

[[topic]]
name = "events"
replica_assignment = "0:1:2"

[[workload]]
kind = "producer"
topic = "events"
host = "client"
rate = 50
start = "1s"
stop = "28s"
acks = "all"
retries = 5
request_timeout = "4s"

[[step]]
at = "3s"
run = "lab partition master | slave1 slave2 --port 9092"

[[step]]
at = "12s"
run = "lab partition master | slave1 slave2 client"

[[step]]
at = "26s"
run = "lab heal"

[[check]]
name = "kafka_single_leader_per_epoch"
expect = "pass"

[run]
duration = "30s"
settle = "10s"
"#;

/// Grades `f`.
pub fn grade(f: SelectFn, effort: Effort) -> Outcome {
    exercise_grading::quiet_panics();
    let mut out = Outcome::new(NAME);

    // 1. Random partition states.
    let mut c = Cases::new(hidden_seeds(NAME, "states", 1)[0]);
    let mut bad = (0, None);
    for _ in 0..effort.cases {
        let (assigned, isr, live, unclean) = random_case(&mut c);
        let got = match call(|| f(&assigned, &isr, &live, unclean)) {
            Ok(v) => v,
            Err(panic) => {
                out.panicked(panic);
                return out;
            }
        };
        let want = Builtin.select_leader(&assigned, &isr, &live, unclean);
        if !same(&got, &want) {
            bad.0 += 1;
            bad.1.get_or_insert(format!(
                "{}: you chose {}, Kafka chooses {}{}",
                show_case(&assigned, &isr, &live, unclean),
                show(&got),
                show(&want),
                hint(&assigned, &isr, &live, unclean, &got, &want)
            ));
        }
    }
    out.check(
        &format!("selectLeader on {} random partition states", effort.cases),
        bad.0 == 0,
        || format!("{} wrong, the first: {}", bad.0, bad.1.clone().unwrap_or_default()),
    );

    // 2. Failovers.
    let (clean, unclean) = match (Scenario::parse(CLEAN), Scenario::parse(UNCLEAN)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            out.check("failover scenarios", false, || {
                format!("the grader's scenarios do not parse: {e}")
            });
            return out;
        }
    };
    let n = effort.seeds.div_ceil(2).max(1);
    let jobs: Vec<(bool, u64)> = hidden_seeds(NAME, "clean", n)
        .into_iter()
        .map(|s| (false, s))
        .chain(hidden_seeds(NAME, "unclean", n).into_iter().map(|s| (true, s)))
        .collect();
    let runs =
        per_seed(&(0..jobs.len() as u64).collect::<Vec<_>>(), exercise_grading::jobs(), |i| {
            let (is_unclean, seed) = jobs[i as usize];
            let w = Witness::new();
            let hooks =
                Hooks { leader_selector: Arc::new(Graded { f, w: w.clone() }), ..Hooks::default() };
            let (report, events) =
                run_with_hooks(if is_unclean { &unclean } else { &clean }, seed, hooks);
            // Acknowledgements after the first election the grader provoked: the partition is back.
            let first_election = events
                .iter()
                .find(|e| {
                    e.kind == kind::KAFKA_LEADER_ELECTION
                        && e.i64("old_leader").is_some_and(|l| l >= 0)
                })
                .map(|e| e.t_us);
            let acked_after = first_election.map_or(0, |t| {
                events.iter().filter(|e| e.t_us > t && e.kind == kind::KAFKA_CLIENT_ACKED).count()
            });
            let unclean_elected = events.iter().any(|e| {
                e.kind == kind::KAFKA_LEADER_ELECTION
                    && e.fields.get("unclean").and_then(|v| v.as_bool()) == Some(true)
                    && e.i64("leader").is_some_and(|l| l >= 0)
            });
            (is_unclean, seed, report, w, first_election.is_some(), acked_after, unclean_elected)
        });
    let (mut mismatch, mut safety, mut live) = (None, Vec::new(), Vec::new());
    for (is_unclean, seed, report, w, elected, acked_after, unclean_elected) in &runs {
        if let Some(p) = w.panic() {
            out.panicked(p);
            return out;
        }
        if let Some(m) = w.mismatches() {
            mismatch.get_or_insert(format!("seed {seed}: {m}"));
        }
        let which = if *is_unclean { "unclean" } else { "clean" };
        safety.extend(failed_checks(report).into_iter().map(|f| format!("{which} failover {f}")));
        if !elected {
            live.push(format!("{which} failover seed {seed}: no new leader was elected after the leader's broker died"));
        } else if *acked_after == 0 {
            live.push(format!("{which} failover seed {seed}: the producer was never acknowledged again after the leader's broker died"));
        }
        if *is_unclean && !unclean_elected {
            live.push(format!("unclean failover seed {seed}: with unclean.leader.election.enable=true and no live ISR member, a live out-of-sync replica should have become leader"));
        }
    }
    out.check(
        "every leader choice matches Kafka's OfflinePartitionLeaderSelector",
        mismatch.is_none(),
        || mismatch.clone().unwrap_or_default(),
    );
    out.check(
        &format!(
            "failovers keep acknowledged records and one leader per epoch ({} runs)",
            runs.len()
        ),
        safety.is_empty(),
        || safety.join("; "),
    );
    out.check("the partition comes back online after each failover", live.is_empty(), || {
        live.join("; ")
    });
    out
}
