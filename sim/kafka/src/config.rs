//! `KafkaConfig`: a broker's `server.properties`, parsed as `java.util.Properties` and typed with
//! Kafka 0.9.0.1's `ConfigDef` defaults, validators and `ConfigException` wording.
//!
//! Also [`seed_server_properties`], the stock 0.9.0.1 `config/server.properties` with the
//! course's edits (broker.id, port, zookeeper.connect).

use std::collections::BTreeMap;
use thiserror::Error;

/// A configuration error, worded as Kafka 0.9 reports it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// `ConfigException(name, value, message)`.
    #[error("Invalid value {value} for configuration {name}: {message}")]
    InvalidValue {
        /// Property name.
        name: String,
        /// The raw value as written.
        value: String,
        /// Why it is invalid (e.g. `Not a number of type INT`).
        message: String,
    },
    /// A required property with no default is absent.
    #[error("Missing required configuration \"{0}\" which has no default value.")]
    Missing(String),
    /// A Scala `require(...)` in `KafkaConfig.validateValues`.
    #[error("requirement failed: {0}")]
    Requirement(String),
    /// A bare `require(cond)` (e.g. an empty `log.dirs`).
    #[error("requirement failed")]
    RequirementFailed,
    /// `broker.id` left at -1. Real 0.9 would generate one (1001, 1002, … from
    /// reserved.broker.max.id + a ZooKeeper sequence); the lab requires it set per host.
    #[error("broker.id is not set (-1): Kafka 0.9 would generate an id above reserved.broker.max.id (1000); this lab requires broker.id=N on each host")]
    BrokerIdNotSet,
    /// Port outside 0..=65535 (what `new InetSocketAddress(host, port)` throws at bind time).
    #[error("port out of range:{0}")]
    PortOutOfRange(i32),
}

/// Parses `java.util.Properties` text: `key=value`, `key: value`, `key value`, `#`/`!` comments,
/// trailing-backslash continuations, `\t \n \r \f \uXXXX` escapes. The last duplicate key wins.
pub fn parse_properties(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    while let Some(first) = lines.next() {
        let trimmed = first.trim_start_matches([' ', '\t', '\x0c']);
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('!') {
            continue;
        }
        // Join continuation lines (odd number of trailing backslashes).
        let mut logical = String::new();
        let mut cur = trimmed.to_string();
        loop {
            let bs = cur.chars().rev().take_while(|&c| c == '\\').count();
            if bs % 2 == 1 {
                cur.pop();
                logical.push_str(&cur);
                match lines.next() {
                    Some(next) => cur = next.trim_start_matches([' ', '\t', '\x0c']).to_string(),
                    None => break,
                }
            } else {
                logical.push_str(&cur);
                break;
            }
        }
        let (k, v) = split_key_value(&logical);
        out.insert(unescape(&k), unescape(&v));
    }
    out
}

fn split_key_value(line: &str) -> (String, String) {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    let mut key_end = chars.len();
    let mut has_sep = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            i += 2;
            continue;
        }
        if c == '=' || c == ':' {
            key_end = i;
            has_sep = true;
            break;
        }
        if c == ' ' || c == '\t' || c == '\x0c' {
            key_end = i;
            break;
        }
        i += 1;
    }
    let key_end = key_end.min(chars.len());
    let key: String = chars[..key_end].iter().collect();
    let mut j = key_end;
    if has_sep {
        j += 1;
    } else {
        while j < chars.len() && matches!(chars[j], ' ' | '\t' | '\x0c') {
            j += 1;
        }
        if j < chars.len() && (chars[j] == '=' || chars[j] == ':') {
            j += 1;
        }
    }
    while j < chars.len() && matches!(chars[j], ' ' | '\t' | '\x0c') {
        j += 1;
    }
    let value: String = chars[j.min(chars.len())..].iter().collect();
    (key, value)
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let hex: String = (0..4).filter_map(|_| it.next()).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) if hex.len() == 4 => out.push(ch),
                    _ => out.push('\u{fffd}'), // Java throws "Malformed \uxxxx encoding."
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Lab-only broker properties: what-if switches no real 0.9 broker has, named `lab.*` so a
/// learner never mistakes them for Kafka's own.
pub const LAB_KEYS: &[&str] = &[
    // `high-watermark` (0.9, the default) or `leader-epoch` (KIP-101, Kafka 0.11+).
    "lab.replica.truncation",
    // `sendfile` (the default, as Kafka's FileChannel.transferTo) or `readwrite`: how the leader
    // sends log bytes in fetch responses (the zero-copy lesson).
    "lab.fetch.send.path",
    // Fetch responses pay for TLS (zero-copy lost).
    "lab.fetch.tls",
    // A Kafka 0.10+ what-if: messages converted to an older format for an old consumer.
    "lab.fetch.down.convert",
];

