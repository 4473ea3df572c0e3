//! Kafka's on-disk and on-the-wire message format (`Message`, `ByteBufferMessageSet`).
//!
//! A message set is a plain concatenation of entries, each `offset: i64`, `message_size: i32`,
//! then the message: `crc: u32`, `magic: i8`, `attributes: i8`, `[timestamp: i64]` (magic 1
//! only), `key_length: i32` + key, `value_length: i32` + value, all big-endian, with −1 for a null
//! key or value. The CRC32 (IEEE) covers everything after the crc field. Magic 0 is Kafka 0.9's
//! format; magic 1 (0.10+) adds the timestamp. Only uncompressed messages (attributes 0) are
//! written here; the compression bits are decoded for display.

/// Bytes of an entry's header in a message set: offset (8) + message size (4).
pub const LOG_OVERHEAD: usize = 12;
/// Fixed part of a magic-0 message: crc 4, magic 1, attributes 1, key length 4, value length 4.
pub const MESSAGE_OVERHEAD_V0: usize = 14;
/// Fixed part of a magic-1 message: the v0 fields plus an 8-byte timestamp.
pub const MESSAGE_OVERHEAD_V1: usize = 22;
/// Magic 1's "no timestamp" value (Kafka's `Message.NoTimestamp`).
pub const NO_TIMESTAMP: i64 = -1;

/// Fixed message overhead for `magic` (unknown magics are treated as v1, the larger).
pub fn message_overhead(magic: u8) -> usize {
    if magic == 0 {
        MESSAGE_OVERHEAD_V0
    } else {
        MESSAGE_OVERHEAD_V1
    }
}

/// One message with its offset: what a producer sends and a consumer receives.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    /// Offset in the partition (assigned by the leader on append).
    pub offset: i64,
    /// Create time in ms; only magic 1 stores it.
    pub timestamp: Option<i64>,
    /// Key, `None` for a null key (the partitioner then picks the partition).
    pub key: Option<Vec<u8>>,
    /// Value (payload), `None` for null (a tombstone in compacted topics).
    pub value: Option<Vec<u8>>,
}

impl Record {
    /// A record with a value and no key (offset 0 until assigned).
    pub fn value(v: impl Into<Vec<u8>>) -> Record {
        Record { value: Some(v.into()), ..Record::default() }
    }

    /// A record with a key and a value (offset 0 until assigned).
    pub fn keyed(k: impl Into<Vec<u8>>, v: impl Into<Vec<u8>>) -> Record {
        Record { key: Some(k.into()), value: Some(v.into()), ..Record::default() }
    }

    /// Size of the message alone (what `message_size` holds).
    pub fn message_size(&self, magic: u8) -> usize {
        message_overhead(magic)
            + self.key.as_ref().map_or(0, Vec::len)
            + self.value.as_ref().map_or(0, Vec::len)
    }

    /// Size of the whole entry in a log or message set: 12 + message size.
    pub fn size_in_log(&self, magic: u8) -> usize {
        LOG_OVERHEAD + self.message_size(magic)
    }

    /// Append this record's entry to `out`, encoded with `magic` (0, or 1 with a timestamp).
    pub fn encode_into(&self, magic: u8, out: &mut Vec<u8>) {
        // Lengths beyond i32 cannot be represented; Kafka's limits (message.max.bytes) are far lower.
        let size = i32::try_from(self.message_size(magic)).unwrap_or(i32::MAX);
        out.extend_from_slice(&self.offset.to_be_bytes());
        out.extend_from_slice(&size.to_be_bytes());
        let crc_at = out.len();
        out.extend_from_slice(&[0; 4]);
        let body_at = out.len();
        out.push(magic);
        out.push(0); // attributes: no compression, CreateTime
        if magic != 0 {
            out.extend_from_slice(&self.timestamp.unwrap_or(NO_TIMESTAMP).to_be_bytes());
        }
        for field in [&self.key, &self.value] {
            match field {
                Some(b) => {
                    out.extend_from_slice(
                        &i32::try_from(b.len()).unwrap_or(i32::MAX).to_be_bytes(),
                    );
                    out.extend_from_slice(b);
                }
                None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        let crc = crc32(&out[body_at..]);
        out[crc_at..body_at].copy_from_slice(&crc.to_be_bytes());
    }
}

/// Encode records (offsets already set) as a message set, Kafka's `ByteBufferMessageSet`.
pub fn encode_message_set(records: &[Record], magic: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(records.iter().map(|r| r.size_in_log(magic)).sum());
    for r in records {
        r.encode_into(magic, &mut out);
    }
    out
}

/// One entry decoded from a message set (Kafka's `MessageAndOffset` plus where it was).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedMessage {
    /// The record.
    pub record: Record,
    /// Byte position of the entry (its offset field) in the decoded buffer.
    pub position: usize,
    /// The stored CRC.
    pub crc: u32,
    /// Whether the stored CRC matches the content (`Message.isValid`).
    pub valid: bool,
    /// Magic byte.
    pub magic: u8,
    /// Attributes byte (low 3 bits: compression codec).
    pub attributes: u8,
    /// `key_length` as stored (−1 for null).
    pub key_size: i32,
    /// `value_length` as stored (−1 for null): DumpLogSegments' `payloadsize`.
    pub payload_size: i32,
}

impl DecodedMessage {
    /// Size of the whole entry: 12 + message size.
    pub fn entry_size(&self) -> usize {
        self.record.size_in_log(self.magic)
    }

