//! Shell-line lexing: turns what the learner types into words, plus the few shell forms the lab
//! understands (`ssh HOST ...`, `nohup ...`, a trailing `&`), durations (`sleep 250ms`) and
//! ZooKeeper connect strings (`master:2181,slave1:2181/kafka`).
//!
//! Word splitting follows POSIX `sh`: blanks separate words; `'...'` is literal; `"..."` is
//! literal except for `\"`, `\\`, `\$` and `` \` ``; a backslash outside quotes takes the next
//! character literally; `#` at the start of a word starts a comment. There are no pipes,
//! redirections, variables or globs: `|` is an ordinary word (the `lab partition A B | C`
//! syntax relies on that). Columns in errors are 1-based character positions in the line.

use std::time::Duration;

/// Why a line, duration or address could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LexError {
    /// A `'` or `"` with no closing partner.
    #[error("unterminated quote: the quote opened at column {column} is never closed")]
    UnterminatedQuote {
        /// Column of the opening quote.
        column: usize,
    },
    /// The line ends with a backslash that escapes nothing.
    #[error("the line ends with a backslash at column {column}: there is nothing left to escape")]
    TrailingBackslash {
        /// Column of the backslash.
        column: usize,
    },
    /// A `&` word that is not at the end of the line (only `command &` is supported).
    #[error("syntax error near unexpected token `&' at column {column}: `&' may only end a line")]
    UnexpectedAmpersand {
        /// Column of the `&`.
        column: usize,
    },
    /// `ssh` with no host name.
    #[error("ssh: missing host name (usage: ssh HOST [COMMAND...])")]
    MissingSshHost,
    /// `nohup` with no command after it.
    #[error("nohup: missing operand (usage: nohup COMMAND [ARG]...)")]
    MissingCommand,
    /// Not a valid time interval (GNU `sleep` wording).
    #[error("sleep: invalid time interval '{0}'")]
    BadDuration(String),
}

/// One word with what `parse_line` needs to know about its quoting.
#[derive(Debug, Clone)]
struct Word {
    text: String,
    /// 1-based column of its first character.
    column: usize,
    /// The last character is an unquoted, unescaped `&`.
    ends_with_bare_amp: bool,
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// The lexer proper.
fn lex(line: &str) -> Result<Vec<Word>, LexError> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut start = 0;
    let mut bare_amp = false;
    let mut chars = line.chars().enumerate().map(|(i, c)| (i + 1, c)).peekable();
    while let Some((col, c)) = chars.next() {
        if is_blank(c) {
            if in_word {
                words.push(Word {
                    text: std::mem::take(&mut cur),
                    column: start,
                    ends_with_bare_amp: bare_amp,
                });
                in_word = false;
            }
            continue;
        }
        if !in_word {
            if c == '#' {
                break;
            }
            in_word = true;
            start = col;
        }
        bare_amp = false;
        match c {
            '\'' => loop {
                match chars.next() {
                    Some((_, '\'')) => break,
                    Some((_, ch)) => cur.push(ch),
                    None => return Err(LexError::UnterminatedQuote { column: col }),
                }
            },
            '"' => loop {
                match chars.next() {
                    Some((_, '"')) => break,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, ch @ ('"' | '\\' | '$' | '`'))) => cur.push(ch),
                        Some((_, ch)) => {
                            cur.push('\\');
                            cur.push(ch);
                        }
                        None => return Err(LexError::UnterminatedQuote { column: col }),
                    },
                    Some((_, ch)) => cur.push(ch),
                    None => return Err(LexError::UnterminatedQuote { column: col }),
                }
            },
            '\\' => match chars.next() {
                Some((_, ch)) => cur.push(ch),
                None => return Err(LexError::TrailingBackslash { column: col }),
            },
            '&' => {
                cur.push('&');
                bare_amp = true;
            }
            other => cur.push(other),
        }
    }
    if in_word {
        words.push(Word { text: cur, column: start, ends_with_bare_amp: bare_amp });
    }
    Ok(words)
}

