//! The ZooKeeper view: elections, zxids, sessions and ephemerals, from the ensemble's own events.
//!
//! Three stacked parts:
//!
//! - **Elections**: each burst of FastLeaderElection activity (`fle.start`, `fle.vote`,
//!   `fle.settled`, split where the ensemble was quiet for a second) gets its own zoomed time
//!   axis: one lane per server, every notification it received a dot coloured by the leader the
//!   vote proposes (the proposed sid written in it), and where it settled, `LEADING` or
//!   `FOLLOWING` with the election round (the logical clock).
//! - **zxid progression**: per server, the zxid of every transaction it applied (`zk.apply`)
//!   over the run, as steps; the y axis ranks the zxids the ensemble used, so a server that was
//!   down or partitioned shows as a flat stretch and a new epoch as a jump in the high 32 bits.
//! - **Sessions and ephemerals per client**: each client process (a broker, zkCli, a consumer)
//!   with its sessions, from the server's `zk.session.connected` (matched to the client by the
//!   ConnectResponse the server sent just before it, and whose receive names the client) until `closeSession` or expiry, and under them the ephemeral
//!   znodes each session owned (`zk.apply` with `ephemeral`) until deleted or the session ended.

use crate::event::{Event, VizError};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use sim_core::trace::kind;
use std::collections::{BTreeMap, BTreeSet};

/// One vote a server received.
#[derive(Debug, Clone, PartialEq)]
pub struct VoteSeen {
    /// When, µs.
    pub t_us: u64,
    /// Who sent it (sid).
    pub from: i64,
    /// The leader it proposes.
    pub leader: i64,
    /// Its election round.
    pub round: i64,
}

/// One burst of election activity.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Election {
    /// First and last event, µs.
    pub from_us: u64,
    /// Last event, µs.
    pub to_us: u64,
    /// Per server (host): rounds started (µs, round).
    pub starts: BTreeMap<String, Vec<(u64, i64)>>,
    /// Per server (host): votes received.
    pub votes: BTreeMap<String, Vec<VoteSeen>>,
    /// Per server (host): where it settled (µs, leader, round, state).
    pub settled: BTreeMap<String, (u64, i64, i64, String)>,
}

impl Election {
    /// The leader most servers settled on, with its round.
    pub fn leader(&self) -> Option<(i64, i64)> {
        self.settled.values().find(|s| s.3 == "LEADING").map(|s| (s.1, s.2))
    }
}

/// A session as a client saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// `0x…` id.
    pub id: String,
    /// Connected (first time), µs.
    pub from_us: u64,
    /// Closed or expired, µs (end of trace if neither).
    pub to_us: u64,
    /// `closed`, `expired` or `open`.
    pub end: String,
    /// Ephemerals it owned: (path, from µs, to µs).
    pub ephemerals: Vec<(String, u64, u64)>,
}

/// Everything the view draws.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ZkHistory {
    /// Server host → myid.
    pub servers: BTreeMap<String, i64>,
    /// Election bursts in time order.
    pub elections: Vec<Election>,
    /// Per server host: (µs, zxid) of every applied transaction.
    pub zxids: BTreeMap<String, Vec<(u64, i64)>>,
    /// Epochs a leader established (`zab.established`): (µs, epoch, leader sid).
    pub epochs: Vec<(u64, i64, i64)>,
    /// Client (host, process) → sessions.
    pub clients: BTreeMap<(String, String), Vec<Session>>,
    /// End of the trace, µs.
    pub end_us: u64,
}

fn parse_zxid(s: &str) -> Option<i64> {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).ok().map(|v| v as i64)
}

/// Quiet time that separates two elections.
const BURST_GAP_US: u64 = 1_000_000;

