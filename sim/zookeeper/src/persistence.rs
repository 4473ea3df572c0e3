//! `FileTxnSnapLog`: the transaction log and snapshots on the host's virtual disk.
//!
//! Layout as in ZooKeeper 3.4: `dataLogDir/version-2/log.<first zxid hex>` and
//! `dataDir/version-2/snapshot.<zxid hex>`, plus `dataDir/currentEpoch` and `acceptedEpoch`.
//! A log record is one text line, `<crc32 hex> <json>` (ZooKeeper writes jute with an Adler-32
//! checksum; text lets a learner `cat` the log). A proposal is acknowledged only after
//! [`FileTxnSnapLog::commit`] has fsynced it, so a power loss can only tear an unacknowledged
//! tail, which recovery detects by its checksum and cuts off.

use super::data_tree::DataTree;
use super::txn::{Txn, TxnHeader, Zxid};
use sim_core::hw::{DiskError, HostDisk};

/// Persistence errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersistError {
    /// The disk failed (ENOSPC, missing file).
    #[error("{0}")]
    Disk(#[from] DiskError),
    /// An epoch file holds garbage.
    #[error("Unable to load database on disk: {0} is corrupt")]
    Corrupt(String),
}

/// What recovery found on disk.
#[derive(Debug)]
pub struct Loaded {
    /// The tree: latest valid snapshot plus every intact log record after it.
    pub tree: DataTree,
    /// Every intact log record, in zxid order (the leader serves DIFFs from these).
    pub log: Vec<(TxnHeader, Txn)>,
}

/// Transaction log and snapshots of one server.
#[derive(Debug, Clone)]
pub struct FileTxnSnapLog {
    disk: HostDisk,
    snap_dir: String,
    log_dir: String,
    data_dir: String,
    current_log: Option<String>,
}

fn hex(z: Zxid) -> String {
    format!("{:x}", z)
}

fn zxid_of(name: &str, prefix: &str) -> Option<Zxid> {
    let file = name.rsplit('/').next()?;
    i64::from_str_radix(file.strip_prefix(prefix)?, 16).ok()
}

fn encode(hdr: &TxnHeader, txn: &Txn) -> Vec<u8> {
    let json = serde_json::to_string(&(hdr, txn)).unwrap_or_default();
    let crc = crc32fast::hash(json.as_bytes());
    format!("{crc:08x} {json}\n").into_bytes()
}

/// Parses intact records; returns them and the byte length of the intact prefix.
fn decode(bytes: &[u8]) -> (Vec<(TxnHeader, Txn)>, u64) {
    let mut out = Vec::new();
    let mut good = 0u64;
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        let Some(body) = line.strip_suffix(b"\n") else { break };
        let Ok(text) = std::str::from_utf8(body) else { break };
        let Some((crc, json)) = text.split_once(' ') else { break };
        if u32::from_str_radix(crc, 16).ok() != Some(crc32fast::hash(json.as_bytes())) {
            break;
        }
        let Ok(rec) = serde_json::from_str::<(TxnHeader, Txn)>(json) else { break };
        out.push(rec);
        good += line.len() as u64;
    }
    (out, good)
}

impl FileTxnSnapLog {
    /// Logs under `data_log_dir`, snapshots and epochs under `data_dir`.
    pub fn new(disk: HostDisk, data_dir: &str, data_log_dir: &str) -> Self {
        FileTxnSnapLog {
            disk,
            snap_dir: format!("{data_dir}/version-2"),
            log_dir: format!("{data_log_dir}/version-2"),
            data_dir: data_dir.to_string(),
            current_log: None,
        }
    }

    fn logs(&self) -> Vec<(Zxid, String)> {
        let mut v: Vec<_> = self
            .disk
            .list(&self.log_dir)
            .into_iter()
            .filter_map(|p| Some((zxid_of(&p, "log.")?, p)))
            .collect();
        v.sort();
        v
    }

    fn snapshots(&self) -> Vec<(Zxid, String)> {
        let mut v: Vec<_> = self
            .disk
            .list(&self.snap_dir)
            .into_iter()
            .filter_map(|p| Some((zxid_of(&p, "snapshot.")?, p)))
            .collect();
        v.sort();
        v
    }

