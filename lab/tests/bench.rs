//! `lab bench`: the simulated zero-copy bench shows its ratios, the host bench runs, bad flags exit 2.

use std::process::Command;

fn lab(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lab")).args(args).output().expect("run lab");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The ratio printed on the read+write row that follows the sendfile row of `regime` with
/// `consumers` consumers and no TLS.
fn ratio(out: &str, regime: &str, consumers: u32) -> f64 {
    let lines: Vec<&str> = out.lines().collect();
    let i = lines
        .iter()
        .position(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.first() == Some(&regime)
                && w.get(1) == Some(&consumers.to_string().as_str())
                && w.get(3) == Some(&"-")
        })
        .unwrap_or_else(|| panic!("no {regime} row with {consumers} consumers in\n{out}"));
    let rw = lines[i + 1];
    assert!(rw.contains("readwrite"), "{rw}");
    rw.split_whitespace()
        .filter_map(|w| w.strip_suffix('x'))
        .find_map(|w| w.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no ratio in {rw}"))
}

#[test]
fn zerocopy_quick_shows_when_zero_copy_matters() {
    let (code, out, err) = lab(&["bench", "zerocopy", "--quick", "--consumers", "8"]);
    assert_eq!(code, 0, "{err}");
    // Many consumers on cached data with the network out of the way: CPU-bound, sendfile wins.
    let cpu = ratio(&out, "cpu-bound", 8);
    assert!(cpu > 1.5, "cpu-bound ratio {cpu}\n{out}");
    // The same on 1 GbE: the NIC is full either way.
    let net = ratio(&out, "network-bound", 8);
    assert!((0.95..1.05).contains(&net), "network-bound ratio {net}\n{out}");
    // Cold reads: the disk decides.
    let disk = ratio(&out, "disk-bound", 4);
    assert!((0.95..1.05).contains(&disk), "disk-bound ratio {disk}\n{out}");
    // TLS takes the advantage away.
    let tls_row = out
        .lines()
        .position(|l| l.starts_with("cpu-bound") && l.split_whitespace().nth(3) == Some("yes"))
        .expect("tls row");
    let tls: f64 = out
        .lines()
        .nth(tls_row + 1)
        .and_then(|l| l.split_whitespace().find_map(|w| w.strip_suffix('x')?.parse().ok()))
        .expect("tls ratio");
    assert!((0.99..1.01).contains(&tls), "tls ratio {tls}");
    let words = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("not \"tens of thousands of times\" faster"), "{out}");
}

