//! Disk model: files, a page cache, durability and the time each operation costs.
//!
//! [`Disk`] is the pure, synchronous model: every operation takes the current virtual time (as the
//! [`Duration`] since the simulation started) where time matters and returns its [`IoCost`].
//! [`HostDisk`] is the async handle shared by all processes of a host: it computes the cost under
//! a lock, then sleeps for it in virtual time. The device is one spindle/array/SSD, so device time
//! is serialized (a queue of depth one); copying to or from the page cache is CPU time and is not.
//!
//! Durability rules (simplified from Linux + ext4, and documented so lessons can rely on them):
//! - `write`/`append`/`truncate` change the page-cache content only; the bytes become durable at
//!   `fsync`, or when the kernel writes them back after `dirty_expire_ms` (at no cost to anyone).
//! - A file that was never made durable does not exist after a crash.
//! - `delete` is durable at once. `rename` is atomic and durable at once *for the name*: the file's
//!   durable content moves with it, so renaming an un-fsynced file over an old one loses both on a
//!   crash — which is why careful code fsyncs before it renames.
//! - A crash (power loss) reverts every file to its durable content and empties the page cache.
use super::content::Content;
use super::cpu::transfer_time;
use super::profile::{DiskParams, HardwareProfile};
use madsim::time::Instant;
use std::collections::BTreeMap;
use std::ops::Add;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

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
    /// Bytes written to the page cache (by write, append, truncate-extension).
    pub bytes_written: u64,
    /// Bytes written to the device (by fsync and by kernel write-back).
    pub bytes_durable_written: u64,
    /// Of `bytes_durable_written`, the bytes the kernel wrote back on its own.
    pub writeback_bytes: u64,
    /// Bytes returned by reads that were found in the page cache.
    pub reads_from_cache_bytes: u64,
    /// Bytes read from the device on page-cache misses (whole cache pages).
    pub reads_from_disk_bytes: u64,
    /// Cache pages found in the page cache by reads.
    pub cache_hits: u64,
    /// Cache pages that reads had to load from the device.
    pub cache_misses: u64,
    /// `fsync` calls.
    pub fsyncs: u64,
    /// Head movements (random accesses) paid.
    pub seeks: u64,
    /// Power losses.
    pub crashes: u64,
    /// Total device time charged, ns.
    pub device_busy_ns: u64,
}

/// What an operation costs: device time (serialized on the one device) and CPU copy time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IoCost {
    /// Time the device is busy: seeks, transfers, flushes.
    pub device: Duration,
    /// CPU time copying between the page cache and the caller's buffer.
    pub copy: Duration,
}

impl IoCost {
    /// No cost.
    pub const ZERO: IoCost = IoCost { device: Duration::ZERO, copy: Duration::ZERO };

    /// Device plus copy time, as seen by a caller that waits for both.
    pub fn total(&self) -> Duration {
        self.device + self.copy
    }
}

impl Add for IoCost {
    type Output = IoCost;
    fn add(self, rhs: IoCost) -> IoCost {
        IoCost { device: self.device + rhs.device, copy: self.copy + rhs.copy }
    }
}

/// What bringing a byte range into the page cache found ([`Disk::cache_read`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheRead {
    /// Bytes of the range already in the page cache.
    pub hit_bytes: u64,
    /// Bytes of the range the device had to load.
    pub miss_bytes: u64,
    /// Bytes the device transferred (whole cache pages, so at least `miss_bytes`).
    pub device_bytes: u64,
    /// Device time: seeks and transfers.
    pub device: Duration,
}

/// Default CPU copy rate when no CPU profile is given (a 2014 server core, ~5 GB/s).
pub const DEFAULT_MEMCPY_BYTES_PER_SEC: u64 = 5_000_000_000;

/// A set of disjoint, non-adjacent byte ranges `[start, end)`: the dirty bytes of a file.
#[derive(Debug, Clone, Default)]
struct RangeSet {
    ranges: BTreeMap<u64, u64>,
}

impl RangeSet {
    fn insert(&mut self, mut start: u64, mut end: u64) {
        if start >= end {
            return;
        }
        // The common case (an append after the last dirty range): extend that range in place. It
        // is the last range starting at or before `end`, so no other one touches [start, end).
        if let Some((&s, e)) = self.ranges.range_mut(..=end).next_back() {
            if s <= start && *e >= start {
                *e = (*e).max(end);
                return;
            }
        }
        // Absorb every range that overlaps or touches [start, end), right to left. Ranges are
        // disjoint and not adjacent, so widening [start, end) as we go absorbs no other range.
        while let Some((&s, &e)) = self.ranges.range(..=end).next_back() {
            if e < start {
                break;
            }
            self.ranges.remove(&s);
            start = start.min(s);
            end = end.max(e);
        }
        self.ranges.insert(start, end);
    }

    /// Drop everything at or beyond `len`.
    fn clip(&mut self, len: u64) {
        let beyond: Vec<u64> = self.ranges.range(len..).map(|(&s, _)| s).collect();
        for s in beyond {
            self.ranges.remove(&s);
        }
        if let Some((_, e)) = self.ranges.range_mut(..len).next_back() {
            *e = (*e).min(len);
        }
    }

    fn total(&self) -> u64 {
        self.ranges.iter().map(|(s, e)| e - s).sum()
    }

    fn clear(&mut self) {
        self.ranges.clear();
    }

    fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

/// One file: its page-cache content and what is on the device.
#[derive(Debug, Clone)]
struct File {
    /// Inode number: the page cache and head position refer to it, so a rename keeps them.
    ino: u64,
    /// Shared pieces (see [`Content`]): a follower's log and the durable view share the bytes
    /// they were given instead of holding copies.
    current: Content,
    /// `None`: the file was never made durable and vanishes on a crash.
    durable: Option<Content>,
    /// Bytes of `current` not yet on the device.
    dirty: RangeSet,
    /// Size or existence not yet on the device (creation, shrinking truncate, rewrite).
    meta_dirty: bool,
    /// When the file first became dirty since it was last durable (drives kernel write-back).
    dirty_since: Option<Duration>,
}

impl File {
    fn is_dirty(&self) -> bool {
        self.meta_dirty || !self.dirty.is_empty()
    }

    fn mark_dirty(&mut self, now: Duration, start: u64, end: u64) {
        self.dirty.insert(start, end);
        self.dirty_since.get_or_insert(now);
    }

