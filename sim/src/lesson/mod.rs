//! Guided lessons (`lab lesson list | run ID`): narrated steps that run in the simulator.
//!
//! A lesson is a TOML file in the top-level `lessons/` directory, named `NN-ID.toml` so that the
//! file names give the order. It has an id, a title, an introduction and a closing text in English
//! and Chinese, and ordered `[[step]]`s. A step may
//!
//! - `say` something (`say.en`, `say.zh`),
//! - run shell lines in the lesson's `lab shell` world (`run = [...]`, on host `on`; lines typed
//!   after a `kafka-console-producer.sh` go to it until `^D`, as in the shell),
//! - or run a scenario file and print its report as `lab run` does (`scenario = "scenarios/…"`),
//! - or run the simulated zero-copy bench for one regime, both send paths (`bench.regime`),
//! - ask a "predict, then observe" `question` *before* its action runs; the answer is a typed
//!   [`Query`] evaluated *after* it, over the run's trace (or the scenario's report, or the bench's
//!   counters) — never a string written in the file,
//! - `pause` for Enter, which happens only when a terminal is attached.
//!
//! [`Catalog::load`] reads and validates every file (with the file name, line and column of a
//! TOML error); [`run`] plays one lesson through a [`Learner`], which is the terminal in `lab` and a
//! plain buffer in tests. A non-interactive run is a pure function of (lesson, seed, language).
//!
//! ```
//! use sim::lesson::{Lang, Lesson, Transcript, run, RunOptions};
//! let lesson = Lesson::parse(r#"
//! id = "hello"
//! title = { en = "Hello", zh = "你好" }
//! intro = { en = "Who leads?", zh = "谁是 leader？" }
//! outro = { en = "Done.", zh = "完成。" }
//! [[step]]
//! on = "slave2"
//! run = ["zkServer.sh status"]
//! question = { en = "Which server leads ZooKeeper?", zh = "哪台服务器是 ZooKeeper 的 leader？", query = { kind = "zk_leader" } }
//! "#, "hello.toml", &|_| Err("no files".into())).unwrap();
//! let mut out = Transcript::default();
//! run(&lesson, &RunOptions { lang: Lang::En, seed: None }, &mut out).unwrap();
//! assert!(out.text.contains("Mode: leader"));
//! assert!(out.text.contains("Observed (from the trace): slave2 (myid 3)"));
//! ```
//!
//! # How it works
//!
//! (Moved here from ARCHITECTURE.md, which keeps only the map.)
//!
//! The guided lessons (`lab lesson`). `mod.rs` reads a lesson file (`lessons/NN-ID.toml`, serde with
//! unknown keys denied, TOML errors with line and column, then validation: both languages present,
//! one action per step, a question only on a step whose action can answer it, scenario files parsed
//! at load time) and plays it: shell steps share one seeded `Shell` world; a scenario or bench step
//! builds its own simulation, which cannot nest in the lesson's (madsim refuses to spawn threads
//! inside a simulation), so each is started on a thread of its own before the lesson's simulation
//! begins — it depends only on the step and the seed — and the lesson waits for it when it gets
//! there; the scenario's JSONL trace is parsed back into events. Output and input go through a `Learner` —
//! the terminal in `lab`, a `Transcript` buffer in tests — so pauses and predictions exist only
//! when a person is there. `query.rs` holds the questions' answers: a closed set of typed queries
//! (`zk_leader`, `controller`, `partition_leader`, `isr`, `partition_of`, `count`, `distinct`,
//! `last`, `elapsed` over trace events; `metric`, `check` over a scenario's report; `faster_path`,
//! `copied_per_message` over a bench's counters), each evaluated after the step ran — a lesson file
//! never contains an answer.

mod query;

pub use query::{Answer, BenchFigures, Needs, Observed, Query, QueryError};

use crate::bench::zerocopy::{self, Case, Regime, Settings};
use crate::hw::{HardwareProfile, SendPath};
use crate::scenario::{Report, Scenario};
use crate::shell::Shell;
use crate::trace::Event;
use crate::world::Sim;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::time::Duration;

/// Language of the narration (the tools' own output stays as the real tools print it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// Chinese.
    Zh,
}

