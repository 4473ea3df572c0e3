use super::*;
use proptest::prelude::*;

const VALID: &str = r#"# Teaches: a tiny scenario.
# Second line.
[cluster]
hosts = ["master", "slave1", "slave2", "client"]
zookeepers = ["master", "slave1", "slave2"]
brokers = ["master", "slave1", "slave2"]
profile = "commodity-2014"
[cluster.broker_config]
"min.insync.replicas" = "2"
"unclean.leader.election.enable" = false
[[topic]]
name = "events"
replica_assignment = "0:1:2"
[[topic]]
name = "other"
partitions = 2
replication_factor = 2
[[workload]]
kind = "producer"
topic = "events"
rate = 50
start = "1s"
stop = "20s"
acks = "all"
key = "seq"
host = "client"
retries = 3
request_timeout = "5s"
[[workload]]
kind = "consumer"
topic = "events"
group = "g1"
start = "25s"
from_beginning = true
host = "slave1"
[[step]]
at = "10s"
run = "lab crash slave1"
[[step]]
at = "5s"
run = "ssh master kafka-topics.sh --list --zookeeper master:2181"
[nemesis]
kinds = ["crash", "kill", "partition", "latency"]
every = "5s"
start = "2s"
stop = "20s"
hosts = ["master", "slave1", "slave2"]
[[check]]
name = "no_acked_loss"
expect = "pass"
[[check]]
name = "single_leader_per_epoch"
[run]
duration = "40s"
settle = "20s"
"#;

#[test]
fn a_valid_file_parses_into_its_parts() {
    let sc = Scenario::parse(VALID).expect("valid");
    assert_eq!(sc.about, "Teaches: a tiny scenario.\nSecond line.");
    assert_eq!(sc.hosts.len(), 4);
    assert_eq!(
        sc.broker_config,
        vec![
            ("min.insync.replicas".into(), "2".into()),
            ("unclean.leader.election.enable".into(), "false".into())
        ]
    );
    assert_eq!(
        sc.topics[0],
        Topic {
            name: "events".into(),
            partitions: 1,
            replication_factor: 3,
            replica_assignment: Some("0:1:2".into())
        }
    );
    assert_eq!(sc.topics[1].partitions, 2);
    let Workload::Producer(p) = &sc.workloads[0] else { panic!("producer") };
    assert_eq!(
        (p.acks, p.key, p.retries, p.rate, p.host.as_str()),
        (-1, KeyPattern::Seq, 3, 50, "client")
    );
    assert_eq!(p.stop, Duration::from_secs(20));
    let Workload::Consumer(c) = &sc.workloads[1] else { panic!("consumer") };
    assert_eq!(c.stop, Duration::from_secs(40), "defaults to run.duration");
    assert_eq!(sc.steps[0].at, Duration::from_secs(5), "steps sorted by time");
    assert_eq!(sc.nemesis.as_ref().map(|n| n.kinds.len()), Some(4));
    assert_eq!(sc.checks[1].expect, Expect::Pass);
    assert_eq!(sc.duration, Duration::from_secs(40));
}

fn err(text: &str) -> ScenarioError {
    Scenario::parse(text).expect_err("should not parse")
}

