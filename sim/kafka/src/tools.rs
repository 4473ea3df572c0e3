//! The Kafka command-line tools of 0.9, as the lab's shell runs them: `kafka-server-start.sh`,
//! `kafka-server-stop.sh`, `kafka-topics.sh` (`TopicCommand`), `kafka-console-producer.sh`,
//! `kafka-console-consumer.sh` and `kafka-run-class.sh kafka.tools.DumpLogSegments`.
//!
//! Each tool is a JVM process on its host talking to ZooKeeper or the brokers through the same
//! clients a program would use; output and error wording follow 0.9.

use super::admin::{
    self, ConsoleConsumerOptions, ConsoleProducerOptions, TopicAction, TopicCommandOptions,
};
use super::clients::{KafkaProducer, ProducerConfig};
use super::config::seed_server_properties;
use super::hooks::{BrokerHooks, KafkaHooks, KeyPartitioner};
use super::server::KAFKA_HOME;
use super::zk_utils as zku;
use futures::channel::mpsc;
use futures::StreamExt;
use sim_core::term::Term;
use sim_core::trace::kind;
use sim_core::world::{ProcCtx, World, WorldError};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use zookeeper::client::ZooKeeper;
use zookeeper::txn::{CreateMode, ZkError};

mod old_console_consumer;

/// The seed's `config/server.properties` on each host: broker.id = 0, 1, 2 in host order, and
/// the distribution's `config/consumer.properties`.
pub fn install_seed_brokers(world: &World) -> Result<(), WorldError> {
    for (i, host) in world.host_names().iter().enumerate().take(3) {
        world.disk(host)?.install(
            &format!("{KAFKA_HOME}/config/server.properties"),
            seed_server_properties(i as u32).as_bytes(),
        );
        world.disk(host)?.install(
            &format!("{KAFKA_HOME}/config/consumer.properties"),
            old_console_consumer::CONSUMER_PROPERTIES.as_bytes(),
        );
    }
    Ok(())
}

pub use sim_core::program::Invocation;

/// Foreground tools the shell runs as processes.
#[derive(Debug, Clone, Copy)]
pub enum Program {
    /// `kafka-topics.sh`
    Topics,
    /// `kafka-console-consumer.sh`
    ConsoleConsumer,
    /// `kafka-run-class.sh CLASS …`
    RunClass,
    /// `kafka-preferred-replica-election.sh`
    PreferredElection,
    /// `kafka-consumer-groups.sh`
    ConsumerGroups,
}

/// Runs a tool as the shell started it; returns its exit code.
pub async fn run_program_in(
    program: Program,
    ctx: ProcCtx,
    args: Vec<String>,
    term: Term,
    inv: Invocation,
    hooks: &KafkaHooks,
) -> i32 {
    match program {
        Program::Topics => topics(ctx, args, term).await,
        Program::ConsoleConsumer => console_consumer(ctx, args, term, inv, hooks).await,
        Program::RunClass => run_class(ctx, args, term).await,
        Program::PreferredElection => preferred_election(ctx, args, term).await,
        Program::ConsumerGroups => super::consumer_groups::run(ctx, args, term).await,
    }
}

/// `kafka-server-start.sh [-daemon] CONFIG`: starts a broker; returns its pid.
pub async fn kafka_server_start(
    world: &World,
    host: &str,
    inv: &Invocation,
    term: &Term,
    hooks: &BrokerHooks,
) -> Result<u32, i32> {
    let daemon = inv.args.iter().any(|a| a == "-daemon");
    let Some(config) = inv.args.iter().find(|a| !a.starts_with('-')) else {
        term.err(
            "USAGE: kafka-server-start.sh [-daemon] server.properties [--override property=value]*",
        );
        return Err(1);
    };
    let path = inv.resolve(config);
    let console = if daemon {
        Some((format!("{KAFKA_HOME}/logs/kafkaServer.out"), term.clone()))
    } else if inv.nohup {
        Some((format!("{}/nohup.out", inv.cwd), term.clone()))
    } else {
        None
    };
    let hooks = hooks.clone();
    world.spawn(host, "Kafka", move |ctx| super::server::run(ctx, path, console, hooks)).map_err(
        |e| {
            term.err(&e.to_string());
            1
        },
    )
}

