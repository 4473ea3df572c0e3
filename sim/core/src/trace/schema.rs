//! Every trace event kind, declared once: its name, the protocol fields it carries and the step
//! of the real ZooKeeper, Kafka or Spark code it stands for.
//!
//! Emitters, checkers, reports, lessons, pictures and graders name a kind by its constant in
//! [`kind`] (`kind::KAFKA_HW` is `"kafka.hw"`), never by a string of their own, so a renamed or
//! misspelt kind is a compile error. [`EVENTS`] lists the declarations for tools and tests: a
//! test runs real scenarios and fails on any emitted kind that is not declared here, or any field
//! an event carries that its declaration does not list. The JSONL format is unchanged: a
//! constant is the very string that was written before.
//!
//! `fields` are the names an event may carry beyond the fixed `t_us`, `host`, `proc`, `kind`,
//! `id` and `cause`; an event of the kind carries some or all of them (a `kafka.truncate` by the
//! leader epoch has `epoch` and `leader_end`, one to the high watermark does not). A field
//! named `host` is a second `host` key after the fixed one (the lab's own events, emitted on
//! host `lab`, name the host they act on that way).
//!
//! ```
//! use sim_core::trace::{kind, schema};
//! assert_eq!(kind::KAFKA_HW, "kafka.hw");
//! let hw = schema::spec(kind::KAFKA_HW).expect("declared");
//! assert!(hw.fields.contains(&"to"));
//! assert!(schema::spec("kafka.high_watermark").is_none());
//! ```

use super::Event;
use std::collections::BTreeMap;

#[cfg(test)]
mod tests;

/// One declared event kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSpec {
    /// The `kind` string as written in the trace (`"kafka.hw"`).
    pub kind: &'static str,
    /// The protocol fields an event of this kind may carry, sorted by name.
    pub fields: &'static [&'static str],
    /// One line: the protocol step, named as in the real code where there is one.
    pub doc: &'static str,
}

impl EventSpec {
    /// Whether an event of this kind may carry a field of this name.
    pub fn has_field(&self, name: &str) -> bool {
        self.fields.contains(&name)
    }
}

/// The declaration of a kind, if it is declared.
pub fn spec(kind: &str) -> Option<&'static EventSpec> {
    EVENTS.iter().find(|s| s.kind == kind)
}

/// Whether a kind is declared.
pub fn is_declared(kind: &str) -> bool {
    spec(kind).is_some()
}

/// What in `events` the schema does not declare, one line per undeclared kind and per undeclared
/// field of a declared kind (each named with the first event that shows it), sorted; empty when
/// every event is declared.
pub fn undeclared(events: &[Event]) -> Vec<String> {
    let mut out = BTreeMap::new();
    for e in events {
        match spec(&e.kind) {
            None => {
                out.entry(format!("kind {:?}", e.kind)).or_insert_with(|| {
                    format!(
                        "kind {:?} is not declared in sim/core/src/trace/schema.rs (first: t_us {}, \
                         {}/{})",
                        e.kind, e.t_us, e.host, e.proc
                    )
                });
            }
            Some(s) => {
                for name in e.fields.keys().filter(|n| !s.has_field(n)) {
                    out.entry(format!("field {:?} {name:?}", e.kind)).or_insert_with(|| {
                        format!(
                            "kind {:?} carries field {name:?}, which its declaration does not \
                             list ({}) (first: t_us {}, {}/{})",
                            e.kind,
                            s.fields.join(", "),
                            e.t_us,
                            e.host,
                            e.proc
                        )
                    });
                }
            }
        }
    }
    out.into_values().collect()
}

/// The fixed fields every event has, in the order they are written.
pub const FIXED_FIELDS: &[&str] = &["t_us", "host", "proc", "kind", "id", "cause"];

