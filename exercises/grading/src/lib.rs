//! The machinery every exercise grader shares.
//!
//! A grader plugs the learner's code into the simulator ([`sim::hooks`]) and runs scenarios
//! whose seeds it derives itself ([`hidden_seeds`]), then judges the run by invariants read from
//! the trace ([`sim::check`]) and by comparing every decision the learner's code made with the
//! reference rule ([`Witness`]). The result is an [`Outcome`]: a list of named checks, each
//! passed or failed with a message meant for the learner.
//!
//! A starter's `todo!()` panics. Panics of the learner's code are caught where the code is
//! called ([`call`], [`call_async`]) — inside the simulation, before madsim would abort the run —
//! and reported as `not implemented yet: <message>`; [`quiet_panics`] keeps the default panic
//! hook from printing them while a grader runs.
//!
//! ```
//! use exercise_grading::{call, quiet_panics, Outcome};
//! quiet_panics();
//! let r: Result<i32, String> = call(|| todo!("hash the key"));
//! assert_eq!(r.unwrap_err(), "not implemented yet: hash the key");
//! let mut o = Outcome::new("demo");
//! o.check("answer", call(|| 42) == Ok(42), || "wrong answer".to_string());
//! assert!(o.passed() && o.score() == 100);
//! ```

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::cell::Cell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex, Once};
use std::task::{Context, Poll};

/// How hard to grade: the number of seeds each scenario runs with. `lab grade` uses
/// [`Effort::FULL`]; the project's own tests use [`Effort::QUICK`] to stay fast in debug builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effort {
    /// Seeds per simulated scenario.
    pub seeds: usize,
    /// Random cases per pure-function property.
    pub cases: usize,
}

impl Effort {
    /// What `lab grade` runs.
    pub const FULL: Effort = Effort { seeds: 6, cases: 2000 };
    /// What the tests run.
    pub const QUICK: Effort = Effort { seeds: 2, cases: 300 };
}

/// One named check of an exercise.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CheckLine {
    /// What was checked.
    pub name: String,
    /// Whether it held.
    pub ok: bool,
    /// Why not (empty when it held).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// The verdict on one exercise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The exercise's name (`range-assignor`).
    pub name: String,
    /// Every check, in the order they ran.
    pub checks: Vec<CheckLine>,
    /// Set when the learner's code panicked with `todo!()` (or otherwise): grading stops there.
    pub not_implemented: Option<String>,
}

impl Outcome {
    /// An outcome with no checks yet.
    pub fn new(name: &str) -> Self {
        Outcome { name: name.into(), checks: Vec::new(), not_implemented: None }
    }

    /// Records a check; `message` is only built when it failed.
    pub fn check(&mut self, name: &str, ok: bool, message: impl FnOnce() -> String) -> bool {
        let message = if ok { String::new() } else { message() };
        self.checks.push(CheckLine { name: name.into(), ok, message });
        ok
    }

    /// Records that the learner's code panicked; the exercise fails.
    pub fn panicked(&mut self, message: String) {
        if self.not_implemented.is_none() {
            self.not_implemented = Some(message);
        }
    }

    /// Passed: at least one check ran, every check held and nothing panicked.
    pub fn passed(&self) -> bool {
        self.not_implemented.is_none()
            && !self.checks.is_empty()
            && self.checks.iter().all(|c| c.ok)
    }

    /// Percentage of checks that held (0 when the code panicked).
    pub fn score(&self) -> u32 {
        if self.not_implemented.is_some() || self.checks.is_empty() {
            return 0;
        }
        (100 * self.checks.iter().filter(|c| c.ok).count() / self.checks.len()) as u32
    }

    /// The failure messages, the panic first.
    pub fn failures(&self) -> Vec<String> {
        self.not_implemented
            .iter()
            .cloned()
            .chain(
                self.checks.iter().filter(|c| !c.ok).map(|c| format!("{}: {}", c.name, c.message)),
            )
            .collect()
    }

    /// For a grader's own tests: the reference solution must pass (every check held).
    pub fn assert_reference_passes(&self) {
        assert!(self.passed(), "{}: {:?}", self.name, self.failures());
    }

