//! Disk model. STUB: replaced by the hw helper.
use super::profile::DiskParams;
use std::sync::{Arc, Mutex};

/// Disk errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiskError {
    /// No such file.
    #[error("No such file or directory: {0}")]
    NotFound(String),
    /// Disk full.
    #[error("No space left on device")]
    NoSpace,
}

/// Disk counters.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct DiskCounters {
    /// Bytes written to the page cache.
    pub bytes_written: u64,
}

/// The synchronous disk state.
#[derive(Debug)]
pub struct Disk {
    _params: DiskParams,
}

/// A host's disk shared by its processes; async methods sleep for the modelled cost.
#[derive(Debug, Clone)]
pub struct HostDisk {
    inner: Arc<Mutex<Disk>>,
}

impl HostDisk {
    /// A new empty disk.
    pub fn new(params: DiskParams) -> Self {
        HostDisk { inner: Arc::new(Mutex::new(Disk { _params: params })) }
    }
    /// Install a file durably (set-up, before any process runs): no cost.
    pub fn install(&self, path: &str, data: &[u8]) { let _ = (path, data, &self.inner); todo!() }
    /// Append to a file (created if missing); lands in the page cache.
    pub async fn append(&self, path: &str, data: &[u8]) -> Result<(), DiskError> { let _ = (path, data); todo!() }
    /// Replace a whole file's contents (page cache).
    pub async fn write_all(&self, path: &str, data: &[u8]) -> Result<(), DiskError> { let _ = (path, data); todo!() }
    /// Make a file's bytes durable.
    pub async fn fsync(&self, path: &str) -> Result<(), DiskError> { let _ = path; todo!() }
    /// Read a whole file.
    pub async fn read_all(&self, path: &str) -> Result<Vec<u8>, DiskError> { let _ = path; todo!() }
    /// Truncate a file to `len` bytes.
    pub async fn truncate(&self, path: &str, len: u64) -> Result<(), DiskError> { let _ = (path, len); todo!() }
    /// Delete a file.
    pub async fn delete(&self, path: &str) -> Result<(), DiskError> { let _ = path; todo!() }
    /// Rename a file (atomic, like rename(2)).
    pub async fn rename(&self, from: &str, to: &str) -> Result<(), DiskError> { let _ = (from, to); todo!() }
    /// Files whose path starts with `dir` + "/", sorted.
    pub fn list(&self, dir: &str) -> Vec<String> { let _ = dir; todo!() }
    /// Size of a file, if it exists.
    pub fn len(&self, path: &str) -> Option<u64> { let _ = path; todo!() }
    /// Synchronous read for tools outside a process (e.g. `cat` in the shell); no cost.
    pub fn peek(&self, path: &str) -> Option<Vec<u8>> { let _ = path; todo!() }
    /// Power loss: every byte not fsynced is lost, the page cache is emptied.
    pub fn crash(&self) { todo!() }
    /// Counters.
    pub fn counters(&self) -> DiskCounters { todo!() }
}
