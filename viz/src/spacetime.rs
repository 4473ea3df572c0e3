//! The space-time (Lamport) diagram: processes as vertical lanes, time flowing down, every
//! message an arrow from its send to its receive, faults as red marks across a host's lanes,
//! and partition leadership as shaded bands on the leading broker's lane.
//!
//! A time window and a message-kind filter keep it legible: by default the window runs from two
//! seconds before the first fault to two seconds after the first leader election that follows
//! it, and only election, ZAB synchronisation, watch and controller messages are drawn.

use crate::event::{Event, VizError};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use sim_core::trace::kind;
use std::collections::BTreeMap;

/// Message kinds drawn by default (prefixes of a message's kind).
pub const DEFAULT_KINDS: &[&str] = &[
    "fle.",
    "zab.newleader",
    "zab.followerinfo",
    "zab.leaderinfo",
    "zab.ackepoch",
    "zab.diff",
    "zab.uptodate",
    "zk.watch_event",
    "kafka.leader_and_isr",
    "kafka.update_metadata",
    "kafka.controlled_shutdown",
];

/// Fault and repair events, drawn as marks.
const FAULTS: &[(&str, &str)] = &[
    (kind::HOST_CRASH, "power loss"),
    (kind::HOST_BOOT, "boot"),
    (kind::PROC_KILL, "kill -9"),
    (kind::PROC_HALT, "halt"),
    (kind::NET_BLOCK, "partition"),
    (kind::NET_HEAL, "heal"),
    (kind::DISK_FILL, "disk"),
];

/// What to draw.
#[derive(Debug, Clone)]
pub struct Options {
    /// Window start and end, µs (None: around the first fault).
    pub window: Option<(u64, u64)>,
    /// Message kind prefixes to draw.
    pub kinds: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options { window: None, kinds: DEFAULT_KINDS.iter().map(|s| s.to_string()).collect() }
    }
}

/// The default window: 2 s before the first fault to 2 s after the first leader election
/// after it; without a fault, the whole run.
pub fn default_window(events: &[Event]) -> (u64, u64) {
    let end = events.last().map_or(1, |e| e.t_us.max(1));
    let Some(fault) = events.iter().find(|e| {
        matches!(
            e.kind.as_str(),
            kind::HOST_CRASH | kind::PROC_KILL | kind::NET_BLOCK | kind::PROC_HALT
        )
    }) else {
        return (0, end);
    };
    let after = events
        .iter()
        .find(|e| e.t_us > fault.t_us && e.kind == kind::KAFKA_LEADER_ELECTION)
        .map_or(end, |e| e.t_us);
    (fault.t_us.saturating_sub(2_000_000), (after + 2_000_000).min(end))
}

const TOP: i32 = 60;
const LANE: i32 = 120;
const LEFT: i32 = 70;
const HEIGHT: i32 = 900;

/// Draws the diagram as SVG text.
pub fn render_svg(events: &[Event], opts: &Options) -> Result<String, VizError> {
    let (from, to) = opts.window.unwrap_or_else(|| default_window(events));
    if to <= from {
        return Err(VizError::Nothing(format!("empty time window {from}..{to} µs")));
    }
    // Lanes: servers of each host in host order, then clients that took part.
    let mut host_order: Vec<&str> = Vec::new();
    for e in events {
        if e.host != "lab" && !host_order.contains(&e.host.as_str()) {
            host_order.push(&e.host);
        }
    }
    let talks: BTreeMap<(&str, &str), ()> = events
        .iter()
        .filter(|e| e.kind == kind::NET_SEND && e.t_us >= from && e.t_us <= to)
        .map(|e| ((e.host.as_str(), e.proc_name.as_str()), ()))
        .collect();
    let mut lanes: Vec<(&str, &str)> = Vec::new();
    for server in ["QuorumPeerMain", "Kafka"] {
        for h in &host_order {
            if events.iter().any(|e| e.host == *h && e.proc_name == server) {
                lanes.push((h, server));
            }
        }
    }
    for (h, p) in talks.keys() {
        if !lanes.contains(&(*h, *p)) && *p != "shell" {
            lanes.push((h, p));
        }
    }
    if lanes.is_empty() {
        return Err(VizError::Nothing("no process in the trace".into()));
    }
    let width = LEFT + lanes.len() as i32 * LANE + 200;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width as u32, (HEIGHT + TOP + 40) as u32))
            .into_drawing_area();
        draw(&root, events, opts, &lanes, (from, to)).map_err(|e| VizError::Draw(e.to_string()))?;
        root.present().map_err(|e| VizError::Draw(e.to_string()))?;
    }
    Ok(svg)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

