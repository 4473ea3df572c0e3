//! `lab lesson list | run ID [--lang en|zh] [--seed N]`: the guided lessons of `lessons/`.
//!
//! The lessons and the scenario files they name are read from the project's root: the current
//! directory if it has `lessons/`, else the source tree this `lab` was built from. The lesson
//! itself runs in `sim::lesson`; this file is the terminal: output as it comes, and — only when
//! stdin is a terminal — predictions typed by the learner and Enter at the pauses.

use anyhow::{anyhow, bail, Context, Result};
use sim::lesson::{Catalog, Lang, Learner, RunOptions};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// The directory holding `lessons/` and `scenarios/`.
fn root() -> Result<PathBuf> {
    let cwd = std::env::current_dir().context("current directory")?;
    if cwd.join("lessons").is_dir() {
        return Ok(cwd);
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if built.join("lessons").is_dir() {
        return Ok(built);
    }
    bail!("no lessons/ directory here or in {}; run lab from the project's root", built.display())
}

/// Reads every `lessons/*.toml` under `root` and the scenario files they name.
pub fn load(root: &Path) -> Result<Catalog> {
    let dir = root.join("lessons");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            let name =
                path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            files.push((name, text));
        }
    }
    let read = |p: &str| std::fs::read_to_string(root.join(p)).map_err(|e| e.to_string());
    Catalog::load(files, &read).map_err(|e| anyhow!("lessons/{e}"))
}

/// The real terminal.
struct Terminal {
    interactive: bool,
    stdin: std::io::StdinLock<'static>,
}

impl Terminal {
    fn line(&mut self) -> Option<String> {
        let mut s = String::new();
        match self.stdin.read_line(&mut s) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(s.trim_end_matches(['\n', '\r']).to_string()),
        }
    }
}

impl Learner for Terminal {
    fn interactive(&self) -> bool {
        self.interactive
    }
    fn write(&mut self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
    fn pause(&mut self) {
        let _ = self.line();
    }
    fn predict(&mut self) -> Option<String> {
        self.line()
    }
}

fn lang(s: &str) -> Result<Lang> {
    s.parse().map_err(|e| anyhow!("--lang: {e}"))
}

/// `lab lesson list`.
pub fn list(lang_code: &str) -> Result<i32> {
    let catalog = load(&root()?)?;
    print!("{}", catalog.list(lang(lang_code)?));
    Ok(0)
}

/// `lab lesson run ID`.
pub fn run(id: &str, lang_code: &str, seed: Option<u64>) -> Result<i32> {
    let catalog = load(&root()?)?;
    let lesson = catalog.get(id)?;
    let stdin = std::io::stdin();
    let mut term = Terminal { interactive: stdin.is_terminal(), stdin: stdin.lock() };
    sim::lesson::run(lesson, &RunOptions { lang: lang(lang_code)?, seed }, &mut term)?;
    Ok(0)
}
