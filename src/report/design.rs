//! Renderers of the design-exploration results: text, JSON, CSV, SVG figures and the Markdown
//! design report.

use std::fmt::Write as _;

use serde::Serialize;

use crate::design::assurance::AssuranceReport;
use crate::design::explain::Waterfall;
use crate::design::feasibility::Feasibility;
use crate::design::mde::MdeReport;
use crate::design::pct;
use crate::design::size::SizeReport;
use crate::design::sweep::{Axis, SweepReport};
use crate::report::svg::{self, LineChart, Series, WaterfallStep};

/// Any result as pretty-printed JSON with a final newline.
pub fn json<T: Serialize>(value: &T) -> String {
    let mut s =
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

fn pp(x: f64) -> String {
    format!("{:+.2} pp", 100.0 * x)
}

fn p4(x: f64) -> String {
    format!("{x:.4}")
}

/// `trialsim size` as text.
pub fn size_text(r: &SizeReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "sample size for {}", r.spec);
    let ratio: Vec<String> = r.ratio.iter().map(u32::to_string).collect();
    let _ = writeln!(
        s,
        "analysis {} ({}), target power {}, ratio {} ({}), seed {}",
        r.analysis,
        r.outcome,
        pct(r.target),
        ratio.join(":"),
        r.arms.join(":"),
        r.seed
    );
    if let Some(k) = r.looks {
        let _ = writeln!(
            s,
            "group-sequential: {k} looks; power is that of stopping for efficacy at any look, \
             and the answer is the design's maximum sample size"
        );
    }
    if let (Some(t), Some(c)) = (r.true_treatment, r.true_control) {
        let _ = writeln!(
            s,
            "true proportions ({}): {} vs {} (effect {})",
            r.truth,
            p4(t),
            p4(c),
            pp(t - c)
        );
    }
    let _ = writeln!(s);
    let unit = if r.ratio.iter().all(|&w| w == 1) {
        "per arm"
    } else {
        "per ratio unit"
    };
    let sizes: Vec<String> = r
        .arms
        .iter()
        .zip(&r.arm_sizes)
        .map(|(a, n)| format!("{a} {n}"))
        .collect();
    let cluster = r.clusters_per_arm.zip(r.cluster_size);
    let label = r.cluster_label.as_deref().unwrap_or("cluster");
    match (cluster, &r.arm_clusters) {
        (Some((k, m)), Some(per_arm)) => {
            let clusters: Vec<String> = r
                .arms
                .iter()
                .zip(per_arm)
                .map(|(a, k)| format!("{a} {k}"))
                .collect();
            let _ = writeln!(
                s,
                "simulated answer   {k} {label}s of {m} {unit} ({}), {} participants {unit} ({})",
                clusters.join(", "),
                r.n_per_arm,
                sizes.join(", ")
            );
        }
        _ => {
            let _ = writeln!(
                s,
                "simulated answer   {} {unit} ({})",
                r.n_per_arm,
                sizes.join(", ")
            );
        }
    }
    let last = r.evaluations.last().map_or(0, |e| e.replicates);
    let _ = writeln!(
        s,
        "  power there      {} (MC SE {}; 95% {} to {}; {} replicates)",
        p4(r.power),
        p4(r.mc_se),
        p4(r.power_ci.0),
        p4(r.power_ci.1),
        last
    );
    if let Some(b) = r.power_below {
        let below = match cluster {
            Some((k, _)) => format!("{} {label}s {unit}", k - 1),
            None => format!("{} {unit}", r.n_per_arm - 1),
        };
        let _ = writeln!(s, "  at {below:<13}  {}", p4(b));
    }
    if let Some(i) = &r.intake {
        let _ = writeln!(
            s,
            "intake             {} months for {} participants; analysis at month {}{}",
            i.intake_months,
            r.arm_sizes.iter().map(|&n| u64::from(n)).sum::<u64>(),
            i.analysis_month,
            if i.analysis_moves && i.analysis_month > i.spec_analysis_month {
                format!(" (moved from month {})", i.spec_analysis_month)
            } else if i.analysis_moves {
                " (the spec's date)".to_string()
            } else {
                String::new()
            }
        );
        if let (Some(c), false) = (i.capacity, i.analysis_moves) {
            let _ = writeln!(
                s,
                "                   the inflow takes in {c} participants before month {}",
                i.spec_analysis_month
            );
        }
    }
    match (
        r.closed_form_clusters_per_arm,
        r.closed_form_clusters_unrounded,
        r.closed_form_n_per_arm,
        r.closed_form_n_unrounded,
    ) {
        (Some(k), Some(ku), _, Some(u)) => {
            let _ = writeln!(
                s,
                "normal approx.     {k} {label}s per arm ({ku:.2} before rounding up: {u:.1} \
                 participants per arm with the design effect, plus one {label} for the t test)"
            );
        }
        (_, _, Some(n), Some(u)) => {
            let _ = writeln!(
                s,
                "normal approx.     {n} per arm ({u:.1} before rounding up)"
            );
        }
        _ => {
            let _ = writeln!(s, "normal approx.     n/a (no formula for this analysis)");
        }
    }
    match r.exact_n_per_arm {
        Some(n) => {
            let _ = writeln!(
                s,
                "exact z-test power first reaches the target at {n} per arm"
            );
        }
        None => {
            let _ = writeln!(s, "exact power        n/a");
        }
    }
    match cluster {
        Some(_) => {
            let _ = writeln!(
                s,
                "\nevaluations ({label}s {unit} = participants: power, replicates)"
            );
        }
        None => {
            let _ = writeln!(s, "\nevaluations (n {unit}: power, replicates)");
        }
    }
    for e in &r.evaluations {
        let at = match e.clusters_per_arm {
            Some(k) => format!("{k:>4} = {:>6}", e.n_per_arm),
            None => format!("{:>6}", e.n_per_arm),
        };
        let month = e
            .analysis_month
            .map_or_else(String::new, |m| format!(", analysis at month {m}"));
        let _ = writeln!(s, "  {at}: {} ({}{month})", p4(e.power), e.replicates);
    }
    s
}

