//! Kafka 0.9 on ZooKeeper.
//!
//! Names mirror the real source: [`server`] is `KafkaServer` (with `KafkaController` in
//! [`controller`], the request dispatch `KafkaApis` in [`kafka_apis`] and the `ReplicaManager` in
//! [`replica_manager`], which keeps its [`partition`]s, a [`metadata_cache`], a [`log_manager`],
//! the [`delayed_operation`] purgatory and a `ReplicaFetcherThread` per leader); [`log`] is
//! `Log`/`LogSegment`;
//! [`config`] is `KafkaConfig` (server.properties); [`partitioner`] is the producer's
//! `DefaultPartitioner` with murmur2; [`admin`] is `AdminUtils` and the tools' option parsing;
//! [`leader_epoch`] is 0.11's `LeaderEpochFileCache`, behind a lab-only switch;
//! [`zk_consumer`] is the old consumer, `ZookeeperConsumerConnector`;
//! [`coordinator`] is the broker's `GroupCoordinator`, [`consumer`] the new `KafkaConsumer`, and
//! [`consumer_groups`] is `kafka-consumer-groups.sh`; [`network_client`] is `NetworkClient`, the
//! request/response connection every client keeps to a broker. [`hooks`] are the plug-in points
//! of the graded exercises, and [`programs`] is what the shell finds on the hosts.
//!
//! # How it works
//!
//! (Moved here from ARCHITECTURE.md, which keeps only the map.)
//!
//! Kafka 0.9 with the real class names. Brokers talk to ZooKeeper only through the public client
//! handle (`zk::client::ZooKeeper`): real sessions, real watches.
//!
//! - `config.rs` — `KafkaConfig` from `server.properties` (0.9 defaults, `ConfigException` wording,
//!   unknown keys kept and warned about) and the seed's file for each host.
//! - `log/` — `Log`, `LogSegment`, `OffsetIndex`: `<topic>-<p>/<20-digit base offset>.log|.index` on
//!   the host's disk, records in the v0 message format byte for byte (CRC32, sizes), roll by size,
//!   retention by time and bytes, recovery that cuts a torn tail; `dump.rs` is `DumpLogSegments`.
//!   A fetch delimits its slice with `Log::read_slice` (entry headers only, like `FileMessageSet`),
//!   and the slice travels as shared `Bytes`.
//! - `proto.rs` — requests and responses (Metadata, Produce, Fetch, ListOffsets, LeaderAndIsr,
//!   UpdateMetadata, StopReplica, and 0.11's OffsetsForLeaderEpoch behind the lab switch) with error
//!   codes; record data travels as message-set bytes.
//! - `zk_utils.rs` — `ZkUtils`: paths and JSON exactly as 0.9 writes them.
//! - `network_client.rs` — `NetworkClient`: a client's connection to one broker (opened again
//!   after a close), correlation ids from 0 (one counter shared by a client's connections, as
//!   Java's), `max.in.flight.requests.per.connection` (5 by default; 1 for the controller),
//!   send and wait with a timeout, and the late answer to a request given up on dropped. The
//!   producer, `PartitionFetcher`, the new consumer's coordinator connection, the old consumer's
//!   fetchers, the consumer-groups tool, the controller's channel to each broker and the stream
//!   crate's direct stream all talk to brokers through it.
//! - `server.rs` — `KafkaServer`: start-up order, `/brokers/ids/<id>`, the socket server (one request
//!   at a time per connection, like Kafka's muted channels, each handed to `KafkaApis`), controller
//!   election, watches, retention and HW checkpoint timers, SIGTERM.
//! - `kafka_apis.rs` — `KafkaApis`: which part answers each request; Metadata (with topic
//!   auto-creation), ListOffsets and OffsetsForLeaderEpoch are answered there.
//! - `controller.rs` — `KafkaController`: `/controller_epoch`, broker and topic change listeners,
//!   leader election (first live ISR replica; unclean when allowed), state znodes by
//!   compare-and-set, one ordered request queue per broker, each sent over a `NetworkClient`.
//! - `partition.rs` — `Partition`, and its ISR and HW rules as pure functions
//!   (`getOutOfSyncReplicas`, `maybeExpandIsr`, `maybeIncrementLeaderHW`), unit-tested.
//! - `metadata_cache.rs`, `log_manager.rs`, `delayed_operation.rs` — `MetadataCache` (live
//!   brokers and partition states from UpdateMetadata), `LogManager` (log dirs, per-topic log
//!   config, the HW checkpoint file, retention), `DelayedOperationPurgatory` (acks=all produces
//!   and long-poll fetches waiting for a change or their timeout).
//! - `replica_manager/replica_fetcher_thread.rs` — `ReplicaFetcherThread`: a follower's fetch
//!   loop per leader, out-of-range handling and KIP-101 truncation.
//! - `replica_manager.rs` — `ReplicaManager`: LeaderAndIsr acted on only for a newer leader epoch
//!   (a new controller's re-sent states are stale, as 0.9's `becomeLeaderOrFollower` says), leader
//!   appends, HW = min LEO of the ISR, long-poll
//!   fetches whose log slices are sent through `hw::send` along the broker's lab-only
//!   `lab.fetch.send.path` (`sendfile` by default, as Kafka's `transferTo`; `lab.fetch.tls`,
//!   `lab.fetch.down.convert` are what-ifs that lose zero-copy, as does
//!   `security.inter.broker.protocol=SSL` for replica fetches), and
//!   acks=all waits in the purgatory, followers truncating to
//!   their HW and a `ReplicaFetcherThread` per leader, ISR shrink (`replica.lag.time.max.ms`,
//!   `replica.lag.max.messages`) and expansion with `/isr_change_notification`,
//!   `replication-offset-checkpoint`. A broker whose ZooKeeper session expires opens a new one,
//!   registers again and runs for controller again. As in 0.9, a storage error (ENOSPC on append,
//!   replication or the HW checkpoint) halts the broker, and so does a leader whose log ends below
//!   the follower's when unclean election is off; `makeFollower` with an unchanged leader truncates
//!   nothing. Truncation on a leader change follows `lab.replica.truncation`: the local HW (0.9) or
//!   the new leader's answer to OffsetsForLeaderEpoch (KIP-101).
//! - `leader_epoch.rs` — 0.11's `LeaderEpochFileCache` (`leader-epoch-checkpoint`: the first offset
//!   of each leader epoch), kept only with `lab.replica.truncation=leader-epoch`. The lab keeps the v0
//!   record format, so a follower files fetched records under its current leader's epoch.
//! - `partitioner.rs`, `admin.rs` — murmur2 and `DefaultPartitioner`; `AdminUtils` replica
//!   assignment, topic validation, and joptsimple-style parsing of the tools' flags.
//! - `clients.rs` — `KafkaProducer` (batches by size and linger, retries) and `PartitionFetcher`, which fetches from partition leaders at
//!   positions its owner keeps (every consumer fetches through it).
//! - `coordinator/` — the broker's `GroupCoordinator` (0.9 group management):
//!   - `mod.rs` — `GroupCoordinator`: GroupCoordinator (FindCoordinator), JoinGroup, SyncGroup,
//!     Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, ListGroups, DescribeGroups. A broker
//!     coordinates the groups of the `__consumer_offsets` partitions it leads: the socket server
//!     tells it after each LeaderAndIsr/StopReplica, and it loads the partition's log up to the
//!     HW (`GROUP_LOAD_IN_PROGRESS` meanwhile) or drops its groups. Parked JoinGroups/SyncGroups
//!     wait on oneshot channels; session expiry (`DelayedHeartbeat`) and the rebalance timeout
//!     (`DelayedJoin`, the largest session timeout) are tasks sleeping in virtual time. Group
//!     records and commits are appended through `ReplicaManager` as a Produce with acks = −1.
//!   - `group_metadata.rs` — `GroupMetadata`/`MemberMetadata` and 0.9's four states
//!     (PreparingRebalance, AwaitingSync, Stable, Dead; `Empty` came in 0.10.1, so a group whose
//!     last member leaves is Dead and forgotten while its offsets stay).
//!   - `offsets.rs` — `partitionFor` (Java `String.hashCode`, `Utils.abs` = `& 0x7fffffff`, % 50),
//!     the offset/group key and value records byte for byte, `OffsetsMessageFormatter`, and the
//!     creation of `__consumer_offsets` (50 partitions, RF 3 capped at the live brokers, 0.9's
//!     topic configs) on the first GroupCoordinator or metadata request for it.
//!   - `assignor.rs` — `RangeAssignor`, `RoundRobinAssignor`, `ConsumerProtocol` (subscription and
//!     assignment bytes). `protocol.rs` — the requests and responses (carried inside
//!     `proto::Request::Group`/`Response::Group`). `codec.rs` — Kafka's protocol primitives.
//! - `consumer.rs` — `KafkaConsumer` (`subscribe`, `poll`, `commit_sync`, `commit_async`,
//!   `position`, `close`) with its `ConsumerCoordinator` logic: find the coordinator, join (the
//!   leader runs the assignor), sync, positions from committed offsets or `auto.offset.reset`,
//!   heartbeats and auto-commit from inside `poll` (single-threaded, as in 0.9), rejoin on
//!   REBALANCE_IN_PROGRESS / ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID, coordinator rediscovery on
//!   NOT_COORDINATOR_FOR_GROUP or a dead connection. Also the `--new-consumer` console consumer.
//! - `consumer_groups.rs` — `kafka-consumer-groups.sh` (`ConsumerGroupCommand`): `--list`,
//!   `--describe`, `--delete` for new-consumer groups (`--bootstrap-server`) and old ones
//!   (`--zookeeper`); the 2.0 padded table by default, 0.9's comma rows with `--lab-format 0.9`;
//!   0.11's `--reset-offsets` (earliest, latest, current, to-offset, shift-by; dry run unless
//!   `--execute`) for a group with no live member, committed with generation −1.
//! - `zk_consumer.rs` — the old consumer, `ZookeeperConsumerConnector`: consumer id
//!   `<group>_<host>-<ms>-<uuid8>`, ephemeral `/consumers/<group>/ids/<id>`, the watcher task
//!   (`ZKRebalancerListener`, `ZKTopicPartitionChangeListener`, `ZKSessionExpireListener`) and
//!   `syncedRebalance` (stop fetchers and commit, release owner nodes, assign, claim owners with
//!   ephemeral creates, retry after `rebalance.backoff.ms` up to `rebalance.max.retries`),
//!   `ConsumerFetcherManager` (leader finder, one fetcher task per leader, a bounded chunk queue),
//!   `KafkaStream`, auto-commit to `/consumers/<group>/offsets`. `zk_consumer/assignor.rs` holds
//!   `TopicCount`, the whitelist matcher and the `RangeAssignor`/`RoundRobinAssignor`.
//! - `tools.rs` — the shell's Kafka commands; `tools/old_console_consumer.rs` is the console
//!   consumer's `--zookeeper` path (`--consumer.config`, `checkZk`, the shutdown hook).
//!
//! Controlled shutdown (SIGTERM with `controlled.shutdown.enable`) asks the controller to move the
//! broker's leaderships first (`KafkaController.shutdownBroker`), retrying 3 times 5 s apart;
//! `kafka-preferred-replica-election.sh` writes `/admin/preferred_replica_election`, which the
//! controller watches. Deliberate gaps, to be closed by the issues that own them: topic
//! deletion only marks the topic. Consumer groups simplify a little, each noted where it is
//! coded: committed offsets never expire (0.9: a day), `KafkaConsumer::poll` stops looking for a
//! coordinator at its timeout (0.9 blocks), and a group's members and partitions are kept sorted
//! where Kafka's order comes from a hash map.
#![warn(missing_docs)]

pub mod admin;
pub mod clients;
pub mod common;
pub mod config;
pub mod consumer;
pub mod consumer_groups;
pub mod controller;
pub mod coordinator;
pub mod delayed_operation;
pub mod errors;
pub mod hooks;
pub mod kafka_apis;
pub mod leader_epoch;
pub mod log;
pub mod log_manager;
pub mod metadata_cache;
pub mod network_client;
pub mod partition;
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
