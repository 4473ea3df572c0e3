//! The offset ranges a Spark Streaming application read, batch by batch and partition by
//! partition, from `stream.batch.completed` events: one lane per partition, each batch a bar at
//! its batch time from the range's first offset to its end. A batch whose output the result table
//! refused (already committed before a driver crash) is grey; a batch whose output was written a
//! second time is orange; a driver crash and each restart are vertical marks. Gaps between bars
//! of a lane are records no batch read; overlapping bars are records read twice.

use crate::event::{Event, VizError};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use sim_core::trace::kind;
use std::collections::{BTreeMap, BTreeSet};

/// One batch's range of one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRange {
    /// Batch time, virtual ms.
    pub batch_ms: i64,
    /// Partition.
    pub partition: i64,
    /// First offset.
    pub from: i64,
    /// End offset (exclusive).
    pub until: i64,
    /// `committed`, `already committed` or `nothing to write`.
    pub output: String,
    /// This range's records had been output by an earlier batch.
    pub repeated: bool,
}

/// Batches of a run, from its trace.
#[derive(Debug, Clone, Default)]
pub struct StreamBatches {
    /// Input topic.
    pub topic: String,
    /// Every batch's ranges, in completion order.
    pub ranges: Vec<BatchRange>,
    /// Driver crashes (virtual ms).
    pub crashes: Vec<i64>,
    /// Driver restarts from a checkpoint (virtual ms).
    pub restarts: Vec<i64>,
    /// Batch interval, ms.
    pub interval_ms: i64,
}

impl StreamBatches {
    /// Reads the batches of the stream in `events`.
    pub fn from_events(events: &[Event]) -> Result<StreamBatches, VizError> {
        let start =
            events.iter().find(|e| e.kind == kind::STREAM_CONTEXT_START).ok_or_else(|| {
                VizError::Nothing("no stream in this trace (no stream.context.start)".into())
            })?;
        let mut s = StreamBatches {
            topic: start.str("topic").unwrap_or("").to_string(),
            interval_ms: start.i64("batch_interval_ms").unwrap_or(1000).max(1),
            ..StreamBatches::default()
        };
        let mut output: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
        for e in events {
            match e.kind.as_str() {
                kind::STREAM_DRIVER_CRASH => s.crashes.push((e.t_us / 1000) as i64),
                kind::STREAM_CONTEXT_START
                    if e.fields.get("recovered").and_then(|v| v.as_bool()) == Some(true) =>
                {
                    s.restarts.push((e.t_us / 1000) as i64)
                }
                kind::STREAM_BATCH_COMPLETED => {
                    let out = e.str("output").unwrap_or("").to_string();
                    for r in e.fields.get("ranges").and_then(|v| v.as_array()).into_iter().flatten()
                    {
                        let (Some(p), Some(from), Some(until)) = (
                            r.get(1).and_then(|v| v.as_i64()),
                            r.get(2).and_then(|v| v.as_i64()),
                            r.get(3).and_then(|v| v.as_i64()),
                        ) else {
                            continue;
                        };
                        if until <= from {
                            continue;
                        }
                        let seen = output.entry(p).or_default();
                        let repeated =
                            out == "committed" && (from..until).any(|o| seen.contains(&o));
                        if out == "committed" {
                            seen.extend(from..until);
                        }
                        s.ranges.push(BatchRange {
                            batch_ms: e.i64("batch").unwrap_or(0),
                            partition: p,
                            from,
                            until,
                            output: out.clone(),
                            repeated,
                        });
                    }
                }
                _ => {}
            }
        }
        if s.ranges.is_empty() {
            return Err(VizError::Nothing("the stream completed no batch with records".into()));
        }
        Ok(s)
    }
}

const LEFT: i32 = 90;
const LANE: i32 = 130;
const TOP: i32 = 40;
const WIDTH: i32 = 960;

/// Draws the batches as an SVG.
pub fn render_svg(s: &StreamBatches) -> Result<String, VizError> {
    let partitions: BTreeSet<i64> = s.ranges.iter().map(|r| r.partition).collect();
    let height = TOP + partitions.len() as i32 * (LANE + 20) + 60;
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH as u32, height as u32)).into_drawing_area();
        draw(&root, s, &partitions, height).map_err(|e| VizError::Draw(e.to_string()))?;
        root.present().map_err(|e| VizError::Draw(e.to_string()))?;
    }
    Ok(svg)
}