/// Section 6's table and figure.
fn waterfall_markdown(s: &mut String, w: &Waterfall) {
    let _ = writeln!(
        s,
        "From the effect among the clients the programme is meant for to the intention-to-treat \
         effect the analysis sees (effects exact, power simulated):"
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "| step | {} | {} | effect | change | power |",
        w.arms.0, w.arms.1
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|");
    let mut previous: Option<f64> = None;
    for st in &w.steps {
        let _ = writeln!(
            s,
            "| {} | {:.2}% | {:.2}% | {:+.2} pp | {} | {:.1}% |",
            md_escape(&st.label),
            100.0 * st.treatment,
            100.0 * st.control,
            100.0 * st.effect,
            previous.map_or_else(String::new, |p| format!(
                "{:+.2} pp",
                100.0 * (st.effect - p)
            )),
            100.0 * st.power
        );
        previous = Some(st.effect);
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "![Dilution waterfall](waterfall.svg)");
    let _ = writeln!(s);
}

/// `trialsim mde` as text.
pub fn mde_text(r: &MdeReport) -> String {
    use crate::design::mde::signed_effect;
    let mut s = String::new();
    let value = |v: f64| {
        if r.percent {
            let t = format!("{:.2}", 100.0 * v);
            format!("{}%", t.trim_end_matches('0').trim_end_matches('.'))
        } else {
            let t = format!("{v:.4}");
            t.trim_end_matches('0').trim_end_matches('.').to_string()
        }
    };
    let _ = writeln!(s, "minimum detectable effect for {}", r.spec);
    let sizes = match r.arm_sizes {
        Some((t, c)) if t == c => format!("{t} per arm"),
        Some((t, c)) => format!("{} {t}, {} {c}", r.arms.0, r.arms.1),
        None => "arm sizes from the pool".to_string(),
    };
    let _ = writeln!(
        s,
        "analysis {} ({}: {} vs {}), target power {}, {sizes}, seed {}",
        r.analysis,
        r.outcome,
        r.arms.0,
        r.arms.1,
        pct(r.target),
        r.seed
    );
    let _ = writeln!(
        s,
        "varying {} (spec {}): from {} ({}) {} in steps of {}",
        r.path,
        value(r.spec_value),
        value(r.null_value),
        if r.null_is_zero {
            "no effect"
        } else {
            "the smallest effect in the range"
        },
        if r.increasing { "upwards" } else { "downwards" },
        value(r.resolution)
    );
    let _ = writeln!(s);
    let means = match (r.treatment, r.control) {
        (Some(t), Some(c)) if r.binary => format!(" ({} vs {})", p4(t), p4(c)),
        (Some(t), Some(c)) => format!(" ({t:.4} vs {c:.4})"),
        _ => String::new(),
    };
    let _ = writeln!(
        s,
        "simulated answer   {} {} {}: effect {}{means}{}",
        r.path,
        if r.increasing { "≥" } else { "≤" },
        value(r.value),
        signed_effect(r.effect, r.binary),
        if r.effect_exact {
            ", exact"
        } else {
            ", mean estimate"
        }
    );
    let last = r.evaluations.last().map_or(0, |e| e.replicates);
    let _ = writeln!(
        s,
        "  power there      {} (MC SE {}; 95% {} to {}; {} replicates)",
        p4(r.power),
        p4(r.mc_se),
        p4(r.power_ci.0),
        p4(r.power_ci.1),
        last
    );
    if let Some(b) = &r.below {
        let _ = writeln!(s, "  at {:<13}  {}", value(b.value), p4(b.power));
    }
    let closed = |label: &str, v: Option<f64>, e: Option<f64>| match (v, e) {
        (Some(v), Some(e)) => format!(
            "{label}reaches {} at {}: effect {}\n",
            pct(r.target),
            value(v),
            signed_effect(e, r.binary)
        ),
        _ => format!("{label}n/a\n"),
    };
    s.push_str(&closed(
        "normal approx.     ",
        r.closed_form_value,
        r.closed_form_effect,
    ));
    s.push_str(&closed(
        "exact power        ",
        r.exact_value,
        r.exact_effect,
    ));
    let _ = writeln!(s, "\nevaluations ({}: power, replicates)", r.path);
    for e in &r.evaluations {
        let _ = writeln!(
            s,
            "  {:>10}: {} ({})",
            value(e.value),
            p4(e.power),
            e.replicates
        );
    }
    s
}

fn axis_value(axis: &Axis, v: f64) -> String {
    if axis.percent { pct(v) } else { format!("{v}") }
}

/// `trialsim sweep` as a text table.
pub fn sweep_text(r: &SweepReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "sweep of {}: analysis {} ({}), seed {}, {} replicates per point",
        r.spec, r.analysis, r.outcome, r.seed, r.replicates
    );
    // Each axis column is as wide as its path, and at least 32 characters.
    let widths: Vec<usize> = r.axes.iter().map(|a| a.path.len().max(32)).collect();
    let mut header = String::new();
    for (a, w) in r.axes.iter().zip(&widths) {
        let _ = write!(header, "{:>w$} ", a.path);
    }
    // Costs and savings, when the spec states them for this analysis.
    let economics = r.points.iter().any(|p| p.result.economics.is_some());
    let _ = write!(
        s,
        "{header}{:>8} {:>7} {:>17} {:>11}",
        "power", "MC SE", "95% interval", "true effect"
    );
    if economics {
        let _ = write!(
            s,
            " {:>12} {:>10} {:>14} {:>8}",
            "cost", "break-even", "cost per exit", "P(b-e)"
        );
    }
    s.push('\n');
    for p in &r.points {
        let mut row = String::new();
        for ((a, &v), w) in r.axes.iter().zip(&p.values).zip(&widths) {
            let _ = write!(row, "{:>w$} ", axis_value(a, v));
        }
        let e = &p.result;
        let _ = write!(
            s,
            "{row}{:>8} {:>7} {:>17} {:>11}",
            p4(e.power),
            p4(e.mc_se),
            format!("{:.3} to {:.3}", e.power_ci.0, e.power_ci.1),
            e.true_effect.map_or_else(
                || "n/a".into(),
                |t| if r.binary_outcome {
                    pp(t)
                } else {
                    format!("{t:+.2}")
                }
            )
        );
        if let Some(x) = &e.economics {
            let _ = write!(
                s,
                " {:>12} {:>10} {:>14} {:>8}",
                format!("€{:.0}", x.cost),
                pp(x.break_even_effect),
                x.cost_per_extra_exit
                    .map_or_else(|| "n/a".into(), |c| format!("€{c:.0}")),
                p4(x.p_break_even)
            );
        }
        s.push('\n');
    }
    let specs: Vec<String> = r
        .axes
        .iter()
        .map(|a| format!("{} = {}", a.path, axis_value(a, a.spec_value)))
        .collect();
    if let Some(spec) = &r.spec_point {
        let _ = writeln!(
            s,
            "spec's own design ({}): power {} (MC SE {})",
            specs.join(", "),
            p4(spec.power),
            p4(spec.mc_se)
        );
    }
    s
}

