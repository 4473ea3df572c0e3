//! `LeaderEpochFileCache` (KIP-101, Kafka 0.11+): for each leader epoch a replica has seen, the
//! first offset written in it, kept in the partition directory's `leader-epoch-checkpoint`.
//!
//! With it a follower whose leader changed no longer truncates blindly to its high watermark
//! (0.9's rule, which can throw away records the new leader has, or keep records it lacks): it
//! asks the leader where its own latest epoch ends (`OffsetsForLeaderEpoch`) and truncates there.
//! The lab switches between the two with the lab-only broker key `lab.replica.truncation`.
//!
//! Deviation: 0.11 stores the epoch in every record batch (message format v2); the lab keeps the
//! 0.9 format on disk, so a follower files what it fetches under the epoch of the leader it
//! fetched it from. Both sides of an `OffsetsForLeaderEpoch` question use that same rule, so the
//! answer still marks where the two logs may part.

use sim_core::hw::{DiskError, HostDisk};

/// File name inside the partition directory.
pub const CHECKPOINT_FILE: &str = "leader-epoch-checkpoint";

/// `UNDEFINED_EPOCH_OFFSET`: the leader knows nothing of the epoch asked about.
pub const UNDEFINED_EPOCH_OFFSET: i64 = -1;

/// (epoch, start offset) entries, epochs and offsets increasing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaderEpochCache {
    entries: Vec<(i32, i64)>,
}

impl LeaderEpochCache {
    /// Parses the checkpoint format: version line `0`, a count, then `epoch offset` lines.
    /// Anything unreadable gives an empty cache (Kafka would fail the log load; the lab's disk
    /// only tears files on power loss, and the file is replaced atomically).
    pub fn parse(text: &str) -> Self {
        let mut lines = text.lines();
        if lines.next() != Some("0") {
            return Self::default();
        }
        let Some(n) = lines.next().and_then(|l| l.trim().parse::<usize>().ok()) else {
            return Self::default();
        };
        let entries: Vec<(i32, i64)> = lines
            .take(n)
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                Some((f.next()?.parse().ok()?, f.next()?.parse().ok()?))
            })
            .collect();
        if entries.len() != n {
            return Self::default();
        }
        LeaderEpochCache { entries }
    }

    /// The checkpoint file's text.
    pub fn render(&self) -> String {
        let mut s = format!("0\n{}\n", self.entries.len());
        for (e, o) in &self.entries {
            s.push_str(&format!("{e} {o}\n"));
        }
        s
    }

    /// Entries, oldest first.
    pub fn entries(&self) -> &[(i32, i64)] {
        &self.entries
    }

    /// The latest epoch, if any.
    pub fn latest_epoch(&self) -> Option<i32> {
        self.entries.last().map(|e| e.0)
    }

    /// `assign`: records that `epoch` starts at `start_offset`; an epoch not newer than the
    /// latest is ignored. Returns whether the cache changed.
    pub fn assign(&mut self, epoch: i32, start_offset: i64) -> bool {
        if self.latest_epoch().is_some_and(|l| epoch <= l) {
            return false;
        }
        self.entries.push((epoch, start_offset));
        true
    }

    /// `endOffsetFor` (0.11): where `epoch` ends — `log_end` if it is the latest epoch, else the
    /// start of the first later epoch; [`UNDEFINED_EPOCH_OFFSET`] for an epoch older than any
    /// known or newer than the latest.
    pub fn end_offset_for(&self, epoch: i32, log_end: i64) -> i64 {
        if self.latest_epoch() == Some(epoch) {
            return log_end;
        }
        match self.entries.iter().position(|(e, _)| *e > epoch) {
            None | Some(0) => UNDEFINED_EPOCH_OFFSET,
            Some(i) => self.entries[i].1,
        }
    }

    /// `truncateFromEnd`: forget epochs that start at or after `end` (the log was cut there).
    pub fn truncate_from_end(&mut self, end: i64) -> bool {
        let before = self.entries.len();
        self.entries.retain(|(_, o)| *o < end);
        self.entries.len() != before
    }

    /// `truncateFromStart` with an empty log starting over at `start`.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Loads `dir/leader-epoch-checkpoint` (empty if absent).
    pub fn load(disk: &HostDisk, dir: &str) -> Self {
        disk.peek(&format!("{dir}/{CHECKPOINT_FILE}"))
            .map(|b| Self::parse(&String::from_utf8_lossy(&b)))
            .unwrap_or_default()
    }

    /// Writes the checkpoint durably: temp file, fsync, rename (`CheckpointFile.write`).
    pub async fn save(&self, disk: &HostDisk, dir: &str) -> Result<(), DiskError> {
        let path = format!("{dir}/{CHECKPOINT_FILE}");
        let tmp = format!("{path}.tmp");
        disk.write_all(&tmp, self.render().as_bytes()).await?;
        disk.fsync(&tmp).await?;
        disk.rename(&tmp, &path).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(e: &[(i32, i64)]) -> LeaderEpochCache {
        LeaderEpochCache { entries: e.to_vec() }
    }

    #[test]
    fn end_offset_is_the_start_of_the_next_epoch_or_the_log_end() {
        let c = cache(&[(0, 0), (2, 120), (5, 300)]);
        assert_eq!(c.end_offset_for(0, 400), 120);
        assert_eq!(
            c.end_offset_for(1, 400),
            120,
            "an unknown epoch between two ends where the next begins"
        );
        assert_eq!(c.end_offset_for(2, 400), 300);
        assert_eq!(c.end_offset_for(5, 400), 400);
        assert_eq!(c.end_offset_for(7, 400), UNDEFINED_EPOCH_OFFSET, "newer than the leader knows");
        assert_eq!(cache(&[(3, 10)]).end_offset_for(1, 50), UNDEFINED_EPOCH_OFFSET);
        assert_eq!(cache(&[]).end_offset_for(0, 50), UNDEFINED_EPOCH_OFFSET);
    }

    #[test]
    fn assign_keeps_epochs_increasing_and_truncation_forgets_the_tail() {
        let mut c = LeaderEpochCache::default();
        assert!(c.assign(0, 0));
        assert!(!c.assign(0, 7), "the same epoch keeps its first offset");
        assert!(c.assign(3, 50));
        assert!(!c.assign(2, 60), "an older epoch is ignored");
        assert!(c.truncate_from_end(50));
        assert_eq!(c.entries(), &[(0, 0)]);
        assert_eq!(c.latest_epoch(), Some(0));
    }

    #[test]
    fn the_checkpoint_round_trips_and_bad_text_reads_as_empty() {
        let c = cache(&[(0, 0), (4, 99)]);
        assert_eq!(c.render(), "0\n2\n0 0\n4 99\n");
        assert_eq!(LeaderEpochCache::parse(&c.render()), c);
        for bad in ["", "1\n0\n", "0\nx\n", "0\n2\n0 0\n", "0\n1\n0\n"] {
            assert_eq!(LeaderEpochCache::parse(bad), LeaderEpochCache::default(), "{bad:?}");
        }
    }
}
