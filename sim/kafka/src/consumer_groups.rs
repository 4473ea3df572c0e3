//! `kafka-consumer-groups.sh` (`kafka.admin.ConsumerGroupCommand`, 0.9): list and describe
//! consumer groups, and delete old (ZooKeeper) groups.
//!
//! - `--new-consumer --bootstrap-server B` works on groups of the new consumer: `--list` asks
//!   every broker (ListGroups), `--describe --group G` asks G's coordinator (DescribeGroups),
//!   the committed offsets (OffsetFetch) and each partition leader's log end (ListOffsets).
//!   `--bootstrap-server` without `--new-consumer` is accepted with a note (0.9 refuses it; 0.10.1
//!   made it enough).
//! - `--zookeeper Z` works on groups of the old consumer: `/consumers/<g>/owners` and
//!   `/consumers/<g>/offsets`. As in 0.9, offsets are first asked of the group's coordinator
//!   (which creates `__consumer_offsets` if it is missing) and then read from ZooKeeper.
//!
//! - `--reset-offsets` (Kafka 0.11's, as 1.x/2.0 print it; the lab's one extension beyond 0.9):
//!   `--group G (--topic T[:P,…] | --all-topics)` with one scenario `--to-earliest`, `--to-latest`,
//!   `--to-current`, `--to-offset N` or `--shift-by N`; a dry run unless `--execute`. Only for an
//!   inactive group (0.9 has no `Empty` state: a group whose last member left is `Dead`), and the
//!   new offsets are committed to the coordinator outside group management (generation −1), as
//!   the tool's own consumer does. `--to-datetime`, `--by-duration`, `--from-file` and `--export`
//!   are not offered.
//!
//! Output: the lab prints the padded table of later versions by default — Kafka 2.0's for the new
//! consumer, 1.x's (the last with `--zookeeper`) for the old one — and 0.9's comma-separated rows
//! with `--lab-format 0.9`:
//!
//! ```text
//! (default)        TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID  HOST  CLIENT-ID
//! --lab-format 0.9 GROUP, TOPIC, PARTITION, CURRENT OFFSET, LOG END OFFSET, LAG, OWNER
//! ```
//!
//! Differences from the real tool, on purpose: a group that does not exist (or, in 0.9 form, is
//! rebalancing) ends with exit code 1 (the real tools exit 0); table lines carry no trailing
//! blanks; rows are sorted where Kafka's order comes from a hash map; members with no committed
//! offsets still show their partitions (2.0 prints nothing for them).

use super::admin::{self, flag, jopt_parse, opt, require, OptionSet, Spec, ToolError};
use super::clients::fetch_metadata;
use super::coordinator::assignor::{ConsumerProtocol, PROTOCOL_TYPE};
use super::coordinator::protocol::{
    error_message, GroupDescription, GroupRequest, GroupResponse, OffsetCommitPartition,
};
use super::network_client::{NetworkClient, CONNECT_TIMEOUT};
use super::proto::{
    BrokerEndPoint, KafkaError, ListOffsetsPartition, ListOffsetsRequest, Request, Response,
};
use super::zk_utils as zku;
use sim_core::term::Term;
use sim_core::world::ProcCtx;
use std::collections::BTreeMap;
use std::time::Duration;
use zookeeper::client::ZooKeeper;
use zookeeper::txn::ZkError;

const MAIN_CLASS: &str = "kafka.admin.ConsumerGroupCommand";
const CLIENT_ID: &str = "admin-1";
const TIMEOUT: Duration = Duration::from_millis(5000);

/// A connection to a broker for the tool's requests.
async fn open(ctx: &ProcCtx, b: &BrokerEndPoint) -> Option<NetworkClient> {
    NetworkClient::connect(ctx, b, CLIENT_ID, CONNECT_TIMEOUT).await.ok()
}

const SPECS: &[Spec] = &[
    opt("zookeeper"),
    opt("bootstrap-server"),
    opt("group"),
    opt("topic"),
    flag("list"),
    flag("describe"),
    flag("delete"),
    flag("reset-offsets"),
    flag("all-topics"),
    flag("to-earliest"),
    flag("to-latest"),
    flag("to-current"),
    opt("to-offset"),
    opt("shift-by"),
    flag("execute"),
    flag("dry-run"),
    flag("new-consumer"),
    opt("command-config"),
    opt("lab-format"),
];

/// How `--describe` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// 0.9: `GROUP, TOPIC, PARTITION, CURRENT OFFSET, LOG END OFFSET, LAG, OWNER`.
    Kafka09,
    /// The padded table of later versions (the lab's default).
    Table,
}

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupAction {
    /// `--list`
    List,
    /// `--describe`
    Describe,
    /// `--delete`
    Delete,
    /// `--reset-offsets`
    ResetOffsets(ResetSpec),
}

/// Where `--reset-offsets` moves each partition's committed offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetScenario {
    /// `--to-earliest`: the log start offset.
    Earliest,
    /// `--to-latest`: the log end offset.
    Latest,
    /// `--to-current`: the committed offset (the log end where there is none).
    Current,
    /// `--to-offset N`, kept inside the log's range.
    Offset(i64),
    /// `--shift-by N` from the committed offset, kept inside the log's range.
    ShiftBy(i64),
}

/// `--reset-offsets` arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResetSpec {
    /// The scenario.
    pub scenario: ResetScenario,
    /// `--all-topics`: the partitions the group has committed offsets for.
    pub all_topics: bool,
    /// `--execute` (otherwise a dry run).
    pub execute: bool,
}

/// The scenario options of `--reset-offsets`, in the order the tool checks them.
const RESET_SCENARIOS: [&str; 5] =
    ["to-offset", "to-earliest", "to-latest", "to-current", "shift-by"];