#[test]
fn zerocopy_is_deterministic_and_writes_a_chart() {
    let dir = std::env::temp_dir().join(format!("lab-bench-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let svg = dir.join("zc.svg");
    let svg_s = svg.to_string_lossy().into_owned();
    let args = [
        "bench",
        "zerocopy",
        "--quick",
        "--consumers",
        "2",
        "--profile",
        "laptop-2024",
        "--svg",
        svg_s.as_str(),
    ];
    let (code, a, err) = lab(&args);
    assert_eq!(code, 0, "{err}");
    let (_, b, _) = lab(&args);
    // Everything but the wall-time column is virtual and must repeat exactly.
    let strip = |s: &str| {
        s.lines().map(|l| l.rsplit_once(' ').map_or(l, |x| x.0).to_string()).collect::<Vec<_>>()
    };
    assert_eq!(strip(&a), strip(&b));
    let text = std::fs::read_to_string(&svg).expect("svg written");
    assert!(
        text.starts_with("<svg") && text.contains("sendfile") && text.contains("read+write"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_flags_exit_2_with_a_clear_error() {
    let (code, _, err) = lab(&["bench", "zerocopy", "--profile", "mainframe-1970"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown hardware profile `mainframe-1970`"), "{err}");
    let (code, _, err) = lab(&["bench", "zerocopy", "--sizes", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("bad size"), "{err}");
    let (code, _, err) = lab(&["bench", "zerocopy", "--consumers", "x"]);
    assert_eq!(code, 2);
    assert!(err.contains("bad consumer count"), "{err}");
    let (code, _, err) = lab(&["bench", "host-zerocopy", "--sizes", "1Q"]);
    assert_eq!(code, 2);
    assert!(err.contains("bad size"), "{err}");
    let (code, _, _) = lab(&["bench", "nope"]);
    assert_eq!(code, 2);
}

#[cfg(target_os = "linux")]
#[test]
fn host_zerocopy_smoke() {
    let (code, out, err) = lab(&[
        "bench",
        "host-zerocopy",
        "--sizes",
        "4K,64K",
        "--max-bytes",
        "1M",
        "--max-secs",
        "0.05",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("REAL measurement"), "{out}");
    let rows = |method: &str| {
        out.lines()
            .filter(|l| l.split_whitespace().any(|w| w == method) && !l.contains('='))
            .count()
    };
    assert_eq!(rows("sendfile"), 2, "{out}");
    assert_eq!(rows("read+write"), 2, "{out}");
}

/// Producer records/s of the row named `name`.
fn produce_rate(out: &str, name: &str) -> f64 {
    let line = out
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no row {name} in\n{out}"));
    line[name.len()..]
        .split_whitespace()
        .next()
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no rate in {line}"))
}

#[test]
fn throughput_small_run_orders_the_replication_modes() {
    let (code, out, err) = lab(&[
        "bench",
        "throughput",
        "--num-records",
        "5000",
        "--sizes",
        "none",
        "--only",
        "1 producer",
    ]);
    assert_eq!(code, 0, "{err}");
    let none = produce_rate(&out, "1 producer, no replication");
    let async3 = produce_rate(&out, "1 producer, 3x async (acks=1)");
    let sync3 = produce_rate(&out, "1 producer, 3x sync (acks=all)");
    // Waiting for the followers costs throughput; replicating at all costs NIC capacity.
    assert!(none > async3 && async3 > sync3, "{none} {async3} {sync3}\n{out}");
    let (code, _, err) = lab(&["bench", "throughput", "--producer-props", "acks=2"]);
    assert_eq!(code, 2);
    assert!(err.contains("acks must be 0, 1, all or -1"), "{err}");
    let (code, _, err) = lab(&["bench", "throughput", "--producer-props", "linger.ms=5"]);
    assert_eq!(code, 2);
    assert!(err.contains("unsupported property `linger.ms`"), "{err}");
    let (code, _, err) = lab(&["bench", "throughput", "--only", "nothing-like-this"]);
    assert_eq!(code, 2);
    assert!(err.contains("no experiment"), "{err}");
}

/// Drops the wall-time column (the only real-time number) from a bench table line.
fn without_wall(line: &str) -> String {
    let t = line.trim_end();
    match t.rsplit_once(char::is_whitespace) {
        Some((head, last))
            if last == "wall"
                || (last.ends_with('s') && last[..last.len() - 1].parse::<f64>().is_ok()) =>
        {
            head.trim_end().to_string()
        }
        _ => t.to_string(),
    }
}

#[test]
fn the_book_shows_what_the_quick_bench_prints() {
    let book =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../book/src/zero-copy.md"))
            .expect("book page");
    let start = book.find("$ lab bench zerocopy --quick\n").expect("the quick run is in the book")
        + "$ lab bench zerocopy --quick\n".len();
    let block = &book[start..start + book[start..].find("```").expect("block end")];
    let svg = std::env::temp_dir().join(format!("lab-book-zc-{}.svg", std::process::id()));
    let svg_s = svg.to_string_lossy().into_owned();
    let (code, out, err) = lab(&["bench", "zerocopy", "--quick", "--svg", svg_s.as_str()]);
    assert_eq!(code, 0, "{err}");
    let trimmed = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("Chart written to"))
            .map(without_wall)
            .collect::<Vec<_>>()
            .join("\n")
            .trim_end()
            .to_string()
    };
    let (printed, shown) = (trimmed(&out), trimmed(block));
    let drawn = std::fs::read_to_string(&svg).expect("chart");
    if std::env::var_os("UPDATE_BOOK").is_some() {
        // As the book's other checks do: rewrite the block and the chart from this run.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../book/src/zero-copy.md");
        std::fs::write(
            path,
            format!("{}{printed}\n{}", &book[..start], &book[start + block.len()..]),
        )
        .expect("write book page");
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../book/src/img/zero-copy-quick.svg"),
            &drawn,
        )
        .expect("write chart");
        let _ = std::fs::remove_file(&svg);
        return;
    }
    assert_eq!(shown, printed, "book/src/zero-copy.md is out of date: paste `lab bench zerocopy --quick` without the wall column");
    let _ = std::fs::remove_file(&svg);
    let in_book = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../book/src/img/zero-copy-quick.svg"
    ))
    .expect("book chart");
    assert!(drawn == in_book, "book/src/img/zero-copy-quick.svg is out of date: lab bench zerocopy --quick --svg book/src/img/zero-copy-quick.svg");
}

#[test]
fn zerocopy_json_is_machine_readable() {
    let (code, out, err) = lab(&["bench", "zerocopy", "--quick", "--consumers", "8", "--json"]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).expect("stdout is one JSON document");
    assert_eq!(j["profile"], "commodity-2014");
    let cases = j["cases"].as_array().expect("cases");
    assert!(cases.len() >= 8 && cases.len().is_multiple_of(2), "{out}");
    let comparisons = j["comparisons"].as_array().expect("comparisons");
    assert_eq!(comparisons.len(), cases.len() / 2);
    let cpu = comparisons
        .iter()
        .find(|c| c["regime"] == "cpu-bound" && c["consumers"] == 8 && c["tls"] == false)
        .expect("cpu-bound pair");
    assert!((cpu["copies_per_byte_saved"].as_f64().expect("number") - 2.0).abs() < 0.01, "{cpu}");
    assert!(cpu["throughput_ratio"].as_f64().expect("number") > 1.5, "{cpu}");
    assert!(cpu["predicted_throughput_ratio"].as_f64().expect("number") > 2.0, "{cpu}");
    let disk = comparisons.iter().find(|c| c["regime"] == "disk-bound").expect("disk-bound pair");
    assert!((disk["throughput_ratio"].as_f64().expect("number") - 1.0).abs() < 0.05, "{disk}");
}

#[test]
fn sim_speed_reports_counts_memory_and_a_repeatable_hash() {
    // The same settings twice (the speed run and the memory run): the hashes must agree. Wall
    // time is printed but not asserted: performance is measured by the bench, not by tests.
    let (code, out, err) = lab(&[
        "bench",
        "sim-speed",
        "--seconds",
        "1",
        "--rate",
        "1000",
        "--memory-records",
        "1000",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).expect("stdout is one JSON document");
    for run in ["speed", "memory"] {
        assert_eq!(j[run]["records_acked"], 1000, "{out}");
        assert_eq!(j[run]["records_consumed"], serde_json::json!([1000, 1000]), "{out}");
        assert_eq!(j[run]["messages"], 3000, "{out}");
        assert!(j[run]["compression"].as_f64().expect("number") > 0.0, "{out}");
    }
    assert_eq!(j["speed"]["trace_hash"], j["memory"]["trace_hash"], "{out}");
    assert_eq!(j["memory"]["payload_bytes"], 100_000);
    #[cfg(target_os = "linux")]
    assert!(j["memory"]["peak_rss_bytes"].as_u64().expect("VmHWM read") > 1_000_000, "{out}");
    let (code, _, err) = lab(&["bench", "sim-speed", "--rate", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("--rate must be"), "{err}");
}

#[test]
fn the_why_kafka_is_fast_chapter_shows_what_the_bench_prints() {
    let cmd = "$ lab bench throughput --num-records 20000 --only size --sizes 10,100,10K\n";
    let book = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../book/src/why-kafka-is-fast.md"
    ))
    .expect("book page");
    let start = book.find(cmd).expect("the size sweep is in the book") + cmd.len();
    let block = &book[start..start + book[start..].find("```").expect("block end")];
    let (code, out, err) = lab(&[
        "bench",
        "throughput",
        "--num-records",
        "20000",
        "--only",
        "size",
        "--sizes",
        "10,100,10K",
    ]);
    assert_eq!(code, 0, "{err}");
    let trimmed =
        |s: &str| s.lines().map(without_wall).collect::<Vec<_>>().join("\n").trim_end().to_string();
    if std::env::var_os("UPDATE_BOOK").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../book/src/why-kafka-is-fast.md");
        std::fs::write(
            path,
            format!("{}{}\n{}", &book[..start], trimmed(&out), &book[start + block.len()..]),
        )
        .expect("write book page");
        return;
    }
    assert_eq!(trimmed(block), trimmed(&out), "book/src/why-kafka-is-fast.md is out of date: paste the command's output without the wall column");
    // The acceptance of the issue, on the same run: batching multiplies small-record rates.
    let rate = |name: &str| produce_rate(&out, name);
    assert!(rate("size 100 B, batch 50") > 5.0 * rate("size 100 B, batch 1"), "{out}");
    assert!(
        rate("size 100 B, batch 50") > 100_000.0 && rate("size 100 B, batch 50") < 1_000_000.0,
        "{out}"
    );
}