    /// Copy the dirty state to the device; returns the number of data bytes written.
    fn make_durable(&mut self) -> u64 {
        let bytes = self.dirty.total();
        match &mut self.durable {
            // Only dirty ranges differ from the device, so copy just those (segments can be large).
            Some(d) => {
                d.truncate(self.current.len());
                for (&s, &e) in &self.dirty.ranges {
                    d.copy_range_from(&self.current, s, e);
                }
                d.resize(self.current.len());
            }
            None => self.durable = Some(self.current.clone()),
        }
        self.dirty.clear();
        self.meta_dirty = false;
        self.dirty_since = None;
        bytes
    }
}

/// LRU set of (inode, page index).
///
/// The use order is a doubly linked list threaded through a slab of nodes, so a touch costs one
/// ordered-map look-up and a few index moves, and eviction takes the list's head.
#[derive(Debug, Default)]
struct PageCache {
    capacity_pages: u64,
    /// Each cached page and its node in `nodes`.
    by_key: BTreeMap<(u64, u64), usize>,
    nodes: Vec<LruNode>,
    /// Nodes of dropped pages, for reuse.
    free: Vec<usize>,
    /// Least and most recently used nodes.
    oldest: Option<usize>,
    newest: Option<usize>,
}

/// A cached page in the use order.
#[derive(Debug, Clone, Copy)]
struct LruNode {
    key: (u64, u64),
    older: Option<usize>,
    newer: Option<usize>,
}

impl PageCache {
    /// Mark a page as most recently used, loading it if absent; returns whether it was present.
    fn touch(&mut self, key: (u64, u64)) -> bool {
        // Touching the newest page again changes nothing: no look-up.
        if self.newest.is_some_and(|n| self.nodes[n].key == key) {
            return true;
        }
        let present = match self.by_key.get(&key) {
            Some(&n) => {
                self.unlink(n);
                self.push_newest(n);
                true
            }
            None => {
                let node = LruNode { key, older: None, newer: None };
                let n = match self.free.pop() {
                    Some(n) => {
                        self.nodes[n] = node;
                        n
                    }
                    None => {
                        self.nodes.push(node);
                        self.nodes.len() - 1
                    }
                };
                self.by_key.insert(key, n);
                self.push_newest(n);
                false
            }
        };
        while self.by_key.len() as u64 > self.capacity_pages {
            match self.oldest {
                Some(n) => self.drop_node(n),
                None => break,
            }
        }
        present
    }

    /// Takes node `n` out of the use order.
    fn unlink(&mut self, n: usize) {
        let LruNode { older, newer, .. } = self.nodes[n];
        match older {
            Some(o) => self.nodes[o].newer = newer,
            None => self.oldest = newer,
        }
        match newer {
            Some(w) => self.nodes[w].older = older,
            None => self.newest = older,
        }
    }

    /// Puts node `n` (unlinked) at the newest end.
    fn push_newest(&mut self, n: usize) {
        self.nodes[n].older = self.newest;
        self.nodes[n].newer = None;
        match self.newest {
            Some(w) => self.nodes[w].newer = Some(n),
            None => self.oldest = Some(n),
        }
        self.newest = Some(n);
    }

    /// Forgets the page of node `n`.
    fn drop_node(&mut self, n: usize) {
        self.unlink(n);
        self.by_key.remove(&self.nodes[n].key);
        self.free.push(n);
    }

    /// Forget pages of `ino` from page index `first` on.
    fn remove_from(&mut self, ino: u64, first: u64) {
        let nodes: Vec<usize> =
            self.by_key.range((ino, first)..=(ino, u64::MAX)).map(|(_, &n)| n).collect();
        for n in nodes {
            self.drop_node(n);
        }
    }

    fn clear(&mut self) {
        self.by_key.clear();
        self.nodes.clear();
        self.free.clear();
        self.oldest = None;
        self.newest = None;
    }

    fn len(&self) -> u64 {
        self.by_key.len() as u64
    }
}

/// The synchronous disk state and cost model.
///
/// Simplifications (documented so nobody is surprised): dirtiness is tracked per file, so evicting
/// a dirty page from the cache does not force write-back; kernel write-back takes no device time
/// and does not move the head.
#[derive(Debug)]
pub struct Disk {
    params: DiskParams,
    memcpy_bytes_per_sec: u64,
    files: BTreeMap<String, File>,
    next_ino: u64,
    cache: PageCache,
    /// Where the head is after the last device access: (inode, byte offset).
    head: Option<(u64, u64)>,
    /// Sum of the current sizes of all files.
    used: u64,
    /// Space taken by something outside the simulation (`lab disk HOST full`), bytes.
    filler: u64,
    /// Latest time seen: keeps time monotonic for calls that do not know it.
    clock: Duration,
    /// No file's `dirty_since` is earlier than this (`None`: no file is dirty), so
    /// [`Disk::advance`] looks at the files only when a write-back may be due.
    earliest_dirty: Option<Duration>,
    counters: DiskCounters,
}

impl Disk {
    /// An empty disk; copies run at [`DEFAULT_MEMCPY_BYTES_PER_SEC`] until [`Disk::set_memcpy_rate`].
    pub fn new(params: DiskParams) -> Self {
        let page = params.page_size.max(1);
        let cache = PageCache {
            capacity_pages: (params.page_cache_bytes / page).max(1),
            ..PageCache::default()
        };
        Disk {
            params,
            memcpy_bytes_per_sec: DEFAULT_MEMCPY_BYTES_PER_SEC,
            files: BTreeMap::new(),
            next_ino: 1,
            cache,
            head: None,
            used: 0,
            filler: 0,
            clock: Duration::ZERO,
            earliest_dirty: None,
            counters: DiskCounters::default(),
        }
    }

    /// Set the CPU copy rate used for page-cache copies (from the host's CPU profile).
    pub fn set_memcpy_rate(&mut self, bytes_per_sec: u64) {
        self.memcpy_bytes_per_sec = bytes_per_sec;
    }

    /// The parameters.
    pub fn params(&self) -> &DiskParams {
        &self.params
    }

    fn page_size(&self) -> u64 {
        self.params.page_size.max(1)
    }

    fn seek_time(&self) -> Duration {
        Duration::try_from_secs_f64(self.params.seek_ms / 1000.0).unwrap_or(Duration::ZERO)
    }

    fn fsync_time(&self) -> Duration {
        Duration::try_from_secs_f64(self.params.fsync_ms / 1000.0).unwrap_or(Duration::ZERO)
    }

    fn copy_time(&self, bytes: u64) -> Duration {
        transfer_time(bytes, self.memcpy_bytes_per_sec)
    }

    fn device(&mut self, d: Duration) -> Duration {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.counters.device_busy_ns = self.counters.device_busy_ns.saturating_add(ns);
        d
    }