/// `kafka-server-stop.sh`: SIGTERM to every broker on the host.
pub fn kafka_server_stop(world: &World, host: &str, term: &Term) -> i32 {
    let pids: Vec<u32> =
        world.processes(host).into_iter().filter(|p| p.name == "Kafka").map(|p| p.pid).collect();
    if pids.is_empty() {
        // `xargs kill -SIGTERM` with no pid prints kill's usage.
        term.err("kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]");
        return 123;
    }
    for pid in pids {
        world.signal(host, pid, sim_core::world::Signal::Term);
    }
    0
}

/// Prints a tool's option error as the JVM would: the exception, then its first stack frames.
fn option_error(term: &Term, e: &admin::ToolError, main_class: &str) -> i32 {
    term.err(&e.to_string());
    for line in e.stack_trace(main_class) {
        term.err(&line);
    }
    1
}

fn zk_servers(connect: &str) -> Vec<(String, u16)> {
    zookeeper::connect_string::parse_connect_string(connect, 2181)
        .map(|(s, _)| s)
        .unwrap_or_default()
}

async fn connect_zk(ctx: &ProcCtx, connect: &str) -> ZooKeeper {
    ZooKeeper::new(ctx, zk_servers(connect), Duration::from_millis(30_000))
}

fn topic_error(term: &Term, msg: &str) -> i32 {
    term.out(&format!("Error while executing topic command : {msg}"));
    1
}

/// `kafka-topics.sh` (`TopicCommand`).
async fn topics(ctx: ProcCtx, args: Vec<String>, term: Term) -> i32 {
    let opts = match TopicCommandOptions::parse(&args) {
        Ok(o) => o,
        Err(e) => return option_error(&term, &e, "kafka.admin.TopicCommand"),
    };
    let zk = connect_zk(&ctx, &opts.zookeeper).await;
    let code = if opts.action == TopicAction::Create {
        create_topic(&ctx, &zk, &opts, &term).await
    } else if opts.action == TopicAction::List {
        match zk.get_children(zku::BROKER_TOPICS, false).await {
            Ok(mut ts) => {
                ts.sort();
                let marked = zk.get_children(zku::DELETE_TOPICS, false).await.unwrap_or_default();
                for t in ts {
                    if marked.contains(&t) {
                        term.out(&format!("{t} - marked for deletion"));
                    } else {
                        term.out(&t);
                    }
                }
                0
            }
            Err(ZkError::NoNode) => 0,
            Err(e) => topic_error(&term, &e.to_string()),
        }
    } else if opts.action == TopicAction::Describe {
        describe(&zk, &opts, &term).await
    } else if opts.action == TopicAction::Delete {
        let Some(t) = opts.topic.clone() else {
            return topic_error(&term, "--topic is required");
        };
        match zk.exists(&format!("{}/{t}", zku::BROKER_TOPICS), false).await {
            Ok(Some(_)) => {
                let _ = zku::create_with_parents(
                    &zk,
                    &format!("{}/{t}", zku::DELETE_TOPICS),
                    b"",
                    CreateMode::Persistent,
                )
                .await;
                term.out(&format!("Topic {t} is marked for deletion."));
                term.out(
                    "Note: This will have no impact if delete.topic.enable is not set to true.",
                );
                0
            }
            _ => topic_error(
                &term,
                &format!("Topic {t} does not exist on ZK path {}", opts.zookeeper),
            ),
        }
    } else {
        alter_topic(&zk, &opts, &term).await
    };
    zk.close().await;
    code
}

