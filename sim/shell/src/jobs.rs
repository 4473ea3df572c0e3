//! Bash job control for the lab's shell: the job table behind `cmd &`, `jobs`, `kill %N`,
//! `fg`/`bg`, and the `[1]+  Done …` notifications bash prints before the next prompt.
//!
//! Formats follow bash's `jobs.c`: `[N]` and the current (`+`) / previous (`-`) mark, the status
//! padded to 24 columns, the command as typed, ` &` while it runs, and `  (wd: DIR)` when it was
//! started in another directory. A job's number is one more than the highest in use (so numbering
//! starts again at 1 once the table is empty). Every program in the lab is a JVM: SIGTERM makes it
//! run its shutdown hooks and exit with 143, so bash reports `Exit 143`, not `Terminated`
//! (which a plain `sleep 100 &` shows); `kill -9` shows `Killed`.

use super::StdinSink;
use sim_core::world::{ExitStatus, World};
use std::collections::BTreeMap;

/// bash's `LONGEST_SIGNAL_DESC`: the status column's width.
const STATUS_WIDTH: usize = 24;

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// As `wait` reported it.
    Status(ExitStatus),
    /// Its host went down with it: the ssh session carrying it ended with 255.
    Lost,
}

/// A job's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Running in the background.
    Running,
    /// Stopped: by SIGTTIN (a background program tried to read the terminal), or by
    /// `kill -STOP`.
    Stopped,
    /// Finished.
    Ended(Ended),
}

impl JobStatus {
    /// The status column (`printable_job_status`).
    pub fn text(self) -> String {
        match self {
            JobStatus::Running => "Running".into(),
            JobStatus::Stopped => "Stopped".into(),
            JobStatus::Ended(Ended::Status(ExitStatus::Exited(0))) => "Done".into(),
            JobStatus::Ended(Ended::Status(ExitStatus::Exited(n))) => format!("Exit {n}"),
            JobStatus::Ended(Ended::Status(ExitStatus::Signaled(n))) => {
                signal_description(n).into()
            }
            JobStatus::Ended(Ended::Lost) => "Exit 255".into(),
        }
    }
}

/// `strsignal` for the signals the lab sends.
pub fn signal_description(n: i32) -> &'static str {
    match n {
        1 => "Hangup",
        2 => "Interrupt",
        9 => "Killed",
        15 => "Terminated",
        _ => "Unknown signal",
    }
}

/// What a job runs.
#[derive(Debug, Clone)]
pub enum JobKind {
    /// A process of the world (a JVM), possibly on another host (`ssh HOST cmd &`).
    Process {
        /// Where it runs.
        host: String,
    },
    /// `sleep N &`: a timer, no JVM.
    Sleep {
        /// When it ends by itself.
        until: madsim::time::Instant,
    },
    /// A command the lab ran to completion at once (`echo hi &`).
    Immediate,
}

/// One job.
pub struct Job {
    /// Job number.
    pub id: u32,
    /// Process id bash printed.
    pub pid: u32,
    /// What it runs.
    pub kind: JobKind,
    /// The command as typed, without the `&`.
    pub command: String,
    /// Directory it was started in.
    pub wd: String,
    /// State.
    pub status: JobStatus,
    /// The current state has been reported.
    pub notified: bool,
    /// For a program stopped because it wants the terminal: its input, for `fg`.
    pub stdin: Option<StdinSink>,
}

/// The shell's jobs.
#[derive(Default)]
pub struct JobTable {
    jobs: BTreeMap<u32, Job>,
    /// Job ids, least recently started or stopped first.
    recency: Vec<u32>,
}

/// `~` for `/root`, as `polite_directory_format` writes the home directory.
fn polite(dir: &str) -> String {
    match dir.strip_prefix("/root") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("~{rest}"),
        _ => dir.to_string(),
    }
}

impl JobTable {
    /// The number the next job gets.
    pub fn next_id(&self) -> u32 {
        self.jobs.keys().max().map_or(1, |m| m + 1)
    }

    /// True when there is no job.
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// Adds a job; it becomes the current one.
    pub fn add(&mut self, job: Job) {
        self.recency.push(job.id);
        self.jobs.insert(job.id, job);
    }

    /// A job by number.
    pub fn get_mut(&mut self, id: u32) -> Option<&mut Job> {
        self.jobs.get_mut(&id)
    }

    /// Removes a job.
    pub fn remove(&mut self, id: u32) -> Option<Job> {
        self.recency.retain(|j| *j != id);
        self.jobs.remove(&id)
    }

