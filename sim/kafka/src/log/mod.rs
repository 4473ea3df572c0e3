//! Kafka's partition log: `Log`, `LogSegment`, `OffsetIndex` and the message format.
//!
//! A partition's log lives in `log.dirs/<topic>-<partition>/` as a sequence of segments, each a
//! `<base offset, 20 digits>.log` of message-set entries (exactly the bytes a produce request
//! carried, with offsets assigned) and a sparse `.index` from offset to byte position. Writes go
//! to the page cache; durability comes from `flush()` (fsync), and a broker that loses power
//! recovers by scanning the active segment and cutting the torn tail ([`LogSegment::recover`]).
//!
//! Submodules: [`message`] (`Message`/`ByteBufferMessageSet` encoding), [`index`]
//! (`OffsetIndex`), [`segment`] (`LogSegment`), [`dump`] (`DumpLogSegments`).
//!
//! Simplifications, so nobody is surprised:
//! - Recovery: Kafka recovers every segment after the recovery point (checkpointed in
//!   `recovery-point-offset-checkpoint`) unless it finds a clean-shutdown marker. Here rolling a
//!   segment fsyncs it (Kafka schedules that flush at once on a background thread), so only the
//!   active segment can hold unflushed bytes and recovering it at open is enough. Older segments
//!   are recovered too when their index is missing or fails the sanity check.
//! - Reads return whole messages only, and at least one even when it is larger than `max_bytes`
//!   (what 0.10.1 does, KIP-74). 0.9 cut the fetch at `max_bytes`, handing the consumer a partial
//!   message; a consumer whose fetch size was below a message's size got stuck with
//!   `RecordTooLargeException`. [`FetchDataInfo::exceeds_max_bytes`] flags that case so a caller
//!   can model it.
//! - A message set larger than `segment_bytes` goes into a fresh segment of its own; 0.9 rejects
//!   it with `MessageSetSizeTooLargeException` (the broker's `message.max.bytes` check, done by
//!   the caller, normally stops it first).
//! - The disk model has no mtimes: a segment's "last modified" time is the virtual time of its
//!   last append, and the open time for segments loaded from disk.
//! - Deleted segments are removed at once (Kafka renames them `.deleted` and deletes them a
//!   minute later).
use sim_core::hw::{DiskError, HostDisk};
use std::collections::BTreeMap;

pub mod dump;
pub mod index;
pub mod message;
pub mod segment;

pub use dump::{dump_index, dump_log_segment};
pub use index::{OffsetIndex, OffsetPosition};
pub use message::{
    decode_message_set, encode_message_set, view_message_set, DecodedMessage, MessageView, Record,
};
pub use segment::{index_filename, log_filename, LogSegment, SegmentRead};

/// The directory of a partition's log: `<log_dir>/<topic>-<partition>`.
pub fn partition_dir(log_dir: &str, topic: &str, partition: i32) -> String {
    format!("{}/{topic}-{partition}", log_dir.trim_end_matches('/'))
}

/// Log errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// The disk failed.
    #[error(transparent)]
    Disk(#[from] DiskError),
    /// Kafka's `OffsetOutOfRangeException`.
    #[error("Request for offset {requested} but we only have log segments in the range {start} to {end}.")]
    OffsetOutOfRange {
        /// The offset asked for.
        requested: i64,
        /// Log start offset.
        start: i64,
        /// Log end offset.
        end: i64,
    },
    /// A follower append whose offsets are not increasing or start below the log end offset.
    #[error("Out of order offsets found in append: first offset {first_offset}, log end offset {log_end_offset}")]
    OffsetOutOfOrder {
        /// First offset of the append.
        first_offset: i64,
        /// Log end offset at the time.
        log_end_offset: i64,
    },
    /// A negative offset where an offset is required.
    #[error("Invalid offset {0}")]
    InvalidOffset(i64),
}

/// Per-topic log settings (`log.segment.bytes`, `log.retention.*`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// `segment.bytes`: roll a new segment before the active one would exceed this.
    pub segment_bytes: u64,
    /// `retention.ms`: delete segments last appended to longer ago. `None` = −1, keep forever.
    pub retention_ms: Option<i64>,
    /// `retention.bytes`: delete oldest segments while the log stays at least this big.
    /// `None` = −1, no size limit.
    pub retention_bytes: Option<i64>,
    /// `index.interval.bytes`: bytes of messages between two index entries.
    pub index_interval_bytes: u32,
    /// Message format written: 0 (Kafka 0.9) or 1 (0.10+, with timestamps).
    pub magic: u8,
    /// `flush.messages`: fsync after this many messages. `None` = never (Long.MaxValue), leaving
    /// durability to the OS write-back and to replication.
    pub flush_interval_messages: Option<u64>,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: 1 << 30,
            retention_ms: Some(168 * 3_600_000),
            retention_bytes: None,
            index_interval_bytes: 4096,
            magic: 0,
            flush_interval_messages: None,
        }
    }
}