    /// The compression codec's name as Kafka prints it.
    pub fn compression_codec(&self) -> &'static str {
        match self.attributes & 0x07 {
            0 => "NoCompressionCodec",
            1 => "GZIPCompressionCodec",
            2 => "SnappyCompressionCodec",
            3 => "LZ4CompressionCodec",
            _ => "UnknownCompressionCodec",
        }
    }
}

/// CRC32 (IEEE), Kafka's `Utils.crc32`, as `crc32fast::hash` computes it. `Hasher::new` probes
/// the CPU's features on every call, a quarter of the cost for a 100-byte message: the probed
/// hasher is made once per process and copied.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    static PROBED: std::sync::OnceLock<crc32fast::Hasher> = std::sync::OnceLock::new();
    let mut h = PROBED.get_or_init(crc32fast::Hasher::new).clone();
    h.update(bytes);
    h.finalize()
}

fn be_i32(b: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_be_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

fn be_i64(b: &[u8], at: usize) -> Option<i64> {
    Some(i64::from_be_bytes(b.get(at..at.checked_add(8)?)?.try_into().ok()?))
}

/// Read an entry's header at `at`: (offset, message size). `None` if fewer than 12 bytes remain.
pub fn entry_header(bytes: &[u8], at: usize) -> Option<(i64, i32)> {
    Some((be_i64(bytes, at)?, be_i32(bytes, at.checked_add(8)?)?))
}

/// One entry of a message set, borrowed from it: what [`decode_message_set`] decodes, without
/// copying the key and value (for callers that look at messages and store the set as it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageView<'a> {
    /// Offset field.
    pub offset: i64,
    /// Byte position of the entry (its offset field) in the decoded buffer.
    pub position: usize,
    /// The stored CRC.
    pub crc: u32,
    /// Whether the stored CRC matches the content (`Message.isValid`).
    pub valid: bool,
    /// Magic byte.
    pub magic: u8,
    /// Attributes byte.
    pub attributes: u8,
    /// Magic 1's timestamp (`None` for magic 0 and for `NO_TIMESTAMP`).
    pub timestamp: Option<i64>,
    /// `key_length` as stored (−1 for null).
    pub key_size: i32,
    /// `value_length` as stored (−1 for null).
    pub payload_size: i32,
    /// Key, `None` for null.
    pub key: Option<&'a [u8]>,
    /// Value, `None` for null.
    pub value: Option<&'a [u8]>,
}

impl MessageView<'_> {
    /// Size of the whole entry: 12 + message size.
    pub fn entry_size(&self) -> usize {
        self.size_in_log(self.magic)
    }

    /// Size of the entry its record encodes to with `magic` ([`Record::size_in_log`]).
    pub fn size_in_log(&self, magic: u8) -> usize {
        LOG_OVERHEAD
            + message_overhead(magic)
            + self.key.map_or(0, <[u8]>::len)
            + self.value.map_or(0, <[u8]>::len)
    }

    /// The record, with its own copies of the key and value.
    pub fn to_record(&self) -> Record {
        Record {
            offset: self.offset,
            timestamp: self.timestamp,
            key: self.key.map(<[u8]>::to_vec),
            value: self.value.map(<[u8]>::to_vec),
        }
    }

    /// Whether [`Record::encode_into`] of this message's record with `magic` writes exactly the
    /// stored entry again (its offset field aside): same magic, valid CRC, no attributes, and
    /// lengths that are −1 or more. Such an entry can be stored as it came, with only its
    /// offset rewritten, as the broker does (`validateMessagesAndAssignOffsets`).
    pub fn encodes_as_stored(&self, magic: u8) -> bool {
        self.magic == magic
            && self.valid
            && self.attributes == 0
            && self.key_size >= -1
            && self.payload_size >= -1
    }
}

