//! `lab shell` at a real terminal: keystrokes through a pseudo-terminal (history, Tab, Ctrl-C,
//! Ctrl-D), and bytes that are not UTF-8 on a pipe. Timeouts only guard against a hang.

use rexpect::process::WaitStatus;
use rexpect::session::{spawn_command, PtySession};
use std::io::Write;
use std::process::{Command, Stdio};

const UP: &str = "\x1b[A";

/// `lab shell --think 0` on a new pseudo-terminal, its first prompt read; `None` (and a note)
/// where this machine has no pseudo-terminal to give.
fn lab_at_terminal() -> Option<PtySession> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lab"));
    cmd.args(["shell", "--seed", "1", "--think", "0"]).env("NO_COLOR", "1").env("TERM", "xterm");
    match spawn_command(cmd, Some(60_000)) {
        Ok(mut p) => {
            p.exp_string("root@master:").expect("first prompt");
            p.exp_string("# ").expect("first prompt ends");
            Some(p)
        }
        Err(e) => {
            eprintln!("skipped: no pseudo-terminal here ({e})");
            None
        }
    }
}

fn exits_with(p: &PtySession, code: i32) {
    match p.process().wait().expect("lab ends") {
        WaitStatus::Exited(_, c) => assert_eq!(c, code),
        other => panic!("lab did not exit normally: {other:?}"),
    }
}

// `echo 'o''ne'` prints `one`, which the line itself (drawn by the editor) never shows.

#[test]
fn up_arrow_runs_the_last_command_again() {
    let Some(mut p) = lab_at_terminal() else { return };
    p.send_line("echo 'o''ne'").expect("type");
    p.exp_string("one\r\n").expect("echo runs");
    p.exp_string("# ").expect("prompt");
    p.send(UP).expect("up");
    p.flush().expect("flush");
    p.exp_string("echo 'o''ne'").expect("Up brings the line back");
    p.send("\r").expect("enter");
    p.flush().expect("flush");
    p.exp_string("one\r\n").expect("and it runs again");
    p.exp_string("# ").expect("prompt");
    p.send_control('d').expect("ctrl-d");
    p.exp_eof().expect("ends");
    exits_with(&p, 0);
}

#[test]
fn tab_completes_a_program_name() {
    let Some(mut p) = lab_at_terminal() else { return };
    p.send("kafka-to\t").expect("type");
    p.flush().expect("flush");
    p.exp_string("kafka-topics.sh").expect("completed");
    p.send_line("--list --zookeeper master:2181").expect("finish the line");
    p.exp_string("# ").expect("prompt after the command");
    p.send_line("echo 'do''ne'").expect("type");
    p.exp_string("done\r\n").expect("the shell answers");
    p.send_control('d').expect("ctrl-d");
    p.exp_eof().expect("ends");
    exits_with(&p, 0);
}

#[test]
fn ctrl_c_clears_the_line_and_the_shell_goes_on() {
    let Some(mut p) = lab_at_terminal() else { return };
    p.send("echo 'nev''er'").expect("type");
    p.send_control('c').expect("ctrl-c");
    p.exp_string("^C").expect("bash's ^C");
    p.send_line("echo 'aft''er'").expect("type");
    let before = p.exp_string("after\r\n").expect("the shell answers");
    assert!(!before.contains("never"), "the dropped line never ran: {before}");
    p.send_control('d').expect("ctrl-d");
    p.exp_eof().expect("ends");
    exits_with(&p, 0);
}

#[test]
fn ctrl_d_on_an_empty_line_exits_zero_and_writes_the_trace() {
    let trace = std::env::temp_dir().join(format!("lab-term-trace-{}.jsonl", std::process::id()));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lab"));
    cmd.args(["shell", "--think", "0", "--trace", trace.to_str().expect("path")])
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
    let mut p = match spawn_command(cmd, Some(60_000)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("skipped: no pseudo-terminal here ({e})");
            return;
        }
    };
    p.exp_string("# ").expect("prompt");
    p.send_line("hostname").expect("type");
    p.exp_string("master\r\n").expect("hostname");
    p.exp_string("# ").expect("prompt");
    p.send_control('d').expect("ctrl-d");
    p.exp_string("exit").expect("bash's exit");
    p.exp_eof().expect("ends");
    exits_with(&p, 0);
    let text = std::fs::read_to_string(&trace).expect("trace written");
    assert!(text.contains("hostname"), "the typed line is in the trace");
    let _ = std::fs::remove_file(trace);
}

#[test]
fn a_piped_byte_that_is_not_utf8_does_not_end_the_session() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lab"))
        .args(["shell", "--think", "0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lab runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"echo before\n\xff\necho \xffafter\nhostname\n")
        .expect("write");
    let out = child.wait_with_output().expect("lab ends");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(!stderr.contains("valid UTF-8"), "{stderr}");
    assert!(stdout.contains("before\n"), "{stdout}");
    assert!(stdout.contains("\u{fffd}after\n"), "{stdout}");
    assert!(stdout.ends_with("master\n"), "{stdout}");
}