impl ZkHistory {
    /// Reads the ensemble's history from the events.
    pub fn from_events(events: &[Event]) -> Result<Self, VizError> {
        let mut h = ZkHistory::default();
        let mut cur: Option<Election> = None;
        // Server (host, proc) → its last ConnectResponse send: the server sends it and traces
        // `zk.session.connected` right after, with nothing in between.
        let mut last_response: BTreeMap<(String, String), u64> = BTreeMap::new();
        // Send id of a ConnectResponse → session.
        let mut response_of: BTreeMap<u64, String> = BTreeMap::new();
        let mut owner: BTreeMap<String, (String, String)> = BTreeMap::new();
        let mut sessions: BTreeMap<String, Session> = BTreeMap::new();
        let mut applied: BTreeSet<i64> = BTreeSet::new();
        // Live ephemerals: path → (session, since).
        let mut live: BTreeMap<String, (String, u64)> = BTreeMap::new();
        for e in events {
            h.end_us = h.end_us.max(e.t_us);
            match e.kind.as_str() {
                kind::ZK_LOADED => {
                    if let Some(id) = e.i64("myid") {
                        h.servers.insert(e.host.clone(), id);
                    }
                }
                kind::FLE_START | kind::FLE_VOTE | kind::FLE_SETTLED => {
                    if cur.as_ref().is_some_and(|c| e.t_us > c.to_us + BURST_GAP_US) {
                        h.elections.extend(cur.take());
                    }
                    let c = cur
                        .get_or_insert_with(|| Election { from_us: e.t_us, ..Default::default() });
                    c.to_us = e.t_us;
                    let round = e.i64("round").unwrap_or(0);
                    match e.kind.as_str() {
                        kind::FLE_START => {
                            c.starts.entry(e.host.clone()).or_default().push((e.t_us, round))
                        }
                        kind::FLE_VOTE => {
                            c.votes.entry(e.host.clone()).or_default().push(VoteSeen {
                                t_us: e.t_us,
                                from: e.i64("from").unwrap_or(-1),
                                leader: e.i64("leader").unwrap_or(-1),
                                round,
                            })
                        }
                        _ => {
                            c.settled.insert(
                                e.host.clone(),
                                (
                                    e.t_us,
                                    e.i64("leader").unwrap_or(-1),
                                    round,
                                    e.str("state").unwrap_or("").to_string(),
                                ),
                            );
                        }
                    }
                }
                kind::ZAB_ESTABLISHED => h.epochs.push((
                    e.t_us,
                    e.i64("epoch").unwrap_or(0),
                    e.i64("leader").unwrap_or(-1),
                )),
                kind::ZK_APPLY => {
                    let Some(z) = e.str("zxid").and_then(parse_zxid) else { continue };
                    h.zxids.entry(e.host.clone()).or_default().push((e.t_us, z));
                    // Sessions and ephemerals follow the first server to apply each transaction.
                    if !applied.insert(z) || e.i64("err").unwrap_or(0) != 0 {
                        continue;
                    }
                    let session = e.str("session").unwrap_or("").to_string();
                    let path = e.str("path").map(str::to_string);
                    match e.str("op") {
                        Some("create")
                            if e.fields.get("ephemeral").and_then(|v| v.as_bool())
                                == Some(true) =>
                        {
                            if let Some(p) = path {
                                live.insert(p, (session, e.t_us));
                            }
                        }
                        Some("delete") => {
                            if let Some((s, since)) = path.as_ref().and_then(|p| live.remove(p)) {
                                if let Some(x) = sessions.get_mut(&s) {
                                    x.ephemerals.push((path.unwrap_or_default(), since, e.t_us));
                                }
                            }
                        }
                        Some("closeSession") => {
                            end_session(&mut sessions, &mut live, &session, e.t_us, "closed");
                        }
                        _ => {}
                    }
                }
                kind::ZK_SESSION_EXPIRE => {
                    let s = e.str("session").unwrap_or("").to_string();
                    if sessions.get(&s).is_some_and(|x| x.end == "open") {
                        sessions.entry(s).and_modify(|x| x.end = "expired".into());
                    }
                }
                kind::ZK_SESSION_CONNECTED => {
                    let s = e.str("session").unwrap_or("").to_string();
                    if let Some(send) = last_response.remove(&(e.host.clone(), e.proc_name.clone()))
                    {
                        response_of.insert(send, s.clone());
                    }
                    sessions.entry(s.clone()).or_insert(Session {
                        id: s,
                        from_us: e.t_us,
                        to_us: 0,
                        end: "open".into(),
                        ephemerals: Vec::new(),
                    });
                }
                kind::NET_SEND if e.str("msg") == Some("zk.connected") => {
                    last_response.insert((e.host.clone(), e.proc_name.clone()), e.id);
                }
                kind::NET_RECV if e.str("msg") == Some("zk.connected") => {
                    if let Some(s) = e.cause.and_then(|c| response_of.remove(&c)) {
                        owner.entry(s).or_insert((e.host.clone(), e.proc_name.clone()));
                    }
                }
                _ => {}
            }
        }
        h.elections.extend(cur.take());
        let end = h.end_us;
        for (path, (s, since)) in live {
            if let Some(x) = sessions.get_mut(&s) {
                x.ephemerals.push((path, since, end));
            }
        }
        for (id, mut s) in sessions {
            if s.to_us == 0 {
                s.to_us = end;
            }
            s.ephemerals.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
            let Some(who) = owner.get(&id) else { continue };
            h.clients.entry(who.clone()).or_default().push(s);
        }
        for v in h.clients.values_mut() {
            v.sort_by(|a, b| (a.from_us, &a.id).cmp(&(b.from_us, &b.id)));
        }
        if h.servers.is_empty() && h.elections.is_empty() {
            return Err(VizError::Nothing("no ZooKeeper server in the trace".into()));
        }
        Ok(h)
    }
}