impl From<MessageView<'_>> for DecodedMessage {
    fn from(v: MessageView<'_>) -> Self {
        DecodedMessage {
            record: v.to_record(),
            position: v.position,
            crc: v.crc,
            valid: v.valid,
            magic: v.magic,
            attributes: v.attributes,
            key_size: v.key_size,
            payload_size: v.payload_size,
        }
    }
}

/// Look at one whole message (`msg` is exactly `message_size` bytes). `None` if malformed:
/// unknown magic or lengths that do not add up to the message size.
fn view_message(offset: i64, position: usize, msg: &[u8]) -> Option<MessageView<'_>> {
    let crc = u32::from_be_bytes(msg.get(0..4)?.try_into().ok()?);
    let magic = *msg.get(4)?;
    let attributes = *msg.get(5)?;
    let (timestamp, mut at) = match magic {
        0 => (None, 6),
        1 => (Some(be_i64(msg, 6)?).filter(|&t| t != NO_TIMESTAMP), 14),
        _ => return None,
    };
    let field = |at: &mut usize| -> Option<(i32, Option<&[u8]>)> {
        let len = be_i32(msg, *at)?;
        *at += 4;
        if len < 0 {
            return Some((len, None));
        }
        let end = at.checked_add(len as usize)?;
        let b = msg.get(*at..end)?;
        *at = end;
        Some((len, Some(b)))
    };
    let (key_size, key) = field(&mut at)?;
    let (payload_size, value) = field(&mut at)?;
    if at != msg.len() {
        return None;
    }
    let valid = crc32(&msg[4..]) == crc;
    Some(MessageView {
        offset,
        position,
        crc,
        valid,
        magic,
        attributes,
        timestamp,
        key_size,
        payload_size,
        key,
        value,
    })
}

/// Decode a message set. Returns every structurally whole entry (CRC-invalid ones included,
/// flagged `valid: false`) and the number of bytes they span.
///
/// Decoding stops cleanly, as Kafka's iterator does, at the first entry that is torn (fewer bytes
/// left than its size says) or malformed (size below the minimum header, unknown magic,
/// inconsistent lengths): the bytes from there on are what a power loss or garbage left behind.
pub fn decode_message_set(bytes: &[u8]) -> (Vec<DecodedMessage>, usize) {
    let (views, end) = view_message_set(bytes);
    (views.into_iter().map(DecodedMessage::from).collect(), end)
}

/// [`decode_message_set`] as borrowed views: the same entries, keys and values left in `bytes`.
pub fn view_message_set(bytes: &[u8]) -> (Vec<MessageView<'_>>, usize) {
    let mut out = Vec::with_capacity(count_entries(bytes));
    let mut pos = 0usize;
    while let Some((offset, size)) = entry_header(bytes, pos) {
        if size < MESSAGE_OVERHEAD_V0 as i32 {
            break;
        }
        let start = pos + LOG_OVERHEAD;
        let Some(msg) = start.checked_add(size as usize).and_then(|end| bytes.get(start..end))
        else {
            break;
        };
        let Some(m) = view_message(offset, pos, msg) else {
            break;
        };
        out.push(m);
        pos = start + size as usize;
    }
    (out, pos)
}

/// How many entries the headers of `bytes` chain through (an upper bound of what decoding finds:
/// it also checks inside each message), to size the decoded list at once.
fn count_entries(bytes: &[u8]) -> usize {
    let (mut n, mut pos) = (0, 0usize);
    while let Some((_, size)) = entry_header(bytes, pos) {
        let Some(end) = usize::try_from(size)
            .ok()
            .filter(|&s| s >= MESSAGE_OVERHEAD_V0)
            .and_then(|s| (pos + LOG_OVERHEAD).checked_add(s))
        else {
            break;
        };
        if end > bytes.len() {
            break;
        }
        n += 1;
        pos = end;
    }
    n
}

