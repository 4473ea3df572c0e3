//! The producer's `DefaultPartitioner` (Kafka 0.9 clients) with `Utils.murmur2`, plus Java's
//! `String.hashCode` and the `Utils.abs(..) % n` helper the group coordinator uses.
//!
//! Everything here is bit-exact with the JVM: wrapping 32-bit arithmetic, signed results.

/// `org.apache.kafka.common.utils.Utils.murmur2`: MurmurHash2, seed `0x9747b28c`,
/// little-endian 4-byte chunks, fall-through tail, final mixes. Returns Java's signed `int`.
pub fn murmur2(data: &[u8]) -> i32 {
    let length = data.len() as i32; // Java arrays never exceed i32::MAX
    let seed: i32 = 0x9747_b28c_u32 as i32;
    let m: i32 = 0x5bd1_e995;
    let r: u32 = 24;
    let mut h: i32 = seed ^ length;
    let chunks = data.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        let mut k = i32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(m);
        k ^= ((k as u32) >> r) as i32;
        k = k.wrapping_mul(m);
        h = h.wrapping_mul(m);
        h ^= k;
    }
    // The Java switch on length % 4 falls through 3 → 2 → 1.
    if tail.len() >= 3 {
        h ^= (tail[2] as i32) << 16;
    }
    if tail.len() >= 2 {
        h ^= (tail[1] as i32) << 8;
    }
    if !tail.is_empty() {
        h ^= tail[0] as i32;
        h = h.wrapping_mul(m);
    }
    h ^= ((h as u32) >> 13) as i32;
    h = h.wrapping_mul(m);
    h ^= ((h as u32) >> 15) as i32;
    h
}

/// `toPositive` (0.9 spells it `Utils.abs` in the clients): `n & 0x7fffffff`. Not the absolute
/// value for negatives: `-1` gives `2147483647`.
pub fn to_positive(n: i32) -> i32 {
    n & 0x7fff_ffff
}

/// Java's `String.hashCode`: `s[0]*31^(n-1) + … + s[n-1]` over UTF-16 code units, wrapping.
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(u as i32))
}

/// `Utils.abs(hash) % n` as Kafka 0.9's `GroupMetadataManager.partitionFor` computes it. In 0.9
/// `org.apache.kafka.common.utils.Utils.abs` is `n & 0x7fffffff` (same as [`to_positive`]).
/// Returns 0 when `n <= 0` instead of throwing.
pub fn abs_mod(hash: i32, n: i32) -> i32 {
    if n <= 0 {
        return 0;
    }
    to_positive(hash) % n
}

/// The same as [`abs_mod`] with the later `Utils.abs` (`MIN_VALUE → 0`, else `Math.abs`), which
/// Kafka 0.10+ uses for the coordinator partition. Differs from 0.9 for negative hashes.
pub fn abs_mod_modern(hash: i32, n: i32) -> i32 {
    if n <= 0 {
        return 0;
    }
    let a = if hash == i32::MIN { 0 } else { hash.abs() };
    a % n
}

/// The key part of `DefaultPartitioner.partition`, a plug-in point of the graded exercises:
/// which partition a record with this key goes to. Records without a key are spread round
/// robin by the producer itself and never get here.
pub trait KeyPartitioner: Send + Sync {
    /// A partition in `0..num_partitions` (`num_partitions` ≥ 1).
    fn partition(&self, key: &[u8], num_partitions: i32) -> i32;
}

/// 0.9's keyed rule: `toPositive(murmur2(key)) % numPartitions`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Murmur2Partitioner;

impl KeyPartitioner for Murmur2Partitioner {
    fn partition(&self, key: &[u8], num_partitions: i32) -> i32 {
        to_positive(murmur2(key)) % num_partitions.max(1)
    }
}

/// One partition of a topic as the producer's metadata sees it (`PartitionInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    /// Partition id.
    pub partition: i32,
    /// Current leader broker, `None` when the partition has no leader.
    pub leader: Option<i32>,
}

/// `org.apache.kafka.clients.producer.internals.DefaultPartitioner` (0.9).
#[derive(Debug, Clone)]
pub struct DefaultPartitioner {
    counter: i32,
}

impl DefaultPartitioner {
    /// A partitioner whose round-robin counter starts at `start` (Java: `new Random().nextInt()`;
    /// the simulation passes a value from its seeded RNG).
    pub fn new(start: i32) -> Self {
        DefaultPartitioner { counter: start }
    }

    /// The counter's next value (what `counter.get()` would return).
    pub fn counter(&self) -> i32 {
        self.counter
    }

