//! Every command transcript in the book (`book/src/**/*.md`, and the Chinese edition's
//! `book/zh/src/**/*.md`) is replayed on the simulator and must print exactly what the book shows
//! (contract 6 of the design brief).
//!
//! A transcript is a fenced block whose info string starts with `lab`, followed by attributes:
//!
//! - `seed=N` — the simulation seed (default 1);
//! - `stopped` — ZooKeeper is installed on every host but not started (default: started, with a
//!   leader elected, as `lab shell` does);
//! - `think=DURATION` — virtual time that passes before each line (default `1s`, as `lab shell`).
//!
//! Inside, a line `root@HOST:DIR# COMMAND` is a command typed on HOST (DIR is only display); the
//! lines after it, up to the next prompt, are its exact output. When a prompt's HOST differs from
//! the current host, the replay first runs `ssh HOST` silently, as a learner switching terminals
//! would (it takes its think time too). To reproduce a block by hand, pipe the same lines — with
//! those `ssh HOST` lines — into `lab shell --seed N [--stopped]`.
//!
//! A program that reads the terminal (the console producer) takes the lines typed after it, which
//! have no prompt: after a `kafka-console-producer.sh` command, the lines up to and including a
//! line `^D` are *input*, fed to the shell one by one (each after its think time) with no output
//! expected between them; lines after `^D` are what the program printed when its input ended. If no
//! `^D` comes before the next prompt, the lines after the command are its output, as for any
//! other command (the producer refused to start).
//!
//! A block ```` ```lab-run scenarios/FILE.toml seed=N ```` holds what `lab run FILE --seed N`
//! prints, without the wall time; it is compared with a fresh run of the scenario.
//!
//! A block ```` ```lab-assign STRATEGY topics=T:N[,U:M] members=A,B,C ```` holds what the
//! consumer's partition assignor `STRATEGY` (`range`, `roundrobin`) computes when every member
//! subscribes to every topic: one line per member, `A: T-0 T-1`. The lab's assignors are the
//! ones its consumer groups use, so an assignment table in the book is Kafka's rule, computed.
//!
//! After a deliberate change to the simulator, `UPDATE_BOOK=1 cargo test -p lab-tests --test book`
//! rewrites every block's outputs with what the lab prints now; review the diff before committing.

use sim::shell::lexer::parse_duration;
use sim::shell::Shell;
use sim::world::Sim;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One command of a transcript and the output the book expects from it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    /// 1-based line of the prompt in the file.
    line: usize,
    /// Host the prompt names.
    host: String,
    /// The command after `# `.
    cmd: String,
    /// Expected output: every line followed by `\n`.
    expected: String,
    /// 0-based file line range of the output lines (for `UPDATE_BOOK`).
    out: std::ops::Range<usize>,
    /// A line typed into a running program (no prompt), not a command for the shell.
    input: bool,
}

/// One ```` ```lab ```` block.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Block {
    /// 1-based line of the opening fence.
    line: usize,
    seed: u64,
    stopped: bool,
    think: Duration,
    steps: Vec<Step>,
}

/// Splits a prompt line `root@HOST:DIR# COMMAND` into (HOST, COMMAND).
fn parse_prompt(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix("root@")?;
    let (host, rest) = rest.split_once(':')?;
    let (_dir, cmd) = rest.split_once("# ")?;
    let valid_host = !host.is_empty()
        && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_');
    valid_host.then(|| (host.to_string(), cmd.to_string()))
}

/// The opening fence of a line: (number of backticks, info string).
fn fence(line: &str) -> Option<(usize, &str)> {
    let ticks = line.len() - line.trim_start_matches('`').len();
    (ticks >= 3).then(|| (ticks, line[ticks..].trim()))
}

/// The top-level fenced blocks of a Markdown text's lines: (opening line, closing line, info
/// string), 0-based. A fence inside a longer fence is part of that block, not a block of its own.
fn fenced_blocks<'a>(lines: &[&'a str]) -> Result<Vec<(usize, usize, &'a str)>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some((ticks, info)) = fence(lines[i]) else {
            i += 1;
            continue;
        };
        let close = (i + 1..lines.len())
            .find(|&j| {
                let t = lines[j].trim_end();
                t.len() >= ticks && t.chars().all(|c| c == '`')
            })
            .ok_or_else(|| format!("line {}: fence is never closed", i + 1))?;
        out.push((i, close, info));
        i = close + 1;
    }
    Ok(out)
}