    /// Advance the model's clock and let the kernel write back data older than `dirty_expire_ms`.
    ///
    /// Every operation calls this first, so the content written back is exactly the content at
    /// the moment it expired.
    pub fn advance(&mut self, now: Duration) -> Duration {
        self.clock = self.clock.max(now);
        let now = self.clock;
        let expire = Duration::from_millis(self.params.dirty_expire_ms);
        if self.earliest_dirty.is_none_or(|e| e + expire > now) {
            return now;
        }
        let mut earliest: Option<Duration> = None;
        for f in self.files.values_mut() {
            if f.dirty_since.is_some_and(|s| s + expire <= now) {
                let bytes = f.make_durable();
                self.counters.bytes_durable_written += bytes;
                self.counters.writeback_bytes += bytes;
            }
            if let Some(s) = f.dirty_since {
                earliest = Some(earliest.map_or(s, |e| e.min(s)));
            }
        }
        self.earliest_dirty = earliest;
        now
    }

    /// A file may have become dirty at `now` (see `earliest_dirty`).
    fn note_dirty(&mut self, now: Duration) {
        self.earliest_dirty = Some(self.earliest_dirty.map_or(now, |e| e.min(now)));
    }

    fn check_space(&self, old_len: u64, new_len: u64) -> Result<(), DiskError> {
        space_for(self.used + self.filler, self.params.capacity_bytes, old_len, new_len)
    }

    fn file_len(&self, path: &str) -> u64 {
        self.files.get(path).map_or(0, |f| f.current.len())
    }

    /// The file at `path`, created empty (and not durable) if missing.
    fn open_create(&mut self, now: Duration, path: &str) -> &mut File {
        let ino = self.next_ino;
        let created = !self.files.contains_key(path);
        if created {
            self.next_ino += 1;
        }
        self.files.entry(path.to_string()).or_insert_with(|| File {
            ino,
            current: Content::default(),
            durable: None,
            dirty: RangeSet::default(),
            meta_dirty: true,
            dirty_since: Some(now),
        })
    }

    /// Bring the pages covering `[start, end)` of `ino` into the cache (written data is cached).
    fn cache_written(&mut self, ino: u64, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let ps = self.page_size();
        for p in start / ps..=(end - 1) / ps {
            self.cache.touch((ino, p));
        }
    }

    /// Install a file durably (set-up, before any process runs): no cost, no capacity check.
    pub fn install(&mut self, path: &str, data: &[u8]) {
        let old = self.file_len(path);
        let ino = match self.files.get(path) {
            Some(f) => f.ino,
            None => {
                self.next_ino += 1;
                self.next_ino - 1
            }
        };
        self.cache.remove_from(ino, 0);
        self.used = self.used - old + data.len() as u64;
        let current = Content::from_slice(data);
        self.files.insert(
            path.to_string(),
            File {
                ino,
                durable: Some(current.clone()),
                current,
                dirty: RangeSet::default(),
                meta_dirty: false,
                dirty_since: None,
            },
        );
    }

    /// Append to a file (created if missing). Lands in the page cache: costs a copy, no device time.
    pub fn append(&mut self, now: Duration, path: &str, data: &[u8]) -> Result<IoCost, DiskError> {
        self.write_piece(now, path, None, Piece::Copy(data))
    }

    /// Write `data` at `offset` (like `pwrite`), creating the file if missing and filling any gap
    /// with zeros. Page cache only: costs a copy.
    pub fn write_at(
        &mut self,
        now: Duration,
        path: &str,
        offset: u64,
        data: &[u8],
    ) -> Result<IoCost, DiskError> {
        self.write_piece(now, path, Some(offset), Piece::Copy(data))
    }

    /// [`Disk::append`] of a buffer the caller hands over: the file keeps it as it is (shared,
    /// see [`Content`]) instead of a copy. Costs exactly what `append` costs.
    pub fn append_shared(
        &mut self,
        now: Duration,
        path: &str,
        data: bytes::Bytes,
    ) -> Result<IoCost, DiskError> {
        self.write_piece(now, path, None, Piece::Shared(data))
    }

    /// Writes `data` at `offset` (`None`: at the end of the file). Looks the path up twice for a
    /// file that exists and allocates no key: this runs for every log and index append.
    fn write_piece(
        &mut self,
        now: Duration,
        path: &str,
        offset: Option<u64>,
        data: Piece<'_>,
    ) -> Result<IoCost, DiskError> {
        let now = self.advance(now);
        let n = data.len() as u64;
        let (taken, capacity) = (self.used + self.filler, self.params.capacity_bytes);
        // Where `data` goes in a file of `old` bytes, and the file's new length, if it fits.
        let place = |old: u64| -> Result<(u64, u64, u64), DiskError> {
            let offset = offset.unwrap_or(old);
            let end = offset.checked_add(n).ok_or(DiskError::NoSpace)?;
            let new_len = old.max(end);
            space_for(taken, capacity, old, new_len)?;
            usize::try_from(new_len).map_err(|_| DiskError::NoSpace)?;
            Ok((offset, end, new_len))
        };
        if !self.files.contains_key(path) {
            // A missing file is created only if the write fits.
            place(0)?;
            self.open_create(now, path);
        }
        let Some(f) = self.files.get_mut(path) else {
            return Err(DiskError::NotFound(path.to_string()));
        };
        let old = f.current.len();
        let (offset, end, new_len) = place(old)?;
        let ino = f.ino;
        match data {
            Piece::Copy(d) => f.current.write_at(offset, d),
            Piece::Shared(b) => f.current.write_shared(offset, b),
        }
        // A gap past the old end is zero-filled: dirty too.
        f.mark_dirty(now, offset.min(old), end);
        self.note_dirty(now);
        self.used = self.used - old + new_len;
        self.cache_written(ino, offset.min(old), end);
        self.counters.bytes_written += end - offset.min(old);
        Ok(IoCost { device: Duration::ZERO, copy: self.copy_time(n) })
    }

    /// Replace a whole file's contents (created if missing). Page cache only: costs a copy.
    pub fn write_all(
        &mut self,
        now: Duration,
        path: &str,
        data: &[u8],
    ) -> Result<IoCost, DiskError> {
        let now = self.advance(now);
        let old = self.file_len(path);
        let new_len = data.len() as u64;
        self.check_space(old, new_len)?;
        let f = self.open_create(now, path);
        let ino = f.ino;
        f.current = Content::from_slice(data);
        f.dirty.clear();
        f.meta_dirty = true;
        f.mark_dirty(now, 0, new_len);
        self.note_dirty(now);
        self.used = self.used - old + new_len;
        self.cache.remove_from(ino, 0);
        self.cache_written(ino, 0, new_len);
        self.counters.bytes_written += new_len;
        Ok(IoCost { device: Duration::ZERO, copy: self.copy_time(new_len) })
    }

