//! zoo.cfg and myid parsing, mirroring ZooKeeper 3.4.6's `QuorumPeerConfig`.
//!
//! A learner edits `conf/zoo.cfg` and `dataDir/myid` on each simulated host; `zkServer.sh start`
//! hands both to [`QuorumPeerConfig::parse_with_myid`]. Parsing follows the real server in two
//! steps:
//!
//! 1. [`java.util.Properties.load`](https://docs.oracle.com/javase/8/docs/api/java/util/Properties.html#load-java.io.Reader-)
//!    semantics: `key=value`, `key: value` or `key value`; lines whose first non-blank character
//!    is `#` or `!` are comments; a line ending in an odd number of backslashes continues on the
//!    next line; `\t`, `\n`, `\r`, `\f`, `\uXXXX` and `\<char>` escapes; for a key given twice the
//!    last one wins.
//! 2. `QuorumPeerConfig.parseProperties`: keys and values are trimmed (Java `String.trim`, which
//!    drops every character `<= ' '`), numbers are parsed like `Integer.parseInt`, and the same
//!    checks run in the same order with the same messages (`dataDir is not set`,
//!    `clientPort is not set`, `initLimit is not set`, ...).
//!
//! Where the real 3.4.6 is silent or fails with an obscure message the simulator is stricter and
//! clearer, and says so in the message: duplicate `server.N` ids, negative numbers, a `myid` that
//! matches no `server.N` line, a missing election port. Every error that comes from one line
//! carries that line's number (1-based; the first line of a continued logical line).

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// `ZooKeeperServer.DEFAULT_TICK_TIME`: the tick used when zoo.cfg has no `tickTime` line.
pub const DEFAULT_TICK_TIME: u32 = 3000;
/// Default `maxClientCnxns` (per client IP) in 3.4.6.
pub const DEFAULT_MAX_CLIENT_CNXNS: u32 = 60;
/// Default `electionAlg`: 3 is `FastLeaderElection`.
pub const DEFAULT_ELECTION_ALG: u32 = 3;
/// `PurgeTxnLog.MIN_SNAP_RETAIN_COUNT`: the smallest `autopurge.snapRetainCount` honoured.
pub const MIN_SNAP_RETAIN_COUNT: u32 = 3;
/// Default `snapCount` (`zookeeper.snapCount` system property in `SyncRequestProcessor`).
pub const DEFAULT_SNAP_COUNT: u32 = 100_000;

/// Why a zoo.cfg or myid file was rejected.
///
/// `Display` texts follow the real ZooKeeper messages where there is one; `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A value that must be a number is not (Java's `NumberFormatException`).
    #[error("line {line}: {key}: For input string: \"{input}\"")]
    BadNumber {
        /// Line of the offending entry.
        line: usize,
        /// The zoo.cfg key, e.g. `tickTime` or `server.2`.
        key: String,
        /// The text that is not a number.
        input: String,
    },
    /// A number that the simulator requires to be non-negative is negative (real ZooKeeper
    /// accepts it and misbehaves later).
    #[error("line {line}: {key} must not be negative, got {value}")]
    Negative {
        /// Line of the offending entry.
        line: usize,
        /// The zoo.cfg key.
        key: String,
        /// The parsed value.
        value: i64,
    },
    /// `server.X` where `X` is not a number.
    #[error("line {line}: {key}: the server id after \"server.\" must be a number: For input string: \"{id}\"")]
    BadServerId {
        /// Line of the offending entry.
        line: usize,
        /// The whole key, e.g. `server.one`.
        key: String,
        /// The part after `server.`.
        id: String,
    },
    /// A `server.N` value not shaped like `host:port:port[:type]`.
    #[error("line {line}: {value} does not have the form host:port or host:port:port  or host:port:port:type")]
    BadServerAddress {
        /// Line of the offending entry.
        line: usize,
        /// The value as written (trimmed).
        value: String,
    },
    /// A port outside 0..=65535 (Java's `InetSocketAddress` message).
    #[error("line {line}: {key}: port out of range:{port}")]
    PortOutOfRange {
        /// Line of the offending entry.
        line: usize,
        /// The zoo.cfg key.
        key: String,
        /// The parsed port.
        port: i64,
    },
    /// The fourth part of a server line (or `peerType`) is neither `participant` nor `observer`.
    #[error("line {line}: Unrecognised peertype: {value}")]
    BadPeerType {
        /// Line of the offending entry.
        line: usize,
        /// The value as written.
        value: String,
    },
    /// Two `server.N` lines share an id. Real 3.4.6 silently keeps the last one.
    #[error("line {line}: duplicate server id {id}: server.{id} is already defined on line {first_line}")]
    DuplicateServerId {
        /// Line of the second definition.
        line: usize,
        /// The shared id.
        id: u64,
        /// Line of the first definition.
        first_line: usize,
    },
    /// A `\u` escape not followed by four hex digits (`Properties.load`).
    #[error("line {line}: Malformed \\uxxxx encoding.")]
    MalformedUnicodeEscape {
        /// Line of the offending entry.
        line: usize,
    },
    /// No `dataDir` line.
    #[error("dataDir is not set")]
    DataDirNotSet,
    /// No `clientPort` line, or `clientPort=0`.
    #[error("clientPort is not set")]
    ClientPortNotSet,
    /// `tickTime=0`.
    #[error("tickTime is not set")]
    TickTimeNotSet,
    /// `minSessionTimeout` > `maxSessionTimeout`, compared as written (`-1` when absent), as
    /// 3.4.6 does: `minSessionTimeout=5000` without `maxSessionTimeout` is therefore rejected.
    #[error("minSessionTimeout must not be larger than maxSessionTimeout")]
    MinSessionTimeoutLargerThanMax,
    /// Observers but no participants.
    #[error("Observers w/o participants is an invalid configuration")]
    ObserversWithoutParticipants,
    /// Observers and a single participant.
    #[error("Observers w/o quorum is an invalid configuration")]
    ObserversWithoutQuorum,
    /// Replicated mode without `initLimit`.
    #[error("initLimit is not set")]
    InitLimitNotSet,
    /// Replicated mode without `syncLimit`.
    #[error("syncLimit is not set")]
    SyncLimitNotSet,
    /// A server line without an election port. Real 3.4.6 only requires it when `electionAlg`
    /// is not 0; the simulator only implements FastLeaderElection and always requires it.
    #[error("Missing election port for server: {id}")]
    MissingElectionPort {
        /// The server id.
        id: u64,
    },
    /// Replicated mode and no myid file.
    #[error("{path} file is missing")]
    MyidMissing {
        /// Full path of the expected myid file.
        path: String,
    },
    /// The myid file does not hold a number.
    #[error("serverid {text} is not a number")]
    MyidNotANumber {
        /// The (trimmed) file content.
        text: String,
    },
    /// The myid names a server id with no `server.N` line.
    #[error("myid {id} in {path} matches no server.N line (servers: {servers})")]
    MyidMatchesNoServer {
        /// The id read from myid.
        id: u64,
        /// Full path of the myid file.
        path: String,
        /// The configured ids, comma separated.
        servers: String,
    },
}