#[test]
fn errors_name_line_and_column() {
    let e = err("[run]\nduration = \"40x\"\n");
    assert_eq!((e.line, e.column), (2, 12), "{e}");
    assert!(e.message.contains("not a duration"), "{e}");

    let e = err("[cluster]\nhosts = [\"master\", \"slave1\", \"slave2\"]\nbrokers = [\"master\", \"slave9\"]\n");
    assert_eq!((e.line, e.column), (3, 22), "{e}");
    assert!(e.message.contains("unknown host 'slave9'"), "{e}");

    let e = err("[[check]]\nname = \"no_such\"\n");
    assert_eq!((e.line, e.column), (2, 8));
    assert!(e.message.contains("unknown check"), "{e}");

    let e = err("[[step]]\nat = \"1s\"\nrun = \"echo 'unterminated\"\n");
    assert_eq!((e.line, e.column), (3, 7));
    assert!(e.message.contains("unterminated quote"), "{e}");

    let e = err("[run]\nduraton = \"4s\"\n");
    assert_eq!(e.line, 2, "{e}");
    assert!(e.message.contains("unknown field"), "{e}");

    let e = err("[[topic]]\nname = \"t\"\n[[workload]]\nkind = \"producer\"\ntopic = \"t\"\nrate = 5\ngroup = \"g\"\n");
    assert_eq!((e.line, e.column), (7, 9), "{e}");

    let e = err(
        "[[topic]]\nname = \"t\"\n[[workload]]\nkind = \"producer\"\ntopic = \"u\"\nrate = 5\n",
    );
    assert!(e.message.contains("unknown topic"), "{e}");

    let e = err("[[step]]\nat = \"1s\"\nrun = \"ssh nowhere jps\"\n");
    assert!(e.message.contains("unknown host 'nowhere'"), "{e}");

    let e = err("[cluster]\nhosts = [\"a\", \"b\", \"c\"]\n");
    assert_eq!((e.line, e.column), (2, 9));

    let e = err("x = [1,\n");
    assert!(e.line >= 1 && e.column >= 1);
    assert_eq!(e.to_string(), format!("{}:{}: {}", e.line, e.column, e.message));
}

#[test]
fn group_member_keys_are_checked_with_line_and_column() {
    let consumer = |extra: &str| {
        format!(
            "[[topic]]\nname = \"t\"\n[[workload]]\nkind = \"consumer\"\ntopic = \"t\"\n{extra}"
        )
    };
    let at = |extra: &str, line: usize, column: usize, msg: &str| {
        let e = err(&consumer(extra));
        assert_eq!((e.line, e.column), (line, column), "{extra}: {e}");
        assert!(e.message.contains(msg), "{extra}: {e}");
    };
    // Member keys need a group.
    at(
        "members = 2\n",
        6,
        11,
        "'members' applies to a consumer group member: give the workload a group",
    );
    at("commit = \"auto\"\n", 6, 10, "'commit' applies to a consumer group member");
    at("process_time = \"1ms\"\n", 6, 16, "'process_time' applies");
    at("session_timeout = \"6s\"\n", 6, 19, "'session_timeout' applies");
    at("name = \"C1\"\n", 6, 8, "'name' applies");
    // Values out of range or of the wrong kind.
    at("group = \"\"\n", 6, 9, "group must be non-empty");
    at("group = \"lab-checker\"\n", 6, 9, "not the final reader's 'lab-checker'");
    at("group = \"g\"\nmembers = 0\n", 7, 11, "members");
    at("group = \"g\"\nmembers = 65\n", 7, 11, "members");
    at(
        "group = \"g\"\ncommit = \"sometimes\"\n",
        7,
        10,
        "commit must be \"auto\", \"before-process\" or \"after-process\", not \"sometimes\"",
    );
    at(
        "group = \"g\"\nprocess_time = \"11s\"\n",
        7,
        16,
        "process_time must be at most 10s per record",
    );
    at("group = \"g\"\nprocess_time = \"soon\"\n", 7, 16, "not a duration");
    at(
        "group = \"g\"\nsession_timeout = \"100ms\"\n",
        7,
        19,
        "session_timeout must be between 600ms and 300s",
    );
    at(
        "group = \"g\"\nsession_timeout = \"301s\"\n",
        7,
        19,
        "session_timeout must be between 600ms and 300s",
    );
    at("group = \"g\"\nname = \"two words\"\n", 7, 8, "'two words' is not a process name");
    // Producer keys on a consumer, and a name two workloads would share.
    at("group = \"g\"\nacks = \"all\"\n", 7, 8, "acks");
    let twice = format!(
        "{}[[workload]]\nkind = \"consumer\"\ntopic = \"t\"\ngroup = \"g\"\nname = \"C\"\n",
        consumer("group = \"g\"\nname = \"C\"\n")
    );
    let e = err(&twice);
    assert_eq!((e.line, e.column), (12, 8), "{e}");
    assert!(e.message.contains("two consumer workloads would both be named 'C'"), "{e}");
    // And the good forms parse into members.
    let sc = Scenario::parse(&consumer("group = \"g\"\nname = \"W\"\nmembers = 3\ncommit = \"after-process\"\nprocess_time = \"5ms\"\nsession_timeout = \"6s\"\n")).expect("valid");
    let names: Vec<String> = sc
        .workloads
        .iter()
        .filter_map(|w| match w {
            Workload::Consumer(c) => Some(c.process.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["W1", "W2", "W3"]);
}

#[test]
fn spans_count_characters_not_bytes() {
    let e = ScenarioError::at("ab\n中文x", "ab\n中文".len(), "m");
    assert_eq!((e.line, e.column), (2, 3));
}

#[test]
fn every_library_file_parses() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("scenarios/") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        let sc = Scenario::parse(&text).unwrap_or_else(|e| panic!("{}:{e}", path.display()));
        assert!(!sc.about.is_empty(), "{} needs a comment header", path.display());
        assert!(!sc.checks.is_empty(), "{} checks something", path.display());
        n += 1;
    }
    assert!(n >= 3, "the library has scenarios");
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
        let _ = Scenario::parse(&s);
    }

    #[test]
    fn mutated_valid_files_never_panic(pos in 0usize..VALID.len(), len in 0usize..20, insert in "[\\[\\]\"=#a-z0-9 .\n:'-]{0,12}") {
        let mut cut = pos.min(VALID.len());
        while !VALID.is_char_boundary(cut) { cut -= 1; }
        let mut end = (cut + len).min(VALID.len());
        while !VALID.is_char_boundary(end) { end -= 1; }
        let text = format!("{}{}{}", &VALID[..cut], insert, &VALID[end..]);
        match Scenario::parse(&text) {
            Ok(_) => {}
            Err(e) => {
                prop_assert!(e.line >= 1 && e.line <= text.lines().count().max(1) + 1);
                prop_assert!(e.column >= 1);
            }
        }
    }
}

