//! [`Fields`]: an event's kind-specific fields as `fields!` builds them, before they become the
//! sorted map an [`Event`](super::Event) keeps.
//!
//! A long benchmark streams millions of events straight into the trace hash: building a
//! `serde_json::Map` (a BTreeMap with an allocated `String` per name) only to write it once and
//! drop it was a tenth of the run. `Fields` is the names (mostly `&'static str`, never copied) and
//! values in the order given; the JSONL writer puts them in the map's order itself, and only a
//! kept event pays for the map.

use bytes::Bytes;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// A field name: the literal from `fields!`, or an owned name from a map.
pub type FieldName = Cow<'static, str>;

/// Kafka record values as the trace shows them: a list of strings, each record's value as text
/// (lossy where it is not UTF-8, `""` for a null value).
///
/// The bytes stay shared with the records they came from until the line is written: a benchmark
/// traces millions of values, and a `String` per value (a UTF-8 check, an allocation, a copy and a
/// free) was a twentieth of the run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordTexts(pub Vec<Bytes>);

impl RecordTexts {
    /// The JSON value the list stands for: an array of strings.
    pub fn to_value(&self) -> Value {
        Value::Array(
            self.0.iter().map(|b| Value::String(String::from_utf8_lossy(b).into_owned())).collect(),
        )
    }
}

/// One field's value: any JSON value, or record values kept as their bytes.
#[derive(Debug, Clone)]
pub enum FieldData {
    /// A JSON value.
    Json(Value),
    /// Record values, written as an array of strings.
    Texts(RecordTexts),
    /// Numbers (the CRCs of appended records), written as an array without becoming `Value`s.
    U32s(Vec<u32>),
}

impl FieldData {
    /// The JSON value this stands for.
    pub fn into_value(self) -> Value {
        match self {
            FieldData::Json(v) => v,
            FieldData::Texts(t) => t.to_value(),
            FieldData::U32s(n) => n.into(),
        }
    }

    fn to_value(&self) -> Value {
        self.clone().into_value()
    }
}

impl From<Value> for FieldData {
    fn from(v: Value) -> Self {
        FieldData::Json(v)
    }
}

/// Equal when they stand for the same JSON value.
impl PartialEq for FieldData {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (FieldData::Json(a), FieldData::Json(b)) => a == b,
            (FieldData::U32s(a), FieldData::U32s(b)) => a == b,
            _ => self.to_value() == other.to_value(),
        }
    }
}

/// Name/value pairs in the order they were given. A name given twice means its last value, as
/// `Map::insert` does; the map order (names sorted bytewise) is made when the fields are written
/// ([`Fields::sorted`]) or kept ([`Fields::into_map`]).
#[derive(Debug, Clone, Default)]
pub struct Fields {
    pairs: Vec<(FieldName, FieldData)>,
}

impl Fields {
    /// No fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// No fields yet, room for `n`.
    pub fn with_capacity(n: usize) -> Self {
        Self { pairs: Vec::with_capacity(n) }
    }

    /// Adds a field; a name already present gets the new value (when written or kept).
    pub fn insert(&mut self, name: FieldName, value: Value) {
        self.pairs.push((name, FieldData::Json(value)));
    }

    /// [`Fields::insert`] of any field value (what `fields!` uses).
    pub fn insert_data(&mut self, name: FieldName, value: FieldData) {
        self.pairs.push((name, value));
    }

