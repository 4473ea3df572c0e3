//! Helpers shared by the cross-crate tests: run a shell script on a fresh simulated cluster.

use sim::shell::Shell;
use sim::world::{ProcCtx, Sim, World, WorldConfig};
use sim::zk::client::ZooKeeper;
use sim::zk::txn::ZkError;
use std::time::Duration;

/// Output of one run of a shell script, with its trace hash.
pub struct Run {
    /// Everything the script printed.
    pub output: String,
    /// Per line: (line, its output, its exit code).
    pub steps: Vec<(String, String, i32)>,
    /// Hash (XXH3-128) of the trace.
    pub trace_hash: String,
    /// The trace as JSONL.
    pub trace: String,
}

impl Run {
    /// Output of the n-th line that equals `line` (0-based among equal lines).
    pub fn output_of(&self, line: &str, nth: usize) -> &str {
        self.steps
            .iter()
            .filter(|(l, _, _)| l == line)
            .nth(nth)
            .map(|(_, o, _)| o.as_str())
            .unwrap_or("")
    }
}

/// Runs `script` (one command per line) on the seed's cluster with ZooKeeper started
/// (`start = true`) or only installed.
pub fn run_script(seed: u64, start: bool, script: &str) -> Run {
    Sim::new(sim::seeded(seed)).run(|world| async move {
        let mut sh = Shell::new(world.clone());
        sh.boot_cluster(start).await;
        let mut steps = Vec::new();
        let mut output = String::new();
        for line in script.lines() {
            let code = sh.exec_line(line).await;
            let out = sh.take_output();
            output.push_str(&out);
            steps.push((line.to_string(), out, code));
        }
        Run { output, steps, trace_hash: world.tracer().hash(), trace: world.tracer().to_jsonl() }
    })
}

/// The seed's three hosts plus a `client` host that runs no server: test programs live there,
/// so crashing a server host never kills the test's own client.
pub fn client_world(seed: u64) -> WorldConfig {
    let mut cfg = sim::seeded(seed);
    cfg.hosts.push(sim::world::HostSpec { name: "client".into(), ip: "192.168.1.200".into() });
    cfg
}

/// A shell with ZooKeeper running and no think time between lines.
pub async fn booted_shell(world: &World) -> Shell {
    let mut sh = Shell::new(world.clone());
    sh.think_time = Duration::ZERO;
    sh.boot_cluster(true).await;
    sh
}

/// The seed's three ZooKeeper servers as a client's server list.
pub fn zk_servers() -> Vec<(String, u16)> {
    ["master", "slave1", "slave2"].iter().map(|h| (h.to_string(), 2181)).collect()
}

/// Runs `f` as a process on the `client` host (which the caller adds) and waits for its result.
pub async fn in_process<T: Send + 'static, F>(
    world: &World,
    f: impl FnOnce(ProcCtx) -> F,
) -> Option<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
{
    let (tx, rx) = futures::channel::oneshot::channel();
    world
        .spawn("client", "Checker", move |ctx| {
            let fut = f(ctx);
            async move {
                let _ = tx.send(fut.await);
            }
        })
        .ok()?;
    rx.await.ok()
}

/// Every znode as (path, data), read through one server only.
pub async fn dump_tree(ctx: &ProcCtx, server: &str) -> Result<Vec<(String, Vec<u8>)>, ZkError> {
    let zk = ZooKeeper::new(ctx, vec![(server.to_string(), 2181)], Duration::from_secs(10));
    let mut out = Vec::new();
    let mut stack = vec!["/".to_string()];
    while let Some(p) = stack.pop() {
        let (data, _) = zk.get_data(&p, false).await?;
        out.push((p.clone(), data));
        for c in zk.get_children(&p, false).await? {
            stack.push(if p == "/" { format!("/{c}") } else { format!("{p}/{c}") });
        }
    }
    out.sort();
    zk.close().await;
    Ok(out)
}

/// Every Markdown file under `dir`, depth first in path order, appended to `found` (for the
/// book's checks).
pub fn markdown_files(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            markdown_files(&p, found);
        } else if p.extension().is_some_and(|x| x == "md") {
            found.push(p);
        }
    }
}
