//! `StreamingContext`: the driver. `JobGenerator` (a task ticking every batch interval: cut the
//! batch's input, record it as pending, checkpoint) and `JobScheduler` (the driver's main loop:
//! run one batch's job at a time, output, mark it complete, checkpoint again). A restarted driver
//! reads the newest checkpoint (`StreamingContext.getOrCreate`), re-runs the pending batches, then
//! the batches it missed while down, then goes on.
//!
//! [`supervise`] keeps a driver running like `spark-submit --supervise`: when the driver dies
//! (a crash, or an aborted job) it is started again after a delay, and recovers.

use super::direct::{compute_range, DirectKafkaInputDStream, StreamRecord};
use super::offset_range::{ranges_from_json, ranges_json, runs, OffsetRange};
use super::output::{commit_to_topic, CommitMode, Committed, ResultTable};
use super::receiver::{BlockInfo, ReceiverTracker};
use super::{checkpoint, Pipeline, Sink, StreamConfig, StreamError, Style};
use futures::channel::mpsc;
use futures::StreamExt;
use serde_json::{json, Value};
use sim_core::trace::kind;
use sim_core::trace::{fields, lock};
use sim_core::world::{ExitStatus, ProcCtx, World};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The driver's process name, as `jps` shows a `spark-submit` driver.
pub const DRIVER: &str = "SparkSubmit";

/// What a batch reads.
#[derive(Debug, Clone)]
enum Input {
    Ranges(Vec<OffsetRange>),
    Blocks(Vec<BlockInfo>),
}

impl Input {
    fn to_json(&self) -> Value {
        match self {
            Input::Ranges(r) => json!({ "ranges": ranges_json(r) }),
            Input::Blocks(b) => {
                json!({ "blocks": b.iter().map(BlockInfo::to_json).collect::<Vec<_>>() })
            }
        }
    }

    fn from_json(v: &Value) -> Input {
        match v.get("blocks").and_then(Value::as_array) {
            Some(bs) => Input::Blocks(bs.iter().filter_map(BlockInfo::from_json).collect()),
            None => Input::Ranges(ranges_from_json(v.get("ranges"))),
        }
    }

    fn ranges(&self) -> Vec<OffsetRange> {
        match self {
            Input::Ranges(r) => r.clone(),
            Input::Blocks(b) => b.iter().flat_map(|x| x.ranges.iter().cloned()).collect(),
        }
    }

    fn records(&self) -> i64 {
        match self {
            Input::Ranges(r) => r.iter().map(OffsetRange::count).sum(),
            Input::Blocks(b) => b.iter().map(|x| x.records as i64).sum(),
        }
    }
}

struct Batch {
    /// Batch time: virtual ms since the simulation started, a multiple of the interval.
    time: u64,
    input: Input,
    lag: i64,
}

enum Generated {
    Batch(Batch),
    Failed(String),
    Done,
}

/// What the checkpoint holds, shared by the generator and the scheduler.
#[derive(Default)]
struct Shared {
    pending: BTreeMap<u64, Input>,
    offsets: BTreeMap<i32, i64>,
    window: VecDeque<(u64, BTreeMap<String, i64>)>,
}

struct Driver {
    ctx: ProcCtx,
    cfg: Arc<StreamConfig>,
    shared: Arc<Mutex<Shared>>,
    /// `CheckpointWriter`'s single thread.
    writer: Arc<futures::lock::Mutex<()>>,
}

impl Driver {
    fn now_ms(&self) -> u64 {
        self.ctx.world().elapsed().as_millis() as u64
    }

    /// `DoCheckpoint(time)`.
    async fn checkpoint(&self, time: u64) {
        let _g = self.writer.lock().await;
        let body = {
            let s = lock(&self.shared);
            json!({
                "time": time,
                "batch_interval_ms": self.cfg.batch_interval_ms,
                "style": self.cfg.style.name(),
                "pending": s.pending.iter().map(|(t, i)| json!({ "time": t, "input": i.to_json() })).collect::<Vec<_>>(),
                "offsets": s.offsets.iter().map(|(p, o)| json!([p, o])).collect::<Vec<_>>(),
                "window": s.window.iter().map(|(t, c)| json!([t, c])).collect::<Vec<_>>(),
            })
        };
        let pending = lock(&self.shared).pending.len();
        match checkpoint::write(&self.ctx.disk(), &self.cfg.checkpoint_dir, time, &body).await {
            Ok(path) => {
                self.ctx.trace(kind::STREAM_CHECKPOINT_WRITE, None, fields! { "batch" => time, "file" => path, "pending" => pending, "offsets" => body["offsets"].clone() });
            }
            Err(e) => {
                self.ctx.trace(
                    kind::STREAM_CHECKPOINT_ERROR,
                    None,
                    fields! { "batch" => time, "error" => e.to_string() },
                );
            }
        }
    }
}

