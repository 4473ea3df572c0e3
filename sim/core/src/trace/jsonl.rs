//! The trace's JSONL line writer: the exact bytes `serde_json::to_writer(&event)` gives, written
//! straight from an event's parts.
//!
//! A long run writes millions of lines (the streamed hash reads every byte), so this skips
//! building an [`Event`](super::Event) and serde's generic machinery, and copies a string whole
//! when it has nothing to escape (the usual case) instead of scanning it byte by byte through a
//! table. Anything unusual — a string that needs escaping, a float — goes to serde_json itself,
//! so the bytes stay serde_json's. The tests compare the two on random events.

use super::{FieldData, RecordTexts};
use serde_json::Value;

/// Appends a kept [`Event`](super::Event) as one line (its map is already in order).
pub(super) fn write_kept_event(out: &mut Vec<u8>, e: &super::Event) {
    write_event(
        out,
        e.t_us,
        &e.host,
        &e.proc,
        &e.kind,
        e.id,
        e.cause,
        e.fields.iter().map(|(k, v)| (k.as_str(), v)),
    );
}

/// Appends one event as a JSON object and a newline: the fixed fields in `Event`'s order, `cause`
/// only if set, then `fields` as given — what `#[serde(flatten)]` writes when they come in the
/// map's order (sorted, each name once: a map's iterator or [`Fields::sorted`](super::Fields::sorted)).
#[allow(clippy::too_many_arguments)]
pub(super) fn write_event<'a>(
    out: &mut Vec<u8>,
    t_us: u64,
    host: &str,
    proc: &str,
    kind: &str,
    id: u64,
    cause: Option<u64>,
    fields: impl IntoIterator<Item = (&'a str, impl JsonField)>,
) {
    out.extend_from_slice(b"{\"t_us\":");
    write_u64(out, t_us);
    out.extend_from_slice(b",\"host\":");
    write_str(out, host);
    out.extend_from_slice(b",\"proc\":");
    write_str(out, proc);
    out.extend_from_slice(b",\"kind\":");
    write_str(out, kind);
    out.extend_from_slice(b",\"id\":");
    write_u64(out, id);
    if let Some(c) = cause {
        out.extend_from_slice(b",\"cause\":");
        write_u64(out, c);
    }
    for (k, v) in fields {
        out.push(b',');
        write_str(out, k);
        out.push(b':');
        v.write_json(out);
    }
    out.extend_from_slice(b"}\n");
}

/// A field value [`write_event`] writes: a kept map's `&Value` or a [`Fields`](super::Fields)
/// pair's `&FieldData`.
pub(super) trait JsonField {
    fn write_json(self, out: &mut Vec<u8>);
}

impl JsonField for &Value {
    fn write_json(self, out: &mut Vec<u8>) {
        write_value(out, self);
    }
}

impl JsonField for &FieldData {
    fn write_json(self, out: &mut Vec<u8>) {
        match self {
            FieldData::Json(v) => write_value(out, v),
            FieldData::Texts(t) => write_texts(out, t),
            FieldData::U32s(ns) => write_array(out, ns, |out, &n| write_u64(out, n.into())),
        }
    }
}

/// `[item,item,…]`, each item written by `write`.
fn write_array<T>(out: &mut Vec<u8>, items: &[T], mut write: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out, x);
    }
    out.push(b']');
}

/// Record values as the array of strings [`RecordTexts::to_value`] makes, without making it:
/// a value of plain ASCII (the usual case) is copied whole; anything else becomes its lossy text
/// and goes through [`write_str`].
fn write_texts(out: &mut Vec<u8>, t: &RecordTexts) {
    write_array(out, &t.0, |out, b| {
        if needs_escaping::<true>(b) {
            write_str(out, &String::from_utf8_lossy(b));
        } else {
            write_quoted(out, b);
        }
    });
}

fn write_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                write_u64(out, u);
            } else if let Some(i) = n.as_i64() {
                out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
            } else {
                // Floats: serde_json's own formatting (ryu), byte for byte. Writing to a Vec
                // cannot fail.
                let _ = serde_json::to_writer(&mut *out, n);
            }
        }
        Value::String(s) => write_str(out, s),
        Value::Array(a) => write_array(out, a, write_value),
        Value::Object(m) => {
            out.push(b'{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, k);
                out.push(b':');
                write_value(out, x);
            }
            out.push(b'}');
        }
    }
}