    /// Make a file's bytes durable. Costs a seek if the head is elsewhere (and one per further
    /// discontiguous dirty range), the dirty bytes at the sequential write rate, and the flush.
    /// A clean file costs nothing.
    pub fn fsync(&mut self, now: Duration, path: &str) -> Result<IoCost, DiskError> {
        self.advance(now);
        self.counters.fsyncs += 1;
        let seek = self.seek_time();
        let flush = self.fsync_time();
        let write_rate = self.params.seq_write_bytes_per_sec;
        let head = self.head;
        let f = self.files.get_mut(path).ok_or_else(|| DiskError::NotFound(path.to_string()))?;
        if !f.is_dirty() {
            return Ok(IoCost::ZERO);
        }
        let mut seeks = 0u64;
        let mut new_head = head;
        for (i, (&s, &e)) in f.dirty.ranges.iter().enumerate() {
            if i > 0 || head != Some((f.ino, s)) {
                seeks += 1;
            }
            new_head = Some((f.ino, e));
        }
        let bytes = f.make_durable();
        self.head = new_head;
        self.counters.seeks += seeks;
        self.counters.bytes_durable_written += bytes;
        let seek_total = seek * u32::try_from(seeks).unwrap_or(u32::MAX);
        let d = self.device(seek_total + transfer_time(bytes, write_rate) + flush);
        Ok(IoCost { device: d, copy: Duration::ZERO })
    }

    /// Cost of reading `[offset, offset + len)` (clipped to the file), updating the cache, head and
    /// counters, without copying the data out: for zero-copy paths (`sendfile`) that only need the
    /// time. `copy` is what a `read()` into a user buffer would add.
    pub fn read_cost(
        &mut self,
        now: Duration,
        path: &str,
        offset: u64,
        len: u64,
    ) -> Result<IoCost, DiskError> {
        let r = self.cache_read(now, path, offset, len)?;
        Ok(IoCost { device: r.device, copy: self.copy_time(r.hit_bytes + r.miss_bytes) })
    }

    /// Brings `[offset, offset + len)` (clipped to the file) into the page cache: which bytes were
    /// already there, which the device had to load, and the device time (seeks and transfers of
    /// whole cache pages). Updates the cache, head and counters; copies nothing.
    pub fn cache_read(
        &mut self,
        now: Duration,
        path: &str,
        offset: u64,
        len: u64,
    ) -> Result<CacheRead, DiskError> {
        self.advance(now);
        let ps = self.page_size();
        let f = self.files.get(path).ok_or_else(|| DiskError::NotFound(path.to_string()))?;
        let (ino, flen) = (f.ino, f.current.len());
        let end = offset.saturating_add(len).min(flen);
        if offset >= end {
            return Ok(CacheRead::default());
        }
        let (mut seeks, mut disk_bytes) = (0u64, 0u64);
        let mut out = CacheRead::default();
        for p in offset / ps..=(end - 1) / ps {
            let (ps_start, ps_end) = (p * ps, ((p + 1) * ps).min(flen));
            let wanted = end.min(ps_end) - offset.max(ps_start);
            if self.cache.touch((ino, p)) {
                self.counters.cache_hits += 1;
                self.counters.reads_from_cache_bytes += wanted;
                out.hit_bytes += wanted;
            } else {
                out.miss_bytes += wanted;
                // A miss loads the whole cache page (read-ahead granularity) from the device.
                self.counters.cache_misses += 1;
                if self.head != Some((ino, ps_start)) {
                    seeks += 1;
                }
                self.head = Some((ino, ps_end));
                disk_bytes += ps_end - ps_start;
            }
        }
        self.counters.seeks += seeks;
        self.counters.reads_from_disk_bytes += disk_bytes;
        let seek_total = self.seek_time() * u32::try_from(seeks).unwrap_or(u32::MAX);
        out.device =
            self.device(seek_total + transfer_time(disk_bytes, self.params.seq_read_bytes_per_sec));
        out.device_bytes = disk_bytes;
        Ok(out)
    }

    /// `[offset, offset + len)` of a file (clipped at its end) as the page cache holds it, at no
    /// cost and without touching the cache: the simulator's own look at bytes whose reading is
    /// charged elsewhere (e.g. by [`super::send`] when a broker sends them to a socket).
    pub fn peek_range(&self, path: &str, offset: u64, len: u64) -> Option<Vec<u8>> {
        let f = self.files.get(path)?;
        Some(f.current.read(offset, offset.saturating_add(len)))
    }

    /// [`Disk::peek_range`] as a shared buffer: no copy when one stored piece holds the range
    /// (what a leader hands a follower, who then stores the same bytes).
    pub fn peek_range_shared(&self, path: &str, offset: u64, len: u64) -> Option<bytes::Bytes> {
        let f = self.files.get(path)?;
        Some(f.current.slice(offset, offset.saturating_add(len)))
    }

    /// `sync; echo 3 > /proc/sys/vm/drop_caches`: dirty data is written back (at no cost: a
    /// set-up step for experiments) and the page cache is emptied, so the next reads go to the device.
    pub fn drop_caches(&mut self, now: Duration) {
        self.advance(now);
        for f in self.files.values_mut() {
            if f.is_dirty() {
                let bytes = f.make_durable();
                self.counters.bytes_durable_written += bytes;
            }
        }
        self.cache.clear();
        self.head = None;
    }

    /// Read `[offset, offset + len)` (clipped at the end of the file, like `pread`) and its cost.
    pub fn read_at(
        &mut self,
        now: Duration,
        path: &str,
        offset: u64,
        len: u64,
    ) -> Result<(Vec<u8>, IoCost), DiskError> {
        let cost = self.read_cost(now, path, offset, len)?;
        let data = match self.files.get(path) {
            Some(f) => f.current.read(offset, offset.saturating_add(len)),
            None => return Err(DiskError::NotFound(path.to_string())),
        };
        Ok((data, cost))
    }

    /// Read a whole file and its cost.
    pub fn read_all(&mut self, now: Duration, path: &str) -> Result<(Vec<u8>, IoCost), DiskError> {
        let len = self
            .files
            .get(path)
            .ok_or_else(|| DiskError::NotFound(path.to_string()))?
            .current
            .len();
        self.read_at(now, path, 0, len)
    }

