//! `lab run` and `lab sweep` as a user runs them: JSON shape and exit codes.

use std::process::Command;

fn lab(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_lab")).args(args).output().expect("lab runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn write(name: &str, text: &str) -> String {
    let p = std::env::temp_dir().join(format!("lab-run-{}-{name}", std::process::id()));
    std::fs::write(&p, text).expect("write");
    p.to_string_lossy().into_owned()
}

const SMALL: &str = "# A small scenario.\n[[topic]]\nname = \"t\"\nreplication_factor = 3\n\
    [[workload]]\nkind = \"producer\"\ntopic = \"t\"\nrate = 20\nacks = \"all\"\nhost = \"slave1\"\n\
    [[check]]\nname = \"single_leader_per_epoch\"\nexpect = \"pass\"\n[run]\nduration = \"3s\"\nsettle = \"2s\"\n";

#[test]
fn run_json_has_the_contract_shape_and_exit_0() {
    let f = write("small.toml", SMALL);
    let (out, err, code) = lab(&["run", &f, "--seed", "2", "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.lines().count(), 1, "exactly one JSON object: {out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    for k in ["scenario", "seed", "virtual_ms", "wall_ms", "checks", "metrics", "trace_hash"] {
        assert!(v.get(k).is_some(), "{k} in {out}");
    }
    assert_eq!(v["seed"], 2);
    let c = &v["checks"][0];
    assert_eq!(c["name"], "single_leader_per_epoch");
    assert_eq!(c["ok"], true);
    assert_eq!(c["expect"], "pass");
    assert!(c["detail"].is_string());
    assert!(v["metrics"]["messages_acked"].as_u64().unwrap_or(0) > 0, "{out}");
    let (out2, _, _) = lab(&["run", &f, "--seed", "2", "--json"]);
    let v2: serde_json::Value = serde_json::from_str(&out2).expect("json");
    assert_eq!(v["trace_hash"], v2["trace_hash"]);
}

#[test]
fn an_unmet_expectation_exits_1_and_prints_the_replay_line() {
    let f = write("unmet.toml", &SMALL.replace("expect = \"pass\"", "expect = \"fail\""));
    let (out, _, code) = lab(&["run", &f, "--seed", "1"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("PASS (expected fail) single_leader_per_epoch"), "{out}");
    assert!(out.contains(&format!("lab run {f} --seed 1")), "{out}");
}

#[test]
fn a_bad_file_exits_2_with_file_line_column() {
    let f = write("bad.toml", "[run]\nduration = \"soon\"\n");
    let (out, err, code) = lab(&["run", &f, "--seed", "1"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.starts_with(&format!("lab: {f}:2:12: ")), "{err}");
    let (_, err, code) = lab(&["run", "/nonexistent/x.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("reading /nonexistent/x.toml"), "{err}");
}

#[test]
fn trace_file_is_written() {
    let f = write("trace.toml", SMALL);
    let t = std::env::temp_dir().join(format!("lab-run-{}-trace.jsonl", std::process::id()));
    let (_, _, code) = lab(&["run", &f, "--trace", t.to_str().unwrap_or_default()]);
    assert_eq!(code, 0);
    let text = std::fs::read_to_string(&t).expect("trace written");
    assert!(text.lines().any(|l| l.contains("\"kind\":\"scenario.start\"")));
}

#[test]
fn sweep_counts_failures_the_same_for_any_jobs() {
    let f = write("sweep.toml", &SMALL.replace("expect = \"pass\"", "expect = \"fail\""));
    let (a, _, code) = lab(&["sweep", &f, "--seeds", "3..7", "--jobs", "1", "--json"]);
    assert_eq!(code, 1, "{a}");
    let (b, _, _) = lab(&["sweep", &f, "--seeds", "3..7", "--jobs", "3", "--json"]);
    assert_eq!(a, b, "results do not depend on --jobs");
    let v: serde_json::Value = serde_json::from_str(&a).expect("json");
    assert_eq!(v["seeds"], 4);
    assert_eq!(v["failures"]["single_leader_per_epoch"], 4);
    assert_eq!(v["first_failing_seed"]["single_leader_per_epoch"], 3);
    let (human, _, _) = lab(&["sweep", &f, "--seeds", "3..=4"]);
    assert!(human.contains(&format!("lab run {f} --seed 3")), "{human}");
    let ok = write("sweep-ok.toml", SMALL);
    let (out, _, code) = lab(&["sweep", &ok, "--seeds", "1..3", "--json"]);
    assert_eq!(code, 0, "{out}");
    let (_, err, code) = lab(&["sweep", &ok, "--seeds", "5..5"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn plot_export_and_report_write_their_files_and_reject_bad_input() {
    let f = write("pics.toml", SMALL);
    let dir = std::env::temp_dir().join(format!("lab-report-{}", std::process::id()));
    let d = dir.to_string_lossy().into_owned();
    let (out, err, code) = lab(&["report", &f, "--seed", "1", "-o", &d]);
    assert_eq!(code, 0, "{out}{err}");
    let html = std::fs::read_to_string(dir.join("index.html")).expect("index.html");
    assert!(
        html.contains("<svg")
            && html.contains("single_leader_per_epoch")
            && html.contains("--seed 1"),
        "figures, checks, replay line"
    );
    assert!(
        !html.contains("<script") && !html.contains("src=\"http"),
        "self-contained: nothing fetched"
    );
    assert!(dir.join("trace.jsonl").exists() && dir.join("perfetto.json").exists());

    let svg = dir.join("log.svg").to_string_lossy().into_owned();
    let (_, err, code) =
        lab(&["plot", "partition-log", "--scenario", &f, "--topic", "t", "-o", &svg]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read_to_string(&svg).expect("svg").starts_with("<svg"));
    let st = dir.join("st.svg").to_string_lossy().into_owned();
    let trace = dir.join("trace.jsonl").to_string_lossy().into_owned();
    assert_eq!(lab(&["plot", "spacetime", "--trace", &trace, "--window", "0..3", "-o", &st]).2, 0);
    let pf = dir.join("p.json").to_string_lossy().into_owned();
    assert_eq!(lab(&["trace", "export", "--trace", &trace, "-o", &pf]).2, 0);

    for bad in [
        vec!["plot", "spacetime", "--trace", &trace, "--window", "3..x", "-o", &st],
        vec!["plot", "partition-log", "--trace", &trace, "--offsets", "9..2", "-o", &svg],
        vec!["plot", "partition-log", "-o", &svg],
        vec!["trace", "export", "--trace", &trace, "--format", "svg", "-o", &pf],
        vec!["trace", "export", "--trace", &f, "-o", &pf],
    ] {
        let (_, err, code) = lab(&bad);
        assert_eq!(code, 2, "{bad:?}: {err}");
        assert!(err.starts_with("lab: "), "{bad:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
