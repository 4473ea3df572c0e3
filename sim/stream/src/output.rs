//! Where a batch's results go (`foreachRDD`): a result table in a file on the driver host's
//! virtual disk, or another Kafka topic.
//!
//! The table is an append-only file of transactions, one record line each (see
//! [`super::wal::encode_record`]): the batch time, its rows (word → count) and the offset ranges
//! the rows were computed from. The line is written with one `write(2)` — visible to any reader,
//! and surviving a crash of the driver process, from that instant — then fsynced, after which it
//! survives a power loss too: those durability rules are the disk model's, not this module's.
//!
//! - **transactional** (`commit = "transactional"`): Spark's "store offsets with the results".
//!   The table also holds, per partition, the offset the stream has output up to; a batch's
//!   transaction first checks that its ranges start there and otherwise is not applied (it was
//!   already: a batch recomputed after a driver restart). Results and offsets commit in the
//!   same line, so each record counts once (exactly-once output).
//! - **at-least-once**: rows are appended as they come; a batch recomputed after a restart is
//!   appended again (duplicates), which an idempotent sink would have to absorb.
//!
//! A topic output produces each row as a record (key = word, value = `word<TAB>count`) with
//! `acks=all`; Kafka 0.9 has no transactions, so it is at least once.
//!
//! Each applied commit is a `stream.output.commit` event carrying the ranges, traced at the
//! instant the row becomes visible: `check::stream` counts every input record in the output
//! from those events.

use super::offset_range::{ranges_json, OffsetRange};
use super::wal::{decode_records, encode_record};
use serde_json::{json, Value};
use sim_core::hw::{DiskError, HostDisk};
use sim_core::trace::fields;
use sim_core::trace::kind;
use sim_core::world::ProcCtx;
use std::collections::BTreeMap;

/// How a table output commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitMode {
    /// Results and offsets in one transaction: exactly once.
    Transactional,
    /// Results appended, offsets only in the checkpoint: at least once.
    AtLeastOnce,
}

impl CommitMode {
    /// The name scenario files and flags use.
    pub fn name(self) -> &'static str {
        match self {
            CommitMode::Transactional => "transactional",
            CommitMode::AtLeastOnce => "at-least-once",
        }
    }
}

/// What became of a batch's commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Committed {
    /// Applied.
    Applied,
    /// Not applied: the table already holds these offsets (a recomputed batch).
    AlreadyApplied,
    /// Nothing to write.
    Empty,
}

/// The result table.
pub struct ResultTable {
    disk: HostDisk,
    path: String,
    mode: CommitMode,
    /// (topic, partition) → offset the table has output up to (transactional).
    offsets: BTreeMap<(String, i32), i64>,
    /// word → total over every applied row (for reports).
    pub totals: BTreeMap<String, i64>,
}

impl ResultTable {
    /// Opens the table (recovery: replays the file up to a torn tail).
    pub async fn open(disk: HostDisk, path: &str, mode: CommitMode) -> ResultTable {
        let mut t = ResultTable {
            disk,
            path: path.to_string(),
            mode,
            offsets: BTreeMap::new(),
            totals: BTreeMap::new(),
        };
        let bytes = if t.disk.len(path).is_some() {
            t.disk.read_all(path).await.unwrap_or_default()
        } else {
            Vec::new()
        };
        for rec in decode_records(&bytes) {
            t.apply(&rec);
        }
        t
    }

    fn apply(&mut self, rec: &Value) {
        for r in super::offset_range::ranges_from_json(rec.get("ranges")) {
            let e = self.offsets.entry((r.topic.clone(), r.partition)).or_insert(r.until_offset);
            *e = (*e).max(r.until_offset);
        }
        if let Some(rows) = rec.get("rows").and_then(Value::as_object) {
            for (w, c) in rows {
                *self.totals.entry(w.clone()).or_default() += c.as_i64().unwrap_or(0);
            }
        }
    }

    /// The offsets the table holds (where a transactional stream resumes).
    pub fn offsets(&self) -> &BTreeMap<(String, i32), i64> {
        &self.offsets
    }

    /// Commits a batch's rows computed from `ranges`.
    pub async fn commit(
        &mut self,
        ctx: &ProcCtx,
        batch_ms: u64,
        rows: &BTreeMap<String, i64>,
        ranges: &[OffsetRange],
        records: u64,
    ) -> Result<Committed, DiskError> {
        if records == 0 {
            return Ok(Committed::Empty);
        }
        if self.mode == CommitMode::Transactional {
            // The transaction's guard: the table must stand where these ranges start.
            let applied = ranges.iter().filter(|r| r.count() > 0).any(|r| {
                self.offsets
                    .get(&(r.topic.clone(), r.partition))
                    .is_some_and(|&o| o > r.from_offset)
            });
            if applied {
                ctx.trace(
                    kind::STREAM_OUTPUT_SKIPPED,
                    None,
                    fields! { "batch" => batch_ms, "sink" => "table", "reason" => "offsets already committed", "ranges" => ranges_json(ranges) },
                );
                return Ok(Committed::AlreadyApplied);
            }
        }
        let rec = json!({ "batch": batch_ms, "rows": rows, "ranges": ranges_json(ranges) });
        let bytes = encode_record(&rec);
        // One write: the row is in the file (page cache) from this instant, so the event is
        // traced in the same step, before the copy's cost is waited for.
        let cost = self.disk.with_disk(|d, now| d.append(now, &self.path, &bytes))?;
        self.apply(&rec);
        ctx.trace(
            kind::STREAM_OUTPUT_COMMIT,
            None,
            fields! {
                "batch" => batch_ms, "sink" => "table", "mode" => self.mode.name(), "ranges" => ranges_json(ranges),
                "records" => records, "rows" => rows.len(), "path" => self.path.as_str()
            },
        );
        self.disk.occupy(cost).await;
        self.disk.fsync(&self.path).await?;
        Ok(Committed::Applied)
    }
}

/// Produces a batch's rows to a topic (at least once).
pub async fn commit_to_topic(
    ctx: &ProcCtx,
    bootstrap: &[(String, u16)],
    topic: &str,
    batch_ms: u64,
    rows: &BTreeMap<String, i64>,
    ranges: &[OffsetRange],
    records: u64,
) -> Result<Committed, String> {
    if records == 0 {
        return Ok(Committed::Empty);
    }
    let cfg = kafka::clients::ProducerConfig {
        bootstrap: bootstrap.to_vec(),
        acks: -1,
        linger_ms: 0,
        batch_size: 16384,
        retries: 3,
        retry_backoff_ms: 100,
        request_timeout_ms: 5000,
        client_id: "spark-streaming-output".into(),
    };
    let mut p = kafka::clients::KafkaProducer::new(ctx, cfg);
    for (w, c) in rows {
        p.send(topic, Some(w.clone().into_bytes()), format!("{w}\t{c}").into_bytes()).await;
    }
    let (_, errors) = p.close().await;
    if let Some(e) = errors.first() {
        return Err(format!(
            "{} of {} rows not acknowledged ({})",
            errors.len(),
            rows.len(),
            e.message
        ));
    }
    ctx.trace(
        kind::STREAM_OUTPUT_COMMIT,
        None,
        fields! { "batch" => batch_ms, "sink" => "topic", "mode" => "at-least-once", "topic" => topic, "ranges" => ranges_json(ranges), "records" => records, "rows" => rows.len() },
    );
    Ok(Committed::Applied)
}
