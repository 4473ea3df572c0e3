//! The direct stream: `KafkaCluster` (the driver's view of the brokers), `DirectKafkaInputDStream`
//! (offset ranges per batch) and `KafkaRDD` (one task per range, fetching by offset).
//!
//! The latest offset a batch may read is the partition's high watermark: 0.9's OffsetRequest
//! answers an ordinary client with it (`isFromOrdinaryClient`). The lab's broker answers
//! ListOffsets with the log end, so `KafkaCluster` asks the leader with a zero-byte Fetch, whose
//! answer carries the high watermark — the same number 0.9's OffsetRequest would give.

use super::offset_range::{compute_offset_ranges, max_messages_per_partition, OffsetRange};
use super::StreamConfig;
use kafka::clients::fetch_metadata;
use kafka::log::decode_message_set;
use kafka::network_client::{NetworkClient, CONNECT_TIMEOUT};
use kafka::proto::{
    BrokerEndPoint, FetchPartition, FetchPartitionResponse, FetchRequest, KafkaError,
    ListOffsetsPartition, ListOffsetsRequest, Request, Response,
};
use sim_core::trace::fields;
use sim_core::trace::kind;
use sim_core::world::ProcCtx;
use std::collections::BTreeMap;
use std::time::Duration;

/// Client id of the driver and its tasks.
const CLIENT_ID: &str = "spark-streaming";

/// A fetched record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRecord {
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Value as text.
    pub value: String,
}

/// `KafkaCluster`: leaders and offsets, asked of the brokers in `metadata.broker.list`.
pub struct KafkaCluster {
    ctx: ProcCtx,
    bootstrap: Vec<(String, u16)>,
    brokers: BTreeMap<i32, BrokerEndPoint>,
    conns: BTreeMap<i32, NetworkClient>,
    attempt: usize,
}

impl KafkaCluster {
    /// A cluster view for this process.
    pub fn new(ctx: &ProcCtx, bootstrap: Vec<(String, u16)>) -> Self {
        KafkaCluster {
            ctx: ctx.clone(),
            bootstrap,
            brokers: BTreeMap::new(),
            conns: BTreeMap::new(),
            attempt: 0,
        }
    }

    /// `findLeaders`: partition → leader, for partitions that have one.
    pub async fn find_leaders(&mut self, topic: &str) -> Result<BTreeMap<i32, i32>, String> {
        // Ask the brokers in turn, starting after the one asked last time.
        let mut order = self.bootstrap.clone();
        if !order.is_empty() {
            let n = self.attempt % order.len();
            order.rotate_left(n);
        }
        self.attempt += 1;
        let (cluster, errs) = fetch_metadata(&self.ctx, &order, &[topic.to_string()], CLIENT_ID)
            .await
            .ok_or("Couldn't connect to any broker in metadata.broker.list")?;
        if errs.iter().any(|(_, e)| *e == KafkaError::UnknownTopicOrPartition) {
            return Err(format!("Couldn't find leaders for Set({topic}): unknown topic"));
        }
        self.conns.retain(|id, _| cluster.brokers.contains_key(id));
        self.brokers = cluster.brokers;
        let all = cluster.leaders.get(topic).cloned().unwrap_or_default();
        // Like KafkaCluster.findLeaders, a partition without a leader fails the whole lookup.
        let leaderless: Vec<String> =
            all.iter().filter(|(_, l)| **l < 0).map(|(p, _)| format!("[{topic},{p}]")).collect();
        if !leaderless.is_empty() {
            return Err(format!("Couldn't find leaders for Set({})", leaderless.join(", ")));
        }
        Ok(all)
    }

    async fn channel(&mut self, leader: i32) -> Option<&mut NetworkClient> {
        if !self.conns.contains_key(&leader) {
            let b = self.brokers.get(&leader)?.clone();
            let c = NetworkClient::connect(&self.ctx, &b, CLIENT_ID, CONNECT_TIMEOUT).await.ok()?;
            self.conns.insert(leader, c);
        }
        self.conns.get_mut(&leader)
    }

