//! The consumer group view: who owned which partition when, and how fast each member received.
//!
//! Two pictures, both from the consumers' and the coordinators' own trace events:
//!
//! - **Ownership**: for every group, one row per partition over time, coloured by the member
//!   that owned it. A member owns a partition from its `kafka.group.assigned` until its
//!   `kafka.group.revoked`, its `kafka.group.leave`, or the death of its process (`proc.kill`,
//!   `proc.halt`, `proc.exit`, a `host.crash` of its host) — a killed consumer sends no
//!   LeaveGroup, so its partitions simply stall. Each new generation the coordinator starts
//!   (`kafka.group.generation`) is a dashed line labelled `gen N`, and the time the group spent
//!   rebalancing (`kafka.group.state` PreparingRebalance until Stable) is shaded: the white gaps in
//!   the rows are the partitions nobody consumed.
//! - **Rate**: records received per member per second (`kafka.client.processed`), side by side:
//!   the members of groups that share the partitions (a queue: each gets part) and the
//!   single-member groups (a broadcast: each gets everything). A queue group's total is drawn
//!   dashed, so its sum can be compared with a broadcast group's line.

use crate::event::{Event, VizError};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use sim_core::trace::kind;
use std::collections::{BTreeMap, BTreeSet};

/// One stretch of ownership.
#[derive(Debug, Clone, PartialEq)]
pub struct Ownership {
    /// `topic-partition`.
    pub partition: String,
    /// Member id.
    pub member: String,
    /// Generation of the assignment.
    pub generation: i64,
    /// From, µs.
    pub from_us: u64,
    /// Until, µs (the end of the trace if still owned).
    pub to_us: u64,
    /// Why it ended: `revoked`, `leave`, `proc.kill`, …, or `end`.
    pub ended_by: String,
}

/// A member of a group and the process it ran in.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Member {
    /// Host of the consumer process.
    pub host: String,
    /// Process name (the scenario's consumer name).
    pub proc_name: String,
}

/// One group's history.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Group {
    /// Members in order of their first assignment (their colour).
    pub members: Vec<(String, Member)>,
    /// Partitions ever assigned, sorted by topic then partition number.
    pub partitions: Vec<String>,
    /// Ownership stretches in time order of their start.
    pub owned: Vec<Ownership>,
    /// Generations the coordinator started: (µs, generation, leader member).
    pub generations: Vec<(u64, i64, String)>,
    /// Rebalances: (from µs, to µs) from PreparingRebalance to Stable (or Dead).
    pub rebalances: Vec<(u64, u64)>,
    /// When the coordinator declared the group Dead (every member gone; 0.9 then forgets it, and
    /// the next member to join starts again at generation 1).
    pub deaths: Vec<u64>,
    /// Records processed: (µs, member).
    pub processed: Vec<(u64, String)>,
}

/// Every group in a trace.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupsHistory {
    /// Groups by id.
    pub groups: BTreeMap<String, Group>,
    /// End of the trace, µs.
    pub end_us: u64,
}

/// Sort key of `topic-partition`: topic, then the partition as a number.
fn tp_key(tp: &str) -> (String, i64) {
    match tp.rsplit_once('-') {
        Some((t, p)) => (t.to_string(), p.parse().unwrap_or(i64::MAX)),
        None => (tp.to_string(), i64::MAX),
    }
}

