//! `lab set HOST FILE KEY=VALUE`: one key of a properties file edited on a host's disk, as an
//! operator would in `vi` (and saved with `:w`, which vim fsyncs).
//!
//! The key's first uncommented line is rewritten as `KEY=VALUE`; a key the file does not have is
//! appended; comments and every other line stay as they are. A file that does not exist yet is
//! created. The edit prints as the shell line that makes it ([`std::fmt::Display`]), quoted as
//! the lab's shell reads it, so a scenario's transcript shows what a learner would type.
//!
//! ```
//! use sim_core::fault::ConfigEdit;
//! let e = ConfigEdit::new("slave1", "/etc/kafka/server.properties", "log.retention.hours", "1");
//! assert_eq!(e.to_string(), "lab set slave1 /etc/kafka/server.properties log.retention.hours=1");
//! assert_eq!(ConfigEdit::edit_text("a=1\n# b=0\nb=2\n", "b", "3"), "a=1\n# b=0\nb=3\n");
//! ```

use crate::hw::DiskError;
use crate::world::World;
use std::fmt;

/// Usage of `lab set`.
pub const SET_USAGE: &str = "lab: usage: lab set HOST FILE KEY=VALUE";

/// One edit of a properties file: `KEY=VALUE` in `file` on `host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEdit {
    /// The host whose disk holds the file.
    pub host: String,
    /// The file's absolute path (the shell resolves a relative one against its directory).
    pub file: String,
    /// The property.
    pub key: String,
    /// Its new value.
    pub value: String,
}

/// Why an edit could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigEditError {
    /// The world has no such host.
    #[error("unknown host {0}")]
    UnknownHost(String),
    /// The disk refused the write (it is full).
    #[error("{0}")]
    Disk(#[from] DiskError),
}

impl ConfigEdit {
    /// The edit `key=value` of `file` on `host`.
    pub fn new(host: &str, file: &str, key: &str, value: &str) -> Self {
        ConfigEdit {
            host: host.to_string(),
            file: file.to_string(),
            key: key.to_string(),
            value: value.to_string(),
        }
    }

    /// Parses the words after `lab set` (`HOST FILE KEY=VALUE`); the file is taken as written.
    pub fn parse(words: &[String]) -> Result<ConfigEdit, String> {
        let [host, file, kv] = words else { return Err(SET_USAGE.into()) };
        let Some((key, value)) = kv.split_once('=') else { return Err(SET_USAGE.into()) };
        Ok(ConfigEdit::new(host, file, key, value))
    }

    /// A properties file's text with `key` set to `value`, as [`ConfigEdit::apply`] writes it.
    pub fn edit_text(old: &str, key: &str, value: &str) -> String {
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
        lines.join("\n") + "\n"
    }

    /// Makes the edit on the host's disk and fsyncs the file.
    pub async fn apply(&self, world: &World) -> Result<(), ConfigEditError> {
        let disk =
            world.disk(&self.host).map_err(|_| ConfigEditError::UnknownHost(self.host.clone()))?;
        let old = disk
            .peek(&self.file)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let text = ConfigEdit::edit_text(&old, &self.key, &self.value);
        disk.write_all(&self.file, text.as_bytes()).await?;
        // As vim's `:w`; the edit is made whether or not the flush succeeds.
        let _ = disk.fsync(&self.file).await;
        Ok(())
    }
}

/// A word as the lab's shell reads it back: as is when it needs no quoting, else in single
/// quotes (`'` written as `'\''`).
pub fn shell_word(w: &str) -> String {
    if !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || "=._-,:/+@%".contains(c)) {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

impl fmt::Display for ConfigEdit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lab set {} {} {}",
            shell_word(&self.host),
            shell_word(&self.file),
            shell_word(&format!("{}={}", self.key, self.value))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_the_first_uncommented_line_or_appends() {
        assert_eq!(ConfigEdit::edit_text("", "a", "1"), "a=1\n");
        assert_eq!(ConfigEdit::edit_text("x=0\n", "a", "1"), "x=0\na=1\n");
        assert_eq!(ConfigEdit::edit_text("#a=0\na = 2\n", "a", "1"), "#a=0\na=1\n");
    }

    #[test]
    fn prints_quoted_where_the_shell_needs_it() {
        let e = ConfigEdit::new("master", "/c/s.properties", "log.dirs", "/a b");
        assert_eq!(e.to_string(), "lab set master /c/s.properties 'log.dirs=/a b'");
        let e = ConfigEdit::new("master", "/c/s.properties", "k", "it's");
        assert_eq!(e.to_string(), "lab set master /c/s.properties 'k=it'\\''s'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn parse_wants_three_words_and_an_equals_sign() {
        let w = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        assert_eq!(ConfigEdit::parse(&w("h f k=v=w")), Ok(ConfigEdit::new("h", "f", "k", "v=w")));
        assert_eq!(ConfigEdit::parse(&w("h f k=")), Ok(ConfigEdit::new("h", "f", "k", "")));
        for bad in ["", "h", "h f", "h f kv", "h f k=v extra"] {
            assert_eq!(ConfigEdit::parse(&w(bad)), Err(SET_USAGE.to_string()), "{bad:?}");
        }
    }
}