fn draw(
    root: &Area<'_>,
    events: &[Event],
    opts: &Options,
    lanes: &[(&str, &str)],
    (from, to): (u64, u64),
) -> Result<(), Box<dyn std::error::Error>> {
    let y = |t: u64| {
        TOP + ((t.saturating_sub(from)) as f64 / (to - from) as f64 * f64::from(HEIGHT)) as i32
    };
    let x = |i: usize| LEFT + i as i32 * LANE + LANE / 2;
    let lane_of = |h: &str, p: &str| lanes.iter().position(|l| l.0 == h && l.1 == p);
    let font = |size: i32, c: &RGBColor, h: HPos| {
        ("sans-serif", size).into_font().color(c).pos(Pos::new(h, VPos::Center))
    };
    let red = RGBColor(0xd0, 0x30, 0x30);
    let band = RGBColor(0xc8, 0xe6, 0xc9);
    root.fill(&WHITE)?;
    root.draw(&Text::new(
        format!(
            "space-time diagram, {:.3} s to {:.3} s (time flows down)",
            from as f64 / 1e6,
            to as f64 / 1e6
        ),
        (10, 14),
        font(13, &BLACK, HPos::Left),
    ))?;
    // Leadership bands: a broker leads a partition from become_leader until another broker
    // becomes its leader or this broker's process ends.
    let mut leading: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    let mut bands: Vec<(usize, u64, u64, String)> = Vec::new();
    for e in events {
        let ends_process =
            matches!(e.kind.as_str(), kind::PROC_KILL | kind::PROC_HALT | kind::PROC_EXIT)
                && e.proc_name == "Kafka";
        let crashed = e.kind == kind::HOST_CRASH;
        if e.kind == kind::KAFKA_BECOME_LEADER {
            let tp =
                format!("{}-{}", e.str("topic").unwrap_or("?"), e.i64("partition").unwrap_or(0));
            if let Some(l) = lane_of(&e.host, "Kafka") {
                if let Some((old, since)) = leading.insert(tp.clone(), (l, e.t_us)) {
                    if old != l {
                        bands.push((old, since, e.t_us, tp.clone()));
                    } else {
                        leading.insert(tp, (l, since));
                    }
                }
            }
        } else if ends_process || crashed {
            // A crash event names the host that lost power (the trace line's `host` field).
            let host = e.str("host").unwrap_or(e.host.as_str());
            let gone: Vec<String> = leading
                .iter()
                .filter(|(_, (l, _))| lanes[*l].0 == host)
                .map(|(k, _)| k.clone())
                .collect();
            for tp in gone {
                if let Some((l, since)) = leading.remove(&tp) {
                    bands.push((l, since, e.t_us, tp));
                }
            }
        }
    }
    for (tp, (l, since)) in &leading {
        bands.push((*l, *since, to, tp.clone()));
    }
    for (l, a, b, tp) in &bands {
        if *b < from || *a > to {
            continue;
        }
        let (ya, yb) = (y((*a).max(from)), y((*b).min(to)));
        root.draw(&Rectangle::new(
            [(x(*l) - 14, ya), (x(*l) + 14, yb.max(ya + 1))],
            band.filled(),
        ))?;
        root.draw(&Text::new(
            format!("leader {tp}"),
            (x(*l) + 16, ya + 8),
            font(9, &RGBColor(0x1b, 0x5e, 0x20), HPos::Left),
        ))?;
    }
    // Lanes.
    for (i, (h, p)) in lanes.iter().enumerate() {
        root.draw(&Text::new(h.to_string(), (x(i), TOP - 36), font(11, &BLACK, HPos::Center)))?;
        root.draw(&Text::new(
            p.to_string(),
            (x(i), TOP - 22),
            font(10, &RGBColor(0x55, 0x55, 0x55), HPos::Center),
        ))?;
        root.draw(&PathElement::new(
            vec![(x(i), TOP), (x(i), TOP + HEIGHT)],
            RGBColor(0xaa, 0xaa, 0xaa).stroke_width(1),
        ))?;
    }
    // Time axis.
    let step = nice_step(to - from);
    let mut t = from.div_ceil(step) * step;
    while t <= to {
        let digits = if step >= 100_000 {
            1
        } else if step >= 1_000 {
            3
        } else {
            6
        };
        root.draw(&Text::new(
            format!("{:.*}s", digits, t as f64 / 1e6),
            (LEFT - 8, y(t)),
            font(9, &BLACK, HPos::Right),
        ))?;
        t += step;
    }
    // Messages.
    let sends: BTreeMap<u64, &Event> =
        events.iter().filter(|e| e.kind == kind::NET_SEND).map(|e| (e.id, e)).collect();
    for r in events.iter().filter(|e| e.kind == kind::NET_RECV && e.t_us <= to) {
        let Some(s) = r.cause.and_then(|c| sends.get(&c)) else { continue };
        let msg = s.str("msg").unwrap_or("");
        if s.t_us < from || !opts.kinds.iter().any(|k| msg.starts_with(k.as_str())) {
            continue;
        }
        let (Some(a), Some(b)) = (lane_of(&s.host, &s.proc_name), lane_of(&r.host, &r.proc_name))
        else {
            continue;
        };
        let color = match msg.split('.').next() {
            Some("fle") => RGBColor(0x6a, 0x1b, 0x9a),
            Some("zab") | Some("zk") => RGBColor(0x15, 0x65, 0xc0),
            _ => RGBColor(0xef, 0x6c, 0x00),
        };
        let (p0, p1) = ((x(a), y(s.t_us)), (x(b), y(r.t_us)));
        root.draw(&PathElement::new(vec![p0, p1], color.stroke_width(1)))?;
        root.draw(&Circle::new(p1, 2, color.filled()))?;
        let label = match msg {
            "kafka.leader_and_isr" => "LeaderAndIsr",
            "kafka.update_metadata" => "UpdateMetadata",
            "zk.watch_event" => "watch",
            m => m,
        };
        root.draw(&Text::new(
            label.to_string(),
            ((p0.0 + p1.0) / 2, (p0.1 + p1.1) / 2 - 5),
            font(8, &color, HPos::Center),
        ))?;
    }
    // Faults, session expiries and elections.
    for e in events.iter().filter(|e| e.t_us >= from && e.t_us <= to) {
        if let Some((_, label)) = FAULTS.iter().find(|f| f.0 == e.kind) {
            let host = e.str("host").or(e.str("from")).unwrap_or(e.host.as_str());
            let on: Vec<usize> = lanes
                .iter()
                .enumerate()
                .filter(|(_, l)| l.0 == host && (e.kind != kind::PROC_KILL || l.1 == e.proc_name))
                .map(|(i, _)| i)
                .collect();
            let text = format!("{label} {host} ({})", e.kind);
            if on.is_empty() {
                root.draw(&Text::new(text, (LEFT, y(e.t_us)), font(9, &red, HPos::Left)))?;
                continue;
            }
            for i in &on {
                root.draw(&PathElement::new(
                    vec![(x(*i) - 20, y(e.t_us)), (x(*i) + 20, y(e.t_us))],
                    red.stroke_width(3),
                ))?;
            }
            root.draw(&Text::new(text, (x(on[0]) + 22, y(e.t_us)), font(9, &red, HPos::Left)))?;
        } else if e.kind == kind::ZK_SESSION_EXPIRE || e.kind == kind::KAFKA_LEADER_ELECTION {
            let Some(i) = lane_of(&e.host, &e.proc_name) else { continue };
            let text = if e.kind == kind::ZK_SESSION_EXPIRE {
                format!("session expire {}", e.str("session").unwrap_or(""))
            } else {
                format!(
                    "elect {} for {}-{} (epoch {})",
                    e.i64("leader").unwrap_or(-1),
                    e.str("topic").unwrap_or("?"),
                    e.i64("partition").unwrap_or(0),
                    e.i64("leader_epoch").unwrap_or(0)
                )
            };
            root.draw(&Circle::new((x(i), y(e.t_us)), 5, BLACK.filled()))?;
            root.draw(&Text::new(text, (x(i) + 8, y(e.t_us) + 10), font(9, &BLACK, HPos::Left)))?;
        }
    }
    Ok(())
}