impl GroupsHistory {
    /// Reads the groups' history from the events.
    pub fn from_events(events: &[Event]) -> Result<Self, VizError> {
        let mut h = GroupsHistory::default();
        // Open ownerships: (group, partition) → index into that group's `owned`.
        let mut open: BTreeMap<(String, String), usize> = BTreeMap::new();
        // Rebalance start per group.
        let mut preparing: BTreeMap<String, u64> = BTreeMap::new();
        let mut partitions: BTreeMap<String, BTreeSet<(String, i64, String)>> = BTreeMap::new();
        fn close(
            h: &mut GroupsHistory,
            open: &mut BTreeMap<(String, String), usize>,
            group: &str,
            pred: &dyn Fn(&Ownership) -> bool,
            t: u64,
            why: &str,
        ) {
            let Some(g) = h.groups.get_mut(group) else { return };
            let keys: Vec<(String, String)> = open
                .iter()
                .filter(|((gr, _), i)| gr == group && pred(&g.owned[**i]))
                .map(|(k, _)| k.clone())
                .collect();
            for k in keys {
                if let Some(i) = open.remove(&k) {
                    g.owned[i].to_us = t;
                    g.owned[i].ended_by = why.to_string();
                }
            }
        }
        for e in events {
            h.end_us = h.end_us.max(e.t_us);
            let group = e.str("group").unwrap_or("").to_string();
            match e.kind.as_str() {
                kind::KAFKA_GROUP_ASSIGNED => {
                    let member = e.str("member").unwrap_or("").to_string();
                    let generation = e.i64("generation").unwrap_or(-1);
                    let g = h.groups.entry(group.clone()).or_default();
                    if !g.members.iter().any(|(m, _)| *m == member) {
                        g.members.push((
                            member.clone(),
                            Member { host: e.host.clone(), proc_name: e.proc_name.clone() },
                        ));
                    }
                    let tps: Vec<String> = e
                        .fields
                        .get("partitions")
                        .and_then(|v| v.as_array())
                        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                        .unwrap_or_default();
                    // A member assigned again without a revoke (same partitions kept) closes its old stretches.
                    close(
                        &mut h,
                        &mut open,
                        &group,
                        &|o: &Ownership| o.member == member,
                        e.t_us,
                        "reassigned",
                    );
                    let g = h.groups.entry(group.clone()).or_default();
                    for tp in tps {
                        // Whoever still holds it in the trace's eyes loses it now.
                        if let Some(i) = open.remove(&(group.clone(), tp.clone())) {
                            g.owned[i].to_us = e.t_us;
                            g.owned[i].ended_by = "taken".into();
                        }
                        let (t, p) = tp_key(&tp);
                        partitions.entry(group.clone()).or_default().insert((t, p, tp.clone()));
                        open.insert((group.clone(), tp.clone()), g.owned.len());
                        g.owned.push(Ownership {
                            partition: tp,
                            member: member.clone(),
                            generation,
                            from_us: e.t_us,
                            to_us: e.t_us,
                            ended_by: "end".into(),
                        });
                    }
                }
                kind::KAFKA_GROUP_REVOKED | kind::KAFKA_GROUP_LEAVE => {
                    let member = e.str("member").unwrap_or("").to_string();
                    let why = if e.kind.ends_with("revoked") { "revoked" } else { "leave" };
                    close(
                        &mut h,
                        &mut open,
                        &group,
                        &|o: &Ownership| o.member == member,
                        e.t_us,
                        why,
                    );
                }
                kind::KAFKA_GROUP_GENERATION => {
                    let g = h.groups.entry(group.clone()).or_default();
                    let gen = e.i64("generation").unwrap_or(-1);
                    let leader = e.str("leader").unwrap_or("");
                    // A reloaded coordinator may repeat a generation; keep the first.
                    if !g.generations.iter().any(|x| x.1 == gen && x.2 == leader) {
                        g.generations.push((
                            e.t_us,
                            gen,
                            e.str("leader").unwrap_or("").to_string(),
                        ));
                    }
                }
                kind::KAFKA_GROUP_STATE => match e.str("to") {
                    Some("PreparingRebalance") => {
                        preparing.entry(group.clone()).or_insert(e.t_us);
                    }
                    Some(to @ ("Stable" | "Dead")) => {
                        let g = h.groups.entry(group.clone()).or_default();
                        if let Some(from) = preparing.remove(&group) {
                            g.rebalances.push((from, e.t_us));
                        }
                        if to == "Dead" {
                            g.deaths.push(e.t_us);
                        }
                    }
                    _ => {}
                },
                kind::KAFKA_CLIENT_PROCESSED if !group.is_empty() => {
                    let member = e.str("member").unwrap_or("").to_string();
                    h.groups.entry(group.clone()).or_default().processed.push((e.t_us, member));
                }
                kind::PROC_KILL | kind::PROC_HALT | kind::PROC_EXIT | kind::HOST_CRASH => {
                    let host = if e.kind == kind::HOST_CRASH {
                        e.str("host").unwrap_or("").to_string()
                    } else {
                        e.host.clone()
                    };
                    let whole_host = e.kind == kind::HOST_CRASH;
                    let names: Vec<(String, String)> = h
                        .groups
                        .iter()
                        .flat_map(|(gid, g)| {
                            g.members
                                .iter()
                                .filter(|(_, m)| {
                                    m.host == host && (whole_host || m.proc_name == e.proc_name)
                                })
                                .map(|(mid, _)| (gid.clone(), mid.clone()))
                                .collect::<Vec<_>>()
                        })
                        .collect();
                    for (gid, mid) in names {
                        close(
                            &mut h,
                            &mut open,
                            &gid,
                            &|o: &Ownership| o.member == mid,
                            e.t_us,
                            &e.kind,
                        );
                    }
                }
                _ => {}
            }
        }
        let end = h.end_us;
        for (gid, start) in preparing {
            h.groups.entry(gid).or_default().rebalances.push((start, end));
        }
        for ((gid, _), i) in open {
            if let Some(g) = h.groups.get_mut(&gid) {
                g.owned[i].to_us = end;
            }
        }
        for (gid, set) in partitions {
            if let Some(g) = h.groups.get_mut(&gid) {
                g.partitions = set.into_iter().map(|(_, _, tp)| tp).collect();
            }
        }
        // Groups the coordinator knew but no member ever got partitions in are not drawn.
        h.groups.retain(|_, g| !g.owned.is_empty() || !g.processed.is_empty());
        if h.groups.is_empty() {
            return Err(VizError::Nothing(
                "no consumer group in the trace (no kafka.group.assigned events)".into(),
            ));
        }
        Ok(h)
    }

