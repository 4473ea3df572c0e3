//! The operator's shell language (contract 1 of the design brief).
//!
//! A line is what an operator types on the seed's hosts: `ssh slave1 zkServer.sh status`,
//! `zkCli.sh -server master:2181 get /lab`, `jps`, `kill -9 3844`, `sleep 5`, plus simulator
//! controls that start with `lab` (`lab crash slave1`, `lab partition master | slave1 slave2`,
//! `lab partition master | slave1 slave2 --port 9092` to cut one service only, `lab heal`,
//! `lab status`). Every command runs inside the simulation and takes the virtual
//! time its work takes; between lines a learner's think time passes (1 s by default), as it
//! does at a real keyboard. Errors print the real tools' wording and the shell goes on.
//!
//! ```
//! use sim::world::{Sim, WorldConfig};
//! use sim::shell::Shell;
//! Sim::new(WorldConfig::seeded(1)).run(|world| async move {
//!     let mut sh = Shell::new(world);
//!     sh.boot_cluster(true).await;
//!     sh.exec_line("ssh slave2 jps").await;
//!     assert!(sh.take_output().contains("QuorumPeerMain"));
//! });
//! ```

pub mod lexer;
pub mod partition;
pub mod term;

use crate::trace::fields;
use crate::world::World;
use crate::zk;
use std::time::Duration;
use partition::{PartitionSpec, PARTITION_USAGE};
use term::Term;

/// Something the shell asks its caller to do outside the simulation (files on the real disk).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Write the trace so far to this real file (`lab trace FILE`).
    WriteTrace(String),
}

/// A foreground program reading the terminal (the console producer): lines go to it until `^D`.
struct StdinSink {
    tx: futures::channel::mpsc::UnboundedSender<String>,
    done: futures::channel::oneshot::Receiver<i32>,
}

/// The shell's state: current host, directory, output, pending effects.
pub struct Shell {
    world: World,
    host: String,
    cwd: String,
    term: Term,
    stdin: Option<StdinSink>,
    jobs: u32,
    /// Virtual time that passes before each line (a person typing).
    pub think_time: Duration,
    effects: Vec<Effect>,
    /// Exit code of the last command.
    pub last_exit: i32,
}

impl Shell {
    /// A shell logged in on the first host (master), in ZooKeeper's `bin` directory as in the seed.
    pub fn new(world: World) -> Self {
        let host = world.host_names().first().cloned().unwrap_or_else(|| "master".into());
        Shell {
            world,
            host,
            cwd: format!("{}/bin", zk::quorum_peer::ZK_HOME),
            term: Term::new(),
            stdin: None,
            jobs: 0,
            think_time: Duration::from_secs(1),
            effects: Vec::new(),
            last_exit: 0,
        }
    }

    /// Switches the current host, as `ssh HOST` does (for scripted walkthroughs).
    pub fn set_host(&mut self, host: &str) {
        self.host = host.to_string();
    }

    /// The world.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The prompt the seed's terminal shows: `root@master:/usr/local/spark/zookeeper-3.4.6/bin# `.
    pub fn prompt(&self) -> String {
        format!("root@{}:{}# ", self.host, self.cwd)
    }

    /// Output written since the last call.
    pub fn take_output(&self) -> String {
        self.term.take()
    }

    /// Effects requested since the last call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// Installs ZooKeeper as the seed does and, if `start`, starts it on every host and waits
    /// (in virtual time) until one leader and its followers serve.
    pub async fn boot_cluster(&mut self, start: bool) {
        let _ = zk::install::install_seed_ensemble(&self.world);
        let _ = crate::kafka::tools::install_seed_brokers(&self.world);
        if !start {
            return;
        }
        let quiet = Term::new();
        for h in self.world.host_names() {
            zk::cli::zk_server_sh(&self.world, &h, "start", &quiet).await;
        }
        self.wait_for_quorum(Duration::from_secs(60)).await;
    }

