//! The grader: your vote order and quorum check against ZooKeeper's on random votes, then
//! five-server ZooKeeper ensembles electing with your rules while servers are killed and
//! crashed and a client keeps writing.
//!
//! What a run must show, read from its trace: one leader per epoch and agreeing committed logs
//! (`single_leader_per_epoch`, `committed_logs_agree`); every elected leader's
//! (epoch, zxid, id) at least that of each server that started the same election round in time
//! and followed it; and an ensemble still serving writes at the end.

use exercise_grading::{failed_checks, hidden_seeds, per_seed, Cases, Effort, Outcome, Witness};
use sim::hooks::{Builtin, Hooks, Vote, VoteOrder};
use sim::scenario::{run_with_hooks, Scenario};
use sim::trace::{kind, Event};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The exercise's name.
pub const NAME: &str = "fle-vote-order";

/// The two functions of `learner.rs`.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// `totalOrderPredicate(new, cur)`.
    pub total_order_predicate: fn(&Vote, &Vote) -> bool,
    /// `containsQuorum(ackers, votingMembers)`.
    pub contains_quorum: fn(&BTreeSet<u64>, usize) -> bool,
}

fn show(v: &Vote) -> String {
    format!("(epoch {}, zxid 0x{:x}, id {})", v.peer_epoch, v.zxid, v.leader)
}

fn hint(new: &Vote, cur: &Vote) -> &'static str {
    if new.peer_epoch != cur.peer_epoch {
        " — the epochs differ: the higher epoch wins whatever the zxids and ids"
    } else if new.zxid != cur.zxid {
        " — same epoch, the zxids differ: the higher zxid wins whatever the ids"
    } else if new.leader != cur.leader {
        " — same epoch and zxid: the higher server id wins"
    } else {
        " — the votes are equal: an equal vote does not beat the current one"
    }
}

/// Your rules inside every server of the ensemble, each decision checked against ZooKeeper's.
struct Graded {
    r: Rules,
    w: Witness,
}

impl VoteOrder for Graded {
    fn total_order_predicate(&self, new: &Vote, cur: &Vote) -> bool {
        let f = self.r.total_order_predicate;
        let want = Builtin.total_order_predicate(new, cur);
        let got = self.w.call(|| f(new, cur), || want);
        if got != want {
            self.w.mismatch(|| {
                format!(
                    "totalOrderPredicate(new {}, cur {}) = {got}{}",
                    show(new),
                    show(cur),
                    hint(new, cur)
                )
            });
        }
        got
    }

    fn contains_quorum(&self, ackers: &BTreeSet<u64>, n: usize) -> bool {
        let f = self.r.contains_quorum;
        let want = Builtin.contains_quorum(ackers, n);
        let got = self.w.call(|| f(ackers, n), || want);
        if got != want {
            self.w.mismatch(|| format!("containsQuorum({ackers:?} of {n} voters) = {got}"));
        }
        got
    }
}

/// Five servers (the seed's three plus zk4, zk5) and a client host writing a znode every
/// second; a nemesis kills or crashes one server every 3 s for 2 s.
const ENSEMBLE_SCENARIO: &str = r#"
[cluster]
hosts = ["master", "slave1", "slave2", "zk4", "zk5", "client"]
zookeepers = ["master", "slave1", "slave2", "zk4", "zk5"]
brokers = []

[nemesis]
kinds = ["kill", "crash"]
start = "1s"
every = "3s"
duration = "2s"
stop = "16s"
hosts = ["master", "slave1", "slave2", "zk4", "zk5"]

[[check]]
name = "single_leader_per_epoch"
expect = "pass"

[[check]]
name = "committed_logs_agree"
expect = "pass"

[run]
duration = "20s"
settle = "2s"
"#;

const CONNECT: &str = "master:2181,slave1:2181,slave2:2181,zk4:2181,zk5:2181";

fn scenario() -> Result<Scenario, String> {
    let mut text = ENSEMBLE_SCENARIO.to_string();
    for s in 0..19 {
        text.push_str(&format!("\n[[step]]\nat = \"{}s\"\nrun = \"ssh client zkCli.sh -server {CONNECT} create /w{s} {s}\"\n", s + 1));
    }
    text.push_str(&format!("\n[[step]]\nat = \"19500ms\"\nrun = \"ssh client zkCli.sh -server {CONNECT} create /final done\"\n"));
    Scenario::parse(&text).map_err(|e| e.to_string())
}