/// `ConsumerGroupCommandOptions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroupOptions {
    /// The action.
    pub action: GroupAction,
    /// `--zookeeper`.
    pub zookeeper: Option<String>,
    /// `--bootstrap-server`.
    pub bootstrap_server: Option<String>,
    /// `--group` (may repeat for `--delete`).
    pub groups: Vec<String>,
    /// `--topic` (for `--delete`).
    pub topic: Option<String>,
    /// Every `--topic` (for `--reset-offsets`: `topic` or `topic:0,1`).
    pub topics: Vec<String>,
    /// New-consumer groups (`--new-consumer`, or `--bootstrap-server` alone).
    pub new_consumer: bool,
    /// `--lab-format`.
    pub format: OutputFormat,
    /// Lab notes about version differences.
    pub notes: Vec<String>,
}

impl ConsumerGroupOptions {
    /// Parses and checks the arguments as `ConsumerGroupCommand.main` and `checkArgs` do.
    pub fn parse(args: &[String]) -> Result<Self, ToolError> {
        if args.is_empty() {
            return Err(ToolError::Usage("List all consumer groups, describe a consumer group, or delete consumer group info.".into()));
        }
        let o: OptionSet = jopt_parse(SPECS, args)?;
        let actions =
            ["list", "describe", "delete", "reset-offsets"].iter().filter(|a| o.has(a)).count();
        if actions != 1 {
            // 0.9's words, or 0.11's once --reset-offsets is in play.
            let reset = if o.has("reset-offsets") { ", --reset-offsets" } else { "" };
            return Err(ToolError::Usage(format!(
                "Command must include exactly one action: --list, --describe, --delete{reset}"
            )));
        }
        let mut notes = Vec::new();
        let new_consumer = o.has("new-consumer") || o.has("bootstrap-server");
        if new_consumer {
            require(&o, &["bootstrap-server"])?;
            // (--reset-offsets is 0.11's, where --bootstrap-server alone is the norm.)
            if !o.has("new-consumer") && !o.has("reset-offsets") {
                notes.push(
                    "Kafka 0.9 needs --new-consumer together with --bootstrap-server".to_string(),
                );
            }
            if o.has("zookeeper") {
                return Err(ToolError::Usage(
                    "Option [zookeeper] is not valid with [new-consumer]".into(),
                ));
            }
            if o.has("delete") {
                return Err(ToolError::Usage(
                    "Option [delete] is not valid with [new-consumer]. Note that there's no need to delete group metadata for the new consumer as it is automatically deleted when the last member leaves".into(),
                ));
            }
        } else {
            require(&o, &["zookeeper"])?;
        }
        if o.has("describe") {
            require(&o, &["group"])?;
        }
        if o.has("delete") && !o.has("group") && !o.has("topic") {
            return Err(ToolError::Usage(
                "Option [delete] either takes [group], [topic], or both".into(),
            ));
        }
        let reset = if o.has("reset-offsets") { Some(parse_reset(&o)?) } else { None };
        for (used, invalid) in [("group", &["list"][..]), ("topic", &["list", "describe"][..])] {
            if o.has(used) {
                if let Some(bad) = invalid.iter().find(|i| o.has(i)) {
                    return Err(ToolError::Usage(format!(
                        "Option \"[{used}]\" can't be used with option\"[{bad}]\""
                    )));
                }
            }
        }
        let format = match o.value_of("lab-format").as_deref() {
            None | Some("2.0") | Some("table") => OutputFormat::Table,
            Some("0.9") => OutputFormat::Kafka09,
            Some(other) => {
                return Err(ToolError::Usage(format!(
                    "lab: --lab-format takes 0.9 or 2.0, not {other}"
                )))
            }
        };
        let action = if let Some(spec) = reset {
            GroupAction::ResetOffsets(spec)
        } else if o.has("list") {
            GroupAction::List
        } else if o.has("describe") {
            GroupAction::Describe
        } else {
            GroupAction::Delete
        };
        Ok(ConsumerGroupOptions {
            action,
            zookeeper: o.value_of("zookeeper"),
            bootstrap_server: o.value_of("bootstrap-server"),
            groups: o.values_of("group"),
            topic: o.value_of("topic"),
            topics: o.values_of("topic"),
            new_consumer,
            format,
            notes,
        })
    }
}

/// `checkArgs` for `--reset-offsets` (Kafka 1.x): a group, one scenario, one of `--execute`
/// and `--dry-run`, and a scope.
fn parse_reset(o: &OptionSet) -> Result<ResetSpec, ToolError> {
    require(o, &["group"])?;
    for a in RESET_SCENARIOS {
        if o.has(a) {
            if let Some(b) = RESET_SCENARIOS.iter().find(|b| **b != a && o.has(b)) {
                return Err(ToolError::Usage(format!(
                    "Option \"[{a}]\" can't be used with option\"[{b}]\""
                )));
            }
        }
    }
    if o.has("execute") && o.has("dry-run") {
        return Err(ToolError::Usage(
            "Option [reset-offsets] only accepts one of [execute] and [dry-run]".into(),
        ));
    }
    let long = |name: &str| -> Result<i64, ToolError> {
        let v = o.value_of(name).unwrap_or_default();
        v.trim().parse::<i64>().map_err(|_| ToolError::Conversion { option: name.into(), value: v })
    };
    let scenario = if o.has("to-offset") {
        ResetScenario::Offset(long("to-offset")?)
    } else if o.has("shift-by") {
        ResetScenario::ShiftBy(long("shift-by")?)
    } else if o.has("to-earliest") {
        ResetScenario::Earliest
    } else if o.has("to-latest") {
        ResetScenario::Latest
    } else if o.has("to-current") {
        ResetScenario::Current
    } else {
        return Err(ToolError::Usage(format!(
            "Option '[reset-offsets]' requires one of the following scenarios: [{}]",
            RESET_SCENARIOS.join(", ")
        )));
    };
    if !o.has("all-topics") && !o.has("topic") {
        return Err(ToolError::Usage(
            "One of the reset scopes should be defined: --all-topics, --topic.".into(),
        ));
    }
    for t in o.values_of("topic") {
        let (topic, parts) = t.split_once(':').unwrap_or((&t, ""));
        admin::validate_topic(topic).map_err(|e| ToolError::Usage(e.to_string()))?;
        if !parts.is_empty() && parts.split(',').any(|p| p.trim().parse::<i32>().is_err()) {
            return Err(ToolError::Usage(format!(
                "lab: --topic {t}: partitions are numbers, as in topic:0,1"
            )));
        }
    }
    Ok(ResetSpec { scenario, all_topics: o.has("all-topics"), execute: o.has("execute") })
}

