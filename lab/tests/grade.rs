//! `lab grade`: the starters fail with their todo!() messages (exit 1, one JSON object per line),
//! the reference solutions pass (exit 0), and an unknown exercise is an error (exit 2).

use std::process::Command;

fn lab(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lab")).args(args).output().expect("run lab");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const NAMES: [&str; 6] = [
    "fle-vote-order",
    "zk-lock-recipe",
    "murmur2-partitioner",
    "high-watermark",
    "controller-leader-election",
    "range-assignor",
];

#[test]
fn starters_fail_with_a_clear_message_as_json_lines() {
    let (code, out, err) = lab(&["grade", "--json", "--quick"]);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let names: Vec<&str> = lines.iter().filter_map(|v| v["name"].as_str()).collect();
    assert_eq!(names, NAMES, "{out}\n{err}");
    // A fork where someone solved an exercise may pass it; a fresh checkout fails all six.
    for v in &lines {
        if v["passed"] == false {
            assert_eq!(v["score"], 0, "{v}");
            let first = v["failures"][0].as_str().unwrap_or_default();
            assert!(first.starts_with("not implemented yet: "), "{v}");
        }
    }
    if lines.iter().any(|v| v["passed"] == false) {
        assert_eq!(code, 1);
    }
}

#[test]
fn reference_solutions_pass() {
    for name in ["murmur2-partitioner", "fle-vote-order"] {
        let (code, out, err) = lab(&["grade", name, "--reference", "--quick"]);
        assert_eq!(code, 0, "{out}\n{err}");
        assert!(out.starts_with(&format!("{name} — PASSED (score 100/100")), "{out}");
        assert!(out.contains("  ✓ "), "{out}");
    }
}

#[test]
fn unknown_exercise_is_an_error() {
    let (code, out, err) = lab(&["grade", "nope"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("no exercise named 'nope'; the exercises are: fle-vote-order, zk-lock-recipe"),
        "{err}"
    );
}