/// A JSON string: copied whole between quotes when nothing in it needs escaping, else escaped by
/// serde_json.
fn write_str(out: &mut Vec<u8>, s: &str) {
    if needs_escaping::<false>(s.as_bytes()) {
        // Writing to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    } else {
        write_quoted(out, s.as_bytes());
    }
}

/// `bytes` between quotes, as they are.
fn write_quoted(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    out.extend_from_slice(bytes);
    out.push(b'"');
}

/// True if `bytes` holds a control character, `"` or `\` — the bytes JSON must escape — or, with
/// `NON_ASCII`, a byte of 0x80 or more (bytes not known to be UTF-8 are plain only if ASCII).
///
/// Most trace strings are names of 5 to 25 bytes, some are 100-byte record values: a long string
/// is checked 16 bytes at a time without an early exit inside a block (the compiler turns that into
/// vector compares), its tail as its last, overlapping block; a short one as two overlapping
/// machine words, bit-twiddled ([`word_escapes`]).
fn needs_escaping<const NON_ASCII: bool>(bytes: &[u8]) -> bool {
    const BLOCK: usize = 16;
    // With NON_ASCII, a byte below 0x20 or of 0x80 and more is one signed compare.
    let below = |b: u8| if NON_ASCII { (b as i8) < 0x20 } else { b < 0x20 };
    let escaped = |b: u8| below(b) | (b == b'"') | (b == b'\\');
    let block_escapes = |block: &[u8]| block.iter().fold(false, |any, &b| any | escaped(b));
    let n = bytes.len();
    if n < 8 {
        return bytes.iter().any(|&b| escaped(b));
    }
    if n <= BLOCK {
        let word = |i: usize| u64::from_le_bytes(std::array::from_fn(|j| bytes[i + j]));
        return word_escapes::<NON_ASCII>(word(0)) || word_escapes::<NON_ASCII>(word(n - 8));
    }
    let mut blocks = bytes.chunks_exact(BLOCK);
    for block in &mut blocks {
        if block_escapes(block) {
            return true;
        }
    }
    !blocks.remainder().is_empty() && block_escapes(&bytes[n - BLOCK..])
}