#[test]
fn implicit_tables_parse() {
    let sc = Scenario::parse("[cluster.broker_config]\n\"min.insync.replicas\" = 2\n[[topic]]\nname = \"t\"\n[[workload]]\nkind = \"consumer\"\ntopic = \"t\"\n").expect("valid");
    assert_eq!(sc.broker_config, vec![("min.insync.replicas".to_string(), "2".to_string())]);
    let sc = Scenario::parse("topic = [{ name = \"t\" }]\nworkload = [{ kind = \"producer\", topic = \"t\", rate = 1 }]\n").expect("inline tables");
    assert_eq!(sc.workloads.len(), 1);
}

#[test]
fn zookeeper_may_run_on_further_hosts() {
    let five = "[cluster]\nhosts = [\"master\", \"slave1\", \"slave2\", \"slave3\", \"client\", \"slave4\"]\nzookeepers = [\"master\", \"slave1\", \"slave2\", \"slave3\", \"slave4\"]\n";
    let sc = Scenario::parse(five).expect("valid");
    assert_eq!(
        sc.ensemble,
        vec!["master", "slave1", "slave2", "slave3", "slave4"],
        "host order, without the client"
    );
    assert_eq!(sc.brokers, vec!["master", "slave1", "slave2"], "brokers stay on the seed's hosts");
    // A subset of the seed's hosts runs on the seed's zoo.cfg.
    let sc = Scenario::parse("[cluster]\nzookeepers = [\"slave1\"]\n").expect("valid");
    assert_eq!(sc.ensemble, vec!["master", "slave1", "slave2"]);
    let e = err("[cluster]\nhosts = [\"master\", \"slave1\", \"slave2\"]\nzookeepers = [\"master\", \"slave3\"]\n");
    assert_eq!((e.line, e.column), (3, 25), "{e}");
    assert!(e.message.contains("unknown host 'slave3'"), "{e}");
    let e = err("[cluster]\nhosts = [\"master\", \"slave1\", \"slave2\", \"slave3\"]\nbrokers = [\"slave3\"]\n");
    assert!(e.message.contains("server.properties is installed on master, slave1, slave2"), "{e}");
}