    /// The job whose process is `pid` on `host` (or, with no host, on any host).
    pub fn by_pid(&self, host: Option<&str>, pid: u32) -> Option<u32> {
        self.jobs
            .values()
            .find(|j| {
                j.pid == pid
                    && host
                        .is_none_or(|h| matches!(&j.kind, JobKind::Process { host: jh } if jh == h))
            })
            .map(|j| j.id)
    }

    /// Job ids in number order.
    pub fn ids(&self) -> Vec<u32> {
        self.jobs.keys().copied().collect()
    }

    /// Collects finished processes and timers, and processes stopped or continued by a signal
    /// (bash's `waitchld`).
    pub fn poll(&mut self, world: &World) {
        let now = madsim::time::Instant::now();
        let mut stopped = Vec::new();
        for job in self.jobs.values_mut() {
            if matches!(job.status, JobStatus::Ended(_)) {
                continue;
            }
            let ended = match &job.kind {
                JobKind::Process { host } => {
                    let proc = world.processes(host).into_iter().find(|p| p.pid == job.pid);
                    if let Some(p) = proc {
                        match job.status {
                            JobStatus::Running if p.stopped => stopped.push(job.id),
                            // A job stopped for the terminal (SIGTTIN) stays stopped when
                            // continued: it would read the terminal again.
                            JobStatus::Stopped if !p.stopped && job.stdin.is_none() => {
                                job.status = JobStatus::Running;
                                job.notified = true;
                            }
                            _ => {}
                        }
                        None
                    } else {
                        Some(
                            world
                                .take_exit_status(host, job.pid)
                                .map_or(Ended::Lost, Ended::Status),
                        )
                    }
                }
                JobKind::Sleep { until } => (job.status == JobStatus::Running && now >= *until)
                    .then_some(Ended::Status(ExitStatus::Exited(0))),
                JobKind::Immediate => None,
            };
            if let Some(e) = ended {
                job.status = JobStatus::Ended(e);
                job.notified = false;
                job.stdin = None;
            }
        }
        for id in stopped {
            self.set_stopped(id);
        }
    }

    /// Marks a job stopped (SIGTTIN or SIGSTOP) and makes it the current one, as bash does.
    pub fn set_stopped(&mut self, id: u32) {
        if let Some(j) = self.jobs.get_mut(&id) {
            j.status = JobStatus::Stopped;
            j.notified = false;
            self.recency.retain(|x| *x != id);
            self.recency.push(id);
        }
    }

    /// The current (`+`) and previous (`-`) jobs: the most recent, stopped jobs first.
    fn current_and_previous(&self) -> (Option<u32>, Option<u32>) {
        let mut order: Vec<u32> =
            self.recency.iter().rev().copied().filter(|id| self.jobs.contains_key(id)).collect();
        order.sort_by_key(|id| self.jobs.get(id).is_none_or(|j| j.status != JobStatus::Stopped));
        (order.first().copied(), order.get(1).copied())
    }

    /// The job a jobspec (`%1`, `%%`, `%+`, `%-`, `%name`, `%?text`) names, or bash's complaint.
    pub fn resolve(&self, spec: &str) -> Result<u32, String> {
        let (cur, prev) = self.current_and_previous();
        let body = spec.strip_prefix('%').unwrap_or(spec);
        let none = || format!("{spec}: no such job");
        match body {
            "" | "%" | "+" => cur.ok_or_else(none),
            "-" => prev.or(cur).ok_or_else(none),
            n if n.chars().all(|c| c.is_ascii_digit()) => {
                n.parse::<u32>().ok().filter(|id| self.jobs.contains_key(id)).ok_or_else(none)
            }
            text => {
                let (needle, anywhere) = match text.strip_prefix('?') {
                    Some(t) => (t, true),
                    None => (text, false),
                };
                let hits: Vec<u32> = self
                    .jobs
                    .values()
                    .filter(|j| {
                        if anywhere {
                            j.command.contains(needle)
                        } else {
                            j.command.starts_with(needle)
                        }
                    })
                    .map(|j| j.id)
                    .collect();
                match hits.as_slice() {
                    [one] => Ok(*one),
                    [] => Err(none()),
                    _ => Err(format!("{spec}: ambiguous job spec")),
                }
            }
        }
    }

