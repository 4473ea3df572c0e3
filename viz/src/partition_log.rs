//! The partition log view: one partition's log on every replica, as the trace tells it.
//!
//! Each broker gets a row of offsets. A cell is *committed* (green) when it sits below the
//! partition's final high watermark and holds the same record as the final leader, *uncommitted*
//! (yellow) at or above it, and *divergent* (orange) when it holds a different record than the
//! final leader at that offset. Below each row, records the broker once held and then lost —
//! cut by a truncation, or gone with its page cache — are drawn red and struck through. LEO and
//! HW are marked, and beneath the logs a timeline shows, per broker, when it was in the ISR and
//! when it led. This is the picture of an unclean election or of 0.9's truncation losing
//! acknowledged records.

use crate::event::{Event, VizError};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use sim_core::trace::kind;
use std::collections::{BTreeMap, BTreeSet};

/// What one broker's log looked like at the end, and what it lost on the way.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplicaLog {
    /// Host the broker runs on.
    pub host: String,
    /// Offset → record CRC, at the end of the run.
    pub records: BTreeMap<i64, u32>,
    /// Records held once and lost: (offset, CRC, virtual µs of the loss).
    pub lost: Vec<(i64, u32, u64)>,
    /// Log end offset at the end.
    pub leo: i64,
}

/// Everything the view draws, read from the trace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartitionHistory {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i64,
    /// Per broker id.
    pub replicas: BTreeMap<i64, ReplicaLog>,
    /// The last leader and its high watermark.
    pub final_leader: Option<i64>,
    /// High watermark of the last leader at the end.
    pub hw: i64,
    /// ISR changes: (µs, ISR).
    pub isr: Vec<(u64, Vec<i64>)>,
    /// Leader changes: (µs, leader or −1).
    pub leaders: Vec<(u64, i64)>,
    /// End of the trace, µs.
    pub end_us: u64,
}

impl PartitionHistory {
    /// Reads one partition's history from the events.
    pub fn from_events(events: &[Event], topic: &str, partition: i64) -> Result<Self, VizError> {
        let mut h = PartitionHistory { topic: topic.into(), partition, ..Default::default() };
        let mut broker_of: BTreeMap<String, i64> = BTreeMap::new();
        let ours =
            |e: &Event| e.str("topic") == Some(topic) && e.i64("partition") == Some(partition);
        for e in events {
            h.end_us = h.end_us.max(e.t_us);
            if e.kind == kind::KAFKA_REGISTERED {
                if let Some(b) = e.i64("broker") {
                    broker_of.insert(e.host.clone(), b);
                }
                continue;
            }
            if e.kind == kind::KAFKA_LEADER_ELECTION && ours(e) {
                h.isr.push((e.t_us, e.i64s("isr")));
                h.leaders.push((e.t_us, e.i64("leader").unwrap_or(-1)));
                continue;
            }
            let Some(&b) = broker_of.get(&e.host) else { continue };
            if !ours(e) || e.proc_name != "Kafka" {
                continue;
            }
            let r = h
                .replicas
                .entry(b)
                .or_insert_with(|| ReplicaLog { host: e.host.clone(), ..Default::default() });
            match e.kind.as_str() {
                kind::KAFKA_APPEND | kind::KAFKA_REPLICATE => {
                    let first = e.i64("first").unwrap_or(0);
                    let crcs: Vec<i64> = e.i64s("crcs");
                    for (i, c) in crcs.iter().enumerate() {
                        let (o, c) = (first + i as i64, *c as u32);
                        r.records.insert(o, c);
                        // Fetched back unchanged: it was not lost after all.
                        r.lost.retain(|l| !(l.0 == o && l.1 == c));
                    }
                    r.leo = r.leo.max(first + crcs.len() as i64);
                }
                kind::KAFKA_TRUNCATE => {
                    let to = e.i64("to").unwrap_or(0);
                    cut(r, to, e.t_us);
                }
                kind::KAFKA_BECOME_LEADER => {
                    // A leader's LEO below what it held: the tail went with its page cache.
                    if let Some(leo) = e.i64("leo") {
                        cut(r, leo, e.t_us);
                    }
                    h.isr.push((e.t_us, e.i64s("isr")));
                    h.leaders.push((e.t_us, b));
                }
                kind::KAFKA_ISR_SHRINK | kind::KAFKA_ISR_EXPAND => {
                    h.isr.push((e.t_us, e.i64s("isr")))
                }
                kind::KAFKA_HW => {
                    h.final_leader = Some(b);
                    h.hw = e.i64("to").unwrap_or(h.hw);
                }
                _ => {}
            }
        }
        if h.replicas.is_empty() {
            return Err(VizError::Nothing(format!(
                "no replica of {topic}-{partition} in the trace"
            )));
        }
        if let Some(&(_, l)) = h.leaders.last() {
            if l >= 0 {
                h.final_leader = Some(l);
            }
        }
        Ok(h)
    }

