//! Typed faults and config edits: each prints as the shell line that makes it, and the shell
//! reads that line back as the very same value; a per-link network change slows that link only;
//! bad `lab net` and `lab set` lines get an error and a non-zero exit.

use lab_tests::run_script;
use proptest::prelude::*;
use sim::fault::{ConfigEdit, Fault, Link, NetChange, PartitionSpec};
use sim::shell::{parse_edit_line, parse_fault_line, Shell};
use sim::trace::kind;
use sim::world::Sim;
use std::time::Duration;

const HOSTS: [&str; 4] = ["master", "slave1", "slave2", "client"];

fn host() -> impl Strategy<Value = String> {
    prop::sample::select(HOSTS.to_vec()).prop_map(String::from)
}

fn two_hosts() -> impl Strategy<Value = (String, String)> {
    prop::sample::subsequence(HOSTS.to_vec(), 2)
        .prop_shuffle()
        .prop_map(|v| (v[0].to_string(), v[1].to_string()))
}

fn net_change() -> impl Strategy<Value = NetChange> {
    prop_oneof![
        (0u64..10_000_000_000).prop_map(|ns| NetChange::Latency(Duration::from_nanos(ns))),
        (0u64..100_000).prop_map(|ms| NetChange::Latency(Duration::from_millis(ms))),
        (0.0f64..=1.0).prop_map(NetChange::Loss),
        (1u64..100_000).prop_map(NetChange::Bandwidth),
        Just(NetChange::Reset),
    ]
}

fn partition() -> impl Strategy<Value = PartitionSpec> {
    let hosts = prop::sample::subsequence(HOSTS.to_vec(), 2..=4).prop_shuffle();
    (hosts, any::<bool>(), prop::option::of(1u16..=u16::MAX))
        .prop_flat_map(|(hosts, one_way, port)| {
            let n = hosts.len();
            (Just(hosts), 1..n, Just(one_way), Just(port))
        })
        .prop_map(|(hosts, split, one_way, port)| PartitionSpec {
            a: hosts[..split].iter().map(|h| h.to_string()).collect(),
            b: hosts[split..].iter().map(|h| h.to_string()).collect(),
            one_way,
            port,
        })
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        host().prop_map(|host| Fault::Crash { host }),
        host().prop_map(|host| Fault::Boot { host }),
        (host(), any::<u32>()).prop_map(|(host, pid)| Fault::Kill { host, pid }),
        (host(), any::<u32>()).prop_map(|(host, pid)| Fault::Pause { host, pid }),
        (host(), any::<u32>()).prop_map(|(host, pid)| Fault::Resume { host, pid }),
        partition().prop_map(Fault::Partition),
        Just(Fault::Heal),
        net_change().prop_map(Fault::Net),
        (two_hosts(), any::<bool>(), net_change()).prop_map(|((a, b), one_way, change)| {
            let link = if one_way { Link::one_way(&a, &b) } else { Link::between(&a, &b) };
            Fault::NetLink { link, change }
        }),
        host().prop_map(|host| Fault::DiskFull { host }),
        host().prop_map(|host| Fault::DiskFree { host }),
    ]
}

proptest! {
    #[test]
    fn a_fault_reads_back_from_its_line(f in fault()) {
        prop_assert_eq!(parse_fault_line(&f.to_string()), Ok(f));
    }

    #[test]
    fn a_config_edit_reads_back_from_its_line(
        host in host(),
        file in "/[a-z0-9_./-]{1,30}( [a-z]{1,5})?",
        key in "[^=\n\r]{1,20}",
        value in "[^\n\r]{0,30}",
    ) {
        let edit = ConfigEdit::new(&host, &file, &key, &value);
        prop_assert_eq!(parse_edit_line(&edit.to_string()), Ok(edit));
    }
}

#[test]
fn the_runner_and_the_book_spell_lab_set_the_same() {
    let e = ConfigEdit::new(
        "slave1",
        "/usr/local/kafka_2.10-0.9.0.1/config/server.properties",
        "zookeeper.connect",
        "master:2181,slave1:2181,slave2:2181",
    );
    assert_eq!(
        e.to_string(),
        "lab set slave1 /usr/local/kafka_2.10-0.9.0.1/config/server.properties zookeeper.connect=master:2181,slave1:2181,slave2:2181"
    );
}