impl std::str::FromStr for Lang {
    type Err = LessonError;
    fn from_str(s: &str) -> Result<Self, LessonError> {
        match s {
            "en" => Ok(Lang::En),
            "zh" => Ok(Lang::Zh),
            other => Err(LessonError::Invalid(format!("unknown language {other:?} (en, zh)"))),
        }
    }
}

impl Lang {
    /// `en` or `zh`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }
}

/// A text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    /// English.
    pub en: String,
    /// Chinese.
    pub zh: String,
}

impl Text {
    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Zh => &self.zh,
        }
    }
    fn check(&self, what: &str) -> Result<(), String> {
        if self.en.trim().is_empty() || self.zh.trim().is_empty() {
            return Err(format!("{what} needs both `en` and `zh` text"));
        }
        Ok(())
    }
}

/// A "predict, then observe" question.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// The question, English.
    pub en: String,
    /// The question, Chinese.
    pub zh: String,
    /// How the answer is found in what the step ran.
    pub query: Query,
}

/// How the lesson's world starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Start {
    /// ZooKeeper running on every host with a leader elected (`lab shell`).
    #[default]
    Zookeeper,
    /// Installed, nothing running (`lab shell --stopped`).
    Stopped,
}

/// The bench a step runs: one regime of `lab bench zerocopy`, both send paths.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchStep {
    /// `cpu-bound`, `network-bound` or `disk-bound`.
    pub regime: String,
    /// Consumers reading at once.
    #[serde(default = "default_consumers")]
    pub consumers: u32,
    /// Value bytes per message.
    #[serde(default = "default_message_bytes")]
    pub message_bytes: usize,
    /// Log data per partition, MiB.
    #[serde(default = "default_mib")]
    pub mib_per_partition: u64,
}

fn default_consumers() -> u32 {
    4
}
fn default_message_bytes() -> usize {
    1000
}
fn default_mib() -> u64 {
    4
}

