//! `AdminUtils` (replica assignment, `Topic.validate`), `TopicCommand`'s replica-assignment
//! parsing and output lines, and joptsimple-style option parsing for the 0.9 command-line tools
//! (`kafka-topics.sh`, `kafka-console-producer.sh`, `kafka-console-consumer.sh`).

use std::collections::BTreeMap;
use thiserror::Error;

/// Errors of `AdminUtils` and `TopicCommand`, with Kafka 0.9's messages. `TopicCommand` prints
/// them as `Error while executing topic command : <message>` (see [`topic_command_error`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AdminError {
    /// `AdminOperationException` and friends: the message is 0.9's text.
    #[error("{0}")]
    Operation(String),
    /// `InvalidTopicException` from `Topic.validate`.
    #[error("{0}")]
    InvalidTopic(String),
    /// `NumberFormatException` from `String.toInt`.
    #[error("For input string: \"{0}\"")]
    NumberFormat(String),
    /// The simulator refuses absurd sizes rather than exhaust memory (not a Kafka message).
    #[error("simulator limit: at most {0} partitions per request")]
    TooLarge(i32),
}

/// Largest partition count the simulator assigns in one call.
pub const MAX_PARTITIONS: i32 = 100_000;

/// `AdminUtils.assignReplicasToBrokers(brokers, n, rf)` as the tools and the broker call it:
/// the start index and the replica shift are the seeded RNG's two `rand.nextInt(brokers.size)`.
pub fn assign_replicas_randomly(
    brokers: &[i32],
    n_partitions: i32,
    replication_factor: i32,
) -> Result<BTreeMap<i32, Vec<i32>>, AdminError> {
    let n = brokers.len().max(1) as i32;
    let start = madsim::rand::Rng::gen_range(&mut madsim::rand::thread_rng(), 0..n);
    let shift = madsim::rand::Rng::gen_range(&mut madsim::rand::thread_rng(), 0..n);
    assign_replicas_to_brokers(brokers, n_partitions, replication_factor, -1, -1, start, shift)
}

/// `AdminUtils.assignReplicasToBrokers` (0.9, rack-unaware). `brokers` is used in the given
/// order (real Kafka passes the sorted broker list). `fixed_start_index >= 0` fixes both the
/// start index and the replica shift (as 0.9 does); otherwise `rng_start` and `rng_shift`
/// stand for the two `rand.nextInt(brokers.size)` calls (reduced modulo the broker count).
/// `start_partition_id < 0` means 0.
pub fn assign_replicas_to_brokers(
    brokers: &[i32],
    n_partitions: i32,
    replication_factor: i32,
    fixed_start_index: i32,
    start_partition_id: i32,
    rng_start: i32,
    rng_shift: i32,
) -> Result<BTreeMap<i32, Vec<i32>>, AdminError> {
    if n_partitions <= 0 {
        return Err(AdminError::Operation("number of partitions must be larger than 0".into()));
    }
    if replication_factor <= 0 {
        return Err(AdminError::Operation("replication factor must be larger than 0".into()));
    }
    let n = brokers.len() as i64;
    if replication_factor as i64 > n {
        return Err(AdminError::Operation(format!(
            "replication factor: {replication_factor} larger than available brokers: {n}"
        )));
    }
    if n_partitions > MAX_PARTITIONS {
        return Err(AdminError::TooLarge(MAX_PARTITIONS));
    }
    let (start_index, mut shift) = if fixed_start_index >= 0 {
        (fixed_start_index as i64, fixed_start_index as i64)
    } else {
        ((rng_start as i64).rem_euclid(n), (rng_shift as i64).rem_euclid(n))
    };
    let first_id = if start_partition_id >= 0 { start_partition_id as i64 } else { 0 };
    let mut ret = BTreeMap::new();
    for current in first_id..first_id + n_partitions as i64 {
        if current > 0 && current % n == 0 {
            shift += 1;
        }
        let first = ((current + start_index) % n) as usize;
        let mut replicas = vec![brokers[first]];
        for j in 0..(replication_factor as i64 - 1) {
            let s = 1 + (shift + j) % (n - 1);
            replicas.push(brokers[((first as i64 + s) % n) as usize]);
        }
        let Ok(pid) = i32::try_from(current) else {
            break;
        };
        ret.insert(pid, replicas);
    }
    Ok(ret)
}

/// Java's `String.split(sep)` for a one-character separator: trailing empty strings removed,
/// and an input without the separator gives itself.
fn java_split(s: &str, sep: char) -> Vec<&str> {
    let mut parts: Vec<&str> = s.split(sep).collect();
    if parts.len() == 1 {
        return parts;
    }
    while parts.last() == Some(&"") {
        parts.pop();
    }
    parts
}

/// Java's `String.trim` (strips chars `<= ' '`) then `Integer.parseInt`.
fn java_to_int(s: &str) -> Result<i32, AdminError> {
    let t = s.trim_matches(|c: char| c <= ' ');
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AdminError::NumberFormat(t.to_string()));
    }
    t.parse().map_err(|_| AdminError::NumberFormat(t.to_string()))
}

/// A stand-in for how Java prints an `int[]` (`[I@` + identity hash): deterministic here.
pub(crate) fn java_array_to_string(v: &[i32]) -> String {
    let h = v.iter().fold(0x1b6d_3586u32, |h, &x| h.wrapping_mul(31).wrapping_add(x as u32));
    format!("[I@{:x}", h & 0x7fff_ffff)
}