fn draw(
    root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    s: &StreamBatches,
    partitions: &BTreeSet<i64>,
    height: i32,
) -> Result<(), Box<dyn std::error::Error + 'static>> {
    let text = |t: String, x: i32, y: i32, size: i32, color: &RGBColor, h: HPos| {
        Text::new(
            t,
            (x, y),
            ("sans-serif", size).into_font().color(color).pos(Pos::new(h, VPos::Center)),
        )
    };
    let green = RGBColor(0x4c, 0xaf, 0x50);
    let grey = RGBColor(0xb0, 0xb0, 0xb0);
    let orange = RGBColor(0xf0, 0x90, 0x30);
    let red = RGBColor(0xd0, 0x30, 0x30);
    let blue = RGBColor(0x30, 0x60, 0xd0);
    root.fill(&WHITE)?;
    let t0 = s.ranges.iter().map(|r| r.batch_ms).min().unwrap_or(0) - s.interval_ms;
    let t1 = s.ranges.iter().map(|r| r.batch_ms).max().unwrap_or(0) + s.interval_ms;
    let t0 = t0.min(s.crashes.iter().copied().min().unwrap_or(t0));
    let span = (t1 - t0).max(1) as f64;
    let tx = |ms: i64| LEFT + (((ms - t0) as f64 / span) * f64::from(WIDTH - LEFT - 30)) as i32;
    let bar = ((s.interval_ms as f64 / span) * f64::from(WIDTH - LEFT - 30) * 0.6).max(2.0) as i32;
    root.draw(&text(
        format!(
            "{}: offset ranges per batch and partition (batch interval {} ms)",
            s.topic, s.interval_ms
        ),
        10,
        16,
        14,
        &BLACK,
        HPos::Left,
    ))?;
    for (lane, p) in partitions.iter().enumerate() {
        let top = TOP + lane as i32 * (LANE + 20);
        let bottom = top + LANE;
        let rs: Vec<&BatchRange> = s.ranges.iter().filter(|r| r.partition == *p).collect();
        let max = rs.iter().map(|r| r.until).max().unwrap_or(1).max(1);
        let ty = |o: i64| bottom - ((o as f64 / max as f64) * f64::from(LANE)) as i32;
        root.draw(&text(format!("{}-{p}", s.topic), 8, top + LANE / 2, 12, &BLACK, HPos::Left))?;
        root.draw(&PathElement::new(
            vec![(LEFT - 4, top), (LEFT - 4, bottom), (WIDTH - 20, bottom)],
            BLACK.stroke_width(1),
        ))?;
        root.draw(&text(format!("{max}"), LEFT - 8, top, 9, &BLACK, HPos::Right))?;
        root.draw(&text("0".into(), LEFT - 8, bottom, 9, &BLACK, HPos::Right))?;
        for r in rs {
            let x = tx(r.batch_ms) - bar / 2;
            let c = if r.repeated {
                orange
            } else if r.output == "committed" {
                green
            } else {
                grey
            };
            root.draw(&Rectangle::new(
                [(x, ty(r.until)), (x + bar, ty(r.from).max(ty(r.until) + 1))],
                c.filled(),
            ))?;
        }
    }
    let axis_y = TOP + partitions.len() as i32 * (LANE + 20) - 8;
    let step = ((span / 1000.0 / 10.0).ceil() as i64).max(1) * 1000;
    let mut t = (t0 / step + 1) * step;
    while t < t1 {
        root.draw(&text(format!("{}s", t / 1000), tx(t), axis_y, 9, &BLACK, HPos::Center))?;
        t += step;
    }
    for (ts, c, label) in s
        .crashes
        .iter()
        .map(|t| (*t, red, "driver killed"))
        .chain(s.restarts.iter().map(|t| (*t, blue, "restarted from checkpoint")))
    {
        root.draw(&PathElement::new(
            vec![(tx(ts), TOP - 6), (tx(ts), axis_y - 10)],
            c.stroke_width(2),
        ))?;
        root.draw(&text(label.to_string(), tx(ts) + 3, TOP - 10, 10, &c, HPos::Left))?;
    }
    let ly = height - 24;
    for (i, (c, name)) in [
        (green, "output committed"),
        (grey, "re-run, not applied again"),
        (orange, "output a second time"),
    ]
    .iter()
    .enumerate()
    {
        let x = LEFT + i as i32 * 220;
        root.draw(&Rectangle::new([(x, ly - 6), (x + 12, ly + 6)], c.filled()))?;
        root.draw(&text(name.to_string(), x + 16, ly, 10, &BLACK, HPos::Left))?;
    }
    Ok(())
}