/// Declares the kinds: for each, a constant in [`kind`] (documented with its doc line, kind and
/// fields) and an entry of [`EVENTS`], in declaration order.
macro_rules! events {
    ($( $(#[doc = $doc:literal])+ $name:ident = $kind:literal [$($field:literal),* $(,)?], )+) => {
        /// The event kinds, one constant per kind (`kind::ZAB_COMMIT` is `"zab.commit"`).
        pub mod kind {
            $(
                $(#[doc = $doc])+
                #[doc = ""]
                #[doc = concat!("`", $kind, "`", $(" · `", $field, "`",)*)]
                pub const $name: &str = $kind;
            )+
        }

        /// Every declared kind, grouped by layer.
        pub static EVENTS: &[EventSpec] = &[
            $(
                EventSpec {
                    kind: kind::$name,
                    fields: &[$($field),*],
                    doc: concat!($($doc),+).trim_ascii(),
                },
            )+
        ];
    };
}

events! {
    // ---- The lab itself: the world, processes, the network, disks, the shell.

    /// `Sim::new`: the world is built; the run's seed.
    WORLD_START = "world.start" ["seed"],
    /// A process is spawned on a host (a JVM's `main` starts).
    PROC_START = "proc.start" ["pid"],
    /// A process's `main` returned and it exited (its remaining tasks die with it).
    PROC_EXIT = "proc.exit" ["pid"],
    /// `kill -9`: the process is killed where it stands, sockets closed as the kernel does.
    PROC_KILL = "proc.kill" ["pid"],
    /// `kill -TERM`/`-INT`: the kernel delivers a signal to the process's handler.
    PROC_SIGNAL = "proc.signal" ["pid", "signal"],
    /// `Runtime.getRuntime.halt`: the process ends at once, with no shutdown hooks.
    PROC_HALT = "proc.halt" ["pid", "status"],
    /// `kill -STOP`: the process stops where it stands; none of its threads runs, its timers
    /// and sockets wait.
    PROC_STOP = "proc.stop" ["pid"],
    /// `kill -CONT`: a stopped process runs on from where it stood.
    PROC_CONT = "proc.cont" ["pid"],
    /// Power loss: the host's NIC goes dark, its processes die, unsynced writes are lost.
    HOST_CRASH = "host.crash" ["host"],
    /// A crashed host is powered on again (no process starts by itself).
    HOST_BOOT = "host.boot" ["host"],
    /// `lab partition`: traffic from one host to another is held (all ports, or one port).
    NET_BLOCK = "net.block" ["from", "port", "to"],
    /// `lab heal`: every partition is lifted and held traffic flows again.
    NET_HEAL = "net.heal" [],
    /// `lab net latency|loss|bandwidth|reset … A B`: what one directed link's own settings now
    /// are (a `null` follows the network's parameters).
    NET_LINK = "net.link" ["bandwidth_bps", "from", "latency_us", "loss", "to"],
    /// A message leaves a connection (`msg` names the message type, `bytes` its wire size).
    NET_SEND = "net.send" ["bytes", "conn", "msg", "to"],
    /// A message is delivered to the receiving process; `cause` is its `net.send`.
    NET_RECV = "net.recv" ["conn", "from", "msg"],
    /// `lab disk full|free`: a host's disk starts or stops answering writes with ENOSPC.
    DISK_FILL = "disk.fill" ["host", "state"],
    /// The shell runs one typed command line.
    SHELL_LINE = "shell.line" ["line"],

    // ---- Scenario runner (`lab run`).

    /// The scenario installs its larger ZooKeeper ensemble on the extra hosts.
    SCENARIO_ZK_INSTALLED = "scenario.zk_installed" ["ensemble"],
    /// The cluster is up: the scenario's clock starts (time 0 of its schedule).
    SCENARIO_START = "scenario.start" ["name"],
    /// A workload process could not be started on its host.
    SCENARIO_WORKLOAD_NOT_STARTED = "scenario.workload_not_started" ["host", "workload"],
    /// The scenario starts its Spark Streaming driver.
    SCENARIO_STREAM_START = "scenario.stream_start" ["host", "style"],
    /// A producer workload finished: records attempted, acknowledged, and its errors.
    SCENARIO_PRODUCER_DONE = "scenario.producer_done"
        ["attempted", "completed", "error_kinds", "errors", "producer"],
    /// The scenario's network parameters (latency, loss) are restored before the settle phase.
    SCENARIO_NET_RESTORED = "scenario.net_restored" [],
    /// Faults stop and the cluster settles before the final read.
    SCENARIO_SETTLE = "scenario.settle" [],
    /// The final read of every topic begins (what survived, for the checkers).
    SCENARIO_FINAL_READ = "scenario.final_read" [],

    // ---- ZooKeeper: FastLeaderElection (port 3888).

    /// `FastLeaderElection.lookForLeader` begins a round with the peer's own vote.
    FLE_START = "fle.start" ["epoch", "round", "zxid"],
    /// `lookForLeader` takes in a notification (`totalOrderPredicate` may change the vote).
    FLE_VOTE = "fle.vote" ["from", "leader", "round", "state", "zxid"],
    /// `lookForLeader` returns: a quorum agrees, the peer turns LEADING or FOLLOWING.
    FLE_SETTLED = "fle.settled" ["leader", "round", "state", "zxid"],

    // ---- ZooKeeper: Zab (port 2888), Leader and Follower.

    /// `Leader.lead`: the peer starts leading (a quorum port is opened for learners).
    ZAB_LEADING = "zab.leading" [],
    /// `Leader.lead` could not bind the quorum port (`QuorumPeer` goes back to LOOKING).
    ZAB_BIND_FAILED = "zab.bind_failed" ["error", "port"],
    /// `Leader.getEpochToPropose`: a quorum joined; the new epoch is the accepted epoch.
    ZAB_NEW_EPOCH = "zab.new_epoch" ["epoch"],
    /// `LearnerHandler.syncFollower`: a learner is brought up to date by DIFF, TRUNC or SNAP.
    ZAB_SYNC = "zab.sync" ["learner", "mode", "peer_zxid"],
    /// `Leader.waitForNewLeaderAck`: a quorum acked NEWLEADER; the leader starts serving.
    ZAB_ESTABLISHED = "zab.established" ["epoch", "leader"],
    /// `Leader.propose`: a write gets the next zxid and is sent to the followers as PROPOSAL.
    ZAB_PROPOSE = "zab.propose" ["op", "zxid"],
    /// `Leader.tryToCommit`: a quorum acked the proposal; COMMIT goes to the followers.
    ZAB_COMMIT = "zab.commit" ["acks", "zxid"],
    /// A `LearnerHandler` ended: the learner's connection is gone.
    ZAB_LEARNER_GONE = "zab.learner_gone" ["learner"],
    /// `Leader.shutdown`: the leader gives up (lost its quorum, `syncLimit` passed, …).
    ZAB_LEADER_SHUTDOWN = "zab.leader_shutdown" ["reason"],
    /// `Follower.followLeader`: the peer connects to the leader it elected.
    ZAB_FOLLOWING = "zab.following" ["leader"],
    /// `Learner.syncWithLeader` on TRUNC: the follower cut its log back to the leader's zxid.
    ZAB_TRUNCATED = "zab.truncated" ["zxid"],
    /// `Learner.syncWithLeader` on SNAP: the follower loaded the leader's snapshot.
    ZAB_SNAP_LOADED = "zab.snap_loaded" ["zxid"],
    /// `Follower.shutdown`: "Exception when following the leader"; back to LOOKING.
    ZAB_FOLLOWER_SHUTDOWN = "zab.follower_shutdown" ["reason"],

    // ---- ZooKeeper: the server (QuorumPeerMain, ZooKeeperServer, sessions).

    /// `QuorumPeerMain`: "Invalid config, exiting abnormally" (zoo.cfg or myid).
    ZK_STARTUP_ERROR = "zk.startup_error" ["error"],
    /// `ZKDatabase.loadDataBase`: snapshot and log replayed; the epochs read from disk.
    ZK_LOADED = "zk.loaded" ["accepted_epoch", "current_epoch", "myid", "zxid"],
    /// "Severe unrecoverable error, exiting": the peer halts on an I/O error.
    ZK_FATAL = "zk.fatal" ["error", "myid", "status"],
    /// `ZooKeeperServer` enters (RUNNING) or leaves the serving state.
    ZK_SERVING = "zk.serving" ["serving", "zxid"],
    /// `ZooKeeperServer.finishSessionInit`: a client's session is established.
    ZK_SESSION_CONNECTED = "zk.session.connected" ["session", "timeout_ms"],
    /// "Refusing session request for client … as it has seen zxid …": the server is behind.
    ZK_SESSION_REFUSED = "zk.session.refused" ["client_zxid", "our_zxid"],
    /// "Invalid session … for client, probably expired": a reconnect finds its session gone.
    ZK_SESSION_EXPIRED_ON_CONNECT = "zk.session.expired_on_connect" ["session"],
    /// `SessionTrackerImpl` expires a session on the leader (a closeSession is proposed).
    ZK_SESSION_EXPIRE = "zk.session.expire" ["session"],
    /// `PrepRequestProcessor`: a client's write request reaches the server.
    ZK_REQUEST = "zk.request" ["op", "path", "session", "xid"],
    /// `FinalRequestProcessor` / `ZKDatabase.processTxn`: a committed transaction is applied.
    ZK_APPLY = "zk.apply" ["crc", "ephemeral", "err", "op", "path", "session", "zxid"],
    /// `ClientCnxn`: "Client session timed out, have not heard from server in …ms".
    ZK_CLIENT_TIMEOUT = "zk.client.timeout" ["server"],
    /// `ClientCnxn`: "Unable to reconnect to ZooKeeper service, session … has expired".
    ZK_CLIENT_EXPIRED = "zk.client.expired" ["session"],

    // ---- Kafka: the broker (KafkaServer, controller, ReplicaManager, LogManager).

    /// `KafkaServerStartable`: "Fatal error during KafkaServerStartable startup".
    KAFKA_STARTUP_ERROR = "kafka.startup_error" ["error"],
    /// `KafkaHealthcheck.register`: the broker's ephemeral `/brokers/ids/<id>` is written.
    KAFKA_REGISTERED = "kafka.registered" ["broker", "host", "port"],
    /// `SessionExpireListener.handleNewSession`: the broker's ZooKeeper session expired.
    KAFKA_SESSION_EXPIRED = "kafka.session_expired" ["broker"],
    /// `KafkaServer.shutdown` completed.
    KAFKA_SHUTDOWN = "kafka.shutdown" ["broker"],
    /// `KafkaController.onControllerFailover`: this broker won `/controller`; its epoch.
    KAFKA_CONTROLLER_ELECTED = "kafka.controller_elected" ["broker", "epoch"],
    /// `BrokerChangeListener`: brokers appeared in or vanished from `/brokers/ids`.
    KAFKA_BROKER_CHANGE = "kafka.broker_change" ["added", "dead"],
    /// `PartitionStateMachine.electLeaderForPartition`: the controller picks a new leader.
    KAFKA_LEADER_ELECTION = "kafka.leader_election"
        ["dead", "isr", "leader", "leader_epoch", "old_leader", "partition", "reason", "topic",
         "unclean"],
    /// `IsrChangeNotificationListener`: the controller reads ISR changes brokers reported.
    KAFKA_ISR_CHANGE_SEEN = "kafka.isr_change_seen" ["partitions"],
    /// `KafkaController.shutdownBroker`: a ControlledShutdownRequest moves leadership away.
    KAFKA_CONTROLLED_SHUTDOWN = "kafka.controlled_shutdown" ["broker"],
    /// `TopicChangeListener` / `onNewTopicCreation`: the controller sees a new topic.
    KAFKA_NEW_TOPIC = "kafka.new_topic" ["partitions", "topic"],
    /// `PartitionModificationsListener` / `onNewPartitionCreation`: partitions were added.
    KAFKA_NEW_PARTITIONS = "kafka.new_partitions" ["partitions", "topic"],
    /// `kafka-topics.sh --create` (`AdminUtils.createTopic`): the assignment is written.
    KAFKA_TOPIC_CREATED = "kafka.topic_created" ["assignment", "topic"],
    /// `AdminUtils.createTopic` on demand: `auto.create.topics.enable`, `__consumer_offsets`.
    KAFKA_TOPIC_AUTO_CREATED = "kafka.topic_auto_created"
        ["partitions", "replication_factor", "topic"],
    /// `TopicConfigManager`: a topic's config overrides are applied to its logs.
    KAFKA_TOPIC_CONFIG_APPLIED = "kafka.topic_config_applied" ["broker", "overrides", "topic"],
    /// `becomeLeaderOrFollower`: a LeaderAndIsr with a stale leader epoch is ignored.
    KAFKA_LEADER_AND_ISR_STALE = "kafka.leader_and_isr_stale"
        ["current", "leader_epoch", "partition", "topic"],
    /// `Partition.makeLeader`: this broker leads the partition from its log end offset.
    KAFKA_BECOME_LEADER = "kafka.become_leader"
        ["hw", "isr", "leader_epoch", "leo", "partition", "topic"],
    /// `Partition.makeFollower`: this broker follows the partition's new leader.
    KAFKA_BECOME_FOLLOWER = "kafka.become_follower"
        ["leader", "leader_epoch", "partition", "topic"],
    /// `Log.truncateTo`: a follower cuts its log (to the HW, by leader epoch, out of range).
    KAFKA_TRUNCATE = "kafka.truncate"
        ["by", "epoch", "fully", "leader_end", "partition", "to", "topic"],
    /// `Partition.appendMessagesToLeader`: the leader appends a produced batch to its log.
    KAFKA_APPEND = "kafka.append"
        ["acks", "crcs", "first", "last", "leader_epoch", "partition", "topic"],
    /// `ReplicaFetcherThread.processPartitionData`: a follower appends what it fetched.
    KAFKA_REPLICATE = "kafka.replicate" ["crcs", "first", "last", "leader", "partition", "topic"],
    /// `Partition.maybeIncrementLeaderHW`: the leader's high watermark moves.
    KAFKA_HW = "kafka.hw" ["from", "partition", "to", "topic"],
    /// `Partition.maybeShrinkIsr`: lagging replicas leave the ISR (`replica.lag.time.max.ms`).
    KAFKA_ISR_SHRINK = "kafka.isr_shrink" ["isr", "partition", "removed", "topic"],
    /// `Partition.maybeExpandIsr`: a follower caught up to the HW rejoins the ISR.
    KAFKA_ISR_EXPAND = "kafka.isr_expand" ["isr", "partition", "topic"],
    /// `LogManager.cleanupLogs` / `Log.deleteOldSegments`: retention deleted segments.
    KAFKA_RETENTION = "kafka.retention" ["deleted_segments", "log_start", "partition", "topic"],
    /// A storage error or a forbidden truncation: the broker halts (`Runtime.halt`).
    KAFKA_FATAL = "kafka.fatal" ["error", "file", "partition", "topic"],

    // ---- Kafka: the group coordinator on the broker (GroupCoordinator, GroupMetadataManager).

    /// `GroupCoordinator.addMemberAndRebalance`: a new member joins a group.
    KAFKA_GROUP_MEMBER_ADDED = "kafka.group.member_added"
        ["client_host", "client_id", "group", "member", "session_timeout_ms"],
    /// `GroupMetadata.transitionTo`: a group moves between Stable, PreparingRebalance, ….
    KAFKA_GROUP_STATE = "kafka.group.state" ["from", "generation", "group", "to"],
    /// `removeMemberAndUpdateGroup`: a member leaves (session timeout, rebalance timeout, leave).
    KAFKA_GROUP_MEMBER_REMOVED = "kafka.group.member_removed" ["group", "member", "reason"],
    /// `GroupCoordinator.onCompleteJoin`: a new generation with its leader and members.
    KAFKA_GROUP_GENERATION = "kafka.group.generation"
        ["generation", "group", "leader", "members", "protocol"],
    /// `GroupMetadataManager.prepareStoreGroup`: the assignment is written to the offsets topic.
    KAFKA_GROUP_STORED = "kafka.group.stored" ["error", "generation", "group", "partition"],
    /// `GroupCoordinator.handleCommitOffsets`: offsets are appended to `__consumer_offsets`.
    KAFKA_GROUP_OFFSET_COMMIT = "kafka.group.offset_commit"
        ["error", "generation", "group", "member", "offsets", "partition"],
    /// `GroupMetadataManager.loadGroupsForPartition`: a new coordinator reads its partition.
    KAFKA_GROUP_LOADED = "kafka.group.loaded" ["groups", "log_end", "ms", "offsets", "partition"],
    /// `GroupMetadataManager.removeGroupsForPartition`: the broker no longer coordinates them.
    KAFKA_GROUP_UNLOADED = "kafka.group.unloaded" ["groups", "offsets", "partition"],

    // ---- Kafka: the new consumer's side of the group (ConsumerCoordinator, Fetcher).

    /// `AbstractCoordinator`: a GroupCoordinatorResponse names the group's coordinator.
    KAFKA_GROUP_COORDINATOR_FOUND = "kafka.group.coordinator_found"
        ["coordinator", "generation", "group", "host", "member"],
    /// A GroupCoordinatorRequest failed (no coordinator yet, no broker answered).
    KAFKA_GROUP_COORDINATOR_LOOKUP_FAILED = "kafka.group.coordinator_lookup_failed"
        ["error", "generation", "group", "member"],
    /// `AbstractCoordinator.coordinatorDead`: the member forgets its coordinator.
    KAFKA_GROUP_COORDINATOR_DEAD = "kafka.group.coordinator_dead"
        ["coordinator", "generation", "group", "member", "reason"],
    /// `needRejoin`: the member must join again (metadata changed, a rebalance, an error).
    KAFKA_GROUP_REJOIN = "kafka.group.rejoin" ["generation", "group", "member", "reason"],
    /// `ConsumerCoordinator.onJoinPrepare`: `onPartitionsRevoked` before rejoining.
    KAFKA_GROUP_REVOKED = "kafka.group.revoked" ["generation", "group", "member", "partitions"],
    /// A JoinGroupResponse: the member's generation, and whether it leads the group.
    KAFKA_GROUP_JOIN = "kafka.group.join"
        ["generation", "group", "is_leader", "leader", "member", "protocol"],
    /// `ConsumerCoordinator.performAssignment`: the leader runs the assignor for everyone.
    KAFKA_GROUP_ASSIGNMENT_COMPUTED = "kafka.group.assignment_computed"
        ["assignment", "assignor", "generation", "group", "member"],
    /// `ConsumerCoordinator.onJoinComplete`: `onPartitionsAssigned` with the SyncGroup result.
    KAFKA_GROUP_ASSIGNED = "kafka.group.assigned" ["generation", "group", "member", "partitions"],
    /// An OffsetCommitResponse without error: these offsets are committed.
    KAFKA_GROUP_COMMITTED = "kafka.group.committed" ["generation", "group", "member", "offsets"],
    /// `KafkaConsumer.close`: a LeaveGroupRequest and its answer.
    KAFKA_GROUP_LEAVE = "kafka.group.leave" ["error", "generation", "group", "member"],
    /// `Fetcher.updateFetchPositions` / `resetOffset`: where the consumer starts a partition.
    KAFKA_CONSUMER_POSITION = "kafka.consumer.position"
        ["from", "generation", "group", "member", "offset", "partition", "topic"],

    // ---- Kafka: the old ZooKeeper-based consumer (ZookeeperConsumerConnector).

    /// `registerConsumerInZK`: the consumer's `/consumers/<group>/ids/<id>` is written.
    KAFKA_ZKCONSUMER_REGISTERED = "kafka.zkconsumer.registered"
        ["consumer", "group", "pid", "subscription"],
    /// `syncedRebalance`: one rebalance attempt begins (`rebalance.max.retries`).
    KAFKA_ZKCONSUMER_REBALANCE = "kafka.zkconsumer.rebalance" ["consumer", "group", "pid", "try"],
    /// A rebalance attempt failed with an error (it is retried after `rebalance.backoff.ms`).
    KAFKA_ZKCONSUMER_REBALANCE_ERROR = "kafka.zkconsumer.rebalance_error"
        ["consumer", "error", "group", "pid"],
    /// `ConsumerRebalanceFailedException`: "can't rebalance after N retries".
    KAFKA_ZKCONSUMER_REBALANCE_FAILED = "kafka.zkconsumer.rebalance_failed"
        ["consumer", "group", "pid", "retries"],
    /// A rebalance found no broker registered; it waits for `/brokers/ids` to change.
    KAFKA_ZKCONSUMER_NO_BROKERS = "kafka.zkconsumer.no_brokers" ["consumer", "group", "pid"],
    /// `reflectPartitionOwnershipDecision`: the consumer owns these partitions now.
    KAFKA_ZKCONSUMER_OWNED = "kafka.zkconsumer.owned"
        ["consumer", "generation", "group", "partitions", "pid", "rebalance", "strategy",
         "threads"],
    /// An owner node already existed: another consumer still holds the partition.
    KAFKA_ZKCONSUMER_CLAIM_CONFLICT = "kafka.zkconsumer.claim_conflict"
        ["consumer", "error", "group", "partition", "pid", "topic"],
    /// Writing an owner node failed with another ZooKeeper error.
    KAFKA_ZKCONSUMER_CLAIM_ERROR = "kafka.zkconsumer.claim_error"
        ["consumer", "error", "group", "partition", "pid", "topic"],
    /// `releasePartitionOwnership`: the consumer deletes its owner nodes before rebalancing.
    KAFKA_ZKCONSUMER_RELEASED = "kafka.zkconsumer.released"
        ["consumer", "group", "partitions", "pid"],
    /// `commitOffsets`: offsets written to `/consumers/<group>/offsets`.
    KAFKA_ZKCONSUMER_COMMIT = "kafka.zkconsumer.commit" ["consumer", "group", "offsets", "pid"],
    /// `ZKSessionExpireListener.handleNewSession`: the consumer re-registers and rebalances.
    KAFKA_ZKCONSUMER_SESSION_EXPIRED = "kafka.zkconsumer.session_expired"
        ["consumer", "group", "pid"],
    /// A rebalance triggered by a watch failed for good.
    KAFKA_ZKCONSUMER_ERROR = "kafka.zkconsumer.error" ["consumer", "error", "group", "pid"],
    /// `ZookeeperConsumerConnector.shutdown`.
    KAFKA_ZKCONSUMER_SHUTDOWN = "kafka.zkconsumer.shutdown" ["consumer", "group", "pid"],
    /// `LeaderFinderThread`: "Added fetcher for partitions …" (`addFetcherForPartitions`).
    KAFKA_ZKCONSUMER_FETCHER_ADDED = "kafka.zkconsumer.fetcher_added"
        ["broker", "consumer", "group", "partitions"],
    /// `addPartitionsWithError`: a fetcher gives its partitions back to the leader finder.
    KAFKA_ZKCONSUMER_LEADER_LOST = "kafka.zkconsumer.leader_lost"
        ["broker", "consumer", "group", "partitions"],
    /// `ConsumerFetcherThread.handleOffsetOutOfRange`: reset by `auto.offset.reset`.
    KAFKA_ZKCONSUMER_OFFSET_RESET = "kafka.zkconsumer.offset_reset"
        ["consumer", "group", "offset", "partition", "reset", "topic"],

    // ---- Kafka: what clients saw (producers, consumers, scenario group members).

    /// A producer sent a batch with acks=0: nothing will confirm it.
    KAFKA_CLIENT_SENT = "kafka.client.sent" ["acks", "partition", "records", "topic", "values"],
    /// A producer's callback saw its batch acknowledged (a ProduceResponse without error).
    KAFKA_CLIENT_ACKED = "kafka.client.acked"
        ["acks", "first", "partition", "records", "topic", "values"],
    /// A consumer handed a run of records to the application (the console consumer prints).
    KAFKA_CLIENT_CONSUMED = "kafka.client.consumed"
        ["consumer", "first", "group", "partition", "records", "topic", "values"],
    /// A scenario group member finished processing one record.
    KAFKA_CLIENT_PROCESSED = "kafka.client.processed"
        ["generation", "group", "member", "offset", "partition", "topic", "value"],

    // ---- Spark Streaming (StreamingContext, JobGenerator, JobScheduler, receivers).

    /// `StreamingContext.start` (or `getOrCreate` recovering from a checkpoint).
    STREAM_CONTEXT_START = "stream.context.start"
        ["batch_interval_ms", "checkpoint", "commit", "group", "max_rate_per_partition",
         "recovered", "sink", "style", "topic", "wal", "window"],
    /// `DirectKafkaInputDStream`: the offsets the direct stream starts from.
    STREAM_DIRECT_FROM_OFFSETS = "stream.direct.from_offsets" ["offsets"],
    /// `JobGenerator.restart`: the batches pending at the checkpoint and missed while down.
    STREAM_BATCH_RESCHEDULED = "stream.batch.rescheduled" ["batches"],
    /// `JobGenerator.generateJobs`: a batch's input is cut (offset ranges or blocks).
    STREAM_BATCH_SCHEDULED = "stream.batch.scheduled"
        ["batch", "batch_wall_ms", "down_time", "lag", "ranges", "records"],
    /// `JobScheduler`: a batch's job starts; its scheduling delay.
    STREAM_BATCH_STARTED = "stream.batch.started" ["batch", "scheduling_delay_ms"],
    /// `JobScheduler`: a batch completed (`BatchInfo`: processing and total delay, counts).
    STREAM_BATCH_COMPLETED = "stream.batch.completed"
        ["batch", "batch_wall_ms", "counts", "input_records", "lag", "output", "processing_ms",
         "ranges", "records", "scheduling_delay_ms", "total_delay_ms", "window", "words"],
    /// A job failed after `spark.task.maxFailures`: the driver aborts.
    STREAM_JOB_FAILED = "stream.job.failed" ["batch", "error"],
    /// `StreamingContext.stop(stopGracefully = true)`.
    STREAM_CONTEXT_STOP = "stream.context.stop" ["batches", "graceful", "offsets"],
    /// `CheckpointWriter`: `checkpoint-<time>` is written.
    STREAM_CHECKPOINT_WRITE = "stream.checkpoint.write" ["batch", "file", "offsets", "pending"],
    /// Writing a checkpoint failed.
    STREAM_CHECKPOINT_ERROR = "stream.checkpoint.error" ["batch", "error"],
    /// The output operation committed a batch's results (to the table or a topic).
    STREAM_OUTPUT_COMMIT = "stream.output.commit"
        ["batch", "mode", "path", "ranges", "records", "rows", "sink", "topic"],
    /// A re-run batch starts its ranges after what the table already committed.
    STREAM_OUTPUT_RESUME = "stream.output.resume" ["batch", "ranges", "reason", "resumed"],
    /// A re-run batch's results were already committed: the output skips it.
    STREAM_OUTPUT_SKIPPED = "stream.output.skipped" ["batch", "ranges", "reason", "sink"],
    /// `KafkaRDD.compute`: a task's fetch failed; retried after `refresh.leader.backoff.ms`.
    STREAM_TASK_FETCH_FAILED = "stream.task.fetch_failed"
        ["attempt", "batch", "error", "from", "leader", "partition", "topic", "until"],
    /// `ReceiverSupervisor.startReceiver`: `KafkaReceiver` or `ReliableKafkaReceiver` starts.
    STREAM_RECEIVER_START = "stream.receiver.start" ["consumer", "group", "receiver"],
    /// The receiver could not create its consumer or its message streams.
    STREAM_RECEIVER_ERROR = "stream.receiver.error" ["error"],
    /// `BlockGenerator`: a block of received records is stored.
    STREAM_RECEIVER_BLOCK = "stream.receiver.block" ["block", "ranges", "records", "wal"],
    /// `ReliableKafkaReceiver`: offsets committed to ZooKeeper after the block was stored.
    STREAM_RECEIVER_COMMIT = "stream.receiver.commit" ["block", "offsets"],
    /// The receiver stopped.
    STREAM_RECEIVER_STOP = "stream.receiver.stop" ["receiver"],
    /// `WriteAheadLogBasedBlockHandler`: a block is written (and fsynced) to the WAL.
    STREAM_WAL_WRITE = "stream.wal.write" ["block", "records"],
    /// Writing a block to the write-ahead log failed (the block is dropped).
    STREAM_WAL_ERROR = "stream.wal.error" ["block"],
    /// `ReceivedBlockTracker` recovered blocks and allocations from the write-ahead log.
    STREAM_WAL_RECOVERED = "stream.wal.recovered" ["batches", "blocks", "unallocated"],
    /// `ReceivedBlockTracker.allocateBlocksToBatch`: the batch takes the blocks received.
    STREAM_BLOCKS_ALLOCATED = "stream.blocks.allocated" ["batch", "blocks", "records"],
    /// A batch's blocks were in the crashed driver's memory (no write-ahead log): lost.
    STREAM_BLOCKS_LOST = "stream.blocks.lost" ["batch", "blocks", "ranges", "records"],
    /// The driver's main returned with an error (its exit code).
    STREAM_DRIVER_EXIT = "stream.driver.exit" ["code", "error"],
    /// `spark-submit --supervise` starts the driver again.
    STREAM_DRIVER_RESTART = "stream.driver.restart" ["host", "incarnation"],
    /// The supervisor stops restarting the driver (the run is over).
    STREAM_DRIVER_GAVE_UP = "stream.driver.gave_up" ["incarnations"],
    /// The scenario kills the driver (`kill -9` of `SparkSubmit`).
    STREAM_DRIVER_CRASH = "stream.driver.crash" ["host", "pid"],
    /// The scenario's driver crash found no driver running.
    STREAM_DRIVER_CRASH_SKIPPED = "stream.driver.crash_skipped" ["host"],

    // ---- Exercise graders.

    /// zk-lock-recipe grader: the clients start contending for the lock.
    LOCK_START = "lock.start" [],
    /// zk-lock-recipe grader: a client's recipe returned the lock node it holds.
    LOCK_ACQUIRED = "lock.acquired" ["node"],
    /// zk-lock-recipe grader: a client saw that it no longer holds the lock.
    LOCK_LOST = "lock.lost" ["node", "why"],
    /// zk-lock-recipe grader: a client released the lock.
    LOCK_RELEASED = "lock.released" ["node"],
    /// zk-lock-recipe grader: a recipe call failed.
    LOCK_ERROR = "lock.error" ["error", "op"],
    /// zk-lock-recipe grader: one client is killed with `kill -9`.
    LOCK_CRASH = "lock.crash" ["client"],
}