async fn create_topic(
    ctx: &ProcCtx,
    zk: &ZooKeeper,
    opts: &TopicCommandOptions,
    term: &Term,
) -> i32 {
    let Some(topic) = opts.topic.clone() else {
        return topic_error(term, "--topic is required");
    };
    if let Err(e) = admin::validate_topic(&topic) {
        return topic_error(term, &e.to_string());
    }
    let assignment = if let Some(a) = &opts.replica_assignment {
        a.clone()
    } else {
        // AdminUtils sorts the live brokers first.
        let brokers: Vec<i32> = match zku::read_brokers(zk).await {
            Ok(b) => b.keys().copied().collect(),
            Err(e) => return topic_error(term, &e.to_string()),
        };
        match admin::assign_replicas_randomly(
            &brokers,
            opts.partitions.unwrap_or(1),
            opts.replication_factor.unwrap_or(1),
        ) {
            Ok(a) => a,
            Err(e) => return topic_error(term, &e.to_string()),
        }
    };
    let path = format!("{}/{topic}", zku::BROKER_TOPICS);
    if let Ok(Some(_)) = zk.exists(&path, false).await {
        if opts.if_not_exists {
            return 0;
        }
        return topic_error(term, &format!("Topic \"{topic}\" already exists."));
    }
    let configs: BTreeMap<String, String> = opts.configs.iter().cloned().collect();
    let _ = zku::create_with_parents(
        zk,
        &format!("{}/{topic}", zku::CONFIG_TOPICS),
        zku::topic_config_json(&configs).as_bytes(),
        CreateMode::Persistent,
    )
    .await;
    match zku::create_with_parents(
        zk,
        &path,
        zku::topic_assignment_json(&assignment).as_bytes(),
        CreateMode::Persistent,
    )
    .await
    {
        Ok(_) => {
            ctx.trace(kind::KAFKA_TOPIC_CREATED, None, sim_core::trace::fields! { "topic" => topic.as_str(), "assignment" => format!("{assignment:?}") });
            term.out(&format!("Created topic \"{topic}\"."));
            0
        }
        Err(ZkError::NodeExists) => {
            topic_error(term, &format!("Topic \"{topic}\" already exists."))
        }
        Err(e) => topic_error(term, &format!("{e}")),
    }
}