    /// A Fetch of at most `max_bytes` at `offset` from `leader`: (error, high watermark, records).
    async fn fetch(
        &mut self,
        leader: i32,
        topic: &str,
        p: i32,
        offset: i64,
        max_bytes: i32,
        max_wait_ms: i32,
    ) -> Result<(i64, Vec<StreamRecord>), KafkaError> {
        let Some(c) = self.channel(leader).await else {
            return Err(KafkaError::LeaderNotAvailable);
        };
        let req = Request::Fetch(FetchRequest {
            replica_id: -1,
            max_wait_time: max_wait_ms,
            min_bytes: 1,
            topics: vec![FetchPartition {
                topic: topic.to_string(),
                partition: p,
                fetch_offset: offset,
                max_bytes,
            }],
        });
        match c.request(req, Duration::from_millis(max_wait_ms.max(0) as u64 + 5000)).await.ok() {
            Some(Response::Fetch(rs)) => {
                let Some(FetchPartitionResponse {
                    error_code: err,
                    high_watermark: hw,
                    record_set: bytes,
                    ..
                }) = rs.responses.into_iter().next()
                else {
                    return Err(KafkaError::RequestTimedOut);
                };
                if err != KafkaError::None
                    && !(max_bytes == 0 && err == KafkaError::OffsetOutOfRange && hw >= 0)
                {
                    return Err(err);
                }
                let recs = decode_message_set(&bytes)
                    .0
                    .into_iter()
                    .map(|m| m.record)
                    .map(|r| StreamRecord {
                        partition: p,
                        offset: r.offset,
                        value: kafka::clients::value_text(r.value.as_deref()),
                    })
                    .collect();
                Ok((hw, recs))
            }
            _ => {
                self.conns.remove(&leader);
                Err(KafkaError::RequestTimedOut)
            }
        }
    }

    /// `getLatestLeaderOffsets`: each partition's high watermark, from its leader.
    pub async fn latest_leader_offsets(
        &mut self,
        topic: &str,
        partitions_hint: &BTreeMap<i32, i64>,
    ) -> Result<BTreeMap<i32, i64>, String> {
        let leaders = self.find_leaders(topic).await?;
        let mut out = BTreeMap::new();
        for (&p, &leader) in &leaders {
            let at = partitions_hint.get(&p).copied().unwrap_or(0);
            match self.fetch(leader, topic, p, at, 0, 0).await {
                Ok((hw, _)) => {
                    out.insert(p, hw);
                }
                Err(e) => return Err(format!("{topic}-{p}: {}", e.exception())),
            }
        }
        if out.is_empty() {
            return Err(format!("Couldn't find leader offsets for Set({topic})"));
        }
        Ok(out)
    }

    /// `getEarliestLeaderOffsets` (ListOffsets −2).
    pub async fn earliest_leader_offsets(
        &mut self,
        topic: &str,
    ) -> Result<BTreeMap<i32, i64>, String> {
        let leaders = self.find_leaders(topic).await?;
        let mut out = BTreeMap::new();
        for (&p, &leader) in &leaders {
            let Some(c) = self.channel(leader).await else {
                return Err(format!("{topic}-{p}: no connection to broker {leader}"));
            };
            match c
                .request(
                    Request::ListOffsets(ListOffsetsRequest {
                        replica_id: -1,
                        topics: vec![ListOffsetsPartition {
                            topic: topic.to_string(),
                            partition: p,
                            timestamp: -2,
                        }],
                    }),
                    Duration::from_secs(5),
                )
                .await
                .ok()
            {
                Some(Response::ListOffsets(v)) => match v.responses.first() {
                    Some(r) if r.error_code == KafkaError::None => {
                        out.insert(p, r.offset);
                    }
                    Some(r) => return Err(format!("{topic}-{p}: {}", r.error_code.exception())),
                    None => return Err(format!("{topic}-{p}: empty answer")),
                },
                _ => {
                    self.conns.remove(&leader);
                    return Err(format!("{topic}-{p}: no answer from broker {leader}"));
                }
            }
        }
        Ok(out)
    }
}

/// `DirectKafkaInputDStream`: where the stream stands (`currentOffsets`) and how the next batch's
/// ranges are cut.
pub struct DirectKafkaInputDStream {
    /// Partition → next offset to read.
    pub current_offsets: BTreeMap<i32, i64>,
    cluster: KafkaCluster,
    topic: String,
    cap: Option<i64>,
    max_retries: u32,
    backoff: Duration,
}

impl DirectKafkaInputDStream {
    /// A stream starting at `from` (`fromOffsets`).
    pub fn new(ctx: &ProcCtx, cfg: &StreamConfig, from: BTreeMap<i32, i64>) -> Self {
        DirectKafkaInputDStream {
            current_offsets: from,
            cluster: KafkaCluster::new(ctx, cfg.bootstrap.clone()),
            topic: cfg.topic.clone(),
            cap: max_messages_per_partition(cfg.max_rate_per_partition, cfg.batch_interval_ms),
            max_retries: cfg.max_retries,
            backoff: Duration::from_millis(cfg.refresh_leader_backoff_ms),
        }
    }