    /// Records processed per member per whole second: member → counts, one per second of the run.
    pub fn rate_per_second(&self, group: &str) -> BTreeMap<String, Vec<u64>> {
        let secs = (self.end_us / 1_000_000 + 1) as usize;
        let mut out: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        if let Some(g) = self.groups.get(group) {
            for (m, _) in &g.members {
                out.insert(m.clone(), vec![0; secs]);
            }
            for (t, m) in &g.processed {
                let v = out.entry(m.clone()).or_insert_with(|| vec![0; secs]);
                v[(*t / 1_000_000) as usize] += 1;
            }
        }
        out
    }
}

/// Member colours, in order of first assignment within a group.
const PALETTE: &[RGBColor] = &[
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x17, 0xbe, 0xcf),
    RGBColor(0xbc, 0xbd, 0x22),
];

/// A member's colour: that of its process (the consumer's name and host), in order of first
/// assignment within the group, so a process that rejoins under a new member id keeps its colour.
fn colour(g: &Group, member: &str) -> RGBColor {
    let mut procs: Vec<(&str, &str)> = Vec::new();
    for (_, m) in &g.members {
        if !procs.contains(&(m.host.as_str(), m.proc_name.as_str())) {
            procs.push((m.host.as_str(), m.proc_name.as_str()));
        }
    }
    let k = g
        .members
        .iter()
        .find(|(id, _)| id == member)
        .and_then(|(_, m)| procs.iter().position(|p| *p == (m.host.as_str(), m.proc_name.as_str())))
        .unwrap_or(0);
    PALETTE[k % PALETTE.len()]
}

const LEFT: i32 = 170;
const ROW: i32 = 18;
const WIDTH: i32 = 1100;

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;
type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn text(
    s: impl Into<String>,
    (x, y): (i32, i32),
    size: i32,
    c: &RGBColor,
    h: HPos,
) -> Text<'static, (i32, i32), String> {
    Text::new(
        s.into(),
        (x, y),
        ("sans-serif", size).into_font().color(c).pos(Pos::new(h, VPos::Center)),
    )
}

/// Draws the ownership chart as SVG text.
pub fn render_ownership_svg(h: &GroupsHistory) -> Result<String, VizError> {
    let rows: i32 =
        h.groups.values().map(|g| g.partitions.len() as i32 + 4 + g.members.len() as i32).sum();
    let height = 60 + rows * ROW + 40;
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH as u32, height as u32)).into_drawing_area();
        draw_ownership(&root, h).map_err(|e| VizError::Draw(e.to_string()))?;
        root.present().map_err(|e| VizError::Draw(e.to_string()))?;
    }
    Ok(svg)
}