fn parse_attrs(info: &str, at: usize) -> Result<(u64, bool, Duration), String> {
    let (mut seed, mut stopped, mut think) = (1, false, Duration::from_secs(1));
    for attr in info.split_whitespace().skip(1) {
        match attr.split_once('=') {
            Some(("seed", v)) => {
                seed = v.parse().map_err(|e| format!("line {at}: bad seed {v:?}: {e}"))?
            }
            Some(("think", v)) => {
                think = parse_duration(v).map_err(|e| format!("line {at}: bad think {v:?}: {e}"))?
            }
            None if attr == "stopped" => stopped = true,
            _ => {
                return Err(format!(
                "line {at}: unknown attribute {attr:?} (known: seed=N, stopped, think=DURATION)"
            ))
            }
        }
    }
    Ok((seed, stopped, think))
}

/// Every `lab` block of a Markdown text. Other fenced blocks are skipped whole, so a `lab` fence
/// quoted inside a longer fence is not a transcript.
fn parse_blocks(text: &str) -> Result<Vec<Block>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    for (open, close, info) in fenced_blocks(&lines)? {
        if info.split_whitespace().next() == Some("lab") {
            let (seed, stopped, think) = parse_attrs(info, open + 1)?;
            let mut steps: Vec<Step> = Vec::new();
            let mut j = open + 1;
            while j < close {
                let line = lines[j];
                if let Some((host, cmd)) = parse_prompt(line) {
                    // (In the background, `… &`, it gets no terminal input.)
                    let reads_terminal =
                        cmd.split_whitespace().next().is_some_and(|w| {
                            w.trim_start_matches("./") == "kafka-console-producer.sh"
                        }) && !cmd.trim_end().ends_with('&');
                    steps.push(Step {
                        line: j + 1,
                        host: host.clone(),
                        cmd,
                        expected: String::new(),
                        out: j + 1..j + 1,
                        input: false,
                    });
                    j += 1;
                    // Input typed into the program: the prompt-less lines up to `^D`, if one comes
                    // before the next prompt.
                    let end =
                        (j..close).find(|&k| parse_prompt(lines[k]).is_some()).unwrap_or(close);
                    if reads_terminal {
                        if let Some(eof) = (j..end).find(|&k| lines[k].trim() == "^D") {
                            for (k, typed) in lines.iter().enumerate().take(eof + 1).skip(j) {
                                steps.push(Step {
                                    line: k + 1,
                                    host: host.clone(),
                                    cmd: typed.to_string(),
                                    expected: String::new(),
                                    out: k + 1..k + 1,
                                    input: true,
                                });
                            }
                            j = eof + 1;
                        }
                    }
                } else if let Some(step) = steps.last_mut() {
                    step.expected.push_str(line);
                    step.expected.push('\n');
                    step.out.end = j + 1;
                    j += 1;
                } else {
                    return Err(format!(
                        "line {}: output before the first `root@HOST:DIR# ` prompt: {line:?}",
                        j + 1
                    ));
                }
            }
            if steps.is_empty() {
                return Err(format!("line {}: a lab block with no commands", open + 1));
            }
            blocks.push(Block { line: open + 1, seed, stopped, think, steps });
        }
    }
    Ok(blocks)
}

/// Replays a block; returns the actual output of each step.
fn replay(block: &Block) -> Vec<String> {
    let block = block.clone();
    Sim::new(sim::seeded(block.seed)).run(|world| async move {
        let mut sh = Shell::new(world);
        sh.think_time = block.think;
        sh.boot_cluster(!block.stopped).await;
        let mut host = "master".to_string();
        let mut outputs = Vec::new();
        for step in &block.steps {
            if !step.input && step.host != host {
                sh.exec_line(&format!("ssh {}", step.host)).await;
                let switched = sh.take_output();
                assert!(
                    switched.is_empty(),
                    "line {}: `ssh {}` printed {switched:?}",
                    step.line,
                    step.host
                );
                host = step.host.clone();
            }
            sh.exec_line(&step.cmd).await;
            outputs.push(sh.take_output());
            sh.take_effects(); // `lab trace FILE` writes nothing during the check
        }
        outputs
    })
}

