//! `LogSegment`: one `<base offset>.log` file of message-set entries plus its `.index`.
//!
//! Files are named by the segment's base offset, zero-padded to 20 digits
//! (`00000000000000000000.log`), so a directory listing sorts them by offset.
use super::index::OffsetIndex;
use super::message::{
    decode_message_set, delimit_message_set, entry_header, DecodedMessage, LOG_OVERHEAD,
};
use sim_core::hw::send::FileRange;
use sim_core::hw::{DiskError, HostDisk};

/// Suffix of segment data files.
pub const LOG_FILE_SUFFIX: &str = ".log";
/// Suffix of offset index files.
pub const INDEX_FILE_SUFFIX: &str = ".index";

/// `00000000000000000042` for offset 42: Kafka's `Log.filenamePrefixFromOffset`.
pub fn filename_prefix_from_offset(offset: i64) -> String {
    format!("{offset:020}")
}

/// Path of the `.log` of the segment at `base_offset` in partition directory `dir`.
pub fn log_filename(dir: &str, base_offset: i64) -> String {
    format!(
        "{}/{}{LOG_FILE_SUFFIX}",
        dir.trim_end_matches('/'),
        filename_prefix_from_offset(base_offset)
    )
}

/// Path of the `.index` of the segment at `base_offset` in partition directory `dir`.
pub fn index_filename(dir: &str, base_offset: i64) -> String {
    format!(
        "{}/{}{INDEX_FILE_SUFFIX}",
        dir.trim_end_matches('/'),
        filename_prefix_from_offset(base_offset)
    )
}

/// Messages read from a segment: the raw bytes and what they decode to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SegmentRead {
    /// Whole entries, as stored (a shared slice of the file's bytes when one piece holds them).
    pub bytes: bytes::Bytes,
    /// The decoded entries (positions relative to `bytes`).
    pub messages: Vec<DecodedMessage>,
    /// The first message alone was larger than the `max_bytes` asked for (returned anyway).
    pub exceeds_max_bytes: bool,
    /// Where `bytes` lie in the `.log` file (`FileMessageSet`'s slice): what a fetch response
    /// sends from the page cache. `None` when nothing was read.
    pub file: Option<FileRange>,
}

/// One segment of a partition's log.
#[derive(Debug, Clone)]
pub struct LogSegment {
    base_offset: i64,
    log_path: String,
    index: OffsetIndex,
    /// Bytes in the `.log` (we are its only writer, so this is the file's length).
    size: u64,
    /// Offset after the last message (the base offset when empty).
    next_offset: i64,
    bytes_since_last_index_entry: u64,
    index_interval_bytes: u32,
    /// Virtual time of the last append: the file's mtime, which 0.9's time retention reads.
    last_modified_ms: i64,
    /// Largest magic-1 timestamp seen (0.10.1+ retention uses it; 0.9 does not).
    largest_timestamp: Option<i64>,
}

impl LogSegment {
    /// Create an empty segment (both files) at `base_offset` in partition directory `dir`.
    pub async fn create(
        disk: &HostDisk,
        dir: &str,
        base_offset: i64,
        index_interval_bytes: u32,
        now_ms: i64,
    ) -> Result<LogSegment, DiskError> {
        let log_path = log_filename(dir, base_offset);
        disk.write_all(&log_path, &[]).await?;
        let index =
            OffsetIndex::create(disk, index_filename(dir, base_offset), base_offset).await?;
        Ok(LogSegment {
            base_offset,
            log_path,
            index,
            size: 0,
            next_offset: base_offset,
            bytes_since_last_index_entry: 0,
            index_interval_bytes,
            last_modified_ms: now_ms,
            largest_timestamp: None,
        })
    }

