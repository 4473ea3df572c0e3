//! The old, ZooKeeper-based consumer (`kafka-console-consumer.sh --zookeeper`) as a group, and
//! the shell's job control that lets several of them run at once: `cmd &`, `jobs`, `kill %N`.

use lab_tests::{booted_shell, client_world, run_script, zk_servers, Run};
use sim::fault::{Fault, PartitionSpec};
use sim::kafka::partitioner::{murmur2, to_positive};
use sim::shell::Shell;
use sim::trace::kind;
use sim::world::{Sim, World};
use sim::zk::client::ZooKeeper;
use sim::zk::txn::CreateMode;
use std::time::Duration;

const ZK: &str = "master:2181,slave1:2181,slave2:2181";

/// Brokers on the three hosts, a two-partition topic `shared` (p0 led by broker 0, p1 by broker 1)
/// and a consumer config with `group.id=workers`.
const SETUP: &str = "cd $KAFKA_HOME/bin\n\
                     kafka-server-start.sh -daemon ../config/server.properties\n\
                     ssh slave1 kafka-server-start.sh -daemon $KAFKA_HOME/config/server.properties\n\
                     ssh slave2 kafka-server-start.sh -daemon $KAFKA_HOME/config/server.properties\n\
                     sleep 3\n\
                     kafka-topics.sh --create --zookeeper master:2181 --replica-assignment 0:1,1:2 --topic shared\n\
                     echo group.id=workers > /root/workers.properties";

fn consumer(extra: &str) -> String {
    format!("kafka-console-consumer.sh --zookeeper {ZK} --topic shared --consumer.config /root/workers.properties{extra}")
}

/// `n` keys that murmur2 sends to partition `p` of two.
fn keys_for(p: i32, n: usize) -> Vec<String> {
    (0..)
        .map(|i| format!("k{i}"))
        .filter(|k| to_positive(murmur2(k.as_bytes())) % 2 == p)
        .take(n)
        .collect()
}

/// A producer line and its records `key:value`, values `p<partition>-<i>`.
fn produce(p0: &[String], p1: &[String], tag: &str) -> String {
    let mut lines = vec!["kafka-console-producer.sh --broker-list master:9092 --topic shared --property parse.key=true --property key.separator=: --request-required-acks 1".to_string()];
    lines.extend(p0.iter().map(|k| format!("{k}:{tag}p0-{k}")));
    lines.extend(p1.iter().map(|k| format!("{k}:{tag}p1-{k}")));
    lines.push("^D".into());
    lines.join("\n")
}

fn events(run: &Run, kind: &str) -> Vec<serde_json::Value> {
    run.trace
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["kind"] == kind)
        .collect()
}

/// The data line of a `zkCli.sh get` (the line before `cZxid = …`).
fn znode_data(out: &str) -> String {
    let lines: Vec<&str> = out.lines().collect();
    lines
        .iter()
        .position(|l| l.starts_with("cZxid"))
        .and_then(|i| i.checked_sub(1))
        .map(|i| lines[i].to_string())
        .unwrap_or_default()
}

/// The list a `zkCli.sh ls` printed.
fn znode_list(out: &str) -> Vec<String> {
    let l = out.lines().find(|l| l.starts_with('[')).unwrap_or("[]");
    l.trim_matches(['[', ']']).split(", ").filter(|s| !s.is_empty()).map(String::from).collect()
}

fn ownership_ok(run: &Run) {
    let tracer = sim::trace::Tracer::new();
    for l in run.trace.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(l) else { continue };
        let mut f = v.as_object().cloned().unwrap_or_default();
        let get = |k: &str| f.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        let (host, proc_, kind) = (get("host"), get("proc"), get("kind"));
        let t = f.get("t_us").and_then(|x| x.as_u64()).unwrap_or(0);
        for k in ["t_us", "host", "proc", "kind", "id", "cause"] {
            f.remove(k);
        }
        tracer.emit(t, &host, &proc_, &kind, None, f);
    }
    let r = sim::check::run("zk_consumer_exclusive_ownership", &tracer.events()).expect("checker");
    assert!(r.ok, "{}", r.detail);
}

