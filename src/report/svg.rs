//! A small SVG writer for the two figures trialsim draws: a power curve (lines with Monte Carlo
//! bands, a target line and the spec's own point) and a waterfall (how an effect shrinks step by
//! step). Hand-written rather than a plotting crate so the output is byte-stable for snapshots
//! and needs no system fonts: text is left to the viewer's default sans-serif font.

use std::fmt::Write as _;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 440.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 64.0;
const PALETTE: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

/// One line of a [`LineChart`].
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Points `(x, y)`, in drawing order.
    pub points: Vec<(f64, f64)>,
    /// Optional band `(x, low, high)` drawn behind the line (e.g. a 95 % Monte Carlo interval).
    pub band: Vec<(f64, f64, f64)>,
}

/// A chart of one or more lines against a numeric x axis.
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    /// Title above the plot.
    pub title: String,
    /// X-axis label, with its unit.
    pub x_label: String,
    /// Y-axis label, with its unit.
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
    /// Fixed y range; `None` fits the data.
    pub y_range: Option<(f64, f64)>,
    /// A dashed horizontal reference line `(y, label)`, e.g. the 80 % power target.
    pub reference: Option<(f64, String)>,
    /// A marked point `(x, y, label)`, e.g. the spec's own design.
    pub marker: Option<(f64, f64, String)>,
    /// Formats y tick labels as percentages.
    pub y_percent: bool,
}

/// One bar of a [`Waterfall`].
#[derive(Debug, Clone, PartialEq)]
pub struct WaterfallStep {
    /// What this step is (e.g. "Team Zorg 25 %").
    pub label: String,
    /// The running value after this step.
    pub value: f64,
    /// Text printed above the bar (e.g. the power at this step).
    pub note: String,
}

/// A waterfall: the first step is a full bar, every later step a floating bar from the previous
/// value to its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Waterfall {
    /// Title above the plot.
    pub title: String,
    /// Y-axis label, with its unit.
    pub y_label: String,
    /// The steps, in order.
    pub steps: Vec<WaterfallStep>,
    /// Formats values and ticks as percentage points (values are fractions).
    pub percent_points: bool,
}

