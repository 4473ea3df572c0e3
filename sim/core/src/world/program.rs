//! The programs the hosts can run, found by name: the lab's `PATH`.
//!
//! The shell knows no program. ZooKeeper and Kafka each hand a list of [`Program`]s to a
//! [`Registry`] (with the exercise hooks their processes are built with); the shell looks a
//! command up there and runs it as bash would: a [`Program::Process`] as a process of its own in
//! the foreground or as a job, a [`Program::Script`] (a launcher such as `zkServer.sh`) inside the
//! shell. The registry also carries what installing those packages puts on a host: the
//! `.bashrc` exports, the login directory, the installers that write their configuration, and
//! a probe for `lab status`.
//!
//! ```
//! use sim_core::program::{Invocation, Program, Registry};
//! let mut reg = Registry::default();
//! reg.add("true.sh", Program::process("True", false, |_ctx, _inv, _term, _stdin| async { 0 }));
//! assert!(reg.get("true.sh").is_some());
//! assert!(reg.get("false.sh").is_none());
//! assert_eq!(Invocation { cwd: "/root".into(), ..Default::default() }.resolve("../etc"), "/etc");
//! ```

use super::{ProcCtx, World};
use crate::term::Term;
use futures::channel::mpsc::UnboundedReceiver;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A program's standard input: the lines typed at the terminal, until end of input.
pub type Stdin = UnboundedReceiver<String>;

/// A process's main, as a boxed future (processes run on their own madsim node, so `Send`).
pub type ProcessFuture = Pin<Box<dyn Future<Output = i32> + Send + 'static>>;
/// A script's run inside the shell's own task.
pub type ScriptFuture = Pin<Box<dyn Future<Output = Launched> + 'static>>;
/// A probe's answer for one host.
pub type ProbeFuture = Pin<Box<dyn Future<Output = Option<String>> + 'static>>;

type ProcessMain = dyn Fn(ProcCtx, Invocation, Term, Option<Stdin>) -> ProcessFuture + Send + Sync;
type ScriptMain = dyn Fn(World, String, Invocation, Term) -> ScriptFuture + Send + Sync;

/// How the shell started a program.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// The arguments after the program's name.
    pub args: Vec<String>,
    /// The shell's working directory (relative file arguments are read from there).
    pub cwd: String,
    /// Started with `&`: no terminal input.
    pub background: bool,
    /// Started under `nohup`: its console output goes to `nohup.out`.
    pub nohup: bool,
}

impl Invocation {
    /// `path` resolved against the working directory.
    pub fn resolve(&self, path: &str) -> String {
        resolve_path(&self.cwd, path)
    }
}

/// What a script did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launched {
    /// It ran to its end with this exit code.
    Exited(i32),
    /// It started a process that keeps the script's place: a job when started with `&`.
    Started {
        /// The process started.
        pid: u32,
        /// The script daemonised it and exited at once (`kafka-server-start.sh -daemon`).
        detached: bool,
    },
}

/// One program on the hosts' `PATH`.
#[derive(Clone)]
pub enum Program {
    /// A program that runs as a process of its own (a JVM named `main_class` in `jps`).
    Process {
        /// What `jps` shows (`TopicCommand`, `ConsoleProducer`).
        main_class: &'static str,
        /// It reads the terminal (lines until `^D`); the shell feeds it.
        reads_stdin: bool,
        /// Its main: the exit code.
        main: Arc<ProcessMain>,
    },
    /// A launcher script the shell interprets itself (`zkServer.sh`, `kafka-server-start.sh`).
    Script {
        /// It ends by exec-ing a process (`kafka-server-start.sh` runs `java`), so `&` makes
        /// that process the job; other scripts run with `&` in a subshell.
        execs: bool,
        /// Its body.
        main: Arc<ScriptMain>,
    },
}