/// `TopicCommand.parseReplicaAssignment`: `"1:2,2:0"` → `{0: [1,2], 1: [2,0]}`.
pub fn parse_replica_assignment(list: &str) -> Result<BTreeMap<i32, Vec<i32>>, AdminError> {
    let mut ret: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    for (i, part) in java_split(list, ',').into_iter().enumerate() {
        let brokers =
            java_split(part, ':').into_iter().map(java_to_int).collect::<Result<Vec<i32>, _>>()?;
        let mut dups: Vec<i32> = Vec::new();
        for (k, b) in brokers.iter().enumerate() {
            if brokers[..k].contains(b) && !dups.contains(b) {
                dups.push(*b);
            }
        }
        if !dups.is_empty() {
            let d: Vec<String> = dups.iter().map(|x| x.to_string()).collect();
            return Err(AdminError::Operation(format!(
                "Partition replica lists may not contain duplicate entries: {}",
                d.join(",")
            )));
        }
        let i = i32::try_from(i).unwrap_or(i32::MAX);
        let first_len = ret.get(&0).map(|v| v.len()).unwrap_or(brokers.len());
        if brokers.len() != first_len {
            return Err(AdminError::Operation(format!(
                "Partition {i} has different replication factor: {}",
                java_array_to_string(&brokers)
            )));
        }
        ret.insert(i, brokers);
    }
    Ok(ret)
}

/// Longest legal topic name in 0.9 (`Topic.maxNameLength`; 249 from 0.10).
pub const MAX_TOPIC_NAME_LENGTH: usize = 255;

/// `kafka.common.Topic.validate` (0.9).
pub fn validate_topic(topic: &str) -> Result<(), AdminError> {
    let len = topic.encode_utf16().count();
    if len == 0 {
        return Err(AdminError::InvalidTopic("topic name is illegal, can't be empty".into()));
    }
    if topic == "." || topic == ".." {
        return Err(AdminError::InvalidTopic("topic name cannot be \".\" or \"..\"".into()));
    }
    if len > MAX_TOPIC_NAME_LENGTH {
        return Err(AdminError::InvalidTopic(format!(
            "topic name is illegal, can't be longer than {MAX_TOPIC_NAME_LENGTH} characters"
        )));
    }
    if !topic.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-') {
        return Err(AdminError::InvalidTopic(format!(
            "topic name {topic} is illegal, contains a character other than ASCII alphanumerics, '.', '_' and '-'"
        )));
    }
    Ok(())
}

/// `Topic.hasCollisionChars`: the name contains '.' or '_'.
pub fn has_collision_chars(topic: &str) -> bool {
    topic.contains('.') || topic.contains('_')
}

/// The warning `kafka-topics.sh --create` prints (0.9) for names with '.' or '_'.
pub const COLLISION_WARNING: &str = "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.";

/// `Topic.unifyCollisionChars`: '.' → '_'.
pub fn unify_collision_chars(topic: &str) -> String {
    topic.replace('.', "_")
}

/// `kafka-topics.sh --describe` header line (0.9, tabs, no space after colons).
pub fn describe_topic_header(
    topic: &str,
    partition_count: usize,
    rf: usize,
    configs: &[(String, String)],
) -> String {
    let c: Vec<String> = configs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!(
        "Topic:{topic}\tPartitionCount:{partition_count}\tReplicationFactor:{rf}\tConfigs:{}",
        c.join(",")
    )
}

fn join_ids(v: &[i32]) -> String {
    v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(",")
}

/// One partition line of `kafka-topics.sh --describe` (leader `None` prints `none`).
pub fn describe_partition_line(
    topic: &str,
    partition: i32,
    leader: Option<i32>,
    replicas: &[i32],
    isr: &[i32],
) -> String {
    let l = leader.map(|x| x.to_string()).unwrap_or_else(|| "none".into());
    format!(
        "\tTopic: {topic}\tPartition: {partition}\tLeader: {l}\tReplicas: {}\tIsr: {}",
        join_ids(replicas),
        join_ids(isr)
    )
}

/// `Created topic "t".`
pub fn created_topic(topic: &str) -> String {
    format!("Created topic \"{topic}\".")
}

/// `Topic "t" already exists.` (the `TopicExistsException` message).
pub fn topic_exists_message(topic: &str) -> String {
    format!("Topic \"{topic}\" already exists.")
}

/// `Topic t does not exist on ZK path <zk>` (0.9 `--alter`/`--delete` of a missing topic;
/// 0.9 `--describe` of a missing topic prints nothing).
pub fn topic_missing_message(topic: &str, zk: &str) -> String {
    format!("Topic {topic} does not exist on ZK path {zk}")
}

/// The two lines `--delete` prints (0.9).
pub fn marked_for_deletion(topic: &str) -> [String; 2] {
    [
        format!("Topic {topic} is marked for deletion."),
        "Note: This will have no impact if delete.topic.enable is not set to true.".to_string(),
    ]
}

/// `Topic t is already marked for deletion.`
pub fn already_marked_for_deletion(topic: &str) -> String {
    format!("Topic {topic} is already marked for deletion.")
}

/// `Error while executing topic command : <message>` (stdout, exit 1).
pub fn topic_command_error(message: &str) -> String {
    format!("Error while executing topic command : {message}")
}

// ---------------------------------------------------------------------------------------------
// joptsimple-style parsing