/// Runs a streaming application's driver until it stops gracefully (`Ok`) or fails.
pub async fn run_driver(
    ctx: ProcCtx,
    cfg: StreamConfig,
    pipeline: Pipeline,
) -> Result<(), StreamError> {
    cfg.validate()?;
    let cfg = Arc::new(cfg);
    let disk = ctx.disk();
    let d = Arc::new(Driver {
        ctx: ctx.clone(),
        cfg: cfg.clone(),
        shared: Arc::new(Mutex::new(Shared::default())),
        writer: Arc::new(futures::lock::Mutex::new(())),
    });
    let ckpt = checkpoint::read_latest(&disk, &cfg.checkpoint_dir).await;
    let table_path = format!("/usr/local/spark/results/{}/table.log", cfg.app);
    let mut table = match cfg.sink {
        Sink::Table => Some(ResultTable::open(disk.clone(), &table_path, cfg.commit).await),
        Sink::Topic(_) => None,
    };
    let interval = cfg.batch_interval_ms;
    ctx.trace(
        kind::STREAM_CONTEXT_START,
        None,
        fields! {
            "style" => cfg.style.name(), "topic" => cfg.topic.as_str(), "group" => cfg.group.as_str(),
            "batch_interval_ms" => interval, "max_rate_per_partition" => cfg.max_rate_per_partition,
            "window" => cfg.window_batches, "wal" => cfg.wal,
            "sink" => match &cfg.sink { Sink::Table => format!("table {table_path}"), Sink::Topic(t) => format!("topic {t}") },
            "commit" => cfg.commit.name(), "recovered" => ckpt.is_some(),
            "checkpoint" => ckpt.as_ref().map(|c| c.0.clone()).unwrap_or_default()
        },
    );

    // Restore what the checkpoint says.
    let mut queue: Vec<Batch> = Vec::new();
    let mut ckpt_time: Option<u64> = None;
    if let Some((_, v)) = &ckpt {
        ckpt_time = v.get("time").and_then(Value::as_u64);
        let mut s = lock(&d.shared);
        for p in v.get("pending").and_then(Value::as_array).into_iter().flatten() {
            if let (Some(t), Some(i)) = (p.get("time").and_then(Value::as_u64), p.get("input")) {
                s.pending.insert(t, Input::from_json(i));
            }
        }
        for o in v.get("offsets").and_then(Value::as_array).into_iter().flatten() {
            if let (Some(p), Some(off)) =
                (o.get(0).and_then(Value::as_i64), o.get(1).and_then(Value::as_i64))
            {
                s.offsets.insert(p as i32, off);
            }
        }
        for w in v.get("window").and_then(Value::as_array).into_iter().flatten() {
            let t = w.get(0).and_then(Value::as_u64).unwrap_or(0);
            let c: BTreeMap<String, i64> = w
                .get(1)
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_i64().unwrap_or(0))).collect())
                .unwrap_or_default();
            s.window.push_back((t, c));
        }
    }

    let tracker = match cfg.style {
        Style::Receiver => Some(Arc::new(ReceiverTracker::new(&ctx, cfg.clone(), d.now_ms()))),
        Style::Direct => None,
    };
    let mut dstream = None;
    match cfg.style {
        Style::Direct => {
            let mut from = lock(&d.shared).offsets.clone();
            if ckpt.is_none() {
                // No checkpoint: the offsets stored with the results, else the log start.
                let stored: BTreeMap<i32, i64> = table
                    .as_ref()
                    .map(|t| {
                        t.offsets()
                            .iter()
                            .filter(|((tp, _), _)| *tp == cfg.topic)
                            .map(|((_, p), o)| (*p, *o))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut ds = DirectKafkaInputDStream::new(&ctx, &cfg, BTreeMap::new());
                if !stored.is_empty() && cfg.commit == CommitMode::Transactional {
                    from = stored;
                } else {
                    let mut tries = 0;
                    from = loop {
                        match ds.earliest().await {
                            Ok(f) => break f,
                            Err(e) if tries >= 30 => return Err(StreamError::Job(e)),
                            Err(_) => {
                                tries += 1;
                                madsim::time::sleep(Duration::from_millis(1000)).await;
                            }
                        }
                    };
                }
                ctx.trace(kind::STREAM_DIRECT_FROM_OFFSETS, None, fields! { "offsets" => from.iter().map(|(p, o)| json!([p, o])).collect::<Vec<_>>() });
            }
            lock(&d.shared).offsets = from.clone();
            dstream = Some(DirectKafkaInputDStream::new(&ctx, &cfg, from));
        }
        Style::Receiver => {
            let Some(tr) = &tracker else { unreachable!("a receiver stream has a tracker") };
            let rec = tr.recover().await;
            // Batches the tracker's log allocated after the newest checkpoint never completed.
            let mut s = lock(&d.shared);
            for (t, blocks) in rec.allocated {
                if ckpt_time.is_some_and(|c| t > c)
                    || (ckpt_time.is_none() && !s.pending.contains_key(&t))
                {
                    s.pending.entry(t).or_insert(Input::Blocks(blocks));
                }
            }
            drop(s);
            tr.start();
        }
    }
    for (t, input) in lock(&d.shared).pending.clone() {
        queue.push(Batch { time: t, input, lag: 0 });
    }
    if !queue.is_empty() {
        ctx.trace(
            kind::STREAM_BATCH_RESCHEDULED,
            None,
            fields! { "batches" => queue.iter().map(|b| b.time).collect::<Vec<_>>() },
        );
    }

    // The JobGenerator.
    let (tx, mut rx) = mpsc::unbounded::<Generated>();
    for b in queue {
        let _ = tx.unbounded_send(Generated::Batch(b));
    }
    let now = d.now_ms();
    let mut first = now.div_ceil(interval) * interval;
    if first == now {
        first += interval;
    }
    let down_from = ckpt_time.map(|c| c + interval).filter(|t| *t < first);
    {
        let d = d.clone();
        let tracker = tracker.clone();
        madsim::task::spawn(async move {
            let mut t = down_from.unwrap_or(first);
            let mut ds = dstream;
            loop {
                if t >= first {
                    let at = madsim::time::Instant::now()
                        + Duration::from_millis(t.saturating_sub(d.now_ms()));
                    madsim::time::sleep_until(at).await;
                }
                let stopping = d.now_ms() >= d.cfg.stop_at_ms;
                let (input, lag) = match (&mut ds, &tracker) {
                    (Some(ds), _) => match ds.compute().await {
                        Ok((r, lag)) => {
                            lock(&d.shared).offsets = ds.current_offsets.clone();
                            (Input::Ranges(r), lag)
                        }
                        Err(e) => {
                            let _ = tx.unbounded_send(Generated::Failed(format!(
                                "Couldn't find leader offsets: {e}"
                            )));
                            return;
                        }
                    },
                    (None, Some(tr)) => {
                        if stopping {
                            tr.request_stop();
                        }
                        (Input::Blocks(tr.allocate(t).await), 0)
                    }
                    (None, None) => return,
                };
                let empty = input.records() == 0;
                d.ctx.trace(
                    kind::STREAM_BATCH_SCHEDULED,
                    None,
                    fields! {
                        "batch" => t, "batch_wall_ms" => d.ctx.world().config().epoch_ms as u64 + t, "records" => input.records(),
                        "ranges" => ranges_json(&input.ranges()), "lag" => lag, "down_time" => t < first
                    },
                );
                lock(&d.shared).pending.insert(t, input.clone());
                let _ = tx.unbounded_send(Generated::Batch(Batch { time: t, input, lag }));
                d.checkpoint(t).await;
                let drained = match &tracker {
                    Some(tr) => tr.drained(),
                    None => true,
                };
                if (stopping && empty && drained)
                    || d.now_ms() >= d.cfg.stop_at_ms.saturating_add(d.cfg.drain_limit_ms)
                {
                    let _ = tx.unbounded_send(Generated::Done);
                    return;
                }
                t += interval;
            }
        });
    }

    // The JobScheduler: one job at a time.
    let mut batches = 0u64;
    while let Some(g) = rx.next().await {
        let b = match g {
            Generated::Batch(b) => b,
            Generated::Failed(e) => {
                ctx.trace(kind::STREAM_JOB_FAILED, None, fields! { "error" => e.as_str() });
                return Err(StreamError::Job(e));
            }
            Generated::Done => break,
        };
        run_batch(&d, &pipeline, tracker.as_deref(), table.as_mut(), b).await?;
        batches += 1;
    }
    ctx.trace(kind::STREAM_CONTEXT_STOP, None, fields! { "graceful" => true, "batches" => batches, "offsets" => lock(&d.shared).offsets.iter().map(|(p, o)| json!([p, o])).collect::<Vec<_>>() });
    Ok(())
}

/// One batch's job: read, transform, reduce, window, output, complete, checkpoint.
async fn run_batch(
    d: &Driver,
    pipeline: &Pipeline,
    tracker: Option<&ReceiverTracker>,
    table: Option<&mut ResultTable>,
    mut b: Batch,
) -> Result<(), StreamError> {
    let ctx = &d.ctx;
    let cfg = &d.cfg;
    let started = madsim::time::Instant::now();
    let start_ms = d.now_ms();
    let delay = start_ms.saturating_sub(b.time);
    ctx.trace(
        kind::STREAM_BATCH_STARTED,
        None,
        fields! { "batch" => b.time, "scheduling_delay_ms" => delay },
    );
    // Offsets stored with the results are the truth (Koeninger's exactly-once recipe): a batch
    // recomputed after a restart - from the checkpoint's older offsets, up to a newer latest
    // offset - reads only what the table does not hold yet.
    let mut resumed_all = false;
    if let (Some(t), Input::Ranges(rs), CommitMode::Transactional) =
        (table.as_deref(), &b.input, cfg.commit)
    {
        let clamped: Vec<OffsetRange> = rs
            .iter()
            .map(|r| {
                let stored = t
                    .offsets()
                    .get(&(r.topic.clone(), r.partition))
                    .copied()
                    .unwrap_or(r.from_offset);
                let from = r.from_offset.max(stored);
                OffsetRange {
                    from_offset: from,
                    until_offset: r.until_offset.max(from),
                    ..r.clone()
                }
            })
            .collect();
        if &clamped != rs {
            ctx.trace(kind::STREAM_OUTPUT_RESUME, None, fields! { "batch" => b.time, "ranges" => ranges_json(rs), "resumed" => ranges_json(&clamped), "reason" => "the result table already holds part of these ranges" });
            resumed_all = b.input.records() > 0 && clamped.iter().all(|r| r.count() == 0);
            if resumed_all {
                ctx.trace(kind::STREAM_OUTPUT_SKIPPED, None, fields! { "batch" => b.time, "sink" => "table", "reason" => "offsets already committed", "ranges" => ranges_json(rs) });
            }
            b.input = Input::Ranges(clamped);
        }
    }
    let (records, ranges): (Vec<StreamRecord>, Vec<OffsetRange>) = match &b.input {
        Input::Ranges(rs) => {
            // KafkaRDD: one task per partition, run side by side.
            let tasks = rs.iter().map(|r| compute_range(ctx, cfg, b.time, r));
            let mut out = Vec::new();
            for res in futures::future::join_all(tasks).await {
                match res {
                    Ok(v) => out.extend(v),
                    Err(e) => {
                        ctx.trace(
                            kind::STREAM_JOB_FAILED,
                            None,
                            fields! { "batch" => b.time, "error" => e.as_str() },
                        );
                        return Err(StreamError::Job(e));
                    }
                }
            }
            (out, rs.clone())
        }
        Input::Blocks(bs) => {
            let (out, missing) = tracker.map(|t| t.block_data(bs)).unwrap_or_default();
            if !missing.is_empty() {
                // Blocks held in the crashed driver's memory: gone (no write-ahead log).
                ctx.trace(
                    kind::STREAM_BLOCKS_LOST,
                    None,
                    fields! { "batch" => b.time, "blocks" => missing.len(), "records" => missing.iter().map(|m| m.records).sum::<u64>(), "ranges" => ranges_json(&missing.iter().flat_map(|m| m.ranges.clone()).collect::<Vec<_>>()) },
                );
            }
            let mut offs: BTreeMap<i32, BTreeSet<i64>> = BTreeMap::new();
            for r in &out {
                offs.entry(r.partition).or_default().insert(r.offset);
            }
            (out, runs(&cfg.topic, &offs))
        }
    };
    // Map side: each partition's values through the program, then combined per key.
    let mut by_partition: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    let mut bytes = 0u64;
    for r in &records {
        bytes += r.value.len() as u64;
        by_partition.entry(r.partition).or_default().push(r.value.clone());
    }
    let parts: Vec<BTreeMap<String, i64>> =
        by_partition.values().map(|v| pipeline.apply(v)).collect();
    let tasks = by_partition.len().max(1) as u64;
    // Deserialising, transforming and shuffling copy each record a few times; each task is a
    // thread hand-off on the executor.
    ctx.cpu()
        .run(None, |c| {
            let mut t = c.memcpy(bytes * 3);
            for _ in 0..tasks * 2 {
                t += c.context_switch();
            }
            t
        })
        .await;
    let counts = pipeline.merge(&parts);
    let windowed = {
        let mut s = lock(&d.shared);
        s.window.retain(|(t, _)| *t != b.time);
        s.window.push_back((b.time, counts.clone()));
        while s.window.len() > cfg.window_batches as usize {
            s.window.pop_front();
        }
        let all: Vec<BTreeMap<String, i64>> = s.window.iter().map(|(_, c)| c.clone()).collect();
        pipeline.merge(&all)
    };
    let n = records.len() as u64;
    let committed = match (&cfg.sink, table) {
        (Sink::Table, Some(t)) => t
            .commit(ctx, b.time, &windowed, &ranges, n)
            .await
            .map_err(|e| StreamError::Job(format!("result table: {e}")))?,
        (Sink::Topic(topic), _) => {
            commit_to_topic(ctx, &cfg.bootstrap, topic, b.time, &windowed, &ranges, n)
                .await
                .map_err(StreamError::Job)?
        }
        (Sink::Table, None) => Committed::Empty,
    };
    let committed = if resumed_all { Committed::AlreadyApplied } else { committed };
    let processing = madsim::time::Instant::now().duration_since(started).as_millis() as u64;
    ctx.trace(
        kind::STREAM_BATCH_COMPLETED,
        None,
        fields! {
            "batch" => b.time, "batch_wall_ms" => ctx.world().config().epoch_ms as u64 + b.time, "records" => n,
            "input_records" => b.input.records(), "ranges" => ranges_json(&ranges), "scheduling_delay_ms" => delay,
            "processing_ms" => processing, "total_delay_ms" => delay + processing, "lag" => b.lag,
            "words" => counts.values().sum::<i64>(), "counts" => windowed, "window" => cfg.window_batches,
            "output" => match committed { Committed::Applied => "committed", Committed::AlreadyApplied => "already committed", Committed::Empty => "nothing to write" }
        },
    );
    lock(&d.shared).pending.remove(&b.time);
    if let (Some(t), Input::Blocks(bs)) = (tracker, &b.input) {
        t.cleanup(bs);
    }
    d.checkpoint(b.time).await;
    Ok(())
}

/// `spark-submit --supervise`: runs the driver on `host`, and while the application has not
/// stopped gracefully starts it again `restart_after` after it died. Returns when it stopped
/// gracefully or `give_up_at_ms` (virtual time) passed.
pub async fn supervise(
    world: World,
    host: String,
    cfg: StreamConfig,
    pipeline: Pipeline,
    restart_after: Duration,
    give_up_at_ms: u64,
) {
    let mut incarnation = 0u32;
    loop {
        incarnation += 1;
        let (c, p) = (cfg.clone(), pipeline.clone());
        let spawned = world.spawn(&host, DRIVER, move |ctx| async move {
            let code = match run_driver(ctx.clone(), c, p).await {
                Ok(()) => 0,
                Err(e) => {
                    ctx.trace(
                        kind::STREAM_DRIVER_EXIT,
                        None,
                        fields! { "code" => 1, "error" => e.to_string() },
                    );
                    1
                }
            };
            ctx.set_exit_code(code);
        });
        if let Ok(pid) = spawned {
            while world.processes(&host).iter().any(|p| p.pid == pid) {
                madsim::time::sleep(Duration::from_millis(100)).await;
            }
            if world.take_exit_status(&host, pid) == Some(ExitStatus::Exited(0)) {
                return;
            }
        }
        if world.elapsed().as_millis() as u64 >= give_up_at_ms {
            world.trace(
                "lab",
                "supervisor",
                kind::STREAM_DRIVER_GAVE_UP,
                None,
                fields! { "incarnations" => incarnation },
            );
            return;
        }
        madsim::time::sleep(restart_after).await;
        world.trace(
            "lab",
            "supervisor",
            kind::STREAM_DRIVER_RESTART,
            None,
            fields! { "host" => host.as_str(), "incarnation" => incarnation + 1 },
        );
    }
}