/// One row of a description.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    topic: String,
    partition: i32,
    offset: Option<i64>,
    log_end: Option<i64>,
    consumer_id: Option<String>,
    host: Option<String>,
    client_id: Option<String>,
    /// 0.9's OWNER column.
    owner: Option<String>,
}

impl Row {
    fn lag(&self) -> Option<i64> {
        self.offset.filter(|o| *o != -1).and_then(|o| self.log_end.map(|e| e - o))
    }
}

fn show(v: Option<i64>, missing: &str) -> String {
    v.map_or(missing.to_string(), |x| x.to_string())
}

/// 0.9's `printDescribeHeader`.
const HEADER_09: &str = "GROUP, TOPIC, PARTITION, CURRENT OFFSET, LOG END OFFSET, LAG, OWNER";

/// 0.9's header and `describePartition` lines.
fn print_09(term: &Term, group: &str, rows: &[Row]) {
    term.out(HEADER_09);
    print_09_rows(term, group, rows);
}

fn print_09_rows(term: &Term, group: &str, rows: &[Row]) {
    for r in rows {
        term.out(&format!(
            "{group}, {}, {}, {}, {}, {}, {}",
            r.topic,
            r.partition,
            show(r.offset, "unknown"),
            show(r.log_end, "unknown"),
            show(r.lag(), "unknown"),
            r.owner.clone().unwrap_or_else(|| "none".into())
        ));
    }
}

/// Kafka 2.0's `printOffsets` table (new consumer).
fn print_table(term: &Term, rows: &[Row]) {
    let dash = || "-".to_string();
    let t = rows.iter().map(|r| r.topic.len()).chain([15]).max().unwrap_or(15);
    let c = rows
        .iter()
        .map(|r| r.consumer_id.as_ref().map_or(1, String::len))
        .chain([15])
        .max()
        .unwrap_or(15);
    let h =
        rows.iter().map(|r| r.host.as_ref().map_or(1, String::len)).chain([15]).max().unwrap_or(15);
    let line = |cols: [String; 8]| {
        format!(
            "{:<t$} {:<10} {:<15} {:<15} {:<15} {:<c$} {:<h$} {}",
            cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7]
        )
        .trim_end()
        .to_string()
    };
    term.out("");
    term.out(&line(
        [
            "TOPIC",
            "PARTITION",
            "CURRENT-OFFSET",
            "LOG-END-OFFSET",
            "LAG",
            "CONSUMER-ID",
            "HOST",
            "CLIENT-ID",
        ]
        .map(String::from),
    ));
    for r in rows {
        term.out(&line([
            r.topic.clone(),
            r.partition.to_string(),
            show(r.offset.filter(|o| *o >= 0), "-"),
            show(r.log_end, "-"),
            show(r.lag(), "-"),
            r.consumer_id.clone().unwrap_or_else(dash),
            r.host.clone().unwrap_or_else(dash),
            r.client_id.clone().unwrap_or_else(dash),
        ]));
    }
}

/// Kafka 1.x's table for old-consumer groups (fixed widths, no HOST/CLIENT-ID).
fn print_zk_table(term: &Term, rows: &[Row]) {
    term.out("");
    term.out(
        format!(
            "{:<30} {:<10} {:<15} {:<15} {:<10} {:<50}",
            "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID"
        )
        .trim_end(),
    );
    for r in rows {
        let line = format!(
            "{:<30} {:<10} {:<15} {:<15} {:<10} {:<50}",
            r.topic,
            r.partition,
            show(r.offset.filter(|o| *o >= 0), "-"),
            show(r.log_end, "-"),
            show(r.lag(), "-"),
            r.consumer_id.clone().unwrap_or_else(|| "-".into())
        );
        term.out(line.trim_end());
    }
}

fn usage_error(term: &Term, e: &ToolError) -> i32 {
    term.err(&e.to_string());
    for line in e.stack_trace(MAIN_CLASS) {
        term.err(&line);
    }
    1
}

/// `kafka-consumer-groups.sh`: returns the exit code.
pub async fn run(ctx: ProcCtx, args: Vec<String>, term: Term) -> i32 {
    let opts = match ConsumerGroupOptions::parse(&args) {
        Ok(o) => o,
        Err(e) => return usage_error(&term, &e),
    };
    for n in &opts.notes {
        term.err(n);
    }
    if opts.new_consumer {
        let servers =
            match admin::parse_broker_list(opts.bootstrap_server.as_deref().unwrap_or_default()) {
                Ok(s) => s,
                Err(e) => {
                    term.out(&format!("Error while executing consumer group command {e}"));
                    return 1;
                }
            };
        match &opts.action {
            GroupAction::List => list_new(&ctx, &servers, &term).await,
            GroupAction::ResetOffsets(spec) => reset_new(&ctx, &servers, &opts, spec, &term).await,
            _ => {
                describe_new(
                    &ctx,
                    &servers,
                    opts.groups.first().map(String::as_str).unwrap_or_default(),
                    opts.format,
                    &term,
                )
                .await
            }
        }
    } else {
        let connect = opts.zookeeper.clone().unwrap_or_default();
        let servers = zookeeper::connect_string::parse_connect_string(&connect, 2181)
            .map(|(s, _)| s)
            .unwrap_or_default();
        let zk = ZooKeeper::new(&ctx, servers, Duration::from_millis(30_000));
        let code = match opts.action {
            GroupAction::List => match zk.get_children(zku::CONSUMERS, false).await {
                Ok(mut gs) => {
                    gs.sort();
                    for g in gs {
                        term.out(&g);
                    }
                    0
                }
                Err(ZkError::NoNode) => 0,
                Err(e) => {
                    term.out(&format!("Error while executing consumer group command {e}"));
                    1
                }
            },
            GroupAction::Describe => {
                describe_zk(
                    &ctx,
                    &zk,
                    opts.groups.first().map(String::as_str).unwrap_or_default(),
                    opts.format,
                    &term,
                )
                .await
            }
            GroupAction::Delete => delete_zk(&zk, &opts, &term).await,
            GroupAction::ResetOffsets(_) => {
                // 1.x's ZkConsumerGroupService has no reset either.
                term.out("Error while executing consumer group command Reset offsets is only supported for groups of the new consumer (--bootstrap-server)");
                1
            }
        };
        zk.close().await;
        code
    }
}