#[test]
fn two_background_consumers_in_one_group_own_one_partition_each() {
    let (p0, p1) = (keys_for(0, 3), keys_for(1, 2));
    let script = format!(
        "{SETUP}\n{c} &\n{c} &\nsleep 5\n\
         zkCli.sh -server master:2181 ls /consumers/workers/ids\n\
         zkCli.sh -server master:2181 get /consumers/workers/owners/shared/0\n\
         zkCli.sh -server master:2181 get /consumers/workers/owners/shared/1\n\
         {}\nsleep 2\nkill %1\nsleep 1\nkill %2\nsleep 1\njobs",
        produce(&p0, &p1, ""),
        c = consumer("")
    );
    let run = run_script(21, true, &script);
    let c = consumer("");
    let started: Vec<&str> = run
        .steps
        .iter()
        .filter(|(l, _, _)| l == &format!("{c} &"))
        .map(|(_, o, _)| o.as_str())
        .collect();
    assert!(started[0].starts_with("[1] ") && started[1].starts_with("[2] "), "{started:?}");
    let ids =
        znode_list(run.output_of("zkCli.sh -server master:2181 ls /consumers/workers/ids", 0));
    assert_eq!(ids.len(), 2, "{}", run.output);
    assert!(
        ids.iter().all(|i| i.starts_with("workers_master-1461657")
            && i.len() == "workers_master-1461657612345-abcdef12".len()),
        "{ids:?}"
    );
    let owner = |p: i32| {
        znode_data(run.output_of(
            &format!("zkCli.sh -server master:2181 get /consumers/workers/owners/shared/{p}"),
            0,
        ))
    };
    let (o0, o1) = (owner(0), owner(1));
    // Range assignment over the sorted thread ids: the first consumer (earlier timestamp) gets p0.
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(o0, format!("{}-0", sorted[0]));
    assert_eq!(o1, format!("{}-0", sorted[1]));
    // Each printed its own partition: SIGTERM ends it cleanly with its count, and bash reports
    // the JVM's exit status 143.
    let first = run.output_of("sleep 1", 0);
    assert!(first.contains("Processed a total of 3 messages\n"), "{first}");
    assert!(first.contains(&format!("[1]-  Exit 143                {c}\n")), "{first}");
    let second = run.output_of("sleep 1", 1);
    assert!(second.contains("Processed a total of 2 messages\n"), "{second}");
    assert!(second.contains(&format!("[2]+  Exit 143                {c}\n")), "{second}");
    assert_eq!(run.output_of("jobs", 0), "", "no job left");
    // Every record printed once, by the owner of its partition.
    let consumed = events(&run, kind::KAFKA_CLIENT_CONSUMED);
    assert_eq!(consumed.len(), 5);
    for e in &consumed {
        let p = e["partition"].as_i64().unwrap_or(-1);
        let who = e["consumer"].as_str().unwrap_or("");
        assert_eq!(format!("{who}-0"), if p == 0 { o0.clone() } else { o1.clone() }, "{e}");
        assert_eq!(
            e["records"], 1,
            "the old consumer's iterator hands out one record at a time: {e}"
        );
        assert!(run.output.contains(&format!("{}\n", e["values"][0].as_str().unwrap_or("?"))));
    }
    ownership_ok(&run);
}

