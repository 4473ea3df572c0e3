//! Tab completion for a terminal: command names (the shell's builtins and the registry's
//! programs), host names after `ssh` (and `lab crash|boot|disk`), `lab` subcommands, and paths of
//! the simulated disks for arguments. [`Shell::completer`] takes a snapshot that needs no world,
//! so a line editor outside the simulation can complete while the simulation waits for a line.
//! Nothing here changes the world: reading the disks' file lists is not traced.

use crate::{resolve_path, Shell};
use std::collections::BTreeMap;

/// Commands the shell runs itself, without the registry (see `run_command` and the lexer).
pub const BUILTINS: &[&str] = &[
    "bg", "cat", "cd", "clear", "date", "echo", "export", "fg", "help", "hostname", "jobs", "jps",
    "kill", "lab", "ls", "nohup", "pkill", "sleep", "source", "ssh", "true", "wait",
];

/// `lab`'s subcommands, as `help` lists them.
const LAB_SUBCOMMANDS: &[&str] =
    &["boot", "crash", "disk", "heal", "net", "partition", "set", "status", "trace"];

/// What completion needs of a shell, copied out of it.
#[derive(Debug, Clone, Default)]
pub struct Completions {
    /// Builtins and programs, sorted.
    pub commands: Vec<String>,
    /// The world's host names.
    pub hosts: Vec<String>,
    /// Every file's absolute path, by host.
    pub files: BTreeMap<String, Vec<String>>,
    /// The current host.
    pub host: String,
    /// The working directory.
    pub cwd: String,
}

impl Shell {
    /// A snapshot for completing lines typed on this shell.
    pub fn completer(&self) -> Completions {
        let mut commands: Vec<String> = BUILTINS.iter().map(|s| s.to_string()).collect();
        commands.extend(self.world.config().programs.names().map(str::to_string));
        commands.sort();
        commands.dedup();
        let hosts = self.world.host_names();
        let files = hosts
            .iter()
            .filter_map(|h| self.world.disk(h).ok().map(|d| (h.clone(), d.list("/"))))
            .collect();
        Completions { commands, hosts, files, host: self.host.clone(), cwd: self.cwd.clone() }
    }

    /// The words that can replace the last word of `line_before_cursor`, sorted
    /// (`kafka-to` gives `kafka-topics.sh`; a directory ends with `/`).
    pub fn completions(&self, line_before_cursor: &str) -> Vec<String> {
        self.completer().complete(line_before_cursor)
    }
}

impl Completions {
    /// The byte offset where the word under completion starts.
    pub fn word_start(line: &str) -> usize {
        line.rfind(char::is_whitespace).map(|i| i + 1).unwrap_or(0)
    }

    /// The words that can replace the last word of `line` (the text before the cursor).
    pub fn complete(&self, line: &str) -> Vec<String> {
        let start = Self::word_start(line);
        let word = &line[start..];
        let before: Vec<&str> = line[..start].split_whitespace().collect();
        // Skip `nohup` and `ssh HOST` to find where the command word is.
        let mut i = 0;
        let mut host = self.host.as_str();
        loop {
            match before.get(i) {
                Some(&"nohup") => i += 1,
                Some(&"ssh") if i + 1 < before.len() => {
                    let h = before[i + 1];
                    host = h.rsplit('@').next().unwrap_or(h);
                    i += 2;
                }
                _ => break,
            }
        }
        let rest = &before[i.min(before.len())..];
        let mut out: Vec<String> = match rest {
            [] => prefixed(&self.commands[..], word),
            ["ssh"] | ["lab", "crash" | "boot" | "disk"] => match word.split_once('@') {
                Some((user, h)) => prefixed(&self.hosts[..], h)
                    .into_iter()
                    .map(|h| format!("{user}@{h}"))
                    .collect(),
                None => prefixed(&self.hosts[..], word),
            },
            ["lab"] => prefixed(LAB_SUBCOMMANDS, word),
            _ => self.paths(host, word),
        };
        out.sort();
        out.dedup();
        out
    }

    /// Paths on `host` that start with `word` (relative to the working directory unless absolute).
    fn paths(&self, host: &str, word: &str) -> Vec<String> {
        let Some(files) = self.files.get(host) else { return Vec::new() };
        let (dir_part, base) = match word.rfind('/') {
            Some(i) => (&word[..=i], &word[i + 1..]),
            None => ("", word),
        };
        let dir = if dir_part.is_empty() {
            resolve_path(&self.cwd, ".")
        } else {
            resolve_path(&self.cwd, dir_part)
        };
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        files
            .iter()
            .filter_map(|p| p.strip_prefix(&prefix))
            .filter_map(|rel| {
                let (name, below) = match rel.split_once('/') {
                    Some((name, _)) => (name, true),
                    None => (rel, false),
                };
                (name.starts_with(base) && !name.is_empty())
                    .then(|| format!("{dir_part}{name}{}", if below { "/" } else { "" }))
            })
            .collect()
    }
}

fn prefixed<S: AsRef<str>>(names: &[S], word: &str) -> Vec<String> {
    names.iter().map(AsRef::as_ref).filter(|n| n.starts_with(word)).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Completions {
        let files = vec![
            "/opt/kafka/config/server.properties".to_string(),
            "/opt/kafka/config/zookeeper.properties".to_string(),
            "/opt/kafka/logs/server.log".to_string(),
        ];
        Completions {
            commands: ["cat", "kafka-topics.sh", "kafka-server-start.sh", "ssh", "zkCli.sh"]
                .map(String::from)
                .to_vec(),
            hosts: ["master", "slave1", "slave2"].map(String::from).to_vec(),
            files: [("master".to_string(), files.clone()), ("slave1".to_string(), files)]
                .into_iter()
                .collect(),
            host: "master".into(),
            cwd: "/opt/kafka".into(),
        }
    }

    #[test]
    fn command_names() {
        let c = sample();
        assert_eq!(c.complete("kafka-to"), vec!["kafka-topics.sh"]);
        assert_eq!(c.complete("kafka-"), vec!["kafka-server-start.sh", "kafka-topics.sh"]);
        assert_eq!(c.complete("nohup zk"), vec!["zkCli.sh"]);
        assert_eq!(c.complete("ssh slave1 kafka-t"), vec!["kafka-topics.sh"]);
        assert!(c.complete("nothing").is_empty());
    }

    #[test]
    fn hosts_after_ssh() {
        let c = sample();
        assert_eq!(c.complete("ssh sl"), vec!["slave1", "slave2"]);
        assert_eq!(c.complete("ssh root@m"), vec!["root@master"]);
        assert_eq!(c.complete("lab crash s"), vec!["slave1", "slave2"]);
        assert_eq!(c.complete("lab pa"), vec!["partition"]);
    }

    #[test]
    fn paths() {
        let c = sample();
        assert_eq!(c.complete("cat con"), vec!["config/"]);
        assert_eq!(
            c.complete("cat config/"),
            vec!["config/server.properties", "config/zookeeper.properties"]
        );
        assert_eq!(c.complete("cat /opt/kafka/logs/s"), vec!["/opt/kafka/logs/server.log"]);
        assert_eq!(c.complete("ls ../k"), vec!["../kafka/"]);
        assert_eq!(c.complete("ssh slave2 cat con"), Vec::<String>::new());
    }
}