/// A line-by-line comparison: `  ` same, `- ` only in the book, `+ ` only in the lab.
fn diff(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let mut out = String::new();
    for k in 0..e.len().max(a.len()) {
        match (e.get(k), a.get(k)) {
            (Some(x), Some(y)) if x == y => out.push_str(&format!("    {x}\n")),
            (x, y) => {
                if let Some(x) = x {
                    out.push_str(&format!("  - {x}\n"));
                }
                if let Some(y) = y {
                    out.push_str(&format!("  + {y}\n"));
                }
            }
        }
    }
    if !actual.is_empty() && !actual.ends_with('\n') {
        out.push_str(
            "  (the lab's output does not end with a newline, which a transcript cannot show)\n",
        );
    }
    out
}

/// Every Markdown file of the English book (`book/src`) and of the Chinese edition
/// (`book/zh/src`, when it exists), sorted. The two editions show the same transcripts, and both
/// are checked, so a translation cannot drift from what the lab prints.
fn book_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    lab_tests::markdown_files(&root.join("book/src"), &mut files);
    let zh = root.join("book/zh/src");
    if zh.is_dir() {
        lab_tests::markdown_files(&zh, &mut files);
    }
    files
}

/// The two replaying tests may rewrite the same files under `UPDATE_BOOK`: one at a time.
static BOOK_FILES: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn every_book_transcript_replays_exactly() {
    let _files = BOOK_FILES.lock().unwrap_or_else(|e| e.into_inner());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let files = book_files(&root);
    let update = std::env::var_os("UPDATE_BOOK").is_some_and(|v| v != "0" && !v.is_empty());
    let (mut blocks_seen, mut steps_seen, mut failures) = (0, 0, Vec::new());
    for file in &files {
        let name = file.strip_prefix(root.join("book")).unwrap_or(file).display().to_string();
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("reading {name}: {e}"));
        let blocks = parse_blocks(&text).unwrap_or_else(|e| panic!("book/{name}: {e}"));
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let mut edits = Vec::new();
        for block in &blocks {
            blocks_seen += 1;
            let actual = replay(block);
            for (step, got) in block.steps.iter().zip(actual) {
                steps_seen += 1;
                if step.expected != got {
                    let typed_note = if step.input && step.cmd.trim() != "^D" {
                        "  (printed while input was still being typed: a transcript cannot show output between input lines; UPDATE_BOOK leaves it)\n"
                    } else {
                        ""
                    };
                    failures.push(format!(
                        "book/{name}:{} (block at line {}, seed {}{}), on {}:\n  {} {}\n{}",
                        step.line,
                        block.line,
                        block.seed,
                        if block.stopped { ", stopped" } else { "" },
                        step.host,
                        if step.input { "(typed)" } else { "$" },
                        step.cmd,
                        diff(&step.expected, &got) + typed_note
                    ));
                    if typed_note.is_empty() {
                        edits.push((step.out.clone(), got));
                    }
                }
            }
        }
        if update && !edits.is_empty() {
            for (range, got) in edits.into_iter().rev() {
                let new: Vec<String> = got.lines().map(str::to_string).collect();
                lines.splice(range, new);
            }
            std::fs::write(file, lines.join("\n") + "\n")
                .unwrap_or_else(|e| panic!("writing {name}: {e}"));
        }
    }
    assert!(
        blocks_seen > 0,
        "no ```lab blocks found under {} — the book check would prove nothing",
        root.join("book").display()
    );
    if update {
        eprintln!("UPDATE_BOOK: rewrote {} of {steps_seen} outputs", failures.len());
        return;
    }
    assert!(
        failures.is_empty(),
        "{} of {steps_seen} commands in {blocks_seen} book transcripts print something else now (- book, + lab):\n\n{}\n\
         If the change is intended: UPDATE_BOOK=1 cargo test -p lab-tests --test book, then review the diff.",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{blocks_seen} transcripts, {steps_seen} commands: all match");
}

/// A ```` ```lab-run scenarios/FILE.toml seed=N ```` block: what `lab run FILE --seed N` prints,
/// without its wall time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RunBlock {
    line: usize,
    file: String,
    seed: u64,
    expected: String,
    /// 0-based file lines of the report (for `UPDATE_BOOK`).
    out: std::ops::Range<usize>,
}