#[test]
fn a_killed_consumer_loses_its_partitions_when_its_session_expires() {
    let (p0, p1) = (keys_for(0, 3), keys_for(1, 2));
    let c = consumer("");
    let script = format!(
        "{SETUP}\n{c} &\n{c} &\nsleep 5\n\
         kill -9 %1\n\
         zkCli.sh -server master:2181 get /consumers/workers/owners/shared/0\n\
         {}\n\
         sleep 10\n\
         zkCli.sh -server master:2181 ls /consumers/workers/ids\n\
         zkCli.sh -server master:2181 get /consumers/workers/owners/shared/0\n\
         zkCli.sh -server master:2181 get /consumers/workers/owners/shared/1\n\
         kill %2\nsleep 1",
        produce(&p0, &p1, "")
    );
    let run = run_script(22, true, &script);
    let kill = run.output_of("kill -9 %1", 0);
    assert_eq!(kill, format!("[1]-  Killed                  {c}\n"));
    // Its ephemeral owner node outlives it until ZooKeeper expires the session (6 s).
    let get0 = |n| {
        znode_data(
            run.output_of("zkCli.sh -server master:2181 get /consumers/workers/owners/shared/0", n),
        )
    };
    let dead_owner = get0(0);
    let ids =
        znode_list(run.output_of("zkCli.sh -server master:2181 ls /consumers/workers/ids", 0));
    assert_eq!(ids.len(), 1, "only the survivor is registered: {ids:?}");
    let survivor = format!("{}-0", ids[0]);
    assert_ne!(dead_owner, survivor, "p0 belonged to the killed consumer");
    assert_eq!(get0(1), survivor);
    assert_eq!(
        znode_data(
            run.output_of("zkCli.sh -server master:2181 get /consumers/workers/owners/shared/1", 0)
        ),
        survivor
    );
    // The survivor consumed what the dead one would have: every record, p0's included.
    let end = run.output_of("sleep 1", 0);
    assert!(end.contains("Processed a total of 5 messages"), "{end}");
    for k in p0.iter().map(|k| format!("p0-{k}")).chain(p1.iter().map(|k| format!("p1-{k}"))) {
        assert_eq!(run.output.matches(&format!("{k}\n")).count(), 1, "{k} once: {}", run.output);
    }
    let owned = events(&run, kind::KAFKA_ZKCONSUMER_OWNED);
    let last = owned.last().expect("owned events");
    assert_eq!(last["partitions"], serde_json::json!([["shared", 0], ["shared", 1]]));
    assert!(
        last["generation"].as_i64().unwrap_or(0) >= 3,
        "the ids node changed three times: {last}"
    );
    ownership_ok(&run);
}

#[test]
fn offsets_are_committed_on_a_clean_exit_and_a_restart_resumes_there() {
    let (p0, p1) = (keys_for(0, 3), keys_for(1, 2));
    let c = consumer("");
    let script = format!(
        "{SETUP}\n{c} &\nsleep 3\n{}\nsleep 2\nkill %1\nsleep 1\n\
         zkCli.sh -server master:2181 get /consumers/workers/offsets/shared/0\n\
         zkCli.sh -server master:2181 get /consumers/workers/offsets/shared/1\n\
         zkCli.sh -server master:2181 ls /consumers/workers/ids\n\
         {c} --from-beginning\n\
         {}\n\
         {c}\n\
         kafka-console-consumer.sh --zookeeper {ZK} --topic shared --from-beginning --max-messages 7\n\
         zkCli.sh -server master:2181 ls /consumers",
        produce(&p0, &p1, ""),
        produce(&p0[..1], &p1[..1], "late-")
    );
    let run = run_script(23, true, &script);
    let off = |p: i32| {
        znode_data(run.output_of(
            &format!("zkCli.sh -server master:2181 get /consumers/workers/offsets/shared/{p}"),
            0,
        ))
    };
    assert_eq!((off(0), off(1)), ("3".to_string(), "2".to_string()), "{}", run.output);
    assert_eq!(
        znode_list(run.output_of("zkCli.sh -server master:2181 ls /consumers/workers/ids", 0)),
        Vec::<String>::new()
    );
    let refused =
        run.steps.iter().find(|(l, _, _)| l == &format!("{c} --from-beginning")).expect("step");
    assert_eq!(refused.1, "Found previous offset information for this group workers. Please use --delete-consumer-offsets to delete previous offsets metadata\n");
    assert_eq!(refused.2, 1);
    // Restarted, the group starts at its committed offsets: only the two late records.
    let resumed = run.steps.iter().find(|(l, _, _)| l == &c).expect("step").1.clone();
    let mut lines: Vec<&str> = resumed.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        vec![
            "Processed a total of 2 messages",
            &format!("late-p0-{}", p0[0]),
            &format!("late-p1-{}", p1[0])
        ]
    );
    // Without a group.id the tool makes one up, reads everything, and deletes it on exit.
    let all = run.output_of(&format!("kafka-console-consumer.sh --zookeeper {ZK} --topic shared --from-beginning --max-messages 7"), 0);
    assert!(all.ends_with("Processed a total of 7 messages\n"), "{all}");
    assert_eq!(
        znode_list(run.output_of("zkCli.sh -server master:2181 ls /consumers", 0)),
        vec!["workers".to_string()]
    );
}

