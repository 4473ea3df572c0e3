//! `OffsetRange` and the direct stream's per-batch arithmetic, as Spark 1.6's
//! `DirectKafkaInputDStream.compute` does it: each batch reads, for every partition, from the
//! offset the previous batch stopped at (`currentOffsets`) to the leader's latest offset, capped by
//! `spark.streaming.kafka.maxRatePerPartition` × the batch interval (`maxMessagesPerPartition`).
//!
//! ```
//! use stream::offset_range::{compute_offset_ranges, max_messages_per_partition};
//! use std::collections::BTreeMap;
//! let from = BTreeMap::from([(0, 100), (1, 40)]);
//! let latest = BTreeMap::from([(0, 1000), (1, 45)]);
//! let cap = max_messages_per_partition(50, 2000); // 50 records/s for 2 s
//! assert_eq!(cap, Some(100));
//! let r = compute_offset_ranges("words", &from, &latest, cap);
//! assert_eq!((r[0].from_offset, r[0].until_offset), (100, 200)); // capped
//! assert_eq!((r[1].from_offset, r[1].until_offset), (40, 45)); // all there is
//! ```

use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// `org.apache.spark.streaming.kafka.OffsetRange`: the records `[from_offset, until_offset)` of
/// one partition that one batch reads.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct OffsetRange {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// First offset (inclusive).
    pub from_offset: i64,
    /// End offset (exclusive).
    pub until_offset: i64,
}

impl OffsetRange {
    /// How many records the range holds.
    pub fn count(&self) -> i64 {
        (self.until_offset - self.from_offset).max(0)
    }

    /// The range as the trace writes it: `[topic, partition, from, until]`.
    pub fn to_json(&self) -> Value {
        json!([self.topic, self.partition, self.from_offset, self.until_offset])
    }

    /// Reads `[topic, partition, from, until]`.
    pub fn from_json(v: &Value) -> Option<OffsetRange> {
        let a = v.as_array()?;
        Some(OffsetRange {
            topic: a.first()?.as_str()?.to_string(),
            partition: i32::try_from(a.get(1)?.as_i64()?).ok()?,
            from_offset: a.get(2)?.as_i64()?,
            until_offset: a.get(3)?.as_i64()?,
        })
    }
}

impl std::fmt::Display for OffsetRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{} [{}, {})", self.topic, self.partition, self.from_offset, self.until_offset)
    }
}

/// Ranges as a JSON array (for events, checkpoints and the result table).
pub fn ranges_json(ranges: &[OffsetRange]) -> Value {
    Value::Array(ranges.iter().map(OffsetRange::to_json).collect())
}

/// Reads a JSON array of ranges; malformed entries are skipped.
pub fn ranges_from_json(v: Option<&Value>) -> Vec<OffsetRange> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(OffsetRange::from_json).collect())
        .unwrap_or_default()
}

/// `maxMessagesPerPartition`: `maxRatePerPartition` records per second over one batch interval;
/// `None` (no cap) when the rate is 0, Spark's default. A positive rate always allows at least one
/// record, so a tiny rate cannot stall the stream.
pub fn max_messages_per_partition(
    max_rate_per_partition: u64,
    batch_interval_ms: u64,
) -> Option<i64> {
    if max_rate_per_partition == 0 {
        return None;
    }
    let n = u128::from(max_rate_per_partition) * u128::from(batch_interval_ms) / 1000;
    Some(i64::try_from(n).unwrap_or(i64::MAX).max(1))
}

/// `DirectKafkaInputDStream.clamp` + `compute`: one range per partition from `from` (the next
/// offset to read) to `latest`, at most `cap` records long. A partition whose latest offset is
/// below where the stream stands (a leader that lost records) gets an empty range rather than a
/// negative one. Partitions in `latest` without a position start at their latest offset.
pub fn compute_offset_ranges(
    topic: &str,
    from: &BTreeMap<i32, i64>,
    latest: &BTreeMap<i32, i64>,
    cap: Option<i64>,
) -> Vec<OffsetRange> {
    latest
        .iter()
        .map(|(&p, &end)| {
            let start = from.get(&p).copied().unwrap_or(end);
            let mut until = end.max(start);
            if let Some(c) = cap {
                until = until.min(start.saturating_add(c));
            }
            OffsetRange {
                topic: topic.to_string(),
                partition: p,
                from_offset: start,
                until_offset: until,
            }
        })
        .collect()
}