/// One `server.N=host:quorumPort:electionPort[:type]` line (`QuorumPeer.QuorumServer`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumServer {
    /// The `N` of `server.N`; the myid of that host.
    pub id: u64,
    /// Host name as written (e.g. `slave1`).
    pub host: String,
    /// Port followers connect to the leader on (2888 in the course).
    pub quorum_port: u16,
    /// Port for leader election (3888 in the course).
    pub election_port: u16,
    /// `true` for `:observer` (non-voting), `false` for `:participant` or no type.
    pub observer: bool,
}

/// A parsed zoo.cfg (`QuorumPeerConfig`).
///
/// Fields keep the values as written; use the methods for derived values (session timeout
/// bounds, quorum size).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumPeerConfig {
    /// `tickTime` in ms (default [`DEFAULT_TICK_TIME`]).
    pub tick_time: u32,
    /// `initLimit` in ticks (0 = not set; required in replicated mode).
    pub init_limit: u32,
    /// `syncLimit` in ticks (0 = not set; required in replicated mode).
    pub sync_limit: u32,
    /// `dataDir`: snapshots and myid.
    pub data_dir: String,
    /// `dataLogDir`: transaction logs; `dataDir` when absent. (Real ZooKeeper also checks that
    /// the directory exists; that is the caller's job, it owns the file system.)
    pub data_log_dir: String,
    /// `clientPort` (required).
    pub client_port: u16,
    /// `clientPortAddress`, if set; otherwise the server binds all addresses.
    pub client_port_address: Option<String>,
    /// `maxClientCnxns` per client IP (default 60; 0 = unlimited).
    pub max_client_cnxns: u32,
    /// `minSessionTimeout` as written, `-1` when absent; see [`Self::min_session_timeout_ms`].
    pub min_session_timeout: i32,
    /// `maxSessionTimeout` as written, `-1` when absent; see [`Self::max_session_timeout_ms`].
    pub max_session_timeout: i32,
    /// `electionAlg` (default 3, FastLeaderElection).
    pub election_alg: u32,
    /// `autopurge.snapRetainCount` (default and minimum 3; smaller values are raised to 3).
    pub autopurge_snap_retain_count: u32,
    /// `autopurge.purgeInterval` in hours (default 0 = autopurge off).
    pub autopurge_purge_interval: u32,
    /// `snapCount`: transactions between snapshots (default 100000). In real ZooKeeper this is
    /// the system property `zookeeper.snapCount` (set through `SERVER_JVMFLAGS`); the simulator
    /// also accepts it as a zoo.cfg line, which real 3.4.6 would turn into exactly that property.
    pub snap_count: u32,
    /// Voting and observing servers by id. Empty in standalone mode; a single `server.N` line
    /// is ignored like in 3.4.6 ("Invalid configuration, only one server specified (ignoring)").
    pub servers: BTreeMap<u64, QuorumServer>,
    /// Keys the simulator does not model, trimmed (real ZooKeeper sets each as the system
    /// property `zookeeper.<key>`). Also holds known-but-unmodelled keys such as `peerType`,
    /// `syncEnabled`, `quorumListenOnAllIPs`, `group.N` and `weight.N`.
    pub unknown: BTreeMap<String, String>,
    /// What the real server would log at WARN/ERROR while parsing (e.g. an even server count).
    pub warnings: Vec<String>,
}

/// The seed course's zoo.cfg, installed on every host.
const SEED_ZOO_CFG: &str = "tickTime=2000
initLimit=10
syncLimit=5
dataDir=/usr/local/spark/zookeeper-3.4.6/data
dataLogDir=/usr/local/spark/zookeeper-3.4.6/logs
clientPort=2181
server.1=master:2888:3888
server.2=slave1:2888:3888
server.3=slave2:2888:3888
";