/// True if any byte of `x` is below 0x20, `"` or `\` (or, with `NON_ASCII`, 0x80 or more): the
/// "has a byte less than n" and "has a zero byte" word tricks (exact as to whether such a byte
/// exists).
fn word_escapes<const NON_ASCII: bool>(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    let below_space = x.wrapping_sub(ONES * 0x20) & !x;
    let quote = x ^ (ONES * b'"' as u64);
    let backslash = x ^ (ONES * b'\\' as u64);
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v;
    let high = if NON_ASCII { x } else { 0 };
    (below_space | has_zero(quote) | has_zero(backslash) | high) & HIGH != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Event, Fields};
    use proptest::prelude::*;
    use serde_json::Map;

    fn serde_line(e: &Event) -> Vec<u8> {
        let mut v = serde_json::to_vec(e).unwrap_or_default();
        v.push(b'\n');
        v
    }

    fn our_line(e: &Event) -> Vec<u8> {
        let mut v = Vec::new();
        write_kept_event(&mut v, e);
        v
    }

    /// Strings weighted towards what JSON escapes: control characters, quotes, backslashes,
    /// multi-byte characters, and long runs that cross the 16-byte blocks.
    fn any_string() -> impl Strategy<Value = String> {
        let ch = prop_oneof![
            4 => proptest::char::range('a', 'z'),
            1 => proptest::char::range('\u{0}', '\u{1f}'),
            1 => Just('"'),
            1 => Just('\\'),
            1 => Just('\u{7f}'),
            1 => Just('/'),
            1 => proptest::char::any(),
        ];
        prop_oneof![
            proptest::collection::vec(ch, 0..40).prop_map(|v| v.into_iter().collect()),
            "[a-z0-9 .-]{0,120}",
            ".{0,20}",
        ]
    }

    fn any_number() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<f32>().prop_map(Value::from),
            (-1000i64..1000).prop_map(|n| Value::from(n as f64 / 8.0)),
        ]
    }

    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any_number(),
            any_string().prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::btree_map(any_string(), inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn any_event() -> impl Strategy<Value = Event> {
        (
            any::<u64>(),
            any_string(),
            any_string(),
            any_string(),
            any::<u64>(),
            proptest::option::of(any::<u64>()),
            proptest::collection::vec((any_string(), any_value()), 0..8),
        )
            .prop_map(|(t_us, host, proc, kind, id, cause, fields)| Event {
                t_us,
                host,
                proc,
                kind,
                id,
                cause,
                fields: fields.into_iter().collect(),
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn lines_are_serde_json_s(e in any_event()) {
            let (ours, serde) = (our_line(&e), serde_line(&e));
            prop_assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&serde));
        }

        /// The streaming path: pairs in the order given, names repeated (a small alphabet makes
        /// repeats common), written through `Fields::sorted`, against serde_json on the map
        /// that inserting the same pairs one by one gives.
        #[test]
        fn fields_lines_are_the_maps_lines(
            e in any_event(),
            pairs in proptest::collection::vec((prop_oneof![3 => "[a-e]{1,2}", 1 => any_string()], any_value()), 0..12),
        ) {
            let mut fields = Fields::new();
            let mut map = Map::new();
            for (k, v) in pairs {
                fields.insert(k.clone().into(), v.clone());
                map.insert(k, v);
            }
            let mut ours = Vec::new();
            write_event(&mut ours, e.t_us, &e.host, &e.proc, &e.kind, e.id, e.cause, fields.sorted());
            let serde = serde_line(&Event { fields: map.clone(), ..e });
            prop_assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&serde));
            prop_assert_eq!(&fields.clone().into_map(), &map);
            prop_assert!(Fields::from(map) == fields);
        }

        #[test]
        fn escaping_check_matches_serde_json(s in any_string()) {
            let plain = format!("\"{s}\"");
            prop_assert_eq!(!needs_escaping::<false>(s.as_bytes()), serde_json::to_string(&s).unwrap_or_default() == plain);
        }

        /// Record values written from their bytes are what serde_json writes for the strings
        /// `RecordTexts::to_value` makes of them, whatever the bytes (invalid UTF-8 included).
        #[test]
        fn record_texts_are_written_as_their_strings(
            texts in proptest::collection::vec(prop_oneof![
                any_string().prop_map(String::into_bytes),
                proptest::collection::vec(any::<u8>(), 0..40),
            ], 0..6),
        ) {
            let t = RecordTexts(texts.into_iter().map(bytes::Bytes::from).collect());
            let mut ours = Vec::new();
            (&FieldData::Texts(t.clone())).write_json(&mut ours);
            let serde = serde_json::to_vec(&t.to_value()).unwrap_or_default();
            prop_assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&serde));
        }

        /// A `Vec<u32>` field is written as `json!` writes the list.
        #[test]
        fn u32_lists_are_written_as_json_does(ns in proptest::collection::vec(any::<u32>(), 0..6)) {
            let mut ours = Vec::new();
            (&crate::trace::fields! { "n" => ns.clone() }.into_iter().next().map(|(_, v)| FieldData::Json(v)).unwrap_or(FieldData::U32s(Vec::new()))).write_json(&mut ours);
            let mut direct = Vec::new();
            (&FieldData::U32s(ns.clone())).write_json(&mut direct);
            let serde = serde_json::to_vec(&serde_json::json!(ns)).unwrap_or_default();
            prop_assert_eq!(&ours, &serde);
            prop_assert_eq!(&direct, &serde);
        }
    }

    #[test]
    fn escaping_check_is_exact_for_every_byte_at_every_position() {
        for len in 1..48 {
            for background in [b'a', b' ', b'!', b'#', b'[', b']', 0x1f, 0x80, 0xff] {
                let plain = vec![background; len];
                let escaped = |c: u8| c < 0x20 || c == b'"' || c == b'\\';
                assert_eq!(
                    needs_escaping::<false>(&plain),
                    escaped(background),
                    "len {len} background {background:#x}"
                );
                assert_eq!(
                    needs_escaping::<true>(&plain),
                    escaped(background) || background >= 0x80
                );
                for at in 0..len {
                    for b in 0..=255u8 {
                        let mut bytes = plain.clone();
                        bytes[at] = b;
                        let expected = bytes.iter().any(|&c| escaped(c));
                        assert_eq!(needs_escaping::<false>(&bytes), expected, "{bytes:?}");
                        let expected = bytes.iter().any(|&c| escaped(c) || c >= 0x80);
                        assert_eq!(needs_escaping::<true>(&bytes), expected, "{bytes:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn fixed_field_names_in_the_fields_are_written_twice_as_serde_does() {
        let e = Event {
            t_us: 1,
            host: "h".into(),
            proc: "p".into(),
            kind: "k".into(),
            id: 2,
            cause: None,
            fields: crate::trace::fields! { "host" => "x", "id" => 9, "t_us" => -1 }.into_map(),
        };
        assert_eq!(our_line(&e), serde_line(&e));
    }
}