/// Offsets of one topic's partitions grouped into contiguous ranges (`{p: {3,4,5,9}}` →
/// `[p,3,6]`, `[p,9,10]`): how the receiver-based stream's blocks describe what they hold.
pub fn runs(topic: &str, offsets: &BTreeMap<i32, BTreeSet<i64>>) -> Vec<OffsetRange> {
    let mut out = Vec::new();
    for (&p, set) in offsets {
        let mut it = set.iter().copied().peekable();
        while let Some(a) = it.next() {
            let mut b = a;
            while it.peek() == Some(&(b + 1)) {
                b += 1;
                it.next();
            }
            out.push(OffsetRange {
                topic: topic.to_string(),
                partition: p,
                from_offset: a,
                until_offset: b + 1,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_cap_is_rate_times_interval() {
        assert_eq!(max_messages_per_partition(0, 2000), None, "0 means no cap (Spark's default)");
        assert_eq!(max_messages_per_partition(100, 2000), Some(200));
        assert_eq!(max_messages_per_partition(10, 500), Some(5));
        assert_eq!(max_messages_per_partition(1, 200), Some(1), "at least one record per batch");
    }

    #[test]
    fn ranges_run_from_the_last_offset_to_the_latest_capped() {
        let from = BTreeMap::from([(0, 10), (1, 0), (2, 7)]);
        let latest = BTreeMap::from([(0, 500), (1, 3), (2, 7), (3, 9)]);
        let r = compute_offset_ranges("t", &from, &latest, Some(100));
        let got: Vec<(i32, i64, i64)> =
            r.iter().map(|x| (x.partition, x.from_offset, x.until_offset)).collect();
        assert_eq!(got, vec![(0, 10, 110), (1, 0, 3), (2, 7, 7), (3, 9, 9)]);
        assert_eq!(r.iter().map(OffsetRange::count).sum::<i64>(), 103);
        let uncapped = compute_offset_ranges("t", &from, &latest, None);
        assert_eq!(uncapped[0].until_offset, 500);
    }

    #[test]
    fn a_latest_offset_below_the_position_gives_an_empty_range() {
        let r = compute_offset_ranges(
            "t",
            &BTreeMap::from([(0, 50)]),
            &BTreeMap::from([(0, 40)]),
            None,
        );
        assert_eq!((r[0].from_offset, r[0].until_offset, r[0].count()), (50, 50, 0));
    }

    #[test]
    fn consecutive_batches_tile_the_log_without_gaps_or_overlaps() {
        // Batch after batch, each starting where the last ended, covers [0, latest) once.
        let mut from = BTreeMap::from([(0, 0i64), (1, 0)]);
        let mut covered: BTreeMap<i32, Vec<(i64, i64)>> = BTreeMap::new();
        for latest_step in [35i64, 80, 81, 200, 200] {
            let latest = BTreeMap::from([(0, latest_step), (1, latest_step / 2)]);
            for r in compute_offset_ranges("t", &from, &latest, Some(40)) {
                covered.entry(r.partition).or_default().push((r.from_offset, r.until_offset));
                from.insert(r.partition, r.until_offset);
            }
        }
        for (_, v) in covered {
            for w in v.windows(2) {
                assert_eq!(w[0].1, w[1].0, "no gap, no overlap");
            }
        }
    }

    #[test]
    fn runs_group_offsets_and_json_round_trips() {
        let offs = BTreeMap::from([(0, BTreeSet::from([3, 4, 5, 9])), (2, BTreeSet::from([1]))]);
        let r = runs("t", &offs);
        assert_eq!(
            r.iter().map(|x| (x.partition, x.from_offset, x.until_offset)).collect::<Vec<_>>(),
            vec![(0, 3, 6), (0, 9, 10), (2, 1, 2)]
        );
        assert_eq!(ranges_from_json(Some(&ranges_json(&r))), r);
        assert_eq!(r[0].to_string(), "t-0 [3, 6)");
    }
}