/// Parse a myid file: surrounding whitespace is ignored, the rest must be a server id.
///
/// Real 3.4.6 reads the first line and calls `Long.parseLong` on it; the message is the same.
pub fn parse_myid(text: &str) -> Result<u64, ConfigError> {
    let t = text.trim();
    let digits = t.strip_prefix('+').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConfigError::MyidNotANumber { text: t.to_string() });
    }
    digits.parse::<u64>().map_err(|_| ConfigError::MyidNotANumber { text: t.to_string() })
}

/// Java `String.trim`: drops leading and trailing characters `<= ' '`.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// `Integer.parseInt` / `Long.parseLong` syntax: optional sign, ASCII digits, `i64` range.
fn java_parse_long(s: &str) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut v: i64 = 0;
    for b in digits.bytes() {
        let d = i64::from(b - b'0');
        v = v.checked_mul(10)?;
        v = if neg { v.checked_sub(d)? } else { v.checked_add(d)? };
    }
    Some(v)
}

/// `Integer.parseInt`, with the line and key for the error.
fn parse_int(line: usize, key: &str, s: &str) -> Result<i32, ConfigError> {
    java_parse_long(s).and_then(|v| i32::try_from(v).ok()).ok_or_else(|| ConfigError::BadNumber {
        line,
        key: key.to_string(),
        input: s.to_string(),
    })
}

/// `Integer.parseInt` then a non-negativity check.
fn parse_uint(line: usize, key: &str, s: &str) -> Result<u32, ConfigError> {
    let v = parse_int(line, key, s)?;
    u32::try_from(v).map_err(|_| ConfigError::Negative {
        line,
        key: key.to_string(),
        value: v.into(),
    })
}

/// `Integer.parseInt` then the `InetSocketAddress` port range check.
fn parse_port(line: usize, key: &str, s: &str) -> Result<u16, ConfigError> {
    let v = parse_int(line, key, s)?;
    u16::try_from(v).map_err(|_| ConfigError::PortOutOfRange {
        line,
        key: key.to_string(),
        port: v.into(),
    })
}

/// A session timeout: any int, but negative values other than the `-1` default are refused.
fn parse_timeout(line: usize, key: &str, s: &str) -> Result<i32, ConfigError> {
    let v = parse_int(line, key, s)?;
    if v < -1 {
        return Err(ConfigError::Negative { line, key: key.to_string(), value: v.into() });
    }
    Ok(v)
}

/// One `key=value` entry of a Properties file, unescaped and trimmed.
struct Entry {
    line: usize,
    key: String,
    value: String,
}

fn is_prop_ws(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\x0c'
}

/// Count of trailing backslashes.
fn trailing_backslashes(s: &str) -> usize {
    s.chars().rev().take_while(|&c| c == '\\').count()
}

/// Split text into natural lines (`\n`, `\r` or `\r\n`).
fn natural_lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find(['\n', '\r']) {
            Some(i) => {
                out.push(&rest[..i]);
                let after = &rest[i..];
                rest = after.strip_prefix("\r\n").or_else(|| after.get(1..)).unwrap_or("");
            }
            None => {
                out.push(rest);
                rest = "";
            }
        }
    }
    out
}

/// `Properties.loadConvert`: resolve backslash escapes.
fn unescape(line: usize, chars: &[char]) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(chars.len());
    let mut it = chars.iter().copied();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            None => {}
            Some('u') => {
                let mut v: u32 = 0;
                for _ in 0..4 {
                    let d = it
                        .next()
                        .and_then(|h| h.to_digit(16))
                        .ok_or(ConfigError::MalformedUnicodeEscape { line })?;
                    v = v * 16 + d;
                }
                // Lone surrogates cannot be a Rust char; keep the replacement character.
                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
            }
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some('f') => out.push('\x0c'),
            Some(other) => out.push(other),
        }
    }
    Ok(out)
}

/// `Properties.load`: every logical line as an entry, in file order (duplicates kept).
fn load_properties(text: &str) -> Result<Vec<Entry>, ConfigError> {
    let lines = natural_lines(text);
    let mut entries = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let start_line = i + 1;
        let first = lines.get(i).copied().unwrap_or("").trim_start_matches(is_prop_ws);
        i += 1;
        if first.is_empty() || first.starts_with('#') || first.starts_with('!') {
            continue;
        }
        let mut logical = String::from(first);
        while trailing_backslashes(&logical) % 2 == 1 {
            logical.pop();
            match lines.get(i) {
                Some(next) => {
                    logical.push_str(next.trim_start_matches(is_prop_ws));
                    i += 1;
                }
                None => break,
            }
        }
        let chars: Vec<char> = logical.chars().collect();
        let mut key_len = 0;
        let mut value_start = chars.len();
        let mut has_sep = false;
        let mut preceding_backslash = false;
        while key_len < chars.len() {
            let c = chars.get(key_len).copied().unwrap_or(' ');
            if (c == '=' || c == ':') && !preceding_backslash {
                value_start = key_len + 1;
                has_sep = true;
                break;
            } else if is_prop_ws(c) && !preceding_backslash {
                value_start = key_len + 1;
                break;
            }
            preceding_backslash = c == '\\' && !preceding_backslash;
            key_len += 1;
        }
        while value_start < chars.len() {
            let c = chars.get(value_start).copied().unwrap_or(' ');
            if !is_prop_ws(c) {
                if !has_sep && (c == '=' || c == ':') {
                    has_sep = true;
                } else {
                    break;
                }
            }
            value_start += 1;
        }
        let key = unescape(start_line, chars.get(..key_len).unwrap_or(&[]))?;
        let value = unescape(start_line, chars.get(value_start..).unwrap_or(&[]))?;
        entries.push(Entry {
            line: start_line,
            key: java_trim(&key).to_string(),
            value: java_trim(&value).to_string(),
        });
    }
    Ok(entries)
}

