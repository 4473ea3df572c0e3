//! The ZooKeeper acceptance stories, told through `lab shell` as a learner would type them.

use lab_tests::run_script;

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn ensemble_has_one_leader_and_two_followers() {
    for seed in 1..=5 {
        let run = run_script(seed, true, "ssh master zkServer.sh status\nssh slave1 zkServer.sh status\nssh slave2 zkServer.sh status");
        assert_eq!(count(&run.output, "Mode: leader"), 1, "seed {seed}:\n{}", run.output);
        assert_eq!(count(&run.output, "Mode: follower"), 2, "seed {seed}:\n{}", run.output);
        assert!(run.output.starts_with("JMX enabled by default\nUsing config: /usr/local/spark/zookeeper-3.4.6/bin/../conf/zoo.cfg\nMode: "));
    }
}

#[test]
fn jps_lists_quorum_peer_main_with_a_pid() {
    let run = run_script(1, true, "ssh slave2 jps");
    let lines: Vec<&str> = run.output.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.output);
    let (pid, name) = lines[0].split_once(' ').expect("pid and name");
    assert!(pid.parse::<u32>().is_ok());
    assert_eq!(name, "QuorumPeerMain");
    assert!(lines[1].ends_with(" Jps"));
}

/// The leader's host, from the three status outputs.
fn leader_host(seed: u64) -> String {
    let run = run_script(seed, true, "ssh master zkServer.sh status\nssh slave1 zkServer.sh status\nssh slave2 zkServer.sh status");
    let hosts = ["master", "slave1", "slave2"];
    let i =
        run.steps.iter().position(|(_, out, _)| out.contains("Mode: leader")).expect("a leader");
    hosts[i].to_string()
}

#[test]
fn stopping_the_leader_elects_a_new_one_and_keeps_the_data() {
    let seed = 3;
    let leader = leader_host(seed);
    let script = format!(
        "zkCli.sh -server master:2181 create /x before\n\
         ssh {leader} zkServer.sh stop\n\
         sleep 10\n\
         ssh master zkServer.sh status\n\
         ssh slave1 zkServer.sh status\n\
         ssh slave2 zkServer.sh status\n\
         zkCli.sh -server master:2181 get /x\n\
         zkCli.sh -server slave1:2181 get /x\n\
         zkCli.sh -server slave2:2181 get /x"
    );
    let run = run_script(seed, true, &script);
    let status: Vec<&str> = run.steps[3..6].iter().map(|(_, o, _)| o.as_str()).collect();
    let stopped = ["master", "slave1", "slave2"].iter().position(|h| *h == leader).expect("host");
    assert!(
        status[stopped].contains("Error contacting service. It is probably not running."),
        "{}",
        run.output
    );
    let joined = status.join("");
    assert_eq!(count(&joined, "Mode: leader"), 1, "{}", run.output);
    assert_eq!(count(&joined, "Mode: follower"), 1, "{}", run.output);
    for (i, host) in ["master", "slave1", "slave2"].iter().enumerate() {
        let out = &run.steps[6 + i].1;
        if *host == leader {
            assert!(out.contains("ConnectionLossException"), "{out}");
        } else {
            assert!(out.contains("\nbefore\ncZxid = 0x"), "{host}: {out}");
        }
    }
}

#[test]
fn without_a_quorum_writes_fail_and_a_restart_brings_everything_back() {
    let script = "zkCli.sh -server master:2181 create /kept value\n\
                  ssh slave1 zkServer.sh stop\n\
                  ssh slave2 zkServer.sh stop\n\
                  sleep 10\n\
                  ssh master zkServer.sh status\n\
                  zkCli.sh -server master:2181 create /lab lost\n\
                  ssh slave1 zkServer.sh start\n\
                  sleep 10\n\
                  ssh master zkServer.sh status\n\
                  ssh slave1 zkServer.sh status\n\
                  zkCli.sh -server slave1:2181 get /kept";
    let run = run_script(2, true, script);
    assert!(
        run.steps[4].1.contains("Error contacting service. It is probably not running."),
        "{}",
        run.output
    );
    assert_eq!(run.steps[4].2, 1);
    assert!(
        run.steps[5].1.contains("Exception in thread \"main\" org.apache.zookeeper.KeeperException$ConnectionLossException: KeeperErrorCode = ConnectionLoss for /lab"),
        "{}",
        run.output
    );
    let modes = format!("{}{}", run.steps[8].1, run.steps[9].1);
    assert_eq!(count(&modes, "Mode: leader"), 1, "{}", run.output);
    assert_eq!(count(&modes, "Mode: follower"), 1, "{}", run.output);
    assert!(run.steps[10].1.contains("\nvalue\n"), "{}", run.output);
}