impl BenchStep {
    fn regime(&self) -> Result<Regime, String> {
        match self.regime.as_str() {
            "cpu-bound" => Ok(Regime::CpuBound),
            "network-bound" => Ok(Regime::NetworkBound),
            "disk-bound" => Ok(Regime::DiskBound),
            other => Err(format!(
                "unknown bench regime {other:?} (cpu-bound, network-bound, disk-bound)"
            )),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepFile {
    say: Option<Text>,
    on: Option<String>,
    question: Option<Question>,
    #[serde(default)]
    run: Vec<String>,
    scenario: Option<String>,
    scenario_seed: Option<u64>,
    bench: Option<BenchStep>,
    after: Option<Text>,
    #[serde(default)]
    pause: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LessonFile {
    id: String,
    title: Text,
    intro: Text,
    outro: Text,
    #[serde(default = "default_seed")]
    seed: u64,
    #[serde(default)]
    start: Start,
    think: Option<String>,
    #[serde(default, rename = "step")]
    steps: Vec<StepFile>,
}

fn default_seed() -> u64 {
    1
}

/// What a step does after its narration.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Nothing: narration only.
    None,
    /// Shell lines, typed on a host.
    Shell {
        /// Host the lines are typed on (the current host if none).
        on: Option<String>,
        /// The lines.
        lines: Vec<String>,
    },
    /// A scenario run and its report.
    Scenario {
        /// The file, as the lesson names it (shown in the report's replay line).
        file: String,
        /// The parsed scenario.
        scenario: Box<Scenario>,
        /// Its seed (the lesson's seed if none).
        seed: Option<u64>,
    },
    /// One regime of the zero-copy bench, both send paths.
    Bench(BenchStep),
}

/// One step of a lesson.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Narration before the action.
    pub say: Option<Text>,
    /// Asked before the action, answered after it.
    pub question: Option<Question>,
    /// What runs.
    pub action: Action,
    /// Narration after the action (and the answer).
    pub after: Option<Text>,
    /// Wait for Enter afterwards (terminal only).
    pub pause: bool,
}

/// A validated lesson.
#[derive(Debug, Clone, PartialEq)]
pub struct Lesson {
    /// Id (`zk-install`): what `lab lesson run` takes.
    pub id: String,
    /// Title.
    pub title: Text,
    /// Introduction.
    pub intro: Text,
    /// Closing text.
    pub outro: Text,
    /// Default seed.
    pub seed: u64,
    /// How the world starts.
    pub start: Start,
    /// Virtual time before each typed line.
    pub think: Duration,
    /// Steps, in order.
    pub steps: Vec<Step>,
}

/// A lesson file or catalog that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LessonError {
    /// A file that does not parse or validate.
    #[error("{file}: {message}")]
    File {
        /// The file.
        file: String,
        /// What is wrong (with line and column for TOML errors).
        message: String,
    },
    /// No lesson with this id.
    #[error("no lesson {0:?}; `lab lesson list` shows them")]
    Unknown(String),
    /// Anything else (bad options, a run that could not go on).
    #[error("{0}")]
    Invalid(String),
}

fn file_err(file: &str, message: impl Into<String>) -> LessonError {
    LessonError::File { file: file.to_string(), message: message.into() }
}

impl Lesson {
    /// Reads and validates a lesson file's text; `read` gives the text of a scenario file the
    /// lesson names (a path relative to the project's root).
    pub fn parse(
        text: &str,
        file: &str,
        read: &dyn Fn(&str) -> Result<String, String>,
    ) -> Result<Lesson, LessonError> {
        let raw: LessonFile = toml::from_str(text)
            .map_err(|e| file_err(file, e.to_string().trim_end().to_string()))?;
        let bad = |m: String| file_err(file, m);
        if raw.id.is_empty()
            || !raw.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(bad(format!("id {:?} must be lower-case letters, digits and '-'", raw.id)));
        }
        raw.title.check("title").map_err(&bad)?;
        raw.intro.check("intro").map_err(&bad)?;
        raw.outro.check("outro").map_err(&bad)?;
        let think = match &raw.think {
            Some(t) => {
                crate::shell::lexer::parse_duration(t).map_err(|e| bad(format!("think: {e}")))?
            }
            None => Duration::from_secs(1),
        };
        if raw.steps.is_empty() {
            return Err(bad("a lesson needs at least one [[step]]".into()));
        }
        let hosts: Vec<String> =
            crate::seeded(raw.seed).hosts.into_iter().map(|h| h.name).collect();
        let mut steps = Vec::new();
        for (i, s) in raw.steps.into_iter().enumerate() {
            let at = |m: String| bad(format!("step {}: {m}", i + 1));
            let actions = usize::from(!s.run.is_empty())
                + usize::from(s.scenario.is_some())
                + usize::from(s.bench.is_some());
            if actions > 1 {
                return Err(at("a step runs one of `run`, `scenario` or `bench`".into()));
            }
            for (t, what) in [(&s.say, "say"), (&s.after, "after")] {
                if let Some(t) = t {
                    t.check(what).map_err(&at)?;
                }
            }
            if s.on.is_some() && s.run.is_empty() {
                return Err(at("`on` names the host of `run` lines; this step has none".into()));
            }
            if let Some(h) = &s.on {
                if !hosts.contains(h) {
                    return Err(at(format!("unknown host {h:?} (hosts: {})", hosts.join(", "))));
                }
            }
            if s.scenario_seed.is_some() && s.scenario.is_none() {
                return Err(at("`scenario_seed` without a `scenario`".into()));
            }
            if s.run.iter().any(|l| l.contains('\n')) {
                return Err(at("each `run` entry is one line".into()));
            }
            let action = if !s.run.is_empty() {
                Action::Shell { on: s.on, lines: s.run }
            } else if let Some(path) = s.scenario {
                let text = read(&path).map_err(|e| at(format!("scenario {path}: {e}")))?;
                let sc = Scenario::parse_named(&text, &path)
                    .map_err(|e| at(format!("scenario {path}:{e}")))?;
                Action::Scenario { file: path, scenario: Box::new(sc), seed: s.scenario_seed }
            } else if let Some(b) = s.bench {
                b.regime().map_err(&at)?;
                if b.consumers == 0
                    || b.consumers > 64
                    || b.message_bytes == 0
                    || b.message_bytes > 1 << 20
                    || b.mib_per_partition == 0
                    || b.mib_per_partition > 64
                {
                    return Err(at("bench: consumers 1..=64, message_bytes 1..=1048576, mib_per_partition 1..=64".into()));
                }
                Action::Bench(b)
            } else {
                Action::None
            };
            if let Some(q) = &s.question {
                if q.en.trim().is_empty() || q.zh.trim().is_empty() {
                    return Err(at("a question needs both `en` and `zh` text".into()));
                }
                q.query.validate().map_err(|e| at(format!("question: {e}")))?;
                let ok = match (q.query.needs(), &action) {
                    (_, Action::None) => false,
                    (Needs::Trace, Action::Shell { .. } | Action::Scenario { .. }) => true,
                    (Needs::Scenario, Action::Scenario { .. }) => true,
                    (Needs::Bench, Action::Bench(_)) => true,
                    _ => false,
                };
                if !ok {
                    return Err(at(format!(
                        "question: a {:?} query needs a step that runs {}",
                        q.query.needs(),
                        match q.query.needs() {
                            Needs::Trace => "shell lines or a scenario",
                            Needs::Scenario => "a scenario",
                            Needs::Bench => "a bench",
                        }
                    )));
                }
            }
            if s.say.is_none()
                && s.question.is_none()
                && action == Action::None
                && s.after.is_none()
            {
                return Err(at("an empty step".into()));
            }
            steps.push(Step {
                say: s.say,
                question: s.question,
                action,
                after: s.after,
                pause: s.pause,
            });
        }
        Ok(Lesson {
            id: raw.id,
            title: raw.title,
            intro: raw.intro,
            outro: raw.outro,
            seed: raw.seed,
            start: raw.start,
            think,
            steps,
        })
    }
}