/// `TopicCommand.alterTopic` (0.9): config overrides first (`AdminUtils.changeTopicConfig`:
/// `/config/topics/<t>` plus a `/config/changes/config_change_` notification for the brokers'
/// `TopicConfigManager`), then `--partitions` (`AdminUtils.addPartitions`: the added partitions'
/// assignment appended to `/brokers/topics/<t>`, where the controller's
/// `PartitionModificationsListener` picks it up).
async fn alter_topic(zk: &ZooKeeper, opts: &TopicCommandOptions, term: &Term) -> i32 {
    let Some(topic) = opts.topic.clone() else {
        return topic_error(term, "--topic is required");
    };
    let path = format!("{}/{topic}", zku::BROKER_TOPICS);
    let existing = match zk.get_data(&path, false).await {
        Ok((d, _)) => zku::parse_topic_assignment(&d).unwrap_or_default(),
        Err(_) if opts.if_exists => return 0,
        Err(_) => {
            return topic_error(
                term,
                &format!("Topic {topic} does not exist on ZK path {}", opts.zookeeper),
            )
        }
    };
    if !opts.configs.is_empty() || !opts.delete_configs.is_empty() {
        term.out("WARNING: Altering topic configuration from this script has been deprecated and may be removed in future releases.");
        term.out("         Going forward, please use kafka-configs.sh for this functionality");
        let config_path = format!("{}/{topic}", zku::CONFIG_TOPICS);
        let mut configs: BTreeMap<String, String> = match zk.get_data(&config_path, false).await {
            Ok((d, _)) => zku::topic_configs_in_describe_order(&d).into_iter().collect(),
            Err(_) => BTreeMap::new(),
        };
        configs.extend(opts.configs.iter().cloned());
        for k in &opts.delete_configs {
            configs.remove(k.trim());
        }
        let json = zku::topic_config_json(&configs);
        let written = match zk.set_data(&config_path, json.as_bytes(), -1).await {
            Err(ZkError::NoNode) => {
                zku::create_with_parents(zk, &config_path, json.as_bytes(), CreateMode::Persistent)
                    .await
                    .map(|_| ())
            }
            other => other.map(|_| ()),
        };
        if let Err(e) = written {
            return topic_error(term, &e.to_string());
        }
        let note = zku::config_change_json(&topic);
        if let Err(e) = zku::create_with_parents(
            zk,
            &format!("{}/config_change_", zku::CONFIG_CHANGES),
            note.as_bytes(),
            CreateMode::PersistentSequential,
        )
        .await
        {
            return topic_error(term, &e.to_string());
        }
        term.out(&format!("Updated config for topic \"{topic}\"."));
    }
    if let Some(n) = opts.partitions {
        if topic == super::coordinator::offsets::GROUP_METADATA_TOPIC_NAME {
            return topic_error(
                term,
                "The number of partitions for the offsets topic cannot be changed.",
            );
        }
        term.out("WARNING: If partitions are increased for a topic that has a key, the partition logic or ordering of the messages will be affected");
        // AdminUtils.addPartitions
        let Some(first) = existing.values().next().cloned() else {
            return topic_error(term, &format!("The topic {topic} does not exist"));
        };
        let have = existing.len() as i32;
        let to_add = n - have;
        if to_add <= 0 {
            return topic_error(term, "The number of partitions for a topic can only be increased");
        }
        let brokers: Vec<i32> = match zku::read_brokers(zk).await {
            Ok(b) => b.keys().copied().collect(),
            Err(e) => return topic_error(term, &e.to_string()),
        };
        let added = match &opts.replica_assignment {
            // getManualReplicaAssignment: the list covers every partition; entries past the
            // existing ones are the new partitions.
            Some(a) => {
                let mut m = BTreeMap::new();
                for (p, r) in a.range(have..) {
                    if r.iter().any(|b| !brokers.contains(b)) {
                        let set: Vec<String> = brokers.iter().map(|b| b.to_string()).collect();
                        return topic_error(
                            term,
                            &format!("some specified brokers not available. specified brokers: {}available broker:Set({})", admin::java_array_to_string(r), set.join(", ")),
                        );
                    }
                    m.insert(*p, r.clone());
                }
                m
            }
            // The existing list's first broker id serves as the fixed start index (0.9).
            None => match admin::assign_replicas_to_brokers(
                &brokers,
                to_add,
                first.len() as i32,
                first[0],
                have,
                0,
                0,
            ) {
                Ok(a) => a,
                Err(e) => return topic_error(term, &e.to_string()),
            },
        };
        if added.values().any(|r| r.len() != first.len()) {
            return topic_error(
                term,
                &format!("The replication factor in manual replication assignment  is not equal to the existing replication factor for the topic {}", first.len()),
            );
        }
        let mut all = existing.clone();
        all.extend(added);
        if let Err(e) = zk.set_data(&path, zku::topic_assignment_json(&all).as_bytes(), -1).await {
            return topic_error(term, &e.to_string());
        }
        term.out("Adding partitions succeeded!");
    }
    0
}

async fn describe(zk: &ZooKeeper, opts: &TopicCommandOptions, term: &Term) -> i32 {
    let all = match zku::read_all_topics(zk).await {
        Ok(a) => a,
        Err(e) => return topic_error(term, &e.to_string()),
    };
    let live: Vec<i32> =
        zku::read_brokers(zk).await.map(|b| b.keys().copied().collect()).unwrap_or_default();
    for (t, assignment) in &all {
        if opts.topic.as_ref().is_some_and(|w| w != t) {
            continue;
        }
        let configs: Vec<(String, String)> =
            match zk.get_data(&format!("{}/{t}", zku::CONFIG_TOPICS), false).await {
                Ok((d, _)) => zku::topic_configs_in_describe_order(&d),
                Err(_) => Vec::new(),
            };
        let rf = assignment.values().next().map_or(0, Vec::len) as i32;
        let mut lines = Vec::new();
        for (p, replicas) in assignment {
            let (leader, isr) = match zk.get_data(&zku::partition_state_path(t, *p), false).await {
                Ok((d, _)) => {
                    zku::parse_partition_state(&d).map(|s| (s.1, s.3)).unwrap_or((-1, Vec::new()))
                }
                Err(_) => (-1, Vec::new()),
            };
            let leader = (leader >= 0 && live.contains(&leader)).then_some(leader);
            if opts.under_replicated_partitions && isr.len() >= replicas.len() {
                continue;
            }
            if opts.unavailable_partitions && leader.is_some() {
                continue;
            }
            lines.push(admin::describe_partition_line(t, *p, leader, replicas, &isr));
        }
        if !opts.under_replicated_partitions && !opts.unavailable_partitions {
            term.out(&admin::describe_topic_header(t, assignment.len(), rf as usize, &configs));
        }
        for l in lines {
            term.out(&l);
        }
    }
    0
}

