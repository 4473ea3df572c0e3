//! The operator's shell language (contract 1 of the design brief).
//!
//! A line is what an operator types on the seed's hosts: `ssh slave1 zkServer.sh status`,
//! `zkCli.sh -server master:2181 get /lab`, `jps`, `kill -9 3844`, `kill -STOP 3844` (the process
//! stops where it stands until `kill -CONT 3844`), `sleep 5`, plus simulator controls that start
//! with `lab` (`lab crash slave1`, `lab partition master | slave1 slave2`,
//! `lab partition master | slave1 slave2 --port 9092` to cut one service only, `lab heal`,
//! `lab net latency 200ms master slave1` for one link, `lab set HOST FILE KEY=VALUE`,
//! `lab status`). Every command runs inside the simulation and takes the virtual
//! time its work takes; between lines a learner's think time passes (1 s by default), as it
//! does at a real keyboard. Errors print the real tools' wording and the shell goes on.
//!
//! Job control is bash's ([`jobs`]): `cmd &` prints `[N] PID` and leaves the program running, its
//! output still reaching the terminal; `jobs [-l|-p]`, `kill [-9|-STOP|-CONT] %N|PID`, `fg`/`bg`
//! and `wait` work on the table, and what changed (`[1]+  Exit 143 …`, `Killed`, `Done`,
//! `Stopped`) is printed at the end of the line, where bash prints it before the next prompt.
//! `help` lists the commands.
//!
//! The shell knows no program: it looks every command that is not a builtin up in the world's
//! [`Registry`](sim_core::program::Registry), where ZooKeeper and Kafka put theirs.
//!
//! ```
//! use shell::Shell;
//! use sim_core::program::Program;
//! use sim_core::world::{Sim, WorldConfig};
//! let mut cfg = WorldConfig::seeded(1);
//! cfg.programs.add("hello.sh", Program::process("Hello", false, |_ctx, inv, term, _| async move {
//!     term.out(&format!("hello, {}", inv.args.join(" ")));
//!     0
//! }));
//! Sim::new(cfg).run(|world| async move {
//!     let mut sh = Shell::new(world);
//!     sh.exec_line("ssh slave2 hello.sh world").await;
//!     assert_eq!(sh.take_output(), "hello, world\n");
//!     sh.exec_line("hello.sh &").await;
//!     sh.exec_line("nosuch.sh").await;
//!     assert!(sh.take_output().contains("nosuch.sh: command not found"));
//! });
//! ```
//!
//! # How it works
//!
//! (Moved here from ARCHITECTURE.md, which keeps only the map.)
//!
//! The operator's language (contract 1 of the design brief). `lexer.rs` turns a line into words
//! (quotes, `ssh HOST`, `nohup`, trailing `&`, durations, connect strings); `Shell::exec_line` runs
//! it inside the simulation and writes to a `Term`; `partition.rs` parses `lab partition` (two-way
//! `|`, one-way `->`, `--port N`). Things that must happen outside the world (writing a real trace
//! file) come back as `Effect`s for the caller. `jobs.rs` is bash's job control: a
//! program started with `&` (console consumer, zkCli, the Kafka tools, a broker) is a job whose
//! process keeps writing to the shared `Term`; `jobs`, `kill %N`/`kill PID`/`kill -9`, `fg`/`bg`
//! (for a console producer, which SIGTTIN stops in the background) and `wait` (for `sleep N &`)
//! work on the table, and the `[N]+  Exit 143 …` / `Killed` / `Done` notifications are printed at
//! the end of the line during which the job changed state (bash prints them before the next prompt).
//! The shell has one job table for all hosts: `ssh HOST cmd &` is a job of it that runs on HOST, and
//! `kill %N` signals the remote program directly. Other commands with `&` run at once, as a job
//! that is done when they return.

pub mod complete;
pub mod jobs;
pub mod lexer;

use sim_core::fault::{
    ConfigEdit, ConfigEditError, Fault, Link, NetChange, PartitionSpec, PARTITION_USAGE,
};
use sim_core::program::{Invocation, Launched, Program};
use sim_core::term::Term;
use sim_core::trace::{fields, kind};
use sim_core::world::World;
use std::time::Duration;

/// What `help` prints: the lines the lab understands.
pub const HELP: &str = "\
The lab's shell: type what you would type on the seed's hosts (master, slave1, slave2).

Hosts and files
  ssh HOST [COMMAND...]        run one command on HOST; `ssh HOST` alone switches to it
  cd DIR | ls [DIR] | cat FILE | echo TEXT [> FILE | >> FILE] | hostname | date
  lab set HOST FILE KEY=VALUE  edit a properties file (what vi would do)
ZooKeeper
  zkServer.sh start|stop|status
  zkCli.sh -server HOST:2181 CMD ARGS   ls, get, stat, create [-e] [-s], set, delete, rmr
Kafka
  kafka-server-start.sh [-daemon] CONFIG | kafka-server-stop.sh
  kafka-topics.sh --create|--list|--describe|--delete --zookeeper ZK ...
  kafka-console-producer.sh --broker-list B --topic T    (message lines follow, then ^D)
  kafka-console-consumer.sh --zookeeper ZK --topic T [--from-beginning] [--max-messages N]
      [--timeout-ms MS] [--consumer.config FILE]          (group.id in FILE shares a group)
  kafka-preferred-replica-election.sh --zookeeper ZK
  kafka-run-class.sh kafka.tools.DumpLogSegments --files F [--print-data-log]