#[test]
fn jobs_kill_and_notifications_print_what_bash_prints() {
    let cc = format!("kafka-console-consumer.sh --zookeeper {ZK} --topic shared");
    let cp = "kafka-console-producer.sh --broker-list master:9092 --topic shared";
    let script = format!(
        "{SETUP}\n{cc} &\nsleep 100 &\n{cp} &\nsleep 2\njobs\njobs -l\njobs -p\njobs %?sleep\n\
         kill %2\nkill %3\nkill -9 %1\njobs\nkill %1\nfg\nsleep 5 &\necho hi &\nwait\ncd /tmp\n\
         kafka-console-consumer.sh --zookeeper {ZK} --topic shared --consumer.config workers.properties &\nsleep 1\n\
         ssh slave1 {cc} &\njobs\ncd /root\njobs\nkill %1\nsleep 1"
    );
    let run = run_script(24, true, &script);
    let pid = |line: &str| -> String {
        let o = run.output_of(line, 0);
        o.lines().next().and_then(|l| l.split(' ').nth(1)).unwrap_or("?").to_string()
    };
    let (p1, p2, p3) = (pid(&format!("{cc} &")), pid("sleep 100 &"), pid(&format!("{cp} &")));
    assert_eq!(run.output_of(&format!("{cc} &"), 0), format!("[1] {p1}\n"));
    assert_eq!(run.output_of("sleep 100 &", 0), format!("[2] {p2}\n"));
    // A background program that reads the terminal is stopped by SIGTTIN.
    assert_eq!(
        run.output_of(&format!("{cp} &"), 0),
        format!("[3] {p3}\n[3]+  Stopped                 {cp}\n")
    );
    assert_eq!(
        run.output_of("jobs", 0),
        format!(
            "[1]   Running                 {cc} &\n\
             [2]-  Running                 sleep 100 &\n\
             [3]+  Stopped                 {cp}\n"
        )
    );
    assert_eq!(
        run.output_of("jobs -l", 0),
        format!(
            "[1]  {p1:>5} Running                 {cc} &\n\
             [2]- {p2:>5} Running                 sleep 100 &\n\
             [3]+ {p3:>5} Stopped                 {cp}\n"
        )
    );
    assert_eq!(run.output_of("jobs -p", 0), format!("{p1}\n{p2}\n{p3}\n"));
    assert_eq!(run.output_of("jobs %?sleep", 0), "[2]-  Running                 sleep 100 &\n");
    // sleep is no JVM: Terminated. The producer is a JVM: Exit 143. kill -9: Killed.
    assert_eq!(run.output_of("kill %2", 0), "[2]-  Terminated              sleep 100\n");
    assert_eq!(run.output_of("kill %3", 0), format!("[3]+  Exit 143                {cp}\n"));
    assert_eq!(run.output_of("kill -9 %1", 0), format!("[1]+  Killed                  {cc}\n"));
    assert_eq!(run.output_of("jobs", 1), "");
    assert_eq!(run.output_of("kill %1", 0), "bash: kill: %1: no such job\n");
    assert_eq!(run.output_of("fg", 0), "bash: fg: current: no such job\n");
    // Numbering starts again at 1; `wait` waits for the sleep; a builtin with & is a job too.
    let s = run.output_of("sleep 5 &", 0);
    assert!(s.starts_with("[1] "), "{s}");
    let e = run.output_of("echo hi &", 0);
    assert!(
        e.starts_with("[2] ") && e.contains("\nhi\n[2]+  Done                    echo hi\n"),
        "{e}"
    );
    assert_eq!(run.output_of("wait", 0), "[1]+  Done                    sleep 5\n");
    // A relative --consumer.config is read from the shell's directory: /tmp has no such file.
    let missing = run.output_of("sleep 1", 0);
    assert!(missing.contains("Exception in thread \"main\" java.io.FileNotFoundException: workers.properties (No such file or directory)"), "{missing}");
    assert!(
        missing.contains("[1]+  Exit 1                  kafka-console-consumer.sh"),
        "{missing}"
    );
    // A job on another host; the working directory shows when it differs.
    assert_eq!(
        run.output_of("jobs", 2),
        format!("[1]+  Running                 ssh slave1 {cc} &\n")
    );
    assert_eq!(
        run.output_of("jobs", 3),
        format!("[1]+  Running                 ssh slave1 {cc} &  (wd: /tmp)\n")
    );
    let end = run.output_of("sleep 1", 1);
    assert!(
        end.contains("Processed a total of 0 messages\n")
            && end
                .contains(&format!("[1]+  Exit 143                ssh slave1 {cc}  (wd: /tmp)\n")),
        "{end}"
    );
    // The console consumer made its group up, so it deleted it on the way out.
    assert!(events(&run, kind::KAFKA_ZKCONSUMER_SHUTDOWN).iter().any(|e| e["host"] == "slave1"));
}