fn draw_ownership(root: &Area<'_>, h: &GroupsHistory) -> DrawResult {
    let span = h.end_us.max(1) as f64;
    let right = WIDTH - 30;
    let tx = |t: u64| LEFT + ((t as f64 / span) * f64::from(right - LEFT)) as i32;
    let grey = RGBColor(0x90, 0x90, 0x90);
    let shade = RGBColor(0xee, 0xee, 0xee);
    root.fill(&WHITE)?;
    root.draw(&text(
        "Consumer groups: partitions over time, coloured by owning member (white: nobody consumes)",
        (10, 16),
        14,
        &BLACK,
        HPos::Left,
    ))?;
    let mut y = 34;
    for (gid, g) in &h.groups {
        y += 2 * ROW / 2;
        let top = y;
        let bottom = top + 14 + g.partitions.len() as i32 * ROW;
        root.draw(&text(format!("group {gid}"), (10, y), 13, &BLACK, HPos::Left))?;
        // Rebalances, shaded behind the rows.
        for (a, b) in &g.rebalances {
            root.draw(&Rectangle::new(
                [(tx(*a), top + 8), (tx(*b).max(tx(*a) + 1), bottom)],
                shade.filled(),
            ))?;
        }
        for (i, tp) in g.partitions.iter().enumerate() {
            let ry = top + 10 + i as i32 * ROW;
            root.draw(&text(tp.clone(), (LEFT - 8, ry + ROW / 2), 11, &BLACK, HPos::Right))?;
            root.draw(&PathElement::new(
                vec![(LEFT, ry + ROW - 1), (right, ry + ROW - 1)],
                RGBColor(0xdd, 0xdd, 0xdd).stroke_width(1),
            ))?;
            for o in g.owned.iter().filter(|o| o.partition == *tp) {
                let c = colour(g, &o.member);
                let (x0, x1) = (tx(o.from_us), tx(o.to_us).max(tx(o.from_us) + 1));
                root.draw(&Rectangle::new([(x0, ry + 2), (x1, ry + ROW - 3)], c.filled()))?;
                // A thin white edge where a stretch starts, so a new member id of the same
                // process (a rejoin) shows.
                root.draw(&PathElement::new(
                    vec![(x0, ry + 2), (x0, ry + ROW - 3)],
                    WHITE.stroke_width(1),
                ))?;
            }
        }
        let mut marks: Vec<(u64, String, RGBColor)> =
            g.generations.iter().map(|(t, gen, _)| (*t, format!("gen {gen}"), BLACK)).collect();
        marks.extend(g.deaths.iter().map(|t| (*t, "Dead".to_string(), RGBColor(0xc6, 0x28, 0x28))));
        marks.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let mut last_label: Option<i32> = None;
        let mut lift = 0;
        for (t, label, c) in &marks {
            let x = tx(*t);
            let mut yy = top + 8;
            while yy < bottom {
                root.draw(&PathElement::new(
                    vec![(x, yy), (x, (yy + 4).min(bottom))],
                    c.stroke_width(1),
                ))?;
                yy += 7;
            }
            // Labels closer than 40 px step down a line so they stay readable.
            lift = if last_label.is_some_and(|l| x - l < 40) { (lift + 1) % 3 } else { 0 };
            last_label = Some(x);
            root.draw(&text(label.clone(), (x + 2, top + 2 - 10 * lift), 9, c, HPos::Left))?;
        }
        y = bottom + 8;
        for (mid, m) in &g.members {
            let c = colour(g, mid);
            root.draw(&Rectangle::new([(LEFT, y - 5), (LEFT + 12, y + 5)], c.filled()))?;
            root.draw(&text(
                format!("{mid} ({} on {})", m.proc_name, m.host),
                (LEFT + 18, y),
                10,
                &BLACK,
                HPos::Left,
            ))?;
            y += ROW;
        }
        y += ROW;
    }
    // Time axis.
    let step = if h.end_us > 60_000_000 { 10 } else { 5 };
    for s in (0..=(h.end_us / 1_000_000)).step_by(step) {
        let x = tx(s * 1_000_000);
        root.draw(&PathElement::new(vec![(x, y - 10), (x, y - 6)], grey.stroke_width(1)))?;
        root.draw(&text(format!("{s}s"), (x, y + 2), 9, &BLACK, HPos::Center))?;
    }
    root.draw(&Rectangle::new([(LEFT, y + 16), (LEFT + 12, y + 26)], shade.filled()))?;
    root.draw(&text("rebalancing (PreparingRebalance until Stable)   - - - gen N: a new generation starts   - - - Dead (red): the coordinator dropped every member; a member keeps its partitions until it hears so", (LEFT + 18, y + 21), 10, &BLACK, HPos::Left))?;
    Ok(())
}

