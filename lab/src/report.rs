//! `lab report FILE --seed N -o DIR`: one self-contained HTML page for a scenario run — its
//! checks and metrics, the pictures drawn from its trace (inline SVG, no network fetches: the
//! space-time diagram, partition logs, consumer groups and ZooKeeper views of
//! `crate::plot::scenario_figures`) and the line that replays it — plus the trace itself and its Perfetto export beside it.

use anyhow::{Context, Result};
use std::fmt::Write as _;

/// Runs the scenario once and writes `DIR/index.html`, `DIR/trace.jsonl`, `DIR/perfetto.json`.
pub fn report(file: &str, seed: u64, dir: &str) -> Result<i32> {
    let sc = crate::run::load(file)?;
    let started = std::time::Instant::now();
    let (mut r, trace) = sim::scenario::run_traced(&sc, seed);
    r.wall_ms = Some(started.elapsed().as_millis() as u64);
    let events = viz::parse_jsonl(&trace)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {dir}"))?;
    let path = |name: &str| std::path::Path::new(dir).join(name);
    std::fs::write(path("trace.jsonl"), &trace).context("writing trace.jsonl")?;
    std::fs::write(path("perfetto.json"), serde_json::to_string(&viz::perfetto::export(&events))?)
        .context("writing perfetto.json")?;

    let figures: Vec<(String, String)> = crate::plot::scenario_figures(&sc, &events)
        .into_iter()
        .map(|(title, _, svg)| (title, svg))
        .collect();

    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{name} seed {seed}</title>\n<style>body{{font-family:sans-serif;max-width:1400px;margin:2em auto;padding:0 1em}}\
         .pass{{color:#2e7d32}}.fail{{color:#c62828}}td,th{{padding:2px 8px;text-align:left;vertical-align:top}}pre{{background:#f5f5f5;padding:8px;white-space:pre-wrap}}\
         figure{{overflow-x:auto;margin:1em 0}}</style></head><body>\n<h1>{name}, seed {seed}</h1>\n<pre>{about}</pre>\n<p>Replay: <code>lab run {file} --seed {seed}</code> \
         &middot; {virt:.1} s of virtual time in {wall} ms &middot; trace hash <code>{hash}</code></p>\n<h2>Checks</h2>\n<table><tr><th>check</th><th>expected</th><th>verdict</th><th>detail</th></tr>\n",
        name = esc(&r.scenario),
        about = esc(sc.about.trim()),
        file = esc(file),
        virt = r.virtual_ms as f64 / 1000.0,
        wall = r.wall_ms.unwrap_or(0),
        hash = r.trace_hash,
    );
    for c in &r.checks {
        let class = if c.met() { "pass" } else { "fail" };
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td class=\"{class}\">{}{}</td><td>{}</td></tr>",
            esc(&c.name),
            c.expect,
            if c.ok { "PASS" } else { "FAIL" },
            if c.met() { "" } else { " (unexpected)" },
            esc(&c.detail)
        );
    }
    html.push_str("</table>\n<h2>Metrics</h2>\n<table>\n");
    for (k, v) in &r.metrics {
        let _ = writeln!(html, "<tr><td>{}</td><td>{}</td></tr>", esc(k), esc(&v.to_string()));
    }
    html.push_str("</table>\n");
    for (title, svg) in &figures {
        let body = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
        let _ = write!(html, "<h2>{}</h2>\n<figure>{body}</figure>\n", esc(title));
    }
    html.push_str("<h2>Files</h2>\n<p><a href=\"trace.jsonl\">trace.jsonl</a> (every protocol step) &middot; <a href=\"perfetto.json\">perfetto.json</a> \
                   (open in ui.perfetto.dev or chrome://tracing)</p>\n<h2>Transcript</h2>\n<pre>");
    html.push_str(&esc(&r.transcript));
    html.push_str("</pre>\n</body></html>\n");
    std::fs::write(path("index.html"), html).context("writing index.html")?;
    println!("wrote {dir}/index.html ({} figures), trace.jsonl, perfetto.json", figures.len());
    Ok(if r.passed() { 0 } else { 1 })
}