    /// For a grader's own tests: the starter must fail with its `todo!()` message, which starts
    /// with `prefix` (skipped once the exercise is solved in this checkout, as in a learner's fork).
    pub fn assert_starter_fails_with(&self, prefix: &str) {
        if self.not_implemented.is_none() && self.passed() {
            return;
        }
        assert!(!self.passed(), "{self:?}");
        assert!(self.not_implemented.as_deref().unwrap_or("").starts_with(prefix), "{self:?}");
    }

    /// `{"name","passed","score","failures":[…],"checks":[…]}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "passed": self.passed(),
            "score": self.score(),
            "failures": self.failures(),
            "checks": self.checks,
        })
    }
}

/// The seeds a grader uses for `scenario`: derived from the exercise and scenario names, so
/// they are fixed (a failure replays) but written down nowhere a learner would tune against.
pub fn hidden_seeds(exercise: &str, scenario: &str, n: usize) -> Vec<u64> {
    (0..n as u64)
        .map(|i| {
            let d = Sha256::new()
                .chain_update(exercise)
                .chain_update([0])
                .chain_update(scenario)
                .chain_update(i.to_le_bytes())
                .finalize();
            // Small, readable seeds: the report names them so a learner can replay one.
            1 + u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]) % 1_000_000
        })
        .collect()
}

/// A small deterministic generator for the pure-function properties (splitmix64), so graders
/// need no RNG crate and every run draws the same cases.
#[derive(Debug, Clone)]
pub struct Cases(u64);