/// Escape a key or value for a Properties file (as `Properties.store` does).
fn escape_prop(s: &str, is_key: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\x0c' => out.push_str("\\f"),
            ' ' | '=' | ':' | '#' | '!' if is_key => {
                out.push('\\');
                out.push(c);
            }
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

impl QuorumPeerConfig {
    /// The seed course's zoo.cfg, byte for byte (three servers master, slave1, slave2).
    pub fn seed_default() -> &'static str {
        SEED_ZOO_CFG
    }

    /// Parse zoo.cfg text like `QuorumPeerConfig.parse` (without reading myid).
    pub fn parse(text: &str) -> Result<QuorumPeerConfig, ConfigError> {
        let entries = load_properties(text)?;

        // Properties semantics: for a repeated key the last line wins. `server.*` lines are kept
        // apart so that repeated ids can be reported instead of silently dropped.
        let mut last: BTreeMap<&str, usize> = BTreeMap::new();
        for (idx, e) in entries.iter().enumerate() {
            if !e.key.starts_with("server.") {
                last.insert(e.key.as_str(), idx);
            }
        }

        let mut cfg = QuorumPeerConfig {
            tick_time: DEFAULT_TICK_TIME,
            init_limit: 0,
            sync_limit: 0,
            data_dir: String::new(),
            data_log_dir: String::new(),
            client_port: 0,
            client_port_address: None,
            max_client_cnxns: DEFAULT_MAX_CLIENT_CNXNS,
            min_session_timeout: -1,
            max_session_timeout: -1,
            election_alg: DEFAULT_ELECTION_ALG,
            autopurge_snap_retain_count: MIN_SNAP_RETAIN_COUNT,
            autopurge_purge_interval: 0,
            snap_count: DEFAULT_SNAP_COUNT,
            servers: BTreeMap::new(),
            unknown: BTreeMap::new(),
            warnings: Vec::new(),
        };
        let mut data_dir: Option<String> = None;
        let mut data_log_dir: Option<String> = None;
        let mut server_lines: BTreeMap<u64, usize> = BTreeMap::new();
        let mut missing_election: Vec<u64> = Vec::new();

        for (idx, e) in entries.iter().enumerate() {
            let (line, key, value) = (e.line, e.key.as_str(), e.value.as_str());
            if !key.starts_with("server.") && last.get(key) != Some(&idx) {
                continue;
            }
            match key {
                "dataDir" => data_dir = Some(value.to_string()),
                "dataLogDir" => data_log_dir = Some(value.to_string()),
                "clientPort" => cfg.client_port = parse_port(line, key, value)?,
                "clientPortAddress" => cfg.client_port_address = Some(value.to_string()),
                "tickTime" => cfg.tick_time = parse_uint(line, key, value)?,
                "maxClientCnxns" => cfg.max_client_cnxns = parse_uint(line, key, value)?,
                "minSessionTimeout" => cfg.min_session_timeout = parse_timeout(line, key, value)?,
                "maxSessionTimeout" => cfg.max_session_timeout = parse_timeout(line, key, value)?,
                "initLimit" => cfg.init_limit = parse_uint(line, key, value)?,
                "syncLimit" => cfg.sync_limit = parse_uint(line, key, value)?,
                "electionAlg" => cfg.election_alg = parse_uint(line, key, value)?,
                "autopurge.snapRetainCount" => {
                    cfg.autopurge_snap_retain_count = parse_uint(line, key, value)?
                }
                "autopurge.purgeInterval" => {
                    cfg.autopurge_purge_interval = parse_uint(line, key, value)?
                }
                "snapCount" => cfg.snap_count = parse_uint(line, key, value)?,
                _ if key.starts_with("server.") => {
                    let id_text = key.get("server.".len()..).unwrap_or("");
                    let id = java_parse_long(id_text)
                        .and_then(|v| u64::try_from(v).ok())
                        .ok_or_else(|| ConfigError::BadServerId {
                            line,
                            key: key.to_string(),
                            id: id_text.to_string(),
                        })?;
                    if let Some(&first_line) = server_lines.get(&id) {
                        return Err(ConfigError::DuplicateServerId { line, id, first_line });
                    }
                    server_lines.insert(id, line);
                    let (server, has_election) = parse_server(line, key, id, value)?;
                    if !has_election {
                        missing_election.push(id);
                    }
                    cfg.servers.insert(id, server);
                }
                _ => {
                    cfg.unknown.insert(key.to_string(), value.to_string());
                }
            }
        }

        if cfg.autopurge_snap_retain_count < MIN_SNAP_RETAIN_COUNT {
            cfg.warnings.push(format!(
                "Invalid autopurge.snapRetainCount: {}. Defaulting to {}",
                cfg.autopurge_snap_retain_count, MIN_SNAP_RETAIN_COUNT
            ));
            cfg.autopurge_snap_retain_count = MIN_SNAP_RETAIN_COUNT;
        }
        cfg.data_dir = data_dir.ok_or(ConfigError::DataDirNotSet)?;
        cfg.data_log_dir = data_log_dir.unwrap_or_else(|| cfg.data_dir.clone());
        if cfg.client_port == 0 {
            return Err(ConfigError::ClientPortNotSet);
        }
        if cfg.tick_time == 0 {
            return Err(ConfigError::TickTimeNotSet);
        }
        if cfg.min_session_timeout > cfg.max_session_timeout {
            return Err(ConfigError::MinSessionTimeoutLargerThanMax);
        }

        let participants = cfg.servers.values().filter(|s| !s.observer).count();
        let observers = cfg.servers.len() - participants;
        match participants {
            0 => {
                if observers > 0 {
                    return Err(ConfigError::ObserversWithoutParticipants);
                }
            }
            1 => {
                if observers > 0 {
                    return Err(ConfigError::ObserversWithoutQuorum);
                }
                cfg.warnings.push(
                    "Invalid configuration, only one server specified (ignoring)".to_string(),
                );
                cfg.servers.clear();
            }
            n => {
                if n == 2 {
                    cfg.warnings.push(
                        "No server failure will be tolerated. You need at least 3 servers."
                            .to_string(),
                    );
                } else if n % 2 == 0 {
                    cfg.warnings.push(
                        "Non-optimial configuration, consider an odd number of servers."
                            .to_string(),
                    );
                }
                if cfg.init_limit == 0 {
                    return Err(ConfigError::InitLimitNotSet);
                }
                if cfg.sync_limit == 0 {
                    return Err(ConfigError::SyncLimitNotSet);
                }
                if let Some(&id) = missing_election.first() {
                    return Err(ConfigError::MissingElectionPort { id });
                }
            }
        }
        Ok(cfg)
    }

    /// Parse zoo.cfg and the myid file as `zkServer.sh start` does.
    ///
    /// `myid_text` is the myid file's content (`None` if the file does not exist) and
    /// `myid_path` its full path, e.g. `/usr/local/spark/zookeeper-3.4.6/data/myid`, used in
    /// messages. Returns the config and the server id.
    ///
    /// In replicated mode (two or more `server.N` lines) the myid file is required and must
    /// name one of the servers. Real 3.4.6 accepts a myid that matches no server line and then
    /// fails later, obscurely, in `QuorumPeer`; the simulator rejects it here with a message that
    /// lists the configured ids. In standalone mode myid is not read by ZooKeeper: the id is
    /// returned if the file holds a number, and `None` otherwise.
    pub fn parse_with_myid(
        cfg_text: &str,
        myid_text: Option<&str>,
        myid_path: &str,
    ) -> Result<(QuorumPeerConfig, Option<u64>), ConfigError> {
        let cfg = Self::parse(cfg_text)?;
        if cfg.is_standalone() {
            let id = myid_text.and_then(|t| parse_myid(t).ok());
            return Ok((cfg, id));
        }
        let text =
            myid_text.ok_or_else(|| ConfigError::MyidMissing { path: myid_path.to_string() })?;
        let id = parse_myid(text)?;
        if !cfg.servers.contains_key(&id) {
            let servers = cfg.servers.keys().map(u64::to_string).collect::<Vec<_>>().join(", ");
            return Err(ConfigError::MyidMatchesNoServer {
                id,
                path: myid_path.to_string(),
                servers,
            });
        }
        Ok((cfg, Some(id)))
    }

    /// Smallest session timeout granted, in ms: `minSessionTimeout`, or 2 × `tickTime`.
    pub fn min_session_timeout_ms(&self) -> u64 {
        match u64::try_from(self.min_session_timeout) {
            Ok(v) => v,
            Err(_) => u64::from(self.tick_time) * 2,
        }
    }

    /// Largest session timeout granted, in ms: `maxSessionTimeout`, or 20 × `tickTime`.
    pub fn max_session_timeout_ms(&self) -> u64 {
        match u64::try_from(self.max_session_timeout) {
            Ok(v) => v,
            Err(_) => u64::from(self.tick_time) * 20,
        }
    }

    /// `true` when there is no ensemble (no `server.N` lines, or a single one, which 3.4.6
    /// ignores).
    pub fn is_standalone(&self) -> bool {
        self.servers.is_empty()
    }

    /// Number of voting members (participants, not observers).
    pub fn voting_members(&self) -> usize {
        self.servers.values().filter(|s| !s.observer).count()
    }

    /// Votes needed for a majority: voting members / 2 + 1 (1 in standalone mode).
    pub fn quorum_size(&self) -> usize {
        self.voting_members() / 2 + 1
    }

    /// Render as zoo.cfg text that [`Self::parse`] reads back to an equal config (apart from
    /// `warnings`). Defaults are written out explicitly, except `clientPortAddress` and session
    /// timeouts when absent.
    pub fn to_zoo_cfg_string(&self) -> String {
        let mut out = String::new();
        let v = |s: &str| escape_prop(s, false);
        let _ = writeln!(out, "tickTime={}", self.tick_time);
        let _ = writeln!(out, "initLimit={}", self.init_limit);
        let _ = writeln!(out, "syncLimit={}", self.sync_limit);
        let _ = writeln!(out, "dataDir={}", v(&self.data_dir));
        let _ = writeln!(out, "dataLogDir={}", v(&self.data_log_dir));
        let _ = writeln!(out, "clientPort={}", self.client_port);
        if let Some(addr) = &self.client_port_address {
            let _ = writeln!(out, "clientPortAddress={}", v(addr));
        }
        let _ = writeln!(out, "maxClientCnxns={}", self.max_client_cnxns);
        if self.min_session_timeout != -1 {
            let _ = writeln!(out, "minSessionTimeout={}", self.min_session_timeout);
        }
        if self.max_session_timeout != -1 {
            let _ = writeln!(out, "maxSessionTimeout={}", self.max_session_timeout);
        }
        let _ = writeln!(out, "electionAlg={}", self.election_alg);
        let _ = writeln!(out, "autopurge.snapRetainCount={}", self.autopurge_snap_retain_count);
        let _ = writeln!(out, "autopurge.purgeInterval={}", self.autopurge_purge_interval);
        let _ = writeln!(out, "snapCount={}", self.snap_count);
        for s in self.servers.values() {
            let _ =
                write!(out, "server.{}={}:{}:{}", s.id, v(&s.host), s.quorum_port, s.election_port);
            out.push_str(if s.observer { ":observer\n" } else { "\n" });
        }
        for (k, val) in &self.unknown {
            let _ = writeln!(out, "{}={}", escape_prop(k, true), v(val));
        }
        out
    }
}

