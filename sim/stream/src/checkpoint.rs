//! `Checkpoint`: what a restarted driver needs to go on where the crashed one stopped — the
//! batch interval, the batches generated but not yet completed (`pendingTimes`) with what each
//! reads, the direct stream's `currentOffsets`, and the window's state. Written by
//! `CheckpointWriter` after a batch is generated and again after it completes
//! (`DoCheckpoint`), to `<dir>/checkpoint-<batch ms>` through a temporary file, fsync and an
//! atomic rename, so a crash leaves either the old file or the new one; the newest
//! ten are kept. `StreamingContext.getOrCreate` reads the newest that parses
//! (`CheckpointReader.read`).

use super::wal::{decode_records, encode_record};
use serde_json::Value;
use sim_core::hw::{DiskError, HostDisk};

/// Checkpoint files kept (Spark keeps 10).
const KEEP: usize = 10;

/// Writes a checkpoint for batch time `time_ms`: temp file, fsync, rename, old files deleted.
pub async fn write(
    disk: &HostDisk,
    dir: &str,
    time_ms: u64,
    body: &Value,
) -> Result<String, DiskError> {
    let path = format!("{dir}/checkpoint-{time_ms:012}");
    let tmp = format!("{dir}/temp");
    disk.write_all(&tmp, &encode_record(body)).await?;
    disk.fsync(&tmp).await?;
    disk.rename(&tmp, &path).await?;
    let files: Vec<String> = disk
        .list(dir)
        .into_iter()
        .filter(|f| f.rsplit('/').next().is_some_and(|n| n.starts_with("checkpoint-")))
        .collect();
    if files.len() > KEEP {
        for f in &files[..files.len() - KEEP] {
            let _ = disk.delete(f).await;
        }
    }
    Ok(path)
}

/// The newest checkpoint that reads back whole, with its file name.
pub async fn read_latest(disk: &HostDisk, dir: &str) -> Option<(String, Value)> {
    let files: Vec<String> = disk
        .list(dir)
        .into_iter()
        .filter(|f| f.rsplit('/').next().is_some_and(|n| n.starts_with("checkpoint-")))
        .collect();
    for f in files.iter().rev() {
        if let Ok(bytes) = disk.read_all(f).await {
            if let Some(v) = decode_records(&bytes).into_iter().next() {
                return Some((f.clone(), v));
            }
        }
    }
    None
}