impl Cases {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Cases(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..hi` (`hi > lo`).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo).max(1)
    }
}

thread_local! {
    static GRADING: Cell<bool> = const { Cell::new(false) };
}

/// Installs (once) a panic hook that stays silent for panics caught by [`call`] and
/// [`call_async`], and defers to the previous hook for every other panic.
pub fn quiet_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GRADING.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// The text of a panic payload, with `todo!()`'s "not yet implemented" turned into the
/// grader's "not implemented yet".
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    let msg = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic with a non-string payload".into());
    match msg.strip_prefix("not yet implemented") {
        Some(rest) => format!("not implemented yet{rest}"),
        None => format!("your code panicked: {msg}"),
    }
}

struct Flag(bool);

impl Flag {
    fn set() -> Self {
        Flag(GRADING.with(|g| g.replace(true)))
    }
}

impl Drop for Flag {
    fn drop(&mut self) {
        let old = self.0;
        GRADING.with(|g| g.set(old));
    }
}

/// Inside a grader's `grade`: evaluates the learner's expression through [`call`]; if it panics,
/// records the panic in the outcome `$out` and returns `$out` from `grade`.
#[macro_export]
macro_rules! learner {
    ($out:ident, $e:expr) => {
        match $crate::call(|| $e) {
            Ok(v) => v,
            Err(panic) => {
                $out.panicked(panic);
                return $out;
            }
        }
    };
}

/// Calls the learner's code, turning a panic into its message.
pub fn call<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let _flag = Flag::set();
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| panic_text(p.as_ref()))
}

/// Awaits the learner's future, turning a panic in any poll into its message.
pub fn call_async<'a, T: 'a>(
    fut: impl Future<Output = T> + Send + 'a,
) -> impl Future<Output = Result<T, String>> + Send + 'a {
    CatchPanic(Box::pin(fut))
}

struct CatchPanic<'a, T>(Pin<Box<dyn Future<Output = T> + Send + 'a>>);

impl<T> Future for CatchPanic<'_, T> {
    type Output = Result<T, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let _flag = Flag::set();
        match catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(p) => Poll::Ready(Err(panic_text(p.as_ref()))),
        }
    }
}

/// What the learner's code did inside a simulation, shared with the hook that calls it: the
/// first panic, and the decisions that differ from the reference rule (the first few, with
/// their inputs, plus a count).
#[derive(Debug, Clone, Default)]
pub struct Witness(Arc<Mutex<WitnessState>>);

#[derive(Debug, Default)]
struct WitnessState {
    panic: Option<String>,
    calls: u64,
    mismatches: Vec<String>,
    mismatch_count: u64,
}

impl Witness {
    /// A fresh witness.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, WitnessState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Calls the learner's code; on a panic, records it and answers `fallback` so the
    /// simulation can wind down (the exercise fails all the same).
    pub fn call<T>(&self, f: impl FnOnce() -> T, fallback: impl FnOnce() -> T) -> T {
        self.state().calls += 1;
        match call(f) {
            Ok(v) => v,
            Err(msg) => {
                self.state().panic.get_or_insert(msg);
                fallback()
            }
        }
    }

    /// Records a decision that differs from the reference.
    pub fn mismatch(&self, what: impl FnOnce() -> String) {
        let mut st = self.state();
        st.mismatch_count += 1;
        if st.mismatches.len() < 3 {
            st.mismatches.push(what());
        }
    }

    /// Records a panic seen elsewhere (an async call).
    pub fn record_panic(&self, msg: String) {
        self.state().panic.get_or_insert(msg);
    }

    /// The first panic, if any.
    pub fn panic(&self) -> Option<String> {
        self.state().panic.clone()
    }

    /// How many times the learner's code was called.
    pub fn calls(&self) -> u64 {
        self.state().calls
    }

    /// `None` when every decision matched; otherwise a message with the first examples.
    pub fn mismatches(&self) -> Option<String> {
        let st = self.state();
        (st.mismatch_count > 0).then(|| {
            format!(
                "{} of {} decisions differ from Kafka's/ZooKeeper's rule, e.g. {}",
                st.mismatch_count,
                st.calls,
                st.mismatches.join("; ")
            )
        })
    }
}

/// Runs `f` for every seed on up to `jobs` threads and returns the results in seed order.
/// Each simulation is its own madsim runtime on its own thread, as `lab sweep` does.
pub fn per_seed<T: Send>(seeds: &[u64], jobs: usize, f: impl Fn(u64) -> T + Sync) -> Vec<T> {
    let jobs = jobs.max(1).min(seeds.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..seeds.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(&seed) = seeds.get(i) else { break };
                let r = f(seed);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
            });
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner()).into_iter().flatten().collect()
}

/// The number of threads to grade on: the machine's parallelism, at most 4.
pub fn jobs() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(4)
}

/// A scenario's failed checks as one line each, with the seed that replays it.
pub fn failed_checks(report: &sim::scenario::Report) -> Vec<String> {
    report
        .checks
        .iter()
        .filter(|c| !c.met())
        .map(|c| {
            format!(
                "seed {}: {} expected {}, got {}: {}",
                report.seed,
                c.name,
                c.expect,
                if c.ok { "pass" } else { "fail" },
                first_line(&c.detail)
            )
        })
        .collect()
}

/// The first line of a checker's detail, shortened.
pub fn first_line(s: &str) -> String {
    let l = s.lines().next().unwrap_or_default();
    if l.chars().count() > 300 {
        format!("{}…", l.chars().take(300).collect::<String>())
    } else {
        l.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_stable_and_differ_by_name() {
        let a = hidden_seeds("x", "s", 3);
        assert_eq!(a, hidden_seeds("x", "s", 3));
        assert_ne!(a, hidden_seeds("y", "s", 3));
        assert!(a.iter().all(|s| *s >= 1));
    }

    #[test]
    fn outcome_scores_and_reports_panics() {
        quiet_panics();
        let mut o = Outcome::new("e");
        o.check("a", true, String::new);
        o.check("b", false, || "broken".into());
        assert_eq!((o.passed(), o.score()), (false, 50));
        assert_eq!(o.failures(), vec!["b: broken".to_string()]);
        let r: Result<(), String> = call(|| panic!("boom"));
        assert_eq!(r.unwrap_err(), "your code panicked: boom");
        o.panicked("not implemented yet: x".into());
        assert_eq!(o.score(), 0);
        assert_eq!(o.failures()[0], "not implemented yet: x");
        let w = Witness::new();
        assert_eq!(w.call(|| -> i32 { todo!("later") }, || 7), 7);
        assert_eq!(w.panic().as_deref(), Some("not implemented yet: later"));
    }

    #[test]
    fn per_seed_keeps_order() {
        assert_eq!(per_seed(&[5, 1, 3, 2], 3, |s| s * 10), vec![50, 10, 30, 20]);
    }
}