    /// Truncate (or extend with zeros) a file to `len` bytes. Metadata only: no cost.
    pub fn truncate(&mut self, now: Duration, path: &str, len: u64) -> Result<IoCost, DiskError> {
        let now = self.advance(now);
        let ps = self.page_size();
        let old = self
            .files
            .get(path)
            .ok_or_else(|| DiskError::NotFound(path.to_string()))?
            .current
            .len();
        self.check_space(old, len)?;
        usize::try_from(len).map_err(|_| DiskError::NoSpace)?;
        let Some(f) = self.files.get_mut(path) else {
            return Err(DiskError::NotFound(path.to_string()));
        };
        let ino = f.ino;
        f.current.resize(len);
        if len < old {
            f.dirty.clip(len);
            f.meta_dirty = true;
            f.dirty_since.get_or_insert(now);
            self.cache.remove_from(ino, len.div_ceil(ps));
        } else if len > old {
            f.mark_dirty(now, old, len);
            self.counters.bytes_written += len - old;
            self.cache_written(ino, old, len);
        }
        self.used = self.used - old + len;
        self.note_dirty(now);
        Ok(IoCost::ZERO)
    }

    /// Delete a file; durable at once. No cost.
    pub fn delete(&mut self, now: Duration, path: &str) -> Result<IoCost, DiskError> {
        self.advance(now);
        let f = self.files.remove(path).ok_or_else(|| DiskError::NotFound(path.to_string()))?;
        self.used -= f.current.len();
        self.cache.remove_from(f.ino, 0);
        Ok(IoCost::ZERO)
    }

    /// Rename a file, replacing `to` if it exists; atomic and durable at once for the name (the
    /// file's durable content moves with it). No cost.
    pub fn rename(&mut self, now: Duration, from: &str, to: &str) -> Result<IoCost, DiskError> {
        self.advance(now);
        if !self.files.contains_key(from) {
            return Err(DiskError::NotFound(from.to_string()));
        }
        if from == to {
            return Ok(IoCost::ZERO);
        }
        if let Some(old) = self.files.remove(to) {
            self.used -= old.current.len();
            self.cache.remove_from(old.ino, 0);
        }
        if let Some(f) = self.files.remove(from) {
            self.files.insert(to.to_string(), f);
        }
        Ok(IoCost::ZERO)
    }

    /// Files whose path starts with `dir` + "/" (at any depth), sorted.
    pub fn list(&self, dir: &str) -> Vec<String> {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        self.files
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// Size of a file (page-cache view), if it exists.
    pub fn len(&self, path: &str) -> Option<u64> {
        self.files.get(path).map(|f| f.current.len())
    }

    /// Whether no file exists.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Current (page-cache) content of a file; no cost.
    pub fn peek(&self, path: &str) -> Option<Vec<u8>> {
        self.files.get(path).map(|f| f.current.to_vec())
    }

    /// What is on the device for a file (what a crash now would leave), `None` if it would vanish;
    /// no cost. Write-back due by the last seen time is taken into account.
    pub fn peek_durable(&self, path: &str) -> Option<Vec<u8>> {
        let f = self.files.get(path)?;
        let expire = Duration::from_millis(self.params.dirty_expire_ms);
        if f.dirty_since.is_some_and(|s| s + expire <= self.clock) {
            return Some(f.current.to_vec());
        }
        f.durable.as_ref().map(Content::to_vec)
    }

    /// Sum of the current sizes of all files, bytes.
    pub fn used_bytes(&self) -> u64 {
        self.used
    }

    /// Fill the free space (another program's files, a runaway log): every write that grows a
    /// file fails with ENOSPC until [`Disk::release_fill`].
    pub fn fill_up(&mut self) {
        self.filler = self.params.capacity_bytes.saturating_sub(self.used);
    }

    /// Free what [`Disk::fill_up`] took.
    pub fn release_fill(&mut self) {
        self.filler = 0;
    }

    /// Bytes held in the page cache (whole cache pages).
    pub fn cached_bytes(&self) -> u64 {
        self.cache.len() * self.page_size()
    }

    /// Dirty (not yet durable) data bytes over all files.
    pub fn dirty_bytes(&self) -> u64 {
        self.files.values().map(|f| f.dirty.total()).sum()
    }

    /// Power loss at `now`: write-back due before `now` happened; everything else not durable is
    /// lost, never-durable files vanish, the page cache is emptied.
    pub fn crash(&mut self, now: Duration) {
        self.advance(now);
        self.files.retain(|_, f| f.durable.is_some());
        for f in self.files.values_mut() {
            if f.is_dirty() {
                f.current = f.durable.clone().unwrap_or_default();
                f.dirty.clear();
                f.meta_dirty = false;
                f.dirty_since = None;
            }
        }
        self.used = self.files.values().map(|f| f.current.len()).sum();
        self.cache.clear();
        self.head = None;
        self.counters.crashes += 1;
    }

    /// Counters.
    pub fn counters(&self) -> DiskCounters {
        self.counters.clone()
    }
}

/// Whether a file may grow from `old_len` to `new_len` bytes when `taken` bytes of `capacity` are
/// in use (shrinking always may).
fn space_for(taken: u64, capacity: u64, old_len: u64, new_len: u64) -> Result<(), DiskError> {
    if new_len > old_len && taken - old_len + new_len > capacity {
        return Err(DiskError::NoSpace);
    }
    Ok(())
}

/// Data handed to a write: borrowed (the disk keeps a copy) or a shared buffer (kept as it is).
enum Piece<'a> {
    Copy(&'a [u8]),
    Shared(bytes::Bytes),
}

impl Piece<'_> {
    fn len(&self) -> usize {
        match self {
            Piece::Copy(d) => d.len(),
            Piece::Shared(b) => b.len(),
        }
    }
}

/// State shared by the processes of a host: the model and the device queue.
#[derive(Debug)]
struct Shared {
    disk: Disk,
    /// When the device finishes the work already queued.
    busy_until: Option<Instant>,
}

/// A host's disk shared by its processes; async methods sleep for the modelled cost.
#[derive(Debug, Clone)]
pub struct HostDisk {
    inner: Arc<Mutex<Shared>>,
    /// Virtual time, read on every operation.
    clock: super::Clock,
}

impl HostDisk {
    /// A new empty disk (page-cache copies at [`DEFAULT_MEMCPY_BYTES_PER_SEC`]).
    pub fn new(params: DiskParams) -> Self {
        HostDisk {
            inner: Arc::new(Mutex::new(Shared { disk: Disk::new(params), busy_until: None })),
            clock: super::Clock::current(),
        }
    }