/// A command-line error as a 0.9 tool reports it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ToolError {
    /// joptsimple's `UnrecognizedOptionException` (also for ambiguous abbreviations, which
    /// joptsimple does not resolve).
    #[error("Exception in thread \"main\" joptsimple.UnrecognizedOptionException: {0} is not a recognized option")]
    Unrecognized(String),
    /// joptsimple's `OptionMissingRequiredArgumentException`.
    #[error("Exception in thread \"main\" joptsimple.OptionMissingRequiredArgumentException: Option ['{0}'] requires an argument")]
    MissingArgument(String),
    /// joptsimple's `OptionArgumentConversionException` (a number that does not parse).
    #[error("Exception in thread \"main\" joptsimple.OptionArgumentConversionException: Cannot parse argument '{value}' of option ['{option}']")]
    Conversion {
        /// Option name.
        option: String,
        /// The argument given.
        value: String,
    },
    /// `CommandLineUtils.checkRequiredArgs` (followed by the usage text, exit 1).
    #[error("Missing required argument \"[{0}]\"")]
    MissingRequired(String),
    /// `CommandLineUtils.printUsageAndDie(parser, message)` with another message.
    #[error("{0}")]
    Usage(String),
    /// `host:port` in a broker list that does not parse.
    #[error("{0}")]
    BrokerList(String),
}

impl ToolError {
    /// For the joptsimple exceptions: the stack lines the JVM prints after the first line
    /// (`main_class` like `kafka.admin.TopicCommand`). Empty for usage errors.
    pub fn stack_trace(&self, main_class: &str) -> Vec<String> {
        let first = match self {
            ToolError::Unrecognized(_) => {
                "\tat joptsimple.OptionException.unrecognizedOption(OptionException.java:108)"
            }
            ToolError::MissingArgument(_) => {
                "\tat joptsimple.RequiredArgumentOptionSpec.detectOptionArgument(RequiredArgumentOptionSpec.java:48)"
            }
            ToolError::Conversion { .. } => {
                "\tat joptsimple.ArgumentAcceptingOptionSpec.convert(ArgumentAcceptingOptionSpec.java:276)"
            }
            _ => return Vec::new(),
        };
        let simple = main_class.rsplit('.').next().unwrap_or(main_class);
        vec![
            first.to_string(),
            "\tat joptsimple.OptionParser.handleLongOptionToken(OptionParser.java:510)".to_string(),
            "\tat joptsimple.OptionParserState$2.handleArgument(OptionParserState.java:56)"
                .to_string(),
            "\tat joptsimple.OptionParser.parse(OptionParser.java:396)".to_string(),
            format!("\tat {main_class}$.main({simple}.scala)"),
            format!("\tat {main_class}.main({simple}.scala)"),
        ]
    }

    /// Whether the tool also prints its usage table after the message (`printUsageAndDie`).
    pub fn prints_usage(&self) -> bool {
        matches!(self, ToolError::MissingRequired(_) | ToolError::Usage(_))
    }
}

/// One option a tool accepts (name, and whether it takes an argument).
#[derive(Clone, Copy)]
pub(crate) struct Spec {
    name: &'static str,
    arg: bool,
}

/// An option without an argument.
pub(crate) const fn flag(name: &'static str) -> Spec {
    Spec { name, arg: false }
}
/// An option with a required argument.
pub(crate) const fn opt(name: &'static str) -> Spec {
    Spec { name, arg: true }
}

/// The options seen on a command line: name → arguments (empty for flags), in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptionSet {
    /// Option name → each argument given (flags get one empty entry per occurrence).
    pub values: BTreeMap<String, Vec<String>>,
    /// Arguments that are not options.
    pub non_options: Vec<String>,
}

impl OptionSet {
    /// Whether the option was given.
    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }
    /// First argument of the option (joptsimple's `valueOf`).
    pub fn value_of(&self, name: &str) -> Option<String> {
        self.values.get(name).and_then(|v| v.first().cloned())
    }
    /// All arguments of the option (`valuesOf`).
    pub fn values_of(&self, name: &str) -> Vec<String> {
        self.values.get(name).cloned().unwrap_or_default()
    }
    fn int_of(&self, name: &str) -> Result<Option<i32>, ToolError> {
        match self.value_of(name) {
            None => Ok(None),
            Some(v) => java_to_int(&v)
                .map(Some)
                .map_err(|_| ToolError::Conversion { option: name.into(), value: v }),
        }
    }
    fn long_of(&self, name: &str) -> Result<Option<i64>, ToolError> {
        match self.value_of(name) {
            None => Ok(None),
            Some(v) => {
                let t = v.trim();
                let d = t.strip_prefix(['+', '-']).unwrap_or(t);
                if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(ToolError::Conversion { option: name.into(), value: v });
                }
                t.parse()
                    .map(Some)
                    .map_err(|_| ToolError::Conversion { option: name.into(), value: v })
            }
        }
    }
}

fn lookup(specs: &[Spec], name: &str) -> Option<Spec> {
    if let Some(s) = specs.iter().find(|s| s.name == name) {
        return Some(*s);
    }
    let matches: Vec<&Spec> =
        specs.iter().filter(|s| !name.is_empty() && s.name.starts_with(name)).collect();
    if matches.len() == 1 {
        Some(*matches[0])
    } else {
        None
    }
}