fn zxid(e: &Event) -> i64 {
    e.str("zxid")
        .and_then(|z| i64::from_str_radix(z.trim_start_matches("0x"), 16).ok())
        .unwrap_or(0)
}

/// Elected leaders that lose to a server that followed them: (message) per violation.
pub fn weaker_leaders(events: &[Event], ids: &BTreeMap<String, u64>) -> Vec<String> {
    #[derive(Clone, Copy)]
    struct Start {
        round: u64,
        epoch: u64,
        zxid: i64,
        t: u64,
    }
    struct Settle {
        host: String,
        leader: u64,
        round: u64,
        leading: bool,
        start: Option<Start>,
        t: u64,
    }
    let mut last: BTreeMap<&str, Start> = BTreeMap::new();
    let mut settles = Vec::new();
    for e in events {
        match e.kind.as_str() {
            kind::FLE_START => {
                last.insert(
                    &e.host,
                    Start {
                        round: e.u64("round").unwrap_or(0),
                        epoch: e.u64("epoch").unwrap_or(0),
                        zxid: zxid(e),
                        t: e.t_us,
                    },
                );
            }
            kind::FLE_SETTLED => settles.push(Settle {
                host: e.host.clone(),
                leader: e.u64("leader").unwrap_or(0),
                round: e.u64("round").unwrap_or(0),
                leading: e.str("state") == Some("LEADING"),
                start: last.get(e.host.as_str()).copied(),
                t: e.t_us,
            }),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for l in settles.iter().filter(|s| s.leading) {
        let Some(ls) = l.start else { continue };
        let lv = (ls.epoch, ls.zxid, l.leader);
        for f in settles.iter().filter(|f| !f.leading && f.leader == l.leader && f.round == l.round)
        {
            let Some(fs) = f.start else { continue };
            // Only servers that were looking in the same round well before the leader settled:
            // their own vote had time to reach it.
            if fs.round != l.round || fs.t + 1_000_000 > l.t || f.t + 5_000_000 < l.t {
                continue;
            }
            let fid = ids.get(&f.host).copied().unwrap_or(0);
            let fv = (fs.epoch, fs.zxid, fid);
            if fv > lv {
                out.push(format!(
                    "at {:.3} s {} (id {}) became leader with (epoch {}, zxid 0x{:x}) although {} (id {fid}), which followed it in round {}, had (epoch {}, zxid 0x{:x}) — a better vote",
                    l.t as f64 / 1e6, l.host, l.leader, ls.epoch, ls.zxid, f.host, l.round, fs.epoch, fs.zxid
                ));
            }
        }
    }
    out
}

/// Grades `r`.
pub fn grade(r: Rules, effort: Effort) -> Outcome {
    exercise_grading::quiet_panics();
    let mut out = Outcome::new(NAME);

    // 1. The vote order on random votes, many of them tied in epoch or zxid.
    let mut c = Cases::new(hidden_seeds(NAME, "votes", 1)[0]);
    let mut bad = (0, None);
    for _ in 0..effort.cases {
        let vote = |c: &mut Cases| Vote {
            leader: c.range(1, 6),
            zxid: ((c.range(0, 3) as i64) << 32) | c.range(0, 4) as i64,
            peer_epoch: c.range(0, 3) as u32,
        };
        let new = vote(&mut c);
        let cur = if c.range(0, 8) == 0 { new } else { vote(&mut c) };
        let got = exercise_grading::learner!(out, (r.total_order_predicate)(&new, &cur));
        let want = Builtin.total_order_predicate(&new, &cur);
        if got != want {
            bad.0 += 1;
            bad.1.get_or_insert(format!(
                "totalOrderPredicate(new {}, cur {}) = {got}, expected {want}{}",
                show(&new),
                show(&cur),
                hint(&new, &cur)
            ));
        }
    }
    out.check(
        &format!("totalOrderPredicate on {} random vote pairs", effort.cases),
        bad.0 == 0,
        || format!("{} wrong, the first: {}", bad.0, bad.1.clone().unwrap_or_default()),
    );

    // 2. The quorum check on every subset of ensembles of 1 to 7 servers.
    let mut bad = (0, None);
    for n in 1..=7usize {
        for mask in 0u32..(1 << n) {
            let set: BTreeSet<u64> =
                (0..n as u64).filter(|i| mask & (1 << i) != 0).map(|i| i + 1).collect();
            let got = exercise_grading::learner!(out, (r.contains_quorum)(&set, n));
            let want = Builtin.contains_quorum(&set, n);
            if got != want {
                bad.0 += 1;
                bad.1.get_or_insert(format!("containsQuorum({set:?}, {n} voting members) = {got}, expected {want} ({} of {n} is {}a strict majority)", set.len(), if want { "" } else { "not " }));
            }
        }
    }
    out.check("containsQuorum on every subset of ensembles of 1-7 servers", bad.0 == 0, || {
        format!("{} wrong, the first: {}", bad.0, bad.1.clone().unwrap_or_default())
    });

    // 3. Ensembles under faults.
    let sc = match scenario() {
        Ok(sc) => sc,
        Err(e) => {
            out.check("ensemble scenario", false, || {
                format!("the grader's scenario does not parse: {e}")
            });
            return out;
        }
    };
    let ids: BTreeMap<String, u64> =
        sc.hosts.iter().enumerate().map(|(i, h)| (h.clone(), i as u64 + 1)).collect();
    let seeds = hidden_seeds(NAME, "ensemble", effort.seeds * 4);
    let runs = per_seed(&seeds, exercise_grading::jobs(), |seed| {
        let w = Witness::new();
        let hooks = Hooks { vote_order: Arc::new(Graded { r, w: w.clone() }), ..Hooks::default() };
        let (report, events) = run_with_hooks(&sc, seed, hooks);
        let weaker = weaker_leaders(&events, &ids);
        let leaders = events
            .iter()
            .filter(|e| e.kind == kind::FLE_SETTLED && e.str("state") == Some("LEADING"))
            .count();
        // The final create reached a server (zk.request) and a create was applied after it.
        let asked = events
            .iter()
            .find(|e| e.kind == kind::ZK_REQUEST && e.str("path") == Some("/final"))
            .map(|e| e.t_us);
        let final_write = asked.is_some_and(|t| {
            events.iter().any(|e| {
                e.t_us >= t
                    && e.kind == kind::ZK_APPLY
                    && e.str("op") == Some("create")
                    && e.i64("err") == Some(0)
            })
        });
        (seed, report, w, weaker, leaders, final_write)
    });
    let (mut mismatch, mut safety, mut best, mut live) = (None, Vec::new(), Vec::new(), Vec::new());
    for (seed, report, w, weaker, leaders, final_write) in &runs {
        if let Some(p) = w.panic() {
            out.panicked(p);
            return out;
        }
        if let Some(m) = w.mismatches() {
            mismatch.get_or_insert(format!("seed {seed}: {m}"));
        }
        safety.extend(failed_checks(report));
        if let Some(first) = weaker.first() {
            best.push(format!(
                "seed {seed}: {first}{}",
                if weaker.len() > 1 {
                    format!(" (and {} more)", weaker.len() - 1)
                } else {
                    String::new()
                }
            ));
        }
        if *leaders == 0 {
            live.push(format!("seed {seed}: no server ever became leader"));
        } else if !final_write {
            live.push(format!("seed {seed}: after the last fault the ensemble did not commit the client's final write (no working quorum)"));
        }
    }
    out.check("every election decision matches ZooKeeper's rules", mismatch.is_none(), || {
        mismatch.clone().unwrap_or_default()
    });
    out.check(
        &format!("one leader per epoch, committed logs agree ({} seeds)", seeds.len()),
        safety.is_empty(),
        || safety.join("; "),
    );
    out.check(
        "each elected leader has the best (epoch, zxid, id) of its followers",
        best.is_empty(),
        || best.join("; "),
    );
    out.check("the ensemble keeps electing a leader and serving writes", live.is_empty(), || {
        live.join("; ")
    });
    out
}