/// `trialsim sweep` as CSV: one row per point.
pub fn sweep_csv(r: &SweepReport) -> String {
    let mut s = String::new();
    for a in &r.axes {
        let _ = write!(s, "{},", a.path);
    }
    s.push_str(
        "power,mc_se,power_ci_low,power_ci_high,true_effect,true_treatment,true_control,replicates",
    );
    let economics = r.points.iter().any(|p| p.result.economics.is_some());
    if economics {
        s.push_str(",cost,break_even_effect,cost_per_extra_exit,net_saving,p_break_even");
    }
    s.push('\n');
    let opt = |x: Option<f64>| x.map_or_else(String::new, |v| format!("{v}"));
    for p in &r.points {
        for v in &p.values {
            let _ = write!(s, "{v},");
        }
        let e = &p.result;
        let _ = write!(
            s,
            "{},{},{},{},{},{},{},{}",
            e.power,
            e.mc_se,
            e.power_ci.0,
            e.power_ci.1,
            opt(e.true_effect),
            opt(e.true_treatment),
            opt(e.true_control),
            e.replicates
        );
        if economics {
            let x = e.economics;
            let _ = write!(
                s,
                ",{},{},{},{},{}",
                opt(x.map(|x| x.cost)),
                opt(x.map(|x| x.break_even_effect)),
                opt(x.and_then(|x| x.cost_per_extra_exit)),
                opt(x.map(|x| x.net_saving)),
                opt(x.map(|x| x.p_break_even)),
            );
        }
        s.push('\n');
    }
    s
}

/// An axis in the reader's words ([`super::words::parameter`]) with its unit, unless the words
/// already name it: "share of experiment referred to Team Zorg (%)", "participants per arm".
fn axis_label(a: &Axis) -> String {
    let words = super::words::parameter(&a.path);
    match a.unit {
        "%" => format!("{words} (%)"),
        "" => words,
        unit if words.contains(unit) => words,
        unit => format!("{words} ({unit})"),
    }
}

/// The power curve of a sweep: the first axis along x, one line per value of the second.
pub fn sweep_svg(r: &SweepReport) -> String {
    let Some(x_axis) = r.axes.first() else {
        return String::new();
    };
    let scale = if x_axis.percent { 100.0 } else { 1.0 };
    let mut series = Vec::new();
    let groups: Vec<Option<f64>> = match r.axes.get(1) {
        Some(a) => a.values.iter().copied().map(Some).collect(),
        None => vec![None],
    };
    for g in groups {
        let points: Vec<_> = r
            .points
            .iter()
            .filter(|p| g.is_none_or(|g| p.values.get(1) == Some(&g)))
            .collect();
        let name = match (g, r.axes.get(1)) {
            (Some(v), Some(a)) => legend_entry(a, v),
            _ => "simulated power".into(),
        };
        series.push(Series {
            name,
            points: points
                .iter()
                .map(|p| (p.values[0] * scale, p.result.power))
                .collect(),
            band: points
                .iter()
                .map(|p| {
                    (
                        p.values[0] * scale,
                        p.result.power_ci.0,
                        p.result.power_ci.1,
                    )
                })
                .collect(),
        });
    }
    let spec_label = if x_axis.spec_value.is_finite() {
        format!("spec: {}", axis_value(x_axis, x_axis.spec_value))
    } else {
        "spec".into()
    };
    svg::line_chart(&LineChart {
        title: format!("Power of analysis {} ({})", r.analysis, r.outcome),
        subtitle: format!(
            "bands: 95% Monte Carlo interval, {} replicates per point",
            r.replicates
        ),
        x_label: axis_label(x_axis),
        y_label: "power (%)".into(),
        series,
        y_range: Some((0.0, 1.0)),
        reference: Some((0.8, "80% power".into())),
        marker: r
            .spec_point
            .filter(|_| x_axis.spec_value.is_finite())
            .map(|p| (x_axis.spec_value * scale, p.power, spec_label)),
        y_percent: true,
    })
}

/// A legend entry for one value of the second axis: "150 participants per arm", "share of
/// experiment referred to Team Zorg 25%".
fn legend_entry(a: &Axis, v: f64) -> String {
    let words = super::words::parameter(&a.path);
    match a.path.as_str() {
        "n_per_arm" => format!("{} per arm", axis_value(a, v)),
        "clusters.per_arm" => format!("{} clusters per arm", axis_value(a, v)),
        _ => format!("{words}: {}", axis_value(a, v)),
    }
}