/// Parse the value of a `server.N` line. Returns the server and whether it had an election port.
fn parse_server(
    line: usize,
    key: &str,
    id: u64,
    value: &str,
) -> Result<(QuorumServer, bool), ConfigError> {
    // 3.4.6 uses `value.split(":")`, which drops trailing empty parts.
    let mut parts: Vec<&str> = value.split(':').collect();
    while parts.last() == Some(&"") {
        parts.pop();
    }
    let bad = || ConfigError::BadServerAddress { line, value: value.to_string() };
    if !(2..=4).contains(&parts.len()) {
        return Err(bad());
    }
    let host = parts.first().copied().unwrap_or("");
    if host.is_empty() || host.contains(|c: char| c <= ' ') {
        return Err(bad());
    }
    let quorum_port = parse_port(line, key, parts.get(1).copied().unwrap_or(""))?;
    let election_port = match parts.get(2) {
        Some(p) => Some(parse_port(line, key, p)?),
        None => None,
    };
    let observer = match parts.get(3) {
        None => false,
        Some(t) if t.eq_ignore_ascii_case("observer") => true,
        Some(t) if t.eq_ignore_ascii_case("participant") => false,
        Some(_) => return Err(ConfigError::BadPeerType { line, value: value.to_string() }),
    };
    let server = QuorumServer {
        id,
        host: host.to_string(),
        quorum_port,
        election_port: election_port.unwrap_or(0),
        observer,
    };
    Ok((server, election_port.is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DATA_MYID: &str = "/usr/local/spark/zookeeper-3.4.6/data/myid";

    fn base() -> String {
        "tickTime=2000\ndataDir=/d\nclientPort=2181\n".to_string()
    }

    #[test]
    fn seed_default_parses() {
        let cfg = QuorumPeerConfig::parse(QuorumPeerConfig::seed_default()).unwrap();
        assert_eq!(cfg.servers.len(), 3);
        assert_eq!(cfg.quorum_size(), 2);
        assert_eq!(cfg.min_session_timeout_ms(), 4000);
        assert_eq!(cfg.max_session_timeout_ms(), 40000);
        assert_eq!(cfg.tick_time, 2000);
        assert_eq!(cfg.init_limit, 10);
        assert_eq!(cfg.sync_limit, 5);
        assert_eq!(cfg.client_port, 2181);
        assert_eq!(cfg.data_dir, "/usr/local/spark/zookeeper-3.4.6/data");
        assert_eq!(cfg.data_log_dir, "/usr/local/spark/zookeeper-3.4.6/logs");
        assert_eq!(cfg.max_client_cnxns, 60);
        assert_eq!(cfg.election_alg, 3);
        assert_eq!(cfg.snap_count, 100_000);
        assert!(!cfg.is_standalone());
        assert!(cfg.warnings.is_empty());
        let s2 = cfg.servers.get(&2).unwrap();
        assert_eq!(
            s2,
            &QuorumServer {
                id: 2,
                host: "slave1".into(),
                quorum_port: 2888,
                election_port: 3888,
                observer: false
            }
        );
        let (_, id) = QuorumPeerConfig::parse_with_myid(
            QuorumPeerConfig::seed_default(),
            Some("3\n"),
            DATA_MYID,
        )
        .unwrap();
        assert_eq!(id, Some(3));
        assert!(QuorumPeerConfig::seed_default().starts_with("tickTime=2000\ninitLimit=10\n"));
    }

    #[test]
    fn properties_syntax() {
        let text = "# comment\n  ! also comment\n\ntickTime : 1000\ndataDir /var/zk\nclientPort=\\\n   2182\n\
                    foo.bar = x\\ty  \nclientPort=2183\nempty\n";
        let cfg = QuorumPeerConfig::parse(text).unwrap();
        assert_eq!(cfg.tick_time, 1000);
        assert_eq!(cfg.data_dir, "/var/zk");
        assert_eq!(cfg.data_log_dir, "/var/zk");
        assert_eq!(cfg.client_port, 2183, "last clientPort wins");
        assert_eq!(cfg.unknown.get("foo.bar").map(String::as_str), Some("x\ty"));
        assert_eq!(cfg.unknown.get("empty").map(String::as_str), Some(""));
        assert!(cfg.is_standalone());
        assert_eq!(cfg.quorum_size(), 1);
        assert_eq!(cfg.min_session_timeout_ms(), 2000);
        assert_eq!(cfg.max_session_timeout_ms(), 20000);
    }

    #[test]
    fn defaults_without_tick_time() {
        let cfg = QuorumPeerConfig::parse("dataDir=/d\nclientPort=2181\n").unwrap();
        assert_eq!(cfg.tick_time, 3000);
        assert_eq!(cfg.min_session_timeout_ms(), 6000);
    }

    #[test]
    fn error_bad_number() {
        let e = QuorumPeerConfig::parse("dataDir=/d\nclientPort=2181\ntickTime=abc\n").unwrap_err();
        assert_eq!(
            e,
            ConfigError::BadNumber { line: 3, key: "tickTime".into(), input: "abc".into() }
        );
        assert_eq!(e.to_string(), "line 3: tickTime: For input string: \"abc\"");
        let e = QuorumPeerConfig::parse("dataDir=/d\nclientPort=99999999999\n").unwrap_err();
        assert!(matches!(e, ConfigError::BadNumber { line: 2, .. }));
        let e = QuorumPeerConfig::parse("dataDir=/d\nclientPort=70000\n").unwrap_err();
        assert_eq!(e.to_string(), "line 2: clientPort: port out of range:70000");
        let e = QuorumPeerConfig::parse("dataDir=/d\nclientPort=2181\ninitLimit=-3\n").unwrap_err();
        assert!(matches!(e, ConfigError::Negative { line: 3, value: -3, .. }));
    }

    #[test]
    fn error_server_lines() {
        let cfg = base() + "initLimit=5\nsyncLimit=2\nserver.x=a:1:2\n";
        let e = QuorumPeerConfig::parse(&cfg).unwrap_err();
        assert_eq!(e, ConfigError::BadServerId { line: 6, key: "server.x".into(), id: "x".into() });

        let cfg = base() + "server.1=master\n";
        let e = QuorumPeerConfig::parse(&cfg).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 4: master does not have the form host:port or host:port:port  or host:port:port:type"
        );
        let cfg = base() + "server.1=a:1:2:3:4\n";
        assert!(matches!(QuorumPeerConfig::parse(&cfg), Err(ConfigError::BadServerAddress { .. })));
        let cfg = base() + "server.1=a:x:2\n";
        assert!(matches!(
            QuorumPeerConfig::parse(&cfg),
            Err(ConfigError::BadNumber { line: 4, .. })
        ));
        let cfg = base() + "server.1=a:1:2:boss\n";
        assert!(matches!(QuorumPeerConfig::parse(&cfg), Err(ConfigError::BadPeerType { .. })));

        let cfg =
            base() + "initLimit=5\nsyncLimit=2\nserver.1=a:1:2\nserver.2=b:1:2\nserver.01=c:1:2\n";
        let e = QuorumPeerConfig::parse(&cfg).unwrap_err();
        assert_eq!(e, ConfigError::DuplicateServerId { line: 8, id: 1, first_line: 6 });

        let cfg = base() + "initLimit=5\nsyncLimit=2\nserver.1=a:1\nserver.2=b:1:2\n";
        assert_eq!(
            QuorumPeerConfig::parse(&cfg).unwrap_err(),
            ConfigError::MissingElectionPort { id: 1 }
        );
    }

    #[test]
    fn error_missing_settings() {
        let servers = "server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n";
        let e = QuorumPeerConfig::parse(&(base() + "syncLimit=2\n" + servers)).unwrap_err();
        assert_eq!(e.to_string(), "initLimit is not set");
        let e = QuorumPeerConfig::parse(&(base() + "initLimit=2\n" + servers)).unwrap_err();
        assert_eq!(e.to_string(), "syncLimit is not set");
        let e = QuorumPeerConfig::parse("clientPort=2181\n").unwrap_err();
        assert_eq!(e.to_string(), "dataDir is not set");
        let e = QuorumPeerConfig::parse("dataDir=/d\n").unwrap_err();
        assert_eq!(e.to_string(), "clientPort is not set");
        let e = QuorumPeerConfig::parse("dataDir=/d\nclientPort=1\ntickTime=0\n").unwrap_err();
        assert_eq!(e.to_string(), "tickTime is not set");
        let e = QuorumPeerConfig::parse("dataDir=/d\nclientPort=1\nminSessionTimeout=5000\n")
            .unwrap_err();
        assert_eq!(e, ConfigError::MinSessionTimeoutLargerThanMax);
        let e = QuorumPeerConfig::parse(&(base() + "server.1=a:1:2:observer\n")).unwrap_err();
        assert_eq!(e, ConfigError::ObserversWithoutParticipants);
        let e = QuorumPeerConfig::parse("dataDir=/d\nclientPort=1\nfoo=\\u12x4\n").unwrap_err();
        assert_eq!(e, ConfigError::MalformedUnicodeEscape { line: 3 });
    }

    #[test]
    fn single_server_line_is_ignored_and_observers_count_out() {
        let cfg = QuorumPeerConfig::parse(&(base() + "server.1=a:1:2\n")).unwrap();
        assert!(cfg.is_standalone());
        assert_eq!(cfg.warnings.len(), 1);
        let text = base()
            + "initLimit=1\nsyncLimit=1\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2:observer\n";
        let cfg = QuorumPeerConfig::parse(&text).unwrap();
        assert_eq!(cfg.voting_members(), 2);
        assert_eq!(cfg.quorum_size(), 2);
        assert!(cfg.servers.get(&3).unwrap().observer);
    }

    #[test]
    fn myid_handling() {
        assert_eq!(parse_myid(" 2 \n"), Ok(2));
        let e = parse_myid("two\n").unwrap_err();
        assert_eq!(e.to_string(), "serverid two is not a number");
        let seed = QuorumPeerConfig::seed_default();
        let e = QuorumPeerConfig::parse_with_myid(seed, None, DATA_MYID).unwrap_err();
        assert_eq!(e.to_string(), "/usr/local/spark/zookeeper-3.4.6/data/myid file is missing");
        let e = QuorumPeerConfig::parse_with_myid(seed, Some("0\n"), DATA_MYID).unwrap_err();
        assert_eq!(
            e.to_string(),
            "myid 0 in /usr/local/spark/zookeeper-3.4.6/data/myid matches no server.N line (servers: 1, 2, 3)"
        );
        let e = QuorumPeerConfig::parse_with_myid(seed, Some("x"), DATA_MYID).unwrap_err();
        assert!(matches!(e, ConfigError::MyidNotANumber { .. }));
        let (_, id) = QuorumPeerConfig::parse_with_myid(&base(), None, DATA_MYID).unwrap();
        assert_eq!(id, None);
        let (_, id) = QuorumPeerConfig::parse_with_myid(&base(), Some("7"), DATA_MYID).unwrap();
        assert_eq!(id, Some(7));
    }

    #[test]
    fn seed_round_trips() {
        let cfg = QuorumPeerConfig::parse(QuorumPeerConfig::seed_default()).unwrap();
        let again = QuorumPeerConfig::parse(&cfg.to_zoo_cfg_string()).unwrap();
        assert_eq!(cfg, again);
    }

    fn arb_server() -> impl Strategy<Value = (String, u16, u16, bool)> {
        ("[a-z][a-z0-9.-]{0,12}", any::<u16>(), any::<u16>(), prop::bool::weighted(0.2))
    }

    fn arb_config() -> impl Strategy<Value = QuorumPeerConfig> {
        let basics = (
            1u32..100_000,
            1u32..100,
            1u32..100,
            "/[A-Za-z0-9_./ -]{0,30}[A-Za-z0-9_./-]",
            proptest::option::of("/[a-z0-9_/]{1,20}"),
            1u16..=u16::MAX,
            proptest::option::of("[a-z0-9.]{1,15}"),
            0u32..10_000,
        );
        let more = (
            proptest::option::of((0i32..100_000, 0i32..100_000)),
            proptest::option::of(0i32..1_000_000),
            0u32..=3,
            MIN_SNAP_RETAIN_COUNT..1000,
            0u32..1000,
            1u32..10_000_000,
        );
        let servers = prop::collection::btree_map(0u64..1000, arb_server(), 2..8);
        let unknown = prop::collection::btree_map(
            "[A-Za-z#! =:\\\\][A-Za-z0-9.#! =:\\\\_\t]{0,10}",
            ".*",
            0..4,
        );
        (basics, more, prop::bool::ANY, servers, unknown).prop_map(
            |(
                (tick, init, sync, dd, dld, port, addr, cnx),
                (minmax, onlymax, alg, retain, purge, snap),
                standalone,
                servers,
                unknown,
            )| {
                let (min_t, max_t) = match (minmax, onlymax) {
                    (Some((a, b)), _) => (a.min(b), a.max(b)),
                    (None, Some(m)) => (-1, m),
                    (None, None) => (-1, -1),
                };
                let data_dir = java_trim(&dd).to_string();
                let mut servers: BTreeMap<u64, QuorumServer> = if standalone {
                    BTreeMap::new()
                } else {
                    servers
                        .into_iter()
                        .map(|(id, (host, q, e, observer))| {
                            (
                                id,
                                QuorumServer {
                                    id,
                                    host,
                                    quorum_port: q,
                                    election_port: e,
                                    observer,
                                },
                            )
                        })
                        .collect()
                };
                // Keep at least two voting members.
                for s in servers.values_mut().take(2) {
                    s.observer = false;
                }
                let known = [
                    "dataDir",
                    "dataLogDir",
                    "clientPort",
                    "clientPortAddress",
                    "tickTime",
                    "maxClientCnxns",
                    "minSessionTimeout",
                    "maxSessionTimeout",
                    "initLimit",
                    "syncLimit",
                    "electionAlg",
                    "autopurge.snapRetainCount",
                    "autopurge.purgeInterval",
                    "snapCount",
                ];
                let unknown = unknown
                    .into_iter()
                    .map(|(k, v)| (java_trim(&k).to_string(), java_trim(&v).to_string()))
                    .filter(|(k, _)| !known.contains(&k.as_str()) && !k.starts_with("server."))
                    .collect();
                QuorumPeerConfig {
                    tick_time: tick,
                    init_limit: init,
                    sync_limit: sync,
                    data_log_dir: dld.unwrap_or_else(|| data_dir.clone()),
                    data_dir,
                    client_port: port,
                    client_port_address: addr,
                    max_client_cnxns: cnx,
                    min_session_timeout: min_t,
                    max_session_timeout: max_t,
                    election_alg: alg,
                    autopurge_snap_retain_count: retain,
                    autopurge_purge_interval: purge,
                    snap_count: snap,
                    servers,
                    unknown,
                    warnings: Vec::new(),
                }
            },
        )
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC*", myid in proptest::option::of(".*")) {
            let _ = QuorumPeerConfig::parse(&text);
            let _ = QuorumPeerConfig::parse_with_myid(&text, myid.as_deref(), "/d/myid");
            let _ = parse_myid(&text);
        }

        #[test]
        fn arbitrary_bytes_never_panic(text in ".*") {
            let _ = QuorumPeerConfig::parse(&text);
        }

        #[test]
        fn keyish_text_never_panics(text in "([a-zA-Z.]{0,12}[ =:]{0,2}[-0-9a-z:\\\\ ]{0,12}\n){0,8}") {
            let _ = QuorumPeerConfig::parse(&text);
        }

        #[test]
        fn generated_configs_round_trip(cfg in arb_config()) {
            let text = cfg.to_zoo_cfg_string();
            let mut parsed = QuorumPeerConfig::parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            parsed.warnings.clear();
            prop_assert_eq!(&parsed, &cfg, "{}", text);
            let mut again = QuorumPeerConfig::parse(&parsed.to_zoo_cfg_string()).unwrap();
            again.warnings.clear();
            prop_assert_eq!(again, parsed);
        }
    }
}
