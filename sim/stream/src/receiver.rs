//! The receiver-based stream (`KafkaUtils.createStream`): `ReceiverTracker` runs one receiver —
//! `KafkaReceiver`, or `ReliableKafkaReceiver` with the write-ahead log — on the old ZooKeeper
//! consumer ([`ZookeeperConsumerConnector`], group `group.id`, offsets in
//! `/consumers/<group>/offsets`). Its `BlockGenerator` cuts the records received into a block
//! every `spark.streaming.blockInterval`; the `ReceivedBlockTracker` hands every block not yet
//! allocated to the next batch.
//!
//! - `KafkaReceiver` (no WAL): blocks live in the driver's memory (`BlockManager`), and the
//!   consumer auto-commits what the receiver has *taken* every `auto.commit.interval.ms`. A driver
//!   crash loses the blocks; the restarted receiver starts from the committed offsets, after them.
//! - `ReliableKafkaReceiver` (WAL): auto-commit is off; a block is written to the receiver's
//!   write-ahead log (fsynced) and recorded in the tracker's log (`BlockAdditionEvent`) before
//!   its offsets are committed to ZooKeeper by the receiver's own ZooKeeper client. A restarted
//!   driver reads both logs back and recomputes the batches that did not complete.
//!
//! Simplification: the lab runs the receiver in the driver process (Spark's local mode), so
//! a driver crash takes it along, as an application's executors die with its driver.

use super::direct::StreamRecord;
use super::offset_range::{ranges_json, runs, OffsetRange};
use super::wal::WriteAheadLog;
use super::StreamConfig;
use kafka::zk_consumer::{
    ConsumerConfig, StreamError as ZkStreamError, ZookeeperConsumerConnector,
};
use madsim::time::Instant;
use serde_json::{json, Value};
use sim_core::trace::kind;
use sim_core::trace::{fields, lock};
use sim_core::world::ProcCtx;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zookeeper::client::ZooKeeper;
use zookeeper::txn::{CreateMode, ZkError};

/// `ReceivedBlockInfo`: a block's id, size and the offsets it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockInfo {
    /// `input-0-<ms>` (`StreamBlockId`).
    pub id: String,
    /// Records.
    pub records: u64,
    /// Offsets it holds, as ranges.
    pub ranges: Vec<OffsetRange>,
}

impl BlockInfo {
    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({ "id": self.id, "records": self.records, "ranges": ranges_json(&self.ranges) })
    }

    /// From JSON.
    pub fn from_json(v: &Value) -> Option<BlockInfo> {
        Some(BlockInfo {
            id: v.get("id")?.as_str()?.to_string(),
            records: v.get("records")?.as_u64()?,
            ranges: super::offset_range::ranges_from_json(v.get("ranges")),
        })
    }
}

#[derive(Default)]
struct State {
    /// The `BlockGenerator`'s current buffer.
    buffer: Vec<StreamRecord>,
    /// Block data: the `BlockManager`'s memory store, or read back from the WAL after a restart.
    store: BTreeMap<String, Vec<StreamRecord>>,
    /// `ReceivedBlockTracker`: blocks not yet allocated to a batch.
    unallocated: Vec<BlockInfo>,
    next_block: u64,
    last_record: Option<Instant>,
    receiving: bool,
    stopped: bool,
    generator_done: bool,
}

/// `ReceiverTracker` with its receiver, block generator and `ReceivedBlockTracker`.
pub struct ReceiverTracker {
    ctx: ProcCtx,
    cfg: Arc<StreamConfig>,
    st: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    tracker_wal: Option<Arc<WriteAheadLog>>,
    data_wal: Option<Arc<WriteAheadLog>>,
}

/// What the tracker's write-ahead log said at recovery.
#[derive(Debug, Default)]
pub struct Recovered {
    /// Batch time → blocks allocated to it.
    pub allocated: BTreeMap<u64, Vec<BlockInfo>>,
}