    /// Chooses the partition: keyed → `toPositive(murmur2(key)) % numPartitions`; no key →
    /// round robin over the available partitions (those with a leader), or over all of them
    /// when none is available. Returns `None` when the topic has no partitions at all.
    pub fn partition(&mut self, key: Option<&[u8]>, partitions: &[PartitionInfo]) -> Option<i32> {
        let num = partitions.len();
        if num == 0 {
            return None;
        }
        let num = i32::try_from(num).unwrap_or(i32::MAX);
        match key {
            Some(k) => Some(to_positive(murmur2(k)) % num),
            None => {
                let next = self.counter;
                self.counter = self.counter.wrapping_add(1);
                let available = || partitions.iter().filter(|p| p.leader.is_some());
                match available().count() {
                    0 => Some(to_positive(next) % num),
                    n => available().nth(to_positive(next) as usize % n).map(|p| p.partition),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn murmur2_vectors() {
        assert_eq!(murmur2(b"21"), -973932308);
        assert_eq!(murmur2(b"foobar"), -790332482);
        assert_eq!(murmur2(b"abc"), 479470107);
        assert_eq!(murmur2(b"a-little-bit-long-string"), -985981536);
    }

    #[test]
    fn to_positive_masks() {
        assert_eq!(to_positive(-1), i32::MAX);
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(to_positive(5), 5);
    }

    #[test]
    fn java_hash_values() {
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        assert_eq!(java_string_hash("abc"), 96354);
        assert_eq!(java_string_hash("hello"), 99162322);
        // "console-consumer-12345": computed with the Java recurrence (wrapping).
        let mut h: i32 = 0;
        for b in "console-consumer-12345".bytes() {
            h = h.wrapping_mul(31).wrapping_add(b as i32);
        }
        assert_eq!(java_string_hash("console-consumer-12345"), h);
        // Non-ASCII: UTF-16 code units, not bytes. "é" = U+00E9 = 233; "中" = 0x4E2D = 20013.
        assert_eq!(java_string_hash("é"), 233);
        assert_eq!(java_string_hash("中文"), 20013 * 31 + 0x6587);
        // A supplementary character is two surrogates: U+1F600 = D83D DE00.
        assert_eq!(java_string_hash("😀"), 0xD83D * 31 + 0xDE00);
        // "polygenelubricants".hashCode() == Integer.MIN_VALUE (a well known Java curiosity).
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
    }

    #[test]
    fn abs_mod_quirks() {
        assert_eq!(abs_mod(i32::MIN, 50), 0);
        assert_eq!(abs_mod_modern(i32::MIN, 50), 0);
        assert_eq!(abs_mod(-5, 50), 2147483643 % 50);
        assert_eq!(abs_mod_modern(-5, 50), 5);
        assert_eq!(abs_mod(97, 50), 47);
        assert_eq!(abs_mod(1, 0), 0);
    }

    #[test]
    fn partitioner_keyed_and_round_robin() {
        let parts: Vec<PartitionInfo> = (0..3)
            .map(|p| PartitionInfo { partition: p, leader: if p == 1 { None } else { Some(0) } })
            .collect();
        let mut dp = DefaultPartitioner::new(0);
        assert_eq!(dp.partition(Some(b"foobar"), &parts), Some(to_positive(-790332482) % 3));
        // Only partitions 0 and 2 are available.
        let seq: Vec<i32> = (0..4).filter_map(|_| dp.partition(None, &parts)).collect();
        assert_eq!(seq, vec![0, 2, 0, 2]);
        let none: Vec<PartitionInfo> =
            (0..3).map(|p| PartitionInfo { partition: p, leader: None }).collect();
        let mut dp = DefaultPartitioner::new(-1);
        assert_eq!(dp.partition(None, &none), Some(i32::MAX % 3));
        assert_eq!(dp.partition(None, &[]), None);
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64), start in any::<i32>(),
                        n in 0usize..8, s in ".*") {
            let _ = murmur2(&bytes);
            let _ = java_string_hash(&s);
            let _ = abs_mod(start, n as i32);
            let _ = abs_mod_modern(start, n as i32);
            let parts: Vec<PartitionInfo> = (0..n as i32)
                .map(|p| PartitionInfo { partition: p, leader: if p % 2 == 0 { Some(p) } else { None } })
                .collect();
            let mut dp = DefaultPartitioner::new(start);
            let key = if bytes.is_empty() { None } else { Some(bytes.as_slice()) };
            if let Some(p) = dp.partition(key, &parts) {
                prop_assert!(p >= 0 && (p as usize) < n.max(1));
            }
        }
    }
}