/// `kafka-console-producer.sh`: one record per line read until `^D`; prints nothing on success.
pub async fn console_producer(
    ctx: ProcCtx,
    args: Vec<String>,
    mut stdin: mpsc::UnboundedReceiver<String>,
    term: Term,
    partitioner: Arc<dyn KeyPartitioner>,
) -> i32 {
    let opts = match ConsoleProducerOptions::parse(&args) {
        Ok(o) => o,
        // Lines typed after a failed start would go to bash; here they are read and dropped.
        Err(e) => return option_error(&term, &e, "kafka.tools.ConsoleProducer"),
    };
    for note in &opts.notes {
        term.err(note);
    }
    // The 0.9 console producer builds a new KafkaProducer from its flags (ConsoleProducer.getNewProducerProps).
    let cfg = ProducerConfig {
        bootstrap: opts.broker_list.clone(),
        acks: match opts.effective_acks() {
            "all" | "-1" => -1,
            a => a.parse().unwrap_or(1),
        },
        linger_ms: opts.timeout_ms.max(0) as u64,
        batch_size: 16384,
        retries: opts.message_send_max_retries.max(0) as u32,
        retry_backoff_ms: opts.retry_backoff_ms.max(0) as u64,
        request_timeout_ms: opts.request_timeout_ms.max(0) as u64,
        client_id: "console-producer".into(),
    };
    let (parse_key, separator) = (opts.parse_key(), opts.key_separator());
    let mut producer = KafkaProducer::new(&ctx, cfg).with_partitioner(partitioner);
    let mut reported = 0;
    loop {
        let line = madsim::time::timeout(Duration::from_millis(100), stdin.next()).await;
        match line {
            Ok(Some(l)) => {
                let (key, value) = match (parse_key, l.split_once(separator.as_str())) {
                    (true, Some((k, v))) => (Some(k.as_bytes().to_vec()), v.as_bytes().to_vec()),
                    _ => (None, l.into_bytes()),
                };
                producer.send(&opts.topic, key, value).await;
            }
            Ok(None) => break,
            Err(_) => producer.drain(false).await,
        }
        reported = report_errors(&ctx, &term, &producer.errors, reported);
        for w in producer.warnings.drain(..) {
            term.err(&format!(
                "[{}] WARN {w} (org.apache.kafka.clients.NetworkClient)",
                sim_core::jvm::log_time(ctx.wall_ms())
            ));
        }
    }
    let (_, errors) = producer.close().await;
    report_errors(&ctx, &term, &errors, reported);
    0
}

fn report_errors(
    ctx: &ProcCtx,
    term: &Term,
    errors: &[super::clients::SendError],
    from: usize,
) -> usize {
    for e in errors.iter().skip(from) {
        term.err(&format!(
            "[{}] ERROR Error when sending message to topic {} with key: {}, value: {} bytes with error: {} (org.apache.kafka.clients.producer.internals.ErrorLoggingCallback)",
            sim_core::jvm::log_time(ctx.wall_ms()),
            e.topic,
            e.key_len.map_or("null".to_string(), |n| format!("{n} bytes")),
            e.value_len,
            e.message
        ));
    }
    errors.len()
}

