//! `OffsetIndex`: the sparse map from offset to byte position in a segment's `.log`.
//!
//! File `<base offset>.index`, entries of 8 bytes: relative offset (offset − base, u32 BE) and
//! physical position (u32 BE). The segment adds one entry each time more than
//! `index.interval.bytes` of messages were appended since the last one, so a lookup lands at most
//! that many bytes before the wanted message and the rest is a short scan.
//!
//! Real Kafka preallocates the index (`segment.index.bytes`, 10 MB) and memory-maps it, trimming
//! it to the used size when the segment is rolled. We write only the used entries, so the file
//! is 8 × entries bytes at all times; the lookup is the same binary search.
use sim_core::hw::{DiskError, HostDisk};

/// Size of one index entry.
pub const INDEX_ENTRY_SIZE: usize = 8;

/// Kafka's `OffsetPosition`: an absolute offset and the byte position of its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetPosition {
    /// Absolute offset.
    pub offset: i64,
    /// Byte position in the `.log`.
    pub position: u32,
}

/// A segment's offset index, held in memory and mirrored to its file.
#[derive(Debug, Clone)]
pub struct OffsetIndex {
    path: String,
    base_offset: i64,
    /// (relative offset, position), both strictly increasing.
    entries: Vec<(u32, u32)>,
}

impl OffsetIndex {
    /// An empty index (the file is created by [`OffsetIndex::create`]).
    pub fn new(path: impl Into<String>, base_offset: i64) -> OffsetIndex {
        OffsetIndex { path: path.into(), base_offset, entries: Vec::new() }
    }

    /// Create (or empty) the index file.
    pub async fn create(
        disk: &HostDisk,
        path: impl Into<String>,
        base_offset: i64,
    ) -> Result<OffsetIndex, DiskError> {
        let idx = OffsetIndex::new(path, base_offset);
        disk.write_all(&idx.path, &[]).await?;
        Ok(idx)
    }

    /// Parse an index file's bytes. `None` when the content fails Kafka's sanity check (a length
    /// that is not a multiple of 8, or offsets/positions that do not increase): the caller
    /// rebuilds the index from the log. A zero relative offset after the first entry ends the
    /// index, as the zero-filled tail of a preallocated file does in Kafka.
    pub fn from_bytes(
        path: impl Into<String>,
        base_offset: i64,
        bytes: &[u8],
    ) -> Option<OffsetIndex> {
        if !bytes.chunks_exact(INDEX_ENTRY_SIZE).remainder().is_empty() {
            return None;
        }
        let mut entries: Vec<(u32, u32)> = Vec::with_capacity(bytes.len() / INDEX_ENTRY_SIZE);
        for chunk in bytes.chunks_exact(INDEX_ENTRY_SIZE) {
            let rel = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            let pos = u32::from_be_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
            if let Some(&(lr, lp)) = entries.last() {
                if rel == 0 {
                    break;
                }
                if rel <= lr || pos <= lp {
                    return None;
                }
            }
            entries.push((rel, pos));
        }
        Some(OffsetIndex { path: path.into(), base_offset, entries })
    }

    /// The file's path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The segment's base offset.
    pub fn base_offset(&self) -> i64 {
        self.base_offset
    }

    /// Number of entries.
    pub fn entries(&self) -> usize {
        self.entries.len()
    }

    /// Entry `n` with its absolute offset.
    pub fn entry(&self, n: usize) -> Option<OffsetPosition> {
        self.entries.get(n).map(|&(rel, pos)| OffsetPosition {
            offset: self.base_offset + i64::from(rel),
            position: pos,
        })
    }

    /// The last entry, or (base offset, 0) when empty.
    pub fn last_entry(&self) -> OffsetPosition {
        self.entries.len().checked_sub(1).and_then(|n| self.entry(n)).unwrap_or(self.start())
    }

    fn start(&self) -> OffsetPosition {
        OffsetPosition { offset: self.base_offset, position: 0 }
    }

    /// The largest entry with offset ≤ `offset`, or (base offset, 0) if there is none.
    pub fn lookup(&self, offset: i64) -> OffsetPosition {
        let rel = offset - self.base_offset;
        let n = self.entries.partition_point(|&(r, _)| i64::from(r) <= rel);
        n.checked_sub(1).and_then(|n| self.entry(n)).unwrap_or(self.start())
    }