/// Draws the rate chart as SVG text: queue groups' members on the left, single-member groups on
/// the right, records per second over time.
pub fn render_rate_svg(h: &GroupsHistory) -> Result<String, VizError> {
    // A queue: more than one consumer process shares the group (one process that rejoined under
    // a new member id is still one consumer).
    let procs = |g: &Group| {
        g.members
            .iter()
            .map(|(_, m)| (m.host.as_str(), m.proc_name.as_str()))
            .collect::<BTreeSet<_>>()
            .len()
    };
    let queue: Vec<&String> =
        h.groups.iter().filter(|(_, g)| procs(g) > 1).map(|(k, _)| k).collect();
    let broadcast: Vec<&String> =
        h.groups.iter().filter(|(_, g)| procs(g) <= 1).map(|(k, _)| k).collect();
    let secs = (h.end_us / 1_000_000 + 1) as usize;
    // Lines: (panel, label, colour index, dashed, counts).
    let mut lines: Vec<(usize, String, usize, bool, Vec<u64>)> = Vec::new();
    for gid in &queue {
        let rates = h.rate_per_second(gid);
        let mut total = vec![0u64; secs];
        // One line per consumer process (its member ids over the run added up).
        let g = &h.groups[*gid];
        let mut per_proc: Vec<(String, usize, Vec<u64>)> = Vec::new();
        for (mid, m) in &g.members {
            let v = rates.get(mid).cloned().unwrap_or_else(|| vec![0; secs]);
            for (t, n) in total.iter_mut().zip(&v) {
                *t += n;
            }
            let k = PALETTE.iter().position(|c| *c == colour(g, mid)).unwrap_or(0);
            match per_proc.iter_mut().find(|p| p.1 == k) {
                Some(p) => p.2.iter_mut().zip(&v).for_each(|(a, b)| *a += b),
                None => per_proc.push((format!("{} on {}", m.proc_name, m.host), k, v)),
            }
        }
        for (name, k, v) in per_proc {
            lines.push((0, format!("group {gid}: {name}"), k, false, v));
        }
        lines.push((0, format!("group {gid}: total"), 7, true, total));
    }
    for (k, gid) in broadcast.iter().enumerate() {
        let mut total = vec![0u64; secs];
        for v in h.rate_per_second(gid).values() {
            for (t, n) in total.iter_mut().zip(v) {
                *t += n;
            }
        }
        let who = h.groups[*gid]
            .members
            .first()
            .map(|(_, m)| format!("{} on {}", m.proc_name, m.host))
            .unwrap_or_default();
        lines.push((1, format!("group {gid}: {who}"), k + 2, false, total));
    }
    let ymax = lines.iter().flat_map(|l| l.4.iter().copied()).max().unwrap_or(1).max(1);
    let panels = [
        (
            0,
            format!(
                "queue: members of group {} share the partitions",
                queue.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ),
        ),
        (
            1,
            format!(
                "broadcast: group {} each receive every record",
                broadcast.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ),
        ),
    ];
    let panels: Vec<_> =
        panels.into_iter().filter(|(p, _)| lines.iter().any(|l| l.0 == *p)).collect();
    if panels.is_empty() {
        return Err(VizError::Nothing("no records processed by any group member".into()));
    }
    let (pw, ph) = (560, 380);
    let legend =
        panels.iter().map(|(p, _)| lines.iter().filter(|l| l.0 == *p).count()).max().unwrap_or(0)
            as i32
            * 13;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(
            &mut svg,
            ((pw * panels.len() as i32 + 20) as u32, (ph + 20 + legend) as u32),
        )
        .into_drawing_area();
        draw_rates(&root, &panels, &lines, ymax, secs, (pw, ph))
            .map_err(|e| VizError::Draw(e.to_string()))?;
        root.present().map_err(|e| VizError::Draw(e.to_string()))?;
    }
    Ok(svg)
}

