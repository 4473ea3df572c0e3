//! `FileBasedWriteAheadLog`: records appended to a file on the driver host's virtual disk and
//! fsynced before the write returns, so a record survives a driver crash (and a power loss) once
//! `write` has returned. Spark uses two: the receivers' data (`receivedData/<stream>/log-*`,
//! with `spark.streaming.receiver.writeAheadLog.enable`) and the `ReceivedBlockTracker`'s
//! metadata (`receivedBlockMetadata/log-*`: block additions, batch allocations).
//!
//! A record is one line, `<crc32 in hex> <json>`: reading stops at the first line whose checksum
//! does not match, the torn tail a power loss can leave (the disk model keeps only fsynced bytes).
//! Each driver incarnation writes its own segment (`log-<virtual ms>`), read back in name order.

use serde_json::Value;
use sim_core::hw::HostDisk;

/// A write-ahead log in directory `dir` of a host's disk.
pub struct WriteAheadLog {
    disk: HostDisk,
    dir: String,
    segment: String,
}

/// Encodes one record line.
pub fn encode_record(v: &Value) -> Vec<u8> {
    let body = v.to_string();
    format!("{:08x} {body}\n", crc32fast::hash(body.as_bytes())).into_bytes()
}

/// Decodes record lines up to the first torn or corrupt one.
pub fn decode_records(bytes: &[u8]) -> Vec<Value> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    for line in text.split_inclusive('\n') {
        let Some(line) = line.strip_suffix('\n') else { break };
        let Some((crc, body)) = line.split_once(' ') else { break };
        if u32::from_str_radix(crc, 16).ok() != Some(crc32fast::hash(body.as_bytes())) {
            break;
        }
        match serde_json::from_str(body) {
            Ok(v) => out.push(v),
            Err(_) => break,
        }
    }
    out
}

impl WriteAheadLog {
    /// A log in `dir`; this incarnation appends to `log-<now_ms>` (zero-padded so names sort).
    pub fn open(disk: HostDisk, dir: &str, now_ms: u64) -> Self {
        WriteAheadLog { disk, segment: format!("{dir}/log-{now_ms:012}"), dir: dir.to_string() }
    }

    /// Appends a record and fsyncs it: durable when this returns.
    pub async fn write(&self, v: &Value) -> Result<(), sim_core::hw::DiskError> {
        self.disk.append(&self.segment, &encode_record(v)).await?;
        self.disk.fsync(&self.segment).await
    }

    /// Every record of every segment, oldest first (`readAll`).
    pub async fn read_all(&self) -> Vec<Value> {
        let mut out = Vec::new();
        for f in self.disk.list(&self.dir) {
            if let Ok(bytes) = self.disk.read_all(&f).await {
                out.extend(decode_records(&bytes));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_or_corrupt_tail_ends_the_log() {
        let mut bytes = encode_record(&serde_json::json!({"a": 1}));
        bytes.extend(encode_record(&serde_json::json!({"b": 2})));
        assert_eq!(decode_records(&bytes).len(), 2);
        let torn = &bytes[..bytes.len() - 3];
        assert_eq!(decode_records(torn).len(), 1, "a line without its newline is torn");
        let mut bad = bytes.clone();
        let n = bad.len();
        bad[n - 3] = b'9';
        assert_eq!(decode_records(&bad).len(), 1, "a checksum mismatch ends the log");
    }
}