impl Program {
    /// A [`Program::Process`] from an async main.
    pub fn process<F, Fut>(main_class: &'static str, reads_stdin: bool, main: F) -> Self
    where
        F: Fn(ProcCtx, Invocation, Term, Option<Stdin>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = i32> + Send + 'static,
    {
        Program::Process {
            main_class,
            reads_stdin,
            main: Arc::new(move |ctx, inv, term, stdin| Box::pin(main(ctx, inv, term, stdin))),
        }
    }

    /// A [`Program::Script`] from an async function of the world, the host and the invocation.
    /// `execs`: see [`Program::Script`].
    pub fn script<F, Fut>(execs: bool, main: F) -> Self
    where
        F: Fn(World, String, Invocation, Term) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Launched> + 'static,
    {
        Program::Script {
            execs,
            main: Arc::new(move |world, host, inv, term| Box::pin(main(world, host, inv, term))),
        }
    }
}

/// A `lab status` column: what a service on a host says it is (ZooKeeper's mode).
#[derive(Clone)]
pub struct StatusProbe {
    /// The column's heading (`ZK MODE`).
    pub heading: &'static str,
    /// The process the service runs as (`QuorumPeerMain`): hosts without one are skipped.
    pub process: &'static str,
    /// The answer on a host, or None when it does not answer.
    pub probe: Arc<dyn Fn(World, String) -> ProbeFuture + Send + Sync>,
}

/// What installs a package's files on every host (zoo.cfg and myid, server.properties).
pub type Installer = Arc<dyn Fn(&World) + Send + Sync>;

/// The programs and installed packages of a world's hosts.
#[derive(Clone, Default)]
pub struct Registry {
    programs: BTreeMap<String, Program>,
    /// Fully qualified main classes by `jps` name (`Kafka` → `kafka.Kafka`), for `pkill -f`.
    main_classes: BTreeMap<String, String>,
    env: Vec<(String, String)>,
    login_dir: Option<String>,
    installers: Vec<Installer>,
    boot: Vec<Vec<String>>,
    status: Option<StatusProbe>,
}

impl Registry {
    /// Puts `program` on the `PATH` as `name` (a later one replaces an earlier one).
    pub fn add(&mut self, name: &str, program: Program) -> &mut Self {
        self.programs.insert(name.to_string(), program);
        self
    }

    /// The program called `name`.
    pub fn get(&self, name: &str) -> Option<&Program> {
        self.programs.get(name)
    }

    /// Every program's name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.programs.keys().map(String::as_str)
    }

    /// Records that processes shown as `short` run the main class `full`.
    pub fn main_class(&mut self, short: &str, full: &str) -> &mut Self {
        self.main_classes.insert(short.to_string(), full.to_string());
        self
    }

    /// The fully qualified main class of a process `jps` shows as `short`.
    pub fn full_main_class(&self, short: &str) -> Option<&str> {
        self.main_classes.get(short).map(String::as_str)
    }

    /// An export of the hosts' `.bashrc` (`KAFKA_HOME`).
    pub fn export(&mut self, name: &str, value: &str) -> &mut Self {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    /// The `.bashrc` exports, in order.
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    /// Where a login shell starts (the seed starts in ZooKeeper's `bin`).
    pub fn set_login_dir(&mut self, dir: &str) -> &mut Self {
        self.login_dir = Some(dir.to_string());
        self
    }

    /// Where a login shell starts: the login directory set, or `/root`.
    pub fn login_dir(&self) -> &str {
        self.login_dir.as_deref().unwrap_or("/root")
    }

    /// An installer run when the cluster is set up.
    pub fn installer(&mut self, f: impl Fn(&World) + Send + Sync + 'static) -> &mut Self {
        self.installers.push(Arc::new(f));
        self
    }

    /// Runs every installer on `world`.
    pub fn install(&self, world: &World) {
        for f in &self.installers {
            f(world);
        }
    }

    /// A command line run on every host to boot the cluster (`zkServer.sh start`).
    pub fn boot_command(&mut self, words: &[&str]) -> &mut Self {
        self.boot.push(words.iter().map(|w| w.to_string()).collect());
        self
    }

    /// The boot command lines, in order.
    pub fn boot_commands(&self) -> &[Vec<String>] {
        &self.boot
    }

    /// Sets the `lab status` probe.
    pub fn set_status_probe(&mut self, probe: StatusProbe) -> &mut Self {
        self.status = Some(probe);
        self
    }

    /// The `lab status` probe, if a package set one.
    pub fn status_probe(&self) -> Option<&StatusProbe> {
        self.status.as_ref()
    }

    /// Adds everything `other` holds (its programs replace ones of the same name).
    pub fn extend(&mut self, other: Registry) -> &mut Self {
        self.programs.extend(other.programs);
        self.main_classes.extend(other.main_classes);
        self.env.extend(other.env);
        if other.login_dir.is_some() {
            self.login_dir = other.login_dir;
        }
        self.installers.extend(other.installers);
        self.boot.extend(other.boot);
        if other.status.is_some() {
            self.status = other.status;
        }
        self
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("programs", &self.programs.keys()).finish_non_exhaustive()
    }
}

/// `path` made absolute against the working directory `cwd`, with `.` and `..` folded away.
pub fn resolve_path(cwd: &str, path: &str) -> String {
    let joined = if path.starts_with('/') || cwd.is_empty() {
        path.to_string()
    } else {
        format!("{cwd}/{path}")
    };
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