#[test]
fn a_partition_held_by_someone_else_makes_the_rebalance_fail_after_four_tries() {
    Sim::new(client_world(25)).run(|world: World| async move {
        let mut sh: Shell = booted_shell(&world).await;
        for l in SETUP.lines().chain(["echo group.id=stuck > /root/stuck.properties"]) {
            sh.exec_line(l.trim()).await;
        }
        sh.take_output();
        // Another session holds p0's owner node and never lets go.
        world
            .spawn("client", "Squatter", |ctx| async move {
                let zk = ZooKeeper::new(&ctx, zk_servers(), Duration::from_secs(30));
                let _ = sim::kafka::zk_utils::create_with_parents(&zk, "/consumers/stuck/owners/shared/0", b"someone-else-0", CreateMode::Ephemeral).await;
                madsim::time::sleep(Duration::from_secs(3600)).await;
            })
            .expect("spawn");
        madsim::time::sleep(Duration::from_secs(2)).await;
        let start = madsim::time::Instant::now();
        let code = sh.exec_line(&format!("kafka-console-consumer.sh --zookeeper {ZK} --topic shared --consumer.config /root/stuck.properties")).await;
        let out = sh.take_output();
        assert_eq!(code, 1, "{out}");
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].ends_with("ERROR Unknown error when running consumer:  (kafka.tools.ConsoleConsumer$)"), "{out}");
        assert!(lines[1].starts_with("kafka.common.ConsumerRebalanceFailedException: stuck_master-") && lines[1].ends_with(" can't rebalance after 4 retries"), "{out}");
        // Four tries, each followed by rebalance.backoff.ms (2 s).
        let waited = madsim::time::Instant::now().duration_since(start);
        assert!(waited >= Duration::from_secs(8) && waited < Duration::from_secs(12), "{waited:?}");
        let trace = world.tracer().events();
        assert_eq!(trace.iter().filter(|e| e.kind == kind::KAFKA_ZKCONSUMER_REBALANCE).count(), 4);
        assert_eq!(trace.iter().filter(|e| e.kind == kind::KAFKA_ZKCONSUMER_CLAIM_CONFLICT).count(), 4);
        // Its own claims were undone each time: p1's owner node is not left behind.
        sh.exec_line("zkCli.sh -server master:2181 ls /consumers/stuck/owners/shared").await;
        assert_eq!(znode_list(&sh.take_output()), vec!["0".to_string()]);
    });
}

