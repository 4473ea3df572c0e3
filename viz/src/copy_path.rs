//! The copy-path diagram of zero-copy: where the bytes of a fetch response travel on the broker
//! host — disk, page cache, user buffer, socket buffer, NIC — along `sendfile` and along
//! `read+write`, each hop labelled with who moves the bytes (a DMA engine or the CPU) and how
//! many bytes it moved per byte sent, next to a bar chart of the throughputs measured.
//!
//! Unlike the other pictures this one is not drawn from a trace but from a benchmark run's
//! hardware counters (`sim::hw::CpuCounters` of the broker host, filled in by `lab plot
//! copy-path` from `sim::bench::zerocopy`): copies, system calls and context switches are what
//! the cost model counted while the simulated broker served the fetches, not numbers from a
//! textbook.

use crate::event::VizError;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The broker host's counters for one send path over one measured run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PathCounters {
    /// `sendfile` or `read+write`.
    pub path: String,
    /// Payload bytes sent to consumers.
    pub bytes: u64,
    /// Bytes copied by the CPU.
    pub cpu_copied: u64,
    /// Bytes the disk loaded into the page cache (DMA).
    pub disk_dma: u64,
    /// Bytes moved by DMA in all (disk and NIC).
    pub dma: u64,
    /// System calls.
    pub syscalls: u64,
    /// User/kernel mode switches (two per system call).
    pub mode_switches: u64,
    /// Thread context switches (blocking on the disk).
    pub context_switches: u64,
    /// CPU time, ns.
    pub busy_ns: u64,
    /// Throughput of the run, MB/s.
    pub mb_per_sec: f64,
}

impl PathCounters {
    fn per_byte(&self, n: u64) -> f64 {
        n as f64 / self.bytes.max(1) as f64
    }
    /// Copies of every byte sent by the CPU (rounded).
    pub fn cpu_copies(&self) -> u64 {
        self.per_byte(self.cpu_copied).round() as u64
    }
    /// Copies of every byte sent by DMA engines (rounded): disk → page cache and → NIC.
    pub fn dma_copies(&self) -> u64 {
        self.per_byte(self.dma).round() as u64
    }
    /// Per MiB sent.
    fn per_mib(&self, n: u64) -> f64 {
        n as f64 * 1_048_576.0 / self.bytes.max(1) as f64
    }
}

/// One bar: a regime and a path.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bar {
    /// `cpu-bound`, `network-bound`, `disk-bound`.
    pub regime: String,
    /// `sendfile` or `read+write`.
    pub path: String,
    /// MB/s.
    pub mb_per_sec: f64,
    /// What limited it (`cpu`, `nic`, `disk`).
    pub bottleneck: String,
}

/// What the diagram shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CopyPath {
    /// Hardware profile name.
    pub profile: String,
    /// The run the hops' counters come from (e.g. `disk-bound, 4 consumers, 1000-byte messages`).
    pub counted_run: String,
    /// Counters for sendfile and read+write.
    pub paths: Vec<PathCounters>,
    /// Throughputs.
    pub bars: Vec<Bar>,
}

const PATH_COLOURS: [RGBColor; 2] = [RGBColor(0x2e, 0x7d, 0x32), RGBColor(0xc6, 0x28, 0x28)];

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

/// Draws the diagram and the bar chart as SVG text.
pub fn render_svg(c: &CopyPath) -> Result<String, VizError> {
    if c.paths.is_empty() {
        return Err(VizError::Nothing("no send path measured".into()));
    }
    let mut svg = String::new();
    {
        let width = 40 + c.paths.len() as u32 * 330 + 420;
        let root = SVGBackend::with_string(&mut svg, (width, 640)).into_drawing_area();
        draw(&root, c).map_err(|e| VizError::Draw(e.to_string()))?;
        root.present().map_err(|e| VizError::Draw(e.to_string()))?;
    }
    Ok(svg)
}