/// Whether `msg` (exactly one entry's `message_size` bytes) is a structurally whole message:
/// the same test [`decode_message`] makes, without copying the key and value or checking the CRC.
fn message_is_whole(msg: &[u8]) -> bool {
    let at = match msg.get(4) {
        Some(0) => 6,
        Some(1) if msg.len() >= 14 => 14,
        _ => return false,
    };
    if msg.len() < 6 {
        return false;
    }
    let field = |at: usize| -> Option<usize> {
        let len = be_i32(msg, at)?;
        let at = at + 4;
        if len < 0 {
            return Some(at);
        }
        let end = at.checked_add(len as usize)?;
        (end <= msg.len()).then_some(end)
    };
    field(at).and_then(field) == Some(msg.len())
}

/// The whole entries at the front of a message set, as (offset, position, entry size): the
/// entries [`decode_message_set`] would return, found without copying or checking CRCs.
fn whole_entries(bytes: &[u8]) -> impl Iterator<Item = (i64, usize, usize)> + '_ {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let (offset, size) = entry_header(bytes, pos)?;
        if size < MESSAGE_OVERHEAD_V0 as i32 {
            return None;
        }
        let start = pos + LOG_OVERHEAD;
        let msg = start.checked_add(size as usize).and_then(|end| bytes.get(start..end))?;
        if !message_is_whole(msg) {
            return None;
        }
        let at = pos;
        pos = start + size as usize;
        Some((offset, at, LOG_OVERHEAD + size as usize))
    })
}

/// The entries [`decode_message_set`] would return, as (offset, position, entry size) only: for
/// callers that delimit a slice of a log (a fetch) without looking inside the messages.
pub fn scan_message_set(bytes: &[u8]) -> Vec<(i64, usize, usize)> {
    whole_entries(bytes).collect()
}

/// The CRC field of each whole entry of `bytes`, as stored (not checked). `expected`: how many
/// entries the caller knows there are (room is made for them at once).
pub fn stored_crcs(bytes: &[u8], expected: usize) -> Vec<u32> {
    let mut crcs = Vec::with_capacity(expected);
    crcs.extend(
        whole_entries(bytes)
            .filter_map(|(_, pos, _)| be_i32(bytes, pos + LOG_OVERHEAD).map(|c| c as u32)),
    );
    crcs
}