/// Every lesson, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Catalog {
    /// Lessons in file-name order.
    pub lessons: Vec<Lesson>,
}

impl Catalog {
    /// Builds the catalog from `(file name, text)` pairs of the `lessons/` directory (sorted here
    /// by name; a name is `NN-ID.toml` and must agree with the file's `id`). `read` gives the text
    /// of the scenario files lessons name.
    pub fn load(
        mut files: Vec<(String, String)>,
        read: &dyn Fn(&str) -> Result<String, String>,
    ) -> Result<Catalog, LessonError> {
        files.sort();
        let mut lessons: Vec<Lesson> = Vec::new();
        for (name, text) in &files {
            let lesson = Lesson::parse(text, name, read)?;
            let stem = name.strip_suffix(".toml").unwrap_or(name);
            let named = stem
                .split_once('-')
                .filter(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
                .map(|(_, id)| id);
            if named != Some(lesson.id.as_str()) {
                return Err(file_err(
                    name,
                    format!(
                        "the file of lesson {:?} must be named NN-{}.toml",
                        lesson.id, lesson.id
                    ),
                ));
            }
            if lessons.iter().any(|l| l.id == lesson.id) {
                return Err(file_err(name, format!("a second lesson with id {:?}", lesson.id)));
            }
            lessons.push(lesson);
        }
        if lessons.is_empty() {
            return Err(LessonError::Invalid("no lesson files (lessons/NN-ID.toml)".into()));
        }
        Ok(Catalog { lessons })
    }

    /// The lesson with this id.
    pub fn get(&self, id: &str) -> Result<&Lesson, LessonError> {
        self.lessons.iter().find(|l| l.id == id).ok_or_else(|| LessonError::Unknown(id.to_string()))
    }

    /// What `lab lesson list` prints: one line per lesson, `N. ID  TITLE`.
    pub fn list(&self, lang: Lang) -> String {
        let width = self.lessons.iter().map(|l| l.id.len()).max().unwrap_or(0);
        let mut out = String::new();
        for (i, l) in self.lessons.iter().enumerate() {
            out.push_str(&format!("{:>2}. {:<width$}  {}\n", i + 1, l.id, l.title.get(lang)));
        }
        out.push_str(match lang {
            Lang::En => "\nRun one with: lab lesson run ID [--lang en|zh] [--seed N]\n",
            Lang::Zh => "\n运行其中一课：lab lesson run ID [--lang en|zh] [--seed N]\n",
        });
        out
    }
}

/// The person taking the lesson: where text goes, and (at a terminal) where predictions and
/// Enter come from.
pub trait Learner {
    /// True when a person can answer (a terminal is attached).
    fn interactive(&self) -> bool;
    /// Shows text.
    fn write(&mut self, text: &str);
    /// Waits for Enter (called only when interactive).
    fn pause(&mut self);
    /// Reads a prediction (called only when interactive); `None` at end of input.
    fn predict(&mut self) -> Option<String>;
}

/// A non-interactive learner that keeps everything written: the golden tests' and the CLI's
/// piped mode.
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    /// Everything written.
    pub text: String,
}