    /// Recovery: newest snapshot that parses, then the log replayed over it. A torn tail (a record
    /// whose checksum fails) is cut off, with every later log file.
    pub async fn load(&mut self) -> Result<Loaded, PersistError> {
        let mut tree = DataTree::new();
        for (_, path) in self.snapshots().into_iter().rev() {
            let bytes = self.disk.read_all(&path).await?;
            if let Ok(t) = serde_json::from_slice::<DataTree>(&bytes) {
                tree = t;
                break;
            }
        }
        let mut log = Vec::new();
        let mut torn = false;
        for (_, path) in self.logs() {
            if torn {
                self.disk.delete(&path).await?;
                continue;
            }
            let bytes = self.disk.read_all(&path).await?;
            let (recs, good) = decode(&bytes);
            if good < bytes.len() as u64 {
                self.disk.truncate(&path, good).await?;
                self.disk.fsync(&path).await?;
                torn = true;
            }
            log.extend(recs);
        }
        for (hdr, txn) in &log {
            if hdr.zxid > tree.last_processed_zxid() {
                tree.process_txn(hdr, txn);
            }
        }
        self.current_log = None;
        Ok(Loaded { tree, log })
    }

    /// Appends a record to the current log (page cache only until [`Self::commit`]).
    pub async fn append(&mut self, hdr: &TxnHeader, txn: &Txn) -> Result<(), PersistError> {
        let path = match &self.current_log {
            Some(p) => p.clone(),
            None => {
                let p = format!("{}/log.{}", self.log_dir, hex(hdr.zxid));
                self.current_log = Some(p.clone());
                p
            }
        };
        self.disk.append(&path, &encode(hdr, txn)).await?;
        Ok(())
    }

    /// fsyncs the current log: after this, appended records survive a power loss.
    pub async fn commit(&mut self) -> Result<(), PersistError> {
        if let Some(p) = &self.current_log {
            self.disk.fsync(p).await?;
        }
        Ok(())
    }

    /// Writes `snapshot.<zxid>` durably and starts a new log file for what follows.
    pub async fn snapshot(&mut self, tree: &DataTree) -> Result<(), PersistError> {
        let path = format!("{}/snapshot.{}", self.snap_dir, hex(tree.last_processed_zxid()));
        let bytes = serde_json::to_vec(tree).unwrap_or_default();
        self.disk.write_all(&path, &bytes).await?;
        self.disk.fsync(&path).await?;
        self.current_log = None;
        Ok(())
    }

    /// Drops every logged transaction after `zxid` (the leader said TRUNC), and snapshots beyond it.
    pub async fn truncate(&mut self, zxid: Zxid) -> Result<(), PersistError> {
        for (z, path) in self.snapshots() {
            if z > zxid {
                self.disk.delete(&path).await?;
            }
        }
        for (start, path) in self.logs() {
            if start > zxid {
                self.disk.delete(&path).await?;
                continue;
            }
            let bytes = self.disk.read_all(&path).await?;
            let mut keep = 0u64;
            for line in bytes.split_inclusive(|b| *b == b'\n') {
                let (recs, _) = decode(line);
                match recs.first() {
                    Some((h, _)) if h.zxid <= zxid => keep += line.len() as u64,
                    _ => break,
                }
            }
            if keep < bytes.len() as u64 {
                self.disk.truncate(&path, keep).await?;
                self.disk.fsync(&path).await?;
            }
        }
        self.current_log = None;
        Ok(())
    }

    /// Reads `currentEpoch` or `acceptedEpoch`; a missing file reads as `None`.
    pub async fn read_epoch(&self, name: &str) -> Result<Option<u32>, PersistError> {
        let path = format!("{}/{name}", self.data_dir);
        if self.disk.len(&path).is_none() {
            return Ok(None);
        }
        let bytes = self.disk.read_all(&path).await?;
        let text = String::from_utf8_lossy(&bytes);
        text.trim().parse().map(Some).map_err(|_| PersistError::Corrupt(path))
    }

    /// Writes an epoch file durably (write to a temp file, fsync, rename: as `AtomicFileOutputStream`).
    pub async fn write_epoch(&self, name: &str, epoch: u32) -> Result<(), PersistError> {
        let path = format!("{}/{name}", self.data_dir);
        let tmp = format!("{path}.tmp");
        self.disk.write_all(&tmp, epoch.to_string().as_bytes()).await?;
        self.disk.fsync(&tmp).await?;
        self.disk.rename(&tmp, &path).await?;
        Ok(())
    }
}