/// Assurance beside power, as text.
pub fn assurance_text(r: &AssuranceReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "assurance of {} ({} replicates, seed {})",
        r.analysis, r.replicates, r.seed
    );
    for p in &r.parameters {
        let shown = |x: f64| {
            if p.belief.contains('%') {
                pct(x)
            } else {
                format!("{x}")
            }
        };
        let _ = writeln!(
            s,
            "  {} ~ {} (spec {}, central {})",
            p.parameter,
            p.belief,
            shown(p.spec_value),
            shown(p.central)
        );
    }
    let _ = writeln!(
        s,
        "  power at the spec's values     {} (MC SE {})",
        p4(r.power_at_spec.power),
        p4(r.power_at_spec.mc_se)
    );
    let _ = writeln!(
        s,
        "  power at the central values    {} (MC SE {})",
        p4(r.power_at_central.power),
        p4(r.power_at_central.mc_se)
    );
    let _ = writeln!(
        s,
        "  assurance                      {} (MC SE {}; 95% {} to {})",
        p4(r.assurance),
        p4(r.mc_se),
        p4(r.assurance_ci.0),
        p4(r.assurance_ci.1)
    );
    s
}

/// The waterfall as text.
pub fn waterfall_text(w: &Waterfall) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "dilution of the effect on {} ({} vs {}), analysis {}",
        w.outcome, w.arms.0, w.arms.1, w.analysis
    );
    match w.sizes {
        Some((t, c)) => {
            let _ = writeln!(
                s,
                "power at {t} / {c} participants, {} replicates per step, seed {}",
                w.replicates, w.seed
            );
        }
        None => {
            let _ = writeln!(
                s,
                "power with arms from the pool, {} replicates per step, seed {}",
                w.replicates, w.seed
            );
        }
    }
    let _ = writeln!(
        s,
        "{:<52} {:>9} {:>9} {:>11} {:>10} {:>8} {:>8}",
        "step", w.arms.0, w.arms.1, "effect", "change", "power", "normal"
    );
    let mut previous: Option<f64> = None;
    for step in &w.steps {
        let change = previous.map_or_else(String::new, |p| pp(step.effect - p));
        let _ = writeln!(
            s,
            "{:<52} {:>9} {:>9} {:>11} {:>10} {:>8} {:>8}",
            step.label,
            pct(step.treatment),
            pct(step.control),
            pp(step.effect),
            change,
            p4(step.power),
            step.closed_form_power.map_or_else(|| "n/a".into(), p4)
        );
        previous = Some(step.effect);
    }
    let _ = writeln!(
        s,
        "(effect and arm proportions exact; power simulated, MC SE ≤ {:.4}; \"normal\" is the \
         normal-approximation power from the exact proportions)",
        w.steps.iter().map(|x| x.mc_se).fold(0.0, f64::max)
    );
    s
}

/// The waterfall as an SVG figure.
pub fn waterfall_svg(w: &Waterfall) -> String {
    svg::waterfall(&svg::Waterfall {
        title: format!("Dilution of the effect on {}", w.outcome),
        y_label: format!("effect: {} − {} (percentage points)", w.arms.0, w.arms.1),
        steps: w
            .steps
            .iter()
            .map(|s| WaterfallStep {
                label: s.short_label.clone(),
                value: s.effect,
                note: format!("power {:.0}%", 100.0 * s.power),
            })
            .collect(),
        percent_points: true,
    })
}

/// Feasibility as text.
pub fn feasibility_text(f: &Feasibility) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "feasibility of the funnel");
    match f.pool {
        Some(p) => {
            let _ = writeln!(s, "  pool                    {p}");
        }
        None => {
            let _ = writeln!(s, "  pool                    not given");
        }
    }
    for (name, share) in &f.criteria {
        let _ = writeln!(s, "  {:<24}{} meet the criteria", name, pct(*share));
    }
    let _ = writeln!(s, "  eligible share          {}", pct(f.eligible_share));
    if let Some(e) = f.expected_eligible {
        let _ = writeln!(s, "  expected eligible       {e:.1}");
    }
    let obs = f
        .observed_screening_loss
        .map_or_else(String::new, |o| format!(" (observed {})", pct(o)));
    let _ = writeln!(
        s,
        "  screening loss          {}{obs}",
        pct(f.screening_loss)
    );
    if let (Some(m), Some(sd)) = (f.expected_randomised, f.sd_randomised) {
        let range = f
            .randomised_90
            .map_or_else(String::new, |(a, b)| format!("; 90% between {a} and {b}"));
        let _ = writeln!(s, "  expected randomised     {m:.1} (SD {sd:.1}{range})");
    }
    if let Some(req) = &f.required {
        let total: u64 = req.iter().map(|&n| u64::from(n)).sum();
        let parts: Vec<String> = req.iter().map(u32::to_string).collect();
        let _ = writeln!(
            s,
            "  required                {} ({total} in all)",
            parts.join(" + ")
        );
    }
    if let Some(p) = f.probability_filled {
        let _ = writeln!(s, "  P(pool fills the arms)  {}", pct(p));
    }
    if let Some(p) = f.probability_filled_observed {
        let _ = writeln!(s, "    with observed loss    {}", pct(p));
    }
    if let Some(verdict) = f.pool_verdict_text() {
        let _ = writeln!(s, "  verdict                 {verdict}");
    }
    if let Some(slots) = f.slots {
        let _ = writeln!(s, "  caseload slots          {slots}");
    }
    match f.months_intake {
        Some(m) => {
            let _ = writeln!(s, "  months of intake        {m:.1}");
        }
        None => {
            let _ = writeln!(
                s,
                "  months of intake        unknown (no intake rate declared)"
            );
        }
    }
    if f.flags.is_empty() {
        let _ = writeln!(s, "  the design can be filled");
    }
    for flag in &f.flags {
        let _ = writeln!(s, "  warning: {flag}");
    }
    s
}

fn md_escape(text: &str) -> String {
    text.replace('|', "\\|")
}