/// Every broker property name Kafka 0.9.0.1's `KafkaConfig` defines that the lab may meet
/// (anything else is reported by [`KafkaConfig::warnings`]).
pub const KNOWN_KEYS: &[&str] = &[
    "advertised.host.name",
    "advertised.listeners",
    "advertised.port",
    "auto.create.topics.enable",
    "auto.leader.rebalance.enable",
    "background.threads",
    "broker.id",
    "broker.id.generation.enable",
    "compression.type",
    "connections.max.idle.ms",
    "controlled.shutdown.enable",
    "controlled.shutdown.max.retries",
    "controlled.shutdown.retry.backoff.ms",
    "controller.socket.timeout.ms",
    "default.replication.factor",
    "delete.topic.enable",
    "fetch.purgatory.purge.interval.requests",
    "group.max.session.timeout.ms",
    "group.min.session.timeout.ms",
    "host.name",
    "inter.broker.protocol.version",
    "leader.imbalance.check.interval.seconds",
    "leader.imbalance.per.broker.percentage",
    "listeners",
    "log.cleaner.backoff.ms",
    "log.cleaner.dedupe.buffer.size",
    "log.cleaner.delete.retention.ms",
    "log.cleaner.enable",
    "log.cleaner.io.buffer.load.factor",
    "log.cleaner.io.buffer.size",
    "log.cleaner.io.max.bytes.per.second",
    "log.cleaner.min.cleanable.ratio",
    "log.cleaner.threads",
    "log.cleanup.policy",
    "log.dir",
    "log.dirs",
    "log.flush.interval.messages",
    "log.flush.interval.ms",
    "log.flush.offset.checkpoint.interval.ms",
    "log.flush.scheduler.interval.ms",
    "log.index.interval.bytes",
    "log.index.size.max.bytes",
    "log.preallocate",
    "log.retention.bytes",
    "log.retention.check.interval.ms",
    "log.retention.hours",
    "log.retention.minutes",
    "log.retention.ms",
    "log.roll.hours",
    "log.roll.jitter.hours",
    "log.roll.jitter.ms",
    "log.roll.ms",
    "log.segment.bytes",
    "log.segment.delete.delay.ms",
    "max.connections.per.ip",
    "max.connections.per.ip.overrides",
    "message.max.bytes",
    "min.insync.replicas",
    "num.io.threads",
    "num.network.threads",
    "num.partitions",
    "num.recovery.threads.per.data.dir",
    "num.replica.fetchers",
    "offset.metadata.max.bytes",
    "offsets.commit.required.acks",
    "offsets.commit.timeout.ms",
    "offsets.load.buffer.size",
    "offsets.retention.check.interval.ms",
    "offsets.retention.minutes",
    "offsets.topic.compression.codec",
    "offsets.topic.num.partitions",
    "offsets.topic.replication.factor",
    "offsets.topic.segment.bytes",
    "port",
    "producer.purgatory.purge.interval.requests",
    "queued.max.requests",
    "quota.consumer.default",
    "quota.producer.default",
    "replica.fetch.backoff.ms",
    "replica.fetch.max.bytes",
    "replica.fetch.min.bytes",
    "replica.fetch.wait.max.ms",
    "replica.high.watermark.checkpoint.interval.ms",
    "replica.lag.max.messages",
    "replica.lag.time.max.ms",
    "replica.socket.receive.buffer.bytes",
    "replica.socket.timeout.ms",
    "request.timeout.ms",
    "reserved.broker.max.id",
    "security.inter.broker.protocol",
    "socket.receive.buffer.bytes",
    "socket.request.max.bytes",
    "socket.send.buffer.bytes",
    "unclean.leader.election.enable",
    "zookeeper.connect",
    "zookeeper.connection.timeout.ms",
    "zookeeper.session.timeout.ms",
    "zookeeper.sync.time.ms",
];

/// How a follower finds where its log stops agreeing with a new leader's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Truncation {
    /// Kafka ≤ 0.10: truncate to the local high watermark, then fetch.
    #[default]
    HighWatermark,
    /// KIP-101 (0.11+): ask the leader where the follower's last leader epoch ends
    /// (`OffsetsForLeaderEpoch`) and truncate there.
    LeaderEpoch,
}