fn end_session(
    sessions: &mut BTreeMap<String, Session>,
    live: &mut BTreeMap<String, (String, u64)>,
    s: &str,
    t: u64,
    how: &str,
) {
    let gone: Vec<String> =
        live.iter().filter(|(_, (o, _))| o == s).map(|(p, _)| p.clone()).collect();
    let x = sessions.get_mut(s);
    let mut eph = Vec::new();
    for p in gone {
        if let Some((_, since)) = live.remove(&p) {
            eph.push((p, since, t));
        }
    }
    if let Some(x) = x {
        x.ephemerals.extend(eph);
        x.to_us = t;
        if x.end == "open" {
            x.end = how.into();
        }
    }
}

const WIDTH: i32 = 1100;
const LEFT: i32 = 190;
const LANE: i32 = 22;
/// Elections drawn at most; later ones are counted in a note.
const MAX_ELECTIONS: usize = 4;
/// Ephemerals listed per session at most.
const MAX_EPHEMERALS: usize = 6;

const PALETTE: &[RGBColor] = &[
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
];

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

fn secs(t: u64) -> String {
    format!("{:.3} s", t as f64 / 1e6)
}

/// Draws the view as SVG text.
pub fn render_svg(h: &ZkHistory) -> Result<String, VizError> {
    let hosts: Vec<&String> = h.servers.keys().collect();
    let shown = h.elections.len().min(MAX_ELECTIONS) as i32;
    let elections_h = shown * (hosts.len() as i32 * LANE + 50) + 40;
    let zxid_h = 260;
    let client_rows: i32 = h
        .clients
        .values()
        .flat_map(|ss| ss.iter().map(|s| 1 + s.ephemerals.len().min(MAX_EPHEMERALS + 1) as i32))
        .sum();
    let height =
        40 + elections_h + zxid_h + 60 + client_rows * 16 + h.clients.len() as i32 * 8 + 40;
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH as u32, height as u32)).into_drawing_area();
        draw(&root, h, &hosts, elections_h, zxid_h).map_err(|e| VizError::Draw(e.to_string()))?;
        root.present().map_err(|e| VizError::Draw(e.to_string()))?;
    }
    Ok(svg)
}

