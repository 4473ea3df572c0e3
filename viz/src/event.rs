//! Trace events as the pictures read them.

use serde_json::{Map, Value};

/// Errors reading a trace or drawing from it.
#[derive(Debug, thiserror::Error)]
pub enum VizError {
    /// A line that is not a trace event.
    #[error("trace line {line}: {why}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        why: String,
    },
    /// The trace has nothing to draw for the request.
    #[error("{0}")]
    Nothing(String),
    /// The drawing backend failed.
    #[error("drawing failed: {0}")]
    Draw(String),
}

/// One trace event: the common fields and the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Virtual time, µs.
    pub t_us: u64,
    /// Host (or `lab` for the simulator itself).
    pub host: String,
    /// Process name (`Kafka`, `QuorumPeerMain`, `shell`, …).
    pub proc_name: String,
    /// Event kind (`net.send`, `kafka.become_leader`, …).
    pub kind: String,
    /// Event id, unique in the trace.
    pub id: u64,
    /// The event this one follows from (a receive's send).
    pub cause: Option<u64>,
    /// Every other field.
    pub fields: Map<String, Value>,
}

impl Event {
    /// A field as an integer.
    pub fn i64(&self, k: &str) -> Option<i64> {
        self.fields.get(k).and_then(Value::as_i64)
    }
    /// A field as a string.
    pub fn str(&self, k: &str) -> Option<&str> {
        self.fields.get(k).and_then(Value::as_str)
    }
    /// A field as a list of integers.
    pub fn i64s(&self, k: &str) -> Vec<i64> {
        self.fields
            .get(k)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default()
    }
}

/// Parses a JSONL trace; blank lines are skipped, anything else that is not an event is an error
/// naming its line.
pub fn parse_jsonl(text: &str) -> Result<Vec<Event>, VizError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |why: String| VizError::BadLine { line: i + 1, why };
        let Value::Object(mut m) =
            serde_json::from_str::<Value>(line).map_err(|e| bad(e.to_string()))?
        else {
            return Err(bad("not a JSON object".into()));
        };
        let mut take_str = |k: &str| match m.remove(k) {
            Some(Value::String(s)) => Ok(s),
            _ => Err(bad(format!("missing string field {k:?}"))),
        };
        let (host, proc_name, kind) = (take_str("host")?, take_str("proc")?, take_str("kind")?);
        let t_us =
            m.remove("t_us").and_then(|v| v.as_u64()).ok_or_else(|| bad("missing t_us".into()))?;
        let id = m.remove("id").and_then(|v| v.as_u64()).ok_or_else(|| bad("missing id".into()))?;
        let cause = m.remove("cause").and_then(|v| v.as_u64());
        out.push(Event { t_us, host, proc_name, kind, id, cause, fields: m });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_events_and_names_bad_lines() {
        let t = "{\"t_us\":5,\"host\":\"master\",\"proc\":\"Kafka\",\"kind\":\"net.recv\",\"id\":3,\"cause\":1,\"msg\":\"x\"}\n\n";
        let e = parse_jsonl(t).expect("parses");
        assert_eq!((e[0].t_us, e[0].id, e[0].cause, e[0].str("msg")), (5, 3, Some(1), Some("x")));
        let err = parse_jsonl("{\"t_us\":1}\nnot json").unwrap_err().to_string();
        assert!(err.starts_with("trace line 1: missing string field"), "{err}");
        assert!(parse_jsonl("[1]").unwrap_err().to_string().contains("not a JSON object"));
    }
}