/// `lab net latency 200ms master slave1`: a ZooKeeper `srvr` round trip between those two hosts
/// takes 400 ms more, between any other two as long as before.
#[test]
fn per_link_latency_slows_only_that_link() {
    Sim::new(sim::seeded(6)).run(|world| async move {
        let mut sh = Shell::new(world.clone());
        sh.think_time = Duration::ZERO;
        sh.boot_cluster(true).await;
        async fn rtt(world: &sim::world::World, from: &str, to: &str) -> Duration {
            let (tx, rx) = futures::channel::oneshot::channel();
            let to = to.to_string();
            world
                .spawn(from, "Ping", move |ctx| async move {
                    let net = ctx.net();
                    let c = net
                        .connect::<sim::zk::proto::ClientPacket>(
                            &ctx.host,
                            "ping",
                            &to,
                            2181,
                            Duration::from_secs(5),
                        )
                        .await
                        .expect("connect");
                    let t0 = madsim::time::Instant::now();
                    c.send(sim::zk::proto::ClientPacket::FourLetter("srvr".into())).expect("send");
                    c.recv_timeout(Duration::from_secs(5)).await.expect("reply");
                    let _ = tx.send(madsim::time::Instant::now() - t0);
                })
                .expect("spawn");
            rx.await.expect("rtt")
        }
        let before = rtt(&world, "master", "slave1").await;
        assert!(before < Duration::from_millis(5), "{before:?}");
        assert_eq!(
            sh.exec_line("lab net latency 200ms master slave1").await,
            0,
            "{}",
            sh.take_output()
        );
        let slow = rtt(&world, "master", "slave1").await;
        assert!(
            slow >= Duration::from_millis(400) && slow < Duration::from_millis(405),
            "{slow:?}"
        );
        assert!(rtt(&world, "slave1", "master").await >= Duration::from_millis(400), "both ways");
        assert!(rtt(&world, "master", "slave2").await < Duration::from_millis(5));
        assert!(rtt(&world, "slave2", "slave1").await < Duration::from_millis(5));
        // One way: only what slave2 sends to master is late.
        assert_eq!(sh.exec_line("lab net latency 100ms slave2 -> master").await, 0);
        let one_way = rtt(&world, "master", "slave2").await;
        assert!(
            one_way >= Duration::from_millis(100) && one_way < Duration::from_millis(105),
            "{one_way:?}"
        );
        let links = world.tracer().of_kind(kind::NET_LINK);
        assert_eq!(links.len(), 3, "{links:?}");
        assert_eq!(sh.exec_line("lab net reset").await, 0);
        assert!(rtt(&world, "master", "slave1").await < Duration::from_millis(5));
    });
}

#[test]
fn bad_net_and_set_lines_are_refused() {
    let run = run_script(
        1,
        false,
        "lab net latency abc\n\
         lab net latency\n\
         lab net loss 2\n\
         lab net bandwidth 0\n\
         lab net jitter 5ms\n\
         lab net latency 5ms master\n\
         lab net latency 5ms master master\n\
         lab net latency 5ms master mars\n\
         lab net latency 5ms master ->\n\
         lab set master\n\
         lab set master /tmp/x novalue\n\
         lab set mars /tmp/x a=b\n\
         lab set master /tmp/x a=b extra\n\
         lab net latency 5ms master slave1\n\
         lab set master /tmp/x a=b",
    );
    let code = |line: &str| run.steps.iter().find(|(l, _, _)| l == line).map(|(_, _, c)| *c);
    assert!(
        run.output_of("lab net latency abc", 0).contains("'abc' is not a duration"),
        "{}",
        run.output
    );
    for line in [
        "lab net latency abc",
        "lab net latency",
        "lab net loss 2",
        "lab net bandwidth 0",
        "lab net jitter 5ms",
        "lab net latency 5ms master",
        "lab net latency 5ms master master",
        "lab net latency 5ms master mars",
        "lab net latency 5ms master ->",
        "lab set master",
        "lab set master /tmp/x novalue",
        "lab set mars /tmp/x a=b",
        "lab set master /tmp/x a=b extra",
    ] {
        assert_eq!(code(line), Some(2), "{line}: {}", run.output_of(line, 0));
        assert!(!run.output_of(line, 0).is_empty(), "{line} says why");
    }
    assert_eq!(run.output_of("lab net latency 5ms master mars", 0), "lab: unknown host mars\n");
    assert_eq!(code("lab net latency 5ms master slave1"), Some(0));
    assert_eq!(code("lab set master /tmp/x a=b"), Some(0));
}