/// joptsimple's `OptionParser.parse`: long options (`--name`, `--name=value`, also a single
/// hyphen), unambiguous abbreviations, required arguments taken from the next token whatever
/// it is, `--` ends options. Ambiguous or unknown names give `UnrecognizedOptionException`.
pub(crate) fn jopt_parse(specs: &[Spec], args: &[String]) -> Result<OptionSet, ToolError> {
    let mut set = OptionSet::default();
    let mut i = 0;
    let mut options_done = false;
    while i < args.len() {
        let tok = &args[i];
        i += 1;
        if options_done || tok == "-" || !tok.starts_with('-') {
            set.non_options.push(tok.clone());
            continue;
        }
        if tok == "--" {
            options_done = true;
            continue;
        }
        let long = tok.starts_with("--");
        let body = if long { &tok[2..] } else { &tok[1..] };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let spec = match lookup(specs, name) {
            Some(s) => s,
            None => {
                let shown = if long {
                    name.to_string()
                } else {
                    name.chars().next().map(String::from).unwrap_or_default()
                };
                return Err(ToolError::Unrecognized(shown));
            }
        };
        let value = if spec.arg {
            match inline {
                Some(v) => v,
                None => {
                    if i < args.len() {
                        i += 1;
                        args[i - 1].clone()
                    } else {
                        return Err(ToolError::MissingArgument(spec.name.into()));
                    }
                }
            }
        } else {
            if inline.is_some() {
                // joptsimple: a flag given an argument is an error
                return Err(ToolError::Unrecognized(name.to_string()));
            }
            String::new()
        };
        set.values.entry(spec.name.to_string()).or_default().push(value);
    }
    Ok(set)
}

pub(crate) fn require(set: &OptionSet, names: &[&str]) -> Result<(), ToolError> {
    match names.iter().find(|n| !set.has(n)) {
        Some(n) => Err(ToolError::MissingRequired(n.to_string())),
        None => Ok(()),
    }
}

fn kv_list(values: Vec<String>) -> Vec<(String, String)> {
    values
        .into_iter()
        .map(|s| match s.split_once('=') {
            Some((k, v)) => (k.trim().to_string(), v.trim().to_string()),
            None => (s.trim().to_string(), String::new()),
        })
        .collect()
}

/// The action of a `kafka-topics.sh` call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicAction {
    /// `--create`
    Create,
    /// `--list`
    List,
    /// `--describe`
    Describe,
    /// `--alter`
    Alter,
    /// `--delete`
    Delete,
}

const TOPIC_SPECS: &[Spec] = &[
    opt("zookeeper"),
    flag("list"),
    flag("create"),
    flag("delete"),
    flag("alter"),
    flag("describe"),
    flag("help"),
    opt("topic"),
    opt("config"),
    opt("delete-config"),
    opt("partitions"),
    opt("replication-factor"),
    opt("replica-assignment"),
    flag("under-replicated-partitions"),
    flag("unavailable-partitions"),
    flag("topics-with-overrides"),
    flag("if-exists"),
    flag("if-not-exists"),
    flag("force"),
];

/// `TopicCommand.TopicCommandOptions` (kafka-topics.sh, 0.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicCommandOptions {
    /// The one action given.
    pub action: TopicAction,
    /// `--zookeeper` connect string.
    pub zookeeper: String,
    /// `--topic` (a name or, for list/describe/alter/delete, a regex whitelist).
    pub topic: Option<String>,
    /// `--partitions`.
    pub partitions: Option<i32>,
    /// `--replication-factor`.
    pub replication_factor: Option<i32>,
    /// `--replica-assignment`, parsed.
    pub replica_assignment: Option<BTreeMap<i32, Vec<i32>>>,
    /// `--config k=v` in order.
    pub configs: Vec<(String, String)>,
    /// `--delete-config k`.
    pub delete_configs: Vec<String>,
    /// `--under-replicated-partitions`.
    pub under_replicated_partitions: bool,
    /// `--unavailable-partitions`.
    pub unavailable_partitions: bool,
    /// `--topics-with-overrides`.
    pub topics_with_overrides: bool,
    /// `--if-exists`.
    pub if_exists: bool,
    /// `--if-not-exists`.
    pub if_not_exists: bool,
}

impl TopicCommandOptions {
    /// Parses `kafka-topics.sh` arguments with 0.9's checks, in 0.9's order.
    pub fn parse(args: &[String]) -> Result<Self, ToolError> {
        if args.is_empty() {
            return Err(ToolError::Usage("Create, delete, describe, or change a topic.".into()));
        }
        let o = jopt_parse(TOPIC_SPECS, args)?;
        let actions: Vec<TopicAction> = [
            ("create", TopicAction::Create),
            ("list", TopicAction::List),
            ("alter", TopicAction::Alter),
            ("describe", TopicAction::Describe),
            ("delete", TopicAction::Delete),
        ]
        .iter()
        .filter(|(n, _)| o.has(n))
        .map(|(_, a)| *a)
        .collect();
        if actions.len() != 1 {
            return Err(ToolError::Usage(
                "Command must include exactly one action: --list, --describe, --create, --alter or --delete".into(),
            ));
        }
        let action = actions[0];
        require(&o, &["zookeeper"])?;
        if !matches!(action, TopicAction::List | TopicAction::Describe) {
            require(&o, &["topic"])?;
        }
        // CommandLineUtils.checkInvalidArgs (0.9 prints no space before the second quote).
        let invalid = |used: &str, allowed: &[&str]| -> Result<(), ToolError> {
            if !o.has(used) {
                return Ok(());
            }
            for a in ["alter", "create", "delete", "describe", "list"] {
                if o.has(a) && !allowed.contains(&a) {
                    return Err(ToolError::Usage(format!(
                        "Option \"[{used}]\" can't be used with option\"[{a}]\""
                    )));
                }
            }
            Ok(())
        };
        invalid("config", &["alter", "create"])?;
        invalid("delete-config", &["alter"])?;
        invalid("partitions", &["alter", "create"])?;
        invalid("replication-factor", &["create"])?;
        invalid("replica-assignment", &["create", "alter"])?;
        if action == TopicAction::Create && o.has("replica-assignment") {
            for other in ["partitions", "replication-factor"] {
                if o.has(other) {
                    return Err(ToolError::Usage(format!(
                        "Option \"[replica-assignment]\" can't be used with option\"[{other}]\""
                    )));
                }
            }
        }
        let partitions = o.int_of("partitions")?;
        let replication_factor = o.int_of("replication-factor")?;
        if action == TopicAction::Create && !o.has("replica-assignment") {
            require(&o, &["partitions", "replication-factor"])?;
        }
        let replica_assignment = match o.value_of("replica-assignment") {
            Some(s) => Some(
                parse_replica_assignment(&s)
                    .map_err(|e| ToolError::Usage(topic_command_error(&e.to_string())))?,
            ),
            None => None,
        };
        Ok(TopicCommandOptions {
            action,
            zookeeper: o.value_of("zookeeper").unwrap_or_default(),
            topic: o.value_of("topic"),
            partitions,
            replication_factor,
            replica_assignment,
            configs: kv_list(o.values_of("config")),
            delete_configs: o.values_of("delete-config"),
            under_replicated_partitions: o.has("under-replicated-partitions"),
            unavailable_partitions: o.has("unavailable-partitions"),
            topics_with_overrides: o.has("topics-with-overrides"),
            if_exists: o.has("if-exists"),
            if_not_exists: o.has("if-not-exists"),
        })
    }
}