/// Renders a line chart as a standalone SVG document.
pub fn line_chart(chart: &LineChart) -> String {
    let xs = chart.series.iter().flat_map(|s| {
        s.points
            .iter()
            .map(|p| p.0)
            .chain(s.band.iter().map(|b| b.0))
    });
    let (x_min, x_max) = finite_range(xs.chain(chart.marker.iter().map(|m| m.0)));
    let (y_min, y_max) = chart.y_range.unwrap_or_else(|| {
        let ys = chart.series.iter().flat_map(|s| {
            s.points
                .iter()
                .map(|p| p.1)
                .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
        });
        let refs = chart.reference.iter().map(|r| r.0);
        finite_range(ys.chain(refs))
    });
    let frame = Frame::new(x_min, x_max, y_min, y_max);
    let mut svg = open_document(&chart.title);
    frame.axes(&mut svg, &chart.x_label, &chart.y_label, chart.y_percent);

    for (index, series) in chart.series.iter().enumerate() {
        let colour = PALETTE[index % PALETTE.len()];
        if series.band.len() >= 2 {
            let mut path = String::new();
            for (i, &(x, low, _)) in series.band.iter().enumerate() {
                let _ = write!(
                    path,
                    "{}{:.2},{:.2} ",
                    if i == 0 { "M" } else { "L" },
                    frame.x(x),
                    frame.y(low)
                );
            }
            for &(x, _, high) in series.band.iter().rev() {
                let _ = write!(path, "L{:.2},{:.2} ", frame.x(x), frame.y(high));
            }
            let _ = writeln!(
                svg,
                r#"<path d="{}Z" fill="{colour}" fill-opacity="0.18" stroke="none"/>"#,
                path
            );
        }
        let points: Vec<String> = series
            .points
            .iter()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .map(|&(x, y)| format!("{:.2},{:.2}", frame.x(x), frame.y(y)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            points.join(" ")
        );
        for &(x, y) in series
            .points
            .iter()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
        {
            let _ = writeln!(
                svg,
                r#"<circle cx="{:.2}" cy="{:.2}" r="2.5" fill="{colour}"/>"#,
                frame.x(x),
                frame.y(y)
            );
        }
        let legend_y = TOP + 14.0 + 20.0 * index as f64;
        let legend_x = WIDTH - RIGHT + 16.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{legend_x:.2}" y1="{legend_y:.2}" x2="{:.2}" y2="{legend_y:.2}" stroke="{colour}" stroke-width="2"/>"#,
            legend_x + 22.0
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.2}" y="{:.2}" font-size="12">{}</text>"#,
            legend_x + 28.0,
            legend_y + 4.0,
            escape(&series.name)
        );
    }

    if let Some((y, label)) = &chart.reference {
        let py = frame.y(*y);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT:.2}" y1="{py:.2}" x2="{:.2}" y2="{py:.2}" stroke="#555" stroke-dasharray="6 4"/>"##,
            WIDTH - RIGHT
        );
        let _ = writeln!(
            svg,
            r##"<text x="{:.2}" y="{:.2}" font-size="11" fill="#555">{}</text>"##,
            WIDTH - RIGHT + 6.0,
            py + 4.0,
            escape(label)
        );
    }
    if let Some((x, y, label)) = &chart.marker {
        let (px, py) = (frame.x(*x), frame.y(*y));
        let _ = writeln!(
            svg,
            r##"<circle cx="{px:.2}" cy="{py:.2}" r="6" fill="none" stroke="#000" stroke-width="2"/>"##
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.2}" y="{:.2}" font-size="12">{}</text>"#,
            px + 9.0,
            py - 9.0,
            escape(label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Renders a waterfall as a standalone SVG document.
pub fn waterfall(chart: &Waterfall) -> String {
    let values = chart.steps.iter().map(|s| s.value).chain([0.0]);
    let (low, high) = finite_range(values);
    let x_max = chart.steps.len().max(1) as f64;
    // Headroom above the tallest bar for the two lines of text printed over it.
    let (low, high) = (low.min(0.0), high.max(0.0));
    let frame = Frame::new(0.0, x_max, low, high + 0.15 * (high - low));
    let mut svg = open_document(&chart.title);
    frame.y_axis(&mut svg, &chart.y_label, chart.percent_points);
    let zero = frame.y(0.0);
    let _ = writeln!(
        svg,
        r##"<line x1="{LEFT:.2}" y1="{zero:.2}" x2="{:.2}" y2="{zero:.2}" stroke="#000"/>"##,
        WIDTH - RIGHT
    );
    let slot = (WIDTH - LEFT - RIGHT) / x_max;
    let mut previous = 0.0;
    for (index, step) in chart.steps.iter().enumerate() {
        let (from, to) = if index == 0 {
            (0.0, step.value)
        } else {
            (previous, step.value)
        };
        let last = index + 1 == chart.steps.len();
        let (from, to) = if last { (0.0, step.value) } else { (from, to) };
        let colour = if index == 0 || last {
            "#1f77b4"
        } else if to < from {
            "#d62728"
        } else {
            "#2ca02c"
        };
        let x = LEFT + slot * index as f64 + slot * 0.15;
        let (top, bottom) = (frame.y(from.max(to)), frame.y(from.min(to)));
        let _ = writeln!(
            svg,
            r#"<rect x="{x:.2}" y="{top:.2}" width="{:.2}" height="{:.2}" fill="{colour}"/>"#,
            slot * 0.7,
            (bottom - top).max(0.5)
        );
        let centre = x + slot * 0.35;
        // Whole bars show their level, floating bars the change they make.
        let shown = if index == 0 || last {
            step.value
        } else {
            step.value - from
        };
        let value = match (chart.percent_points, index == 0 || last) {
            (true, true) => format!("{:.2} pp", shown * 100.0),
            (true, false) => format!("{:+.2} pp", shown * 100.0),
            (false, true) => format!("{shown:.3}"),
            (false, false) => format!("{shown:+.3}"),
        };
        let _ = writeln!(
            svg,
            r#"<text x="{centre:.2}" y="{:.2}" font-size="11" text-anchor="middle">{}</text>"#,
            top - 18.0,
            escape(&value)
        );
        let _ = writeln!(
            svg,
            r##"<text x="{centre:.2}" y="{:.2}" font-size="10" text-anchor="middle" fill="#444">{}</text>"##,
            top - 5.0,
            escape(&step.note)
        );
        let _ = writeln!(
            svg,
            r#"<text x="{centre:.2}" y="{:.2}" font-size="11" text-anchor="end" transform="rotate(-30 {centre:.2} {:.2})">{}</text>"#,
            HEIGHT - BOTTOM + 16.0,
            HEIGHT - BOTTOM + 16.0,
            escape(&step.label)
        );
        previous = step.value;
    }
    svg.push_str("</svg>\n");
    svg
}

/// Maps data coordinates onto the plotting area.
struct Frame {
    x_min: f64,
    x_max: f64,
    y_min: f64,
    y_max: f64,
}

impl Frame {
    fn new(x_min: f64, x_max: f64, y_min: f64, y_max: f64) -> Self {
        let (x_min, x_max) = widen(x_min, x_max);
        let (y_min, y_max) = widen(y_min, y_max);
        Self {
            x_min,
            x_max,
            y_min,
            y_max,
        }
    }

    fn x(&self, x: f64) -> f64 {
        LEFT + (x - self.x_min) / (self.x_max - self.x_min) * (WIDTH - LEFT - RIGHT)
    }

    fn y(&self, y: f64) -> f64 {
        HEIGHT - BOTTOM - (y - self.y_min) / (self.y_max - self.y_min) * (HEIGHT - TOP - BOTTOM)
    }

    fn axes(&self, svg: &mut String, x_label: &str, y_label: &str, y_percent: bool) {
        self.y_axis(svg, y_label, y_percent);
        let base = HEIGHT - BOTTOM;
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT:.2}" y1="{base:.2}" x2="{:.2}" y2="{base:.2}" stroke="#000"/>"##,
            WIDTH - RIGHT
        );
        for tick in ticks(self.x_min, self.x_max) {
            let px = self.x(tick);
            let _ = writeln!(
                svg,
                r##"<line x1="{px:.2}" y1="{base:.2}" x2="{px:.2}" y2="{:.2}" stroke="#000"/>"##,
                base + 5.0
            );
            let _ = writeln!(
                svg,
                r#"<text x="{px:.2}" y="{:.2}" font-size="11" text-anchor="middle">{}</text>"#,
                base + 18.0,
                format_tick(tick, false)
            );
        }
        let _ = writeln!(
            svg,
            r#"<text x="{:.2}" y="{:.2}" font-size="13" text-anchor="middle">{}</text>"#,
            LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
            HEIGHT - 18.0,
            escape(x_label)
        );
    }

    fn y_axis(&self, svg: &mut String, y_label: &str, percent: bool) {
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT:.2}" y1="{TOP:.2}" x2="{LEFT:.2}" y2="{:.2}" stroke="#000"/>"##,
            HEIGHT - BOTTOM
        );
        for tick in ticks(self.y_min, self.y_max) {
            let py = self.y(tick);
            let _ = writeln!(
                svg,
                r##"<line x1="{:.2}" y1="{py:.2}" x2="{:.2}" y2="{py:.2}" stroke="#ddd"/>"##,
                LEFT,
                WIDTH - RIGHT
            );
            let _ = writeln!(
                svg,
                r#"<text x="{:.2}" y="{:.2}" font-size="11" text-anchor="end">{}</text>"#,
                LEFT - 8.0,
                py + 4.0,
                format_tick(tick, percent)
            );
        }
        let centre = TOP + (HEIGHT - TOP - BOTTOM) / 2.0;
        let _ = writeln!(
            svg,
            r#"<text x="20" y="{centre:.2}" font-size="13" text-anchor="middle" transform="rotate(-90 20 {centre:.2})">{}</text>"#,
            escape(y_label)
        );
    }
}

