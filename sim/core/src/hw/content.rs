//! A file's bytes as shared, immutable pieces: how the disk model stores data without copying it.
//!
//! A simulated cluster holds every byte it was given several times over: the leader's log, each
//! follower's copy of it, the device's (durable) view next to the page cache's. Real machines
//! have separate memories; the simulator has one. So a file's content is a sequence of
//! [`Bytes`] pieces (reference-counted slices): a follower that appends what it fetched stores a
//! slice of the leader's piece, and the durable view shares the pieces of the current one. Only the
//! *simulator's* memory is shared; every cost (copies, device time) is still charged per host by
//! [`super::disk`].
//!
//! Small writes (index entries, ZooKeeper transactions, checkpoints) go to an owned tail buffer
//! that is frozen into a piece when it grows past [`TAIL_MAX`], so they neither copy a growing
//! piece nor leave one piece per few bytes. Overwrites and truncations split pieces as needed.
use bytes::Bytes;
use std::collections::BTreeMap;

/// Largest owned tail before it is frozen into a shared piece.
const TAIL_MAX: usize = 64 * 1024;

/// File content: `pieces` (keyed by their start offset, contiguous) then `tail`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Content {
    pieces: BTreeMap<u64, Bytes>,
    /// Bytes of the pieces.
    pieces_len: u64,
    /// Owned bytes after the pieces.
    tail: Vec<u8>,
}

impl Content {
    pub(crate) fn from_slice(data: &[u8]) -> Self {
        let mut c = Content::default();
        c.push_shared(Bytes::copy_from_slice(data));
        c
    }

    pub(crate) fn len(&self) -> u64 {
        self.pieces_len + self.tail.len() as u64
    }

    /// Turns the tail into a piece.
    fn freeze(&mut self) {
        if self.tail.is_empty() {
            return;
        }
        let mut t = std::mem::take(&mut self.tail);
        t.shrink_to_fit();
        let n = t.len() as u64;
        self.pieces.insert(self.pieces_len, Bytes::from(t));
        self.pieces_len += n;
    }

    /// Appends a shared piece as it is (no copy).
    pub(crate) fn push_shared(&mut self, b: Bytes) {
        if b.is_empty() {
            return;
        }
        self.freeze();
        let n = b.len() as u64;
        self.pieces.insert(self.pieces_len, b);
        self.pieces_len += n;
    }

    /// Appends a copy of `data`.
    fn push_copy(&mut self, data: &[u8]) {
        if data.len() >= TAIL_MAX {
            self.push_shared(Bytes::copy_from_slice(data));
        } else {
            if self.tail.len() + data.len() > TAIL_MAX {
                self.freeze();
            }
            self.tail.extend_from_slice(data);
        }
    }

    /// Makes a piece start at `at` (no-op at 0, at a piece start, or at/after the end).
    fn split_at(&mut self, at: u64) {
        if at == 0 || at >= self.pieces_len {
            return;
        }
        let Some((&start, piece)) = self.pieces.range(..=at).next_back() else { return };
        if start == at {
            return;
        }
        let piece = piece.clone();
        let cut = (at - start) as usize;
        self.pieces.insert(start, piece.slice(..cut));
        self.pieces.insert(at, piece.slice(cut..));
    }

    /// Cuts the content to `len` bytes (no-op if not longer).
    pub(crate) fn truncate(&mut self, len: u64) {
        if len >= self.len() {
            return;
        }
        if len >= self.pieces_len {
            self.tail.truncate((len - self.pieces_len) as usize);
            return;
        }
        self.tail.clear();
        self.split_at(len);
        self.pieces.split_off(&len);
        self.pieces_len = len;
    }

    /// Truncates, or extends with zeros.
    pub(crate) fn resize(&mut self, len: u64) {
        let old = self.len();
        if len <= old {
            self.truncate(len);
        } else {
            let gap = (len - old) as usize;
            if gap >= TAIL_MAX {
                self.push_shared(Bytes::from(vec![0u8; gap]));
            } else {
                self.push_copy(&vec![0u8; gap]);
            }
        }
    }