const PRODUCER_SPECS: &[Spec] = &[
    opt("topic"),
    opt("broker-list"),
    flag("sync"),
    opt("compression-codec"),
    opt("batch-size"),
    opt("message-send-max-retries"),
    opt("retry-backoff-ms"),
    opt("timeout"),
    opt("queue-size"),
    opt("queue-enqueuetimeout-ms"),
    opt("request-required-acks"),
    opt("request-timeout-ms"),
    opt("metadata-expiry-ms"),
    opt("metadata-fetch-timeout-ms"),
    opt("max-memory-bytes"),
    opt("max-partition-memory-bytes"),
    opt("value-serializer"),
    opt("key-serializer"),
    opt("line-reader"),
    opt("property"),
    opt("producer-property"),
    opt("socket-buffer-size"),
    flag("old-producer"),
    opt("producer.config"),
];

/// `ConsoleProducer.ProducerConfig` (kafka-console-producer.sh, 0.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleProducerOptions {
    /// `--topic`.
    pub topic: String,
    /// `--broker-list`, parsed.
    pub broker_list: Vec<(String, u16)>,
    /// `--request-required-acks` as given (default `"0"` in 0.9: fire and forget).
    pub request_required_acks: String,
    /// `--producer-property k=v` in order; in 0.9 `acks` here is overwritten by
    /// `--request-required-acks` (KAFKA-6627): see [`ConsoleProducerOptions::effective_acks`].
    pub producer_properties: Vec<(String, String)>,
    /// `--property k=v` for the line reader (`parse.key`, `key.separator`, `ignore.error`).
    pub reader_properties: Vec<(String, String)>,
    /// `--sync`.
    pub sync: bool,
    /// `--batch-size` (200).
    pub batch_size: i32,
    /// `--timeout` (linger.ms for the new producer, 1000).
    pub timeout_ms: i64,
    /// `--message-send-max-retries` (3).
    pub message_send_max_retries: i32,
    /// `--retry-backoff-ms` (100).
    pub retry_backoff_ms: i32,
    /// `--request-timeout-ms` (1500).
    pub request_timeout_ms: i32,
    /// `--compression-codec` (`none`; given without a value it is `gzip` in 0.9; here a value is required).
    pub compression_codec: String,
    /// `--old-producer`.
    pub old_producer: bool,
    /// Lab notes about version differences.
    pub notes: Vec<String>,
}

impl ConsoleProducerOptions {
    /// Parses `kafka-console-producer.sh` arguments.
    pub fn parse(args: &[String]) -> Result<Self, ToolError> {
        if args.is_empty() {
            return Err(ToolError::Usage(
                "Read data from standard input and publish it to Kafka.".into(),
            ));
        }
        let o = jopt_parse(PRODUCER_SPECS, args)?;
        require(&o, &["topic", "broker-list"])?;
        let broker_list = parse_broker_list(&o.value_of("broker-list").unwrap_or_default())?;
        let mut notes = Vec::new();
        let producer_properties = kv_list(o.values_of("producer-property"));
        if producer_properties.iter().any(|(k, _)| k == "acks") {
            notes.push("0.9 overwrites --producer-property acks=... with --request-required-acks (default 0): KAFKA-6627".into());
        }
        if o.has("producer.config") {
            notes.push("--producer.config is a Kafka 0.10+ option".into());
        }
        Ok(ConsoleProducerOptions {
            topic: o.value_of("topic").unwrap_or_default(),
            broker_list,
            request_required_acks: o
                .value_of("request-required-acks")
                .unwrap_or_else(|| "0".into()),
            producer_properties,
            reader_properties: kv_list(o.values_of("property")),
            sync: o.has("sync"),
            batch_size: o.int_of("batch-size")?.unwrap_or(200),
            timeout_ms: o.long_of("timeout")?.unwrap_or(1000),
            message_send_max_retries: o.int_of("message-send-max-retries")?.unwrap_or(3),
            retry_backoff_ms: o.int_of("retry-backoff-ms")?.unwrap_or(100),
            request_timeout_ms: o.int_of("request-timeout-ms")?.unwrap_or(1500),
            compression_codec: o.value_of("compression-codec").unwrap_or_else(|| "none".into()),
            old_producer: o.has("old-producer"),
            notes,
        })
    }