/// Split a line into words like a POSIX shell (see the module docs). Comments are dropped;
/// a blank or comment-only line gives no words.
pub fn tokenize(line: &str) -> Result<Vec<String>, LexError> {
    Ok(lex(line)?.into_iter().map(|w| w.text).collect())
}

/// A command line as the lab's shell understands it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedLine {
    /// `Some(host)` for `ssh [user@]HOST ...`: run on (or, with no words, switch to) that host.
    pub host: Option<String>,
    /// The command word (path prefix stripped: the lab's tools are on `PATH`) and its arguments.
    pub words: Vec<String>,
    /// The line ended in `&`: run in the background.
    pub background: bool,
    /// The command was prefixed with `nohup`.
    pub nohup: bool,
}

/// Strip a trailing unquoted `&` (its own word or glued to the last word); reject `&` elsewhere.
fn take_background(words: &mut Vec<Word>) -> Result<bool, LexError> {
    let mut background = false;
    if let Some(last) = words.last_mut() {
        if last.ends_with_bare_amp {
            background = true;
            last.text.pop();
            if last.text.is_empty() {
                let column = last.column;
                words.pop();
                if words.is_empty() {
                    return Err(LexError::UnexpectedAmpersand { column });
                }
            }
        }
    }
    if let Some(w) = words.iter().find(|w| w.ends_with_bare_amp && w.text == "&") {
        return Err(LexError::UnexpectedAmpersand { column: w.column });
    }
    Ok(background)
}

/// Strip a leading `nohup`; returns whether there was one.
fn take_nohup(words: &mut Vec<Word>) -> Result<bool, LexError> {
    if words.first().map(|w| w.text.as_str()) == Some("nohup") {
        words.remove(0);
        if words.is_empty() {
            return Err(LexError::MissingCommand);
        }
        return Ok(true);
    }
    Ok(false)
}

/// Parse one line typed at the lab's prompt.
///
/// Returns `Ok(None)` for blank and comment-only lines. Recognised forms, in this order:
/// a trailing `&` (background), a leading `nohup`, a leading `ssh [user@]HOST` (the user is
/// dropped; `ssh HOST` alone means "switch to HOST"), then `nohup` again after the host.
/// Like real ssh, `ssh HOST "cmd args"` (one quoted argument holding the whole remote command)
/// is split into words again on the remote side; error columns then refer to that argument.
/// Finally the command word loses any path prefix (`./kafka-server-start.sh` and
/// `/usr/local/kafka/bin/kafka-server-start.sh` both become `kafka-server-start.sh`).
pub fn parse_line(line: &str) -> Result<Option<ParsedLine>, LexError> {
    let mut words = lex(line)?;
    if words.is_empty() {
        return Ok(None);
    }
    let mut background = take_background(&mut words)?;
    let mut nohup = take_nohup(&mut words)?;
    let mut host = None;
    if words.first().map(|w| w.text.as_str()) == Some("ssh") {
        let target = words.get(1).map(|w| w.text.clone()).unwrap_or_default();
        let name = target.rsplit('@').next().unwrap_or("");
        if name.is_empty() {
            return Err(LexError::MissingSshHost);
        }
        host = Some(name.to_string());
        words.drain(..2.min(words.len()));
        if let [only] = words.as_slice() {
            if only.text.contains(is_blank) {
                let mut inner = lex(&only.text)?;
                background |= take_background(&mut inner)?;
                words = inner;
            }
        }
        nohup |= take_nohup(&mut words)?;
    }
    let mut words: Vec<String> = words.into_iter().map(|w| w.text).collect();
    if let Some(cmd) = words.first_mut() {
        if let Some((_, base)) = cmd.rsplit_once('/') {
            if !base.is_empty() {
                *cmd = base.to_string();
            }
        }
    }
    Ok(Some(ParsedLine { host, words, background, nohup }))
}

