//! The guided lessons (`lessons/*.toml`): every lesson runs non-interactively in both languages,
//! in-process, and must print exactly its golden transcript (`tests/golden/lessons/ID.LANG.txt`).
//!
//! After a deliberate change to the simulator or a lesson,
//! `UPDATE_BOOK=1 cargo test -p lab-tests --test lessons` rewrites the golden files; review the
//! diff before committing (a question's observed answer changing is a change in behaviour).

use sim::lesson::{Catalog, Lang, RunOptions, Transcript};
use std::path::{Path, PathBuf};

/// The ids the book and the other parts of the course use, in the seed's order.
const IDS: [&str; 10] = [
    "zk-install",
    "zk-data-model",
    "kafka-install",
    "partitions-keys",
    "replication-acks",
    "failover-unclean",
    "consumer-groups",
    "offsets-semantics",
    "zero-copy",
    "retention-replay",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn catalog() -> Catalog {
    let root = root();
    let dir = root.join("lessons");
    let mut files = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
        let p = e.expect("dir entry").path();
        if p.extension().is_some_and(|x| x == "toml") {
            let name = p.file_name().expect("file name").to_string_lossy().into_owned();
            files.push((
                name,
                std::fs::read_to_string(&p)
                    .unwrap_or_else(|e| panic!("reading {}: {e}", p.display())),
            ));
        }
    }
    let read = |p: &str| std::fs::read_to_string(root.join(p)).map_err(|e| e.to_string());
    Catalog::load(files, &read).unwrap_or_else(|e| panic!("lessons/{e}"))
}

#[test]
fn the_list_shows_the_ten_lessons_in_order_in_both_languages() {
    let c = catalog();
    let ids: Vec<&str> = c.lessons.iter().map(|l| l.id.as_str()).collect();
    assert!(ids.len() >= 10, "{ids:?}");
    assert_eq!(&ids[..10], &IDS);
    for lang in [Lang::En, Lang::Zh] {
        let list = c.list(lang);
        let rows: Vec<&str> = list
            .lines()
            .filter(|l| l.trim_start().chars().next().is_some_and(|c| c.is_ascii_digit()))
            .collect();
        assert!(rows.len() >= 10, "{list}");
        for (i, id) in IDS.iter().enumerate() {
            let title = c.lessons[i].title.get(lang);
            assert!(
                rows[i].starts_with(&format!("{:>2}. {id}", i + 1)) && rows[i].ends_with(title),
                "{lang:?}: {}",
                rows[i]
            );
        }
    }
    // The Chinese titles are Chinese, not copies of the English ones.
    assert!(c.lessons.iter().all(|l| l.title.zh != l.title.en && l.intro.zh != l.intro.en));
}

fn golden_path(id: &str, lang: Lang) -> PathBuf {
    root().join("tests/golden/lessons").join(format!("{id}.{}.txt", lang.code()))
}

/// Line-by-line differences, at most `max` of them.
fn diff(expected: &str, actual: &str, max: usize) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let mut out = String::new();
    let mut shown = 0;
    for k in 0..e.len().max(a.len()) {
        if e.get(k) != a.get(k) {
            out.push_str(&format!(
                "  line {}:\n    - {}\n    + {}\n",
                k + 1,
                e.get(k).unwrap_or(&"<none>"),
                a.get(k).unwrap_or(&"<none>")
            ));
            shown += 1;
            if shown == max {
                out.push_str("  …\n");
                break;
            }
        }
    }
    out
}

#[test]
fn every_lesson_runs_non_interactively_and_matches_its_golden_transcript() {
    let c = catalog();
    let update = std::env::var_os("UPDATE_BOOK").is_some_and(|v| v != "0" && !v.is_empty());
    let jobs: Vec<(usize, Lang)> =
        (0..c.lessons.len()).flat_map(|i| [(i, Lang::En), (i, Lang::Zh)]).collect();
    // Two lessons at a time: each run is its own simulation on its own thread.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(&(i, lang)) = jobs.get(k) else { break };
                let lesson = &c.lessons[i];
                let mut t = Transcript::default();
                let r = sim::lesson::run(lesson, &RunOptions { lang, seed: None }, &mut t)
                    .map(|()| t.text);
                results.lock().unwrap_or_else(|e| e.into_inner()).push((
                    lesson.id.clone(),
                    lang,
                    r,
                ));
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by(|a, b| (a.0.as_str(), a.1.code()).cmp(&(b.0.as_str(), b.1.code())));
    let mut failures = Vec::new();
    for (id, lang, r) in results {
        let text = match r {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{id} ({}): the run failed: {e}", lang.code()));
                continue;
            }
        };
        let path = golden_path(&id, lang);
        if update {
            std::fs::create_dir_all(path.parent().expect("parent")).expect("golden dir");
            std::fs::write(&path, &text)
                .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_BOOK=1 writes it)", path.display()));
        if want != text {
            failures.push(format!(
                "{id} ({}): differs from {} (- golden, + now):\n{}",
                lang.code(),
                path.display(),
                diff(&want, &text, 12)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\nIf the change is intended: UPDATE_BOOK=1 cargo test -p lab-tests --test lessons, then review the diff.",
        failures.join("\n")
    );
}

#[test]
fn golden_transcripts_answer_every_question_from_the_run() {
    // Every question of every lesson is followed by its observed answer in the golden files, in
    // both languages: nothing is left unanswered.
    let c = catalog();
    for l in &c.lessons {
        let questions = l.steps.iter().filter(|s| s.question.is_some()).count();
        assert!(questions >= 1, "{}: a lesson with no question", l.id);
        let markers = [
            (
                Lang::En,
                ["= Observed (from the trace): ", "= Measured (from the simulated counters): "],
            ),
            (Lang::Zh, ["= 观察结果（来自 trace）：", "= 测量结果（来自模拟计数器）："]),
        ];
        for (lang, marker) in markers {
            let Ok(text) = std::fs::read_to_string(golden_path(&l.id, lang)) else { continue };
            let answered: usize = marker.iter().map(|m| text.matches(m).count()).sum();
            assert_eq!(answered, questions, "{} ({})", l.id, lang.code());
        }
    }
}