fn draw_rates(
    root: &Area<'_>,
    panels: &[(usize, String)],
    lines: &[(usize, String, usize, bool, Vec<u64>)],
    ymax: u64,
    secs: usize,
    (pw, ph): (i32, i32),
) -> DrawResult {
    root.fill(&WHITE)?;
    root.draw(&text(
        "Records received per member per second (kafka.client.processed)",
        (10, 14),
        14,
        &BLACK,
        HPos::Left,
    ))?;
    let ymax = ymax.div_ceil(10) * 10;
    for (n, (panel, title)) in panels.iter().enumerate() {
        let x0 = 10 + n as i32 * pw + 50;
        let (x1, y0, y1) = (x0 + pw - 80, 60, ph - 40);
        let tx = |s: usize| x0 + ((s as f64 / secs.max(1) as f64) * f64::from(x1 - x0)) as i32;
        let ty = |v: u64| y1 - ((v as f64 / ymax as f64) * f64::from(y1 - y0)) as i32;
        root.draw(&text(title.clone(), (x0, 38), 12, &BLACK, HPos::Left))?;
        root.draw(&PathElement::new(vec![(x0, y0), (x0, y1), (x1, y1)], BLACK.stroke_width(1)))?;
        for k in 0..=5 {
            let v = ymax * k / 5;
            root.draw(&PathElement::new(
                vec![(x0, ty(v)), (x1, ty(v))],
                RGBColor(0xee, 0xee, 0xee).stroke_width(1),
            ))?;
            root.draw(&text(v.to_string(), (x0 - 4, ty(v)), 9, &BLACK, HPos::Right))?;
        }
        for s in (0..secs).step_by(10) {
            root.draw(&text(format!("{s}s"), (tx(s), y1 + 10), 9, &BLACK, HPos::Center))?;
        }
        root.draw(&text("records/s", (x0 - 44, y0 - 12), 9, &BLACK, HPos::Left))?;
        let mut ly = y1 + 26;
        for (_, label, c, dashed, v) in lines.iter().filter(|l| l.0 == *panel) {
            let color = PALETTE[*c % PALETTE.len()];
            let pts: Vec<(i32, i32)> = v.iter().enumerate().map(|(s, n)| (tx(s), ty(*n))).collect();
            if *dashed {
                for w in pts.windows(2).step_by(2) {
                    root.draw(&PathElement::new(w.to_vec(), BLACK.stroke_width(1)))?;
                }
            } else {
                root.draw(&PathElement::new(pts, color.stroke_width(2)))?;
            }
            let lc = if *dashed { BLACK } else { color };
            root.draw(&PathElement::new(vec![(x0, ly), (x0 + 16, ly)], lc.stroke_width(2)))?;
            root.draw(&text(label.clone(), (x0 + 20, ly), 10, &BLACK, HPos::Left))?;
            ly += 13;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse_jsonl;

    fn ev(t: u64, host: &str, proc_name: &str, kind: &str, rest: &str) -> String {
        format!("{{\"t_us\":{t},\"host\":\"{host}\",\"proc\":\"{proc_name}\",\"kind\":\"{kind}\",\"id\":{t}{rest}}}\n")
    }

    #[test]
    fn ownership_ends_at_revoke_and_at_a_kill_and_rates_add_up() {
        let mut s = String::new();
        s += &ev(
            1,
            "master",
            "Kafka",
            kind::KAFKA_GROUP_GENERATION,
            ",\"group\":\"A\",\"generation\":1,\"leader\":\"a1-x\"",
        );
        s += &ev(2, "c1", "A1", kind::KAFKA_GROUP_ASSIGNED, ",\"group\":\"A\",\"member\":\"a1-x\",\"generation\":1,\"partitions\":[\"t-0\",\"t-1\"]");
        s += &ev(3, "c2", "A2", kind::KAFKA_GROUP_ASSIGNED, ",\"group\":\"A\",\"member\":\"a2-y\",\"generation\":1,\"partitions\":[\"t-10\",\"t-2\"]");
        s += &ev(
            1_500_000,
            "c1",
            "A1",
            kind::KAFKA_CLIENT_PROCESSED,
            ",\"group\":\"A\",\"member\":\"a1-x\"",
        );
        s += &ev(
            1_600_000,
            "c2",
            "A2",
            kind::KAFKA_CLIENT_PROCESSED,
            ",\"group\":\"A\",\"member\":\"a2-y\"",
        );
        s += &ev(2_000_000, "c1", "A1", kind::PROC_KILL, ",\"pid\":7");
        s += &ev(
            5_000_000,
            "master",
            "Kafka",
            kind::KAFKA_GROUP_STATE,
            ",\"group\":\"A\",\"from\":\"Stable\",\"to\":\"PreparingRebalance\",\"generation\":1",
        );
        s += &ev(5_100_000, "c2", "A2", kind::KAFKA_GROUP_REVOKED, ",\"group\":\"A\",\"member\":\"a2-y\",\"generation\":1,\"partitions\":[\"t-10\",\"t-2\"]");
        s += &ev(
            5_200_000,
            "master",
            "Kafka",
            kind::KAFKA_GROUP_GENERATION,
            ",\"group\":\"A\",\"generation\":2,\"leader\":\"a2-y\"",
        );
        s += &ev(
            5_300_000,
            "master",
            "Kafka",
            kind::KAFKA_GROUP_STATE,
            ",\"group\":\"A\",\"from\":\"AwaitingSync\",\"to\":\"Stable\",\"generation\":2",
        );
        s += &ev(5_400_000, "c2", "A2", kind::KAFKA_GROUP_ASSIGNED, ",\"group\":\"A\",\"member\":\"a2-y\",\"generation\":2,\"partitions\":[\"t-0\",\"t-1\",\"t-10\",\"t-2\"]");
        s += &ev(
            9_000_000,
            "c2",
            "A2",
            kind::KAFKA_CLIENT_PROCESSED,
            ",\"group\":\"A\",\"member\":\"a2-y\"",
        );
        let h = GroupsHistory::from_events(&parse_jsonl(&s).expect("trace")).expect("groups");
        let g = &h.groups["A"];
        assert_eq!(g.partitions, ["t-0", "t-1", "t-2", "t-10"], "numeric partition order");
        let a1: Vec<_> = g
            .owned
            .iter()
            .filter(|o| o.member == "a1-x")
            .map(|o| (o.to_us, o.ended_by.as_str()))
            .collect();
        assert_eq!(a1, [(2_000_000, kind::PROC_KILL), (2_000_000, kind::PROC_KILL)]);
        assert!(g.owned.iter().any(|o| o.member == "a2-y"
            && o.generation == 1
            && o.to_us == 5_100_000
            && o.ended_by == "revoked"));
        assert_eq!(g.owned.iter().filter(|o| o.generation == 2 && o.to_us == 9_000_000).count(), 4);
        assert_eq!(g.rebalances, [(5_000_000, 5_300_000)]);
        assert_eq!(g.generations.iter().map(|x| x.1).collect::<Vec<_>>(), [1, 2]);
        let r = h.rate_per_second("A");
        assert_eq!((r["a1-x"][1], r["a2-y"][1], r["a2-y"][9]), (1, 1, 1));
        let svg = render_ownership_svg(&h).expect("svg");
        for needle in ["a1-x (A1 on c1)", "gen 2", "t-10", "group A"] {
            assert!(svg.contains(needle), "{needle}");
        }
        assert_eq!(render_ownership_svg(&h).expect("svg"), svg);
        let rate = render_rate_svg(&h).expect("svg");
        assert!(
            rate.contains("group A: total") && !rate.contains("broadcast"),
            "only a queue panel"
        );
        assert!(GroupsHistory::from_events(&parse_jsonl(&ev(1, "m", "K", "x", "")).expect("t"))
            .is_err());
    }
}