fn parse_run_blocks(text: &str) -> Result<Vec<RunBlock>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, close, info) in fenced_blocks(&lines)? {
        let mut words = info.split_whitespace();
        if words.next() == Some("lab-run") {
            let file = words
                .next()
                .ok_or_else(|| format!("line {}: lab-run needs a scenario file", i + 1))?
                .to_string();
            let mut seed = 1;
            for attr in words {
                match attr.split_once('=') {
                    Some(("seed", v)) => {
                        seed =
                            v.parse().map_err(|e| format!("line {}: bad seed {v:?}: {e}", i + 1))?
                    }
                    _ => {
                        return Err(format!(
                            "line {}: unknown attribute {attr:?} (known: seed=N)",
                            i + 1
                        ))
                    }
                }
            }
            let expected: String = lines[i + 1..close].iter().map(|l| format!("{l}\n")).collect();
            out.push(RunBlock { line: i + 1, file, seed, expected, out: i + 1..close });
        }
    }
    Ok(out)
}

#[test]
fn every_scenario_report_in_the_book_matches_a_fresh_run() {
    let _files = BOOK_FILES.lock().unwrap_or_else(|e| e.into_inner());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let files = book_files(&root);
    let update = std::env::var_os("UPDATE_BOOK").is_some_and(|v| v != "0" && !v.is_empty());
    let (mut seen, mut failures) = (0, Vec::new());
    for file in &files {
        let name = file.strip_prefix(root.join("book")).unwrap_or(file).display().to_string();
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("reading {name}: {e}"));
        let blocks = parse_run_blocks(&text).unwrap_or_else(|e| panic!("book/{name}: {e}"));
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let mut edits = Vec::new();
        for b in &blocks {
            seen += 1;
            let scenario_text = std::fs::read_to_string(root.join(&b.file))
                .unwrap_or_else(|e| panic!("book/{name}:{}: {}: {e}", b.line, b.file));
            let sc = sim::scenario::Scenario::parse_named(&scenario_text, &b.file)
                .unwrap_or_else(|e| panic!("{}:{e}", b.file));
            let got = sim::scenario::run(&sc, b.seed).human(&b.file);
            if got != b.expected {
                failures.push(format!(
                    "book/{name}:{} (lab run {} --seed {}):\n{}",
                    b.line,
                    b.file,
                    b.seed,
                    diff(&b.expected, &got)
                ));
                edits.push((b.out.clone(), got));
            }
        }
        if update && !edits.is_empty() {
            for (range, got) in edits.into_iter().rev() {
                lines.splice(range, got.lines().map(str::to_string));
            }
            std::fs::write(file, lines.join("\n") + "\n")
                .unwrap_or_else(|e| panic!("writing {name}: {e}"));
        }
    }
    assert!(seen > 0, "no ```lab-run blocks in the book");
    assert!(
        update || failures.is_empty(),
        "{} scenario reports in the book differ (- book, + lab):\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn run_blocks_name_a_file_and_a_seed() {
    let md = "```lab-run scenarios/x.toml seed=4\nscenario x (seed 4)\n```\n\n```lab\nroot@master:/# jps\n```\n";
    let b = parse_run_blocks(md).expect("parses");
    assert_eq!(
        b,
        vec![RunBlock {
            line: 1,
            file: "scenarios/x.toml".into(),
            seed: 4,
            expected: "scenario x (seed 4)\n".into(),
            out: 1..2
        }]
    );
    assert!(parse_run_blocks("```lab-run\n```\n").unwrap_err().contains("needs a scenario file"));
    assert!(parse_run_blocks("```lab-run f.toml sed=2\n```\n")
        .unwrap_err()
        .contains("unknown attribute"));
}