#[test]
fn a_consumer_cut_off_from_zookeeper_registers_again_after_its_session_expired() {
    Sim::new(client_world(26)).run(|world: World| async move {
        let mut sh: Shell = booted_shell(&world).await;
        sh.think_time = Duration::from_secs(1);
        for l in SETUP.lines() {
            sh.exec_line(l.trim()).await;
        }
        sh.exec_line("ssh client echo group.id=workers > /root/workers.properties").await;
        sh.exec_line(&format!("ssh client {} &", consumer(""))).await;
        sh.exec_line("sleep 5").await;
        let servers = ["master", "slave1", "slave2"].map(String::from).to_vec();
        let cut =
            PartitionSpec { a: vec!["client".into()], b: servers, one_way: false, port: None };
        sh.inject(&Fault::Partition(cut)).await;
        sh.exec_line("sleep 15").await;
        sh.inject(&Fault::Heal).await;
        sh.exec_line("sleep 10").await;
        sh.exec_line("zkCli.sh -server master:2181 ls /consumers/workers/ids").await;
        let out = sh.take_output();
        let ids = znode_list(
            out.lines().rfind(|l| l.starts_with('[') && !l.starts_with("[1]")).unwrap_or("[]"),
        );
        assert_eq!(ids.len(), 1, "registered again: {out}");
        assert!(ids[0].starts_with("workers_client-"));
        let trace = world.tracer().events();
        let expired = trace
            .iter()
            .position(|e| e.kind == kind::KAFKA_ZKCONSUMER_SESSION_EXPIRED)
            .expect("the consumer saw its session expire");
        let owned_after = trace[expired..]
            .iter()
            .rfind(|e| e.kind == kind::KAFKA_ZKCONSUMER_OWNED)
            .expect("owned again");
        assert_eq!(
            owned_after.fields["partitions"],
            serde_json::json!([["shared", 0], ["shared", 1]])
        );
        sh.exec_line("zkCli.sh -server master:2181 get /consumers/workers/owners/shared/1").await;
        assert_eq!(znode_data(&sh.take_output()), format!("{}-0", ids[0]));
    });
}

#[test]
fn group_flags_and_config_errors_say_what_0_9_says() {
    let c = consumer("");
    let script = format!(
        "{SETUP}\n\
         kafka-console-consumer.sh --zookeeper {ZK} --topic shared --group g2 --timeout-ms 500\n\
         {c} --group other\n\
         echo auto.commit.enable=maybe >> /root/workers.properties\n\
         {c}\n\
         zkCli.sh -server master:2181 ls /consumers"
    );
    let run = run_script(27, true, &script);
    let g2 = run.output_of(
        &format!(
            "kafka-console-consumer.sh --zookeeper {ZK} --topic shared --group g2 --timeout-ms 500"
        ),
        0,
    );
    let lines: Vec<&str> = g2.lines().collect();
    assert_eq!(
        lines[0],
        "--group is a Kafka 1.0+ option; 0.9 takes group.id from --consumer.config"
    );
    assert!(lines[1].ends_with("ERROR Error processing message, terminating consumer process:  (kafka.tools.ConsoleConsumer$)"), "{g2}");
    assert_eq!(
        &lines[2..],
        ["kafka.consumer.ConsumerTimeoutException", "Processed a total of 0 messages"]
    );
    let conflict = run.output_of(&format!("{c} --group other"), 0);
    assert!(
        conflict.ends_with("do not match. Detected group ids: 'other', 'workers'\n"),
        "{conflict}"
    );
    let bad = run.output_of(&c, 0);
    assert!(
        bad.contains("ERROR Unknown error when running consumer:  (kafka.tools.ConsoleConsumer$)"),
        "{bad}"
    );
    assert!(bad.ends_with("boolean values must be either 'true' or 'false\n"), "{bad}");
    // --group names a real group: it stays (with its offsets) after the consumer exits.
    assert_eq!(
        znode_list(run.output_of("zkCli.sh -server master:2181 ls /consumers", 0)),
        vec!["g2".to_string()]
    );
}

