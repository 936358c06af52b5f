//! A small SVG writer for the two figures trialsim draws: a power curve (lines with Monte Carlo
//! bands, a target line and the spec's own point) and a waterfall (how an effect shrinks step by
//! step). Hand-written rather than a plotting crate so the output is byte-stable for snapshots
//! and needs no system fonts: text is left to the viewer's default sans-serif font.

use std::fmt::Write as _;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 440.0;
/// Room left of the plot for the y tick labels and the rotated y-axis label.
const LEFT: f64 = 78.0;
/// Room right of the plot when there is no legend (the last x tick label is centred on the edge).
const RIGHT_MIN: f64 = 28.0;
/// Room above the plot: the title, and a subtitle when there is one.
const TOP: f64 = 40.0;
const TOP_WITH_SUBTITLE: f64 = 58.0;
/// Room below the plot for the x tick labels and the x-axis label.
const BOTTOM: f64 = 64.0;
/// The widest a legend may grow before its entries wrap.
const LEGEND_MAX: f64 = 200.0;
const PALETTE: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

/// The width a text takes at `size` px, estimated generously (0.6 em a character, more than the
/// average advance of a sans-serif font), so that a layout made with it does not clip or collide.
/// The figures' geometry test uses the same estimate.
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.6
}

/// `text` broken at spaces into lines no wider than `width` px at `size` (a longer word stands
/// on a line of its own).
fn wrap(text: &str, size: f64, width: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && text_width(&candidate, size) > width {
            lines.push(std::mem::replace(&mut line, word.to_owned()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

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
    /// A smaller line under the title (e.g. what the bands are); empty for none.
    pub subtitle: String,
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
    /// Values are fractions shown in percentage points: ticks and bar labels are multiplied by
    /// 100 (the axis label says the unit; the ticks carry no `%`, which would read as a level).
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
    // The legend sits right of the plot, as wide as its widest entry (wrapped past LEGEND_MAX);
    // a single unnamed series needs none.
    let legend: Vec<Vec<String>> = if chart.series.len() > 1 {
        chart
            .series
            .iter()
            .map(|s| wrap(&s.name, 12.0, LEGEND_MAX))
            .collect()
    } else {
        Vec::new()
    };
    let legend_width = legend
        .iter()
        .flatten()
        .map(|l| text_width(l, 12.0))
        .fold(0.0, f64::max);
    let right = if legend.is_empty() {
        RIGHT_MIN
    } else {
        (16.0 + 28.0 + legend_width + 12.0).max(RIGHT_MIN)
    };
    let top = if chart.subtitle.is_empty() {
        TOP
    } else {
        TOP_WITH_SUBTITLE
    };
    let layout = Layout {
        right,
        top,
        bottom: BOTTOM,
    };
    let frame = Frame::new(layout, x_min, x_max, y_min, y_max);
    let mut svg = open_document(&chart.title, &chart.subtitle);
    frame.axes(&mut svg, &chart.x_label, &chart.y_label, chart.y_percent);

    let mut legend_y = top + 14.0;
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
        if let Some(lines) = legend.get(index) {
            let legend_x = WIDTH - right + 16.0;
            let _ = writeln!(
                svg,
                r#"<line x1="{legend_x:.2}" y1="{legend_y:.2}" x2="{:.2}" y2="{legend_y:.2}" stroke="{colour}" stroke-width="2"/>"#,
                legend_x + 22.0
            );
            for line in lines {
                let _ = writeln!(
                    svg,
                    r#"<text x="{:.2}" y="{:.2}" font-size="12">{}</text>"#,
                    legend_x + 28.0,
                    legend_y + 4.0,
                    escape(line)
                );
                legend_y += 15.0;
            }
            legend_y += 7.0;
        }
    }

    // Labels inside the plot: the reference line's at its right end, above the line; the
    // marker's beside the marker, on whichever side keeps it inside the plot and clear of the
    // reference label.
    let mut placed: Vec<[f64; 4]> = Vec::new();
    if let Some((y, label)) = &chart.reference {
        let py = frame.y(*y);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT:.2}" y1="{py:.2}" x2="{:.2}" y2="{py:.2}" stroke="#555" stroke-dasharray="6 4"/>"##,
            WIDTH - right
        );
        let x = WIDTH - right - 4.0;
        let _ = writeln!(
            svg,
            r##"<text x="{x:.2}" y="{:.2}" font-size="11" fill="#555" text-anchor="end">{}</text>"##,
            py - 5.0,
            escape(label)
        );
        placed.push([
            x - text_width(label, 11.0),
            py - 5.0 - 11.0,
            x,
            py - 5.0 + 3.0,
        ]);
    }
    if let Some((x, y, label)) = &chart.marker {
        let (px, py) = (frame.x(*x), frame.y(*y));
        let _ = writeln!(
            svg,
            r##"<circle cx="{px:.2}" cy="{py:.2}" r="6" fill="none" stroke="#000" stroke-width="2"/>"##
        );
        let w = text_width(label, 12.0);
        let candidates = [
            (px + 9.0, py - 9.0),
            (px - 9.0 - w, py - 9.0),
            (px + 9.0, py + 21.0),
            (px - 9.0 - w, py + 21.0),
        ];
        let fits = |&(lx, ly): &(f64, f64)| {
            let b = [lx, ly - 12.0, lx + w, ly + 3.0];
            b[0] >= LEFT
                && b[2] <= WIDTH - right
                && b[1] >= top
                && b[3] <= HEIGHT - BOTTOM
                && placed.iter().all(|o| !overlaps(o, &b))
        };
        let (lx, ly) = candidates
            .iter()
            .copied()
            .find(fits)
            .unwrap_or(candidates[0]);
        let _ = writeln!(
            svg,
            r#"<text x="{lx:.2}" y="{ly:.2}" font-size="12">{}</text>"#,
            escape(label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Whether two boxes `[x0, y0, x1, y1]` overlap.
fn overlaps(a: &[f64; 4], b: &[f64; 4]) -> bool {
    a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]
}

/// Renders a waterfall as a standalone SVG document.
pub fn waterfall(chart: &Waterfall) -> String {
    let values = chart.steps.iter().map(|s| s.value).chain([0.0]);
    let (low, high) = finite_range(values);
    let x_max = chart.steps.len().max(1) as f64;
    // Step labels are horizontal, wrapped to the width of their slot; the plot leaves room for
    // as many lines as the longest needs.
    let slot = (WIDTH - LEFT - RIGHT_MIN) / x_max;
    let labels: Vec<Vec<String>> = chart
        .steps
        .iter()
        .map(|s| wrap(&s.label, 11.0, slot - 6.0))
        .collect();
    let lines = labels.iter().map(Vec::len).max().unwrap_or(1).max(1) as f64;
    let layout = Layout {
        right: RIGHT_MIN,
        top: TOP,
        bottom: 30.0 + 14.0 * lines,
    };
    // Headroom above the tallest bar for the two lines of text printed over it.
    let (low, high) = (low.min(0.0), high.max(0.0));
    let frame = Frame::new(layout, 0.0, x_max, low, high + 0.15 * (high - low));
    let mut svg = open_document(&chart.title, "");
    let scale = if chart.percent_points { 100.0 } else { 1.0 };
    frame.y_axis(&mut svg, &chart.y_label, scale, "");
    let zero = frame.y(0.0);
    let _ = writeln!(
        svg,
        r##"<line x1="{LEFT:.2}" y1="{zero:.2}" x2="{:.2}" y2="{zero:.2}" stroke="#000"/>"##,
        WIDTH - layout.right
    );
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
        for (k, line) in labels[index].iter().enumerate() {
            let _ = writeln!(
                svg,
                r#"<text x="{centre:.2}" y="{:.2}" font-size="11" text-anchor="middle">{}</text>"#,
                HEIGHT - layout.bottom + 16.0 + 14.0 * k as f64,
                escape(line)
            );
        }
        previous = step.value;
    }
    svg.push_str("</svg>\n");
    svg
}

/// The margins around the plotting area.
#[derive(Debug, Clone, Copy)]
struct Layout {
    right: f64,
    top: f64,
    bottom: f64,
}

/// Maps data coordinates onto the plotting area.
struct Frame {
    layout: Layout,
    x_min: f64,
    x_max: f64,
    y_min: f64,
    y_max: f64,
}

impl Frame {
    fn new(layout: Layout, x_min: f64, x_max: f64, y_min: f64, y_max: f64) -> Self {
        let (x_min, x_max) = widen(x_min, x_max);
        let (y_min, y_max) = widen(y_min, y_max);
        Self {
            layout,
            x_min,
            x_max,
            y_min,
            y_max,
        }
    }

    fn plot_right(&self) -> f64 {
        WIDTH - self.layout.right
    }

    fn plot_bottom(&self) -> f64 {
        HEIGHT - self.layout.bottom
    }

    fn x(&self, x: f64) -> f64 {
        LEFT + (x - self.x_min) / (self.x_max - self.x_min) * (self.plot_right() - LEFT)
    }

    fn y(&self, y: f64) -> f64 {
        self.plot_bottom()
            - (y - self.y_min) / (self.y_max - self.y_min) * (self.plot_bottom() - self.layout.top)
    }

    fn axes(&self, svg: &mut String, x_label: &str, y_label: &str, y_percent: bool) {
        if y_percent {
            self.y_axis(svg, y_label, 100.0, "%");
        } else {
            self.y_axis(svg, y_label, 1.0, "");
        }
        let base = self.plot_bottom();
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT:.2}" y1="{base:.2}" x2="{:.2}" y2="{base:.2}" stroke="#000"/>"##,
            self.plot_right()
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
                format_tick(tick, 1.0, "")
            );
        }
        let _ = writeln!(
            svg,
            r#"<text x="{:.2}" y="{:.2}" font-size="13" text-anchor="middle">{}</text>"#,
            LEFT + (self.plot_right() - LEFT) / 2.0,
            HEIGHT - 18.0,
            escape(x_label)
        );
    }

    /// The y axis; tick labels show `value × scale` (100 for percentages and percentage points)
    /// and `suffix` (`%` only for percentages of a whole, never for points).
    fn y_axis(&self, svg: &mut String, y_label: &str, scale: f64, suffix: &str) {
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT:.2}" y1="{:.2}" x2="{LEFT:.2}" y2="{:.2}" stroke="#000"/>"##,
            self.layout.top,
            self.plot_bottom()
        );
        for tick in ticks(self.y_min, self.y_max) {
            let py = self.y(tick);
            let _ = writeln!(
                svg,
                r##"<line x1="{:.2}" y1="{py:.2}" x2="{:.2}" y2="{py:.2}" stroke="#ddd"/>"##,
                LEFT,
                self.plot_right()
            );
            let _ = writeln!(
                svg,
                r#"<text x="{:.2}" y="{:.2}" font-size="11" text-anchor="end">{}</text>"#,
                LEFT - 8.0,
                py + 4.0,
                format_tick(tick, scale, suffix)
            );
        }
        let centre = self.layout.top + (self.plot_bottom() - self.layout.top) / 2.0;
        let _ = writeln!(
            svg,
            r#"<text x="20" y="{centre:.2}" font-size="13" text-anchor="middle" transform="rotate(-90 20 {centre:.2})">{}</text>"#,
            escape(y_label)
        );
    }
}

