//! Kafka 0.9 on ZooKeeper.
//!
//! Names mirror the real source: [`server`] is `KafkaServer` (with `KafkaController` in
//! [`controller`] and the `ReplicaManager` in [`replica_manager`]); [`log`] is `Log`/`LogSegment`;
//! [`config`] is `KafkaConfig` (server.properties); [`partitioner`] is the producer's
//! `DefaultPartitioner` with murmur2; [`admin`] is `AdminUtils` and the tools' option parsing;
//! [`leader_epoch`] is 0.11's `LeaderEpochFileCache`, behind a lab-only switch;
//! [`zk_consumer`] is the old consumer, `ZookeeperConsumerConnector`;
//! [`coordinator`] is the broker's `GroupCoordinator`, [`consumer`] the new `KafkaConsumer`, and
//! [`consumer_groups`] is `kafka-consumer-groups.sh`. [`hooks`] are the plug-in points of the
//! graded exercises, and [`programs`] is what the shell finds on the hosts.
#![warn(missing_docs)]

pub mod admin;
pub mod clients;
pub mod config;
pub mod consumer;
pub mod consumer_groups;
pub mod controller;
pub mod coordinator;
pub mod hooks;
pub mod leader_epoch;
pub mod log;
pub mod partitioner;
pub mod proto;
pub mod replica_manager;
pub mod server;
pub mod tools;
pub mod zk_consumer;
pub mod zk_utils;

use hooks::KafkaHooks;
use sim_core::program::{Invocation, Launched, Program, Registry};
use sim_core::term::Term;
use sim_core::world::World;
use tools::Program as Tool;

/// What installing Kafka 0.9.0.1 puts on the hosts: its scripts on the `PATH` (brokers, tools and
/// clients built with `hooks`), the seed's server.properties, and `KAFKA_HOME`.
pub fn programs(hooks: KafkaHooks) -> Registry {
    let mut reg = Registry::default();
    let broker = hooks.broker.clone();
    reg.add(
        "kafka-server-start.sh",
        Program::script(true, move |world: World, host: String, inv: Invocation, term: Term| {
            let broker = broker.clone();
            async move {
                let daemon = inv.args.iter().any(|a| a == "-daemon");
                let started = tools::kafka_server_start(&world, &host, &inv, &term, &broker).await;
                match started {
                    Ok(pid) => Launched::Started { pid, detached: daemon },
                    Err(code) => Launched::Exited(code),
                }
            }
        }),
    )
    .add(
        "kafka-server-stop.sh",
        Program::script(
            false,
            |world: World, host: String, _inv: Invocation, term: Term| async move {
                Launched::Exited(tools::kafka_server_stop(&world, &host, &term))
            },
        ),
    );
    let tools = [
        ("kafka-topics.sh", Tool::Topics, "TopicCommand"),
        ("kafka-console-consumer.sh", Tool::ConsoleConsumer, "ConsoleConsumer"),
        (
            "kafka-preferred-replica-election.sh",
            Tool::PreferredElection,
            "PreferredReplicaLeaderElectionCommand",
        ),
        ("kafka-consumer-groups.sh", Tool::ConsumerGroups, "ConsumerGroupCommand"),
        ("kafka-run-class.sh", Tool::RunClass, "DumpLogSegments"),
    ];
    for (name, tool, main_class) in tools {
        let hooks = hooks.clone();
        reg.add(
            name,
            Program::process(main_class, false, move |ctx, inv, term, _stdin| {
                let hooks = hooks.clone();
                async move {
                    let args = inv.args.clone();
                    tools::run_program_in(tool, ctx, args, term, inv, &hooks).await
                }
            }),
        );
    }
    let partitioner = hooks.partitioner.clone();
    reg.add(
        "kafka-console-producer.sh",
        Program::process("ConsoleProducer", true, move |ctx, inv, term, stdin| {
            let partitioner = partitioner.clone();
            let stdin = stdin.unwrap_or_else(|| futures::channel::mpsc::unbounded().1);
            tools::console_producer(ctx, inv.args, stdin, term, partitioner)
        }),
    )
    .main_class("Kafka", "kafka.Kafka")
    .export("KAFKA_HOME", server::KAFKA_HOME)
    .installer(|world| {
        let _ = tools::install_seed_brokers(world);
    });
    reg
}