    /// The value a name has (its last one), if present.
    pub fn get(&self, name: &str) -> Option<&FieldData> {
        self.pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Number of pairs given (a repeated name counts each time).
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True if no field was given.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Moves every pair of `other` in after these, leaving `other` empty (as `Map::append`).
    pub fn append(&mut self, other: &mut Fields) {
        self.pairs.append(&mut other.pairs);
    }

    /// The map an [`Event`](super::Event) keeps. `BTreeMap`'s `FromIterator` sorts stably and keeps
    /// the last of equal names: what inserting them one by one gives, in one bulk build.
    pub fn into_map(self) -> Map<String, Value> {
        self.pairs.into_iter().map(|(k, v)| (k.into_owned(), v.into_value())).collect()
    }

    /// The pairs in map order — names sorted bytewise, each name once with its last value —
    /// without building a map: an insertion sort of indices (events have a handful of fields),
    /// stable so that of equal names the last given comes last and is the one kept.
    pub fn sorted(&self) -> SortedFields<'_> {
        let pairs = &self.pairs;
        let key = |i: u32| pairs[i as usize].0.as_bytes();
        let mut order = Order::new(pairs.len());
        let idx = order.as_mut_slice();
        let mut repeats = false;
        for i in 1..idx.len() {
            let cur = idx[i];
            let mut j = i;
            while j > 0 && key_less(key(cur), key(idx[j - 1])) {
                idx[j] = idx[j - 1];
                j -= 1;
            }
            // Not less than the one before it: equal (a repeat), or greater.
            repeats |= j > 0 && key(idx[j - 1]) == key(cur);
            idx[j] = cur;
        }
        let mut len = idx.len();
        if repeats {
            // Keep the last of each run of equal names.
            let mut kept = 0;
            for j in 0..len {
                if j + 1 == len || key(idx[j]) != key(idx[j + 1]) {
                    idx[kept] = idx[j];
                    kept += 1;
                }
            }
            len = kept;
        }
        SortedFields { pairs, order, next: 0, len }
    }
}

/// `a < b` as `str`'s order (bytewise) has it. Names nearly always differ in their first byte,
/// which decides without calling `memcmp`.
#[inline]
fn key_less(a: &[u8], b: &[u8]) -> bool {
    match (a.first(), b.first()) {
        (Some(x), Some(y)) if x != y => x < y,
        _ => a < b,
    }
}

/// [`Fields::sorted`]: the pairs in map order.
pub struct SortedFields<'a> {
    pairs: &'a [(FieldName, FieldData)],
    order: Order,
    next: usize,
    len: usize,
}

impl<'a> Iterator for SortedFields<'a> {
    type Item = (&'a str, &'a FieldData);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.next == self.len {
            return None;
        }
        let i = self.order.as_slice()[self.next] as usize;
        self.next += 1;
        let (k, v) = &self.pairs[i];
        Some((k.as_ref(), v))
    }
}

/// Indices for [`Fields::sorted`]: on the stack for the usual handful of fields.
enum Order {
    Inline([u32; Order::INLINE], usize),
    Heap(Vec<u32>),
}

impl Order {
    const INLINE: usize = 16;

    fn new(n: usize) -> Self {
        if n <= Self::INLINE {
            Order::Inline(std::array::from_fn(|i| i as u32), n)
        } else {
            Order::Heap((0..n as u32).collect())
        }
    }

    #[inline]
    fn as_slice(&self) -> &[u32] {
        match self {
            Order::Inline(a, n) => &a[..*n],
            Order::Heap(v) => v,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [u32] {
        match self {
            Order::Inline(a, n) => &mut a[..*n],
            Order::Heap(v) => v,
        }
    }
}

/// Two field sets are equal when they make the same map.
impl PartialEq for Fields {
    fn eq(&self, other: &Self) -> bool {
        self.sorted().eq(other.sorted())
    }
}

impl From<Map<String, Value>> for Fields {
    fn from(m: Map<String, Value>) -> Self {
        Self { pairs: m.into_iter().map(|(k, v)| (Cow::Owned(k), FieldData::Json(v))).collect() }
    }
}

impl From<Fields> for Map<String, Value> {
    fn from(f: Fields) -> Self {
        f.into_map()
    }
}

impl<K: Into<FieldName>> Extend<(K, Value)> for Fields {
    fn extend<I: IntoIterator<Item = (K, Value)>>(&mut self, iter: I) {
        self.pairs.extend(iter.into_iter().map(|(k, v)| (k.into(), FieldData::Json(v))));
    }
}

impl<K: Into<FieldName>> FromIterator<(K, Value)> for Fields {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Self {
        let mut f = Fields::new();
        f.extend(iter);
        f
    }
}

impl IntoIterator for Fields {
    type Item = (FieldName, Value);
    type IntoIter = std::iter::Map<
        std::vec::IntoIter<(FieldName, FieldData)>,
        fn((FieldName, FieldData)) -> (FieldName, Value),
    >;
    /// The pairs in the order given (duplicates included); [`Fields::into_map`] for map order.
    fn into_iter(self) -> Self::IntoIter {
        self.pairs.into_iter().map(|(k, v)| (k, v.into_value()))
    }
}