fn draw(
    root: &Area<'_>,
    h: &ZkHistory,
    hosts: &[&String],
    elections_h: i32,
    zxid_h: i32,
) -> DrawResult {
    root.fill(&WHITE)?;
    let right = WIDTH - 30;
    let grey = RGBColor(0x99, 0x99, 0x99);
    let sid_colour = |sid: i64| PALETTE[(sid.max(0) as usize) % PALETTE.len()];
    let name = |host: &str| match h.servers.get(host) {
        Some(id) => format!("{host} (myid {id})"),
        None => host.to_string(),
    };
    root.draw(&text(
        "ZooKeeper: elections, zxids, sessions and ephemerals",
        (10, 16),
        14,
        &BLACK,
        HPos::Left,
    ))?;

    // Elections.
    let mut y = 44;
    for el in h.elections.iter().take(MAX_ELECTIONS) {
        let span = (el.to_us - el.from_us).max(1_000);
        let (a, b) = (el.from_us.saturating_sub(span / 20), el.to_us + span / 20);
        let tx = |t: u64| {
            LEFT + ((t.saturating_sub(a)) as f64 / (b - a) as f64 * f64::from(right - LEFT - 150))
                as i32
        };
        let votes: usize = el.votes.values().map(Vec::len).sum();
        let title = match el.leader() {
            Some((l, r)) => format!("election at {}: server {l} leads (round {r}), {votes} votes received, {:.1} ms", secs(el.from_us), (el.to_us - el.from_us) as f64 / 1e3),
            None => match el.settled.iter().next() {
                // A server that restarts alone hears the others' votes and follows their leader.
                Some((host, (_, l, r, _))) => format!("election at {}: {} rejoins and follows {l} (round {r}), {votes} votes received", secs(el.from_us), name(host)),
                None => format!("election at {}: no server settled, {votes} votes received", secs(el.from_us)),
            },
        };
        root.draw(&text(title, (10, y), 12, &BLACK, HPos::Left))?;
        y += 14;
        for (i, host) in hosts.iter().enumerate() {
            let ly = y + i as i32 * LANE + LANE / 2;
            root.draw(&text(name(host), (LEFT - 8, ly), 10, &BLACK, HPos::Right))?;
            root.draw(&PathElement::new(
                vec![(LEFT, ly), (right - 150, ly)],
                RGBColor(0xdd, 0xdd, 0xdd).stroke_width(1),
            ))?;
            for (t, r) in el.starts.get(*host).into_iter().flatten() {
                root.draw(&PathElement::new(
                    vec![(tx(*t), ly - 8), (tx(*t), ly + 8)],
                    BLACK.stroke_width(1),
                ))?;
                root.draw(&text(format!("r{r}"), (tx(*t) + 2, ly - 7), 8, &BLACK, HPos::Left))?;
            }
            for v in el.votes.get(*host).into_iter().flatten() {
                let c = sid_colour(v.leader);
                root.draw(&Circle::new((tx(v.t_us), ly), 5, c.filled()))?;
                root.draw(&text(v.leader.to_string(), (tx(v.t_us), ly), 7, &WHITE, HPos::Center))?;
            }
            if let Some((t, l, r, state)) = el.settled.get(*host) {
                let c = if state == "LEADING" { RGBColor(0x1b, 0x5e, 0x20) } else { BLACK };
                root.draw(&Rectangle::new(
                    [(tx(*t) - 3, ly - 6), (tx(*t) + 3, ly + 6)],
                    c.filled(),
                ))?;
                let label = if state == "LEADING" {
                    format!("LEADING (round {r})")
                } else {
                    format!("{state} {l} (round {r})")
                };
                root.draw(&text(label, (tx(*t) + 6, ly), 9, &c, HPos::Left))?;
            }
        }
        y += hosts.len() as i32 * LANE;
        root.draw(&text(
            format!("+{:.1} ms", (b - a) as f64 / 1e3),
            (right - 150, y + 4),
            8,
            &grey,
            HPos::Right,
        ))?;
        root.draw(&text(secs(a), (LEFT, y + 4), 8, &grey, HPos::Left))?;
        y += 22;
    }
    if h.elections.len() > MAX_ELECTIONS {
        root.draw(&text(
            format!("… and {} later elections", h.elections.len() - MAX_ELECTIONS),
            (10, y),
            10,
            &BLACK,
            HPos::Left,
        ))?;
    } else if h.elections.is_empty() {
        root.draw(&text("no election in the trace", (10, y), 10, &BLACK, HPos::Left))?;
    }
    root.draw(&text("dot: a vote received, coloured by (and labelled with) the sid it proposes; rN: the server starts round N", (10, 44 + elections_h - 18), 9, &grey, HPos::Left))?;

    // zxid progression.
    let top = 44 + elections_h + 10;
    root.draw(&text(
        "zxid of the last transaction each server applied",
        (10, top),
        12,
        &BLACK,
        HPos::Left,
    ))?;
    let all: BTreeSet<i64> = h.zxids.values().flatten().map(|x| x.1).collect();
    let rank: BTreeMap<i64, usize> = all.iter().enumerate().map(|(i, z)| (*z, i)).collect();
    let (y0, y1) = (top + 20, top + zxid_h - 30);
    let span = h.end_us.max(1) as f64;
    let tx = |t: u64| LEFT + ((t as f64 / span) * f64::from(right - LEFT - 150)) as i32;
    let n = all.len().max(2) - 1;
    let ty = |z: i64| {
        y1 - (rank.get(&z).copied().unwrap_or(0) as f64 / n as f64 * f64::from(y1 - y0)) as i32
    };
    root.draw(&PathElement::new(
        vec![(LEFT, y0), (LEFT, y1), (right - 150, y1)],
        BLACK.stroke_width(1),
    ))?;
    // Y ticks: the first zxid of every epoch and the last one.
    let mut ticks: Vec<i64> = Vec::new();
    for z in &all {
        if ticks.last().is_none_or(|l| l >> 32 != z >> 32) {
            ticks.push(*z);
        }
    }
    ticks.extend(all.last());
    let mut last_y = i32::MAX;
    for z in ticks {
        if (last_y - ty(z)).abs() < 10 {
            continue;
        }
        last_y = ty(z);
        root.draw(&text(format!("0x{z:x}"), (LEFT - 6, ty(z)), 9, &BLACK, HPos::Right))?;
        root.draw(&PathElement::new(
            vec![(LEFT, ty(z)), (right - 150, ty(z))],
            RGBColor(0xee, 0xee, 0xee).stroke_width(1),
        ))?;
    }
    for (i, host) in hosts.iter().enumerate() {
        let c = PALETTE[i % PALETTE.len()];
        let Some(pts) = h.zxids.get(*host) else { continue };
        let mut line: Vec<(i32, i32)> = Vec::new();
        for (t, z) in pts {
            if let Some(&(_, py)) = line.last() {
                line.push((tx(*t), py));
            }
            line.push((tx(*t), ty(*z)));
        }
        line.dedup();
        // Servers usually agree, so their lines lie on each other: earlier ones are drawn wider.
        let w = 2 + 3 * (hosts.len() - 1 - i) as u32;
        root.draw(&PathElement::new(line, c.stroke_width(w)))?;
        let last = pts.last().map_or(0, |p| p.1);
        root.draw(&text(
            format!("{} 0x{last:x}", name(host)),
            (right - 140, y0 + 10 + i as i32 * 14),
            10,
            &c,
            HPos::Left,
        ))?;
    }
    let step = if h.end_us > 60_000_000 { 10 } else { 5 };
    for s in (0..=(h.end_us / 1_000_000)).step_by(step) {
        root.draw(&text(format!("{s}s"), (tx(s * 1_000_000), y1 + 10), 9, &BLACK, HPos::Center))?;
    }
    // Each epoch a leader established, even one in which nothing was written.
    for (t, epoch, leader) in &h.epochs {
        let x = tx(*t);
        root.draw(&PathElement::new(
            vec![(x, y0), (x, y1)],
            RGBColor(0x6a, 0x1b, 0x9a).stroke_width(1),
        ))?;
        root.draw(&text(
            format!("epoch {epoch}, leader {leader}"),
            (x + 3, y0 + 4),
            9,
            &RGBColor(0x6a, 0x1b, 0x9a),
            HPos::Left,
        ))?;
    }

    // Sessions and ephemerals.
    let mut y = top + zxid_h + 10;
    root.draw(&text("sessions per client (bar: connected until closed or expired) and the ephemeral znodes they owned", (10, y), 12, &BLACK, HPos::Left))?;
    y += 22;
    if h.clients.is_empty() {
        root.draw(&text("no client session in the trace", (10, y), 10, &BLACK, HPos::Left))?;
    }
    for ((host, proc_name), ss) in &h.clients {
        root.draw(&text(format!("{proc_name} on {host}"), (LEFT - 8, y), 10, &BLACK, HPos::Right))?;
        for s in ss {
            let c = match s.end.as_str() {
                "expired" => RGBColor(0xd6, 0x27, 0x28),
                "closed" => grey,
                _ => RGBColor(0x1f, 0x77, 0xb4),
            };
            root.draw(&Rectangle::new(
                [(tx(s.from_us), y - 5), (tx(s.to_us).max(tx(s.from_us) + 1), y + 5)],
                c.filled(),
            ))?;
            root.draw(&text(
                format!("session {} ({})", s.id, s.end),
                (tx(s.to_us).max(tx(s.from_us)) + 4, y),
                9,
                &c,
                HPos::Left,
            ))?;
            y += 16;
            for (path, a, b) in s.ephemerals.iter().take(MAX_EPHEMERALS) {
                root.draw(&Rectangle::new(
                    [(tx(*a), y - 3), (tx(*b).max(tx(*a) + 1), y + 3)],
                    RGBColor(0x2c, 0xa0, 0x2c).filled(),
                ))?;
                root.draw(&text(
                    format!("ephemeral {path}"),
                    (tx(*b).max(tx(*a)) + 4, y),
                    9,
                    &RGBColor(0x1b, 0x5e, 0x20),
                    HPos::Left,
                ))?;
                y += 16;
            }
            if s.ephemerals.len() > MAX_EPHEMERALS {
                root.draw(&text(
                    format!("… {} more ephemerals", s.ephemerals.len() - MAX_EPHEMERALS),
                    (LEFT, y),
                    9,
                    &BLACK,
                    HPos::Left,
                ))?;
                y += 16;
            }
        }
        y += 8;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse_jsonl;

    fn ev(t: u64, id: u64, host: &str, proc_name: &str, kind: &str, rest: &str) -> String {
        format!("{{\"t_us\":{t},\"host\":\"{host}\",\"proc\":\"{proc_name}\",\"kind\":\"{kind}\",\"id\":{id}{rest}}}\n")
    }

    #[test]
    fn elections_zxids_sessions_and_ephemerals() {
        let q = "QuorumPeerMain";
        let mut s = String::new();
        s += &ev(1, 1, "m", q, kind::ZK_LOADED, ",\"myid\":1");
        s += &ev(2, 2, "s", q, kind::ZK_LOADED, ",\"myid\":2");
        s += &ev(10, 3, "m", q, kind::FLE_START, ",\"round\":1");
        s += &ev(11, 4, "s", q, kind::FLE_START, ",\"round\":1");
        s += &ev(
            20,
            5,
            "m",
            q,
            kind::FLE_VOTE,
            ",\"from\":2,\"leader\":2,\"round\":1,\"state\":\"LOOKING\"",
        );
        s += &ev(
            30,
            6,
            "s",
            q,
            kind::FLE_SETTLED,
            ",\"leader\":2,\"round\":1,\"state\":\"LEADING\"",
        );
        s += &ev(
            31,
            7,
            "m",
            q,
            kind::FLE_SETTLED,
            ",\"leader\":2,\"round\":1,\"state\":\"FOLLOWING\"",
        );
        s += &ev(99, 9, "s", q, kind::NET_SEND, ",\"msg\":\"zk.connected\"");
        s += &ev(100, 8, "s", q, kind::ZK_SESSION_CONNECTED, ",\"session\":\"0x5\"");
        s += &ev(102, 10, "m", "Kafka", kind::NET_RECV, ",\"cause\":9,\"msg\":\"zk.connected\"");
        s += &ev(200, 11, "s", q, kind::ZK_APPLY, ",\"zxid\":\"0x100000001\",\"op\":\"create\",\"session\":\"0x5\",\"err\":0,\"path\":\"/brokers/ids/0\",\"ephemeral\":true");
        s += &ev(201, 12, "m", q, kind::ZK_APPLY, ",\"zxid\":\"0x100000001\",\"op\":\"create\",\"session\":\"0x5\",\"err\":0,\"path\":\"/brokers/ids/0\",\"ephemeral\":true");
        s += &ev(300, 13, "s", q, kind::ZK_APPLY, ",\"zxid\":\"0x100000002\",\"op\":\"create\",\"session\":\"0x5\",\"err\":0,\"path\":\"/config\"");
        s += &ev(5_000_000, 14, "s", q, kind::ZK_SESSION_EXPIRE, ",\"session\":\"0x5\"");
        s += &ev(
            5_000_001,
            15,
            "s",
            q,
            kind::ZK_APPLY,
            ",\"zxid\":\"0x100000003\",\"op\":\"closeSession\",\"session\":\"0x5\",\"err\":0",
        );
        s += &ev(
            6_000_000,
            16,
            "m",
            q,
            kind::ZK_APPLY,
            ",\"zxid\":\"0x100000003\",\"op\":\"closeSession\",\"session\":\"0x5\",\"err\":0",
        );
        let h = ZkHistory::from_events(&parse_jsonl(&s).expect("trace")).expect("history");
        assert_eq!(h.elections.len(), 1);
        assert_eq!(h.elections[0].leader(), Some((2, 1)));
        assert_eq!(h.zxids["s"].len(), 3);
        assert_eq!(h.zxids["m"].last(), Some(&(6_000_000, 0x1_0000_0003)));
        let ss = &h.clients[&("m".to_string(), "Kafka".to_string())];
        assert_eq!(
            (ss[0].id.as_str(), ss[0].end.as_str(), ss[0].to_us),
            ("0x5", "expired", 5_000_001)
        );
        assert_eq!(
            ss[0].ephemerals,
            [("/brokers/ids/0".to_string(), 200, 5_000_001)],
            "/config is persistent"
        );
        let svg = render_svg(&h).expect("svg");
        for needle in [
            "LEADING (round 1)",
            "FOLLOWING 2 (round 1)",
            "ephemeral /brokers/ids/0",
            "session 0x5 (expired)",
            "Kafka on m",
            "0x100000003",
        ] {
            assert!(svg.contains(needle), "{needle}");
        }
        assert_eq!(render_svg(&h).expect("svg"), svg);
        assert!(
            ZkHistory::from_events(&parse_jsonl(&ev(1, 1, "m", "K", "x", "")).expect("t")).is_err()
        );
    }
}