/// What [`scan_message_set`] finds, without listing it: the number of whole entries, and the end
/// of the last of them whose offset is below `max_offset` (0 if none is). A fetch's slice.
pub fn delimit_message_set(bytes: &[u8], max_offset: Option<i64>) -> (usize, usize) {
    whole_entries(bytes).fold((0, 0), |(count, end), (offset, pos, len)| {
        (count + 1, if max_offset.is_none_or(|m| offset < m) { pos + len } else { end })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The header scan delimits exactly what the full decoder decodes, on any bytes.
        #[test]
        fn scan_agrees_with_decode(records in proptest::collection::vec((proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)), proptest::collection::vec(any::<u8>(), 0..40)), 0..8),
                                   cut in 0usize..400, flip in proptest::option::of((0usize..400, any::<u8>()))) {
            let rs: Vec<Record> = records.into_iter().enumerate().map(|(i, (k, v))| Record { offset: i as i64, timestamp: None, key: k, value: Some(v) }).collect();
            let mut bytes = encode_message_set(&rs, 0);
            if let Some((at, b)) = flip {
                if at < bytes.len() { bytes[at] = b; }
            }
            bytes.truncate(cut.min(bytes.len()));
            let decoded: Vec<(i64, usize, usize)> = decode_message_set(&bytes).0.iter().map(|d| (d.record.offset, d.position, d.entry_size())).collect();
            prop_assert_eq!(scan_message_set(&bytes), decoded);
        }

        /// The delimiting agrees with filtering the scan, for any bound.
        #[test]
        fn delimit_agrees_with_scan(records in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..8),
                                    cut in 0usize..400, max in proptest::option::of(-1i64..10)) {
            let rs: Vec<Record> = records.into_iter().enumerate().map(|(i, v)| Record { offset: i as i64, ..Record::value(v) }).collect();
            let mut bytes = encode_message_set(&rs, 0);
            bytes.truncate(cut.min(bytes.len()));
            let scanned = scan_message_set(&bytes);
            let end = scanned.iter().rfind(|e| max.is_none_or(|m| e.0 < m)).map_or(0, |e| e.1 + e.2);
            prop_assert_eq!(delimit_message_set(&bytes, max), (scanned.len(), end));
        }
    }

    #[test]
    fn hello_encodes_to_the_bytes_kafka_writes() {
        let r = Record { offset: 0, ..Record::value("hello") };
        assert_eq!(r.message_size(0), 19);
        assert_eq!(r.size_in_log(0), 31);
        let bytes = encode_message_set(std::slice::from_ref(&r), 0);
        let body = [&[0u8, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 5][..], b"hello"].concat();
        // CRC32 (IEEE) of magic..value, computed independently (Python's zlib.crc32).
        assert_eq!(crc32fast::hash(&body), 2_275_900_082);
        let mut expected = vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 19];
        expected.extend_from_slice(&2_275_900_082u32.to_be_bytes());
        expected.extend_from_slice(&body);
        assert_eq!(bytes, expected);
        assert_eq!(bytes.len(), 31);
    }

    #[test]
    fn v1_has_a_timestamp_and_22_bytes_of_overhead() {
        let r = Record {
            offset: 7,
            timestamp: Some(1_456_000_000_000),
            key: Some(b"k".to_vec()),
            value: None,
        };
        assert_eq!(r.message_size(1), 22 + 1);
        let bytes = encode_message_set(std::slice::from_ref(&r), 1);
        assert_eq!(bytes.len(), r.size_in_log(1));
        assert_eq!(bytes[16], 1, "magic");
        assert_eq!(&bytes[18..26], &1_456_000_000_000i64.to_be_bytes());
        let (msgs, n) = decode_message_set(&bytes);
        assert_eq!(n, bytes.len());
        assert_eq!(msgs[0].record, r);
        assert_eq!((msgs[0].key_size, msgs[0].payload_size), (1, -1));
    }

    #[test]
    fn round_trip_and_torn_tail() {
        let recs: Vec<Record> = (0..5)
            .map(|i| Record {
                offset: 10 + i,
                ..Record::keyed(format!("k{i}"), vec![i as u8; i as usize * 3])
            })
            .collect();
        let bytes = encode_message_set(&recs, 0);
        let (msgs, n) = decode_message_set(&bytes);
        assert_eq!(n, bytes.len());
        assert_eq!(msgs.iter().map(|m| m.record.clone()).collect::<Vec<_>>(), recs);
        assert!(msgs.iter().all(|m| m.valid));
        assert_eq!(msgs[1].position, recs[0].size_in_log(0));
        // Cut inside the last entry: the first four decode, the torn one is left out.
        let cut = bytes.len() - 3;
        let (msgs, n) = decode_message_set(&bytes[..cut]);
        assert_eq!(msgs.len(), 4);
        assert_eq!(n, bytes.len() - recs[4].size_in_log(0));
    }

    #[test]
    fn a_corrupted_byte_fails_the_crc() {
        let bytes = encode_message_set(
            &[Record::value("hello"), Record { offset: 1, ..Record::value("world") }],
            0,
        );
        let mut bad = bytes.clone();
        bad[31 + 27] ^= 0x20; // the "o" of "world"
        let (msgs, n) = decode_message_set(&bad);
        assert_eq!(n, bad.len(), "structure intact");
        assert!(msgs[0].valid);
        assert!(!msgs[1].valid);
        assert_eq!(msgs[1].record.value.as_deref(), Some(&b"wOrld"[..]));
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let (msgs, n) = decode_message_set(&bytes);
            prop_assert!(n <= bytes.len());
            prop_assert!(msgs.iter().all(|m| m.position < n));
        }

        #[test]
        fn decode_after_a_valid_prefix_never_panics(
            vals in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..6),
            tail in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let recs: Vec<Record> =
                vals.into_iter().enumerate().map(|(i, v)| Record { offset: i as i64, ..Record::value(v) }).collect();
            let mut bytes = encode_message_set(&recs, 0);
            let good = bytes.len();
            bytes.extend_from_slice(&tail);
            let (msgs, n) = decode_message_set(&bytes);
            prop_assert!(n >= good);
            prop_assert!(msgs.len() >= recs.len());
            prop_assert_eq!(&msgs[..recs.len()].iter().map(|m| m.record.clone()).collect::<Vec<_>>(), &recs);
        }
    }
}
