//! `lab run --svg` and `lab report` as a user runs them: the pictures land on disk, and the HTML
//! report opens in headless Chromium without console errors (when a Chromium is installed;
//! otherwise the browser part is skipped with a notice).

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn lab(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_lab"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("lab runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lab-viz-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn run_svg_writes_every_picture_of_a_group_scenario() {
    let dir = tmp("svg");
    let d = dir.to_string_lossy().into_owned();
    let (out, err, code) =
        lab(&["run", "scenarios/queue-vs-broadcast.toml", "--seed", "1", "--svg", &d]);
    assert_eq!(code, 0, "{out}{err}");
    for f in [
        "spacetime.svg",
        "partition-log-events-0.svg",
        "partition-log-events-3.svg",
        "groups.svg",
        "groups-rate.svg",
        "zk.svg",
    ] {
        let text = std::fs::read_to_string(dir.join(f)).unwrap_or_default();
        assert!(text.contains("<svg") && text.contains("</svg>"), "{f} written: {err}");
    }
    assert!(err.contains("wrote 8 figures"), "{err}");
    assert!(out.contains("each_group_sees_all"), "the report is printed as without --svg");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_html_report_has_every_view_and_renders_in_headless_chromium() {
    let dir = tmp("report");
    let d = dir.to_string_lossy().into_owned();
    let (out, err, code) =
        lab(&["report", "scenarios/queue-vs-broadcast.toml", "--seed", "1", "-o", &d]);
    assert_eq!(code, 0, "{out}{err}");
    let html = std::fs::read_to_string(dir.join("index.html")).expect("index.html");
    for h in [
        "Space-time diagram",
        "Partition log: events-0",
        "Consumer groups: partition ownership",
        "Consumer groups: records per member",
        "ZooKeeper: elections",
    ] {
        assert!(html.contains(h), "{h} in the report");
    }
    assert!(
        !html.contains("src=\"http") && !html.contains("<script"),
        "self-contained, no scripts"
    );
    let script = root().join("scripts/check-report-chromium.sh");
    let shot = dir.join("shot.png");
    let o = Command::new("bash")
        .arg(&script)
        .arg(&dir)
        .arg(&shot)
        .output()
        .expect("bash runs the script");
    let (so, se) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    match o.status.code() {
        Some(77) => eprintln!("NOTICE: headless Chromium check skipped: {se}"),
        Some(0) => assert!(
            std::fs::metadata(&shot).map(|m| m.len() > 10_000).unwrap_or(false),
            "a screenshot: {so}"
        ),
        c => panic!("the report failed in Chromium ({c:?}):\n{so}\n{se}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_chromium_script_fails_on_a_page_that_fetches_from_the_network() {
    let dir = tmp("bad");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><html><body><img src=\"https://example.com/x.png\"></body></html>",
    )
    .expect("page");
    let o = Command::new("bash")
        .arg(root().join("scripts/check-report-chromium.sh"))
        .arg(&dir)
        .output()
        .expect("bash runs the script");
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    // A script error is a console error (checked when a browser is installed).
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><html><body><p>x</p><script>undefinedFn()</script></body></html>",
    )
    .expect("page");
    let o = Command::new("bash")
        .arg(root().join("scripts/check-report-chromium.sh"))
        .arg(&dir)
        .output()
        .expect("bash runs the script");
    match o.status.code() {
        Some(77) => eprintln!("NOTICE: headless Chromium check skipped (no browser)"),
        c => assert_eq!(
            c,
            Some(1),
            "a console error fails the check: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
    }
    // A missing report directory is a usage error.
    let o = Command::new("bash")
        .arg(root().join("scripts/check-report-chromium.sh"))
        .arg(dir.join("nope"))
        .output()
        .expect("bash");
    assert_eq!(o.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