#[test]
fn parser_reads_prompts_on_several_hosts_and_multi_line_outputs() {
    let md = "\
# A page

```text
root@master:/x# not a transcript
```

````markdown
```lab
root@master:/x# quoted, not run
```
````

```lab seed=7 stopped think=250ms
root@master:/usr/local/spark/zookeeper-3.4.6/bin# zkServer.sh status
JMX enabled by default
Using config: /usr/local/spark/zookeeper-3.4.6/bin/../conf/zoo.cfg

Mode: follower
root@slave2:/root# hostname
slave2
root@slave2:/root# sleep 1
```

```lab
root@slave1:~# jps
```
";
    let blocks = parse_blocks(md).expect("parses");
    assert_eq!(blocks.len(), 2, "{blocks:#?}");
    let b = &blocks[0];
    assert_eq!((b.line, b.seed, b.stopped, b.think), (13, 7, true, Duration::from_millis(250)));
    let summary: Vec<(usize, &str, &str, &str)> = b
        .steps
        .iter()
        .map(|s| (s.line, s.host.as_str(), s.cmd.as_str(), s.expected.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                14,
                "master",
                "zkServer.sh status",
                "JMX enabled by default\nUsing config: /usr/local/spark/zookeeper-3.4.6/bin/../conf/zoo.cfg\n\nMode: follower\n"
            ),
            (19, "slave2", "hostname", "slave2\n"),
            (21, "slave2", "sleep 1", ""),
        ]
    );
    assert_eq!(b.steps[0].out, 14..18);
    assert_eq!(b.steps[2].out, 21..21);
    let c = &blocks[1];
    assert_eq!((c.seed, c.stopped, c.think), (1, false, Duration::from_secs(1)));
    assert_eq!((c.steps[0].host.as_str(), c.steps[0].cmd.as_str()), ("slave1", "jps"));

    assert!(parse_blocks("```lab\nstray output\nroot@master:/# jps\n```\n")
        .unwrap_err()
        .contains("before the first"));
    assert!(parse_blocks("```lab sed=1\nroot@master:/# jps\n```\n")
        .unwrap_err()
        .contains("unknown attribute"));
    assert!(parse_blocks("```lab\n```\n").unwrap_err().contains("no commands"));
}

#[test]
fn diff_marks_changed_lines() {
    let d = diff("a\nb\nc\n", "a\nB\nc\nd\n");
    assert_eq!(d, "    a\n  - b\n  + B\n    c\n  + d\n");
}

#[test]
fn parser_feeds_lines_typed_into_the_console_producer_as_input() {
    let md = "\
```lab
root@master:/usr/local/kafka_2.10-0.9.0.1/bin# kafka-console-producer.sh --broker-list master:9092 --topic t
This is DT_Spark!
I'm Rocky!
^D
an error printed at exit
root@slave1:/x# ./kafka-console-producer.sh --topic t
Missing required argument \"[broker-list]\"
root@slave1:/x# jps
1 Jps
```
";
    let blocks = parse_blocks(md).expect("parses");
    let summary: Vec<(usize, &str, &str, bool, &str)> = blocks[0]
        .steps
        .iter()
        .map(|s| (s.line, s.host.as_str(), s.cmd.as_str(), s.input, s.expected.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                2,
                "master",
                "kafka-console-producer.sh --broker-list master:9092 --topic t",
                false,
                ""
            ),
            (3, "master", "This is DT_Spark!", true, ""),
            (4, "master", "I'm Rocky!", true, ""),
            (5, "master", "^D", true, "an error printed at exit\n"),
            // No `^D` before the next prompt: the lines after the command are its output.
            (
                7,
                "slave1",
                "./kafka-console-producer.sh --topic t",
                false,
                "Missing required argument \"[broker-list]\"\n"
            ),
            (9, "slave1", "jps", false, "1 Jps\n"),
        ]
    );
    let s = &blocks[0].steps;
    assert_eq!((s[0].out.clone(), s[1].out.clone(), s[3].out.clone()), (2..2, 3..3, 5..6));
}

/// The Chinese edition translates the prose, never the sessions: a chapter of `book/zh/src` shows
/// the same transcripts and scenario reports, in the same order, as the English chapter of the
/// same file name (a translated chapter may leave sessions out, not change or add any).
#[test]
fn chinese_chapters_show_the_english_transcripts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let zh = root.join("book/zh/src");
    if !zh.is_dir() {
        return;
    }
    let mut files = Vec::new();
    lab_tests::markdown_files(&zh, &mut files);
    let mut compared = 0;
    for file in &files {
        let rel = file.strip_prefix(&zh).unwrap_or(file);
        let en = root.join("book/src").join(rel);
        let zh_text = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        let Ok(en_text) = std::fs::read_to_string(&en) else {
            assert!(
                parse_blocks(&zh_text).unwrap_or_default().is_empty(),
                "book/zh/src/{} has transcripts but no English chapter",
                rel.display()
            );
            continue;
        };
        let key = |b: &Block| {
            (
                b.seed,
                b.stopped,
                b.think,
                b.steps
                    .iter()
                    .map(|s| (s.host.clone(), s.cmd.clone(), s.expected.clone()))
                    .collect::<Vec<_>>(),
            )
        };
        let en_blocks: Vec<_> =
            parse_blocks(&en_text).unwrap_or_default().iter().map(key).collect();
        let zh_blocks: Vec<_> = parse_blocks(&zh_text)
            .unwrap_or_else(|e| panic!("book/zh/src/{}: {e}", rel.display()))
            .iter()
            .map(key)
            .collect();
        assert!(
            is_subsequence(&zh_blocks, &en_blocks),
            "book/zh/src/{}: its transcripts are not the English chapter's (in order)",
            rel.display()
        );
        let run_key = |b: &RunBlock| (b.file.clone(), b.seed, b.expected.clone());
        let en_runs: Vec<_> =
            parse_run_blocks(&en_text).unwrap_or_default().iter().map(run_key).collect();
        let zh_runs: Vec<_> =
            parse_run_blocks(&zh_text).unwrap_or_default().iter().map(run_key).collect();
        assert!(
            is_subsequence(&zh_runs, &en_runs),
            "book/zh/src/{}: its scenario reports are not the English chapter's (in order)",
            rel.display()
        );
        // Other fenced blocks that show a tool's output (```text) are copied, not translated.
        let text_blocks = |t: &str| -> Vec<String> {
            let lines: Vec<&str> = t.lines().collect();
            let blocks = fenced_blocks(&lines).unwrap_or_default();
            blocks
                .into_iter()
                .filter(|b| b.2 == "text")
                .map(|(open, close, _)| lines[open + 1..close].join("\n"))
                .collect()
        };
        let (en_text_blocks, zh_text_blocks) = (text_blocks(&en_text), text_blocks(&zh_text));
        assert!(
            is_subsequence(&zh_text_blocks, &en_text_blocks),
            "book/zh/src/{}: its ```text blocks are not the English chapter's (in order)",
            rel.display()
        );
        compared += zh_blocks.len() + zh_runs.len() + zh_text_blocks.len();
    }
    eprintln!("{compared} translated sessions match the English chapters");
}