impl ReceiverTracker {
    /// A tracker; with the WAL, opens this incarnation's segments of both logs.
    pub fn new(ctx: &ProcCtx, cfg: Arc<StreamConfig>, now_ms: u64) -> Self {
        let (tracker_wal, data_wal) = if cfg.wal {
            let disk = ctx.disk();
            (
                Some(Arc::new(WriteAheadLog::open(
                    disk.clone(),
                    &format!("{}/receivedBlockMetadata", cfg.checkpoint_dir),
                    now_ms,
                ))),
                Some(Arc::new(WriteAheadLog::open(
                    disk,
                    &format!("{}/receivedData/0", cfg.checkpoint_dir),
                    now_ms,
                ))),
            )
        } else {
            (None, None)
        };
        ReceiverTracker {
            ctx: ctx.clone(),
            cfg,
            st: Arc::new(Mutex::new(State::default())),
            stop: Arc::new(AtomicBool::new(false)),
            tracker_wal,
            data_wal,
        }
    }

    /// Recovery from the write-ahead logs (`ReceivedBlockTracker` replaying its log,
    /// `WriteAheadLogBackedBlockRDD` reading block data): blocks never allocated go back to the
    /// queue, block data back to the store; returns the allocations.
    pub async fn recover(&self) -> Recovered {
        let (Some(tw), Some(dw)) = (&self.tracker_wal, &self.data_wal) else {
            return Recovered::default();
        };
        let mut added: Vec<BlockInfo> = Vec::new();
        let mut rec = Recovered::default();
        for ev in tw.read_all().await {
            if let Some(b) = ev.get("add").and_then(BlockInfo::from_json) {
                added.push(b);
            } else if let (Some(t), Some(ids)) = (
                ev.get("alloc").and_then(Value::as_u64),
                ev.get("blocks").and_then(Value::as_array),
            ) {
                let ids: BTreeSet<&str> = ids.iter().filter_map(Value::as_str).collect();
                rec.allocated.insert(
                    t,
                    added.iter().filter(|b| ids.contains(b.id.as_str())).cloned().collect(),
                );
            }
        }
        let allocated: BTreeSet<String> =
            rec.allocated.values().flatten().map(|b| b.id.clone()).collect();
        let mut data: BTreeMap<String, Vec<StreamRecord>> = BTreeMap::new();
        for ev in dw.read_all().await {
            let Some(id) = ev.get("block").and_then(Value::as_str) else { continue };
            let recs = ev
                .get("records")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|r| {
                            let r = r.as_array()?;
                            Some(StreamRecord {
                                partition: r.first()?.as_i64()? as i32,
                                offset: r.get(1)?.as_i64()?,
                                value: r.get(2)?.as_str()?.to_string(),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            data.insert(id.to_string(), recs);
        }
        let mut st = lock(&self.st);
        st.store.extend(data);
        st.unallocated = added.into_iter().filter(|b| !allocated.contains(&b.id)).collect();
        self.ctx.trace(
            kind::STREAM_WAL_RECOVERED,
            None,
            fields! { "blocks" => st.store.len(), "unallocated" => st.unallocated.len(), "batches" => rec.allocated.len() },
        );
        rec
    }

    /// Starts the receiver and its block generator.
    pub fn start(&self) {
        let (ctx, cfg, st, stop) =
            (self.ctx.clone(), self.cfg.clone(), self.st.clone(), self.stop.clone());
        madsim::task::spawn(receive(ctx, cfg, st, stop));
        let (ctx, cfg, st) = (self.ctx.clone(), self.cfg.clone(), self.st.clone());
        let (tw, dw) = (self.tracker_wal.clone(), self.data_wal.clone());
        madsim::task::spawn(generate_blocks(ctx, cfg, st, tw, dw));
    }

    /// Graceful stop: the receiver stops once it has caught up (nothing received for a while).
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// The receiver stopped and every received block has been allocated.
    pub fn drained(&self) -> bool {
        let st = lock(&self.st);
        st.stopped && st.generator_done && st.buffer.is_empty() && st.unallocated.is_empty()
    }

    /// `allocateBlocksToBatch`: every unallocated block goes to batch `t` (logged first with
    /// the WAL).
    pub async fn allocate(&self, t: u64) -> Vec<BlockInfo> {
        let blocks = std::mem::take(&mut lock(&self.st).unallocated);
        if let Some(w) = &self.tracker_wal {
            let ids: Vec<&str> = blocks.iter().map(|b| b.id.as_str()).collect();
            if w.write(&json!({ "alloc": t, "blocks": ids })).await.is_err() {
                // The allocation is not logged: keep the blocks for the next batch.
                lock(&self.st).unallocated.splice(0..0, blocks);
                return Vec::new();
            }
        }
        let records: u64 = blocks.iter().map(|b| b.records).sum();
        self.ctx.trace(
            kind::STREAM_BLOCKS_ALLOCATED,
            None,
            fields! { "batch" => t, "blocks" => blocks.len(), "records" => records },
        );
        blocks
    }

    /// The records of some blocks, and the blocks whose data is gone.
    pub fn block_data(&self, blocks: &[BlockInfo]) -> (Vec<StreamRecord>, Vec<BlockInfo>) {
        let st = lock(&self.st);
        let mut out = Vec::new();
        let mut missing = Vec::new();
        for b in blocks {
            match st.store.get(&b.id) {
                Some(r) => out.extend(r.iter().cloned()),
                None => missing.push(b.clone()),
            }
        }
        (out, missing)
    }

    /// Frees the blocks of a completed batch (`BatchCleanupEvent`; the log files are kept).
    pub fn cleanup(&self, blocks: &[BlockInfo]) {
        let mut st = lock(&self.st);
        for b in blocks {
            st.store.remove(&b.id);
        }
    }
}

/// The receiver's thread: the old consumer's stream into the block generator's buffer.
async fn receive(
    ctx: ProcCtx,
    cfg: Arc<StreamConfig>,
    st: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
) {
    let mut props: BTreeMap<String, String> = BTreeMap::new();
    props.insert("group.id".into(), cfg.group.clone());
    props.insert("zookeeper.connect".into(), cfg.zk_connect.clone());
    props.insert("auto.offset.reset".into(), "smallest".into());
    // ReliableKafkaReceiver turns auto-commit off and commits per stored block itself.
    props.insert("auto.commit.enable".into(), (!cfg.wal).to_string());
    props.insert("auto.commit.interval.ms".into(), cfg.auto_commit_interval_ms.to_string());
    props.insert("consumer.timeout.ms".into(), "200".into());
    let connector = match ConsumerConfig::new(&props) {
        Ok(c) => ZookeeperConsumerConnector::new(&ctx, c).await,
        Err(e) => Err(e),
    };
    let mut connector = match connector {
        Ok(c) => c,
        Err(e) => {
            ctx.trace(kind::STREAM_RECEIVER_ERROR, None, fields! { "error" => e.0 });
            let mut s = lock(&st);
            s.stopped = true;
            return;
        }
    };
    let mut stream = match connector.create_message_streams(&cfg.topic).await {
        Ok(s) => s,
        Err(e) => {
            ctx.trace(kind::STREAM_RECEIVER_ERROR, None, fields! { "error" => e.0 });
            connector.shutdown().await;
            lock(&st).stopped = true;
            return;
        }
    };
    let kind = if cfg.wal { "ReliableKafkaReceiver" } else { "KafkaReceiver" };
    ctx.trace(kind::STREAM_RECEIVER_START, None, fields! { "receiver" => kind, "consumer" => connector.consumer_id(), "group" => cfg.group.as_str() });
    lock(&st).receiving = true;
    let idle = Duration::from_millis(2000);
    loop {
        if stop.load(Ordering::SeqCst) {
            // Stop once caught up: partitions owned and nothing new for a while.
            let quiet =
                lock(&st).last_record.is_none_or(|t| Instant::now().duration_since(t) >= idle);
            if quiet && !connector.owned_partitions().is_empty() {
                break;
            }
        }
        match stream.next().await {
            Ok(m) => {
                let value = kafka::clients::value_text(m.value.as_deref());
                let mut s = lock(&st);
                s.buffer.push(StreamRecord { partition: m.partition, offset: m.offset, value });
                s.last_record = Some(Instant::now());
            }
            Err(ZkStreamError::Timeout) => {}
            Err(ZkStreamError::End) => break,
        }
    }
    connector.shutdown().await;
    ctx.trace(kind::STREAM_RECEIVER_STOP, None, fields! { "receiver" => kind });
    lock(&st).stopped = true;
}

/// The `BlockGenerator`: every block interval the buffer becomes a block, pushed to the store
/// (and with the WAL: logged, tracked, then its offsets committed).
async fn generate_blocks(
    ctx: ProcCtx,
    cfg: Arc<StreamConfig>,
    st: Arc<Mutex<State>>,
    tracker_wal: Option<Arc<WriteAheadLog>>,
    data_wal: Option<Arc<WriteAheadLog>>,
) {
    let zk = if cfg.wal {
        let servers = zookeeper::connect_string::parse_connect_string(&cfg.zk_connect, 2181)
            .map(|(s, _)| s)
            .unwrap_or_default();
        Some(ZooKeeper::new(&ctx, servers, Duration::from_millis(6000)))
    } else {
        None
    };
    let every = Duration::from_millis(cfg.block_interval_ms);
    loop {
        madsim::time::sleep(every).await;
        let (records, stopped, n) = {
            let mut s = lock(&st);
            let r = std::mem::take(&mut s.buffer);
            let n = s.next_block;
            if !r.is_empty() {
                s.next_block += 1;
            }
            (r, s.stopped, n)
        };
        if records.is_empty() {
            if stopped {
                break;
            }
            continue;
        }
        // StreamBlockId(streamId, uniqueId): Spark takes the time; it also keeps ids unique
        // across driver incarnations, whose blocks the write-ahead log may still hold.
        let _ = n;
        let id = format!("input-0-{}", ctx.world().elapsed().as_millis());
        let mut offsets: BTreeMap<i32, BTreeSet<i64>> = BTreeMap::new();
        for r in &records {
            offsets.entry(r.partition).or_default().insert(r.offset);
        }
        let info = BlockInfo {
            id: id.clone(),
            records: records.len() as u64,
            ranges: runs(&cfg.topic, &offsets),
        };
        if let (Some(dw), Some(tw)) = (&data_wal, &tracker_wal) {
            let recs: Vec<Value> =
                records.iter().map(|r| json!([r.partition, r.offset, r.value])).collect();
            if dw.write(&json!({ "block": id, "records": recs })).await.is_err()
                || tw.write(&json!({ "add": info.to_json() })).await.is_err()
            {
                ctx.trace(kind::STREAM_WAL_ERROR, None, fields! { "block" => id.as_str() });
                continue;
            }
            ctx.trace(
                kind::STREAM_WAL_WRITE,
                None,
                fields! { "block" => id.as_str(), "records" => records.len() },
            );
        }
        {
            let mut s = lock(&st);
            s.store.insert(id.clone(), records);
            s.unallocated.push(info.clone());
        }
        ctx.trace(
            kind::STREAM_RECEIVER_BLOCK,
            None,
            fields! { "block" => id.as_str(), "records" => info.records, "ranges" => ranges_json(&info.ranges), "wal" => cfg.wal },
        );
        if let Some(zk) = &zk {
            // ReliableKafkaReceiver.commitOffset: the block is safe, so its offsets may be committed.
            let mut written = Vec::new();
            for (p, set) in &offsets {
                let Some(last) = set.iter().next_back() else { continue };
                let path = format!("/consumers/{}/offsets/{}/{p}", cfg.group, cfg.topic);
                let data = (last + 1).to_string();
                let ok = match zk.set_data(&path, data.as_bytes(), -1).await {
                    Err(ZkError::NoNode) => kafka::zk_utils::create_with_parents(
                        zk,
                        &path,
                        data.as_bytes(),
                        CreateMode::Persistent,
                    )
                    .await
                    .is_ok(),
                    r => r.is_ok(),
                };
                if ok {
                    written.push((cfg.topic.clone(), *p, last + 1));
                }
            }
            ctx.trace(
                kind::STREAM_RECEIVER_COMMIT,
                None,
                fields! { "block" => id.as_str(), "offsets" => written },
            );
        }
    }
    if let Some(zk) = zk {
        zk.close().await;
    }
    lock(&st).generator_done = true;
}