#[test]
fn zkcli_create_get_and_errors_print_like_3_4_6() {
    let script = "zkCli.sh -server master:2181 create /lab hello\n\
                  zkCli.sh -server master:2181 get /lab\n\
                  zkCli.sh -server master:2181 create /lab x\n\
                  zkCli.sh -server master:2181 get /nope\n\
                  zkCli.sh -server master:2181 ls /\n\
                  zkCli.sh -server master:2181 delete /nope\n\
                  zkCli.sh -server master:2181 set /lab v2 7\n\
                  zkCli.sh -server master:2181 create /lab/child c\n\
                  zkCli.sh -server master:2181 delete /lab\n\
                  zkCli.sh -server master:2181 rmr /lab\n\
                  zkCli.sh -server master:2181 stat /lab";
    let run = run_script(1, true, script);
    let get = &run.steps[1].1;
    let after_banner =
        get.split("WatchedEvent state:SyncConnected type:None path:null\n").nth(1).expect("banner");
    let lines: Vec<&str> = after_banner.lines().collect();
    assert_eq!(lines[0], "hello");
    let names: Vec<&str> = lines[1..].iter().map(|l| l.split(" = ").next().unwrap_or("")).collect();
    assert_eq!(
        names,
        [
            "cZxid",
            "ctime",
            "mZxid",
            "mtime",
            "pZxid",
            "cversion",
            "dataVersion",
            "aclVersion",
            "ephemeralOwner",
            "dataLength",
            "numChildren"
        ]
    );
    assert!(lines[1].starts_with("cZxid = 0x1000000"), "{get}");
    assert!(lines[2].ends_with("UTC 2016"), "{get}");
    assert_eq!(lines[10], "dataLength = 5");
    assert!(run.steps[0].1.ends_with("Created /lab\n"));
    assert!(run.steps[2].1.ends_with("Node already exists: /lab\n"), "{}", run.steps[2].1);
    assert!(run.steps[3].1.ends_with("Node does not exist: /nope\n"), "{}", run.steps[3].1);
    assert!(run.steps[4].1.ends_with("[lab, zookeeper]\n"), "{}", run.steps[4].1);
    assert!(run.steps[5].1.ends_with("Node does not exist: /nope\n"));
    assert!(run.steps[6].1.ends_with("version No is not valid : /lab\n"), "{}", run.steps[6].1);
    assert!(run.steps[8].1.ends_with("Node not empty: /lab\n"), "{}", run.steps[8].1);
    assert!(run.steps[10].1.ends_with("Node does not exist: /lab\n"), "{}", run.steps[10].1);
}

#[test]
fn ephemeral_nodes_vanish_when_the_session_expires_and_sequential_names_use_ten_digits() {
    // zkCli exits without closing its session (System.exit), so the ephemeral lives until the
    // 30 s session timeout passes.
    let script = "zkCli.sh -server master:2181 create /q q\n\
                  zkCli.sh -server master:2181 create -s /q/job- a\n\
                  zkCli.sh -server slave1:2181 create -s /q/job- b\n\
                  zkCli.sh -server master:2181 create -e /owner me\n\
                  zkCli.sh -server slave2:2181 get /owner\n\
                  sleep 45\n\
                  zkCli.sh -server slave2:2181 get /owner\n\
                  zkCli.sh -server master:2181 create -e /owner/child x";
    let run = run_script(4, true, script);
    assert!(run.steps[1].1.ends_with("Created /q/job-0000000000\n"), "{}", run.steps[1].1);
    assert!(run.steps[2].1.ends_with("Created /q/job-0000000001\n"), "{}", run.steps[2].1);
    assert!(run.steps[4].1.contains("\nme\n"));
    assert!(
        !run.steps[4].1.contains("ephemeralOwner = 0x0\n"),
        "owner must be set: {}",
        run.steps[4].1
    );
    assert!(run.steps[6].1.ends_with("Node does not exist: /owner\n"), "{}", run.output);
    assert!(run.trace.contains("\"kind\":\"zk.session.expire\""));
}

#[test]
fn ephemerals_cannot_have_children() {
    let script =
        "zkCli.sh -server master:2181 create -e /e x\nzkCli.sh -server master:2181 create /e/c y";
    let run = run_script(5, true, script);
    assert!(run.steps[1].1.ends_with("Ephemerals cannot have children: /e/c\n"), "{}", run.output);
}

#[test]
fn a_missing_or_mismatched_myid_is_a_clear_startup_error() {
    let script = "echo 0 > ../data/myid\n\
                  zkServer.sh start\n\
                  sleep 2\n\
                  jps\n\
                  cat zookeeper.out";
    let run = run_script(1, false, script);
    assert!(run.steps[1].1.contains("Starting zookeeper ... STARTED"));
    assert!(
        !run.steps[3].1.contains("QuorumPeerMain"),
        "the server must have died: {}",
        run.output
    );
    assert!(
        run.steps[4].1.contains(
            "myid 0 in /usr/local/spark/zookeeper-3.4.6/data/myid matches no server.N line"
        ),
        "{}",
        run.output
    );
}

#[test]
fn unknown_commands_and_hosts_print_bash_errors_and_the_shell_goes_on() {
    let run = run_script(
        1,
        true,
        "frobnicate\nssh nowhere jps\nsleep 5x\nkill -9 1\nssh master zkServer.sh status",
    );
    assert_eq!(run.steps[0].1, "frobnicate: command not found\n");
    assert_eq!(run.steps[0].2, 127);
    assert!(run.steps[1].1.contains("Could not resolve hostname nowhere"));
    assert!(run.steps[2].1.contains("invalid time interval"), "{}", run.steps[2].1);
    assert_eq!(run.steps[3].1, "bash: kill: (1) - No such process\n");
    assert!(run.steps[4].1.contains("Mode: "));
}