    /// Replaces `[offset, offset + data.len())` (zero-filling a gap past the end).
    pub(crate) fn write_at(&mut self, offset: u64, data: &[u8]) {
        self.write(offset, Piece::Copy(data));
    }

    /// Like [`Content::write_at`], keeping `data` as a shared piece.
    pub(crate) fn write_shared(&mut self, offset: u64, data: Bytes) {
        self.write(offset, Piece::Shared(data));
    }

    fn write(&mut self, offset: u64, data: Piece<'_>) {
        let n = data.len() as u64;
        if n == 0 {
            if offset > self.len() {
                self.resize(offset);
            }
            return;
        }
        if offset > self.len() {
            self.resize(offset);
        }
        let end = offset + n;
        if offset < self.len() {
            if end >= self.len() {
                self.truncate(offset);
            } else {
                // An overwrite inside: the pieces of [offset, end) are replaced.
                self.freeze();
                self.split_at(offset);
                self.split_at(end);
                let keys: Vec<u64> = self.pieces.range(offset..end).map(|(k, _)| *k).collect();
                for k in keys {
                    self.pieces.remove(&k);
                }
                let b = match data {
                    Piece::Copy(d) => Bytes::copy_from_slice(d),
                    Piece::Shared(b) => b,
                };
                self.pieces.insert(offset, b);
                return;
            }
        }
        match data {
            Piece::Copy(d) => self.push_copy(d),
            Piece::Shared(b) => self.push_shared(b),
        }
    }

    /// Calls `f` with each stored slice overlapping `[s, e)`, clipped, in order, with its offset.
    fn for_each(&self, s: u64, e: u64, mut f: impl FnMut(u64, Slice<'_>)) {
        let e = e.min(self.len());
        if s >= e {
            return;
        }
        if s < self.pieces_len {
            let first = self.pieces.range(..=s).next_back().map_or(0, |(k, _)| *k);
            for (&start, piece) in self.pieces.range(first..) {
                if start >= e {
                    break;
                }
                let end = start + piece.len() as u64;
                let (a, b) = (s.max(start), e.min(end));
                if a < b {
                    f(a, Slice::Shared(piece, (a - start) as usize, (b - start) as usize));
                }
            }
        }
        if e > self.pieces_len {
            let a = s.max(self.pieces_len);
            let t = &self.tail[(a - self.pieces_len) as usize..(e - self.pieces_len) as usize];
            f(a, Slice::Tail(t));
        }
    }

    /// A copy of `[s, e)` (clipped at the end).
    pub(crate) fn read(&self, s: u64, e: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(e.min(self.len()).saturating_sub(s) as usize);
        self.for_each(s, e, |_, sl| out.extend_from_slice(sl.bytes()));
        out
    }

    /// `[s, e)` (clipped at the end) as one buffer: a shared slice when one piece holds it all,
    /// else a copy.
    pub(crate) fn slice(&self, s: u64, e: u64) -> Bytes {
        let mut parts: Vec<Bytes> = Vec::new();
        let mut copied = false;
        self.for_each(s, e, |_, sl| match sl {
            Slice::Shared(p, a, b) => parts.push(p.slice(a..b)),
            Slice::Tail(t) => {
                copied = true;
                parts.push(Bytes::copy_from_slice(t));
            }
        });
        match parts.len() {
            0 => Bytes::new(),
            1 if !copied => parts.pop().unwrap_or_default(),
            _ => Bytes::from(parts.concat()),
        }
    }

    pub(crate) fn to_vec(&self) -> Vec<u8> {
        self.read(0, self.len())
    }

    /// Makes `[s, e)` of `self` what it is in `other` (sharing its pieces), growing `self` if
    /// needed (with zeros before `s`).
    pub(crate) fn copy_range_from(&mut self, other: &Content, s: u64, e: u64) {
        let e = e.min(other.len());
        if s >= e {
            return;
        }
        let mut parts: Vec<(u64, Bytes)> = Vec::new();
        other.for_each(s, e, |at, sl| {
            parts.push((
                at,
                match sl {
                    Slice::Shared(p, a, b) => p.slice(a..b),
                    Slice::Tail(t) => Bytes::copy_from_slice(t),
                },
            ))
        });
        if s < self.len() && e < self.len() {
            for (at, b) in parts {
                self.write_shared(at, b);
            }
        } else {
            self.truncate(s);
            if s > self.len() {
                self.resize(s);
            }
            for (_, b) in parts {
                self.push_shared(b);
            }
        }
    }
}

enum Piece<'a> {
    Copy(&'a [u8]),
    Shared(Bytes),
}

impl Piece<'_> {
    fn len(&self) -> usize {
        match self {
            Piece::Copy(d) => d.len(),
            Piece::Shared(b) => b.len(),
        }
    }
}