Processes and jobs
  jps | kill [-9|-TERM|-INT|-STOP|-CONT] PID|%N | pkill [-9|-STOP|-CONT] [-f] NAME
                               kill -STOP stops a process where it stands (a long GC pause:
                               peers hear silence); kill -CONT lets it go on
  COMMAND &                    run in the background: bash prints [N] PID, its output keeps
                               coming, and `[N]+  Exit 143 ...` / `Killed` / `Done` when it ends
  jobs [-l|-p]                 list the jobs;  kill %N  ends one (SIGTERM: a clean shutdown)
  fg [%N] | bg [%N]            a console producer started with & stops (it wants the terminal):
                               fg gives it the terminal back; wait waits for `sleep N &` jobs
  sleep DURATION               let virtual time pass (5, 250ms, 2m)
Simulator
  lab status | lab crash HOST | lab boot HOST | lab heal
  lab partition A B | C [--port N] | lab partition A -> B [--port N]
  lab net latency|loss|bandwidth VALUE [A B | A -> B] | lab net reset [A B | A -> B]
                               every link, or one link (both ways, or only A's traffic to B)
  lab disk HOST full|free | lab trace FILE
";

pub use sim_core::program::resolve_path;

/// What `kill` and `pkill` send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KillSignal {
    /// SIGKILL: the process ends where it stands.
    Kill,
    /// A signal a JVM handles (SIGTERM, SIGINT).
    Handled(sim_core::world::Signal),
    /// SIGSTOP (or SIGTSTP): [`Fault::Pause`].
    Stop,
    /// SIGCONT: [`Fault::Resume`].
    Cont,
}

/// Something the shell asks its caller to do outside the simulation (files on the real disk).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Write the trace so far to this real file (`lab trace FILE`).
    WriteTrace(String),
}