    /// One line as `jobs` prints it (`pretty_print_job`), with the pid for `jobs -l`.
    pub fn line(&self, id: u32, long: bool, cwd: &str) -> Option<String> {
        let job = self.jobs.get(&id)?;
        let (cur, prev) = self.current_and_previous();
        let mark = if Some(id) == cur {
            '+'
        } else if Some(id) == prev {
            '-'
        } else {
            ' '
        };
        let pid = if long { format!("{:>5}", job.pid) } else { String::new() };
        let status = job.status.text();
        let pad = " ".repeat(STATUS_WIDTH.saturating_sub(status.len()));
        let amp = if job.status == JobStatus::Running { " &" } else { "" };
        let wd = if job.wd != cwd { format!("  (wd: {})", polite(&job.wd)) } else { String::new() };
        Some(format!("[{id}]{mark} {pid} {status}{pad}{}{amp}{wd}", job.command))
    }

    /// The notifications bash prints before the next prompt: every job whose state changed since
    /// it was last reported; finished jobs leave the table.
    pub fn notifications(&mut self, cwd: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut done = Vec::new();
        for id in self.ids() {
            let Some(job) = self.jobs.get(&id) else { continue };
            if job.notified || job.status == JobStatus::Running {
                continue;
            }
            if let Some(l) = self.line(id, false, cwd) {
                out.push(l);
            }
            if let Some(j) = self.jobs.get_mut(&id) {
                j.notified = true;
                if matches!(j.status, JobStatus::Ended(_)) {
                    done.push(id);
                }
            }
        }
        for id in done {
            self.remove(id);
        }
        out
    }

    /// Forgets finished jobs once `jobs` has shown them.
    pub fn drop_reported(&mut self) {
        let done: Vec<u32> = self
            .jobs
            .values()
            .filter(|j| matches!(j.status, JobStatus::Ended(_)))
            .map(|j| j.id)
            .collect();
        for id in done {
            self.remove(id);
        }
        for j in self.jobs.values_mut() {
            j.notified = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: u32, command: &str, status: JobStatus) -> Job {
        Job {
            id,
            pid: 4000 + id,
            kind: JobKind::Immediate,
            command: command.into(),
            wd: "/root".into(),
            status,
            notified: false,
            stdin: None,
        }
    }

    #[test]
    fn lines_look_like_bash() {
        let mut t = JobTable::default();
        t.add(job(
            1,
            "kafka-console-consumer.sh --zookeeper master:2181 --topic t",
            JobStatus::Running,
        ));
        t.add(job(2, "sleep 100", JobStatus::Running));
        assert_eq!(t.line(1, false, "/root").as_deref(), Some("[1]-  Running                 kafka-console-consumer.sh --zookeeper master:2181 --topic t &"));
        assert_eq!(
            t.line(2, true, "/root").as_deref(),
            Some("[2]+  4002 Running                 sleep 100 &")
        );
        assert_eq!(
            t.line(2, false, "/root/x").as_deref(),
            Some("[2]+  Running                 sleep 100 &  (wd: ~)")
        );
        if let Some(j) = t.get_mut(2) {
            j.status = JobStatus::Ended(Ended::Status(ExitStatus::Signaled(15)));
        }
        if let Some(j) = t.get_mut(1) {
            j.status = JobStatus::Ended(Ended::Status(ExitStatus::Exited(143)));
        }
        assert_eq!(
            t.notifications("/root"),
            vec![
                "[1]-  Exit 143                kafka-console-consumer.sh --zookeeper master:2181 --topic t".to_string(),
                "[2]+  Terminated              sleep 100".to_string()
            ]
        );
        assert!(t.is_empty());
        assert_eq!(t.next_id(), 1, "numbering starts again");
    }

    #[test]
    fn jobspecs_resolve_like_bash() {
        let mut t = JobTable::default();
        t.add(job(1, "kafka-console-consumer.sh a", JobStatus::Running));
        t.add(job(2, "kafka-console-producer.sh b", JobStatus::Running));
        t.add(job(3, "zkCli.sh ls /", JobStatus::Running));
        assert_eq!(t.resolve("%1"), Ok(1));
        assert_eq!(t.resolve("%%"), Ok(3));
        assert_eq!(t.resolve("%+"), Ok(3));
        assert_eq!(t.resolve("%-"), Ok(2));
        assert_eq!(t.resolve("%zk"), Ok(3));
        assert_eq!(t.resolve("%?producer"), Ok(2));
        assert_eq!(t.resolve("%kafka"), Err("%kafka: ambiguous job spec".into()));
        assert_eq!(t.resolve("%9"), Err("%9: no such job".into()));
        t.set_stopped(1);
        assert_eq!(t.resolve("%+"), Ok(1), "a stopped job becomes the current one");
        assert_eq!(t.next_id(), 4);
        assert_eq!(JobTable::default().resolve("%%"), Err("%%: no such job".into()));
    }
}
