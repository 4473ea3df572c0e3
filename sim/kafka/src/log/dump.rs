//! `kafka.tools.DumpLogSegments --files F [--print-data-log]`: 0.9's text for `.log` and
//! `.index` files.
//!
//! Per message 0.9 prints `offset: O position: P isvalid: B payloadsize: N magic: M
//! compresscodec: C crc: X`, then ` keysize: K` when the message has a key, then with
//! `--print-data-log` ` key: …` (when there is one) and ` payload: …` (when the value is not
//! null), decoded as UTF-8 (the default `StringDecoder`). Bytes after the last whole entry give
//! `Found N invalid bytes at the end of F`. Magic-1 messages, which 0.9 cannot read, additionally
//! show ` CreateTime: T` after the crc, the way later versions do.
use super::index::INDEX_ENTRY_SIZE;
use super::message::decode_message_set;
use std::fmt::Write;

fn base_name(file_name: &str) -> &str {
    file_name.rsplit('/').next().unwrap_or(file_name)
}

/// The base offset a segment file's name encodes (`00000000000000000042.log` → 42).
pub fn base_offset_of(file_name: &str) -> Option<i64> {
    base_name(file_name).split('.').next().and_then(|s| s.parse().ok())
}

/// DumpLogSegments' output for a `.log` file named `file_name` with content `bytes`.
pub fn dump_log_segment(file_name: &str, bytes: &[u8], print_data: bool) -> String {
    let mut out = format!("Dumping {file_name}\n");
    let stem = base_name(file_name).split('.').next().unwrap_or("");
    let Some(start) = base_offset_of(file_name) else {
        // What the JVM prints when the name does not start with a number.
        let _ = writeln!(out, "Exception in thread \"main\" java.lang.NumberFormatException: For input string: \"{stem}\"");
        return out;
    };
    let _ = writeln!(out, "Starting offset: {start}");
    let (msgs, valid_bytes) = decode_message_set(bytes);
    for m in &msgs {
        let _ = write!(
            out,
            "offset: {} position: {} isvalid: {} payloadsize: {} magic: {} compresscodec: {} crc: {}",
            m.record.offset,
            m.position,
            m.valid,
            m.payload_size,
            m.magic,
            m.compression_codec(),
            m.crc
        );
        if m.magic >= 1 {
            let _ = write!(out, " CreateTime: {}", m.record.timestamp.unwrap_or(-1));
        }
        if let Some(k) = &m.record.key {
            let _ = write!(out, " keysize: {}", k.len());
        }
        if print_data {
            if let Some(k) = &m.record.key {
                let _ = write!(out, " key: {}", String::from_utf8_lossy(k));
            }
            if let Some(v) = &m.record.value {
                let _ = write!(out, " payload: {}", String::from_utf8_lossy(v));
            }
        }
        out.push('\n');
    }
    let trailing = bytes.len() - valid_bytes;
    if trailing > 0 {
        let _ =
            writeln!(out, "Found {trailing} invalid bytes at the end of {}", base_name(file_name));
    }
    out
}

/// DumpLogSegments' output for a `.index` file: `offset: <absolute> position: <pos>` per entry.
/// As in 0.9, a zero relative offset after the first entry ends the listing (the zero-filled
/// tail of a preallocated index); a partial trailing entry is ignored.
pub fn dump_index(file_name: &str, bytes: &[u8], base_offset: i64) -> String {
    let mut out = format!("Dumping {file_name}\n");
    for (i, e) in bytes.chunks_exact(INDEX_ENTRY_SIZE).enumerate() {
        let rel = u32::from_be_bytes([e[0], e[1], e[2], e[3]]);
        let pos = u32::from_be_bytes([e[4], e[5], e[6], e[7]]);
        if rel == 0 && i > 0 {
            break;
        }
        let _ = writeln!(out, "offset: {} position: {pos}", base_offset + i64::from(rel));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::message::{encode_message_set, Record};
    use super::*;

    #[test]
    fn dump_log_lines_match_0_9() {
        let recs = [
            Record::value("hello"),
            Record { offset: 1, ..Record::keyed("user1", "world") },
            Record { offset: 2, ..Record::default() },
        ];
        let mut bytes = encode_message_set(&recs, 0);
        bytes.extend_from_slice(&[0, 0, 0]); // torn tail
        let f = "/tmp/kafka-logs/HelloKafka-0/00000000000000000000.log";
        let plain = dump_log_segment(f, &bytes, false);
        let crc = |i: usize| {
            let (m, _) = decode_message_set(&bytes);
            m[i].crc
        };
        let expected = format!(
            "Dumping {f}\n\
             Starting offset: 0\n\
             offset: 0 position: 0 isvalid: true payloadsize: 5 magic: 0 compresscodec: NoCompressionCodec crc: 2275900082\n\
             offset: 1 position: 31 isvalid: true payloadsize: 5 magic: 0 compresscodec: NoCompressionCodec crc: {} keysize: 5\n\
             offset: 2 position: 67 isvalid: true payloadsize: -1 magic: 0 compresscodec: NoCompressionCodec crc: {}\n\
             Found 3 invalid bytes at the end of 00000000000000000000.log\n",
            crc(1),
            crc(2)
        );
        assert_eq!(plain, expected);
        let data = dump_log_segment(f, &bytes, true);
        let lines: Vec<&str> = data.lines().collect();
        assert!(lines[2].ends_with("crc: 2275900082 payload: hello"), "{}", lines[2]);
        assert!(lines[3].ends_with(" keysize: 5 key: user1 payload: world"), "{}", lines[3]);
        assert!(
            lines[4].ends_with(&format!("crc: {}", crc(2))),
            "null payload prints nothing: {}",
            lines[4]
        );
    }

    #[test]
    fn dump_shows_a_corrupt_message_as_invalid() {
        let mut bytes = encode_message_set(&[Record::value("hello")], 0);
        bytes[30] = b'O';
        let out = dump_log_segment("00000000000000000000.log", &bytes, true);
        assert!(out.contains("offset: 0 position: 0 isvalid: false payloadsize: 5"), "{out}");
        assert!(out.contains("payload: hellO"));
        assert!(dump_log_segment("x.log", &bytes, false)
            .contains("NumberFormatException: For input string: \"x\""));
    }

    #[test]
    fn dump_index_lines() {
        let bytes = [
            0, 0, 0, 9, 0, 0, 0x10, 0x2c, 0, 0, 0, 18, 0, 0, 0x20, 0x58, 0, 0, 0, 0, 0, 0, 0, 0, 1,
        ];
        let out = dump_index("/d/00000000000000000100.index", &bytes, 100);
        assert_eq!(
            out,
            "Dumping /d/00000000000000000100.index\noffset: 109 position: 4140\noffset: 118 position: 8280\n"
        );
        assert_eq!(base_offset_of("/d/00000000000000000100.index"), Some(100));
    }
}
