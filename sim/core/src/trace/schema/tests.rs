//! The schema's own rules. Real runs are checked against it in `tests/tests/trace_schema.rs`.

use super::*;
use crate::trace::{fields, Tracer};
use std::collections::BTreeSet;

#[test]
fn every_kind_is_declared_once_with_a_doc_and_sorted_fields() {
    let mut seen = BTreeSet::new();
    for s in EVENTS {
        assert!(seen.insert(s.kind), "{:?} is declared twice", s.kind);
        assert!(!s.doc.trim().is_empty(), "{:?} has no doc", s.kind);
        assert_eq!(s.doc, s.doc.trim(), "{:?}: the doc is trimmed", s.kind);
        let (layer, what) = s.kind.split_once('.').unwrap_or_default();
        let lower = |p: &str| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        assert!(
            lower(layer) && what.split('.').all(lower),
            "{:?} is not `layer.what` in lowercase",
            s.kind
        );
        assert!(
            s.fields.windows(2).all(|w| w[0] < w[1]),
            "{:?}: fields are listed sorted, each once: {:?}",
            s.kind,
            s.fields
        );
        let fixed: Vec<_> =
            s.fields.iter().filter(|f| FIXED_FIELDS.contains(f) && **f != "host").collect();
        assert!(fixed.is_empty(), "{:?} declares the fixed fields {fixed:?}", s.kind);
    }
    assert_eq!(spec(kind::ZAB_COMMIT).map(|s| s.fields), Some(&["acks", "zxid"][..]));
    assert!(is_declared(kind::NET_SEND) && !is_declared("net.sent"));
}

/// The check the real runs go through reports an undeclared kind and an undeclared field, each
/// once, with the event that shows it first.
#[test]
fn undeclared_kinds_and_fields_are_reported() {
    let t = Tracer::new();
    t.emit(1, "master", "Kafka", kind::KAFKA_HW, None, fields! { "topic" => "t", "to" => 3 });
    t.emit(2, "master", "Kafka", "kafka.hw_moved", None, fields! {});
    t.emit(3, "slave1", "Kafka", "kafka.hw_moved", None, fields! {});
    t.emit(4, "slave1", "Kafka", kind::KAFKA_HW, None, fields! { "high_watermark" => 3 });
    let found = undeclared(&t.events());
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].contains("\"kafka.hw\" carries field \"high_watermark\""), "{found:#?}");
    assert!(found[0].contains("t_us 4, slave1/Kafka"), "{found:#?}");
    assert!(found[1].starts_with("kind \"kafka.hw_moved\" is not declared"), "{found:#?}");
    assert!(found[1].contains("t_us 2, master/Kafka"), "{found:#?}");
}