fn draw(root: &Area<'_>, c: &CopyPath) -> DrawResult {
    root.fill(&WHITE)?;
    let grey = RGBColor(0x88, 0x88, 0x88);
    let dma_c = RGBColor(0x15, 0x65, 0xc0);
    let cpu_c = RGBColor(0xd8, 0x43, 0x15);
    root.draw(&text(
        format!("Fetch response copy paths on the broker host ({} profile)", c.profile),
        (10, 16),
        14,
        &BLACK,
        HPos::Left,
    ))?;
    root.draw(&text(
        format!(
            "hop labels: bytes moved per byte sent, counted by the hardware model in the {} run",
            c.counted_run
        ),
        (10, 34),
        10,
        &grey,
        HPos::Left,
    ))?;
    // Boxes: (label, y, kernel?).
    let stages = [
        ("disk", 80),
        ("page cache (kernel)", 180),
        ("user buffer (JVM)", 280),
        ("socket buffer (kernel)", 380),
        ("NIC", 480),
    ];
    for (k, p) in c.paths.iter().enumerate() {
        let x0 = 30 + k as i32 * 330;
        let cx = x0 + 80;
        let zero_copy = p.cpu_copies() == 0;
        root.draw(&text(p.path.clone(), (x0, 58), 14, &PATH_COLOURS[k % 2], HPos::Left))?;
        for (label, y) in stages {
            let skipped = zero_copy && label.starts_with("user buffer");
            let fill =
                if skipped { RGBColor(0xf4, 0xf4, 0xf4) } else { RGBColor(0xe3, 0xf2, 0xfd) };
            root.draw(&Rectangle::new([(x0, y), (x0 + 160, y + 40)], fill.filled()))?;
            root.draw(&Rectangle::new(
                [(x0, y), (x0 + 160, y + 40)],
                if skipped { grey } else { BLACK }.stroke_width(1),
            ))?;
            let l = if skipped { format!("{label}: not touched") } else { label.to_string() };
            root.draw(&text(
                l,
                (cx, y + 20),
                10,
                if skipped { &grey } else { &BLACK },
                HPos::Center,
            ))?;
        }
        let arrow = |from: i32, to: i32, x: i32, col: &RGBColor, label: String| -> DrawResult {
            root.draw(&PathElement::new(vec![(x, from), (x, to)], col.stroke_width(2)))?;
            root.draw(&Polygon::new(
                vec![(x - 5, to - 8), (x + 5, to - 8), (x, to)],
                col.filled(),
            ))?;
            root.draw(&text(label, (x + 8, (from + to) / 2), 9, col, HPos::Left))?;
            Ok(())
        };
        let nic_dma = p.dma.saturating_sub(p.disk_dma);
        arrow(120, 180, cx, &dma_c, format!("DMA ×{:.2}", p.per_byte(p.disk_dma)))?;
        if zero_copy {
            // sendfile: page references to the socket, the NIC gathers from the page cache.
            root.draw(&PathElement::new(
                vec![(x0 + 160, 200), (x0 + 185, 200), (x0 + 185, 480)],
                dma_c.stroke_width(2),
            ))?;
            root.draw(&Polygon::new(
                vec![(x0 + 180, 472), (x0 + 190, 472), (x0 + 185, 480)],
                dma_c.filled(),
            ))?;
            root.draw(&text(
                format!("DMA gather ×{:.2}", p.per_byte(nic_dma)),
                (x0 + 190, 430),
                9,
                &dma_c,
                HPos::Left,
            ))?;
            root.draw(&text("(page references only", (x0 + 190, 390), 9, &grey, HPos::Left))?;
            root.draw(&text("through the socket)", (x0 + 190, 402), 9, &grey, HPos::Left))?;
        } else {
            let half = p.per_byte(p.cpu_copied) / 2.0;
            arrow(220, 280, cx, &cpu_c, format!("CPU copy ×{half:.2} (read)"))?;
            arrow(320, 380, cx, &cpu_c, format!("CPU copy ×{half:.2} (write)"))?;
            arrow(420, 480, cx, &dma_c, format!("DMA ×{:.2}", p.per_byte(nic_dma)))?;
        }
        let lines = [
            format!(
                "copies: {} ({} DMA, {} CPU)",
                p.dma_copies() + p.cpu_copies(),
                p.dma_copies(),
                p.cpu_copies()
            ),
            format!(
                "per MiB sent: {:.1} syscalls, {:.1} mode switches,",
                p.per_mib(p.syscalls),
                p.per_mib(p.mode_switches)
            ),
            format!("  {:.2} thread context switches", p.per_mib(p.context_switches)),
            format!(
                "CPU: {:.2} ns per byte; {:.1} MB/s in this run",
                p.busy_ns as f64 / p.bytes.max(1) as f64,
                p.mb_per_sec
            ),
        ];
        for (i, l) in lines.iter().enumerate() {
            root.draw(&text(l.clone(), (x0, 545 + i as i32 * 16), 10, &BLACK, HPos::Left))?;
        }
    }
    // Bar chart.
    let bx = 40 + c.paths.len() as i32 * 330;
    let (top, bottom) = (80, 520);
    let max = c.bars.iter().map(|b| b.mb_per_sec).fold(1.0_f64, f64::max);
    let nice = {
        let mag = 10f64.powf(max.log10().floor());
        [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|v| *v >= max).unwrap_or(10.0 * mag)
    };
    let ty = |v: f64| bottom - ((v / nice) * f64::from(bottom - top)) as i32;
    root.draw(&text(
        "measured throughput, MB/s (consumers' payload)",
        (bx, 58),
        12,
        &BLACK,
        HPos::Left,
    ))?;
    root.draw(&PathElement::new(
        vec![(bx + 40, top), (bx + 40, bottom), (bx + 400, bottom)],
        BLACK.stroke_width(1),
    ))?;
    for k in 0..=4 {
        let v = nice * f64::from(k) / 4.0;
        root.draw(&text(format!("{v:.0}"), (bx + 36, ty(v)), 9, &BLACK, HPos::Right))?;
        root.draw(&PathElement::new(
            vec![(bx + 40, ty(v)), (bx + 400, ty(v))],
            RGBColor(0xee, 0xee, 0xee).stroke_width(1),
        ))?;
    }
    let mut regimes: Vec<&str> = Vec::new();
    for b in &c.bars {
        if !regimes.contains(&b.regime.as_str()) {
            regimes.push(&b.regime);
        }
    }
    let group_w = 360 / regimes.len().max(1) as i32;
    for (gi, r) in regimes.iter().enumerate() {
        let gx = bx + 40 + gi as i32 * group_w;
        let bars: Vec<&Bar> = c.bars.iter().filter(|b| b.regime == *r).collect();
        let w = (group_w - 20) / bars.len().max(1) as i32;
        for (i, b) in bars.iter().enumerate() {
            let k = c.paths.iter().position(|p| p.path == b.path).unwrap_or(i);
            let x = gx + 10 + i as i32 * w;
            root.draw(&Rectangle::new(
                [(x, ty(b.mb_per_sec)), (x + w - 4, bottom)],
                PATH_COLOURS[k % 2].filled(),
            ))?;
            root.draw(&text(
                format!("{:.0}", b.mb_per_sec),
                (x + (w - 4) / 2, ty(b.mb_per_sec) - 8),
                9,
                &BLACK,
                HPos::Center,
            ))?;
            root.draw(&text(
                b.bottleneck.clone(),
                (x + (w - 4) / 2, bottom - 8),
                8,
                &WHITE,
                HPos::Center,
            ))?;
        }
        root.draw(&text(r.to_string(), (gx + group_w / 2, bottom + 12), 10, &BLACK, HPos::Center))?;
    }
    for (k, p) in c.paths.iter().enumerate() {
        let y = bottom + 32 + k as i32 * 16;
        root.draw(&Rectangle::new(
            [(bx + 40, y - 5), (bx + 52, y + 5)],
            PATH_COLOURS[k % 2].filled(),
        ))?;
        root.draw(&text(p.path.clone(), (bx + 58, y), 10, &BLACK, HPos::Left))?;
    }
    root.draw(&text(
        "label in a bar: the busiest resource",
        (bx + 160, bottom + 32),
        9,
        &grey,
        HPos::Left,
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_come_from_the_counters() {
        let mb = 1 << 20;
        let zc = PathCounters {
            path: "sendfile".into(),
            bytes: mb,
            cpu_copied: 64,
            disk_dma: mb,
            dma: 2 * mb + 64,
            syscalls: 12,
            mode_switches: 24,
            ..Default::default()
        };
        let rw = PathCounters {
            path: "read+write".into(),
            bytes: mb,
            cpu_copied: 2 * mb + 64,
            disk_dma: mb,
            dma: 2 * mb + 64,
            syscalls: 23,
            mode_switches: 46,
            ..Default::default()
        };
        assert_eq!(
            (zc.cpu_copies(), zc.dma_copies(), rw.cpu_copies(), rw.dma_copies()),
            (0, 2, 2, 2)
        );
        let c = CopyPath {
            profile: "p".into(),
            counted_run: "disk-bound".into(),
            paths: vec![zc, rw],
            bars: vec![Bar {
                regime: "cpu-bound".into(),
                path: "sendfile".into(),
                mb_per_sec: 900.0,
                bottleneck: "cpu".into(),
            }],
        };
        let svg = render_svg(&c).expect("svg");
        for needle in [
            "copies: 2 (2 DMA, 0 CPU)",
            "copies: 4 (2 DMA, 2 CPU)",
            "user buffer (JVM): not touched",
            "24.0 mode switches",
            "46.0 mode switches",
            "cpu-bound",
        ] {
            assert!(svg.contains(needle), "{needle}");
        }
        assert_eq!(render_svg(&c).expect("svg"), svg);
        assert!(render_svg(&CopyPath::default()).is_err());
    }
}