impl Learner for Transcript {
    fn interactive(&self) -> bool {
        false
    }
    fn write(&mut self, text: &str) {
        self.text.push_str(text);
    }
    fn pause(&mut self) {}
    fn predict(&mut self) -> Option<String> {
        None
    }
}

/// How to run a lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// Language of the narration.
    pub lang: Lang,
    /// Seed instead of the lesson's own.
    pub seed: Option<u64>,
}

/// The fixed words of a lesson run, per language.
struct Words {
    colon: &'static str,
    lesson: &'static str,
    seed: &'static str,
    step: &'static str,
    question: &'static str,
    prediction: &'static str,
    observed: &'static str,
    measured: &'static str,
    matched: &'static str,
    differs: &'static str,
    enter: &'static str,
    scenario: &'static str,
    bench: &'static str,
    next: &'static str,
}

fn words(lang: Lang) -> Words {
    match lang {
        Lang::En => Words {
            colon: ": ",
            lesson: "Lesson",
            seed: "seed",
            step: "Step",
            question: "Predict, then observe",
            prediction: "Your prediction: ",
            observed: "Observed (from the trace)",
            measured: "Measured (from the simulated counters)",
            matched: "your prediction matched.",
            differs: "you predicted",
            enter: "[Enter to continue]",
            scenario: "$ lab run",
            bench: "Simulated bench (virtual time, broker host counters)",
            next: "What next",
        },
        Lang::Zh => Words {
            colon: "：",
            lesson: "课程",
            seed: "种子",
            step: "步骤",
            question: "先预测，再观察",
            prediction: "你的预测：",
            observed: "观察结果（来自 trace）",
            measured: "测量结果（来自模拟计数器）",
            matched: "你的预测正确。",
            differs: "你的预测是",
            enter: "[按回车继续]",
            scenario: "$ lab run",
            bench: "模拟基准测试（虚拟时间，broker 主机的计数器）",
            next: "接下来",
        },
    }
}

/// Parses a JSONL trace back into events (the scenario runner hands its trace over as text).
pub fn parse_jsonl(jsonl: &str) -> Result<Vec<Event>, String> {
    let mut out = Vec::new();
    for (i, line) in jsonl.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut m: Map<String, Value> =
            serde_json::from_str(line).map_err(|e| format!("trace line {}: {e}", i + 1))?;
        let mut take_str = |k: &str| match m.remove(k) {
            Some(Value::String(s)) => Ok(s),
            _ => Err(format!("trace line {}: no {k:?}", i + 1)),
        };
        let (host, proc, kind) = (take_str("host")?, take_str("proc")?, take_str("kind")?);
        let t_us = m
            .remove("t_us")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| format!("trace line {}: no t_us", i + 1))?;
        let id = m
            .remove("id")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| format!("trace line {}: no id", i + 1))?;
        let cause = m.remove("cause").and_then(|v| v.as_u64());
        out.push(Event { t_us, host, proc, kind, id, cause, fields: m });
    }
    Ok(out)
}

/// What a scenario or bench step computed.
enum Precomputed {
    Scenario { report: Report, events: Vec<Event> },
    Bench { rows: String, figures: BenchFigures },
}

type Pending = std::thread::JoinHandle<Result<Precomputed, LessonError>>;