fn open_document(title: &str, subtitle: &str) -> String {
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
        r#"<text x="{:.2}" y="24" font-size="15" font-weight="bold" text-anchor="middle">{}</text>"#,
        WIDTH / 2.0,
        escape(title)
    );
    if !subtitle.is_empty() {
        let _ = writeln!(
            svg,
            r##"<text x="{:.2}" y="42" font-size="11" text-anchor="middle" fill="#444">{}</text>"##,
            WIDTH / 2.0,
            escape(subtitle)
        );
    }
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

/// A tick label: `value × scale` followed by `suffix` (`%` for a percentage; nothing for
/// percentage points, whose unit the axis label names).
fn format_tick(value: f64, scale: f64, suffix: &str) -> String {
    let value = value * scale;
    let rounded = (value * 1e6).round() / 1e6;
    let text = if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        let text = format!("{rounded:.3}");
        text.trim_end_matches('0').to_string()
    };
    format!("{text}{suffix}")
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
            subtitle: String::new(),
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
        assert_eq!(format_tick(0.8, 100.0, "%"), "80%");
        assert_eq!(format_tick(0.05, 100.0, ""), "5");
        assert_eq!(format_tick(0.25, 1.0, ""), "0.25");
        assert_eq!(format_tick(180.0, 1.0, ""), "180");
    }
}