/// A broker's typed configuration (Kafka 0.9.0.1 `KafkaConfig`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaConfig {
    /// `broker.id` (the lab requires it to be set, see [`ConfigError::BrokerIdNotSet`]).
    pub broker_id: i32,
    /// `port` (9092).
    pub port: i32,
    /// `host.name` ("" = all interfaces).
    pub host_name: String,
    /// `advertised.host.name` (defaults to host.name).
    pub advertised_host_name: Option<String>,
    /// `advertised.port` (defaults to port).
    pub advertised_port: Option<i32>,
    /// `listeners` (when set, wins over host.name/port).
    pub listeners: Option<String>,
    /// `zookeeper.connect` (required).
    pub zookeeper_connect: String,
    /// `zookeeper.session.timeout.ms` (6000).
    pub zookeeper_session_timeout_ms: i32,
    /// `zookeeper.connection.timeout.ms` (defaults to the session timeout).
    pub zookeeper_connection_timeout_ms: i32,
    /// `log.dirs`, else `log.dir` (`/tmp/kafka-logs`), split on commas.
    pub log_dirs: Vec<String>,
    /// `num.partitions` (1, at least 1).
    pub num_partitions: i32,
    /// `default.replication.factor` (1).
    pub default_replication_factor: i32,
    /// `log.segment.bytes` (1 GiB, at least 14).
    pub log_segment_bytes: i32,
    /// `log.roll.hours` (168, at least 1).
    pub log_roll_hours: i32,
    /// Effective retention in ms: `log.retention.ms`, else minutes, else hours (168 h);
    /// any negative value becomes -1 (keep forever).
    pub log_retention_ms: i64,
    /// `log.retention.bytes` (-1).
    pub log_retention_bytes: i64,
    /// `log.retention.check.interval.ms` (300000).
    pub log_retention_check_interval_ms: i64,
    /// `log.index.interval.bytes` (4096).
    pub log_index_interval_bytes: i32,
    /// `log.flush.interval.messages` (Long.MAX_VALUE).
    pub log_flush_interval_messages: i64,
    /// `log.cleaner.enable` (default true since 0.9.0.1; the stock file sets false).
    pub log_cleaner_enable: bool,
    /// `unclean.leader.election.enable` (true).
    pub unclean_leader_election_enable: bool,
    /// `lab.replica.truncation` (lab-only): how a follower truncates when its leader changes.
    pub replica_truncation: Truncation,
    /// `min.insync.replicas` (1).
    pub min_insync_replicas: i32,
    /// `replica.lag.time.max.ms` (10000).
    pub replica_lag_time_max_ms: i64,
    /// `replica.lag.max.messages` (4000).
    pub replica_lag_max_messages: i64,
    /// `replica.fetch.wait.max.ms` (500).
    pub replica_fetch_wait_max_ms: i32,
    /// `replica.fetch.min.bytes` (1).
    pub replica_fetch_min_bytes: i32,
    /// `replica.fetch.max.bytes` (1048576).
    pub replica_fetch_max_bytes: i32,
    /// `replica.socket.timeout.ms` (30000).
    pub replica_socket_timeout_ms: i32,
    /// `num.replica.fetchers` (1).
    pub num_replica_fetchers: i32,
    /// `controller.socket.timeout.ms` (30000).
    pub controller_socket_timeout_ms: i32,
    /// `controlled.shutdown.enable` (true).
    pub controlled_shutdown_enable: bool,
    /// `auto.create.topics.enable` (true).
    pub auto_create_topics_enable: bool,
    /// `delete.topic.enable` (false).
    pub delete_topic_enable: bool,
    /// `auto.leader.rebalance.enable` (true).
    pub auto_leader_rebalance_enable: bool,
    /// `message.max.bytes` (1000012).
    pub message_max_bytes: i32,
    /// `offsets.topic.num.partitions` (50).
    pub offsets_topic_num_partitions: i32,
    /// `offsets.topic.replication.factor` (3).
    pub offsets_topic_replication_factor: i32,
    /// `group.min.session.timeout.ms` (6000).
    pub group_min_session_timeout_ms: i32,
    /// `group.max.session.timeout.ms` (30000).
    pub group_max_session_timeout_ms: i32,
    /// `num.network.threads` (3).
    pub num_network_threads: i32,
    /// `num.io.threads` (8).
    pub num_io_threads: i32,
    /// `socket.send.buffer.bytes` (102400).
    pub socket_send_buffer_bytes: i32,
    /// `socket.receive.buffer.bytes` (102400).
    pub socket_receive_buffer_bytes: i32,
    /// `socket.request.max.bytes` (104857600).
    pub socket_request_max_bytes: i32,
    /// `inter.broker.protocol.version` ("0.9.0").
    pub inter_broker_protocol_version: String,
    /// Keys `KafkaConfig` does not define, with their values.
    pub unknown: BTreeMap<String, String>,
    /// Lab-only `lab.fetch.send.path` (`sendfile`, the default, or `readwrite`): how the leader
    /// sends log bytes in fetch responses. Real Kafka always uses `FileChannel.transferTo`
    /// (sendfile); the other path is a what-if for the zero-copy lesson.
    pub lab_fetch_send_path: sim_core::hw::SendPath,
    /// Lab-only `lab.fetch.tls` (false), also true when `listeners` has an `SSL://` listener:
    /// fetch responses are encrypted, so the bytes go through user space (zero-copy lost).
    pub lab_fetch_tls: bool,
    /// Lab-only `lab.fetch.down.convert` (false): a what-if of Kafka 0.10+, where a broker
    /// converts messages to the old format for an old consumer (zero-copy lost). 0.9 has one
    /// format and never converts.
    pub lab_fetch_down_convert: bool,
    /// `security.inter.broker.protocol` (PLAINTEXT): with SSL, replica fetches are encrypted.
    pub security_inter_broker_protocol: String,
}

struct Props<'a>(&'a BTreeMap<String, String>);

fn invalid(name: &str, value: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::InvalidValue { name: name.into(), value: value.into(), message: message.into() }
}