/// Starts a scenario or bench step on a thread of its own, before the lesson's simulation begins:
/// it builds its own simulation, which cannot nest inside the lesson's (madsim refuses threads
/// spawned inside a simulation, and runtimes do not nest). It depends only on the step and the
/// seed, so computing it early changes nothing but the waiting.
fn precompute(action: &Action, seed: u64) -> Option<Pending> {
    match action {
        Action::Scenario { scenario, seed: sseed, .. } => {
            let sc = (**scenario).clone();
            let sseed = sseed.unwrap_or(seed);
            Some(std::thread::spawn(move || {
                let (report, jsonl) = crate::scenario::run_traced(&sc, sseed);
                let events = parse_jsonl(&jsonl).map_err(LessonError::Invalid)?;
                Ok(Precomputed::Scenario { report, events })
            }))
        }
        Action::Bench(b) => {
            let b = b.clone();
            Some(std::thread::spawn(move || {
                run_bench(&b, seed).map(|(rows, figures)| Precomputed::Bench { rows, figures })
            }))
        }
        Action::None | Action::Shell { .. } => None,
    }
}

fn wait(pending: Option<Pending>) -> Result<Precomputed, LessonError> {
    pending
        .ok_or_else(|| LessonError::Invalid("a scenario or bench step was not started".into()))?
        .join()
        .map_err(|_| LessonError::Invalid("a scenario or bench run panicked".into()))?
}

fn run_bench(b: &BenchStep, seed: u64) -> Result<(String, BenchFigures), LessonError> {
    let regime = b.regime().map_err(LessonError::Invalid)?;
    let mut s = Settings::quick(HardwareProfile::default());
    s.bytes_per_partition = b.mib_per_partition << 20;
    s.seed = seed;
    let mut rows = String::new();
    rows.push_str(&format!(
        "{:<13} {:>4} {:>6}  {:<9} {:>8} {:>10} {:>9} {:>8} {:>6}\n",
        "regime", "cons", "msg", "path", "MB/s", "copied/msg", "syscalls", "ctx-sw", "CPU%"
    ));
    let mut res = Vec::new();
    for path in [SendPath::Sendfile, SendPath::ReadWrite] {
        let case = Case {
            regime,
            path,
            tls: false,
            message_bytes: b.message_bytes,
            consumers: b.consumers,
        };
        let r = zerocopy::run_case(&s, &case)
            .map_err(|e| LessonError::Invalid(format!("bench: {e}")))?;
        rows.push_str(&format!(
            "{:<13} {:>4} {:>6}  {:<9} {:>8.1} {:>10.0} {:>9} {:>8} {:>5.0}%\n",
            regime.name(),
            b.consumers,
            b.message_bytes,
            path.name(),
            r.mb_per_sec(),
            r.copied_per_msg(),
            r.cpu.syscalls,
            r.cpu.context_switches,
            r.cpu_util() * 100.0
        ));
        res.push(r);
    }
    let figures = BenchFigures {
        sendfile_mb_s: res[0].mb_per_sec(),
        readwrite_mb_s: res[1].mb_per_sec(),
        sendfile_copied: res[0].copied_per_msg(),
        readwrite_copied: res[1].copied_per_msg(),
    };
    Ok((rows, figures))
}