fn describe_distribution(d: &crate::model::Distribution, unit: crate::model::Unit) -> String {
    use crate::model::{Distribution as D, Unit};
    let u = match unit {
        Unit::None => "",
        Unit::Years => " years",
        Unit::Months => " months",
        Unit::HoursPerMonth => " hours per month",
    };
    match d {
        D::Categorical { levels } => {
            let parts: Vec<String> = levels
                .iter()
                .map(|l| format!("{} {}", l.name, pct(l.probability)))
                .collect();
            parts.join(", ")
        }
        D::Uniform { low, high } => format!("uniform between {low}{u} and {high}{u}"),
        D::Normal { mean, sd } => format!("normal with mean {mean}{u} and SD {sd}{u}"),
        D::LogNormal { median, sigma } => {
            format!("log-normal with median {median}{u} (SD of the log {sigma})")
        }
        D::Fixed { value } => format!("{value}{u} for everyone"),
        D::Binned { levels, .. } => {
            let parts: Vec<String> = levels.iter().map(|l| l.name.clone()).collect();
            format!("binned into {}", parts.join(", "))
        }
    }
}

/// The design in words, generated from the model.
pub fn design_in_words(model: &crate::model::TrialModel) -> String {
    use crate::model::{AssignmentRule, Comparison, CriterionTest, RateMeaning};
    let mut s = String::new();
    let arm_names: Vec<&str> = model.arms.iter().map(|a| a.name.as_str()).collect();
    let _ = writeln!(
        s,
        "**{}** is a randomised trial with {} arms ({}). Every participant is followed for {} \
         months from their own intake.",
        model.name,
        model.arms.len(),
        arm_names.join(", "),
        model.follow_up_months
    );
    let _ = writeln!(s);
    let pop = &model.population;
    // Bins of a declared covariate (`within educ bins [...)`) are not characteristics of their own.
    let declared: Vec<&crate::model::Variable> = pop
        .variables
        .iter()
        .filter(|v| v.binned_from().is_none())
        .collect();
    match (pop.pool, declared.is_empty()) {
        (Some(pool), _) => {
            let _ = write!(s, "**Population.** A pool of {pool} people");
        }
        (None, false) => {
            let _ = write!(s, "**Population.** Participants");
        }
        (None, true) => {
            let _ = write!(s, "**Population.** Not described beyond the arms");
        }
    }
    if declared.is_empty() {
        let _ = writeln!(s, ".");
    } else {
        let _ = writeln!(
            s,
            " with these characteristics (independent of each other):"
        );
        for v in declared {
            let _ = writeln!(
                s,
                "- {}: {}",
                v.name,
                describe_distribution(&v.distribution, v.unit)
            );
        }
    }
    let _ = writeln!(s);
    if !model.eligibility.criteria.is_empty() || model.eligibility.screening.is_some() {
        let _ = writeln!(s, "**Eligibility.** All of:");
        for c in &model.eligibility.criteria {
            let Some(var) = pop.variables.get(c.variable) else {
                continue;
            };
            let test = match &c.test {
                CriterionTest::Compare { op, value } => {
                    let op = match op {
                        Comparison::Lt => "<",
                        Comparison::Le => "≤",
                        Comparison::Gt => ">",
                        Comparison::Ge => "≥",
                        Comparison::Eq => "=",
                    };
                    let unit = match var.unit {
                        crate::model::Unit::Years => " years",
                        crate::model::Unit::Months => " months",
                        crate::model::Unit::HoursPerMonth => " hours per month",
                        crate::model::Unit::None => "",
                    };
                    format!("{} {op} {value}{unit}", var.name)
                }
                CriterionTest::InSet { levels } => {
                    let names: Vec<String> = levels
                        .iter()
                        .filter_map(|&l| var.levels().and_then(|ls| ls.get(l)))
                        .map(|l| l.name.clone())
                        .collect();
                    format!("{} in {{{}}}", var.name, names.join(", "))
                }
            };
            let amended = c
                .amended_from
                .map_or_else(String::new, |f| format!(" (amended from {f})"));
            let amended = match (&c.test, var.unit) {
                (CriterionTest::Compare { .. }, crate::model::Unit::Years)
                    if !amended.is_empty() =>
                {
                    amended.replace(')', " years)")
                }
                _ => amended,
            };
            let _ = writeln!(s, "- {test}{amended}");
        }
        if let Some(sc) = &model.eligibility.screening {
            let obs = sc
                .observed_loss
                .map_or_else(String::new, |o| format!("; observed {}", pct(o)));
            let _ = writeln!(
                s,
                "- paper screening removes {} of the eligible (planned{obs})",
                pct(sc.planned_loss)
            );
        }
        let _ = writeln!(s);
    }
    let rule = match &model.assignment.rule {
        AssignmentRule::Parity { even, odd, id } => format!(
            "by the parity of the last digit of `{id}` (even → {}, odd → {}), so arm sizes vary",
            arm_names.get(*even).unwrap_or(&"?"),
            arm_names.get(*odd).unwrap_or(&"?")
        ),
        AssignmentRule::Complete { ratio } => {
            let r: Vec<String> = ratio.iter().map(u32::to_string).collect();
            format!("by complete randomisation in the ratio {}", r.join(":"))
        }
        AssignmentRule::Blocked {
            ratio,
            block_size,
            strata,
        } => {
            let r: Vec<String> = ratio.iter().map(u32::to_string).collect();
            let st: Vec<&str> = strata
                .iter()
                .filter_map(|&v| pop.variables.get(v).map(|x| x.name.as_str()))
                .collect();
            format!(
                "in permuted blocks of {block_size} (ratio {}){}",
                r.join(":"),
                if st.is_empty() {
                    String::new()
                } else {
                    format!(" within strata of {}", st.join(", "))
                }
            )
        }
    };
    let _ = write!(s, "**Allocation.** Participants are allocated {rule}.");
    if let Some(c) = &model.assignment.capacity {
        let _ = write!(
            s,
            " Capacity: {} staff with a caseload of at most {} each",
            c.staff, c.caseload
        );
        match c.intakes_per_month {
            Some(r) => {
                let _ = write!(s, ", {r} intakes per month.");
            }
            None => {
                let _ = write!(s, ".");
            }
        }
    }
    match &model.sample {
        Some(v) => {
            let parts: Vec<String> = model
                .arms
                .iter()
                .zip(v)
                .map(|(a, n)| format!("{n} in {}", a.name))
                .collect();
            let _ = writeln!(s, " The design fixes {}.", parts.join(" and "));
        }
        None if model.population.pool.is_some() => {
            let _ = writeln!(s, " The arms are whatever the pool and the funnel yield.");
        }
        None => {
            let _ = writeln!(
                s,
                " The spec fixes no sample size; the figures below use the sample-size answer."
            );
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "**Arms.**");
    for arm in &model.arms {
        let mut parts = Vec::new();
        for p in &arm.paths {
            let meaning = match p.work.meaning {
                RateMeaning::FoundWithin => format!("find work within {} months", p.work.months),
                RateMeaning::EmployedAt => format!("are in work at month {}", p.work.months),
            };
            let delay = if p.delay_months > 0 {
                format!(", starting after {} months", p.delay_months)
            } else {
                String::new()
            };
            if arm.paths.len() > 1 {
                parts.push(format!(
                    "{} of the arm take path {}{delay}, where {} {meaning}",
                    model.share_in_words(p, pct),
                    p.name,
                    model.rate_in_words(&p.work, pct)
                ));
            } else if arm.direct_outcomes.is_empty() {
                parts.push(format!(
                    "{} {meaning}{delay}",
                    model.rate_in_words(&p.work, pct)
                ));
            }
        }
        for d in &arm.direct_outcomes {
            let name = model
                .outcomes
                .get(d.outcome)
                .map_or("?", |o| o.name.as_str());
            match &d.value {
                crate::model::DirectValue::Binary { probability } => {
                    parts.push(format!("{name} in {}", pct(*probability)));
                }
                crate::model::DirectValue::Continuous { distribution } => parts.push(format!(
                    "{name} {}",
                    describe_distribution(distribution, crate::model::Unit::None)
                )),
            }
        }
        if arm.baseline_employment > 0.0 {
            parts.push(format!(
                "{} are in work at intake",
                pct(arm.baseline_employment)
            ));
        }
        if let Some(d) = &arm.dropout {
            let to = model
                .arms
                .get(d.follows.arm)
                .map_or("?", |a| a.name.as_str());
            parts.push(format!(
                "{} drop out before intake and follow the {to} process (analysed as allocated)",
                pct(d.share)
            ));
        }
        if let Some(e) = &arm.exemption {
            parts.push(format!(
                "{} are exempted for up to {} months",
                pct(e.share),
                e.max_months
            ));
        }
        if let Some(x) = &arm.non_work_exit {
            parts.push(format!(
                "{} leave benefit without work within {} months",
                pct(x.probability),
                x.months
            ));
        }
        if let Some(c) = &arm.crossover {
            let to = model.arms.get(c.to.arm).map_or("?", |a| a.name.as_str());
            parts.push(format!(
                "{} cross over to the {to} process after {} months (analysed as allocated)",
                pct(c.share),
                c.after_months
            ));
        }
        if let Some(l) = &arm.lost_to_follow_up {
            let mut words = format!(
                "{} are lost to follow-up by month {} (outcomes measured from then on are missing",
                pct(l.share),
                l.by_month
            );
            if let Some(var) =
                l.by.as_ref()
                    .and_then(|b| model.population.variables.get(b.variable))
            {
                let _ = write!(words, "; the share differs by {}", var.name);
            }
            if let Some(f) = &l.outcome_factor {
                let _ = write!(
                    words,
                    "; {} times the hazard for those with {}",
                    f.hazard_ratio,
                    model
                        .outcomes
                        .get(f.outcome)
                        .map_or("?", |o| o.name.as_str())
                );
            }
            words.push(')');
            parts.push(words);
        }
        let _ = writeln!(s, "- {}: {}.", arm.name, parts.join("; "));
    }
    let _ = writeln!(s);
    let emp = &model.employment;
    if model.arms.iter().any(|a| a.direct_outcomes.is_empty()) {
        let _ = writeln!(
            s,
            "**Employment.** Jobs end with probability {} per month; hours per month: {}.",
            pct(emp.job_loss_per_month),
            describe_distribution(&emp.hours, crate::model::Unit::None)
        );
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "**Analysis plan** (intention to treat: everyone analysed in the arm allocated):"
    );
    for a in &model.analyses {
        let outcomes: Vec<String> = a
            .outcomes
            .iter()
            .filter_map(|&o| model.outcomes.get(o))
            .map(|o| format!("{} ({})", o.name, measure_words(&o.measure)))
            .collect();
        let test = format!(
            "`{}` ({})",
            super::words::test(a.test),
            super::words::test_explained(a.test)
        );
        let sides = super::words::sides(a.sides);
        let within = a
            .within
            .and_then(|v| pop.variables.get(v))
            .map_or_else(String::new, |v| match &v.distribution {
                crate::model::Distribution::Binned { source, levels, .. } => format!(
                    ", within bins of {} ({})",
                    pop.variables.get(*source).map_or("?", |s| s.name.as_str()),
                    levels
                        .iter()
                        .map(|l| l.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                _ => format!(", within levels of {}", v.name),
            });
        let correction = format!(", correction `{}`", super::words::correction(a.correction));
        let missing = if model.loses_outcomes(a) || a.missing.is_some() {
            format!(
                "; missing outcomes: {} (participants without a value are left out)",
                a.missing_handling().name().replace('_', " ")
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "- `{}`: {} vs {} on {}; {test}, {sides}, α = {}{within}{correction}{missing}.",
            a.name,
            arm_names.get(a.treatment).unwrap_or(&"?"),
            arm_names.get(a.control).unwrap_or(&"?"),
            outcomes.join(", "),
            pct(a.alpha)
        );
    }
    s
}

fn measure_words(m: &crate::model::Measure) -> String {
    use crate::model::Measure as M;
    match m {
        M::EmployedAt { month, min_hours } => {
            format!("in work ≥ {min_hours} h at month {month}")
        }
        M::WorkedWithin { within, min_hours } => {
            format!("worked ≥ {min_hours} h within {within} months")
        }
        M::Durable {
            month,
            consecutive,
            min_hours,
        } => format!("≥ {min_hours} h in each of {consecutive} months ending at month {month}"),
        M::Hours { month } => format!("hours at month {month}"),
        M::Wage { month } => format!("hourly wage at month {month} (among those in work)"),
        M::BenefitEnded { month } => format!("benefit ended by month {month}"),
        M::ExitedTo { destination, month } => format!("left to {destination} by month {month}"),
        M::DirectBinary => "binary".into(),
        M::DirectContinuous => "continuous".into(),
    }
}

/// The statements of a spec that carry a comment, with the comment: the assumptions and their
/// sources as the spec's author wrote them.
pub fn annotated_statements(source: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in source.lines() {
        let Some(hash) = comment_start(line) else {
            continue;
        };
        let statement = line[..hash].trim();
        let comment = line[hash..].trim_start_matches(['#', '/']).trim();
        if statement.is_empty() || comment.is_empty() || statement == "{" || statement == "}" {
            continue;
        }
        out.push((statement.to_string(), comment.to_string()));
    }
    out
}

/// Where a comment starts on a line (outside a string).
fn comment_start(line: &str) -> Option<usize> {
    let mut in_string = false;
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => in_string = !in_string,
            b'#' if !in_string => return Some(i),
            b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => return Some(i),
            _ => {}
        }
    }
    None
}

/// The design report as Markdown (figures referenced beside it).
pub fn design_markdown(
    model: &crate::model::TrialModel,
    source: &str,
    r: &crate::design::report::DesignReport,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Design report: {}", model.name);
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Generated by trialsim {} from the spec, seed {}, {} Monte Carlo replicates per simulated \
         figure. The same spec, seed and replicate count give the same report on any machine.",
        r.spec.trialsim_version, r.seed, r.replicates
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Spec `{}`, sha256 `{}` (of the file's exact bytes: the spec as registered). Section 9 \
         maps this report to the SPIRIT 2025 checklist.",
        r.spec.file, r.spec.sha256
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "## 1. Design");
    let _ = writeln!(s);
    s.push_str(&design_in_words(model));
    let _ = writeln!(s);
    let _ = writeln!(s, "## 2. Assumptions and their sources");
    let _ = writeln!(s);
    let annotated = annotated_statements(source);
    if annotated.is_empty() {
        let _ = writeln!(
            s,
            "The spec records no sources; every value above is an assumption of its author."
        );
    } else {
        let _ = writeln!(s, "As annotated in the spec:");
        let _ = writeln!(s);
        let _ = writeln!(s, "| statement | source or note |");
        let _ = writeln!(s, "|---|---|");
        for (st, c) in annotated {
            let _ = writeln!(s, "| `{}` | {} |", md_escape(&st), md_escape(&c));
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "## 3. Power at the planned sample");
    let _ = writeln!(s);
    let p = &r.power_at_spec;
    let _ = writeln!(
        s,
        "Analysis `{}`: simulated power **{:.1}%** (MC SE {:.1} pp; 95% interval {:.1}% \
         to {:.1}%).",
        r.analysis,
        100.0 * p.power,
        100.0 * p.mc_se,
        100.0 * p.power_ci.0,
        100.0 * p.power_ci.1
    );
    if let (Some(t), Some(c)) = (p.true_treatment, p.true_control) {
        let _ = writeln!(
            s,
            "The model implies {:.2}% against {:.2}%, an effect of {:+.2} percentage points \
             (exact, not simulated).",
            100.0 * t,
            100.0 * c,
            100.0 * (t - c)
        );
    }
    if let Some((normal, exact)) = r.closed_form_at_spec {
        let _ = write!(s, "Normal approximation: {:.1}%", 100.0 * normal);
        if let Some(e) = exact {
            let _ = write!(s, "; exact power of the test: {:.1}%", 100.0 * e);
        }
        let _ = writeln!(s, ".");
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "## 4. Sample size");
    let _ = writeln!(s);
    match (&r.size, &r.size_error) {
        (Some(z), _) => {
            let label = z.cluster_label.as_deref().unwrap_or("cluster");
            let (answer, below) = match z.clusters_per_arm.zip(z.cluster_size) {
                Some((k, m)) => (
                    format!(
                        "**{k} {label}s of {m}** ({} participants per arm)",
                        z.n_per_arm
                    ),
                    format!("{} {label}s", k - 1),
                ),
                None => (
                    format!("**{}**", z.n_per_arm),
                    format!("{}", z.n_per_arm - 1),
                ),
            };
            let _ = writeln!(
                s,
                "The smallest number per arm whose simulated power reaches {}: {answer} (power \
                 {:.1}%, MC SE {:.1} pp{}).",
                pct(r.target),
                100.0 * z.power,
                100.0 * z.mc_se,
                z.power_below
                    .map_or_else(String::new, |b| format!("; {:.1}% at {below}", 100.0 * b))
            );
            if let Some(i) = &z.intake {
                let _ = writeln!(
                    s,
                    "The inflow takes {} months to bring them in, before the analysis at month {}.",
                    i.intake_months, i.analysis_month
                );
            }
            if let (Some(k), Some(ku), Some(u)) = (
                z.closed_form_clusters_per_arm,
                z.closed_form_clusters_unrounded,
                z.closed_form_n_unrounded,
            ) {
                let _ = writeln!(
                    s,
                    "The normal approximation with the design effect gives {k} {label}s per arm \
                     ({ku:.2} before rounding up: {u:.1} participants, plus one {label} for the t \
                     test)."
                );
            } else if let (Some(n), Some(u)) = (z.closed_form_n_per_arm, z.closed_form_n_unrounded)
            {
                let _ = write!(
                    s,
                    "The normal approximation gives {n} per arm ({u:.1} before rounding up)"
                );
                match z.exact_n_per_arm {
                    Some(e) => {
                        let _ = writeln!(
                            s,
                            "; the exact power of the test first reaches {} at {e} per arm.",
                            pct(r.target)
                        );
                    }
                    None => {
                        let _ = writeln!(s, ".");
                    }
                }
            }
        }
        (None, Some(e)) => {
            let _ = writeln!(s, "No sample size reaches {}: {e}.", pct(r.target));
        }
        (None, None) => {}
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "![Power by participants per arm](power-curve.svg)");
    let _ = writeln!(s);
    let _ = writeln!(s, "| per arm | power | MC SE |");
    let _ = writeln!(s, "|---:|---:|---:|");
    for pt in &r.curve.points {
        let _ = writeln!(
            s,
            "| {} | {:.1}% | {:.1} pp |",
            pt.values[0],
            100.0 * pt.result.power,
            100.0 * pt.result.mc_se
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "## 5. Assurance");
    let _ = writeln!(s);
    match &r.assurance {
        Some(a) => {
            let _ = writeln!(s, "Beliefs about uncertain parameters:");
            let _ = writeln!(s);
            for u in &a.parameters {
                let _ = writeln!(s, "- `{}` ~ {}", u.parameter, u.belief);
            }
            let _ = writeln!(s);
            let _ = writeln!(
                s,
                "Assurance (probability of a significant result averaged over these beliefs): \
                 **{:.1}%** (MC SE {:.1} pp), against {:.1}% power at the central values and \
                 {:.1}% at the spec's values.",
                100.0 * a.assurance,
                100.0 * a.mc_se,
                100.0 * a.power_at_central.power,
                100.0 * a.power_at_spec.power
            );
        }
        None => {
            let _ = writeln!(
                s,
                "No parameter is declared uncertain (a belief on a probability in the spec, such as \
                 `25% ~ uniform(20%, 35%)`, or `--assume PATH~uniform(LOW,HIGH)` on the command \
                 line), so assurance equals power."
            );
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "## 6. Dilution of the effect");
    let _ = writeln!(s);
    match &r.waterfall {
        Some(w) => waterfall_markdown(&mut s, w),
        None => {
            let _ = writeln!(
                s,
                "No waterfall for this design: {}.",
                r.waterfall_error.as_deref().unwrap_or("not computed")
            );
            let _ = writeln!(s);
        }
    }
    let _ = writeln!(s, "## 7. Feasibility");
    let _ = writeln!(s);
    let _ = writeln!(s, "```text");
    s.push_str(&feasibility_text(&r.feasibility));
    let _ = writeln!(s, "```");
    let _ = writeln!(s);
    let _ = writeln!(s, "## 8. Reproducibility");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Random streams: {} per replicate, keyed by (seed, scenario, replicate); every figure uses \
         seed {} and scenario 0, so figures share common random numbers. Assurance draws the \
         uncertain parameters from a separate scenario.",
        r.generator, r.seed
    );
    let _ = writeln!(s);
    s.push_str(&spirit_section());
    s
}

/// SPIRIT 2025 items this report answers, with the section that answers them. Item numbers from
/// the SPIRIT 2025 checklist (Chan et al., BMJ 2025;389:e081477); see docs/outputs.md for what
/// the mapping was checked against.
const SPIRIT_COVERED: [(&str, &str, &str); 10] = [
    (
        "12",
        "Trial design",
        "§1 (arms, allocation ratio, assignment rule)",
    ),
    ("14", "Eligibility criteria", "§1 (eligibility)"),
    (
        "15",
        "Intervention and comparator",
        "§1 (arms and their paths, as modelled; not the programme's content)",
    ),
    (
        "16",
        "Outcomes",
        "§1 (each outcome measure, its month and hours threshold)",
    ),
    (
        "18",
        "Participant timeline",
        "§1 (follow-up), §7 (months of intake)",
    ),
    (
        "19",
        "Sample size",
        "§3, §4, §5 (power, sample size and assurance, with every assumption in §2)",
    ),
    ("20", "Recruitment", "§7 (pool, screening and intake)"),
    (
        "21",
        "Sequence generation",
        "§1 (the assignment rule), §8 (random streams)",
    ),
    (
        "27",
        "Statistical methods",
        "§1 (test, sides, alpha, multiplicity correction, subgroups, missing outcomes)",
    ),
    ("—", "Reproducibility of the figures", "§8"),
];

/// SPIRIT 2025 items a spec cannot answer: the protocol must say them elsewhere.
const SPIRIT_NOT_ANSWERED: [(&str, &str); 19] = [
    (
        "1",
        "Title and structured summary (the spec gives the title only)",
    ),
    ("2", "Protocol version"),
    ("3", "Roles and responsibilities"),
    ("4", "Trial registration"),
    (
        "5",
        "Where the protocol and statistical analysis plan can be accessed",
    ),
    ("6", "Data sharing"),
    ("7", "Funding and conflicts of interest"),
    ("8", "Dissemination policy"),
    ("9", "Background and rationale"),
    ("10", "Objectives"),
    ("11", "Patient and public involvement"),
    ("13", "Trial setting"),
    ("17", "Harms"),
    ("22", "Allocation concealment mechanism"),
    (
        "23",
        "Implementation (who generates the sequence, enrols and assigns)",
    ),
    ("24", "Blinding"),
    ("25", "Data collection methods"),
    ("26", "Data management"),
    (
        "28–34",
        "Oversight and monitoring, ethics approval, protocol amendments, consent, confidentiality, \
         ancillary and post-trial care",
    ),
];

/// Section 9 of the design report: the SPIRIT 2025 items it covers and those it cannot.
fn spirit_section() -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## 9. SPIRIT 2025");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Items of the SPIRIT 2025 checklist (Chan et al., BMJ 2025;389:e081477) this report answers:"
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "| item | topic | answered in |");
    let _ = writeln!(s, "|---|---|---|");
    for (item, topic, section) in SPIRIT_COVERED {
        let _ = writeln!(s, "| {item} | {topic} | {section} |");
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "A spec cannot answer these; the protocol must: {}.",
        SPIRIT_NOT_ANSWERED
            .iter()
            .map(|(item, topic)| format!("{item} {topic}"))
            .collect::<Vec<_>>()
            .join("; ")
    );
    s
}
