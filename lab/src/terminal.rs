//! Where `lab shell` gets its lines: a pipe or file (read lossily, one line at a time, exactly as
//! `BufRead::lines` would for valid UTF-8), or a real terminal, where a line editor (rustyline)
//! gives bash's Emacs keys, a session history (Up/Down, Ctrl-R, `!!`), Tab completion of
//! commands, hosts and paths, Ctrl-C to drop the line and Ctrl-D to log out.
//!
//! The terminal is real I/O outside the simulated world: the editor runs while the simulation
//! waits for a line, and only the accepted line enters the world, as a piped one would.

use anyhow::Result;
use rustyline::completion::{Completer, Pair};
use rustyline::config::{ColorMode, CompletionType, Config, EditMode};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};
use sim::shell::complete::Completions;
use sim::shell::Shell;
use std::io::BufRead;

/// Lines of a reader, split at `\n` (a `\r` before it is dropped, as `lines()` does); bytes that
/// are not UTF-8 become U+FFFD instead of ending the input.
pub struct LossyLines<R> {
    reader: R,
    buf: Vec<u8>,
}

impl<R: BufRead> LossyLines<R> {
    pub fn new(reader: R) -> Self {
        LossyLines { reader, buf: Vec::new() }
    }
}

impl<R: BufRead> Iterator for LossyLines<R> {
    type Item = std::io::Result<String>;

    fn next(&mut self) -> Option<Self::Item> {
        self.buf.clear();
        match self.reader.read_until(b'\n', &mut self.buf) {
            Ok(0) => None,
            Ok(_) => {
                if self.buf.last() == Some(&b'\n') {
                    self.buf.pop();
                    if self.buf.last() == Some(&b'\r') {
                        self.buf.pop();
                    }
                }
                Some(Ok(String::from_utf8_lossy(&self.buf).into_owned()))
            }
            Err(e) => Some(Err(e)),
        }
    }
}

/// Completion for the editor, from a snapshot of the shell taken before each line.
struct LabHelper {
    completions: Completions,
}