    /// Load an existing segment. A missing or insane index is rebuilt by [`LogSegment::recover`]
    /// (as Kafka does); otherwise the next offset is found by scanning from the last index entry.
    ///
    /// The disk model keeps no mtimes, so a loaded segment counts as modified at `now_ms`.
    pub async fn open(
        disk: &HostDisk,
        dir: &str,
        base_offset: i64,
        index_interval_bytes: u32,
        now_ms: i64,
    ) -> Result<LogSegment, DiskError> {
        let log_path = log_filename(dir, base_offset);
        let index_path = index_filename(dir, base_offset);
        let size = disk.len(&log_path).ok_or_else(|| DiskError::NotFound(log_path.clone()))?;
        let index = match disk.len(&index_path) {
            Some(_) => OffsetIndex::from_bytes(
                &index_path,
                base_offset,
                &disk.read_all(&index_path).await?,
            ),
            None => None,
        };
        // Every entry must point inside the log.
        let index = index.filter(|i| i.entries() == 0 || u64::from(i.last_entry().position) < size);
        let rebuild = index.is_none();
        let mut seg = LogSegment {
            base_offset,
            log_path,
            index: index.unwrap_or_else(|| OffsetIndex::new(index_path, base_offset)),
            size,
            next_offset: base_offset,
            bytes_since_last_index_entry: 0,
            index_interval_bytes,
            last_modified_ms: now_ms,
            largest_timestamp: None,
        };
        if rebuild {
            seg.recover(disk).await?;
        } else {
            seg.rescan_tail(disk).await?;
        }
        Ok(seg)
    }

    /// Recompute next offset, largest timestamp and bytes since the last index entry by
    /// decoding from the last index entry to the end.
    async fn rescan_tail(&mut self, disk: &HostDisk) -> Result<(), DiskError> {
        let from = u64::from(self.index.last_entry().position);
        let bytes = disk.read_at(&self.log_path, from, self.size.saturating_sub(from)).await?;
        let (msgs, _) = decode_message_set(&bytes);
        self.next_offset = msgs
            .last()
            .map_or(self.index.last_entry().offset.max(self.base_offset), |m| m.record.offset + 1);
        for m in &msgs {
            self.note_timestamp(m.record.timestamp);
        }
        self.bytes_since_last_index_entry = self.size - from;
        Ok(())
    }

    fn note_timestamp(&mut self, ts: Option<i64>) {
        if let Some(t) = ts {
            self.largest_timestamp = Some(self.largest_timestamp.map_or(t, |l| l.max(t)));
        }
    }

    /// Base offset (the first offset the segment can hold).
    pub fn base_offset(&self) -> i64 {
        self.base_offset
    }