const STREAM: &str = "[[topic]]\nname = \"words\"\npartitions = 3\n[[topic]]\nname = \"out\"\n[[workload]]\nkind = \"producer\"\ntopic = \"words\"\nrate = 5\nvalue = \"sentences\"\n[stream]\ntopic = \"words\"\n";

#[test]
fn a_stream_section_parses_with_spark_defaults() {
    let sc = Scenario::parse(STREAM).expect("valid");
    let Workload::Producer(p) = &sc.workloads[0] else { panic!("producer") };
    assert_eq!(p.value, ValuePattern::Sentences);
    let st = sc.stream.expect("stream");
    assert_eq!(
        (st.style, st.batch_interval, st.window, st.max_rate_per_partition),
        (crate::stream::Style::Direct, Duration::from_secs(2), 1, 0)
    );
    assert_eq!(
        (st.host.as_str(), st.stop, st.crash, st.task_max_failures),
        ("master", Duration::from_secs(30), None, 4)
    );
    let sc = Scenario::parse(&format!("{STREAM}style = \"receiver\"\nwal = true\ncrash_between = [\"5s\", \"20s\"]\noutput = \"topic:out\"\n")).expect("valid");
    let st = sc.stream.expect("stream");
    assert_eq!(
        st.crash,
        Some(DriverCrash::Between(Duration::from_secs(5), Duration::from_secs(20)))
    );
    assert_eq!(st.sink, crate::stream::Sink::Topic("out".into()));
}

#[test]
fn stream_errors_name_line_and_column() {
    // The [stream] table starts on line 11; the added key is on line 13.
    let bad = |extra: &str| err(&format!("{STREAM}{extra}\n"));
    let e = bad("style = \"spark\"");
    assert_eq!((e.line, e.column), (13, 9), "{e}");
    assert!(e.message.contains("\"direct\" or \"receiver\""), "{e}");
    let e = bad("wal = true");
    assert!(e.message.contains("the direct stream has no receiver"), "{e}");
    let e = bad("commit = \"transactional\"\nstyle = \"receiver\"");
    assert_eq!(e.line, 13, "{e}");
    assert!(e.message.contains("ZooKeeper"), "{e}");
    let e = bad("window = 0");
    assert!(e.message.contains("stream.window must be between 1 and 1000"), "{e}");
    let e = bad("batch_interval = \"0s\"");
    assert!(e.message.contains("between 1ms and 10m"), "{e}");
    let e = bad("batch_interval = \"2 apples\"");
    assert!(e.message.contains("not a duration"), "{e}");
    let e = bad("max_rate_per_partition = -1");
    assert!(e.message.contains("max_rate_per_partition must be between 0"), "{e}");
    let e = bad("output = \"topic:nowhere\"");
    assert!(e.message.contains("unknown topic 'nowhere'"), "{e}");
    let e = bad("output = \"topic:words\"");
    assert!(e.message.contains("must not be the input topic"), "{e}");
    let e = bad("crash_at = \"40s\"");
    assert!(e.message.contains("between stream.start and stream.stop"), "{e}");
    let e = bad("crash_between = [\"9s\", \"3s\"]");
    assert!(e.message.contains("second time must come after"), "{e}");
    let e = bad("auto_commit_interval = \"1s\"");
    assert!(e.message.contains("applies to the receiver-based stream"), "{e}");
    let e = bad("batchinterval = \"1s\"");
    assert!(e.message.contains("unknown field"), "{e}");
    let e = err("[[topic]]\nname = \"t\"\n[stream]\ntopic = \"u\"\n");
    assert_eq!((e.line, e.column), (4, 9), "{e}");
    let e = err("[[topic]]\nname = \"t\"\n[[workload]]\nkind = \"producer\"\ntopic = \"t\"\nrate = 1\nvalue = \"lorem\"\n");
    assert!(e.message.contains("\"seq\" or \"sentences\""), "{e}");
}