impl Completer for LabHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = line.get(..pos).unwrap_or(line);
        let start = Completions::word_start(before);
        let words = self.completions.complete(before);
        let only = words.len() == 1;
        let pairs = words
            .into_iter()
            .map(|w| {
                let shown = w.trim_end_matches('/');
                let display = match shown.rfind('/') {
                    Some(i) => w[i + 1..].to_string(),
                    None => w.clone(),
                };
                // bash ends a unique completion with a space, unless it is a directory.
                let replacement = if only && !w.ends_with('/') { format!("{w} ") } else { w };
                Pair { display, replacement }
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for LabHelper {
    type Hint = String;
}

impl Highlighter for LabHelper {}

impl Validator for LabHelper {}

impl Helper for LabHelper {}

/// What the terminal gave.
pub enum Input {
    /// A line for the shell (a command, or a line for the program reading the terminal).
    Line(String),
    /// Ctrl-D on an empty prompt: log out.
    Exit,
}

/// The line editor of an interactive `lab shell`.
pub struct Terminal {
    editor: Editor<LabHelper, DefaultHistory>,
    color: bool,
    last: Option<String>,
}

impl Terminal {
    /// An editor with bash's Emacs keys; colour unless `NO_COLOR` is set (to anything non-empty).
    /// Made before the simulation starts, so that nothing it does touches the simulated world.
    pub fn new() -> Result<Self> {
        let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let config = Config::builder()
            .edit_mode(EditMode::Emacs)
            .completion_type(CompletionType::List)
            .auto_add_history(false)
            .history_ignore_dups(true)?
            .color_mode(if color { ColorMode::Enabled } else { ColorMode::Disabled })
            .build();
        let mut editor = Editor::with_config(config)?;
        editor.set_helper(Some(LabHelper { completions: Completions::default() }));
        Ok(Terminal { editor, color, last: None })
    }

    /// Reads the next line, showing the shell's prompt (none while a program reads the
    /// terminal). Ctrl-C drops the line being typed and asks again, as bash does.
    pub fn read(&mut self, sh: &Shell) -> Result<Input> {
        let program = sh.reading_stdin();
        let raw = if program { String::new() } else { sh.prompt() };
        let styled = if self.color && !program { colored(&raw) } else { raw.clone() };
        if let Some(h) = self.editor.helper_mut() {
            h.completions = if program { Completions::default() } else { sh.completer() };
        }
        loop {
            match self.editor.readline(&(raw.as_str(), styled.as_str())) {
                Ok(line) if program => return Ok(Input::Line(line)),
                Ok(line) => return Ok(self.command(line)),
                Err(ReadlineError::Interrupted) => println!("^C"),
                // A program reading the terminal gets end of input, as the `^D` line of a script.
                Err(ReadlineError::Eof) if program => return Ok(Input::Line("^D".into())),
                Err(ReadlineError::Eof) => {
                    println!("exit");
                    return Ok(Input::Exit);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// A typed command: `!!` expanded (and echoed, as bash does), kept in the history;
    /// `exit` and `logout` log out.
    fn command(&mut self, line: String) -> Input {
        let line = match expand_bang_bang(&line, self.last.as_deref()) {
            Ok(Some(expanded)) => {
                println!("{expanded}");
                expanded
            }
            Ok(None) => line,
            Err(()) => {
                eprintln!("bash: !!: event not found");
                String::new()
            }
        };
        if !line.trim().is_empty() {
            let _ = self.editor.add_history_entry(line.as_str());
            self.last = Some(line.clone());
        }
        if matches!(line.trim(), "exit" | "logout") {
            return Input::Exit;
        }
        Input::Line(line)
    }
}

/// `line` with each `!!` outside single quotes replaced by `last`: `Ok(None)` when there is none,
/// `Err` when there is one but no previous command.
fn expand_bang_bang(line: &str, last: Option<&str>) -> Result<Option<String>, ()> {
    let mut out = String::with_capacity(line.len());
    let mut quoted = false;
    let mut found = false;
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if !quoted && rest.starts_with("!!") {
            out.push_str(last.ok_or(())?);
            found = true;
            rest = &rest[2..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    Ok(found.then_some(out))
}

/// bash's Debian prompt colours: `user@host` bold green, the directory bold blue.
fn colored(prompt: &str) -> String {
    match (prompt.find(':'), prompt.rfind('#')) {
        (Some(colon), Some(hash)) if colon < hash => format!(
            "\x1b[01;32m{}\x1b[00m:\x1b[01;34m{}\x1b[00m{}",
            &prompt[..colon],
            &prompt[colon + 1..hash],
            &prompt[hash..]
        ),
        _ => prompt.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossy_lines_split_like_lines_and_survive_bad_bytes() {
        let text = b"one\r\ntwo\n\xffthree\n\nlast";
        let got: Vec<String> = LossyLines::new(&text[..]).map(|l| l.expect("read")).collect();
        assert_eq!(got, vec!["one", "two", "\u{fffd}three", "", "last"]);
        let valid = "a\r\nb\n\nc\n";
        let lines: Vec<String> = valid.as_bytes().lines().map(|l| l.expect("read")).collect();
        let lossy: Vec<String> =
            LossyLines::new(valid.as_bytes()).map(|l| l.expect("read")).collect();
        assert_eq!(lossy, lines);
    }

    #[test]
    fn bang_bang() {
        assert_eq!(expand_bang_bang("echo hi", None), Ok(None));
        assert_eq!(expand_bang_bang("!!", Some("ls")), Ok(Some("ls".into())));
        assert_eq!(expand_bang_bang("sudo !! now", Some("ls")), Ok(Some("sudo ls now".into())));
        assert_eq!(expand_bang_bang("echo '!!'", Some("ls")), Ok(None));
        assert_eq!(expand_bang_bang("!!", None), Err(()));
    }

    #[test]
    fn prompt_colours_keep_the_text() {
        let p = "root@master:/opt/kafka# ";
        let c = colored(p);
        assert!(c.contains("root@master") && c.contains("/opt/kafka") && c.ends_with("# "));
        assert_eq!(
            c.replace("\x1b[01;32m", "").replace("\x1b[00m", "").replace("\x1b[01;34m", ""),
            p
        );
    }
}