    /// Offset the next appended message would get.
    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }

    /// Size of the `.log` in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Path of the `.log`.
    pub fn log_path(&self) -> &str {
        &self.log_path
    }

    /// Path of the `.index`.
    pub fn index_path(&self) -> &str {
        self.index.path()
    }

    /// The offset index.
    pub fn index(&self) -> &OffsetIndex {
        &self.index
    }

    /// Virtual time (ms) of the last append: the mtime that 0.9's `log.retention.ms` compares.
    pub fn last_modified_ms(&self) -> i64 {
        self.last_modified_ms
    }

    /// Largest magic-1 timestamp in the segment, if any.
    pub fn largest_timestamp(&self) -> Option<i64> {
        self.largest_timestamp
    }

    /// Append a message set whose offsets are already assigned (ascending, ≥ next offset), from
    /// `first_offset` to `last_offset`, the largest magic-1 timestamp among them `max_timestamp`.
    /// The file keeps `bytes` as they are (a follower's are shared with the leader's). As in
    /// Kafka, an index entry pointing at the first message is added first when more than
    /// `index_interval_bytes` were appended since the last entry. Returns the bytes appended.
    pub async fn append(
        &mut self,
        disk: &HostDisk,
        bytes: bytes::Bytes,
        (first_offset, last_offset): (i64, i64),
        max_timestamp: Option<i64>,
        now_ms: i64,
    ) -> Result<u64, DiskError> {
        if bytes.is_empty() {
            return Ok(0);
        }
        if self.bytes_since_last_index_entry > u64::from(self.index_interval_bytes) {
            if let Ok(pos) = u32::try_from(self.size) {
                self.index.append(disk, first_offset, pos).await?;
            }
            self.bytes_since_last_index_entry = 0;
        }
        let n = bytes.len() as u64;
        disk.append_shared(&self.log_path, bytes).await?;
        self.size += n;
        self.bytes_since_last_index_entry += n;
        self.next_offset = last_offset + 1;
        self.last_modified_ms = now_ms;
        self.note_timestamp(max_timestamp);
        Ok(n)
    }

    /// Kafka's `translateOffset`: the offset and byte position of the first message with
    /// offset ≥ `offset`, found from the index entry below it and a scan of entry headers.
    /// `None` when every message here is below `offset`.
    pub async fn translate_offset(
        &self,
        disk: &HostDisk,
        offset: i64,
    ) -> Result<Option<(i64, u64)>, DiskError> {
        let mut pos = u64::from(self.index.lookup(offset).position);
        while pos + LOG_OVERHEAD as u64 <= self.size {
            let hdr = disk.read_at(&self.log_path, pos, LOG_OVERHEAD as u64).await?;
            let Some((off, size)) = entry_header(&hdr, 0) else {
                break;
            };
            if size < 0 {
                break; // garbage: nothing readable beyond
            }
            if off >= offset {
                return Ok(Some((off, pos)));
            }
            pos += LOG_OVERHEAD as u64 + size as u64;
        }
        Ok(None)
    }

    /// Whole messages starting at the first with offset ≥ `start_offset`, at most `max_bytes`
    /// of them but always the first one, and only offsets < `max_offset` (the high watermark for
    /// consumers). `None` when every message here is below `start_offset`.
    pub async fn read(
        &self,
        disk: &HostDisk,
        start_offset: i64,
        max_bytes: u64,
        max_offset: Option<i64>,
    ) -> Result<Option<SegmentRead>, DiskError> {
        self.read_with(disk, start_offset, max_bytes, max_offset, true).await
    }

    /// [`LogSegment::read`] that only delimits the slice (`messages` left empty): what a fetch
    /// needs, without decoding every message it sends.
    pub async fn read_slice(
        &self,
        disk: &HostDisk,
        start_offset: i64,
        max_bytes: u64,
        max_offset: Option<i64>,
    ) -> Result<Option<SegmentRead>, DiskError> {
        self.read_with(disk, start_offset, max_bytes, max_offset, false).await
    }

    async fn read_with(
        &self,
        disk: &HostDisk,
        start_offset: i64,
        max_bytes: u64,
        max_offset: Option<i64>,
        decode: bool,
    ) -> Result<Option<SegmentRead>, DiskError> {
        let Some((first, pos)) = self.translate_offset(disk, start_offset).await? else {
            return Ok(None);
        };
        if max_bytes == 0 || max_offset.is_some_and(|m| m <= first) {
            return Ok(Some(SegmentRead::default()));
        }
        let avail = self.size - pos;
        // Like `FileMessageSet.read`, this only delimits a slice of the file: no bytes are read
        // here. The simulator looks at them (at no cost) to decode and trim them; whoever sends
        // the slice pays for reading it (`hw::send`).
        let peek = |len: u64| {
            disk.peek_range_shared(&self.log_path, pos, len)
                .ok_or_else(|| DiskError::NotFound(self.log_path.clone()))
        };
        // The number of whole entries, the end of the last one below `max_offset`, and those
        // decoded if asked.
        let delimit = |data: &[u8]| -> (usize, usize, Vec<DecodedMessage>) {
            if decode {
                let mut msgs = decode_message_set(data).0;
                let count = msgs.len();
                msgs.retain(|d| max_offset.is_none_or(|m| d.record.offset < m));
                let end = msgs.last().map_or(0, |d| d.position + d.entry_size());
                (count, end, msgs)
            } else {
                let (count, end) = delimit_message_set(data, max_offset);
                (count, end, Vec::new())
            }
        };
        let mut data = peek(max_bytes.min(avail))?;
        let (mut count, mut end, mut msgs) = delimit(&data);
        let mut exceeds = false;
        if count == 0 {
            // The first message does not fit in max_bytes: read it whole (see `Log::read`).
            let hdr = match entry_header(&data, 0) {
                Some(h) => Some(h),
                None => entry_header(&peek(LOG_OVERHEAD as u64)?, 0),
            };
            let Some((_, size)) = hdr else {
                return Ok(Some(SegmentRead::default()));
            };
            let want =
                (LOG_OVERHEAD as u64).saturating_add(u64::try_from(size).unwrap_or(0)).min(avail);
            data = peek(want)?;
            (count, end, msgs) = delimit(&data);
            exceeds = count > 0;
        }
        data.truncate(end);
        let file = (end > 0).then(|| FileRange {
            path: self.log_path.clone(),
            offset: pos,
            len: end as u64,
        });
        Ok(Some(SegmentRead { bytes: data, messages: msgs, exceeds_max_bytes: exceeds, file }))
    }

    /// Remove every message with offset ≥ `offset` (and their index entries). Returns the bytes
    /// removed.
    pub async fn truncate_to(&mut self, disk: &HostDisk, offset: i64) -> Result<u64, DiskError> {
        let Some((_, pos)) = self.translate_offset(disk, offset).await? else {
            return Ok(0);
        };
        self.index.truncate_to(disk, offset).await?;
        disk.truncate(&self.log_path, pos).await?;
        let removed = self.size - pos;
        self.size = pos;
        self.largest_timestamp = None; // recomputed from the tail only: an approximation
        self.rescan_tail(disk).await?;
        Ok(removed)
    }

    /// Kafka's `LogSegment.recover`: scan the log from the start, validate each message (whole,
    /// CRC matches, offsets increasing and ≥ base), rebuild the index, and truncate the file after
    /// the last valid message — the torn tail a power loss leaves. Returns the bytes truncated.
    pub async fn recover(&mut self, disk: &HostDisk) -> Result<u64, DiskError> {
        let bytes = disk.read_all(&self.log_path).await?;
        let (msgs, _) = decode_message_set(&bytes);
        let mut entries = Vec::new();
        let mut valid: u64 = 0;
        let mut last_index_entry: u64 = 0;
        let mut next = self.base_offset;
        self.largest_timestamp = None;
        for m in &msgs {
            if !m.valid || m.record.offset < next {
                break;
            }
            if valid - last_index_entry > u64::from(self.index_interval_bytes) {
                entries.push((m.record.offset, valid));
                last_index_entry = valid;
            }
            valid += m.entry_size() as u64;
            next = m.record.offset + 1;
            self.note_timestamp(m.record.timestamp);
        }
        let truncated = bytes.len() as u64 - valid;
        if truncated > 0 {
            disk.truncate(&self.log_path, valid).await?;
        }
        self.size = valid;
        self.next_offset = next;
        self.bytes_since_last_index_entry = valid - last_index_entry;
        self.index = OffsetIndex::new(self.index.path(), self.base_offset);
        disk.write_all(self.index.path(), &[]).await?;
        for (o, p) in entries {
            if let Ok(p) = u32::try_from(p) {
                self.index.append(disk, o, p).await?;
            }
        }
        Ok(truncated)
    }

    /// fsync the `.log` and the `.index`.
    pub async fn flush(&self, disk: &HostDisk) -> Result<(), DiskError> {
        disk.fsync(&self.log_path).await?;
        disk.fsync(self.index.path()).await
    }

    /// Delete both files (immediately; Kafka renames them `.deleted` and deletes a minute later).
    pub async fn delete(self, disk: &HostDisk) -> Result<(), DiskError> {
        for p in [self.log_path.as_str(), self.index.path()] {
            match disk.delete(p).await {
                Ok(()) | Err(DiskError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