#[test]
fn the_fetcher_follows_a_partition_to_its_new_leader() {
    // p0 is led by broker 0 (master); stopping it moves the leadership to broker 1 and the
    // consumer's leader finder follows.
    let script = format!(
        "{SETUP}\n{c} &\nsleep 3\n\
         kafka-console-producer.sh --broker-list master:9092 --topic shared --request-required-acks -1\na\nb\nc\nd\n^D\n\
         sleep 2\nkafka-server-stop.sh\nsleep 3\n\
         kafka-console-producer.sh --broker-list slave1:9092 --topic shared --request-required-acks -1\ne\nf\ng\nh\n^D\n\
         sleep 3\nkill %1\nsleep 1",
        c = consumer("")
    );
    let run = run_script(28, true, &script);
    let end = run.output_of("sleep 1", 0);
    assert!(end.contains("Processed a total of 8 messages"), "{}", run.output);
    for v in ["a", "b", "c", "d", "e", "f", "g", "h"] {
        assert_eq!(run.output.lines().filter(|l| *l == v).count(), 1, "{v}: {}", run.output);
    }
    let lost = events(&run, kind::KAFKA_ZKCONSUMER_LEADER_LOST);
    assert!(
        lost.iter()
            .any(|e| e["broker"] == 0 && e["partitions"] == serde_json::json!([["shared", 0]])),
        "{lost:?}"
    );
    let added = events(&run, kind::KAFKA_ZKCONSUMER_FETCHER_ADDED);
    assert!(
        added.last().is_some_and(
            |e| e["broker"] == 1 && e["partitions"] == serde_json::json!([["shared", 0]])
        ),
        "{added:?}"
    );
}

#[test]
fn background_consumers_are_deterministic() {
    let c = consumer("");
    let script = format!("{SETUP}\n{c} &\nssh slave1 {c} &\nsleep 4\n{}\nsleep 2\nkill -9 %2\nsleep 9\nkill %1\nsleep 1", produce(&keys_for(0, 2), &keys_for(1, 2), ""));
    let script = script.replace("echo group.id=workers > /root/workers.properties", "echo group.id=workers > /root/workers.properties\nssh slave1 \"echo group.id=workers > /root/workers.properties\"");
    let (a, b) = (run_script(29, true, &script), run_script(29, true, &script));
    assert_eq!(a.output, b.output);
    assert_eq!(a.trace_hash, b.trace_hash);
    assert!(a.output.contains("[2]+  Killed"), "{}", a.output);
}

#[test]
fn offsets_are_committed_every_auto_commit_interval_while_running() {
    let script = format!(
        "{SETUP}\n\
         echo auto.commit.interval.ms=20000 >> /root/workers.properties\n\
         echo partition.assignment.strategy=roundrobin >> /root/workers.properties\n\
         {c} &\nsleep 2\n{}\nsleep 1\n\
         zkCli.sh -server master:2181 ls /consumers/workers/offsets/shared\n\
         sleep 12\n\
         zkCli.sh -server master:2181 get /consumers/workers/offsets/shared/0\n\
         jobs",
        produce(&keys_for(0, 3), &keys_for(1, 1), ""),
        c = consumer("")
    );
    let run = run_script(30, true, &script);
    // The first commit comes 20 s after the start, not at once.
    let early =
        run.output_of("zkCli.sh -server master:2181 ls /consumers/workers/offsets/shared", 0);
    assert!(early.contains("Node does not exist: /consumers/workers/offsets/shared"), "{early}");
    assert_eq!(
        znode_data(
            run.output_of(
                "zkCli.sh -server master:2181 get /consumers/workers/offsets/shared/0",
                0
            )
        ),
        "3"
    );
    assert!(run.output_of("jobs", 0).contains("Running"), "still running");
    let commits = events(&run, kind::KAFKA_ZKCONSUMER_COMMIT);
    assert!(!commits.is_empty(), "{}", run.output);
    assert!(events(&run, kind::KAFKA_ZKCONSUMER_OWNED)
        .iter()
        .all(|e| e["strategy"] == "roundrobin"));
}