/// Kafka's `LogAppendInfo`: what an append wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogAppendInfo {
    /// Offset of the first message (the log end offset for an empty append).
    pub first_offset: i64,
    /// Offset of the last message (`first_offset − 1` for an empty append).
    pub last_offset: i64,
    /// Number of messages.
    pub message_count: usize,
    /// Bytes appended to the segment.
    pub bytes_appended: u64,
    /// Each appended message's CRC as stored (`Message.crc`, what DumpLogSegments prints): the
    /// trace names records by it, read from the entries' headers, not computed again.
    pub crcs: Vec<u32>,
}

/// Kafka's `FetchDataInfo`: messages read from the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchDataInfo {
    /// The decoded messages.
    pub records: Vec<Record>,
    /// The raw message set, as it goes on the wire in a fetch response (a shared slice of the
    /// segment's bytes when one stored piece holds it).
    pub bytes: bytes::Bytes,
    /// Offset of the first record returned; the requested offset when none is.
    pub first_offset: i64,
    /// The first message alone is larger than `max_bytes` (0.9 would have returned a partial
    /// message here; see the module docs).
    pub exceeds_max_bytes: bool,
    /// Where `bytes` lie on disk: the slice a fetch response sends (reading it is charged then).
    pub file: Option<sim_core::hw::send::FileRange>,
}

/// A partition's log: its segments, keyed by base offset.
#[derive(Debug)]
pub struct Log {
    disk: HostDisk,
    dir: String,
    config: LogConfig,
    /// Never empty: the last one is the active segment.
    segments: BTreeMap<i64, LogSegment>,
    /// Offsets below this are known durable.
    recovery_point: i64,
    unflushed_messages: u64,
    /// Latest virtual time (ms) the log was told, for segments created without an explicit time.
    clock_ms: i64,
}