    /// The `acks` the 0.9 producer really uses: always `--request-required-acks`.
    pub fn effective_acks(&self) -> &str {
        &self.request_required_acks
    }

    /// `parse.key` from `--property` (false by default).
    pub fn parse_key(&self) -> bool {
        self.reader_properties
            .iter()
            .any(|(k, v)| k == "parse.key" && v.trim().eq_ignore_ascii_case("true"))
    }

    /// `key.separator` from `--property` (tab by default).
    pub fn key_separator(&self) -> String {
        self.reader_properties
            .iter()
            .rev()
            .find(|(k, _)| k == "key.separator")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| "\t".into())
    }
}

const CONSUMER_SPECS: &[Spec] = &[
    opt("topic"),
    opt("whitelist"),
    opt("blacklist"),
    opt("zookeeper"),
    opt("consumer.config"),
    opt("formatter"),
    opt("property"),
    flag("delete-consumer-offsets"),
    flag("from-beginning"),
    opt("max-messages"),
    opt("timeout-ms"),
    flag("skip-message-on-error"),
    opt("csv-reporter-enabled"),
    opt("metrics-dir"),
    flag("new-consumer"),
    opt("bootstrap-server"),
    opt("group"),
];

/// `ConsoleConsumer.ConsumerConfig` (kafka-console-consumer.sh, 0.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleConsumerOptions {
    /// `--zookeeper` (old consumer).
    pub zookeeper: Option<String>,
    /// `--bootstrap-server` (new consumer).
    pub bootstrap_server: Option<String>,
    /// `--new-consumer`.
    pub new_consumer: bool,
    /// `--topic`.
    pub topic: Option<String>,
    /// `--whitelist`.
    pub whitelist: Option<String>,
    /// `--blacklist`.
    pub blacklist: Option<String>,
    /// `--from-beginning`.
    pub from_beginning: bool,
    /// `--max-messages`.
    pub max_messages: Option<i32>,
    /// `--timeout-ms`.
    pub timeout_ms: Option<i32>,
    /// `--consumer.config` file path.
    pub consumer_config: Option<String>,
    /// `--group` (Kafka 1.0+; accepted with a note).
    pub group: Option<String>,
    /// `--formatter` class.
    pub formatter: Option<String>,
    /// `--property k=v` for the formatter (`print.key`, `key.separator`, …).
    pub properties: Vec<(String, String)>,
    /// `--delete-consumer-offsets`.
    pub delete_consumer_offsets: bool,
    /// `--skip-message-on-error`.
    pub skip_message_on_error: bool,
    /// Lab notes about version differences.
    pub notes: Vec<String>,
}

impl ConsoleConsumerOptions {
    /// Parses `kafka-console-consumer.sh` arguments (lenient where later versions differ,
    /// recording a note).
    pub fn parse(args: &[String]) -> Result<Self, ToolError> {
        if args.is_empty() {
            return Err(ToolError::Usage(
                "The console consumer is a tool that reads data from Kafka and outputs it to standard output.".into(),
            ));
        }
        let o = jopt_parse(CONSUMER_SPECS, args)?;
        let mut notes = Vec::new();
        let new_consumer = o.has("new-consumer");
        if new_consumer || o.has("bootstrap-server") {
            require(&o, &["bootstrap-server"])?;
            if !new_consumer {
                notes
                    .push("Kafka 0.9 needs --new-consumer together with --bootstrap-server".into());
            }
        } else {
            require(&o, &["zookeeper"])?;
        }
        let n = ["topic", "whitelist", "blacklist"].iter().filter(|x| o.has(x)).count();
        if n != 1 {
            return Err(ToolError::Usage(
                "Exactly one of whitelist/blacklist/topic is required.".into(),
            ));
        }
        if o.has("group") {
            notes.push(
                "--group is a Kafka 1.0+ option; 0.9 takes group.id from --consumer.config".into(),
            );
        }
        Ok(ConsoleConsumerOptions {
            zookeeper: o.value_of("zookeeper"),
            bootstrap_server: o.value_of("bootstrap-server"),
            new_consumer,
            topic: o.value_of("topic"),
            whitelist: o.value_of("whitelist"),
            blacklist: o.value_of("blacklist"),
            from_beginning: o.has("from-beginning"),
            max_messages: o.int_of("max-messages")?,
            timeout_ms: o.int_of("timeout-ms")?,
            consumer_config: o.value_of("consumer.config"),
            group: o.value_of("group"),
            formatter: o.value_of("formatter"),
            properties: kv_list(o.values_of("property")),
            delete_consumer_offsets: o.has("delete-consumer-offsets"),
            skip_message_on_error: o.has("skip-message-on-error"),
            notes,
        })
    }

    /// `print.key` from `--property`.
    pub fn print_key(&self) -> bool {
        self.properties
            .iter()
            .any(|(k, v)| k == "print.key" && v.trim().eq_ignore_ascii_case("true"))
    }
}