    /// A new empty disk with the profile's disk parameters and CPU copy rate.
    pub fn from_profile(profile: &HardwareProfile) -> Self {
        let d = HostDisk::new(profile.disk.clone());
        d.lock().disk.set_memcpy_rate(profile.cpu.memcpy_bytes_per_sec);
        d
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        // A panic elsewhere while holding the lock leaves consistent-enough state for a simulator.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run `f` on the model with the current virtual time (since simulation start), without
    /// sleeping: e.g. to compute a [`Disk::read_cost`] and charge it with [`HostDisk::occupy`].
    pub fn with_disk<R>(&self, f: impl FnOnce(&mut Disk, Duration) -> R) -> R {
        let now = self.clock.elapsed();
        f(&mut self.lock().disk, now)
    }

    /// Queue `cost.device` on the device (after the work already queued), then the copy; sleep
    /// until both are done.
    pub async fn occupy(&self, cost: IoCost) {
        let deadline = {
            let mut g = self.lock();
            let now = self.clock.now();
            let mut done = now;
            if cost.device > Duration::ZERO {
                let start = g.busy_until.map_or(now, |b| b.max(now));
                done = start + cost.device;
                g.busy_until = Some(done);
            }
            done + cost.copy
        };
        self.clock.sleep_until_exact(deadline).await;
    }

    /// Run an operation on the model under the lock, then wait for its cost.
    async fn op<T>(
        &self,
        f: impl FnOnce(&mut Disk, Duration) -> Result<(T, IoCost), DiskError>,
    ) -> Result<T, DiskError> {
        let (v, cost) = self.with_disk(f)?;
        self.occupy(cost).await;
        Ok(v)
    }

    /// Install a file durably (set-up, before any process runs): no cost.
    pub fn install(&self, path: &str, data: &[u8]) {
        self.lock().disk.install(path, data);
    }
    /// Append to a file (created if missing); lands in the page cache.
    pub async fn append(&self, path: &str, data: &[u8]) -> Result<(), DiskError> {
        self.op(|d, now| Ok(((), d.append(now, path, data)?))).await
    }
    /// Append a buffer the file keeps as it is (see [`Disk::append_shared`]).
    pub async fn append_shared(&self, path: &str, data: bytes::Bytes) -> Result<(), DiskError> {
        self.op(|d, now| Ok(((), d.append_shared(now, path, data)?))).await
    }
    /// Write at an offset (like `pwrite`; created if missing); lands in the page cache.
    pub async fn write_at(&self, path: &str, offset: u64, data: &[u8]) -> Result<(), DiskError> {
        self.op(|d, now| Ok(((), d.write_at(now, path, offset, data)?))).await
    }
    /// Replace a whole file's contents (page cache).
    pub async fn write_all(&self, path: &str, data: &[u8]) -> Result<(), DiskError> {
        self.op(|d, now| Ok(((), d.write_all(now, path, data)?))).await
    }
    /// Make a file's bytes durable.
    pub async fn fsync(&self, path: &str) -> Result<(), DiskError> {
        self.op(|d, now| Ok(((), d.fsync(now, path)?))).await
    }
    /// Read a whole file.
    pub async fn read_all(&self, path: &str) -> Result<Vec<u8>, DiskError> {
        self.op(|d, now| d.read_all(now, path)).await
    }
    /// Read `len` bytes at `offset` (fewer at the end of the file, like `pread`).
    pub async fn read_at(&self, path: &str, offset: u64, len: u64) -> Result<Vec<u8>, DiskError> {
        self.op(|d, now| d.read_at(now, path, offset, len)).await
    }
    /// Truncate a file to `len` bytes.
    pub async fn truncate(&self, path: &str, len: u64) -> Result<(), DiskError> {
        self.op(|d, now| Ok(((), d.truncate(now, path, len)?))).await
    }
    /// Delete a file.
    pub async fn delete(&self, path: &str) -> Result<(), DiskError> {
        self.op(|d, now| Ok(((), d.delete(now, path)?))).await
    }
    /// Rename a file (atomic, like rename(2)).
    pub async fn rename(&self, from: &str, to: &str) -> Result<(), DiskError> {
        self.op(|d, now| Ok(((), d.rename(now, from, to)?))).await
    }
    /// Files whose path starts with `dir` + "/", sorted.
    pub fn list(&self, dir: &str) -> Vec<String> {
        self.lock().disk.list(dir)
    }
    /// Size of a file, if it exists.
    pub fn len(&self, path: &str) -> Option<u64> {
        self.lock().disk.len(path)
    }
    /// Whether the disk holds no file.
    pub fn is_empty(&self) -> bool {
        self.lock().disk.is_empty()
    }
    /// A byte range as the page cache holds it; no cost (see [`Disk::peek_range`]).
    pub fn peek_range(&self, path: &str, offset: u64, len: u64) -> Option<Vec<u8>> {
        self.lock().disk.peek_range(path, offset, len)
    }
    /// A byte range as a shared buffer; no cost (see [`Disk::peek_range_shared`]).
    pub fn peek_range_shared(&self, path: &str, offset: u64, len: u64) -> Option<bytes::Bytes> {
        self.lock().disk.peek_range_shared(path, offset, len)
    }
    /// `sync; echo 3 > /proc/sys/vm/drop_caches` (see [`Disk::drop_caches`]).
    pub fn drop_caches(&self) {
        let now = self.clock.elapsed();
        self.lock().disk.drop_caches(now);
    }
    /// Synchronous read for tools outside a process (e.g. `cat` in the shell); no cost.
    pub fn peek(&self, path: &str) -> Option<Vec<u8>> {
        self.lock().disk.peek(path)
    }
    /// What a crash now would leave of a file; no cost.
    pub fn peek_durable(&self, path: &str) -> Option<Vec<u8>> {
        self.with_disk(|d, now| {
            d.advance(now);
            d.peek_durable(path)
        })
    }
    /// Power loss: every byte not fsynced is lost, the page cache is emptied.
    pub fn crash(&self) {
        let now = self.clock.elapsed();
        let mut g = self.lock();
        g.disk.crash(now);
        // Queued device work died with the power.
        g.busy_until = None;
    }
    /// Counters.
    pub fn counters(&self) -> DiskCounters {
        self.lock().disk.counters()
    }
    /// Fill the free space (see [`Disk::fill_up`]).
    pub fn fill_up(&self) {
        self.lock().disk.fill_up();
    }
    /// Free the space [`HostDisk::fill_up`] took.
    pub fn release_fill(&self) {
        self.lock().disk.release_fill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2014 spindle with a small disk and cache so limits are easy to reach.
    fn params() -> DiskParams {
        DiskParams {
            seek_ms: 8.5,
            seq_read_bytes_per_sec: 140_000_000,
            seq_write_bytes_per_sec: 130_000_000,
            fsync_ms: 4.2,
            capacity_bytes: 10_000_000,
            page_cache_bytes: 4 * 65_536,
            page_size: 65_536,
            dirty_expire_ms: 30_000,
        }
    }

    const T0: Duration = Duration::ZERO;

    #[test]
    fn page_cache_evicts_the_least_recently_used_page() {
        let mut c = PageCache { capacity_pages: 3, ..PageCache::default() };
        for p in [1, 2, 3] {
            assert!(!c.touch((1, p)));
        }
        assert!(c.touch((1, 1)), "re-touching moves page 1 from oldest to newest");
        assert!(c.touch((1, 1)));
        assert!(!c.touch((1, 4)), "evicts page 2");
        assert!(c.touch((1, 3)) && c.touch((1, 1)) && c.touch((1, 4)));
        assert!(!c.touch((1, 2)), "page 2 was evicted; now page 3 is");
        assert!(!c.touch((1, 3)));
        c.remove_from(1, 3);
        assert_eq!(c.len(), 1, "only page 2 left");
        assert!(!c.touch((2, 0)) && !c.touch((2, 1)), "freed nodes are reused");
        assert!(!c.touch((2, 2)), "evicts page (1, 2)");
        assert!(!c.touch((1, 2)));
        assert_eq!(c.len(), 3);
        c.clear();
        assert_eq!(c.len(), 0);
        assert!(!c.touch((2, 2)));
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn unsynced_write_is_lost_on_crash_synced_one_survives() {
        let mut d = Disk::new(params());
        d.append(T0, "/a", b"hello").expect("append");
        d.fsync(T0, "/a").expect("fsync");
        d.append(T0, "/a", b" world").expect("append");
        d.append(T0, "/b", b"never synced").expect("append");
        assert_eq!(d.peek("/a").as_deref(), Some(&b"hello world"[..]));
        d.crash(ms(1));
        assert_eq!(d.peek("/a").as_deref(), Some(&b"hello"[..]));
        assert_eq!(d.peek("/b"), None, "a never-durable file vanishes");
        assert_eq!(d.used_bytes(), 5);
        assert_eq!(d.cached_bytes(), 0, "page cache emptied");
    }

    #[test]
    fn overwrite_in_place_then_crash_restores_old_bytes() {
        let mut d = Disk::new(params());
        d.install("/f", b"abcdef");
        d.write_at(T0, "/f", 2, b"XY").expect("write");
        d.truncate(T0, "/f", 3).expect("truncate");
        assert_eq!(d.peek("/f").as_deref(), Some(&b"abX"[..]));
        d.crash(T0);
        assert_eq!(d.peek("/f").as_deref(), Some(&b"abcdef"[..]));
        d.write_at(T0, "/f", 8, b"Z").expect("write past the end");
        assert_eq!(d.peek("/f").as_deref(), Some(&b"abcdef\0\0Z"[..]));
        d.fsync(T0, "/f").expect("fsync");
        d.crash(T0);
        assert_eq!(d.peek("/f").as_deref(), Some(&b"abcdef\0\0Z"[..]));
    }

    #[test]
    fn writeback_after_dirty_expire_makes_data_durable() {
        let mut d = Disk::new(params());
        d.append(T0, "/log", b"early").expect("append");
        d.append(ms(20_000), "/log2", b"late").expect("append");
        assert_eq!(d.peek_durable("/log"), None);
        // 30 s after /log was dirtied, but only 10 s after /log2.
        d.crash(ms(30_000));
        assert_eq!(d.peek("/log").as_deref(), Some(&b"early"[..]));
        assert_eq!(d.peek("/log2"), None);
        let c = d.counters();
        assert_eq!(c.writeback_bytes, 5);
        assert_eq!(c.bytes_durable_written, 5);
        assert_eq!(c.device_busy_ns, 0, "write-back is free for callers");
    }

    #[test]
    fn sequential_reads_are_cheaper_than_random_reads() {
        let page = params().page_size;
        let n = 8u64;
        let data = vec![7u8; (page * n) as usize];
        // Cache smaller than the file so neither pattern benefits from it.
        let mut seq = Disk::new(params());
        seq.install("/f", &data);
        let mut rnd = Disk::new(params());
        rnd.install("/f", &data);
        let mut seq_cost = Duration::ZERO;
        for i in 0..n {
            seq_cost += seq.read_cost(T0, "/f", i * page, page).expect("read").device;
        }
        let mut rnd_cost = Duration::ZERO;
        for i in [5, 2, 7, 0, 3, 6, 1, 4] {
            rnd_cost += rnd.read_cost(T0, "/f", i * page, page).expect("read").device;
        }
        assert_eq!(seq.counters().seeks, 1);
        assert_eq!(rnd.counters().seeks, n);
        assert_eq!(seq.counters().reads_from_disk_bytes, rnd.counters().reads_from_disk_bytes);
        assert!(rnd_cost > seq_cost * 5, "random {rnd_cost:?} vs sequential {seq_cost:?}");
    }

    #[test]
    fn cached_read_is_much_cheaper_than_cold_read() {
        let mut d = Disk::new(params());
        d.install("/f", &[1u8; 100_000]);
        let (data, cold) = d.read_all(T0, "/f").expect("read");
        assert_eq!(data.len(), 100_000);
        let (_, warm) = d.read_all(T0, "/f").expect("read");
        assert!(warm.device.is_zero());
        assert!(cold.total() > warm.total() * 100, "cold {cold:?} warm {warm:?}");
        let c = d.counters();
        assert_eq!(c.reads_from_cache_bytes, 100_000);
        assert_eq!((c.cache_hits, c.cache_misses), (2, 2));
    }

    #[test]
    fn written_data_is_cached_and_lru_evicts_oldest() {
        let page = params().page_size as usize;
        let mut d = Disk::new(params());
        d.append(T0, "/a", &vec![0u8; page]).expect("append");
        assert!(
            d.read_all(T0, "/a").expect("read").1.device.is_zero(),
            "writes populate the cache"
        );
        // Four more pages push /a's page out of a four-page cache.
        d.append(T0, "/b", &vec![0u8; 4 * page]).expect("append");
        assert!(d.read_all(T0, "/a").expect("read").1.device > Duration::ZERO);
    }

    #[test]
    fn no_space_writes_nothing() {
        let mut d = Disk::new(params());
        d.append(T0, "/a", &[0u8; 9_000_000]).expect("fits");
        assert_eq!(d.append(T0, "/a", &[0u8; 1_000_001]), Err(DiskError::NoSpace));
        assert_eq!(d.write_all(T0, "/b", &[0u8; 1_000_001]), Err(DiskError::NoSpace));
        assert_eq!(d.truncate(T0, "/a", 10_000_001), Err(DiskError::NoSpace));
        assert_eq!(d.len("/a"), Some(9_000_000));
        assert_eq!(d.len("/b"), None, "a failed create leaves no file");
        assert_eq!(d.used_bytes(), 9_000_000);
        d.append(T0, "/a", &[0u8; 1_000_000]).expect("exactly full fits");
        // Shrinking frees space.
        d.truncate(T0, "/a", 0).expect("truncate");
        d.write_all(T0, "/b", &[0u8; 1_000_001]).expect("fits now");
    }

    #[test]
    fn a_filled_disk_refuses_growth_until_freed() {
        let mut d = Disk::new(params());
        d.append(T0, "/a", &[0u8; 1_000]).expect("fits");
        d.fill_up();
        assert_eq!(d.append(T0, "/a", &[0u8; 1]), Err(DiskError::NoSpace));
        d.truncate(T0, "/a", 10).expect("shrinking still works");
        d.release_fill();
        d.append(T0, "/a", &[0u8; 1_000_000]).expect("fits again");
    }

    #[test]
    fn fsync_cost_grows_with_dirty_bytes() {
        let mut d = Disk::new(params());
        d.install("/small", b"");
        d.install("/big", b"");
        d.append(T0, "/small", &[0u8; 1_000]).expect("append");
        d.append(T0, "/big", &[0u8; 1_000_000]).expect("append");
        let small = d.fsync(T0, "/small").expect("fsync").device;
        let big = d.fsync(T0, "/big").expect("fsync").device;
        assert!(big > small + ms(7), "big {big:?} small {small:?}");
        // Clean file: free. Sequential append right after the last fsync: no seek.
        assert_eq!(d.fsync(T0, "/big").expect("fsync"), IoCost::ZERO);
        d.append(T0, "/big", &[0u8; 1_000]).expect("append");
        let seq = d.fsync(T0, "/big").expect("fsync").device;
        assert!(seq < small, "no seek: {seq:?} vs {small:?}");
        assert_eq!(d.counters().fsyncs, 4);
        assert_eq!(d.counters().bytes_durable_written, 1_002_000);
    }

    #[test]
    fn rename_delete_and_list() {
        let mut d = Disk::new(params());
        d.install("/data/version-2/snapshot.0", b"old");
        d.write_all(T0, "/data/version-2/snapshot.tmp", b"new").expect("write");
        d.fsync(T0, "/data/version-2/snapshot.tmp").expect("fsync");
        d.rename(T0, "/data/version-2/snapshot.tmp", "/data/version-2/snapshot.0").expect("rename");
        d.install("/data/myid", b"1");
        d.install("/database", b"not under /data");
        assert_eq!(
            d.list("/data"),
            vec!["/data/myid".to_string(), "/data/version-2/snapshot.0".to_string()]
        );
        d.crash(T0);
        assert_eq!(d.peek("/data/version-2/snapshot.0").as_deref(), Some(&b"new"[..]));
        d.delete(T0, "/data/myid").expect("delete");
        d.crash(T0);
        assert_eq!(d.peek("/data/myid"), None, "deletion is durable at once");
        assert_eq!(d.delete(T0, "/nope"), Err(DiskError::NotFound("/nope".into())));
        assert_eq!(d.rename(T0, "/nope", "/x"), Err(DiskError::NotFound("/nope".into())));
        assert!(matches!(d.fsync(T0, "/nope"), Err(DiskError::NotFound(_))));
        assert!(matches!(d.read_all(T0, "/nope"), Err(DiskError::NotFound(_))));
    }

    #[test]
    fn read_at_clips_like_pread() {
        let mut d = Disk::new(params());
        d.install("/f", b"0123456789");
        assert_eq!(d.read_at(T0, "/f", 8, 5).expect("read").0, b"89");
        assert_eq!(d.read_at(T0, "/f", 20, 5).expect("read").0, b"");
        assert_eq!(d.read_at(T0, "/f", 2, 3).expect("read").0, b"234");
    }

    #[test]
    fn host_disk_ops_take_virtual_time_and_serialize() {
        let rt = madsim::runtime::Runtime::new();
        rt.block_on(async {
            let disk = HostDisk::new(params());
            disk.install("/a", &[1u8; 65_536]);
            disk.install("/b", &[2u8; 65_536]);

            // A cold read costs one seek + one page at 140 MB/s + the copy.
            let expected = {
                let mut model = Disk::new(params());
                model.install("/a", &[1u8; 65_536]);
                model.read_all(T0, "/a").expect("read").1.total()
            };
            let t0 = Instant::now();
            assert_eq!(disk.read_all("/a").await.expect("read").len(), 65_536);
            // madsim adds a few ns of simulated execution time per poll: allow 10 µs of slack.
            let slack = Duration::from_micros(10);
            let took = Instant::now() - t0;
            assert!(took >= expected && took < expected + slack, "{took:?} vs {expected:?}");

            // Page-cache append: only the copy (microseconds, not madsim's 1 ms minimum sleep).
            let t1 = Instant::now();
            disk.append("/a", &[0u8; 5_000]).await.expect("append");
            let took = Instant::now() - t1;
            assert!(took >= Duration::from_micros(1) && took < slack, "{took:?}");

            // Two concurrent fsyncs: the second waits for the first on the one device.
            disk.append("/b", &[0u8; 1_300_000]).await.expect("append");
            let t2 = Instant::now();
            let (d1, d2) = (disk.clone(), disk.clone());
            let h1 = madsim::task::spawn(async move {
                d1.fsync("/a").await.expect("fsync");
                Instant::now()
            });
            let h2 = madsim::task::spawn(async move {
                d2.fsync("/b").await.expect("fsync");
                Instant::now()
            });
            let (e1, e2) = (h1.await.expect("join"), h2.await.expect("join"));
            let (first, second) = (e1.min(e2) - t2, e1.max(e2) - t2);
            // /a: the head is already at its end (the cold read left it there), so 5 KB + flush
            // = 4.24 ms; /b: seek + 1.3 MB at 130 MB/s + flush = 22.7 ms. In parallel the last
            // would end at 22.7 ms; on one device it ends after both, 26.9 ms.
            assert!(first > ms(4), "{first:?}");
            assert!(second > ms(26) && second < ms(28), "{first:?} then {second:?}");
            assert_eq!(disk.counters().fsyncs, 2);

            assert_eq!(disk.list(""), vec!["/a".to_string(), "/b".to_string()]);
            disk.append("/c", b"x").await.expect("append");
            disk.crash();
            assert_eq!(disk.peek("/c"), None);
            assert_eq!(disk.len("/b"), Some(65_536 + 1_300_000));
        });
    }

    #[test]
    fn host_disk_from_profile_uses_the_cpu_copy_rate() {
        let p = HardwareProfile::named("laptop-2024").expect("profile");
        let disk = HostDisk::from_profile(&p);
        let cost = disk.with_disk(|d, now| d.append(now, "/x", &[0u8; 12_000]).expect("append"));
        assert_eq!(cost.copy, Duration::from_micros(1));
    }
}