    /// Offsets where some replica lost a record.
    pub fn lost_offsets(&self) -> BTreeSet<i64> {
        self.replicas.values().flat_map(|r| r.lost.iter().map(|l| l.0)).collect()
    }

    /// Offsets where a replica holds a different record than the final leader.
    pub fn divergent_offsets(&self) -> BTreeSet<i64> {
        let Some(leader) = self.final_leader.and_then(|l| self.replicas.get(&l)) else {
            return BTreeSet::new();
        };
        self.replicas
            .values()
            .flat_map(|r| {
                r.records
                    .iter()
                    .filter(|(o, c)| leader.records.get(o).is_some_and(|lc| lc != *c))
                    .map(|(o, _)| *o)
            })
            .collect()
    }

    /// The default windows: where the logs start to diverge and where records start to be lost
    /// (24 offsets each, merged when they overlap), else the last 40 offsets.
    pub fn default_windows(&self) -> Vec<(i64, i64)> {
        let end = self.replicas.values().map(|r| r.leo).max().unwrap_or(0).max(1);
        let starts: BTreeSet<i64> = [self.divergent_offsets().first(), self.lost_offsets().first()]
            .into_iter()
            .flatten()
            .copied()
            .collect();
        if starts.is_empty() {
            return vec![((end - 40).max(0), end)];
        }
        let mut out: Vec<(i64, i64)> = Vec::new();
        for s in starts {
            let w = ((s - 4).max(0), (s + 20).min(end.max(s + 1)));
            match out.last_mut() {
                Some(last) if w.0 <= last.1 => last.1 = last.1.max(w.1),
                _ => out.push(w),
            }
        }
        out
    }
}

/// The column whose left edge marks `offset` (a LEO or HW: the first offset not included).
fn mark_column(cols: &[Option<i64>], offset: i64) -> Option<i32> {
    cols.iter()
        .position(|c| *c == Some(offset))
        .or_else(|| cols.iter().position(|c| *c == Some(offset - 1)).map(|k| k + 1))
        .map(|k| k as i32)
}

/// Removes records at and above `to` from a replica's log, remembering them as lost.
fn cut(r: &mut ReplicaLog, to: i64, t_us: u64) {
    let gone: Vec<(i64, u32)> = r.records.range(to..).map(|(o, c)| (*o, *c)).collect();
    for (o, c) in gone {
        r.records.remove(&o);
        r.lost.push((o, c, t_us));
    }
    r.leo = r.leo.min(to);
}

const CELL: i32 = 26;
const ROW: i32 = 20;
const LEFT: i32 = 150;
const TOP: i32 = 40;

/// Draws the view of the offsets in `windows` (each `from..to`, `to` excluded; a gap column
/// between windows) as SVG text.
pub fn render_svg(h: &PartitionHistory, windows: &[(i64, i64)]) -> Result<String, VizError> {
    let mut cols: Vec<Option<i64>> = Vec::new();
    for (i, &(from, to)) in windows.iter().enumerate() {
        if to <= from {
            return Err(VizError::Nothing(format!("empty offset window {from}..{to}")));
        }
        if i > 0 {
            cols.push(None);
        }
        cols.extend((from..to).map(Some));
    }
    if cols.is_empty() {
        return Err(VizError::Nothing("no offset window".into()));
    }
    let n = cols.len() as i32;
    let brokers: Vec<(&i64, &ReplicaLog)> = h.replicas.iter().collect();
    let logs_h = brokers.len() as i32 * (2 * ROW + 12);
    let isr_top = TOP + logs_h + 40;
    let height = isr_top + brokers.len() as i32 * (ROW - 4) + 50;
    let width = (LEFT + n * CELL + 120).max(LEFT + 4 * 150 + 60);
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (width as u32, height as u32)).into_drawing_area();
        draw(&root, h, &brokers, &cols, isr_top, width)
            .map_err(|e| VizError::Draw(e.to_string()))?;
        root.present().map_err(|e| VizError::Draw(e.to_string()))?;
    }
    Ok(svg)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