/// `small` appears in `big` in order (not necessarily contiguously).
fn is_subsequence<T: PartialEq>(small: &[T], big: &[T]) -> bool {
    let mut it = big.iter();
    small.iter().all(|x| it.any(|y| y == x))
}

#[test]
fn subsequence_keeps_order() {
    assert!(is_subsequence(&[1, 3], &[1, 2, 3]));
    assert!(!is_subsequence(&[3, 1], &[1, 2, 3]));
    assert!(!is_subsequence(&[4], &[1, 2, 3]));
    assert!(is_subsequence::<i32>(&[], &[1]));
}

/// A ```` ```lab-assign STRATEGY topics=… members=… ```` block.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AssignBlock {
    line: usize,
    strategy: String,
    topics: Vec<(String, i32)>,
    members: Vec<String>,
    expected: String,
    out: std::ops::Range<usize>,
}

fn parse_assign_blocks(text: &str) -> Result<Vec<AssignBlock>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, close, info) in fenced_blocks(&lines)? {
        let mut words = info.split_whitespace();
        if words.next() == Some("lab-assign") {
            let at = i + 1;
            let strategy = words
                .next()
                .ok_or_else(|| {
                    format!("line {at}: lab-assign needs a strategy (range, roundrobin)")
                })?
                .to_string();
            let (mut topics, mut members) = (Vec::new(), Vec::new());
            for attr in words {
                match attr.split_once('=') {
                    Some(("topics", v)) => {
                        for t in v.split(',') {
                            let (name, n) = t.split_once(':').ok_or_else(|| format!("line {at}: topic {t:?} is not NAME:PARTITIONS"))?;
                            let n: i32 = n.parse().map_err(|e| format!("line {at}: bad partition count {n:?}: {e}"))?;
                            topics.push((name.to_string(), n));
                        }
                    }
                    Some(("members", v)) => members = v.split(',').map(str::to_string).collect(),
                    _ => return Err(format!("line {at}: unknown attribute {attr:?} (known: topics=T:N,…, members=A,B,…)")),
                }
            }
            if topics.is_empty() || members.is_empty() {
                return Err(format!("line {at}: lab-assign needs topics= and members="));
            }
            let expected: String = lines[i + 1..close].iter().map(|l| format!("{l}\n")).collect();
            out.push(AssignBlock {
                line: at,
                strategy,
                topics,
                members,
                expected,
                out: i + 1..close,
            });
        }
    }
    Ok(out)
}