enum Slice<'a> {
    Shared(&'a Bytes, usize, usize),
    Tail(&'a [u8]),
}

impl Slice<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Slice::Shared(p, a, b) => &p[*a..*b],
            Slice::Tail(t) => t,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Write(u64, Vec<u8>),
        Shared(u64, Vec<u8>),
        Resize(u64),
        CopyFrom(u64, u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u64..300, proptest::collection::vec(any::<u8>(), 0..100))
                .prop_map(|(o, d)| Op::Write(o, d)),
            (0u64..300, proptest::collection::vec(any::<u8>(), 0..100))
                .prop_map(|(o, d)| Op::Shared(o, d)),
            (0u64..300).prop_map(Op::Resize),
            (0u64..300, 0u64..300).prop_map(|(a, b)| Op::CopyFrom(a.min(b), a.max(b))),
        ]
    }

    fn model_write(v: &mut Vec<u8>, o: u64, d: &[u8]) {
        let o = o as usize;
        if v.len() < o + d.len() {
            v.resize(o + d.len(), 0);
        }
        v[o..o + d.len()].copy_from_slice(d);
    }

    proptest! {
        /// Every operation does what the same operation on a plain Vec<u8> does.
        #[test]
        fn content_behaves_like_a_vec(ops in proptest::collection::vec(op(), 0..40)) {
            let (mut c, mut v) = (Content::default(), Vec::<u8>::new());
            // A second file to copy ranges from, as fsync copies current into durable.
            let other_v: Vec<u8> = (0..250u32).map(|i| (i * 7) as u8).collect();
            let mut other = Content::default();
            other.write_shared(0, Bytes::copy_from_slice(&other_v[..100]));
            other.write_at(100, &other_v[100..]);
            for op in ops {
                match op {
                    Op::Write(o, d) => { c.write_at(o, &d); model_write(&mut v, o, &d); }
                    Op::Shared(o, d) => { c.write_shared(o, Bytes::from(d.clone())); model_write(&mut v, o, &d); }
                    Op::Resize(n) => { c.resize(n); v.resize(n as usize, 0); }
                    Op::CopyFrom(s, e) => {
                        c.copy_range_from(&other, s, e);
                        let e = e.min(other_v.len() as u64);
                        if s < e {
                            let tail_cut = !(s < v.len() as u64 && e < v.len() as u64);
                            if tail_cut { v.truncate(s as usize); v.resize(s as usize, 0); }
                            model_write(&mut v, s, &other_v[s as usize..e as usize]);
                        }
                    }
                }
                prop_assert_eq!(c.len(), v.len() as u64);
                prop_assert_eq!(c.to_vec(), v.clone());
            }
            let n = v.len() as u64;
            for (s, e) in [(0, n), (n / 3, n / 2), (1, n + 10)] {
                let want: Vec<u8> = v.get(s.min(n) as usize..e.min(n).max(s.min(n)) as usize).unwrap_or_default().to_vec();
                prop_assert_eq!(c.read(s, e), want.clone());
                prop_assert_eq!(c.slice(s, e).to_vec(), want);
            }
        }
    }

    #[test]
    fn a_slice_inside_one_piece_shares_it() {
        let mut c = Content::default();
        let piece = Bytes::from(vec![1u8; 100_000]);
        c.write_shared(0, piece.clone());
        let s = c.slice(10, 5000);
        assert_eq!(s.len(), 4990);
        // Same memory: the slice points into the piece.
        assert_eq!(s.as_ptr(), piece[10..].as_ptr());
        // A clone (the durable view) shares the pieces too.
        let d = c.clone();
        assert_eq!(d.slice(0, 10).as_ptr(), piece.as_ptr());
    }
}