/// A round tick spacing giving about ten ticks over `span` µs.
fn nice_step(span: u64) -> u64 {
    let raw = (span / 10).max(1);
    let mag = 10u64.pow(raw.ilog10());
    [1, 2, 5, 10].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10 * mag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse_jsonl;

    #[test]
    fn draws_messages_faults_elections_and_bands() {
        let t = r#"{"t_us":0,"host":"master","proc":"Kafka","kind":"kafka.become_leader","id":1,"topic":"t","partition":0}
{"t_us":1000000,"host":"lab","proc":"world","kind":"host.crash","id":2,"host":"master"}
{"t_us":2000000,"host":"slave1","proc":"Kafka","kind":"kafka.leader_election","id":3,"leader":1,"topic":"t","partition":0,"leader_epoch":1}
{"t_us":2100000,"host":"slave1","proc":"Kafka","kind":"net.send","id":4,"msg":"kafka.leader_and_isr","to":"slave2"}
{"t_us":2100300,"host":"slave2","proc":"Kafka","kind":"net.recv","id":5,"cause":4,"msg":"kafka.leader_and_isr","from":"slave1"}
{"t_us":2100400,"host":"slave2","proc":"Kafka","kind":"kafka.become_leader","id":6,"topic":"t","partition":0}
{"t_us":5000000,"host":"slave2","proc":"Kafka","kind":"net.send","id":7,"msg":"kafka.fetch","to":"slave1"}
"#;
        let ev = parse_jsonl(t).expect("trace");
        assert_eq!(default_window(&ev), (0, 4_000_000));
        let svg = render_svg(&ev, &Options::default()).expect("svg");
        for needle in
            ["power loss master", "elect 1 for t-0 (epoch 1)", "LeaderAndIsr", "leader t-0"]
        {
            assert!(svg.contains(needle), "{needle} in the diagram");
        }
        assert!(!svg.contains("kafka.fetch"), "filtered out");
        assert_eq!(render_svg(&ev, &Options::default()).expect("svg"), svg);
        assert!(render_svg(&ev, &Options { window: Some((5, 5)), ..Options::default() }).is_err());
        assert_eq!(nice_step(4_100_000), 500_000);
    }
}