    /// Waits until every host running a ZooKeeper server reports a mode (at least one does), or
    /// the deadline passes.
    pub async fn wait_for_quorum(&self, limit: Duration) -> bool {
        let deadline = madsim::time::Instant::now() + limit;
        while madsim::time::Instant::now() < deadline {
            let mut serving = 0;
            let mut all = true;
            for h in self.world.host_names() {
                if !self.world.processes(&h).iter().any(|p| p.name == "QuorumPeerMain") {
                    continue;
                }
                match zk::cli::status(&self.world, &h).await {
                    Some(_) => serving += 1,
                    None => all = false,
                }
            }
            if all && serving > 0 {
                return true;
            }
            madsim::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// The environment the seed's `.bashrc` sets up.
    fn expand(line: &str) -> String {
        let mut out = line.to_string();
        for (k, v) in [("ZOOKEEPER_HOME", zk::quorum_peer::ZK_HOME), ("KAFKA_HOME", crate::kafka::server::KAFKA_HOME), ("HOME", "/root")] {
            out = out.replace(&format!("${{{k}}}"), v).replace(&format!("${k}"), v);
        }
        out
    }

    /// Runs one line; its output goes to [`Shell::take_output`]. Returns the exit code.
    pub async fn exec_line(&mut self, line: &str) -> i32 {
        if self.stdin.is_some() {
            return self.feed_stdin(line).await;
        }
        let line = &Self::expand(line);
        let parsed = match lexer::parse_line(line) {
            Ok(Some(p)) => p,
            Ok(None) => return 0,
            Err(e) => {
                self.term.err(&format!("bash: {e}"));
                self.last_exit = 2;
                return 2;
            }
        };
        if !self.think_time.is_zero() {
            madsim::time::sleep(self.think_time).await;
        }
        self.world.trace(&self.host, "shell", "shell.line", None, fields! { "line" => line });
        let code = match (&parsed.host, parsed.words.is_empty()) {
            (Some(h), true) => {
                match self.world.host(h) {
                    Ok(_) if self.world.is_up(h) => self.host = h.to_string(),
                    Ok(_) => self.term.err(&format!("ssh: connect to host {h} port 22: No route to host")),
                    Err(e) => self.term.err(&e.to_string()),
                }
                0
            }
            (host, _) => {
                let host = host.clone().unwrap_or_else(|| self.host.clone());
                if let Err(e) = self.world.host(&host) {
                    self.term.err(&e.to_string());
                    255
                } else if !self.world.is_up(&host) && parsed.words.first().map(String::as_str) != Some("lab") {
                    self.term.err(&format!("ssh: connect to host {host} port 22: No route to host"));
                    255
                } else {
                    self.run(&host, &parsed.words, parsed.background, parsed.nohup).await
                }
            }
        };
        self.last_exit = code;
        code
    }

    /// A line typed while a program reads the terminal; `^D` ends its input.
    async fn feed_stdin(&mut self, line: &str) -> i32 {
        if !self.think_time.is_zero() {
            madsim::time::sleep(self.think_time).await;
        }
        if line.trim() == "^D" {
            let Some(sink) = self.stdin.take() else { return 0 };
            drop(sink.tx);
            let code = sink.done.await.unwrap_or(137);
            self.last_exit = code;
            return code;
        }
        if let Some(sink) = &self.stdin {
            let _ = sink.tx.unbounded_send(line.to_string());
        }
        0
    }

    /// Starts a program that reads the following lines until `^D`.
    fn attach_stdin(&mut self, tx: futures::channel::mpsc::UnboundedSender<String>, done: futures::channel::oneshot::Receiver<i32>) {
        self.stdin = Some(StdinSink { tx, done });
    }

    /// True while a program reads the terminal (the caller should show no prompt).
    pub fn reading_stdin(&self) -> bool {
        self.stdin.is_some()
    }

    /// Prints bash's job line for a command started with `&`.
    fn job_line(&mut self, pid: u32) {
        self.jobs += 1;
        self.term.out(&format!("[{}] {pid}", self.jobs));
    }

    async fn run(&mut self, host: &str, words: &[String], background: bool, nohup: bool) -> i32 {
        let Some(cmd) = words.first() else { return 0 };
        let args = &words[1..];
        match cmd.as_str() {
            "kafka-server-start.sh" => {
                let cwd = self.cwd.clone();
                let resolve = |p: &str| self.resolve(p);
                let r = crate::kafka::tools::kafka_server_start(&self.world, host, args, nohup, &cwd, resolve, &self.term).await;
                match r {
                    Ok(pid) => {
                        if background {
                            self.job_line(pid);
                        }
                        if nohup {
                            self.term.err("nohup: ignoring input and appending output to ‘nohup.out’");
                        }
                        0
                    }
                    Err(code) => code,
                }
            }
            "kafka-server-stop.sh" => crate::kafka::tools::kafka_server_stop(&self.world, host, &self.term),
            "kafka-topics.sh" | "kafka-console-consumer.sh" | "kafka-run-class.sh" | "kafka-preferred-replica-election.sh" | "kafka-consumer-groups.sh" => {
                let (program, name) = match cmd.as_str() {
                    "kafka-topics.sh" => (crate::kafka::tools::Program::Topics, "TopicCommand"),
                    "kafka-console-consumer.sh" => (crate::kafka::tools::Program::ConsoleConsumer, "ConsoleConsumer"),
                    "kafka-preferred-replica-election.sh" => {
                        (crate::kafka::tools::Program::PreferredElection, "PreferredReplicaLeaderElectionCommand")
                    }
                    "kafka-consumer-groups.sh" => (crate::kafka::tools::Program::ConsumerGroups, "ConsumerGroupCommand"),
                    _ => (crate::kafka::tools::Program::RunClass, "DumpLogSegments"),
                };
                let args = args.to_vec();
                self.foreground(host, name, move |ctx, term| crate::kafka::tools::run_program(program, ctx, args, term)).await
            }
            "kafka-console-producer.sh" => {
                let (tx, rx) = futures::channel::mpsc::unbounded();
                let (done_tx, done_rx) = futures::channel::oneshot::channel();
                let term = self.term.clone();
                let args = args.to_vec();
                let spawned = self.world.spawn(host, "ConsoleProducer", move |ctx| async move {
                    let code = crate::kafka::tools::console_producer(ctx, args, rx, term).await;
                    let _ = done_tx.send(code);
                });
                match spawned {
                    Ok(_) => {
                        self.attach_stdin(tx, done_rx);
                        0
                    }
                    Err(e) => {
                        self.term.err(&e.to_string());
                        1
                    }
                }
            }
            "zkServer.sh" => {
                let action = args.first().map(String::as_str).unwrap_or("");
                zk::cli::zk_server_sh(&self.world, host, action, &self.term).await
            }
            "zkCli.sh" => {
                let args = args.to_vec();
                self.foreground(host, "ZooKeeperMain", move |ctx, term| zk::cli::zk_cli(ctx, args, term)).await
            }
            "jps" => {
                for p in self.world.processes(host) {
                    self.term.out(&format!("{} {}", p.pid, p.name));
                }
                match self.world.alloc_pid(host) {
                    Ok(pid) => self.term.out(&format!("{pid} Jps")),
                    Err(e) => self.term.err(&e.to_string()),
                }
                0
            }
            "kill" => self.kill(host, args),
            "pkill" => self.pkill(host, args),
            "sleep" => match args.first().map(|a| lexer::parse_duration(a)) {
                Some(Ok(d)) => {
                    madsim::time::sleep(d).await;
                    0
                }
                Some(Err(e)) => {
                    self.term.err(&e.to_string());
                    1
                }
                None => {
                    self.term.err("sleep: missing operand");
                    1
                }
            },
            "date" => {
                self.term.out(&zk::cli::java_date(self.world.wall_ms()));
                0
            }
            "hostname" => {
                self.term.out(host);
                0
            }
            "cd" => {
                if let Some(dir) = args.first() {
                    self.cwd = self.resolve(dir);
                }
                0
            }
            "source" | "export" | "true" | "clear" => 0,
            "cat" => self.cat(host, args),
            "echo" => self.echo(host, args).await,
            "ls" => {
                let dir = args.first().map(|d| self.resolve(d)).unwrap_or_else(|| self.cwd.clone());
                if let Ok(disk) = self.world.disk(host) {
                    let mut names: Vec<String> = disk
                        .list(&dir)
                        .into_iter()
                        .filter_map(|p| p.strip_prefix(&format!("{dir}/")).map(|r| r.split('/').next().unwrap_or("").to_string()))
                        .collect();
                    names.dedup();
                    if names.is_empty() {
                        // The lab's disk has files, not directories: nothing below means no directory.
                        self.term.err(&format!("ls: cannot access {}: No such file or directory", args.first().map(String::as_str).unwrap_or(".")));
                        return 2;
                    }
                    self.term.out(&names.join("  "));
                }
                0
            }
            "lab" => self.lab(args).await,
            other => {
                self.term.err(&format!("{other}: command not found"));
                127
            }
        }
    }

    fn resolve(&self, path: &str) -> String {
        let joined = if path.starts_with('/') { path.to_string() } else { format!("{}/{path}", self.cwd) };
        let mut parts: Vec<&str> = Vec::new();
        for p in joined.split('/') {
            match p {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                x => parts.push(x),
            }
        }
        format!("/{}", parts.join("/"))
    }

    fn cat(&self, host: &str, args: &[String]) -> i32 {
        let mut code = 0;
        for a in args {
            let path = self.resolve(a);
            match self.world.disk(host).ok().and_then(|d| d.peek(&path)) {
                Some(bytes) => self.term.raw(&String::from_utf8_lossy(&bytes)),
                None => {
                    self.term.err(&format!("cat: {a}: No such file or directory"));
                    code = 1;
                }
            }
        }
        code
    }

    /// `echo WORDS [> FILE | >> FILE]`: the way a learner fixes a myid.
    async fn echo(&self, host: &str, args: &[String]) -> i32 {
        let redirect = args.iter().position(|a| a == ">" || a == ">>");
        let text = args[..redirect.unwrap_or(args.len())].join(" ");
        match redirect {
            None => {
                self.term.out(&text);
                0
            }
            Some(i) => {
                let Some(file) = args.get(i + 1) else {
                    self.term.err("bash: syntax error near unexpected token `newline'");
                    return 2;
                };
                let path = self.resolve(file);
                let Ok(disk) = self.world.disk(host) else { return 1 };
                let line = format!("{text}\n");
                let res = if args[i] == ">>" { disk.append(&path, line.as_bytes()).await } else { disk.write_all(&path, line.as_bytes()).await };
                match res {
                    Ok(()) => 0,
                    Err(e) => {
                        self.term.err(&format!("bash: {file}: {e}"));
                        1
                    }
                }
            }
        }
    }

    fn kill(&self, host: &str, args: &[String]) -> i32 {
        let signal = match args.iter().find(|a| a.starts_with('-')).map(String::as_str) {
            None | Some("-15") | Some("-TERM") | Some("-SIGTERM") => Some(crate::world::Signal::Term),
            Some("-2") | Some("-INT") | Some("-SIGINT") => Some(crate::world::Signal::Int),
            Some("-9") | Some("-KILL") | Some("-SIGKILL") => None,
            Some(other) => {
                self.term.err(&format!("bash: kill: {}: invalid signal specification", other.trim_start_matches('-')));
                return 1;
            }
        };
        let pids: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
        if pids.is_empty() {
            self.term.err("kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]");
            return 2;
        }
        let mut code = 0;
        for p in pids {
            match p.parse::<u32>() {
                Ok(pid) if signal.map_or_else(|| self.world.kill(host, pid), |sig| self.world.signal(host, pid, sig)) => {}
                Ok(pid) => {
                    self.term.err(&format!("bash: kill: ({pid}) - No such process"));
                    code = 1;
                }
                Err(_) => {
                    self.term.err(&format!("bash: kill: {p}: arguments must be process or job IDs"));
                    code = 1;
                }
            }
        }
        code
    }

    /// `pkill [-SIGNAL] [-f] PATTERN`: signals every process whose name (as `jps` shows it) or,
    /// with `-f`, whose Java main class contains PATTERN. Silent; exit 1 when nothing matched.
    fn pkill(&self, host: &str, args: &[String]) -> i32 {
        let mut signal = Some(crate::world::Signal::Term);
        let mut full = false;
        let mut pattern = None;
        for a in args {
            match a.as_str() {
                "-f" => full = true,
                "-9" | "-KILL" | "-SIGKILL" => signal = None,
                "-15" | "-TERM" | "-SIGTERM" => signal = Some(crate::world::Signal::Term),
                "-2" | "-INT" | "-SIGINT" => signal = Some(crate::world::Signal::Int),
                s if s.starts_with('-') => {
                    self.term.err(&format!("pkill: invalid option -- '{}'", s.trim_start_matches('-')));
                    return 2;
                }
                s => pattern = Some(s.to_string()),
            }
        }
        let Some(pattern) = pattern else {
            self.term.err("pkill: no matching criteria specified");
            return 2;
        };
        let main_class = |name: &str| match name {
            "Kafka" => "kafka.Kafka",
            "QuorumPeerMain" => "org.apache.zookeeper.server.quorum.QuorumPeerMain",
            _ => "",
        };
        let mut matched = false;
        for p in self.world.processes(host) {
            if p.name.contains(&pattern) || (full && main_class(&p.name).contains(&pattern)) {
                matched = true;
                match signal {
                    None => self.world.kill(host, p.pid),
                    Some(sig) => self.world.signal(host, p.pid, sig),
                };
            }
        }
        if matched {
            0
        } else {
            1
        }
    }

    /// Runs a program as a foreground process on `host` and waits for its exit code. A process
    /// killed under us (its host crashed) ends like `kill -9`: 137.
    async fn foreground<F, Fut>(&self, host: &str, name: &str, main: F) -> i32
    where
        F: FnOnce(crate::world::ProcCtx, Term) -> Fut,
        Fut: std::future::Future<Output = i32> + Send + 'static,
    {
        let (tx, rx) = futures::channel::oneshot::channel();
        let term = self.term.clone();
        let spawned = self.world.spawn(host, name, move |ctx| {
            let run = main(ctx, term);
            async move {
                let _ = tx.send(run.await);
            }
        });
        if let Err(e) = spawned {
            self.term.err(&e.to_string());
            return 1;
        }
        rx.await.unwrap_or(137)
    }

    async fn lab(&mut self, args: &[String]) -> i32 {
        let sub = args.first().map(String::as_str).unwrap_or("");
        let rest = &args[args.len().min(1)..];
        let host_arg = |i: usize| rest.get(i).cloned().unwrap_or_default();
        match sub {
            "crash" => match self.world.crash(&host_arg(0)) {
                Ok(()) => 0,
                Err(e) => {
                    self.term.err(&format!("lab: {e}"));
                    1
                }
            },
            "boot" => match self.world.boot(&host_arg(0)) {
                Ok(()) => 0,
                Err(e) => {
                    self.term.err(&format!("lab: {e}"));
                    1
                }
            },
            "partition" => {
                let spec = match PartitionSpec::parse(rest) {
                    Ok(spec) => spec,
                    Err(e) => {
                        self.term.err(&format!("lab: {e}"));
                        self.term.err(PARTITION_USAGE);
                        return 2;
                    }
                };
                for h in spec.a.iter().chain(&spec.b) {
                    if self.world.host(h).is_err() {
                        self.term.err(&format!("lab: unknown host {h}"));
                        return 2;
                    }
                }
                let net = self.world.net();
                match (spec.one_way, spec.port) {
                    (false, None) => net.partition(&spec.a, &spec.b),
                    (false, Some(port)) => net.partition_port(&spec.a, &spec.b, port),
                    (true, port) => {
                        for f in &spec.a {
                            for t in &spec.b {
                                match port {
                                    None => net.block(f, t),
                                    Some(port) => net.block_port(f, t, port),
                                }
                            }
                        }
                    }
                }
                0
            }
            "heal" => {
                self.world.net().heal();
                0
            }
            "status" => {
                self.status().await;
                0
            }
            "trace" => match rest.first() {
                Some(f) => {
                    self.effects.push(Effect::WriteTrace(f.clone()));
                    0
                }
                None => {
                    self.term.err("lab: usage: lab trace FILE");
                    2
                }
            },
            "set" => self.lab_set(rest).await,
            "net" => self.lab_net(rest),
            "disk" => self.lab_disk(rest),
            _ => {
                self.term.err("lab: usage: lab crash|boot HOST | partition A… | B… [--port N] | heal | status | trace FILE | set HOST FILE KEY=VALUE | net latency|loss|bandwidth VALUE | disk HOST full|free");
                2
            }
        }
    }

    async fn status(&self) {
        self.term.out(&format!("{:<8} {:<5} {:<10} {}", "HOST", "POWER", "ZK MODE", "PROCESSES"));
        for h in self.world.host_names() {
            let up = self.world.is_up(&h);
            let mode = if up { zk::cli::status(&self.world, &h).await.unwrap_or_else(|| "-".into()) } else { "-".into() };
            let procs: Vec<String> = self.world.processes(&h).iter().map(|p| format!("{} {}", p.pid, p.name)).collect();
            let row = format!("{:<8} {:<5} {:<10} {}", h, if up { "on" } else { "off" }, mode, procs.join(", "));
            self.term.out(row.trim_end());
        }
    }

    /// `lab set HOST FILE KEY=VALUE`: edits a key of a properties file, as `vi` would (and
    /// fsyncs it, as vim does on `:w`).
    async fn lab_set(&self, rest: &[String]) -> i32 {
        let (Some(host), Some(file), Some(kv)) = (rest.first(), rest.get(1), rest.get(2)) else {
            self.term.err("lab: usage: lab set HOST FILE KEY=VALUE");
            return 2;
        };
        let Some((key, value)) = kv.split_once('=') else {
            self.term.err("lab: usage: lab set HOST FILE KEY=VALUE");
            return 2;
        };
        let Ok(disk) = self.world.disk(host) else {
            self.term.err(&format!("lab: unknown host {host}"));
            return 2;
        };
        let path = self.resolve(file);
        let old = disk.peek(&path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
        let mut found = false;
        let mut lines: Vec<String> = old
            .lines()
            .map(|l| {
                let k = l.split('=').next().unwrap_or("").trim();
                if !l.trim_start().starts_with('#') && k == key {
                    found = true;
                    format!("{key}={value}")
                } else {
                    l.to_string()
                }
            })
            .collect();
        if !found {
            lines.push(format!("{key}={value}"));
        }
        let text = lines.join("\n") + "\n";
        match disk.write_all(&path, text.as_bytes()).await {
            Ok(()) => {
                let _ = disk.fsync(&path).await;
                0
            }
            Err(e) => {
                self.term.err(&format!("lab: {e}"));
                1
            }
        }
    }

    /// `lab disk HOST full|free`: take (or give back) all the free space of a host's disk.
    fn lab_disk(&self, rest: &[String]) -> i32 {
        let (Some(host), Some(what)) = (rest.first(), rest.get(1)) else {
            self.term.err("lab: usage: lab disk HOST full|free");
            return 2;
        };
        let disk = match self.world.disk(host) {
            Ok(d) => d,
            Err(e) => {
                self.term.err(&format!("lab: {e}"));
                return 2;
            }
        };
        match what.as_str() {
            "full" => disk.fill_up(),
            "free" => disk.release_fill(),
            other => {
                self.term.err(&format!("lab: disk: expected full or free, not '{other}'"));
                return 2;
            }
        }
        self.world.trace("lab", "disk", "disk.fill", None, fields! { "host" => host.as_str(), "state" => what.as_str() });
        0
    }

    fn lab_net(&self, rest: &[String]) -> i32 {
        let mut p = self.world.net().params();
        let value = rest.get(1).map(String::as_str).unwrap_or("");
        let ok = match rest.first().map(String::as_str) {
            Some("latency") => lexer::parse_duration(value).map(|d| {
                p.latency_min_us = d.as_micros() as u64;
                p.latency_mean_us = d.as_micros() as u64;
            }).is_ok(),
            Some("loss") => value.parse::<f64>().ok().filter(|x| (0.0..=1.0).contains(x)).map(|x| p.loss = x).is_some(),
            Some("bandwidth") => value.parse::<u64>().ok().filter(|x| *x > 0).map(|mbit| p.bandwidth_bps = mbit * 1_000_000).is_some(),
            _ => false,
        };
        if !ok {
            self.term.err("lab: usage: lab net latency DURATION | loss PROBABILITY | bandwidth MBIT");
            return 2;
        }
        self.world.net().set_params(p);
        0
    }
}