impl Log {
    /// Open the log in partition directory `dir`: load the segments found there, recover the
    /// active one, delete orphan index files, and create segment 0 when there is none.
    pub async fn open(
        disk: HostDisk,
        dir: &str,
        config: LogConfig,
        now_ms: i64,
    ) -> Result<Log, LogError> {
        let dir = dir.trim_end_matches('/').to_string();
        let prefix = format!("{dir}/");
        let mut logs = Vec::new();
        let mut indexes = Vec::new();
        for path in disk.list(&dir) {
            let Some(name) = path.strip_prefix(&prefix).filter(|n| !n.contains('/')) else {
                continue;
            };
            let parse = |stem: &str| stem.parse::<i64>().ok().filter(|&b| b >= 0);
            if let Some(b) = name.strip_suffix(segment::LOG_FILE_SUFFIX).and_then(parse) {
                logs.push(b);
            } else if let Some(b) = name.strip_suffix(segment::INDEX_FILE_SUFFIX).and_then(parse) {
                indexes.push((b, path.clone()));
            }
        }
        for (b, path) in indexes {
            if !logs.contains(&b) {
                match disk.delete(&path).await {
                    Ok(()) | Err(DiskError::NotFound(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let mut segments = BTreeMap::new();
        for b in logs {
            let seg = LogSegment::open(&disk, &dir, b, config.index_interval_bytes, now_ms).await?;
            segments.insert(b, seg);
        }
        match segments.values_mut().next_back() {
            Some(active) => {
                active.recover(&disk).await?;
            }
            None => {
                let seg =
                    LogSegment::create(&disk, &dir, 0, config.index_interval_bytes, now_ms).await?;
                segments.insert(0, seg);
            }
        }
        let mut log = Log {
            disk,
            dir,
            config,
            segments,
            recovery_point: 0,
            unflushed_messages: 0,
            clock_ms: now_ms,
        };
        log.recovery_point = log.log_end_offset();
        Ok(log)
    }

    /// The partition directory.
    pub fn dir(&self) -> &str {
        &self.dir
    }

    /// The configuration.
    pub fn config(&self) -> &LogConfig {
        &self.config
    }

    /// Replaces the configuration (`log.config = newConfig` when `TopicConfigManager` applies a
    /// topic's changed overrides): later appends and retention runs use it.
    pub fn set_config(&mut self, config: LogConfig) {
        self.config = config;
    }

    fn active(&self) -> Option<&LogSegment> {
        self.segments.values().next_back()
    }

    /// Log end offset (LEO): the offset the next message will get.
    pub fn log_end_offset(&self) -> i64 {
        self.active().map_or(0, LogSegment::next_offset)
    }

    /// Log start offset: the base offset of the oldest segment.
    pub fn log_start_offset(&self) -> i64 {
        self.segments.keys().next().copied().unwrap_or(0)
    }

    /// Offsets below this are fsynced.
    pub fn recovery_point(&self) -> i64 {
        self.recovery_point
    }

    /// Total size of all segments' `.log` files.
    pub fn size_in_bytes(&self) -> u64 {
        self.segments.values().map(LogSegment::size).sum()
    }

    /// (base offset, `.log` path, size) of every segment, oldest first.
    pub fn segments(&self) -> Vec<(i64, String, u64)> {
        self.segments
            .values()
            .map(|s| (s.base_offset(), s.log_path().to_string(), s.size()))
            .collect()
    }

    /// The segments themselves, oldest first.
    pub fn log_segments(&self) -> impl Iterator<Item = &LogSegment> {
        self.segments.values()
    }

    /// Append records. A leader append (`assign_offsets`) numbers them from the log end offset;
    /// a follower append keeps the leader's offsets, which must increase and start at or after
    /// the log end offset. Rolls a new segment first when the active one would exceed
    /// `segment_bytes` (Kafka's `maybeRoll`), and fsyncs when `flush_interval_messages` is reached.
    pub async fn append(
        &mut self,
        mut records: Vec<Record>,
        assign_offsets: bool,
        now_ms: i64,
    ) -> Result<LogAppendInfo, LogError> {
        self.clock_ms = self.clock_ms.max(now_ms);
        let leo = self.log_end_offset();
        if assign_offsets {
            for (r, o) in records.iter_mut().zip(leo..) {
                r.offset = o;
            }
        } else {
            self.check_follower_offsets(records.iter().map(|r| r.offset))?;
        }
        let bytes = encode_message_set(&records, self.config.magic);
        let max_timestamp = records.iter().filter_map(|r| r.timestamp).max();
        let offsets = (records.first().map(|r| r.offset), records.last().map(|r| r.offset));
        self.append_bytes(bytes::Bytes::from(bytes), offsets, records.len(), max_timestamp, now_ms)
            .await
    }

    /// [`Log::append`] for a follower that holds the records' message set as fetched (offsets
    /// assigned by the leader; `messages` are its entries): the segment keeps that buffer when it
    /// is exactly what encoding the records with this log's magic gives, and encodes them
    /// otherwise.
    pub async fn append_fetched(
        &mut self,
        messages: &[MessageView<'_>],
        fetched: bytes::Bytes,
        now_ms: i64,
    ) -> Result<LogAppendInfo, LogError> {
        self.clock_ms = self.clock_ms.max(now_ms);
        self.check_follower_offsets(messages.iter().map(|m| m.offset))?;
        let magic = self.config.magic;
        let size: usize = messages.iter().map(|m| m.size_in_log(magic)).sum();
        let bytes = if fetched.len() == size {
            fetched
        } else {
            bytes::Bytes::from(encode_message_set(
                &messages.iter().map(MessageView::to_record).collect::<Vec<_>>(),
                magic,
            ))
        };
        let max_timestamp = messages.iter().filter_map(|m| m.timestamp).max();
        let offsets = (messages.first().map(|m| m.offset), messages.last().map(|m| m.offset));
        self.append_bytes(bytes, offsets, messages.len(), max_timestamp, now_ms).await
    }

    /// The leader's append of a produced message set whose every entry
    /// [`MessageView::encodes_as_stored`] with this log's magic (`positions` says where each
    /// starts): offsets are assigned in place from the log end offset, as 0.9's
    /// `validateMessagesAndAssignOffsets` does, so the bytes are stored as they came, neither
    /// encoded again nor checksummed again (the CRC does not cover the offset).
    pub async fn append_assigning_offsets(
        &mut self,
        mut produced: Vec<u8>,
        positions: &[usize],
        max_timestamp: Option<i64>,
        now_ms: i64,
    ) -> Result<LogAppendInfo, LogError> {
        let leo = self.log_end_offset();
        for (&at, o) in positions.iter().zip(leo..) {
            if let Some(field) = produced.get_mut(at..at + 8) {
                field.copy_from_slice(&o.to_be_bytes());
            }
        }
        let n = positions.len() as i64;
        let offsets = (positions.first().map(|_| leo), positions.last().map(|_| leo + n - 1));
        self.append_bytes(
            bytes::Bytes::from(produced),
            offsets,
            positions.len(),
            max_timestamp,
            now_ms,
        )
        .await
    }

    /// A follower append's offsets must increase and start at or after the log end offset.
    fn check_follower_offsets(
        &self,
        mut offsets: impl Iterator<Item = i64>,
    ) -> Result<(), LogError> {
        let leo = self.log_end_offset();
        let Some(first) = offsets.next() else { return Ok(()) };
        let mut prev = first;
        let mut increasing = true;
        for o in offsets {
            increasing &= prev < o;
            prev = o;
        }
        if first < leo || !increasing {
            return Err(LogError::OffsetOutOfOrder { first_offset: first, log_end_offset: leo });
        }
        Ok(())
    }

    /// Appends an encoded message set of `count` entries with offsets `first..=last` (both `None`
    /// when it is empty) to the active segment, rolling and flushing as configured.
    async fn append_bytes(
        &mut self,
        bytes: bytes::Bytes,
        offsets: (Option<i64>, Option<i64>),
        count: usize,
        max_timestamp: Option<i64>,
        now_ms: i64,
    ) -> Result<LogAppendInfo, LogError> {
        self.clock_ms = self.clock_ms.max(now_ms);
        let leo = self.log_end_offset();
        let (Some(first_offset), Some(last_offset)) = offsets else {
            return Ok(LogAppendInfo {
                first_offset: leo,
                last_offset: leo - 1,
                message_count: 0,
                bytes_appended: 0,
                crcs: Vec::new(),
            });
        };
        let crcs = message::stored_crcs(&bytes, count);
        self.maybe_roll(bytes.len() as u64, now_ms).await?;
        let disk = self.disk.clone();
        let Some(active) = self.segments.values_mut().next_back() else {
            return Err(LogError::InvalidOffset(leo)); // unreachable: a log always has a segment
        };
        let bytes_appended =
            active.append(&disk, bytes, (first_offset, last_offset), max_timestamp, now_ms).await?;
        self.unflushed_messages += count as u64;
        if self.config.flush_interval_messages.is_some_and(|n| self.unflushed_messages >= n) {
            self.flush().await?;
        }
        Ok(LogAppendInfo { first_offset, last_offset, message_count: count, bytes_appended, crcs })
    }

    async fn maybe_roll(&mut self, incoming: u64, now_ms: i64) -> Result<(), LogError> {
        let full = self
            .active()
            .is_some_and(|a| a.size() > 0 && a.size() + incoming > self.config.segment_bytes);
        if full {
            self.roll(now_ms).await?;
        }
        Ok(())
    }

    /// Start a new active segment at the log end offset, after fsyncing the current one.
    /// Nothing happens if the active segment is empty (it already starts there).
    pub async fn roll(&mut self, now_ms: i64) -> Result<(), LogError> {
        let leo = self.log_end_offset();
        if self.segments.contains_key(&leo) {
            return Ok(());
        }
        self.flush().await?;
        let seg = LogSegment::create(
            &self.disk,
            &self.dir,
            leo,
            self.config.index_interval_bytes,
            now_ms,
        )
        .await?;
        self.segments.insert(leo, seg);
        Ok(())
    }

    /// fsync every segment that may hold unflushed data (from the one holding the recovery point
    /// on); afterwards everything up to the log end offset survives a power loss.
    pub async fn flush(&mut self) -> Result<(), LogError> {
        let from =
            self.segments.range(..=self.recovery_point).next_back().map_or(i64::MIN, |(&b, _)| b);
        for seg in self.segments.range(from..).map(|(_, s)| s) {
            seg.flush(&self.disk).await?;
        }
        self.recovery_point = self.log_end_offset();
        self.unflushed_messages = 0;
        Ok(())
    }

    /// Read whole messages from `offset` on: at most `max_bytes` but always at least one, and only
    /// offsets below `max_offset` (the high watermark, for consumers). Reading at the log end
    /// offset returns nothing; beyond it or below the log start offset is `OffsetOutOfRange`.
    pub async fn read(
        &self,
        offset: i64,
        max_bytes: u64,
        max_offset: Option<i64>,
    ) -> Result<FetchDataInfo, LogError> {
        self.read_with(offset, max_bytes, max_offset, true).await
    }

    /// [`Log::read`] for a fetch response: the same bytes and file slice, `records` left empty
    /// (the broker sends the slice without looking inside; the reader decodes it).
    pub async fn read_slice(
        &self,
        offset: i64,
        max_bytes: u64,
        max_offset: Option<i64>,
    ) -> Result<FetchDataInfo, LogError> {
        self.read_with(offset, max_bytes, max_offset, false).await
    }

    async fn read_with(
        &self,
        offset: i64,
        max_bytes: u64,
        max_offset: Option<i64>,
        decode: bool,
    ) -> Result<FetchDataInfo, LogError> {
        let (start, end) = (self.log_start_offset(), self.log_end_offset());
        let empty = FetchDataInfo { first_offset: offset, ..FetchDataInfo::default() };
        if offset == end {
            return Ok(empty);
        }
        if offset > end || offset < start {
            return Err(LogError::OffsetOutOfRange { requested: offset, start, end });
        }
        let floor = self.segments.range(..=offset).next_back().map_or(start, |(&b, _)| b);
        for seg in self.segments.range(floor..).map(|(_, s)| s) {
            let read = if decode {
                seg.read(&self.disk, offset, max_bytes, max_offset).await?
            } else {
                seg.read_slice(&self.disk, offset, max_bytes, max_offset).await?
            };
            if let Some(r) = read {
                // The first entry's offset, without decoding (`Log::read_slice`).
                let first = if r.bytes.is_empty() {
                    None
                } else {
                    message::entry_header(&r.bytes, 0).map(|h| h.0)
                };
                let records: Vec<Record> = r.messages.into_iter().map(|m| m.record).collect();
                let first_offset = first.unwrap_or(offset);
                return Ok(FetchDataInfo {
                    records,
                    bytes: r.bytes,
                    first_offset,
                    exceeds_max_bytes: r.exceeds_max_bytes,
                    file: r.file,
                });
            }
        }
        Ok(empty)
    }

    /// Remove every message at or after `offset` (a follower truncating to its high watermark):
    /// later segments are deleted whole, the one containing `offset` is truncated.
    pub async fn truncate_to(&mut self, offset: i64) -> Result<(), LogError> {
        if offset < 0 {
            return Err(LogError::InvalidOffset(offset));
        }
        if offset >= self.log_end_offset() {
            return Ok(());
        }
        if self.log_start_offset() > offset {
            return self.truncate_fully_and_start_at(offset).await;
        }
        let later: Vec<i64> = self.segments.range(offset + 1..).map(|(&b, _)| b).collect();
        for b in later {
            if let Some(seg) = self.segments.remove(&b) {
                seg.delete(&self.disk).await?;
            }
        }
        let disk = self.disk.clone();
        if let Some(active) = self.segments.values_mut().next_back() {
            active.truncate_to(&disk, offset).await?;
        }
        self.recovery_point = self.recovery_point.min(self.log_end_offset());
        Ok(())
    }

    /// Delete every segment and start afresh at `offset` (a follower whose log is entirely
    /// outside the leader's range).
    pub async fn truncate_fully_and_start_at(&mut self, offset: i64) -> Result<(), LogError> {
        if offset < 0 {
            return Err(LogError::InvalidOffset(offset));
        }
        for (_, seg) in std::mem::take(&mut self.segments) {
            seg.delete(&self.disk).await?;
        }
        let seg = LogSegment::create(
            &self.disk,
            &self.dir,
            offset,
            self.config.index_interval_bytes,
            self.clock_ms,
        )
        .await?;
        self.segments.insert(offset, seg);
        self.recovery_point = offset;
        self.unflushed_messages = 0;
        Ok(())
    }

    /// The log cleaner's `cleanupLogs` for a `delete` policy: first by time (segments whose last
    /// append is more than `retention_ms` old), then by size (oldest segments while the log stays
    /// at least `retention_bytes` without them). Only a prefix of the log is ever deleted. As in
    /// 0.9, an expired non-empty active segment is deleted too, after rolling a new empty one so
    /// the log always has a segment. Returns the deleted base offsets; the log start offset moves
    /// to the oldest remaining segment.
    pub async fn delete_old_segments(&mut self, now_ms: i64) -> Result<Vec<i64>, LogError> {
        self.clock_ms = self.clock_ms.max(now_ms);
        let mut deleted = Vec::new();
        if let Some(ms) = self.config.retention_ms.filter(|&ms| ms >= 0) {
            deleted
                .extend(self.delete_while(now_ms, |s| now_ms - s.last_modified_ms() > ms).await?);
        }
        if let Some(limit) = self.config.retention_bytes.filter(|&b| b >= 0) {
            let size = i64::try_from(self.size_in_bytes()).unwrap_or(i64::MAX);
            if size >= limit {
                let mut diff = size - limit;
                let pred = |s: &LogSegment| {
                    let seg = i64::try_from(s.size()).unwrap_or(i64::MAX);
                    if diff - seg >= 0 {
                        diff -= seg;
                        true
                    } else {
                        false
                    }
                };
                deleted.extend(self.delete_while(now_ms, pred).await?);
            }
        }
        Ok(deleted)
    }

    /// Kafka's `deleteOldSegments(predicate)`: the longest prefix of segments matching `pred`,
    /// skipping an empty active segment (it would just be recreated).
    async fn delete_while(
        &mut self,
        now_ms: i64,
        mut pred: impl FnMut(&LogSegment) -> bool,
    ) -> Result<Vec<i64>, LogError> {
        let active = self.active().map(LogSegment::base_offset);
        let doomed: Vec<i64> = self
            .segments
            .values()
            .take_while(|s| pred(s) && (Some(s.base_offset()) != active || s.size() > 0))
            .map(LogSegment::base_offset)
            .collect();
        if doomed.is_empty() {
            return Ok(doomed);
        }
        if doomed.len() == self.segments.len() {
            self.roll(now_ms).await?;
        }
        for b in &doomed {
            if let Some(seg) = self.segments.remove(b) {
                seg.delete(&self.disk).await?;
            }
        }
        Ok(doomed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::hw::HardwareProfile;

    const DIR: &str = "/tmp/kafka-logs/HelloKafka-0";

    fn disk() -> HostDisk {
        HostDisk::new(HardwareProfile::default().disk)
    }

    fn run<F: std::future::Future<Output = ()>>(f: F) {
        madsim::runtime::Runtime::new().block_on(f);
    }

    /// Value `m000`…: 4 bytes, so every entry is 12 + 14 + 4 = 30 bytes.
    fn rec(i: i64) -> Record {
        Record { offset: i, ..Record::value(format!("m{i:03}")) }
    }

    /// Three 30-byte messages per segment.
    fn small() -> LogConfig {
        LogConfig { segment_bytes: 100, ..LogConfig::default() }
    }

    async fn filled(d: &HostDisk, config: LogConfig, n: i64) -> Log {
        let mut log = Log::open(d.clone(), DIR, config, 0).await.expect("open");
        for i in 0..n {
            let info = log.append(vec![rec(i)], true, 0).await.expect("append");
            assert_eq!((info.first_offset, info.last_offset, info.bytes_appended), (i, i, 30));
        }
        log
    }

    fn offsets(f: &FetchDataInfo) -> Vec<i64> {
        f.records.iter().map(|r| r.offset).collect()
    }

    #[test]
    fn partition_dir_and_file_names() {
        assert_eq!(partition_dir("/tmp/kafka-logs/", "HelloKafka", 0), DIR);
        assert_eq!(log_filename(DIR, 0), "/tmp/kafka-logs/HelloKafka-0/00000000000000000000.log");
        assert_eq!(
            index_filename(DIR, 3),
            "/tmp/kafka-logs/HelloKafka-0/00000000000000000003.index"
        );
    }

    #[test]
    fn append_and_read_across_segments() {
        run(async {
            let d = disk();
            let log = filled(&d, small(), 10).await;
            let names: Vec<String> = log.segments().into_iter().map(|(_, p, _)| p).collect();
            assert_eq!(
                names,
                [
                    "00000000000000000000",
                    "00000000000000000003",
                    "00000000000000000006",
                    "00000000000000000009"
                ]
                .map(|b| format!("{DIR}/{b}.log"))
            );
            assert_eq!(log.segments().iter().map(|s| s.2).collect::<Vec<_>>(), [90, 90, 90, 30]);
            assert_eq!(d.list(DIR).len(), 8, "a .log and an .index per segment");
            assert_eq!(
                (log.log_start_offset(), log.log_end_offset(), log.size_in_bytes()),
                (0, 10, 300)
            );

            // A read stays within one segment, as Kafka's does.
            let f = log.read(0, 1000, None).await.expect("read");
            assert_eq!(offsets(&f), [0, 1, 2]);
            assert_eq!(f.bytes, encode_message_set(&[rec(0), rec(1), rec(2)], 0));
            assert_eq!(offsets(&log.read(4, 1000, None).await.expect("read")), [4, 5]);
            assert_eq!(offsets(&log.read(4, 59, None).await.expect("read")), [4]);
            assert_eq!(offsets(&log.read(3, 1000, Some(5)).await.expect("read")), [3, 4]);
            assert!(log.read(3, 1000, Some(3)).await.expect("read").records.is_empty());
            let big = log.read(7, 10, None).await.expect("read");
            assert_eq!(
                (offsets(&big), big.exceeds_max_bytes, big.bytes.len()),
                (vec![7], true, 30)
            );
            assert_eq!(log.read(9, 1000, None).await.expect("read").first_offset, 9);

            let at_leo = log.read(10, 1000, None).await.expect("read at LEO");
            assert!(at_leo.records.is_empty() && at_leo.bytes.is_empty());
            assert_eq!(
                log.read(11, 1000, None).await,
                Err(LogError::OffsetOutOfRange { requested: 11, start: 0, end: 10 })
            );
            assert!(matches!(
                log.read(-1, 1000, None).await,
                Err(LogError::OffsetOutOfRange { .. })
            ));
        });
    }

    #[test]
    fn leader_append_assigns_offsets_and_a_big_set_gets_its_own_segment() {
        run(async {
            let d = disk();
            let mut log = Log::open(d.clone(), DIR, small(), 0).await.expect("open");
            let info = log
                .append((0..2).map(|_| Record::value("abcd")).collect(), true, 0)
                .await
                .expect("append");
            assert_eq!(
                info,
                LogAppendInfo {
                    first_offset: 0,
                    last_offset: 1,
                    message_count: 2,
                    bytes_appended: 60,
                    crcs: vec![crc32fast::hash(b"\x00\x00\xff\xff\xff\xff\x00\x00\x00\x04abcd"); 2]
                }
            );
            let info = log
                .append((0..5).map(|_| Record::value("abcd")).collect(), true, 0)
                .await
                .expect("append");
            assert_eq!((info.first_offset, info.last_offset), (2, 6));
            assert_eq!(
                log.segments().iter().map(|s| (s.0, s.2)).collect::<Vec<_>>(),
                [(0, 60), (2, 150)]
            );
            let empty = log.append(vec![], true, 0).await.expect("empty append");
            assert_eq!((empty.first_offset, empty.message_count), (7, 0));
        });
    }

    #[test]
    fn follower_append_keeps_offsets_and_rejects_out_of_order() {
        run(async {
            let d = disk();
            let mut log = Log::open(d.clone(), DIR, LogConfig::default(), 0).await.expect("open");
            log.append((0..3).map(rec).collect(), false, 0).await.expect("append");
            assert_eq!(log.log_end_offset(), 3);
            assert_eq!(
                log.append(vec![rec(2), rec(3)], false, 0).await,
                Err(LogError::OffsetOutOfOrder { first_offset: 2, log_end_offset: 3 })
            );
            assert!(matches!(
                log.append(vec![rec(5), rec(4)], false, 0).await,
                Err(LogError::OffsetOutOfOrder { .. })
            ));
            log.append(vec![rec(3), rec(4)], false, 0).await.expect("append");
            assert_eq!(offsets(&log.read(0, 1000, None).await.expect("read")), [0, 1, 2, 3, 4]);
        });
    }

    #[test]
    fn index_lookups_and_dump() {
        run(async {
            let d = disk();
            let config = LogConfig { index_interval_bytes: 64, ..LogConfig::default() };
            let log = filled(&d, config, 20).await;
            let seg = log.log_segments().next().expect("segment");
            // An entry each time more than 64 bytes (three messages) went in since the last.
            let idx = seg.index();
            let entries: Vec<(i64, u32)> = (0..idx.entries())
                .filter_map(|n| idx.entry(n))
                .map(|e| (e.offset, e.position))
                .collect();
            assert_eq!(entries, [(3, 90), (6, 180), (9, 270), (12, 360), (15, 450), (18, 540)]);
            assert_eq!(idx.lookup(8), OffsetPosition { offset: 6, position: 180 });
            assert_eq!(seg.translate_offset(&d, 8).await.expect("translate"), Some((8, 240)));
            assert_eq!(seg.translate_offset(&d, 20).await.expect("translate"), None);
            assert_eq!(offsets(&log.read(8, 60, None).await.expect("read")), [8, 9]);

            let bytes = d.peek(seg.index_path()).expect("index file");
            assert_eq!(bytes.len(), 48, "only used entries are written");
            let out = dump_index(seg.index_path(), &bytes, 0);
            assert!(out.starts_with(&format!(
                "Dumping {DIR}/00000000000000000000.index\noffset: 3 position: 90\n"
            )));
            assert_eq!(out.lines().count(), 7);

            let out = dump_log_segment(seg.log_path(), &d.peek(seg.log_path()).expect("log"), true);
            let lines: Vec<&str> = out.lines().collect();
            assert_eq!(lines[1], "Starting offset: 0");
            let crc = decode_message_set(&encode_message_set(&[rec(1)], 0)).0[0].crc;
            assert_eq!(
                lines[3],
                format!("offset: 1 position: 30 isvalid: true payloadsize: 4 magic: 0 compresscodec: NoCompressionCodec crc: {crc} payload: m001")
            );
            assert_eq!(lines.len(), 22);

            // A reopened log uses the index from disk and finds the same end.
            drop(log);
            let log = Log::open(
                d.clone(),
                DIR,
                LogConfig { index_interval_bytes: 64, ..LogConfig::default() },
                0,
            )
            .await
            .expect("reopen");
            assert_eq!(log.log_end_offset(), 20);
            assert_eq!(log.log_segments().next().map(|s| s.index().entries()), Some(6));
        });
    }

    #[test]
    fn truncate_to_drops_later_segments_and_cuts_the_one_holding_the_offset() {
        run(async {
            let d = disk();
            let mut log = filled(&d, small(), 10).await;
            log.truncate_to(20).await.expect("beyond the end: nothing");
            assert_eq!(log.log_end_offset(), 10);
            log.truncate_to(4).await.expect("truncate");
            assert_eq!(log.log_end_offset(), 4);
            assert_eq!(
                log.segments().iter().map(|s| (s.0, s.2)).collect::<Vec<_>>(),
                [(0, 90), (3, 30)]
            );
            assert_eq!(d.len(&log_filename(DIR, 6)), None, "later segment files deleted");
            assert_eq!(d.len(&log_filename(DIR, 3)), Some(30));
            let info = log.append(vec![Record::value("new!")], true, 0).await.expect("append");
            assert_eq!(info.first_offset, 4);
            assert_eq!(
                log.read(4, 100, None).await.expect("read").records[0].value.as_deref(),
                Some(&b"new!"[..])
            );

            log.truncate_to(3).await.expect("truncate at a segment base");
            assert_eq!((log.log_end_offset(), log.segments().len()), (3, 2));

            log.truncate_fully_and_start_at(100).await.expect("truncate fully");
            assert_eq!((log.log_start_offset(), log.log_end_offset()), (100, 100));
            assert_eq!(d.list(DIR), [index_filename(DIR, 100), log_filename(DIR, 100)]);
            assert_eq!(log.append(vec![rec(0)], true, 0).await.expect("append").first_offset, 100);
            assert_eq!(log.truncate_to(-1).await, Err(LogError::InvalidOffset(-1)));
        });
    }

    #[test]
    fn recovery_cuts_a_torn_tail_and_appends_continue() {
        run(async {
            let d = disk();
            let log = filled(&d, LogConfig::default(), 5).await;
            drop(log);
            let path = log_filename(DIR, 0);
            let half = encode_message_set(&[rec(5)], 0);
            d.append(&path, &half[..17]).await.expect("torn write");
            assert_eq!(d.len(&path), Some(167));

            let mut log = Log::open(d.clone(), DIR, LogConfig::default(), 0).await.expect("reopen");
            assert_eq!(log.log_end_offset(), 5);
            assert_eq!(d.len(&path), Some(150), "torn tail truncated");
            assert_eq!(
                log.append(vec![Record::value("next")], true, 0)
                    .await
                    .expect("append")
                    .first_offset,
                5
            );
            assert_eq!(offsets(&log.read(0, 1000, None).await.expect("read")), [0, 1, 2, 3, 4, 5]);

            // A flipped byte in the middle: recovery keeps only what precedes it.
            drop(log);
            let mut bytes = d.peek(&path).expect("log");
            bytes[2 * 30 + 28] ^= 1;
            d.write_all(&path, &bytes).await.expect("write");
            let log = Log::open(d.clone(), DIR, LogConfig::default(), 0).await.expect("reopen");
            assert_eq!((log.log_end_offset(), log.size_in_bytes()), (2, 60));
        });
    }

    #[test]
    fn garbage_files_do_not_break_open() {
        run(async {
            let d = disk();
            d.install(&log_filename(DIR, 0), &[0xff; 100]);
            d.install(&index_filename(DIR, 0), &[1, 2, 3]);
            d.install(&index_filename(DIR, 7), &[0; 8]); // orphan
            d.install(&format!("{DIR}/notes.txt"), b"x");
            d.install(&format!("{DIR}/sub/00000000000000000009.log"), b"");
            let mut log = Log::open(d.clone(), DIR, LogConfig::default(), 0).await.expect("open");
            assert_eq!((log.log_end_offset(), log.size_in_bytes()), (0, 0));
            assert_eq!(d.len(&index_filename(DIR, 7)), None, "orphan index deleted");
            log.append(vec![rec(0)], true, 0).await.expect("append");
            assert_eq!(offsets(&log.read(0, 100, None).await.expect("read")), [0]);
        });
    }

    #[test]
    fn a_missing_index_of_an_old_segment_is_rebuilt() {
        run(async {
            let d = disk();
            let config =
                LogConfig { segment_bytes: 300, index_interval_bytes: 50, ..LogConfig::default() };
            let log = filled(&d, config.clone(), 15).await;
            let before = d.peek(&index_filename(DIR, 0)).expect("index");
            assert!(!before.is_empty());
            drop(log);
            d.delete(&index_filename(DIR, 0)).await.expect("delete");
            let log = Log::open(d.clone(), DIR, config, 0).await.expect("reopen");
            assert_eq!(d.peek(&index_filename(DIR, 0)), Some(before));
            assert_eq!(offsets(&log.read(7, 30, None).await.expect("read")), [7]);
            assert_eq!(log.log_end_offset(), 15);
        });
    }

    #[test]
    fn crash_loses_what_was_not_flushed() {
        run(async {
            let d = disk();
            let log = filled(&d, LogConfig::default(), 5).await;
            drop(log);
            d.crash();
            let mut log = Log::open(d.clone(), DIR, LogConfig::default(), 0).await.expect("reopen");
            assert_eq!(log.log_end_offset(), 0, "nothing was fsynced");

            for i in 0..5 {
                log.append(vec![rec(i)], true, 0).await.expect("append");
            }
            log.flush().await.expect("flush");
            assert_eq!(log.recovery_point(), 5);
            log.append(vec![rec(5), rec(6)], true, 0).await.expect("append");
            drop(log);
            d.crash();
            let log = Log::open(d.clone(), DIR, LogConfig::default(), 0).await.expect("reopen");
            assert_eq!(log.log_end_offset(), 5, "flushed messages survive, the rest is gone");
        });
    }

    #[test]
    fn rolling_flushes_the_old_segment() {
        run(async {
            let d = disk();
            let log = filled(&d, small(), 10).await;
            drop(log);
            d.crash();
            let log = Log::open(d.clone(), DIR, small(), 0).await.expect("reopen");
            assert_eq!(log.log_end_offset(), 9, "segments 0, 3, 6 were fsynced when rolled");
            assert_eq!(log.segments().len(), 3);
        });
    }

    #[test]
    fn flush_interval_messages_fsyncs_every_n() {
        run(async {
            let d = disk();
            let config = LogConfig { flush_interval_messages: Some(2), ..LogConfig::default() };
            let mut log = Log::open(d.clone(), DIR, config.clone(), 0).await.expect("open");
            for i in 0..3 {
                log.append(vec![rec(i)], true, 0).await.expect("append");
            }
            assert_eq!(log.recovery_point(), 2);
            drop(log);
            d.crash();
            assert_eq!(
                Log::open(d.clone(), DIR, config, 0).await.expect("reopen").log_end_offset(),
                2
            );
        });
    }

    #[test]
    fn retention_by_time_deletes_old_segments_and_rolls_an_expired_active_one() {
        run(async {
            let d = disk();
            let config = LogConfig { retention_ms: Some(1000), ..small() };
            let mut log = Log::open(d.clone(), DIR, config, 0).await.expect("open");
            for (i, t) in [(0, 0), (1, 0), (2, 0), (3, 500), (4, 500), (5, 500), (6, 1000)] {
                log.append(vec![rec(i)], true, t).await.expect("append");
            }
            assert_eq!(log.delete_old_segments(900).await.expect("retention"), Vec::<i64>::new());
            assert_eq!(log.delete_old_segments(1550).await.expect("retention"), [0, 3]);
            assert_eq!(log.log_start_offset(), 6);
            assert_eq!(d.len(&log_filename(DIR, 0)), None);
            assert_eq!(
                log.read(2, 100, None).await,
                Err(LogError::OffsetOutOfRange { requested: 2, start: 6, end: 7 })
            );
            // Everything expired: roll, then delete the old active segment.
            assert_eq!(log.delete_old_segments(5000).await.expect("retention"), [6]);
            assert_eq!(
                (log.log_start_offset(), log.log_end_offset(), log.size_in_bytes()),
                (7, 7, 0)
            );
            assert_eq!(log.segments().len(), 1);
            // An empty active segment is never deleted.
            assert!(log.delete_old_segments(50_000).await.expect("retention").is_empty());
            assert_eq!(
                log.append(vec![rec(0)], true, 50_000).await.expect("append").first_offset,
                7
            );
        });
    }

    #[test]
    fn retention_by_bytes_deletes_whole_oldest_segments() {
        run(async {
            let d = disk();
            let config = LogConfig { retention_ms: None, retention_bytes: Some(100), ..small() };
            let mut log = filled(&d, config, 10).await;
            // 300 bytes, 200 over: segments 0 and 3 (90 each) go, segment 6 would leave only 30.
            assert_eq!(log.delete_old_segments(1 << 40).await.expect("retention"), [0, 3]);
            assert_eq!((log.log_start_offset(), log.size_in_bytes()), (6, 120));
            assert!(log.delete_old_segments(1 << 40).await.expect("retention").is_empty());
        });
    }
}