fn draw(
    root: &Area<'_>,
    h: &PartitionHistory,
    brokers: &[(&i64, &ReplicaLog)],
    cols: &[Option<i64>],
    isr_top: i32,
    width: i32,
) -> Result<(), Box<dyn std::error::Error + 'static>> {
    let text = |s: &str, x: i32, y: i32, size: i32, color: &RGBColor| {
        Text::new(
            s.to_string(),
            (x, y),
            ("sans-serif", size).into_font().color(color).pos(Pos::new(HPos::Left, VPos::Center)),
        )
    };
    let centered = |s: String, x: i32, y: i32, size: i32| {
        Text::new(
            s,
            (x, y),
            ("sans-serif", size)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Center)),
        )
    };
    let green = RGBColor(0x8f, 0xd1, 0x8f);
    let yellow = RGBColor(0xf5, 0xde, 0x7a);
    let orange = RGBColor(0xf0, 0xa0, 0x50);
    let red = RGBColor(0xe0, 0x60, 0x60);
    let grey = RGBColor(0x80, 0x80, 0x80);
    root.fill(&WHITE)?;
    let leader = h.final_leader.and_then(|l| h.replicas.get(&l));
    root.draw(&text(
        &format!(
            "{}-{}: each replica's log, final leader {}, HW {}",
            h.topic,
            h.partition,
            h.final_leader.map_or("none".to_string(), |l| l.to_string()),
            h.hw
        ),
        10,
        16,
        14,
        &BLACK,
    ))?;
    for (row, (b, r)) in brokers.iter().enumerate() {
        let y = TOP + row as i32 * (2 * ROW + 12);
        root.draw(&text(&format!("broker {b} ({})", r.host), 8, y + ROW / 2, 12, &BLACK))?;
        root.draw(&text("lost", 100, y + ROW + ROW / 2, 10, &red))?;
        for (k, col) in cols.iter().enumerate() {
            let k = k as i32;
            let x = LEFT + k * CELL;
            let Some(off) = *col else {
                root.draw(&centered("⋯".to_string(), x + CELL / 2 - 1, y + ROW / 2, 12))?;
                continue;
            };
            if let Some(crc) = r.records.get(&off) {
                let same = leader.and_then(|l| l.records.get(&off)) == Some(crc);
                let fill = if !same {
                    orange
                } else if off < h.hw {
                    green
                } else {
                    yellow
                };
                root.draw(&Rectangle::new([(x, y), (x + CELL - 2, y + ROW)], fill.filled()))?;
                root.draw(&centered(off.to_string(), x + CELL / 2 - 1, y + ROW / 2, 10))?;
            }
            for (o, _, _) in r.lost.iter().filter(|l| l.0 == off).take(1) {
                let yl = y + ROW + 2;
                root.draw(&Rectangle::new(
                    [(x, yl), (x + CELL - 2, yl + ROW - 4)],
                    red.mix(0.8).filled(),
                ))?;
                root.draw(&centered(o.to_string(), x + CELL / 2 - 1, yl + (ROW - 4) / 2, 10))?;
                root.draw(&PathElement::new(
                    vec![(x + 2, yl + (ROW - 4) / 2), (x + CELL - 4, yl + (ROW - 4) / 2)],
                    BLACK.stroke_width(1),
                ))?;
            }
        }
        // LEO mark: after the last offset the replica holds, when it is in the window.
        if let Some(leo_k) = mark_column(cols, r.leo) {
            let x = LEFT + leo_k * CELL - 1;
            root.draw(&PathElement::new(vec![(x, y - 3), (x, y + ROW + 3)], BLUE.stroke_width(2)))?;
            root.draw(&text(&format!("LEO {}", r.leo), x + 3, y - 4, 9, &BLUE))?;
        }
    }
    // HW of the final leader, across every row.
    if let Some(hw_k) = mark_column(cols, h.hw) {
        let x = LEFT + hw_k * CELL - 1;
        let bottom = TOP + brokers.len() as i32 * (2 * ROW + 12) - 8;
        root.draw(&PathElement::new(vec![(x, TOP - 6), (x, bottom)], BLACK.stroke_width(1)))?;
        root.draw(&text(&format!("HW {}", h.hw), x + 3, bottom + 6, 10, &BLACK))?;
    }
    // Legend.
    let ly = isr_top - 24;
    for (i, (c, name)) in [
        (green, "committed"),
        (yellow, "uncommitted"),
        (orange, "differs from the final leader"),
        (red, "lost (truncated or not synced)"),
    ]
    .iter()
    .enumerate()
    {
        let x = LEFT + i as i32 * 150;
        root.draw(&Rectangle::new([(x, ly - 6), (x + 12, ly + 6)], c.filled()))?;
        root.draw(&text(name, x + 16, ly, 10, &BLACK))?;
    }
    // ISR membership and leadership over time.
    let span = h.end_us.max(1) as f64;
    let tx = |t: u64| LEFT + ((t as f64 / span) * f64::from(width - LEFT - 20)) as i32;
    root.draw(&text("ISR over time (dark: leader)", 8, isr_top - 8, 11, &BLACK))?;
    for (row, (b, _)) in brokers.iter().enumerate() {
        let y = isr_top + row as i32 * (ROW - 4);
        root.draw(&text(&format!("broker {b}"), 8, y + (ROW - 6) / 2, 10, &BLACK))?;
        let mut changes: Vec<(u64, bool, bool)> = Vec::new();
        let (mut isr, mut leader) = (Vec::new(), -1);
        let mut points: BTreeSet<u64> = h.isr.iter().map(|c| c.0).collect();
        points.extend(h.leaders.iter().map(|c| c.0));
        for t in points {
            if let Some((_, i)) = h.isr.iter().rev().find(|c| c.0 <= t) {
                isr = i.clone();
            }
            if let Some((_, l)) = h.leaders.iter().rev().find(|c| c.0 <= t) {
                leader = *l;
            }
            changes.push((t, isr.contains(b), leader == **b));
        }
        for (i, (t, in_isr, leads)) in changes.iter().enumerate() {
            let end = changes.get(i + 1).map_or(h.end_us, |c| c.0);
            if *in_isr {
                let c = if *leads { RGBColor(0x2e, 0x7d, 0x32) } else { green };
                root.draw(&Rectangle::new(
                    [(tx(*t), y), (tx(end).max(tx(*t) + 1), y + ROW - 6)],
                    c.filled(),
                ))?;
            }
        }
    }
    let axis_y = isr_top + brokers.len() as i32 * (ROW - 4) + 6;
    for s in 0..=((h.end_us / 10_000_000) as i32) {
        let x = tx(s as u64 * 10_000_000);
        root.draw(&PathElement::new(vec![(x, axis_y), (x, axis_y + 4)], grey.stroke_width(1)))?;
        root.draw(&centered(format!("{}s", s * 10), x, axis_y + 12, 9))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse_jsonl;

    fn ev(t: u64, host: &str, kind: &str, rest: &str) -> String {
        format!("{{\"t_us\":{t},\"host\":\"{host}\",\"proc\":\"Kafka\",\"kind\":\"{kind}\",\"id\":{t}{rest}}}\n")
    }

    #[test]
    fn a_truncated_record_is_lost_and_the_new_leader_diverges() {
        let tp = ",\"topic\":\"t\",\"partition\":0";
        let mut s = String::new();
        s += &ev(1, "master", kind::KAFKA_REGISTERED, ",\"broker\":0");
        s += &ev(2, "slave1", kind::KAFKA_REGISTERED, ",\"broker\":1");
        s += &ev(3, "master", kind::KAFKA_BECOME_LEADER, &format!("{tp},\"leo\":0,\"isr\":[0,1]"));
        s += &ev(4, "master", kind::KAFKA_APPEND, &format!("{tp},\"first\":0,\"crcs\":[10,11,12]"));
        s += &ev(5, "slave1", kind::KAFKA_REPLICATE, &format!("{tp},\"first\":0,\"crcs\":[10,11]"));
        s += &ev(6, "master", kind::KAFKA_HW, &format!("{tp},\"from\":0,\"to\":2"));
        s += &ev(7, "slave1", kind::KAFKA_BECOME_LEADER, &format!("{tp},\"leo\":2,\"isr\":[1]"));
        s += &ev(8, "slave1", kind::KAFKA_APPEND, &format!("{tp},\"first\":2,\"crcs\":[99]"));
        s += &ev(9, "master", kind::KAFKA_TRUNCATE, &format!("{tp},\"to\":2"));
        let h = PartitionHistory::from_events(&parse_jsonl(&s).expect("trace"), "t", 0)
            .expect("history");
        assert_eq!(h.final_leader, Some(1));
        assert_eq!(h.replicas[&0].lost, vec![(2, 12, 9)]);
        assert_eq!(h.replicas[&1].records.get(&2), Some(&99));
        assert_eq!(h.lost_offsets().into_iter().collect::<Vec<_>>(), vec![2]);
        let svg = render_svg(&h, &[(0, 4)]).expect("svg");
        assert!(svg.contains("broker 0 (master)") && svg.contains("LEO 3"), "{svg}");
        assert_eq!(render_svg(&h, &[(0, 4)]).expect("svg"), svg, "deterministic");
        assert!(render_svg(&h, &[(3, 3)]).is_err());
        assert!(render_svg(&h, &[]).is_err());
        assert_eq!(
            h.divergent_offsets().into_iter().collect::<Vec<_>>(),
            Vec::<i64>::new(),
            "master's 12 is lost, not divergent"
        );
        assert_eq!(h.default_windows(), vec![(0, 3)]);
        let two = render_svg(&h, &[(0, 1), (2, 3)]).expect("svg");
        assert!(two.contains("⋯"), "a gap column between windows");
        assert!(PartitionHistory::from_events(&[], "t", 0).is_err());
    }
}