/// Parse a duration as `sleep` does, plus sub-second units: a non-negative decimal number with
/// an optional unit `ns`, `us`, `ms`, `s` (default), `m`, `h` or `d`, e.g. `5`, `250ms`, `1.5s`.
/// Precision is one nanosecond (extra digits are truncated).
pub fn parse_duration(s: &str) -> Result<Duration, LexError> {
    let bad = || LexError::BadDuration(s.to_string());
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let unit_ns: u128 = match unit {
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "" | "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "d" => 86_400_000_000_000,
        _ => return Err(bad()),
    };
    let (int_part, frac_part) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    if (int_part.is_empty() && frac_part.is_empty()) || frac_part.contains('.') {
        return Err(bad());
    }
    let mut int: u128 = 0;
    for b in int_part.bytes() {
        int = int
            .checked_mul(10)
            .and_then(|v| v.checked_add(u128::from(b - b'0')))
            .ok_or_else(bad)?;
    }
    // At most 18 fractional digits matter at nanosecond precision for any unit here.
    let mut frac: u128 = 0;
    let mut scale: u128 = 1;
    for b in frac_part.bytes().take(18) {
        frac = frac * 10 + u128::from(b - b'0');
        scale *= 10;
    }
    let nanos = int
        .checked_mul(unit_ns)
        .and_then(|v| v.checked_add(frac * unit_ns / scale))
        .ok_or_else(bad)?;
    let secs = u64::try_from(nanos / 1_000_000_000).map_err(|_| bad())?;
    let sub = u32::try_from(nanos % 1_000_000_000).map_err(|_| bad())?;
    Ok(Duration::new(secs, sub))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn words(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn pl(line: &str) -> ParsedLine {
        parse_line(line).unwrap().unwrap()
    }

    #[test]
    fn tokenize_examples() {
        assert_eq!(
            tokenize("ssh slave1 zkServer.sh status").unwrap(),
            words(&["ssh", "slave1", "zkServer.sh", "status"])
        );
        assert_eq!(
            tokenize("zkCli.sh -server master:2181 create /lab \"hello world\"").unwrap(),
            words(&["zkCli.sh", "-server", "master:2181", "create", "/lab", "hello world"])
        );
        assert_eq!(
            tokenize("lab partition master slave1 | slave2").unwrap(),
            words(&["lab", "partition", "master", "slave1", "|", "slave2"])
        );
        assert_eq!(tokenize("# a comment").unwrap(), Vec::<String>::new());
        assert_eq!(tokenize("   ").unwrap(), Vec::<String>::new());
        assert_eq!(tokenize("kill -9 3844").unwrap(), words(&["kill", "-9", "3844"]));
    }

    #[test]
    fn quoting_and_escapes() {
        assert_eq!(
            tokenize(r#"a 'b c' "d \"e\" \\ \n" f\ g"#).unwrap(),
            words(&["a", "b c", "d \"e\" \\ \\n", "f g"])
        );
        assert_eq!(tokenize("'it'\\''s' '' x\"y\"z").unwrap(), words(&["it's", "", "xyz"]));
        assert_eq!(tokenize(r"'a\b' \#x a#b '#'").unwrap(), words(&[r"a\b", "#x", "a#b", "#"]));
        assert_eq!(tokenize("echo hi # trailing 'unclosed").unwrap(), words(&["echo", "hi"]));
        assert_eq!(tokenize("echo 'oops").unwrap_err(), LexError::UnterminatedQuote { column: 6 });
        assert_eq!(tokenize("a \"b\\\"").unwrap_err(), LexError::UnterminatedQuote { column: 3 });
        assert_eq!(tokenize("a\\").unwrap_err(), LexError::TrailingBackslash { column: 2 });
        assert!(LexError::UnterminatedQuote { column: 6 }.to_string().contains("column 6"));
    }

    #[test]
    fn parse_line_forms() {
        assert_eq!(parse_line("").unwrap(), None);
        assert_eq!(parse_line("  # just a comment").unwrap(), None);
        assert_eq!(
            pl("ssh slave1 zkServer.sh status"),
            ParsedLine {
                host: Some("slave1".into()),
                words: words(&["zkServer.sh", "status"]),
                background: false,
                nohup: false
            }
        );
        assert_eq!(
            pl("ssh root@slave2"),
            ParsedLine {
                host: Some("slave2".into()),
                words: vec![],
                background: false,
                nohup: false
            }
        );
        assert_eq!(
            pl("nohup ./kafka-server-start.sh ../config/server.properties &"),
            ParsedLine {
                host: None,
                words: words(&["kafka-server-start.sh", "../config/server.properties"]),
                background: true,
                nohup: true
            }
        );
        let p = pl("/usr/local/kafka/bin/kafka-server-start.sh config/server.properties&");
        assert_eq!(p.words, words(&["kafka-server-start.sh", "config/server.properties"]));
        assert!(p.background && !p.nohup);
        let p = pl("ssh slave1 nohup kafka-server-start.sh x &");
        assert_eq!((p.host.as_deref(), p.nohup, p.background), (Some("slave1"), true, true));
        let p = pl("ssh slave1 'nohup ./zkServer.sh start &'");
        assert_eq!(p.words, words(&["zkServer.sh", "start"]));
        assert!(p.nohup && p.background);
        let p = pl("echo '&'");
        assert_eq!((p.words, p.background), (words(&["echo", "&"]), false));
        let p = pl("sleep 250ms");
        assert_eq!(p.words, words(&["sleep", "250ms"]));
        let p = pl("kafka-topics.sh --create --zookeeper master:2181,slave1:2181,slave2:2181 --replication-factor 3 --partitions 1 --topic HelloKafka");
        assert_eq!(p.words.len(), 10);
        assert_eq!(parse_line("&").unwrap_err(), LexError::UnexpectedAmpersand { column: 1 });
        assert_eq!(parse_line("a & b").unwrap_err(), LexError::UnexpectedAmpersand { column: 3 });
        assert_eq!(parse_line("ssh").unwrap_err(), LexError::MissingSshHost);
        assert_eq!(parse_line("ssh root@").unwrap_err(), LexError::MissingSshHost);
        assert_eq!(parse_line("nohup").unwrap_err(), LexError::MissingCommand);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("0.1").unwrap(), Duration::from_millis(100));
        assert_eq!(parse_duration(".5m").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("100us").unwrap(), Duration::from_micros(100));
        for bad in ["", "-1", "5x", "s", ".", "1.2.3", "1e3", "99999999999999999999999h", "١"] {
            assert_eq!(
                parse_duration(bad).unwrap_err(),
                LexError::BadDuration(bad.to_string()),
                "{bad}"
            );
        }
        assert_eq!(
            parse_duration("5x").unwrap_err().to_string(),
            "sleep: invalid time interval '5x'"
        );
    }

    fn single_quote(w: &str) -> String {
        format!("'{}'", w.replace('\'', r"'\''"))
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = tokenize(&s);
            let _ = parse_line(&s);
            let _ = parse_duration(&s);
        }

        #[test]
        fn never_panics_shellish(s in "[a-z &|#'\"\\\\@./:,0-9 ]{0,40}") {
            let _ = parse_line(&s);
            let _ = parse_duration(&s);
        }

        #[test]
        fn quoted_words_round_trip(ws in prop::collection::vec(".*", 0..6)) {
            let line = ws.iter().map(|w| single_quote(w)).collect::<Vec<_>>().join(" ");
            prop_assert_eq!(tokenize(&line).unwrap(), ws);
        }

        #[test]
        fn generated_durations(n in 0u64..1_000_000, ms in 0u32..1000) {
            prop_assert_eq!(parse_duration(&format!("{n}ms")).unwrap(), Duration::from_millis(n));
            prop_assert_eq!(parse_duration(&format!("{n}.{ms:03}")).unwrap(), Duration::from_secs(n) + Duration::from_millis(ms.into()));
        }
    }
}