/// Live brokers, from a metadata request to the bootstrap servers.
async fn brokers(
    ctx: &ProcCtx,
    servers: &[(String, u16)],
) -> Option<BTreeMap<i32, BrokerEndPoint>> {
    fetch_metadata(ctx, servers, &[], CLIENT_ID).await.map(|(c, _)| c.brokers)
}

/// `AdminClient.listAllConsumerGroupsFlattened`: ListGroups on every broker, consumer groups only.
async fn list_new(ctx: &ProcCtx, servers: &[(String, u16)], term: &Term) -> i32 {
    let Some(brokers) = brokers(ctx, servers).await else {
        term.out(&format!(
            "Error while executing consumer group command Request METADATA failed on brokers {}",
            bootstrap_text(servers)
        ));
        return 1;
    };
    for b in brokers.values() {
        let Some(mut ch) = open(ctx, b).await else { continue };
        if let Ok(GroupResponse::ListGroups { groups, .. }) =
            ch.group_request(GroupRequest::ListGroups, TIMEOUT).await
        {
            for g in groups {
                if g.protocol_type == PROTOCOL_TYPE {
                    term.out(&g.group_id);
                }
            }
        }
    }
    0
}

fn bootstrap_text(servers: &[(String, u16)]) -> String {
    format!(
        "List({})",
        servers
            .iter()
            .map(|(h, p)| format!("{h}:{p} (id: -1 rack: null)"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The group's coordinator, asked of the bootstrap servers in turn (`AdminClient.findCoordinator`).
async fn find_coordinator(
    ctx: &ProcCtx,
    servers: &[(String, u16)],
    group: &str,
) -> Result<BrokerEndPoint, String> {
    let mut last =
        format!("Request GROUP_COORDINATOR failed on brokers {}", bootstrap_text(servers));
    for (h, p) in servers {
        let Some(mut ch) = open(ctx, &BrokerEndPoint { id: -1, host: h.clone(), port: *p }).await
        else {
            continue;
        };
        match ch
            .group_request(GroupRequest::GroupCoordinator { group_id: group.into() }, TIMEOUT)
            .await
            .ok()
        {
            Some(GroupResponse::GroupCoordinator {
                error_code: KafkaError::None,
                coordinator: Some(c),
            }) => return Ok(c),
            Some(GroupResponse::GroupCoordinator { error_code: error, .. }) => {
                last = error_message(error).to_string();
                break;
            }
            _ => continue,
        }
    }
    Err(last)
}

/// The log end offset of a partition, from its leader.
async fn log_end_offset(
    ctx: &ProcCtx,
    brokers: &BTreeMap<i32, BrokerEndPoint>,
    leader: i32,
    topic: &str,
    partition: i32,
) -> Option<i64> {
    list_offset(ctx, brokers, leader, topic, partition, -1).await
}

/// ListOffsets for one partition at `time` (−1 latest, −2 earliest), from its leader.
async fn list_offset(
    ctx: &ProcCtx,
    brokers: &BTreeMap<i32, BrokerEndPoint>,
    leader: i32,
    topic: &str,
    partition: i32,
    time: i64,
) -> Option<i64> {
    let b = brokers.get(&leader)?;
    let mut ch = open(ctx, b).await?;
    match ch
        .request(
            Request::ListOffsets(ListOffsetsRequest {
                replica_id: -1,
                topics: vec![ListOffsetsPartition {
                    topic: topic.into(),
                    partition,
                    timestamp: time,
                }],
            }),
            TIMEOUT,
        )
        .await
        .ok()?
    {
        Response::ListOffsets(r) => {
            r.responses.first().filter(|r| r.error_code == KafkaError::None).map(|r| r.offset)
        }
        _ => None,
    }
}

/// A member as describe lists it: (member id, client id, host, partitions).
type MemberRow = (String, String, String, Vec<(String, i32)>);

/// `KafkaConsumerGroupService.describeGroup`.
async fn describe_new(
    ctx: &ProcCtx,
    servers: &[(String, u16)],
    group: &str,
    format: OutputFormat,
    term: &Term,
) -> i32 {
    let coordinator = match find_coordinator(ctx, servers, group).await {
        Ok(c) => c,
        Err(msg) => {
            term.out(&format!("Error while executing consumer group command {msg}"));
            return 1;
        }
    };
    let Some(mut ch) = open(ctx, &coordinator).await else {
        term.out(&format!(
            "Error while executing consumer group command Request DESCRIBE_GROUPS failed on {}:{}",
            coordinator.host, coordinator.port
        ));
        return 1;
    };
    let desc: GroupDescription = match ch
        .group_request(GroupRequest::DescribeGroups { group_ids: vec![group.into()] }, TIMEOUT)
        .await
        .ok()
    {
        Some(GroupResponse::DescribeGroups(mut v)) if !v.is_empty() => v.remove(0),
        _ => {
            term.out(&format!("Error while executing consumer group command Response from broker contained no metadata for group {group}"));
            return 1;
        }
    };
    if desc.error_code != KafkaError::None {
        term.out(&format!(
            "Error while executing consumer group command {}",
            error_message(desc.error_code)
        ));
        return 1;
    }
    if desc.state != "Dead" && desc.protocol_type != PROTOCOL_TYPE {
        term.out(&format!("Error while executing consumer group command Group {group} with protocol type '{}' is not a valid consumer group", desc.protocol_type));
        return 1;
    }
    let stable = desc.state == "Stable";
    let missing = desc.state == "Dead" || (format == OutputFormat::Kafka09 && !stable);
    if missing {
        match format {
            OutputFormat::Kafka09 => {
                term.out(&format!("Consumer group `{group}` does not exist or is rebalancing."))
            }
            OutputFormat::Table => {
                term.out(&format!("Error: Consumer group '{group}' does not exist."))
            }
        }
        return 1;
    }
    if !stable {
        term.err(&format!("Warning: Consumer group '{group}' is rebalancing."));
    }
    // Committed offsets (OffsetFetch with no partitions: all of the group's).
    let committed: BTreeMap<(String, i32), i64> = match ch
        .group_request(
            GroupRequest::OffsetFetch { group_id: group.into(), topics: Vec::new() },
            TIMEOUT,
        )
        .await
        .ok()
    {
        Some(GroupResponse::OffsetFetch(v)) => v
            .into_iter()
            .filter(|r| r.error_code == KafkaError::None && r.offset >= 0)
            .map(|r| ((r.topic, r.partition), r.offset))
            .collect(),
        _ => BTreeMap::new(),
    };
    // Members with their partitions; 2.0 lists the members with most partitions first.
    let mut members: Vec<MemberRow> = desc
        .members
        .iter()
        .map(|m| {
            (
                m.member_id.clone(),
                m.client_id.clone(),
                m.client_host.clone(),
                ConsumerProtocol::deserialize_assignment(&m.assignment).unwrap_or_default(),
            )
        })
        .filter(|m| !m.3.is_empty())
        .collect();
    if format == OutputFormat::Table {
        members.sort_by_key(|m| std::cmp::Reverse(m.3.len()));
    }
    let Some((cluster, _)) = fetch_metadata(ctx, servers, &[], CLIENT_ID).await else {
        term.out(&format!(
            "Error while executing consumer group command Request METADATA failed on brokers {}",
            bootstrap_text(servers)
        ));
        return 1;
    };
    let mut rows = Vec::new();
    let mut assigned = Vec::new();
    for (member_id, client_id, host, mut parts) in members {
        parts.sort_by_key(|(_, p)| *p);
        for (t, p) in parts {
            let leader = cluster.leaders.get(&t).and_then(|m| m.get(&p)).copied().unwrap_or(-1);
            let log_end = log_end_offset(ctx, &cluster.brokers, leader, &t, p).await;
            assigned.push((t.clone(), p));
            rows.push(Row {
                offset: committed.get(&(t.clone(), p)).copied(),
                topic: t,
                partition: p,
                log_end,
                consumer_id: Some(member_id.clone()),
                host: Some(host.clone()),
                client_id: Some(client_id.clone()),
                owner: Some(format!("{client_id}_{host}")),
            });
        }
    }
    match format {
        OutputFormat::Kafka09 => print_09(term, group, &rows),
        OutputFormat::Table => {
            // Committed partitions nobody owns now (2.0's rowsWithoutConsumer).
            for ((t, p), o) in &committed {
                if assigned.contains(&(t.clone(), *p)) {
                    continue;
                }
                let leader = cluster.leaders.get(t).and_then(|m| m.get(p)).copied().unwrap_or(-1);
                let log_end = log_end_offset(ctx, &cluster.brokers, leader, t, *p).await;
                rows.push(Row {
                    topic: t.clone(),
                    partition: *p,
                    offset: Some(*o),
                    log_end,
                    consumer_id: None,
                    host: None,
                    client_id: None,
                    owner: None,
                });
            }
            print_table(term, &rows);
        }
    }
    0
}

/// `KafkaConsumerGroupService.resetOffsets` (Kafka 1.x): plan the new offsets of an inactive
/// group, commit them with `--execute`, and print the plan.
async fn reset_new(
    ctx: &ProcCtx,
    servers: &[(String, u16)],
    opts: &ConsumerGroupOptions,
    spec: &ResetSpec,
    term: &Term,
) -> i32 {
    let group = opts.groups.first().map(String::as_str).unwrap_or_default();
    let fail = |msg: String| {
        term.out(&format!("Error while executing consumer group command {msg}"));
        1
    };
    if !spec.execute {
        term.err("WARN: No action will be performed as the --execute option is missing.In a future major release, the default behavior of this command will be to prompt the user before executing the reset rather than doing a dry run. You should add the --dry-run option explicitly if you are scripting this command and want to keep the current default behavior without prompting.");
    }
    let coordinator = match find_coordinator(ctx, servers, group).await {
        Ok(c) => c,
        Err(msg) => return fail(msg),
    };
    let Some(mut ch) = open(ctx, &coordinator).await else {
        return fail(format!(
            "Request DESCRIBE_GROUPS failed on {}:{}",
            coordinator.host, coordinator.port
        ));
    };
    let state = match ch
        .group_request(GroupRequest::DescribeGroups { group_ids: vec![group.into()] }, TIMEOUT)
        .await
        .ok()
    {
        Some(GroupResponse::DescribeGroups(v)) => {
            v.first().map(|d| d.state.clone()).unwrap_or_else(|| "Dead".into())
        }
        _ => {
            return fail(format!(
                "Request DESCRIBE_GROUPS failed on {}:{}",
                coordinator.host, coordinator.port
            ))
        }
    };
    if state != "Dead" && state != "Empty" {
        // 1.x prints this and an empty plan with exit code 0; the lab exits 1 (nothing was reset).
        term.out(&format!("Error: Assignments can only be reset if the group '{group}' is inactive, but the current state is {state}."));
        return 1;
    }
    let committed: BTreeMap<(String, i32), i64> = match ch
        .group_request(
            GroupRequest::OffsetFetch { group_id: group.into(), topics: Vec::new() },
            TIMEOUT,
        )
        .await
        .ok()
    {
        Some(GroupResponse::OffsetFetch(v)) => v
            .into_iter()
            .filter(|r| r.error_code == KafkaError::None && r.offset >= 0)
            .map(|r| ((r.topic, r.partition), r.offset))
            .collect(),
        _ => {
            return fail(format!(
                "Request OFFSET_FETCH failed on {}:{}",
                coordinator.host, coordinator.port
            ))
        }
    };
    let Some((cluster, _)) = fetch_metadata(ctx, servers, &[], CLIENT_ID).await else {
        return fail(format!("Request METADATA failed on brokers {}", bootstrap_text(servers)));
    };
    // getPartitionsToReset
    let mut partitions: Vec<(String, i32)> = Vec::new();
    if spec.all_topics {
        partitions.extend(committed.keys().cloned());
    }
    for arg in &opts.topics {
        let (topic, parts) = arg.split_once(':').unwrap_or((arg, ""));
        let Some(leaders) = cluster.leaders.get(topic) else {
            return fail(format!("Topic {topic} does not exist"));
        };
        if parts.is_empty() {
            partitions.extend(leaders.keys().map(|p| (topic.to_string(), *p)));
        } else {
            partitions.extend(
                parts
                    .split(',')
                    .filter_map(|p| p.trim().parse().ok())
                    .map(|p| (topic.to_string(), p)),
            );
        }
    }
    partitions.sort();
    partitions.dedup();
    // prepareOffsetsToReset, with checkOffsetRange keeping offsets inside [log start, log end].
    let mut plan: Vec<(String, i32, i64)> = Vec::new();
    for (t, p) in partitions {
        let leader = cluster.leaders.get(&t).and_then(|m| m.get(&p)).copied().unwrap_or(-1);
        let (Some(start), Some(end)) = (
            list_offset(ctx, &cluster.brokers, leader, &t, p, -2).await,
            list_offset(ctx, &cluster.brokers, leader, &t, p, -1).await,
        ) else {
            return fail(format!("Error getting offsets of topic partition: {t}-{p}"));
        };
        let current = committed.get(&(t.clone(), p)).copied();
        let new = match spec.scenario {
            ResetScenario::Earliest => start,
            ResetScenario::Latest => end,
            ResetScenario::Current => current.unwrap_or(end),
            ResetScenario::Offset(n) => n.clamp(start, end),
            ResetScenario::ShiftBy(n) => match current {
                Some(c) => c.saturating_add(n).clamp(start, end),
                None => return fail(format!("Cannot shift offset for partition {t}-{p} since there is no current committed offset")),
            },
        };
        plan.push((t, p, new));
    }
    if spec.execute && !plan.is_empty() {
        // The tool's consumer commits outside group management: generation −1, no member id.
        let topics = plan
            .iter()
            .map(|(t, p, o)| OffsetCommitPartition {
                topic: t.clone(),
                partition: *p,
                offset: *o,
                metadata: String::new(),
            })
            .collect();
        let request = GroupRequest::OffsetCommit {
            group_id: group.into(),
            generation_id: -1,
            member_id: String::new(),
            retention_time_ms: -1,
            topics,
        };
        match ch.group_request(request, TIMEOUT).await.ok() {
            Some(GroupResponse::OffsetCommit(v)) => {
                if let Some(r) = v.iter().find(|r| r.error_code != KafkaError::None) {
                    let (t, p) = (&r.topic, r.partition);
                    return fail(format!(
                        "Commit of {t}-{p} failed: {}",
                        error_message(r.error_code)
                    ));
                }
            }
            _ => {
                return fail(format!(
                    "Request OFFSET_COMMIT failed on {}:{}",
                    coordinator.host, coordinator.port
                ))
            }
        }
    }
    // printOffsetsToReset
    term.out("");
    term.out(format!("{:<30} {:<10} {:<15}", "TOPIC", "PARTITION", "NEW-OFFSET").trim_end());
    for (t, p, o) in &plan {
        term.out(format!("{t:<30} {p:<10} {o:<15}").trim_end());
    }
    0
}

/// `ZkConsumerGroupService.describeGroup`.
async fn describe_zk(
    ctx: &ProcCtx,
    zk: &ZooKeeper,
    group: &str,
    format: OutputFormat,
    term: &Term,
) -> i32 {
    let mut topics = match zk.get_children(&format!("/consumers/{group}/owners"), false).await {
        Ok(t) => t,
        Err(ZkError::NoNode) => Vec::new(),
        Err(e) => {
            term.out(&format!("Error while executing consumer group command {e}"));
            return 1;
        }
    };
    topics.sort();
    if topics.is_empty() {
        match format {
            OutputFormat::Kafka09 => {
                term.out("No topic available for consumer group provided");
                term.out(HEADER_09);
            }
            OutputFormat::Table => {
                term.out(&format!("Error: The consumer group '{group}' does not exist."))
            }
        }
        return 1;
    }
    let brokers = zku::read_brokers(zk).await.unwrap_or_default();
    // ClientUtils.channelToOffsetManager: the group's coordinator holds Kafka-stored offsets.
    let servers: Vec<(String, u16)> = brokers.values().map(|b| (b.host.clone(), b.port)).collect();
    let mut kafka_offsets: BTreeMap<(String, i32), i64> = BTreeMap::new();
    let deadline = madsim::time::Instant::now() + Duration::from_secs(30);
    while !servers.is_empty() {
        if let Ok(c) = find_coordinator(ctx, &servers, group).await {
            if let Some(mut ch) = open(ctx, &c).await {
                if let Ok(GroupResponse::OffsetFetch(v)) = ch
                    .group_request(
                        GroupRequest::OffsetFetch { group_id: group.into(), topics: Vec::new() },
                        TIMEOUT,
                    )
                    .await
                {
                    kafka_offsets = v
                        .into_iter()
                        .filter(|r| r.error_code == KafkaError::None && r.offset >= 0)
                        .map(|r| ((r.topic, r.partition), r.offset))
                        .collect();
                }
                break;
            }
        }
        if madsim::time::Instant::now() >= deadline {
            break;
        }
        madsim::time::sleep(Duration::from_millis(300)).await;
    }
    // 0.9 prints the header first, then per topic its warnings and its rows.
    if format == OutputFormat::Kafka09 {
        term.out(HEADER_09);
    }
    let mut rows = Vec::new();
    for t in &topics {
        let first = rows.len();
        let partitions: Vec<i32> =
            match zk.get_data(&format!("{}/{t}", zku::BROKER_TOPICS), false).await {
                Ok((d, _)) => zku::parse_topic_assignment(&d)
                    .map(|a| a.into_keys().collect())
                    .unwrap_or_default(),
                Err(_) => Vec::new(),
            };
        for p in partitions {
            let owner = zk
                .get_data(&format!("/consumers/{group}/owners/{t}/{p}"), false)
                .await
                .ok()
                .map(|(d, _)| String::from_utf8_lossy(&d).into_owned());
            let offset = match kafka_offsets.get(&(t.clone(), p)) {
                Some(o) => Some(*o),
                None => {
                    match zk.get_data(&format!("/consumers/{group}/offsets/{t}/{p}"), false).await {
                        Ok((d, _)) => String::from_utf8_lossy(&d).trim().parse::<i64>().ok(),
                        Err(_) => {
                            if format == OutputFormat::Kafka09 {
                                term.out(&format!("Could not fetch offset from zookeeper for group {group} partition [{t},{p}] due to missing offset data in zookeeper."));
                            }
                            None
                        }
                    }
                }
            };
            let leader = match zk.get_data(&zku::partition_state_path(t, p), false).await {
                Ok((d, _)) => zku::parse_partition_state(&d).map(|s| s.1).unwrap_or(-1),
                Err(_) => -1,
            };
            let log_end =
                if leader >= 0 { log_end_offset(ctx, &brokers, leader, t, p).await } else { None };
            // 1.x shows the consumer id without the thread suffix ("-0").
            let consumer_id = owner
                .as_ref()
                .map(|o| o.rsplit_once('-').map_or(o.clone(), |(id, _)| id.to_string()));
            rows.push(Row {
                topic: t.clone(),
                partition: p,
                offset,
                log_end,
                consumer_id,
                host: None,
                client_id: None,
                owner,
            });
        }
        if format == OutputFormat::Kafka09 {
            print_09_rows(term, group, &rows[first..]);
        }
    }
    if format == OutputFormat::Table {
        print_zk_table(term, &rows);
    }
    0
}

/// `--delete` for old-consumer groups (`AdminUtils.deleteConsumerGroupInZK` and friends): only
/// groups with no live consumer.
async fn delete_zk(zk: &ZooKeeper, opts: &ConsumerGroupOptions, term: &Term) -> i32 {
    let active = |g: String| async move {
        zk.get_children(&format!("/consumers/{g}/ids"), false)
            .await
            .map(|c| !c.is_empty())
            .unwrap_or(false)
    };
    match (&opts.topic, opts.groups.is_empty()) {
        (None, _) => {
            for g in &opts.groups {
                match zk.exists(&format!("/consumers/{g}"), false).await {
                    Ok(Some(_)) if active(g.clone()).await => term.out(&format!(
                        "Delete for group {g} failed because its consumers are still active."
                    )),
                    Ok(Some(_)) => {
                        let _ =
                            zookeeper::cli::delete_recursive(zk, &format!("/consumers/{g}")).await;
                        term.out(&format!(
                            "Deleted all consumer group information for group {g} in zookeeper."
                        ));
                    }
                    _ => term
                        .out(&format!("Delete for group {g} failed because group does not exist.")),
                }
            }
        }
        (Some(t), false) => {
            if let Err(e) = admin::validate_topic(t) {
                term.out(&format!("Error while executing consumer group command {e}"));
                return 1;
            }
            for g in &opts.groups {
                match zk.exists(&format!("/consumers/{g}"), false).await {
                    Ok(Some(_)) if active(g.clone()).await => term.out(&format!("Delete for group {g} topic {t} failed because its consumers are still active.")),
                    Ok(Some(_)) => {
                        let _ = zookeeper::cli::delete_recursive(zk, &format!("/consumers/{g}/owners/{t}")).await;
                        let _ = zookeeper::cli::delete_recursive(zk, &format!("/consumers/{g}/offsets/{t}")).await;
                        term.out(&format!("Deleted consumer group information for group {g} topic {t} in zookeeper."));
                    }
                    _ => term.out(&format!("Delete for group {g} topic {t} failed because group does not exist.")),
                }
            }
        }
        (Some(t), true) => {
            if let Err(e) = admin::validate_topic(t) {
                term.out(&format!("Error while executing consumer group command {e}"));
                return 1;
            }
            let groups = zk.get_children(zku::CONSUMERS, false).await.unwrap_or_default();
            for g in groups {
                if !active(g.clone()).await {
                    let _ =
                        zookeeper::cli::delete_recursive(zk, &format!("/consumers/{g}/owners/{t}"))
                            .await;
                    let _ = zookeeper::cli::delete_recursive(
                        zk,
                        &format!("/consumers/{g}/offsets/{t}"),
                    )
                    .await;
                }
            }
            term.out(&format!("Deleted consumer group information for all inactive consumer groups for topic {t} in zookeeper."));
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn options_are_checked_as_0_9_does() {
        let e = |s: &str| ConsumerGroupOptions::parse(&args(s)).unwrap_err().to_string();
        assert_eq!(
            e(""),
            "List all consumer groups, describe a consumer group, or delete consumer group info."
        );
        assert_eq!(
            e("--zookeeper z:2181"),
            "Command must include exactly one action: --list, --describe, --delete"
        );
        assert_eq!(
            e("--list --describe --zookeeper z:2181"),
            "Command must include exactly one action: --list, --describe, --delete"
        );
        assert_eq!(e("--describe --zookeeper z:2181"), "Missing required argument \"[group]\"");
        assert_eq!(e("--describe --group g"), "Missing required argument \"[zookeeper]\"");
        assert_eq!(e("--list --new-consumer"), "Missing required argument \"[bootstrap-server]\"");
        assert_eq!(
            e("--list --new-consumer --bootstrap-server b:9092 --zookeeper z"),
            "Option [zookeeper] is not valid with [new-consumer]"
        );
        assert!(e("--delete --group g --new-consumer --bootstrap-server b:9092")
            .starts_with("Option [delete] is not valid with [new-consumer]. Note that"));
        assert_eq!(
            e("--delete --zookeeper z"),
            "Option [delete] either takes [group], [topic], or both"
        );
        assert_eq!(
            e("--list --group g --zookeeper z"),
            "Option \"[group]\" can't be used with option\"[list]\""
        );
        assert_eq!(
            e("--describe --group g --topic t --zookeeper z"),
            "Option \"[topic]\" can't be used with option\"[describe]\""
        );
        assert_eq!(
            e("--list --zookeeper z --lab-format 1.5"),
            "lab: --lab-format takes 0.9 or 2.0, not 1.5"
        );
        assert!(e("--list --zookeepr z")
            .contains("UnrecognizedOptionException: zookeepr is not a recognized option"));
        let o = ConsumerGroupOptions::parse(&args(
            "--describe --group g --bootstrap-server b:9092 --lab-format 0.9",
        ))
        .unwrap();
        assert!(
            o.new_consumer
                && o.format == OutputFormat::Kafka09
                && o.action == GroupAction::Describe
        );
        assert_eq!(
            o.notes,
            vec!["Kafka 0.9 needs --new-consumer together with --bootstrap-server".to_string()]
        );
        let o =
            ConsumerGroupOptions::parse(&args("--list --new-consumer --bootstrap-server b:9092"))
                .unwrap();
        assert!(o.notes.is_empty() && o.format == OutputFormat::Table);
    }

    #[test]
    fn reset_offsets_options_are_checked_as_1_x_does() {
        let e = |s: &str| ConsumerGroupOptions::parse(&args(s)).unwrap_err().to_string();
        let b = "--bootstrap-server b:9092";
        assert_eq!(
            e(&format!("{b} --reset-offsets --to-earliest --topic t")),
            "Missing required argument \"[group]\""
        );
        assert_eq!(e(&format!("{b} --reset-offsets --group g --topic t")), "Option '[reset-offsets]' requires one of the following scenarios: [to-offset, to-earliest, to-latest, to-current, shift-by]");
        assert_eq!(
            e(&format!("{b} --reset-offsets --group g --topic t --to-latest --shift-by 1")),
            "Option \"[to-latest]\" can't be used with option\"[shift-by]\""
        );
        assert_eq!(
            e(&format!("{b} --reset-offsets --group g --to-latest")),
            "One of the reset scopes should be defined: --all-topics, --topic."
        );
        assert_eq!(
            e(&format!(
                "{b} --reset-offsets --group g --all-topics --to-latest --execute --dry-run"
            )),
            "Option [reset-offsets] only accepts one of [execute] and [dry-run]"
        );
        assert_eq!(e(&format!("{b} --reset-offsets --list --group g")), "Command must include exactly one action: --list, --describe, --delete, --reset-offsets");
        assert_eq!(e(&format!("{b} --reset-offsets --group g --topic t --shift-by two")), "Exception in thread \"main\" joptsimple.OptionArgumentConversionException: Cannot parse argument 'two' of option ['shift-by']");
        assert_eq!(
            e(&format!("{b} --reset-offsets --group g --topic t:0,x --to-latest")),
            "lab: --topic t:0,x: partitions are numbers, as in topic:0,1"
        );
        assert!(
            e(&format!("{b} --reset-offsets --group g --topic a/b --to-latest")).contains("a/b")
        );
        let o = ConsumerGroupOptions::parse(&args(&format!(
            "{b} --reset-offsets --group g --topic t:0,1 --topic u --shift-by -3 --execute"
        )))
        .unwrap();
        assert_eq!(
            o.action,
            GroupAction::ResetOffsets(ResetSpec {
                scenario: ResetScenario::ShiftBy(-3),
                all_topics: false,
                execute: true
            })
        );
        assert_eq!(o.topics, vec!["t:0,1".to_string(), "u".to_string()]);
    }

    #[test]
    fn rows_print_in_both_forms() {
        let rows = vec![
            Row {
                topic: "t".into(),
                partition: 0,
                offset: Some(3),
                log_end: Some(5),
                consumer_id: Some("consumer-1-abc".into()),
                host: Some("/192.168.1.100".into()),
                client_id: Some("consumer-1".into()),
                owner: Some("consumer-1_/192.168.1.100".into()),
            },
            Row {
                topic: "t".into(),
                partition: 1,
                offset: None,
                log_end: None,
                consumer_id: None,
                host: None,
                client_id: None,
                owner: None,
            },
        ];
        let term = Term::new();
        print_09(&term, "g", &rows);
        assert_eq!(
            term.take(),
            "GROUP, TOPIC, PARTITION, CURRENT OFFSET, LOG END OFFSET, LAG, OWNER\ng, t, 0, 3, 5, 2, consumer-1_/192.168.1.100\ng, t, 1, unknown, unknown, unknown, none\n"
        );
        print_table(&term, &rows);
        let out = term.take();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "");
        assert_eq!(lines[1], "TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID");
        assert_eq!(lines[2], "t               0          3               5               2               consumer-1-abc  /192.168.1.100  consumer-1");
        assert_eq!(lines[3], "t               1          -               -               -               -               -               -");
    }
}