/// What the lab's assignor prints for a block: `member: t-p t-p` per member, in member order.
fn assignment_text(b: &AssignBlock) -> Result<String, String> {
    use sim::kafka::coordinator::assignor::assignor_named;
    use std::collections::BTreeMap;
    let assignor = assignor_named(&b.strategy)
        .ok_or_else(|| format!("unknown assignor {:?} (range, roundrobin)", b.strategy))?;
    let per_topic: BTreeMap<String, i32> = b.topics.iter().cloned().collect();
    let all: Vec<String> = b.topics.iter().map(|(t, _)| t.clone()).collect();
    let subs: BTreeMap<String, Vec<String>> =
        b.members.iter().map(|m| (m.clone(), all.clone())).collect();
    let got = assignor.assign(&per_topic, &subs);
    let mut text = String::new();
    for m in &b.members {
        let parts: Vec<String> = got
            .get(m)
            .map(|v| v.iter().map(|(t, p)| format!("{t}-{p}")).collect())
            .unwrap_or_default();
        text.push_str(&format!(
            "{m}: {}\n",
            if parts.is_empty() { "(nothing)".to_string() } else { parts.join(" ") }
        ));
    }
    Ok(text)
}

#[test]
fn every_assignment_table_in_the_book_is_what_the_assignors_compute() {
    let _files = BOOK_FILES.lock().unwrap_or_else(|e| e.into_inner());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let update = std::env::var_os("UPDATE_BOOK").is_some_and(|v| v != "0" && !v.is_empty());
    let (mut seen, mut failures) = (0, Vec::new());
    for file in &book_files(&root) {
        let name = file.strip_prefix(root.join("book")).unwrap_or(file).display().to_string();
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("reading {name}: {e}"));
        let blocks = parse_assign_blocks(&text).unwrap_or_else(|e| panic!("book/{name}: {e}"));
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let mut edits = Vec::new();
        for b in &blocks {
            seen += 1;
            let got = assignment_text(b).unwrap_or_else(|e| panic!("book/{name}:{}: {e}", b.line));
            if got != b.expected {
                failures.push(format!(
                    "book/{name}:{} ({} assignor):\n{}",
                    b.line,
                    b.strategy,
                    diff(&b.expected, &got)
                ));
                edits.push((b.out.clone(), got));
            }
        }
        if update && !edits.is_empty() {
            for (range, got) in edits.into_iter().rev() {
                lines.splice(range, got.lines().map(str::to_string));
            }
            std::fs::write(file, lines.join("\n") + "\n")
                .unwrap_or_else(|e| panic!("writing {name}: {e}"));
        }
    }
    assert!(seen > 0, "no ```lab-assign blocks in the book");
    assert!(
        update || failures.is_empty(),
        "{} assignment tables in the book differ (- book, + lab):\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn assign_blocks_compute_kafkas_reference_example() {
    let md = "```lab-assign range topics=t:7 members=C0,C1,C2\nC0: t-0 t-1 t-2\nC1: t-3 t-4\nC2: t-5 t-6\n```\n";
    let b = parse_assign_blocks(md).expect("parses");
    assert_eq!(b.len(), 1);
    assert_eq!(assignment_text(&b[0]).expect("assigns"), b[0].expected);
    // A wrong table is caught.
    let wrong = md.replace("C1: t-3 t-4\nC2: t-5 t-6", "C1: t-3 t-4 t-5\nC2: t-6");
    let w = parse_assign_blocks(&wrong).expect("parses");
    assert_ne!(assignment_text(&w[0]).expect("assigns"), w[0].expected);
    assert!(parse_assign_blocks("```lab-assign\n```\n").unwrap_err().contains("needs a strategy"));
    assert!(parse_assign_blocks("```lab-assign range topics=t members=a\n```\n")
        .unwrap_err()
        .contains("NAME:PARTITIONS"));
    assert!(assignment_text(
        &parse_assign_blocks("```lab-assign sticky topics=t:1 members=a\n```\n").expect("parses")
            [0]
    )
    .is_err());
}