impl Props<'_> {
    fn raw(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|s| s.as_str())
    }
    fn int_opt(&self, name: &str, min: Option<i64>) -> Result<Option<i32>, ConfigError> {
        let Some(v) = self.raw(name) else {
            return Ok(None);
        };
        let n: i32 =
            java_parse(v.trim()).ok_or_else(|| invalid(name, v, "Not a number of type INT"))?;
        check_min(name, v, n as i64, min)?;
        Ok(Some(n))
    }
    fn int(&self, name: &str, default: i32, min: Option<i64>) -> Result<i32, ConfigError> {
        Ok(self.int_opt(name, min)?.unwrap_or(default))
    }
    fn long_opt(&self, name: &str, min: Option<i64>) -> Result<Option<i64>, ConfigError> {
        let Some(v) = self.raw(name) else {
            return Ok(None);
        };
        let n: i64 =
            java_parse(v.trim()).ok_or_else(|| invalid(name, v, "Not a number of type LONG"))?;
        check_min(name, v, n, min)?;
        Ok(Some(n))
    }
    fn long(&self, name: &str, default: i64, min: Option<i64>) -> Result<i64, ConfigError> {
        Ok(self.long_opt(name, min)?.unwrap_or(default))
    }
    fn boolean(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        match self.raw(name) {
            None => Ok(default),
            Some(v) => {
                let t = v.trim();
                if t.eq_ignore_ascii_case("true") {
                    Ok(true)
                } else if t.eq_ignore_ascii_case("false") {
                    Ok(false)
                } else {
                    Err(invalid(name, v, "Expected value to be either true or false"))
                }
            }
        }
    }
    fn string(&self, name: &str) -> Option<String> {
        self.raw(name).map(|s| s.trim().to_string())
    }
}

/// `Integer.parseInt` / `Long.parseLong`: optional sign, ASCII digits, in range.
fn java_parse<T: std::str::FromStr>(s: &str) -> Option<T> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn check_min(name: &str, raw: &str, n: i64, min: Option<i64>) -> Result<(), ConfigError> {
    match min {
        Some(m) if n < m => Err(invalid(name, raw, format!("Value must be at least {m}"))),
        _ => Ok(()),
    }
}

/// `CoreUtils.parseCsvList`: split on commas with surrounding whitespace, drop empty items.
pub fn parse_csv_list(s: &str) -> Vec<String> {
    s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect()
}

impl KafkaConfig {
    /// Parses `server.properties` text (see [`parse_properties`]) into a typed config.
    pub fn parse(text: &str) -> Result<KafkaConfig, ConfigError> {
        Self::from_props(&parse_properties(text))
    }