    /// `compute(validTime)`: the batch's ranges and the lag left behind them (records between
    /// each range's end and the latest offset). Retries the leader lookup `maxRetries` times.
    pub async fn compute(&mut self) -> Result<(Vec<OffsetRange>, i64), String> {
        let mut tries = 0;
        let latest = loop {
            match self.cluster.latest_leader_offsets(&self.topic, &self.current_offsets).await {
                Ok(l) => break l,
                Err(e) if tries >= self.max_retries => return Err(e),
                Err(_) => {
                    tries += 1;
                    madsim::time::sleep(self.backoff).await;
                }
            }
        };
        let ranges = compute_offset_ranges(&self.topic, &self.current_offsets, &latest, self.cap);
        let lag = ranges
            .iter()
            .map(|r| latest.get(&r.partition).copied().unwrap_or(r.until_offset) - r.until_offset)
            .sum::<i64>()
            .max(0);
        for r in &ranges {
            self.current_offsets.insert(r.partition, r.until_offset);
        }
        Ok((ranges, lag))
    }

    /// The starting offsets when there is neither checkpoint nor stored offsets
    /// (`auto.offset.reset=smallest`).
    pub async fn earliest(&mut self) -> Result<BTreeMap<i32, i64>, String> {
        self.cluster.earliest_leader_offsets(&self.topic).await
    }
}

/// `KafkaRDD.compute` for one range: a task that fetches `[from, until)` from the partition's
/// leader, retried up to `spark.task.maxFailures` times; each attempt finds the leader again, so
/// a task whose leader failed fetches from the new one.
pub async fn compute_range(
    ctx: &ProcCtx,
    cfg: &StreamConfig,
    batch_ms: u64,
    range: &OffsetRange,
) -> Result<Vec<StreamRecord>, String> {
    if range.count() == 0 {
        return Ok(Vec::new());
    }
    let mut kc = KafkaCluster::new(ctx, cfg.bootstrap.clone());
    let mut last_error = String::new();
    for attempt in 1..=cfg.task_max_failures {
        match fetch_range(&mut kc, range).await {
            Ok(recs) => return Ok(recs),
            Err((leader, e)) => {
                ctx.trace(
                    kind::STREAM_TASK_FETCH_FAILED,
                    None,
                    fields! {
                        "batch" => batch_ms, "topic" => range.topic.as_str(), "partition" => range.partition,
                        "from" => range.from_offset, "until" => range.until_offset, "leader" => leader, "attempt" => attempt, "error" => e.as_str()
                    },
                );
                last_error = e;
                // KafkaRDD sleeps refresh.leader.backoff.ms on a leader error before the task fails.
                madsim::time::sleep(Duration::from_millis(cfg.refresh_leader_backoff_ms)).await;
            }
        }
    }
    Err(format!(
        "Job aborted due to stage failure: Task {} failed {} times, most recent failure: {} ({})",
        range.partition, cfg.task_max_failures, last_error, range
    ))
}

/// One attempt: leader lookup, then Fetch until the range is read.
async fn fetch_range(
    kc: &mut KafkaCluster,
    range: &OffsetRange,
) -> Result<Vec<StreamRecord>, (i32, String)> {
    let leaders = kc.find_leaders(&range.topic).await.map_err(|e| (-1, e))?;
    let Some(&leader) = leaders.get(&range.partition) else {
        return Err((-1, format!("Couldn't find leader for {}-{}", range.topic, range.partition)));
    };
    let mut out = Vec::new();
    let mut at = range.from_offset;
    let mut empty = 0;
    while at < range.until_offset {
        let (_, recs) = kc
            .fetch(leader, &range.topic, range.partition, at, 1024 * 1024, 100)
            .await
            .map_err(|e| (leader, e.exception().rsplit('.').next().unwrap_or("").to_string()))?;
        let before = at;
        for r in recs {
            if r.offset < at || r.offset >= range.until_offset {
                continue;
            }
            at = r.offset + 1;
            out.push(r);
        }
        if at == before {
            empty += 1;
            // "Ran out of messages before reaching ending offset": the leader no longer has them.
            if empty >= 20 {
                return Err((leader, format!("Ran out of messages before reaching ending offset {} for topic {} partition {} start {}", range.until_offset, range.topic, range.partition, at)));
            }
        }
    }
    Ok(out)
}