    /// The entry's 8 bytes, or `None` if `offset` cannot be stored relative to the base
    /// (negative, or beyond u32 — Kafka rolls a segment before that happens).
    fn encode(&self, offset: i64, position: u32) -> Option<[u8; 8]> {
        let rel = u32::try_from(offset - self.base_offset).ok()?;
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&rel.to_be_bytes());
        b[4..].copy_from_slice(&position.to_be_bytes());
        Some(b)
    }

    /// Append an entry; ignored unless offset and position exceed the last entry's (Kafka
    /// throws here, but the segment never asks for that).
    pub async fn append(
        &mut self,
        disk: &HostDisk,
        offset: i64,
        position: u32,
    ) -> Result<(), DiskError> {
        let Some(b) = self.encode(offset, position) else {
            return Ok(());
        };
        let rel = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        if let Some(&(lr, lp)) = self.entries.last() {
            if rel <= lr || position <= lp {
                return Ok(());
            }
        }
        disk.append(&self.path, &b).await?;
        self.entries.push((rel, position));
        Ok(())
    }

    /// Remove every entry with offset ≥ `offset`.
    pub async fn truncate_to(&mut self, disk: &HostDisk, offset: i64) -> Result<(), DiskError> {
        let rel = offset - self.base_offset;
        let keep = self.entries.partition_point(|&(r, _)| i64::from(r) < rel);
        self.truncate_entries(disk, keep).await
    }

    /// Keep the first `keep` entries.
    pub async fn truncate_entries(
        &mut self,
        disk: &HostDisk,
        keep: usize,
    ) -> Result<(), DiskError> {
        if keep < self.entries.len()
            || disk.len(&self.path) != Some((self.entries.len() * INDEX_ENTRY_SIZE) as u64)
        {
            self.entries.truncate(keep);
            disk.truncate(&self.path, (keep * INDEX_ENTRY_SIZE) as u64).await?;
        }
        Ok(())
    }

    /// The file content the in-memory index corresponds to.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.entries
            .iter()
            .flat_map(|&(r, p)| r.to_be_bytes().into_iter().chain(p.to_be_bytes()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_finds_the_largest_entry_at_or_below() {
        let rt = madsim::runtime::Runtime::new();
        rt.block_on(async {
            let disk = HostDisk::new(sim_core::hw::HardwareProfile::default().disk);
            let path = "/l/00000000000000000100.index";
            let mut idx = OffsetIndex::create(&disk, path, 100).await.expect("create");
            assert_eq!(idx.lookup(150), OffsetPosition { offset: 100, position: 0 });
            for (o, p) in [(110, 4100), (125, 8300), (140, 12_500)] {
                idx.append(&disk, o, p).await.expect("append");
            }
            idx.append(&disk, 130, 9000).await.expect("out of order is ignored");
            assert_eq!(idx.entries(), 3);
            assert_eq!(disk.len(path), Some(24));
            assert_eq!(idx.lookup(100), OffsetPosition { offset: 100, position: 0 });
            assert_eq!(idx.lookup(109), OffsetPosition { offset: 100, position: 0 });
            assert_eq!(idx.lookup(110), OffsetPosition { offset: 110, position: 4100 });
            assert_eq!(idx.lookup(139), OffsetPosition { offset: 125, position: 8300 });
            assert_eq!(idx.lookup(1000), OffsetPosition { offset: 140, position: 12_500 });
            assert_eq!(idx.lookup(5), OffsetPosition { offset: 100, position: 0 });

            let bytes = disk.peek(path).expect("file");
            assert_eq!(&bytes[..8], &[0, 0, 0, 10, 0, 0, 0x10, 0x04]);
            let again = OffsetIndex::from_bytes(path, 100, &bytes).expect("sane");
            assert_eq!(again.to_bytes(), bytes);

            idx.truncate_to(&disk, 125).await.expect("truncate");
            assert_eq!(idx.entries(), 1);
            assert_eq!(disk.len(path), Some(8));
            assert_eq!(idx.last_entry(), OffsetPosition { offset: 110, position: 4100 });
        });
    }

    #[test]
    fn insane_index_files_are_rejected() {
        assert!(OffsetIndex::from_bytes("/i", 0, &[0; 7]).is_none());
        let decreasing = [0, 0, 0, 5, 0, 0, 0, 9, 0, 0, 0, 4, 0, 0, 0, 10];
        assert!(OffsetIndex::from_bytes("/i", 0, &decreasing).is_none());
        // A zero-filled tail (a preallocated file) ends the index.
        let sparse = [0, 0, 0, 5, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(OffsetIndex::from_bytes("/i", 0, &sparse).map(|i| i.entries()), Some(1));
    }
}