fn open_document(title: &str) -> String {
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.2}" y="28" font-size="15" font-weight="bold" text-anchor="middle">{}</text>"#,
        WIDTH / 2.0,
        escape(title)
    );
    svg
}

/// The smallest and largest finite value, or (0, 1) when there is none.
fn finite_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc: Option<(f64, f64)>, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
        .unwrap_or((0.0, 1.0))
}

/// Pads an empty range so that it can be drawn.
fn widen(low: f64, high: f64) -> (f64, f64) {
    if high > low {
        (low, high)
    } else {
        let pad = if low == 0.0 { 1.0 } else { low.abs() * 0.1 };
        (low - pad, high + pad)
    }
}

/// Round tick positions (1, 2 or 5 times a power of ten) covering `[low, high]`.
fn ticks(low: f64, high: f64) -> Vec<f64> {
    let raw = (high - low) / 6.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (low / step).ceil() as i64;
    let last = (high / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

fn format_tick(value: f64, percent: bool) -> String {
    let value = if percent { value * 100.0 } else { value };
    let rounded = (value * 1e6).round() / 1e6;
    let text = if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        let text = format!("{rounded:.3}");
        text.trim_end_matches('0').to_string()
    };
    if percent { format!("{text}%") } else { text }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(
            ticks(0.0, 1.0),
            vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        assert_eq!(ticks(150.0, 230.0), vec![160.0, 180.0, 200.0, 220.0]);
    }

    #[test]
    fn text_is_escaped() {
        let chart = LineChart {
            title: "a < b & c".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            series: vec![],
            y_range: None,
            reference: None,
            marker: None,
            y_percent: false,
        };
        assert!(line_chart(&chart).contains("a &lt; b &amp; c"));
    }

    #[test]
    fn tick_labels_read_as_numbers_or_percentages() {
        assert_eq!(format_tick(0.8, true), "80%");
        assert_eq!(format_tick(0.25, false), "0.25");
        assert_eq!(format_tick(180.0, false), "180");
    }
}