/// Plays a lesson. Shell steps share one simulated world (started as the lesson says, with the
/// seed); a scenario or bench step runs its own. Errors only for a question whose answer the run
/// did not record (a lesson that no longer matches the simulator) or a failed bench.
pub fn run(
    lesson: &Lesson,
    opts: &RunOptions,
    learner: &mut dyn Learner,
) -> Result<(), LessonError> {
    let seed = opts.seed.unwrap_or(lesson.seed);
    let lang = opts.lang;
    let w = words(lang);
    let mut pending: Vec<Option<Pending>> =
        lesson.steps.iter().map(|s| precompute(&s.action, seed)).collect();
    Sim::new(crate::seeded(seed)).run(|world| async move {
        let mut sh = Shell::new(world.clone());
        sh.think_time = lesson.think;
        sh.boot_cluster(lesson.start == Start::Zookeeper).await;
        let heading = match lang {
            Lang::En => format!(
                "{} {}: {}  ({} {seed})\n",
                w.lesson,
                lesson.id,
                lesson.title.get(lang),
                w.seed
            ),
            Lang::Zh => format!(
                "{} {}：{}（{} {seed}）\n",
                w.lesson,
                lesson.id,
                lesson.title.get(lang),
                w.seed
            ),
        };
        learner.write(&heading);
        learner.write(&format!("{}\n\n{}\n", "=".repeat(60), lesson.intro.get(lang).trim_end()));
        let interactive = learner.interactive();
        for (i, step) in lesson.steps.iter().enumerate() {
            learner.write(&format!("\n--- {} {} ---\n", w.step, i + 1));
            if let Some(say) = &step.say {
                learner.write(&format!("{}\n", say.get(lang).trim_end()));
            }
            let mut prediction = None;
            if let Some(q) = &step.question {
                let text = match lang {
                    Lang::En => &q.en,
                    Lang::Zh => &q.zh,
                };
                learner.write(&format!("\n? {}{}{}\n", w.question, w.colon, text.trim_end()));
                if interactive {
                    learner.write(w.prediction);
                    prediction = learner.predict();
                }
            }
            let mut report: Option<Report> = None;
            let mut bench: Option<BenchFigures> = None;
            let mut scenario_events: Option<Vec<Event>> = None;
            let step_start = world.tracer().len();
            match &step.action {
                Action::None => {}
                Action::Shell { on, lines } => {
                    if let Some(h) = on {
                        sh.set_host(h);
                    }
                    learner.write("\n");
                    for line in lines {
                        // Lines typed into a running program (the console producer) have no prompt.
                        if sh.reading_stdin() {
                            learner.write(&format!("{line}\n"));
                        } else {
                            learner.write(&format!("{}{line}\n", sh.prompt()));
                        }
                        sh.exec_line(line).await;
                        learner.write(&sh.take_output());
                        sh.take_effects();
                    }
                }
                Action::Scenario { file, seed: sseed, .. } => {
                    learner.write(&format!(
                        "\n{} {file} --seed {}\n",
                        w.scenario,
                        sseed.unwrap_or(seed)
                    ));
                    // Blocking here stops the lesson's simulation, not its virtual time.
                    if let Precomputed::Scenario { report: r, events } = wait(pending[i].take())? {
                        learner.write(&r.human(file));
                        scenario_events = Some(events);
                        report = Some(r);
                    }
                }
                Action::Bench(_) => {
                    learner.write(&format!("\n{}{}\n", w.bench, w.colon.trim_end()));
                    if let Precomputed::Bench { rows, figures } = wait(pending[i].take())? {
                        learner.write(&rows);
                        bench = Some(figures);
                    }
                }
            }
            if let Some(q) = &step.question {
                let shell_events;
                let (events, step_start): (&[Event], usize) = match &scenario_events {
                    Some(ev) => (ev, 0),
                    None => {
                        shell_events = world.tracer().events();
                        (&shell_events, step_start)
                    }
                };
                let observed =
                    Observed { events, report: report.as_ref(), bench: bench.as_ref(), step_start };
                let answer = q.query.eval(&observed).map_err(|e| {
                    LessonError::Invalid(format!(
                        "lesson {}, step {}: the question has no answer in this run: {e}",
                        lesson.id,
                        i + 1
                    ))
                })?;
                let verdict = match &prediction {
                    Some(p) if answer.matches(p) => format!(" — {}", w.matched),
                    Some(p) if !p.trim().is_empty() => format!(" — {} {:?}.", w.differs, p.trim()),
                    _ => String::new(),
                };
                let label = if q.query.needs() == Needs::Bench { w.measured } else { w.observed };
                learner.write(&format!("= {label}{}{}{verdict}\n", w.colon, answer.shown));
            }
            if let Some(after) = &step.after {
                learner.write(&format!("\n{}\n", after.get(lang).trim_end()));
            }
            if step.pause && interactive {
                learner.write(&format!("\n{} ", w.enter));
                learner.pause();
            }
        }
        learner.write(&format!("\n--- {} ---\n{}\n", w.next, lesson.outro.get(lang).trim_end()));
        Ok::<(), LessonError>(())
    })
}

#[cfg(test)]
mod tests;