/// `kafka-console-consumer.sh`: prints values until `--max-messages` or `--timeout-ms` (1 s of
/// virtual time when neither is given and it runs in the foreground, standing in for the learner's
/// Ctrl-C). `--zookeeper` runs the old consumer ([`old_console_consumer`]).
async fn console_consumer(
    ctx: ProcCtx,
    args: Vec<String>,
    term: Term,
    inv: Invocation,
    hooks: &KafkaHooks,
) -> i32 {
    let opts = match ConsoleConsumerOptions::parse(&args) {
        Ok(o) => o,
        Err(e) => return option_error(&term, &e, "kafka.tools.ConsoleConsumer"),
    };
    for note in &opts.notes {
        term.err(note);
    }
    let Some(topic) = opts.topic.clone() else {
        term.err("Exactly one of whitelist/blacklist/topic is required.");
        return 1;
    };
    if opts.zookeeper.is_some() {
        return old_console_consumer::run(ctx, opts, topic, term, inv).await;
    }
    // The new consumer joins a group through the GroupCoordinator (consumer.rs).
    super::consumer::console_consumer(
        &ctx,
        &opts,
        &topic,
        &term,
        inv.background,
        &hooks.range_assignor,
    )
    .await
}

/// `kafka-preferred-replica-election.sh --zookeeper ZK [--path-to-json-file F]`
/// (`PreferredReplicaLeaderElectionCommand`): writes `/admin/preferred_replica_election` with the
/// listed partitions (all of them without a file) for the controller to act on.
async fn preferred_election(ctx: ProcCtx, args: Vec<String>, term: Term) -> i32 {
    let value =
        |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    let Some(connect) = value("--zookeeper") else {
        term.err("Missing required argument \"[zookeeper]\"");
        return 1;
    };
    let zk = connect_zk(&ctx, &connect).await;
    let partitions: Vec<(String, i32)> = match value("--path-to-json-file") {
        Some(file) => {
            let Some(bytes) = ctx.disk().peek(&file) else {
                term.err(&format!("Exception in thread \"main\" java.io.FileNotFoundException: {file} (No such file or directory)"));
                return 1;
            };
            zku::parse_partition_list(&bytes)
        }
        None => zku::read_all_topics(&zk)
            .await
            .unwrap_or_default()
            .into_iter()
            .flat_map(|(t, a)| a.into_keys().map(move |p| (t.clone(), p)))
            .collect(),
    };
    let json = zku::partition_list_json(&partitions);
    let set = format!(
        "Set({})",
        partitions.iter().map(|(t, p)| format!("[{t},{p}]")).collect::<Vec<_>>().join(", ")
    );
    let code = match zku::create_with_parents(
        &zk,
        zku::PREFERRED_ELECTION,
        json.as_bytes(),
        CreateMode::Persistent,
    )
    .await
    {
        Ok(_) => {
            term.out(&format!("Created preferred replica election path with {json}"));
            term.out(&format!(
                "Successfully started preferred replica election for partitions {set}"
            ));
            0
        }
        Err(ZkError::NodeExists) => {
            term.out(&format!("Preferred replica leader election currently in progress for {set}. Aborting operation"));
            1
        }
        Err(e) => {
            term.out(&format!("Failed to start preferred replica election\n{e}"));
            1
        }
    };
    zk.close().await;
    code
}

/// `kafka-run-class.sh kafka.tools.DumpLogSegments --files F [--print-data-log]`.
async fn run_class(ctx: ProcCtx, args: Vec<String>, term: Term) -> i32 {
    let Some(class) = args.first() else {
        term.err(
            "USAGE: kafka-run-class.sh [-daemon] [-name servicename] [-loggc] classname [opts]",
        );
        return 1;
    };
    if class != "kafka.tools.DumpLogSegments" {
        term.err(&format!("Error: Could not find or load main class {class}"));
        return 1;
    }
    let print_data = args.iter().any(|a| a == "--print-data-log");
    let Some(files) = args.iter().position(|a| a == "--files").and_then(|i| args.get(i + 1)) else {
        term.err("Missing required argument \"[files]\"");
        return 1;
    };
    for f in files.split(',') {
        let Some(bytes) = ctx.disk().peek(f) else {
            term.err(&format!("Exception in thread \"main\" java.io.FileNotFoundException: {f} (No such file or directory)"));
            return 1;
        };
        let name = f.rsplit('/').next().unwrap_or(f);
        let text = if f.ends_with(".index") {
            let base = name.trim_end_matches(".index").parse::<i64>().unwrap_or(0);
            super::log::dump_index(f, &bytes, base)
        } else {
            super::log::dump_log_segment(f, &bytes, print_data)
        };
        term.raw(&text);
    }
    0
}