/// Parses a `host:port,host:port` broker list (0.9 `ToolsUtils.validatePortOrDie` wording for
/// bad entries: `Please provide valid host:port like host1:9091,host2:9092`).
pub fn parse_broker_list(s: &str) -> Result<Vec<(String, u16)>, ToolError> {
    let bad = || {
        ToolError::BrokerList("Please provide valid host:port like host1:9091,host2:9092\n ".into())
    };
    let mut out = Vec::new();
    for item in s.split(',') {
        let item = item.trim();
        let (host, port) = item.rsplit_once(':').ok_or_else(bad)?;
        if host.is_empty() {
            return Err(bad());
        }
        let port: u16 = port.trim().parse().map_err(|_| bad())?;
        out.push((host.trim().to_string(), port));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }
    const ZK: &str = "master:2181,slave1:2181,slave2:2181";

    #[test]
    fn reference_assignment() {
        let a = assign_replicas_to_brokers(&[0, 1, 2], 4, 3, -1, -1, 1, 0).unwrap();
        assert_eq!(a[&0], vec![1, 2, 0]);
        assert_eq!(a[&1], vec![2, 0, 1]);
        assert_eq!(a[&2], vec![0, 1, 2]);
        assert_eq!(a[&3], vec![1, 0, 2]);
        // fixed start index fixes the shift too (0.9)
        let a = assign_replicas_to_brokers(&[0, 1, 2], 1, 3, 1, -1, 0, 0).unwrap();
        assert_eq!(a[&0], vec![1, 0, 2]);
        let a = assign_replicas_to_brokers(&[5], 2, 1, -1, 3, 7, 7).unwrap();
        assert_eq!(a.keys().copied().collect::<Vec<_>>(), vec![3, 4]);
    }

    #[test]
    fn assignment_errors() {
        let e = |p, r| {
            assign_replicas_to_brokers(&[0, 1, 2], p, r, -1, -1, 0, 0).unwrap_err().to_string()
        };
        assert_eq!(e(0, 1), "number of partitions must be larger than 0");
        assert_eq!(e(1, 0), "replication factor must be larger than 0");
        assert_eq!(e(1, 4), "replication factor: 4 larger than available brokers: 3");
        assert_eq!(
            topic_command_error(&e(1, 4)),
            "Error while executing topic command : replication factor: 4 larger than available brokers: 3"
        );
    }

    #[test]
    fn replica_assignment_parsing() {
        let m = parse_replica_assignment("1:2,2:0").unwrap();
        assert_eq!(m[&0], vec![1, 2]);
        assert_eq!(m[&1], vec![2, 0]);
        assert_eq!(
            parse_replica_assignment("1:1:2").unwrap_err().to_string(),
            "Partition replica lists may not contain duplicate entries: 1"
        );
        assert!(parse_replica_assignment("1:2,0")
            .unwrap_err()
            .to_string()
            .starts_with("Partition 1 has different replication factor: [I@"));
        assert_eq!(
            parse_replica_assignment("x").unwrap_err().to_string(),
            "For input string: \"x\""
        );
        assert_eq!(parse_replica_assignment(",,,").unwrap(), BTreeMap::new());
    }

    #[test]
    fn topic_names() {
        assert!(validate_topic("HelloKafka").is_ok());
        assert_eq!(
            validate_topic("").unwrap_err().to_string(),
            "topic name is illegal, can't be empty"
        );
        assert_eq!(
            validate_topic("..").unwrap_err().to_string(),
            "topic name cannot be \".\" or \"..\""
        );
        assert_eq!(
            validate_topic(&"a".repeat(256)).unwrap_err().to_string(),
            "topic name is illegal, can't be longer than 255 characters"
        );
        assert_eq!(
            validate_topic("a b").unwrap_err().to_string(),
            "topic name a b is illegal, contains a character other than ASCII alphanumerics, '.', '_' and '-'"
        );
        assert!(has_collision_chars("a.b"));
    }

    #[test]
    fn output_lines() {
        assert_eq!(
            describe_topic_header("test", 3, 3, &[]),
            "Topic:test\tPartitionCount:3\tReplicationFactor:3\tConfigs:"
        );
        assert_eq!(
            describe_topic_header("t", 1, 1, &[("a".into(), "1".into()), ("b".into(), "2".into())]),
            "Topic:t\tPartitionCount:1\tReplicationFactor:1\tConfigs:a=1,b=2"
        );
        assert_eq!(
            describe_partition_line("test", 0, Some(1), &[1, 2, 0], &[1, 2, 0]),
            "\tTopic: test\tPartition: 0\tLeader: 1\tReplicas: 1,2,0\tIsr: 1,2,0"
        );
        assert!(describe_partition_line("t", 0, None, &[1], &[]).contains("Leader: none\t"));
        assert_eq!(created_topic("HelloKafka"), "Created topic \"HelloKafka\".");
        assert_eq!(
            topic_command_error(&topic_exists_message("HelloKafka")),
            "Error while executing topic command : Topic \"HelloKafka\" already exists."
        );
        assert_eq!(
            marked_for_deletion("HelloKafka")[0],
            "Topic HelloKafka is marked for deletion."
        );
    }

    #[test]
    fn seed_command_lines() {
        let t = TopicCommandOptions::parse(&args(&format!(
            "--create --zookeeper {ZK} --replication-factor 3 --partitions 1 --topic HelloKafka"
        )))
        .unwrap();
        assert_eq!(t.action, TopicAction::Create);
        assert_eq!((t.partitions, t.replication_factor), (Some(1), Some(3)));
        assert_eq!(t.zookeeper, ZK);
        assert_eq!(t.topic.as_deref(), Some("HelloKafka"));

        let p = ConsoleProducerOptions::parse(&args(
            "--broker-list master:9092,slave1:9092,slave2:9092 --topic HelloKafka",
        ))
        .unwrap();
        assert_eq!(p.broker_list.len(), 3);
        assert_eq!(p.broker_list[1], ("slave1".to_string(), 9092));
        assert_eq!(p.effective_acks(), "0");
        assert_eq!(p.timeout_ms, 1000);

        let c = ConsoleConsumerOptions::parse(&args(&format!(
            "--zookeeper {ZK} --from-beginning --topic HelloKafka"
        )))
        .unwrap();
        assert!(c.from_beginning);
        assert_eq!(c.topic.as_deref(), Some("HelloKafka"));

        let l = TopicCommandOptions::parse(&args(&format!("--list --zookeeper {ZK}"))).unwrap();
        assert_eq!(l.action, TopicAction::List);

        let e = TopicCommandOptions::parse(&args(&format!(
            "--describe --zookeeper{ZK} --topic HelloKafka"
        )))
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Exception in thread \"main\" joptsimple.UnrecognizedOptionException: zookeepermaster:2181,slave1:2181,slave2:2181 is not a recognized option"
        );
        let st = e.stack_trace("kafka.admin.TopicCommand");
        assert_eq!(
            st[0],
            "\tat joptsimple.OptionException.unrecognizedOption(OptionException.java:108)"
        );
    }

    #[test]
    fn tool_errors() {
        let t = |s: &str| TopicCommandOptions::parse(&args(s)).unwrap_err().to_string();
        assert_eq!(
            t("--create --topic x --partitions 1 --replication-factor 1"),
            "Missing required argument \"[zookeeper]\""
        );
        assert_eq!(
            t("--zookeeper z --topic x"),
            "Command must include exactly one action: --list, --describe, --create, --alter or --delete"
        );
        assert_eq!(
            t("--create --zookeeper z --topic x --replication-factor 1"),
            "Missing required argument \"[partitions]\""
        );
        assert_eq!(
            t("--create --zookeeper z --partitions 1"),
            "Missing required argument \"[topic]\""
        );
        assert_eq!(
            t("--create --zookeeper z --topic x --partitions x --replication-factor 1"),
            "Exception in thread \"main\" joptsimple.OptionArgumentConversionException: Cannot parse argument 'x' of option ['partitions']"
        );
        assert_eq!(
            t("--create --zookeeper z --topic x --rep 1"),
            "Exception in thread \"main\" joptsimple.UnrecognizedOptionException: rep is not a recognized option"
        );
        assert_eq!(
            t("--create --zookeeper z --topic"),
            "Exception in thread \"main\" joptsimple.OptionMissingRequiredArgumentException: Option ['topic'] requires an argument"
        );
        // "--top" is ambiguous (topic, topics-with-overrides): joptsimple does not recognize it
        assert!(t("--create --zookeeper z --top x").contains("top is not a recognized option"));
        // unambiguous abbreviations work
        let o = TopicCommandOptions::parse(&args(
            "--cr --zoo z --topic x --par 2 --replication-f 1 --config a=b --config c=d",
        ))
        .unwrap();
        assert_eq!(o.partitions, Some(2));
        assert_eq!(o.configs, vec![("a".into(), "b".into()), ("c".into(), "d".into())]);

        let p = |s: &str| ConsoleProducerOptions::parse(&args(s)).unwrap_err().to_string();
        assert_eq!(p("--topic t"), "Missing required argument \"[broker-list]\"");
        assert_eq!(p("--broker-list a:1"), "Missing required argument \"[topic]\"");
        let pr = ConsoleProducerOptions::parse(&args(
            "--broker-list a:1 --topic t --producer-property acks=all",
        ))
        .unwrap();
        assert_eq!(pr.effective_acks(), "0");
        assert_eq!(pr.notes.len(), 1);

        let c = |s: &str| ConsoleConsumerOptions::parse(&args(s)).unwrap_err().to_string();
        assert_eq!(c("--topic t"), "Missing required argument \"[zookeeper]\"");
        assert_eq!(c("--zookeeper z"), "Exactly one of whitelist/blacklist/topic is required.");
        let g = ConsoleConsumerOptions::parse(&args("--bootstrap-server a:1 --topic t --group g"))
            .unwrap();
        assert_eq!(g.group.as_deref(), Some("g"));
        assert_eq!(g.notes.len(), 2);
        assert!(g.notes[1].starts_with("--group is a Kafka 1.0+ option"));
    }

    #[test]
    fn broker_lists() {
        assert_eq!(
            parse_broker_list("master:9092,slave1:9092").unwrap(),
            vec![("master".to_string(), 9092), ("slave1".to_string(), 9092)]
        );
        assert!(parse_broker_list("master").is_err());
        assert!(parse_broker_list("master:99999").is_err());
    }

    proptest! {
        #[test]
        fn parsers_never_panic(v in proptest::collection::vec("(--?)?[a-z:=,.-]{0,12}|[0-9]{1,12}", 0..8), s in ".{0,40}") {
            let _ = TopicCommandOptions::parse(&v);
            let _ = ConsoleProducerOptions::parse(&v);
            let _ = ConsoleConsumerOptions::parse(&v);
            let _ = parse_broker_list(&s);
            let _ = parse_replica_assignment(&s);
            let _ = validate_topic(&s);
        }

        #[test]
        fn assignment_never_panics(brokers in proptest::collection::vec(-5i32..10, 0..6), p in -3i32..50,
                                   rf in -2i32..8, fixed in -2i32..10, start in -2i32..10,
                                   a in any::<i32>(), b in any::<i32>()) {
            if let Ok(m) = assign_replicas_to_brokers(&brokers, p, rf, fixed, start, a, b) {
                prop_assert_eq!(m.len() as i32, p);
                for r in m.values() { prop_assert_eq!(r.len() as i32, rf); }
            }
        }
    }
}