/// A program reading the terminal (the console producer): lines go to it until `^D`.
pub struct StdinSink {
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
    jobs: jobs::JobTable,
    /// The line being run, as typed (a background job's command in `jobs`).
    typed: String,
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
        let cwd = world.config().programs.login_dir().to_string();
        Shell {
            world,
            host,
            cwd,
            term: Term::new(),
            stdin: None,
            jobs: jobs::JobTable::default(),
            typed: String::new(),
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

    /// Installs the registry's packages as the seed does (zoo.cfg, myid, server.properties) and,
    /// if `start`, runs its boot commands on every host (`zkServer.sh start`) and waits (in
    /// virtual time) until every server answers its status probe.
    pub async fn boot_cluster(&mut self, start: bool) {
        self.world.config().programs.install(&self.world);
        if !start {
            return;
        }
        self.boot_hosts(&self.world.host_names()).await;
        self.wait_for_quorum(Duration::from_secs(60)).await;
    }

    /// Runs the registry's boot commands (`zkServer.sh start`) on `hosts`, quietly, without
    /// waiting for what they start.
    pub async fn boot_hosts(&self, hosts: &[String]) {
        let programs = self.world.config().programs.clone();
        let quiet = Term::new();
        for h in hosts {
            for words in programs.boot_commands() {
                let Some((cmd, args)) = words.split_first() else { continue };
                if let Some(Program::Script { main, .. }) = programs.get(cmd) {
                    let inv = Invocation {
                        args: args.to_vec(),
                        cwd: self.cwd.clone(),
                        ..Default::default()
                    };
                    main(self.world.clone(), h.clone(), inv, quiet.clone()).await;
                }
            }
        }
    }

    /// Waits until every host running the status probe's process answers it (at least one
    /// does), or the deadline passes. Without a probe there is nothing to wait for.
    pub async fn wait_for_quorum(&self, limit: Duration) -> bool {
        let Some(probe) = self.world.config().programs.status_probe().cloned() else {
            return true;
        };
        let deadline = madsim::time::Instant::now() + limit;
        while madsim::time::Instant::now() < deadline {
            let mut serving = 0;
            let mut all = true;
            for h in self.world.host_names() {
                if !self.world.processes(&h).iter().any(|p| p.name == probe.process) {
                    continue;
                }
                match (probe.probe)(self.world.clone(), h.clone()).await {
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
    fn expand(&self, line: &str) -> String {
        let mut out = line.to_string();
        let exports = self.world.config().programs.env();
        let home = ("HOME".to_string(), "/root".to_string());
        for (k, v) in exports.iter().chain(std::iter::once(&home)) {
            out = out.replace(&format!("${{{k}}}"), v).replace(&format!("${k}"), v);
        }
        out
    }

    /// Runs one line; its output goes to [`Shell::take_output`]. Returns the exit code.
    pub async fn exec_line(&mut self, line: &str) -> i32 {
        if self.stdin.is_some() {
            let code = self.feed_stdin(line).await;
            if self.stdin.is_none() {
                self.notify_jobs();
            }
            return code;
        }
        let code = self.exec_command(line).await;
        self.notify_jobs();
        code
    }

    /// What happens before any line runs: the person's think time, then the line in the trace
    /// (`typed` is what `jobs` shows, `line` the expanded text).
    async fn begin_line(&mut self, typed: &str, line: &str) {
        self.typed = typed.to_string();
        if !self.think_time.is_zero() {
            madsim::time::sleep(self.think_time).await;
        }
        self.world.trace(&self.host, "shell", kind::SHELL_LINE, None, fields! { "line" => line });
    }

    async fn exec_command(&mut self, typed: &str) -> i32 {
        let line = &self.expand(typed);
        let parsed = match lexer::parse_line(line) {
            Ok(Some(p)) => p,
            Ok(None) => return 0,
            Err(e) => {
                self.term.err(&format!("bash: {e}"));
                self.last_exit = 2;
                return 2;
            }
        };
        self.begin_line(typed.trim().trim_end_matches('&').trim_end(), line).await;
        let code = match (&parsed.host, parsed.words.is_empty()) {
            (Some(h), true) => {
                match self.world.host(h) {
                    Ok(_) if self.world.is_up(h) => self.host = h.to_string(),
                    Ok(_) => self
                        .term
                        .err(&format!("ssh: connect to host {h} port 22: No route to host")),
                    Err(e) => self.term.err(&e.to_string()),
                }
                0
            }
            (host, _) => {
                let host = host.clone().unwrap_or_else(|| self.host.clone());
                if let Err(e) = self.world.host(&host) {
                    self.term.err(&e.to_string());
                    255
                } else if !self.world.is_up(&host)
                    && parsed.words.first().map(String::as_str) != Some("lab")
                {
                    self.term
                        .err(&format!("ssh: connect to host {host} port 22: No route to host"));
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
    fn attach_stdin(
        &mut self,
        tx: futures::channel::mpsc::UnboundedSender<String>,
        done: futures::channel::oneshot::Receiver<i32>,
    ) {
        self.stdin = Some(StdinSink { tx, done });
    }

    /// True while a program reads the terminal (the caller should show no prompt).
    pub fn reading_stdin(&self) -> bool {
        self.stdin.is_some()
    }

    /// Registers a job for a command started with `&` and prints bash's `[N] PID` line.
    fn start_job(
        &mut self,
        kind: jobs::JobKind,
        pid: u32,
        status: jobs::JobStatus,
        stdin: Option<StdinSink>,
    ) -> u32 {
        let id = self.jobs.next_id();
        self.term.out(&format!("[{id}] {pid}"));
        let notified = status == jobs::JobStatus::Running;
        self.jobs.add(jobs::Job {
            id,
            pid,
            kind,
            command: self.typed.clone(),
            wd: self.cwd.clone(),
            status,
            notified,
            stdin,
        });
        if status == jobs::JobStatus::Stopped {
            self.jobs.set_stopped(id);
        }
        id
    }

    /// Prints what bash prints before the next prompt: jobs that stopped or ended since.
    fn notify_jobs(&mut self) {
        if self.jobs.is_empty() {
            return;
        }
        self.jobs.poll(&self.world);
        for line in self.jobs.notifications(&self.cwd) {
            self.term.err(&line);
        }
    }

    /// Commands that run as a process of their own, so `&` makes that process the job.
    fn is_program(&self, cmd: &str) -> bool {
        match self.world.config().programs.get(cmd) {
            Some(Program::Process { .. }) => true,
            Some(Program::Script { execs, .. }) => *execs,
            None => false,
        }
    }

    async fn run(&mut self, host: &str, words: &[String], background: bool, nohup: bool) -> i32 {
        let Some(cmd) = words.first() else { return 0 };
        if !background || self.is_program(cmd) {
            return self.run_command(host, words, background, nohup).await;
        }
        // bash runs anything else with `&` in a subshell: a job that ends when the command does.
        let pid = match self.world.alloc_pid(host) {
            Ok(p) => p,
            Err(e) => {
                self.term.err(&e.to_string());
                return 1;
            }
        };
        if cmd == "sleep" {
            if let Some(Ok(d)) = words.get(1).map(|a| lexer::parse_duration(a)) {
                let until = madsim::time::Instant::now() + d;
                self.start_job(jobs::JobKind::Sleep { until }, pid, jobs::JobStatus::Running, None);
                return 0;
            }
        }
        let id = self.start_job(jobs::JobKind::Immediate, pid, jobs::JobStatus::Running, None);
        // `cd` in a subshell changes nothing here.
        let code = if cmd == "cd" { 0 } else { self.run_command(host, words, false, nohup).await };
        if let Some(j) = self.jobs.get_mut(id) {
            j.status = jobs::JobStatus::Ended(jobs::Ended::Status(
                sim_core::world::ExitStatus::Exited(code),
            ));
            j.notified = false;
        }
        0
    }

    async fn run_command(
        &mut self,
        host: &str,
        words: &[String],
        background: bool,
        nohup: bool,
    ) -> i32 {
        let Some(cmd) = words.first() else { return 0 };
        let args = &words[1..];
        match cmd.as_str() {
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
            "jobs" => self.jobs_builtin(args),
            "fg" => self.fg(args),
            "bg" => self.bg(args),
            "wait" => self.wait(args).await,
            "help" => {
                self.term.raw(HELP);
                0
            }
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
                self.term.out(&sim_core::jvm::java_date(self.world.wall_ms()));
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
                        .filter_map(|p| {
                            p.strip_prefix(&format!("{dir}/"))
                                .map(|r| r.split('/').next().unwrap_or("").to_string())
                        })
                        .collect();
                    names.dedup();
                    if names.is_empty() {
                        // The lab's disk has files, not directories: nothing below means no directory.
                        self.term.err(&format!(
                            "ls: cannot access {}: No such file or directory",
                            args.first().map(String::as_str).unwrap_or(".")
                        ));
                        return 2;
                    }
                    self.term.out(&names.join("  "));
                }
                0
            }
            "lab" => self.lab(args).await,
            other => match self.world.config().programs.get(other).cloned() {
                Some(program) => self.run_program(host, program, args, background, nohup).await,
                None => {
                    self.term.err(&format!("{other}: command not found"));
                    127
                }
            },
        }
    }

    /// Runs a program from the registry as bash runs a command on the `PATH`.
    async fn run_program(
        &mut self,
        host: &str,
        program: Program,
        args: &[String],
        background: bool,
        nohup: bool,
    ) -> i32 {
        let inv = Invocation { args: args.to_vec(), cwd: self.cwd.clone(), background, nohup };
        match program {
            Program::Script { main, .. } => {
                match main(self.world.clone(), host.to_string(), inv, self.term.clone()).await {
                    Launched::Exited(code) => code,
                    Launched::Started { pid, detached } => {
                        if background && detached {
                            // The script starts the daemon and exits: its job is done at once.
                            let script = self.world.alloc_pid(host).unwrap_or(pid);
                            let id = self.start_job(
                                jobs::JobKind::Immediate,
                                script,
                                jobs::JobStatus::Running,
                                None,
                            );
                            if let Some(j) = self.jobs.get_mut(id) {
                                j.status = jobs::JobStatus::Ended(jobs::Ended::Status(
                                    sim_core::world::ExitStatus::Exited(0),
                                ));
                                j.notified = false;
                            }
                        } else if background {
                            self.start_job(
                                jobs::JobKind::Process { host: host.to_string() },
                                pid,
                                jobs::JobStatus::Running,
                                None,
                            );
                        }
                        if nohup {
                            self.term
                                .err("nohup: ignoring input and appending output to ‘nohup.out’");
                        }
                        0
                    }
                }
            }
            Program::Process { main_class, reads_stdin: true, main } => {
                let (tx, rx) = futures::channel::mpsc::unbounded();
                let (done_tx, done_rx) = futures::channel::oneshot::channel();
                let term = self.term.clone();
                let spawned = self.world.spawn(host, main_class, move |ctx| async move {
                    let code = main(ctx, inv, term, Some(rx)).await;
                    let _ = done_tx.send(code);
                });
                match spawned {
                    // In the background it reads the terminal at once, and the kernel stops it
                    // (SIGTTIN): `fg` gives it the terminal.
                    Ok(pid) if background => {
                        let sink = StdinSink { tx, done: done_rx };
                        self.start_job(
                            jobs::JobKind::Process { host: host.to_string() },
                            pid,
                            jobs::JobStatus::Stopped,
                            Some(sink),
                        );
                        0
                    }
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
            Program::Process { main_class, main, .. } => {
                if background {
                    return self
                        .background(host, main_class, move |ctx, term| main(ctx, inv, term, None));
                }
                self.foreground(host, main_class, move |ctx, term| main(ctx, inv, term, None)).await
            }
        }
    }

    fn resolve(&self, path: &str) -> String {
        resolve_path(&self.cwd, path)
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
                let res = if args[i] == ">>" {
                    disk.append(&path, line.as_bytes()).await
                } else {
                    disk.write_all(&path, line.as_bytes()).await
                };
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

    /// `kill [-s SIG | -n NUM | -SIG] PID|%JOB …`: a jobspec names a job of this shell (on any
    /// host); a pid a process of the current host, else the job with that pid.
    fn kill(&mut self, host: &str, args: &[String]) -> i32 {
        let usage = "kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]";
        let mut spec: Option<String> = None;
        let mut targets: Vec<&String> = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "-s" | "-n" => match it.next() {
                    Some(v) => spec = Some(v.clone()),
                    None => {
                        self.term.err(&format!("bash: kill: {a}: option requires an argument"));
                        self.term.err(usage);
                        return 2;
                    }
                },
                "-l" | "-L" => {
                    self.term.out(" 1) SIGHUP\t 2) SIGINT\t 3) SIGQUIT\t 4) SIGILL\t 5) SIGTRAP\n 6) SIGABRT\t 7) SIGBUS\t 8) SIGFPE\t 9) SIGKILL\t10) SIGUSR1\n11) SIGSEGV\t12) SIGUSR2\t13) SIGPIPE\t14) SIGALRM\t15) SIGTERM");
                    return 0;
                }
                "--" => targets.extend(it.by_ref()),
                s if s.starts_with('-') && targets.is_empty() && spec.is_none() => {
                    spec = Some(s[1..].to_string())
                }
                _ => targets.push(a),
            }
        }
        let signal = match spec.as_deref().map(|s| s.to_ascii_uppercase()) {
            None => KillSignal::Handled(sim_core::world::Signal::Term),
            Some(s) => match s.trim_start_matches("SIG") {
                "15" | "TERM" => KillSignal::Handled(sim_core::world::Signal::Term),
                "2" | "INT" => KillSignal::Handled(sim_core::world::Signal::Int),
                "9" | "KILL" => KillSignal::Kill,
                // SIGTSTP's default action stops a JVM too: it installs no handler for it.
                "19" | "STOP" | "20" | "TSTP" => KillSignal::Stop,
                "18" | "CONT" => KillSignal::Cont,
                "1" | "HUP" | "3" | "QUIT" | "10" | "USR1" | "12" | "USR2" => {
                    self.term.err(&format!("lab: kill: SIG{} is not modelled; the lab sends TERM (15), INT (2), KILL (9), STOP (19) and CONT (18)", s.trim_start_matches("SIG")));
                    return 1;
                }
                _ => {
                    self.term.err(&format!(
                        "bash: kill: {}: invalid signal specification",
                        spec.as_deref().unwrap_or("")
                    ));
                    return 1;
                }
            },
        };
        if targets.is_empty() {
            self.term.err(usage);
            return 2;
        }
        self.jobs.poll(&self.world);
        let mut code = 0;
        for t in targets {
            let ok = if t.starts_with('%') {
                match self.jobs.resolve(t) {
                    Ok(id) => self.signal_job(id, signal),
                    Err(e) => {
                        self.term.err(&format!("bash: kill: {e}"));
                        code = 1;
                        continue;
                    }
                }
            } else {
                match t.parse::<u32>() {
                    Ok(pid) if self.world.processes(host).iter().any(|p| p.pid == pid) => {
                        self.signal_pid(host, pid, signal)
                    }
                    Ok(pid) => match self.jobs.by_pid(None, pid) {
                        Some(id) => self.signal_job(id, signal),
                        None => false,
                    },
                    Err(_) => {
                        self.term
                            .err(&format!("bash: kill: {t}: arguments must be process or job IDs"));
                        code = 1;
                        continue;
                    }
                }
            };
            if !ok {
                let pid = t.parse::<u32>().ok().or_else(|| {
                    self.jobs.resolve(t).ok().and_then(|id| self.jobs.get_mut(id).map(|j| j.pid))
                });
                self.term.err(&format!(
                    "bash: kill: ({}) - No such process",
                    pid.map_or_else(|| t.to_string(), |p| p.to_string())
                ));
                code = 1;
            }
        }
        code
    }

    /// Sends a signal to a process of `host` by pid; false if there is no such process.
    /// `kill -STOP`/`-CONT` are the typed [`Fault::Pause`]/[`Fault::Resume`].
    fn signal_pid(&self, host: &str, pid: u32, signal: KillSignal) -> bool {
        let host = host.to_string();
        match signal {
            KillSignal::Kill => self.world.kill(&host, pid),
            KillSignal::Handled(sig) => self.world.signal(&host, pid, sig),
            KillSignal::Stop => Fault::Pause { host, pid }.apply(&self.world).is_ok(),
            KillSignal::Cont => Fault::Resume { host, pid }.apply(&self.world).is_ok(),
        }
    }

    /// `pkill [-SIGNAL] [-f] PATTERN`: signals every process whose name (as `jps` shows it) or,
    /// with `-f`, whose Java main class contains PATTERN. Silent; exit 1 when nothing matched.
    fn pkill(&self, host: &str, args: &[String]) -> i32 {
        let mut signal = KillSignal::Handled(sim_core::world::Signal::Term);
        let mut full = false;
        let mut pattern = None;
        for a in args {
            match a.as_str() {
                "-f" => full = true,
                "-9" | "-KILL" | "-SIGKILL" => signal = KillSignal::Kill,
                "-15" | "-TERM" | "-SIGTERM" => {
                    signal = KillSignal::Handled(sim_core::world::Signal::Term)
                }
                "-2" | "-INT" | "-SIGINT" => {
                    signal = KillSignal::Handled(sim_core::world::Signal::Int)
                }
                "-19" | "-STOP" | "-SIGSTOP" | "-20" | "-TSTP" | "-SIGTSTP" => {
                    signal = KillSignal::Stop
                }
                "-18" | "-CONT" | "-SIGCONT" => signal = KillSignal::Cont,
                s if s.starts_with('-') => {
                    self.term
                        .err(&format!("pkill: invalid option -- '{}'", s.trim_start_matches('-')));
                    return 2;
                }
                s => pattern = Some(s.to_string()),
            }
        }
        let Some(pattern) = pattern else {
            self.term.err("pkill: no matching criteria specified");
            return 2;
        };
        let programs = self.world.config().programs.clone();
        let main_class = |name: &str| programs.full_main_class(name).unwrap_or("").to_string();
        let mut matched = false;
        for p in self.world.processes(host) {
            if p.name.contains(&pattern) || (full && main_class(&p.name).contains(&pattern)) {
                matched = true;
                self.signal_pid(host, p.pid, signal);
            }
        }
        if matched {
            0
        } else {
            1
        }
    }

    /// Sends a signal to a job; false if it has already ended.
    fn signal_job(&mut self, id: u32, signal: KillSignal) -> bool {
        let Some(job) = self.jobs.get_mut(id) else { return false };
        if matches!(job.status, jobs::JobStatus::Ended(_)) {
            return false;
        }
        match job.kind.clone() {
            jobs::JobKind::Process { host } => {
                let pid = job.pid;
                let sent = self.signal_pid(&host, pid, signal);
                // A stopped job gets SIGCONT after a SIGTERM, as bash's kill does, so it can
                // act on it.
                if sent && signal == KillSignal::Handled(sim_core::world::Signal::Term) {
                    self.world.resume(&host, pid);
                }
                sent
            }
            jobs::JobKind::Sleep { .. } => {
                match signal {
                    // A stopped `sleep` keeps its deadline (nanosleep restarts with the time
                    // left), it only cannot end before it is continued.
                    KillSignal::Stop => {
                        if job.status == jobs::JobStatus::Running {
                            self.jobs.set_stopped(id);
                        }
                    }
                    KillSignal::Cont => job.status = jobs::JobStatus::Running,
                    _ => {
                        // `sleep` is no JVM: the signal's default action ends it.
                        let n = match signal {
                            KillSignal::Handled(s) => s.number(),
                            _ => 9,
                        };
                        job.status = jobs::JobStatus::Ended(jobs::Ended::Status(
                            sim_core::world::ExitStatus::Signaled(n),
                        ));
                        job.notified = false;
                    }
                }
                true
            }
            jobs::JobKind::Immediate => false,
        }
    }

    /// `jobs [-lprs] [JOBSPEC…]`.
    fn jobs_builtin(&mut self, args: &[String]) -> i32 {
        let (mut long, mut pids, mut running, mut stopped) = (false, false, false, false);
        let mut specs = Vec::new();
        for a in args {
            if let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) {
                for f in flags.chars() {
                    match f {
                        'l' => long = true,
                        'p' => pids = true,
                        'r' => running = true,
                        's' => stopped = true,
                        'n' => {}
                        other => {
                            self.term.err(&format!("bash: jobs: -{other}: invalid option"));
                            self.term.err("jobs: usage: jobs [-lnprs] [jobspec ...] or jobs -x command [args]");
                            return 2;
                        }
                    }
                }
            } else {
                specs.push(a.clone());
            }
        }
        self.jobs.poll(&self.world);
        let mut ids = Vec::new();
        let mut code = 0;
        if specs.is_empty() {
            ids = self.jobs.ids();
        }
        for s in &specs {
            match self.jobs.resolve(s) {
                Ok(id) => ids.push(id),
                Err(e) => {
                    self.term.err(&format!("bash: jobs: {e}"));
                    code = 1;
                }
            }
        }
        for id in ids {
            let Some(job) = self.jobs.get_mut(id) else { continue };
            if (running && job.status != jobs::JobStatus::Running)
                || (stopped && job.status != jobs::JobStatus::Stopped)
            {
                continue;
            }
            if pids {
                let pid = job.pid;
                self.term.out(&pid.to_string());
            } else if let Some(line) = self.jobs.line(id, long, &self.cwd) {
                self.term.out(&line);
            }
        }
        self.jobs.drop_reported();
        code
    }

    fn job_for(&mut self, builtin: &str, args: &[String]) -> Result<u32, i32> {
        self.jobs.poll(&self.world);
        let spec = args.first().map(String::as_str).unwrap_or("%+");
        self.jobs.resolve(spec).map_err(|e| {
            let e = if args.is_empty() { "current: no such job".to_string() } else { e };
            self.term.err(&format!("bash: {builtin}: {e}"));
            1
        })
    }

    /// `fg [%N]`: gives a stopped console producer the terminal again (its input is the following
    /// lines, until `^D`). A running program cannot be brought back: the lab has no Ctrl-C.
    fn fg(&mut self, args: &[String]) -> i32 {
        let id = match self.job_for("fg", args) {
            Ok(id) => id,
            Err(c) => return c,
        };
        let Some(job) = self.jobs.get_mut(id) else { return 1 };
        match job.status {
            jobs::JobStatus::Ended(_) => {
                self.term.err("bash: fg: job has terminated");
                1
            }
            jobs::JobStatus::Stopped if job.stdin.is_some() => {
                // fg continues the job (SIGCONT) as it hands it the terminal.
                if let jobs::JobKind::Process { host } = &job.kind {
                    self.world.resume(host, job.pid);
                }
                let command = job.command.clone();
                let sink = job.stdin.take();
                self.jobs.remove(id);
                self.term.out(&command);
                if let Some(sink) = sink {
                    self.stdin = Some(sink);
                }
                0
            }
            _ => {
                self.term.err(&format!(
                    "lab: fg: a running program in the foreground could only be stopped with Ctrl-C, which the lab cannot type; end it with kill %{id}"
                ));
                1
            }
        }
    }

    /// `bg [%N]`: a stopped program resumes in the background (and a console producer, reading the
    /// terminal again, stops again).
    fn bg(&mut self, args: &[String]) -> i32 {
        let id = match self.job_for("bg", args) {
            Ok(id) => id,
            Err(c) => return c,
        };
        let Some(job) = self.jobs.get_mut(id) else { return 1 };
        match job.status {
            jobs::JobStatus::Stopped => {
                let line = format!("[{id}]+ {} &", job.command);
                self.term.out(&line);
                // bg continues the job (SIGCONT).
                if let jobs::JobKind::Process { host } = &job.kind {
                    self.world.resume(host, job.pid);
                }
                if job.stdin.is_some() {
                    self.jobs.set_stopped(id);
                } else {
                    job.status = jobs::JobStatus::Running;
                }
                0
            }
            jobs::JobStatus::Running => {
                self.term.err(&format!("bash: bg: job {id} already in background"));
                0
            }
            jobs::JobStatus::Ended(_) => {
                self.term.err("bash: bg: job has terminated");
                1
            }
        }
    }

    /// `wait [%N]`: waits for background `sleep`s; programs such as a console consumer end only
    /// when told to, so waiting for them would never return.
    async fn wait(&mut self, args: &[String]) -> i32 {
        self.jobs.poll(&self.world);
        let ids = if args.is_empty() {
            self.jobs.ids()
        } else {
            match self.job_for("wait", args) {
                Ok(id) => vec![id],
                Err(_) => return 127,
            }
        };
        let mut until = madsim::time::Instant::now();
        for id in &ids {
            let Some(job) = self.jobs.get_mut(*id) else { continue };
            match (&job.kind, job.status) {
                // bash's wait returns for a job that stops.
                (_, jobs::JobStatus::Ended(_)) | (_, jobs::JobStatus::Stopped) => {}
                (jobs::JobKind::Sleep { until: u }, _) => until = until.max(*u),
                _ => {
                    self.term.err(&format!("lab: wait: job {id} is a program that only ends when told to; use sleep, then kill %{id}"));
                    return 1;
                }
            }
        }
        madsim::time::sleep_until(until).await;
        self.jobs.poll(&self.world);
        0
    }

    /// Runs a program as a foreground process on `host` and waits for its exit code. A process
    /// killed under us (its host crashed) ends like `kill -9`: 137.
    async fn foreground<F, Fut>(&self, host: &str, name: &str, main: F) -> i32
    where
        F: FnOnce(sim_core::world::ProcCtx, Term) -> Fut,
        Fut: std::future::Future<Output = i32> + Send + 'static,
    {
        let (tx, rx) = futures::channel::oneshot::channel();
        let term = self.term.clone();
        let spawned = self.world.spawn(host, name, move |ctx| {
            let me = ctx.clone();
            let run = main(ctx, term);
            async move {
                let code = run.await;
                me.set_exit_code(code);
                let _ = tx.send(code);
            }
        });
        let pid = match spawned {
            Ok(pid) => pid,
            Err(e) => {
                self.term.err(&e.to_string());
                return 1;
            }
        };
        let code = rx.await.unwrap_or(137);
        // Reap it, as the shell's wait() does.
        let _ = self.world.take_exit_status(host, pid);
        code
    }

    /// Starts a program as a background job (`cmd &`).
    fn background<F, Fut>(&mut self, host: &str, name: &str, main: F) -> i32
    where
        F: FnOnce(sim_core::world::ProcCtx, Term) -> Fut,
        Fut: std::future::Future<Output = i32> + Send + 'static,
    {
        let term = self.term.clone();
        let spawned = self.world.spawn(host, name, move |ctx| {
            let me = ctx.clone();
            let run = main(ctx, term);
            async move {
                let code = run.await;
                me.set_exit_code(code);
            }
        });
        match spawned {
            Ok(pid) => {
                self.start_job(
                    jobs::JobKind::Process { host: host.to_string() },
                    pid,
                    jobs::JobStatus::Running,
                    None,
                );
                0
            }
            Err(e) => {
                self.term.err(&e.to_string());
                1
            }
        }
    }

    async fn lab(&mut self, args: &[String]) -> i32 {
        let sub = args.first().map(String::as_str).unwrap_or("");
        let rest = &args[args.len().min(1)..];
        match sub {
            "crash" | "boot" | "partition" | "heal" | "net" | "disk" => {
                match parse_fault(sub, rest) {
                    Ok(fault) => self.apply_fault(&fault),
                    Err(usage) => {
                        for line in usage.lines() {
                            self.term.err(line);
                        }
                        2
                    }
                }
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
            _ => {
                self.term.err("lab: usage: lab crash|boot HOST | partition A… | B… [--port N] | heal | status | trace FILE | set HOST FILE KEY=VALUE | net latency|loss|bandwidth VALUE [A B | A -> B] | net reset [A B] | disk HOST full|free");
                2
            }
        }
    }

    async fn status(&self) {
        let probe = self.world.config().programs.status_probe().cloned();
        let heading = probe.as_ref().map_or("MODE", |p| p.heading);
        self.term.out(&format!("{:<8} {:<5} {:<10} {}", "HOST", "POWER", heading, "PROCESSES"));
        for h in self.world.host_names() {
            let up = self.world.is_up(&h);
            let mode = match &probe {
                Some(p) if up => (p.probe)(self.world.clone(), h.clone()).await,
                _ => None,
            }
            .unwrap_or_else(|| "-".into());
            let procs: Vec<String> = self
                .world
                .processes(&h)
                .iter()
                .map(|p| {
                    let stopped = if p.stopped { " (stopped)" } else { "" };
                    format!("{} {}{stopped}", p.pid, p.name)
                })
                .collect();
            let row = format!(
                "{:<8} {:<5} {:<10} {}",
                h,
                if up { "on" } else { "off" },
                mode,
                procs.join(", ")
            );
            self.term.out(row.trim_end());
        }
    }

    /// `lab set HOST FILE KEY=VALUE`: edits a key of a properties file, as `vi` would (and
    /// fsyncs it, as vim does on `:w`); a relative FILE is taken from the current directory.
    async fn lab_set(&self, rest: &[String]) -> i32 {
        match ConfigEdit::parse(rest) {
            Ok(mut edit) => {
                edit.file = self.resolve(&edit.file);
                self.apply_edit(&edit).await
            }
            Err(usage) => {
                self.term.err(&usage);
                2
            }
        }
    }

    /// Makes a config edit as `lab set` does: exit 2 for an unknown host, 1 if the disk refused.
    async fn apply_edit(&self, edit: &ConfigEdit) -> i32 {
        match edit.apply(&self.world).await {
            Ok(()) => 0,
            Err(e) => {
                self.term.err(&format!("lab: {e}"));
                match e {
                    ConfigEditError::UnknownHost(_) => 2,
                    ConfigEditError::Disk(_) => 1,
                }
            }
        }
    }

    /// Makes a config edit as if its `lab set` line had been typed at this prompt (the line is
    /// traced and so replays), without parsing anything. Returns the exit code.
    pub async fn edit(&mut self, edit: &ConfigEdit) -> i32 {
        let line = edit.to_string();
        self.begin_line(&line, &line).await;
        let code = self.apply_edit(edit).await;
        self.last_exit = code;
        self.notify_jobs();
        code
    }

    /// `lab disk HOST full|free`: take (or give back) all the free space of a host's disk.
    /// Applies a fault as its `lab …` command does: errors in the command's words, exit 1
    /// for a power switch on an unknown host, 2 otherwise.
    fn apply_fault(&self, fault: &Fault) -> i32 {
        match fault.apply(&self.world) {
            Ok(()) => 0,
            Err(e) => {
                self.term.err(&format!("lab: {e}"));
                match fault {
                    Fault::Crash { .. } | Fault::Boot { .. } => 1,
                    _ => 2,
                }
            }
        }
    }

    /// Injects `fault` as if its shell line had been typed at this prompt (the line is traced
    /// and so replays), without parsing anything. Returns the exit code.
    pub async fn inject(&mut self, fault: &Fault) -> i32 {
        let line = fault.to_string();
        self.begin_line(&line, &line).await;
        let code = match fault {
            Fault::Kill { host, pid }
            | Fault::Pause { host, pid }
            | Fault::Resume { host, pid } => {
                let sig = match fault {
                    Fault::Kill { .. } => "-9",
                    Fault::Pause { .. } => "-STOP",
                    _ => "-CONT",
                };
                match self.world.host(host) {
                    Err(e) => {
                        self.term.err(&e.to_string());
                        255
                    }
                    Ok(_) if !self.world.is_up(host) => {
                        self.term
                            .err(&format!("ssh: connect to host {host} port 22: No route to host"));
                        255
                    }
                    // kill(1) through the shell, so a job's table entry sees it too.
                    Ok(_) => self.kill(host, &[sig.to_string(), pid.to_string()]),
                }
            }
            _ => self.apply_fault(fault),
        };
        self.last_exit = code;
        self.notify_jobs();
        code
    }
}

/// The fault a `lab crash|boot|partition|heal|net|disk …` line asks for, or the usage lines to
/// print.
pub fn parse_fault(sub: &str, rest: &[String]) -> Result<Fault, String> {
    let host = || rest.first().cloned().unwrap_or_default();
    match sub {
        "crash" => Ok(Fault::Crash { host: host() }),
        "boot" => Ok(Fault::Boot { host: host() }),
        "heal" => Ok(Fault::Heal),
        "partition" => PartitionSpec::parse(rest)
            .map(Fault::Partition)
            .map_err(|e| format!("lab: {e}\n{PARTITION_USAGE}")),
        "net" => parse_net(rest),
        "disk" => match (rest.first(), rest.get(1).map(String::as_str)) {
            (Some(h), Some("full")) => Ok(Fault::DiskFull { host: h.clone() }),
            (Some(h), Some("free")) => Ok(Fault::DiskFree { host: h.clone() }),
            (Some(_), Some(other)) => {
                Err(format!("lab: disk: expected full or free, not '{other}'"))
            }
            _ => Err("lab: usage: lab disk HOST full|free".into()),
        },
        other => Err(format!("lab: {other} is not a fault")),
    }
}

/// Usage of `lab net`.
pub const NET_USAGE: &str = "lab: usage: lab net latency DURATION | loss PROBABILITY | bandwidth MBIT | reset   [HOST HOST | HOST -> HOST]";

/// `lab net latency|loss|bandwidth VALUE [A B | A -> B]` and `lab net reset [A B | A -> B]`:
/// every link, or one link (both directions, or only A's traffic to B).
fn parse_net(rest: &[String]) -> Result<Fault, String> {
    let usage = |e: String| format!("lab: net: {e}\n{NET_USAGE}");
    let Some(param) = rest.first().map(String::as_str) else { return Err(NET_USAGE.into()) };
    let value =
        || rest.get(1).map(String::as_str).ok_or_else(|| usage(format!("{param} needs a value")));
    let (change, hosts) = match param {
        "latency" => {
            let v = value()?;
            let d = lexer::parse_duration(v)
                .map_err(|_| usage(format!("'{v}' is not a duration (50ms, 1.5s, 200us)")))?;
            (NetChange::Latency(d), &rest[2..])
        }
        "loss" => {
            let v = value()?;
            let x = v
                .parse::<f64>()
                .ok()
                .filter(|x| (0.0..=1.0).contains(x))
                .ok_or_else(|| usage(format!("'{v}' is not a probability (0 to 1)")))?;
            (NetChange::Loss(x), &rest[2..])
        }
        "bandwidth" => {
            let v = value()?;
            let m = v
                .parse::<u64>()
                .ok()
                .filter(|m| *m > 0 && m.checked_mul(1_000_000).is_some())
                .ok_or_else(|| {
                    usage(format!("'{v}' is not a bandwidth in Mbit/s (1, 100, 1000)"))
                })?;
            (NetChange::Bandwidth(m), &rest[2..])
        }
        "reset" => (NetChange::Reset, &rest[1..]),
        other => return Err(usage(format!("unknown setting '{other}'"))),
    };
    let link = match hosts {
        [] => return Ok(Fault::Net(change)),
        [a, b] if a != "->" && b != "->" => Link::between(a, b),
        [a, arrow, b] if arrow == "->" => Link::one_way(a, b),
        _ => return Err(usage("a link is two hosts: A B (both ways) or A -> B".into())),
    };
    if link.a == link.b {
        return Err(usage(format!("{} to itself is not a link", link.a)));
    }
    Ok(Fault::NetLink { link, change })
}

/// The fault a whole shell line injects, read as the shell reads it: a `lab crash|boot|
/// partition|heal|net|disk …` line, or `ssh HOST kill -9|-STOP|-CONT PID`. This is how the lab's
/// tests check that a [`Fault`] prints as a line meaning that very fault; nothing injects a
/// fault by formatting and parsing it.
pub fn parse_fault_line(line: &str) -> Result<Fault, String> {
    let parsed = lexer::parse_line(line).map_err(|e| e.to_string())?.ok_or("empty line")?;
    match (parsed.host, parsed.words.as_slice()) {
        (None, [lab, sub, rest @ ..]) if lab == "lab" => parse_fault(sub, rest),
        (Some(host), [kill, sig, pid]) if kill == "kill" => {
            let pid = pid.parse::<u32>().map_err(|_| format!("'{pid}' is not a pid"))?;
            match sig.as_str() {
                "-9" | "-KILL" | "-SIGKILL" => Ok(Fault::Kill { host, pid }),
                "-STOP" | "-SIGSTOP" | "-19" => Ok(Fault::Pause { host, pid }),
                "-CONT" | "-SIGCONT" | "-18" => Ok(Fault::Resume { host, pid }),
                other => Err(format!("{other} is not a fault's signal")),
            }
        }
        _ => Err(format!("'{line}' is not a fault")),
    }
}

/// The config edit a `lab set HOST FILE KEY=VALUE` line makes (its FILE as written).
pub fn parse_edit_line(line: &str) -> Result<ConfigEdit, String> {
    let words = lexer::tokenize(line).map_err(|e| e.to_string())?;
    match words.as_slice() {
        [lab, set, rest @ ..] if lab == "lab" && set == "set" => ConfigEdit::parse(rest),
        _ => Err(format!("'{line}' is not a lab set line")),
    }
}