    /// Types already-parsed properties. Checks run in `KafkaConfig`'s definition order, so the
    /// first error is the one 0.9 would report.
    pub fn from_props(map: &BTreeMap<String, String>) -> Result<KafkaConfig, ConfigError> {
        let p = Props(map);
        let zookeeper_connect = p
            .string("zookeeper.connect")
            .ok_or_else(|| ConfigError::Missing("zookeeper.connect".into()))?;
        let zookeeper_session_timeout_ms = p.int("zookeeper.session.timeout.ms", 6000, None)?;
        let zookeeper_connection_timeout_ms = p
            .int_opt("zookeeper.connection.timeout.ms", None)?
            .unwrap_or(zookeeper_session_timeout_ms);
        let broker_id = p.int("broker.id", -1, None)?;
        let message_max_bytes = p.int("message.max.bytes", 1_000_012, Some(0))?;
        let num_network_threads = p.int("num.network.threads", 3, Some(1))?;
        let num_io_threads = p.int("num.io.threads", 8, Some(1))?;
        let port = p.int("port", 9092, None)?;
        let host_name = p.string("host.name").unwrap_or_default();
        let listeners = p.string("listeners");
        let advertised_host_name = p.string("advertised.host.name");
        let advertised_port = p.int_opt("advertised.port", None)?;
        let socket_send_buffer_bytes = p.int("socket.send.buffer.bytes", 102_400, None)?;
        let socket_receive_buffer_bytes = p.int("socket.receive.buffer.bytes", 102_400, None)?;
        let socket_request_max_bytes = p.int("socket.request.max.bytes", 104_857_600, Some(1))?;
        let num_partitions = p.int("num.partitions", 1, Some(1))?;
        let log_dir = p.string("log.dir").unwrap_or_else(|| "/tmp/kafka-logs".into());
        let log_dirs = parse_csv_list(&p.string("log.dirs").unwrap_or(log_dir));
        let log_segment_bytes = p.int("log.segment.bytes", 1_073_741_824, Some(14))?;
        let log_roll_hours = p.int("log.roll.hours", 168, Some(1))?;
        let retention_hours = p.int("log.retention.hours", 168, None)?;
        let retention_minutes = p.int_opt("log.retention.minutes", None)?;
        let retention_ms = p.long_opt("log.retention.ms", None)?;
        let log_retention_bytes = p.long("log.retention.bytes", -1, None)?;
        let log_retention_check_interval_ms =
            p.long("log.retention.check.interval.ms", 300_000, Some(1))?;
        let log_index_interval_bytes = p.int("log.index.interval.bytes", 4096, Some(0))?;
        let log_flush_interval_messages =
            p.long("log.flush.interval.messages", i64::MAX, Some(1))?;
        let log_cleaner_enable = p.boolean("log.cleaner.enable", true)?;
        let replica_socket_timeout_ms = p.int("replica.socket.timeout.ms", 30_000, None)?;
        let replica_fetch_max_bytes = p.int("replica.fetch.max.bytes", 1_048_576, None)?;
        let replica_fetch_wait_max_ms = p.int("replica.fetch.wait.max.ms", 500, None)?;
        let replica_fetch_min_bytes = p.int("replica.fetch.min.bytes", 1, None)?;
        let replica_lag_time_max_ms = p.long("replica.lag.time.max.ms", 10_000, None)?;
        let replica_lag_max_messages = p.long("replica.lag.max.messages", 4000, None)?;
        let num_replica_fetchers = p.int("num.replica.fetchers", 1, None)?;
        let controller_socket_timeout_ms = p.int("controller.socket.timeout.ms", 30_000, None)?;
        let default_replication_factor = p.int("default.replication.factor", 1, None)?;
        let auto_create_topics_enable = p.boolean("auto.create.topics.enable", true)?;
        let min_insync_replicas = p.int("min.insync.replicas", 1, Some(1))?;
        let auto_leader_rebalance_enable = p.boolean("auto.leader.rebalance.enable", true)?;
        let unclean_leader_election_enable = p.boolean("unclean.leader.election.enable", true)?;
        let replica_truncation = match p.string("lab.replica.truncation").as_deref() {
            None | Some("high-watermark") => Truncation::HighWatermark,
            Some("leader-epoch") => Truncation::LeaderEpoch,
            Some(other) => {
                return Err(invalid(
                    "lab.replica.truncation",
                    other,
                    "String must be one of: high-watermark, leader-epoch",
                ))
            }
        };
        let inter_broker_protocol_version =
            p.string("inter.broker.protocol.version").unwrap_or_else(|| "0.9.0".into());
        let controlled_shutdown_enable = p.boolean("controlled.shutdown.enable", true)?;
        let group_min_session_timeout_ms = p.int("group.min.session.timeout.ms", 6000, None)?;
        let group_max_session_timeout_ms = p.int("group.max.session.timeout.ms", 30_000, None)?;
        let offsets_topic_replication_factor =
            p.int("offsets.topic.replication.factor", 3, Some(1))?;
        let offsets_topic_num_partitions = p.int("offsets.topic.num.partitions", 50, Some(1))?;
        let delete_topic_enable = p.boolean("delete.topic.enable", false)?;
        let lab_fetch_send_path = match p.string("lab.fetch.send.path") {
            None => sim_core::hw::SendPath::default(),
            Some(v) => v.parse().map_err(|_| {
                invalid(
                    "lab.fetch.send.path",
                    &v,
                    "Expected sendfile or readwrite (a lab-only key)",
                )
            })?,
        };
        let ssl_listener =
            listeners.as_deref().is_some_and(|l| l.to_ascii_uppercase().contains("SSL://"));
        let lab_fetch_tls = p.boolean("lab.fetch.tls", false)? || ssl_listener;
        let lab_fetch_down_convert = p.boolean("lab.fetch.down.convert", false)?;
        let security_inter_broker_protocol = p
            .string("security.inter.broker.protocol")
            .unwrap_or_else(|| "PLAINTEXT".into())
            .to_ascii_uppercase();
        if !["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
            .contains(&security_inter_broker_protocol.as_str())
        {
            return Err(invalid(
                "security.inter.broker.protocol",
                &security_inter_broker_protocol,
                format!("No enum constant org.apache.kafka.common.protocol.SecurityProtocol.{security_inter_broker_protocol}"),
            ));
        }

        const MIN: i64 = 60 * 1000;
        let millis = match (retention_ms, retention_minutes) {
            (Some(ms), _) => ms,
            (None, Some(m)) => MIN * m as i64,
            (None, None) => retention_hours as i64 * 60 * MIN,
        };
        let log_retention_ms = if millis < 0 { -1 } else { millis };

        // KafkaConfig.validateValues
        if !(-1..=1000).contains(&broker_id) {
            return Err(ConfigError::Requirement(
                "broker.id must be equal or greater than -1 and not greater than reserved.broker.max.id".into(),
            ));
        }
        if log_dirs.is_empty() {
            return Err(ConfigError::RequirementFailed);
        }
        if !(0..=65535).contains(&port) {
            return Err(ConfigError::PortOutOfRange(port));
        }
        if let Some(ap) = advertised_port {
            if !(0..=65535).contains(&ap) {
                return Err(ConfigError::PortOutOfRange(ap));
            }
        }
        if broker_id == -1 {
            return Err(ConfigError::BrokerIdNotSet);
        }

        let unknown = map
            .iter()
            .filter(|(k, _)| !KNOWN_KEYS.contains(&k.as_str()) && !LAB_KEYS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();

        Ok(KafkaConfig {
            broker_id,
            port,
            host_name,
            advertised_host_name,
            advertised_port,
            listeners,
            zookeeper_connect,
            zookeeper_session_timeout_ms,
            zookeeper_connection_timeout_ms,
            log_dirs,
            num_partitions,
            default_replication_factor,
            log_segment_bytes,
            log_roll_hours,
            log_retention_ms,
            log_retention_bytes,
            log_retention_check_interval_ms,
            log_index_interval_bytes,
            log_flush_interval_messages,
            log_cleaner_enable,
            unclean_leader_election_enable,
            replica_truncation,
            min_insync_replicas,
            replica_lag_time_max_ms,
            replica_lag_max_messages,
            replica_fetch_wait_max_ms,
            replica_fetch_min_bytes,
            replica_fetch_max_bytes,
            replica_socket_timeout_ms,
            num_replica_fetchers,
            controller_socket_timeout_ms,
            controlled_shutdown_enable,
            auto_create_topics_enable,
            delete_topic_enable,
            auto_leader_rebalance_enable,
            message_max_bytes,
            offsets_topic_num_partitions,
            offsets_topic_replication_factor,
            group_min_session_timeout_ms,
            group_max_session_timeout_ms,
            num_network_threads,
            num_io_threads,
            socket_send_buffer_bytes,
            socket_receive_buffer_bytes,
            socket_request_max_bytes,
            inter_broker_protocol_version,
            unknown,
            lab_fetch_send_path,
            lab_fetch_tls,
            lab_fetch_down_convert,
            security_inter_broker_protocol,
        })
    }

    /// WARN lines for unknown keys, in the wording of 0.8/0.9's `VerifiableProperties`:
    /// `Property <key> is not valid`.
    pub fn warnings(&self) -> Vec<String> {
        self.unknown.keys().map(|k| format!("Property {k} is not valid")).collect()
    }

    /// The port the broker binds: from `listeners` when set (`PLAINTEXT://host:port`), else `port`.
    pub fn bind_port(&self) -> i32 {
        self.listeners
            .as_deref()
            .and_then(|l| l.split(',').next())
            .and_then(|l| l.rsplit(':').next())
            .and_then(|p| java_parse::<i32>(p.trim()))
            .unwrap_or(self.port)
    }

    /// The port registered in `/brokers/ids/<id>`: `advertised.port`, else the bind port.
    pub fn advertised_port(&self) -> i32 {
        self.advertised_port.unwrap_or_else(|| self.bind_port())
    }

    /// The port as a socket wants it.
    pub fn port_u16(&self) -> u16 {
        u16::try_from(self.bind_port()).unwrap_or(9092)
    }

    /// `zookeeper.connect` as (host, port) pairs (the chroot, if any, is not modelled).
    pub fn zookeeper_servers(&self) -> Vec<(String, u16)> {
        zookeeper::connect_string::parse_connect_string(&self.zookeeper_connect, 2181)
            .map(|(s, _)| s)
            .unwrap_or_default()
    }

    /// `advertised.host.name`, else `host.name` when set.
    pub fn advertised_host(&self) -> Option<String> {
        self.advertised_host_name
            .clone()
            .or_else(|| (!self.host_name.is_empty()).then(|| self.host_name.clone()))
    }

    /// `replica.fetch.backoff.ms` (0.9 default; not configurable in the lab yet).
    pub fn replica_fetch_backoff_ms(&self) -> i32 {
        1000
    }
}

/// The stock Kafka 0.9.0.1 `config/server.properties` with the course's edits applied:
/// `broker.id=N`, `port=9092` (uncommented) and the three-host `zookeeper.connect`.
pub fn seed_server_properties(broker_id: u32) -> String {
    SERVER_PROPERTIES
        .replace("broker.id=0\n", &format!("broker.id={broker_id}\n"))
        .replace("#port=9092\n", "port=9092\n")
        .replace(
            "zookeeper.connect=localhost:2181\n",
            "zookeeper.connect=master:2181,slave1:2181,slave2:2181\n",
        )
}

const SERVER_PROPERTIES: &str = r#"# Licensed to the Apache Software Foundation (ASF) under one or more
# contributor license agreements.  See the NOTICE file distributed with
# this work for additional information regarding copyright ownership.
# The ASF licenses this file to You under the Apache License, Version 2.0
# (the "License"); you may not use this file except in compliance with
# the License.  You may obtain a copy of the License at
#
#    http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
# see kafka.server.KafkaConfig for additional details and defaults

############################# Server Basics #############################

# The id of the broker. This must be set to a unique integer for each broker.
broker.id=0

############################# Socket Server Settings #############################

listeners=PLAINTEXT://:9092

# The port the socket server listens on
#port=9092

# Hostname the broker will bind to. If not set, the server will bind to all interfaces
#host.name=localhost

# Hostname the broker will advertise to producers and consumers. If not set, it uses the
# value for "host.name" if configured.  Otherwise, it will use the value returned from
# java.net.InetAddress.getCanonicalHostName().
#advertised.host.name=<hostname routable by clients>

# The port to publish to ZooKeeper for clients to use. If this is not set,
# it will publish the same port that the broker binds to.
#advertised.port=<port accessible by clients>

# The number of threads handling network requests
num.network.threads=3

# The number of threads doing disk I/O
num.io.threads=8

# The send buffer (SO_SNDBUF) used by the socket server
socket.send.buffer.bytes=102400

# The receive buffer (SO_RCVBUF) used by the socket server
socket.receive.buffer.bytes=102400

# The maximum size of a request that the socket server will accept (protection against OOM)
socket.request.max.bytes=104857600


############################# Log Basics #############################

# A comma seperated list of directories under which to store log files
log.dirs=/tmp/kafka-logs

# The default number of log partitions per topic. More partitions allow greater
# parallelism for consumption, but this will also result in more files across
# the brokers.
num.partitions=1

# The number of threads per data directory to be used for log recovery at startup and flushing at shutdown.
# This value is recommended to be increased for installations with data dirs located in RAID array.
num.recovery.threads.per.data.dir=1

############################# Log Flush Policy #############################

# Messages are immediately written to the filesystem but by default we only fsync() to sync
# the OS cache lazily. The following configurations control the flush of data to disk.
# There are a few important trade-offs here:
#    1. Durability: Unflushed data may be lost if you are not using replication.
#    2. Latency: Very large flush intervals may lead to latency spikes when the flush does occur as there will be a lot of data to flush.
#    3. Throughput: The flush is generally the most expensive operation, and a small flush interval may lead to exceessive seeks.
# The settings below allow one to configure the flush policy to flush data after a period of time or
# every N messages (or both). This can be done globally and overridden on a per-topic basis.

# The number of messages to accept before forcing a flush of data to disk
#log.flush.interval.messages=10000

# The maximum amount of time a message can sit in a log before we force a flush
#log.flush.interval.ms=1000

############################# Log Retention Policy #############################

# The following configurations control the disposal of log segments. The policy can
# be set to delete segments after a period of time, or after a given size has accumulated.
# A segment will be deleted whenever *either* of these criteria are met. Deletion always happens
# from the end of the log.

# The minimum age of a log file to be eligible for deletion
log.retention.hours=168

# A size-based retention policy for logs. Segments are pruned from the log as long as the remaining
# segments don't drop below log.retention.bytes.
#log.retention.bytes=1073741824

# The maximum size of a log segment file. When this size is reached a new log segment will be created.
log.segment.bytes=1073741824

# The interval at which log segments are checked to see if they can be deleted according
# to the retention policies
log.retention.check.interval.ms=300000

# By default the log cleaner is disabled and the log retention policy will default to just delete segments after their retention expires.
# If log.cleaner.enable=true is set the cleaner will be enabled and individual logs can then be marked for log compaction.
log.cleaner.enable=false

############################# Zookeeper #############################

# Zookeeper connection string (see zookeeper docs for details).
# This is a comma separated host:port pairs, each corresponding to a zk
# server. e.g. "127.0.0.1:3000,127.0.0.1:3001,127.0.0.1:3002".
# You can also append an optional chroot string to the urls to specify the
# root directory for all kafka znodes.
zookeeper.connect=localhost:2181

# Timeout in ms for connecting to zookeeper
zookeeper.connection.timeout.ms=6000
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ZK: &str = "zookeeper.connect=z:2181\nbroker.id=0\n";

    fn err(text: &str) -> String {
        KafkaConfig::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn seed_file_parses() {
        for id in 0..3u32 {
            let c = KafkaConfig::parse(&seed_server_properties(id)).unwrap();
            assert_eq!(c.broker_id, id as i32);
            assert_eq!(c.port, 9092);
            assert_eq!(c.bind_port(), 9092);
            assert_eq!(c.zookeeper_connect, "master:2181,slave1:2181,slave2:2181");
            assert_eq!(c.zookeeper_connection_timeout_ms, 6000);
            assert_eq!(c.log_dirs, vec!["/tmp/kafka-logs".to_string()]);
            assert_eq!(c.num_partitions, 1);
            assert_eq!(c.log_retention_ms, 168 * 3_600_000);
            assert_eq!(c.log_segment_bytes, 1_073_741_824);
            assert!(!c.log_cleaner_enable);
            assert!(c.unclean_leader_election_enable);
            assert!(!c.delete_topic_enable);
            assert_eq!(c.log_flush_interval_messages, i64::MAX);
            assert!(c.unknown.is_empty(), "{:?}", c.unknown);
        }
        let s = seed_server_properties(2);
        assert!(s.contains("\nbroker.id=2\n") && s.contains("\nport=9092\n"));
        assert!(s.contains("#advertised.host.name=<hostname routable by clients>"));
    }

    #[test]
    fn error_texts() {
        assert_eq!(
            err("broker.id=0\n"),
            "Missing required configuration \"zookeeper.connect\" which has no default value."
        );
        assert_eq!(
            err(&format!("{ZK}port=abc\n")),
            "Invalid value abc for configuration port: Not a number of type INT"
        );
        assert_eq!(
            err(&format!("{ZK}log.retention.bytes=1x\n")),
            "Invalid value 1x for configuration log.retention.bytes: Not a number of type LONG"
        );
        assert_eq!(
            err(&format!("{ZK}delete.topic.enable=yes\n")),
            "Invalid value yes for configuration delete.topic.enable: Expected value to be either true or false"
        );
        assert_eq!(
            err(&format!("{ZK}num.partitions=0\n")),
            "Invalid value 0 for configuration num.partitions: Value must be at least 1"
        );
        assert_eq!(err(&format!("{ZK}port=70000\n")), "port out of range:70000");
        assert_eq!(err("zookeeper.connect=z:2181\n"), ConfigError::BrokerIdNotSet.to_string());
        assert!(err("zookeeper.connect=z\nbroker.id=5000\n")
            .starts_with("requirement failed: broker.id"));
    }

    #[test]
    fn unknown_keys_warned() {
        let c = KafkaConfig::parse(&format!("{ZK}brokerid=3\n")).unwrap();
        assert_eq!(c.unknown.get("brokerid").map(String::as_str), Some("3"));
        assert_eq!(c.warnings(), vec!["Property brokerid is not valid".to_string()]);
    }

    #[test]
    fn lab_fetch_keys() {
        let c = KafkaConfig::parse(ZK).unwrap();
        assert_eq!(c.lab_fetch_send_path, sim_core::hw::SendPath::Sendfile);
        assert!(!c.lab_fetch_tls && !c.lab_fetch_down_convert);
        let c = KafkaConfig::parse(&format!(
            "{ZK}lab.fetch.send.path=readwrite\nlab.fetch.tls=true\nlab.fetch.down.convert=true\n"
        ))
        .unwrap();
        assert_eq!(c.lab_fetch_send_path, sim_core::hw::SendPath::ReadWrite);
        assert!(c.lab_fetch_tls && c.lab_fetch_down_convert);
        // Lab keys are not warned about as unknown Kafka keys.
        assert!(c.warnings().is_empty(), "{:?}", c.warnings());
        let c = KafkaConfig::parse(&format!("{ZK}listeners=SSL://:9093\n")).unwrap();
        assert!(c.lab_fetch_tls);
        let c = KafkaConfig::parse(&format!("{ZK}security.inter.broker.protocol=SSL\n")).unwrap();
        assert_eq!(c.security_inter_broker_protocol, "SSL");
        assert!(c.warnings().is_empty());
        let e = KafkaConfig::parse(&format!("{ZK}lab.fetch.send.path=mmap\n")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid value mmap for configuration lab.fetch.send.path: Expected sendfile or readwrite (a lab-only key)"
        );
    }

    #[test]
    fn retention_precedence() {
        let c = KafkaConfig::parse(&format!("{ZK}log.retention.hours=1\n")).unwrap();
        assert_eq!(c.log_retention_ms, 3_600_000);
        let c =
            KafkaConfig::parse(&format!("{ZK}log.retention.hours=1\nlog.retention.minutes=2\n"))
                .unwrap();
        assert_eq!(c.log_retention_ms, 120_000);
        let c = KafkaConfig::parse(&format!(
            "{ZK}log.retention.hours=1\nlog.retention.minutes=2\nlog.retention.ms=5\n"
        ))
        .unwrap();
        assert_eq!(c.log_retention_ms, 5);
        let c = KafkaConfig::parse(&format!("{ZK}log.retention.ms=-7\n")).unwrap();
        assert_eq!(c.log_retention_ms, -1);
    }

    #[test]
    fn properties_syntax() {
        let m = parse_properties(
            "# c\n! c\n  a = 1 \nb: 2\nc 3\nlong=x,\\\n    y\nlog.dirs=/a, /b ,\r\nk\\=q=v\nempty\n",
        );
        assert_eq!(m["a"], "1 ");
        assert_eq!(m["b"], "2");
        assert_eq!(m["c"], "3");
        assert_eq!(m["long"], "x,y");
        assert_eq!(m["k=q"], "v");
        assert_eq!(m["empty"], "");
        assert_eq!(parse_csv_list(&m["log.dirs"]), vec!["/a", "/b"]);
        let c = KafkaConfig::parse(&format!("{ZK}log.dir=/x\n")).unwrap();
        assert_eq!(c.log_dirs, vec!["/x"]);
        let c = KafkaConfig::parse(&format!(
            "{ZK}log.dir=/x\nlog.dirs=/y,/z\nzookeeper.session.timeout.ms=9000\n"
        ))
        .unwrap();
        assert_eq!(c.log_dirs, vec!["/y", "/z"]);
        assert_eq!(c.zookeeper_connection_timeout_ms, 9000);
    }

    proptest! {
        #[test]
        fn never_panics(text in "(?s).{0,300}") {
            let _ = parse_properties(&text);
            let _ = KafkaConfig::parse(&text);
        }

        #[test]
        fn never_panics_structured(k in "[a-z.]{1,30}", v in "[ -~]{0,20}") {
            let _ = KafkaConfig::parse(&format!("{ZK}{k}={v}\n"));
            let _ = KafkaConfig::parse(&format!("{ZK}port={v}\nlog.retention.ms={v}\n"));
        }
    }
}
