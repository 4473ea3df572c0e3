//! A terminal's output as the tools write it: stdout and stderr interleaved in order, as a learner
//! sees them. Processes hold a clone and write from their own tasks.

use crate::trace::lock;
use std::sync::{Arc, Mutex};

/// Collected terminal output. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Term {
    buf: Arc<Mutex<String>>,
}

impl Term {
    /// An empty terminal.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes a line to standard output.
    pub fn out(&self, line: &str) {
        let mut b = lock(&self.buf);
        b.push_str(line);
        b.push('\n');
    }

    /// Writes a line to standard error (shown in order with stdout, as on a terminal).
    pub fn err(&self, line: &str) {
        self.out(line)
    }

    /// Writes raw text (no newline added).
    pub fn raw(&self, text: &str) {
        lock(&self.buf).push_str(text);
    }

    /// Takes everything written so far.
    pub fn take(&self) -> String {
        std::mem::take(&mut *lock(&self.buf))
    }
}
