//! Group-sequential designs in words: the boundaries of a plan (`check`, `boundaries`), the
//! simulated looks (`power`, `report`) and a figure of the boundaries with simulated paths.

use std::fmt::Write as _;

use crate::model::{Analysis, LookSchedule, SequentialPlan, Sides, TrialModel};
use crate::sequential::{SequentialReport, futility_words};

fn sides_words(s: Sides) -> &'static str {
    match s {
        Sides::Greater => "one-sided (treatment > control)",
        Sides::Less => "one-sided (treatment < control)",
        Sides::TwoSided => "two-sided (|z| against the boundary)",
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn z(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.4}")
    } else {
        "-".into()
    }
}

/// The look's time as written: `month 18` or `30% information`.
fn look_label(plan: &SequentialPlan, k: usize) -> String {
    match &plan.looks {
        LookSchedule::Months(m) => format!("month {}", m[k]),
        LookSchedule::Information(t) => format!("{} information", pct(t[k])),
    }
}

/// Lines under an analysis in `check`'s summary.
pub fn summary_lines(plan: &SequentialPlan) -> Vec<String> {
    let b = &plan.boundaries;
    let looks: Vec<String> = (0..b.efficacy.len())
        .map(|k| {
            format!(
                "{} ({})",
                look_label(plan, k),
                pct(plan.planned_fractions[k])
            )
        })
        .collect();
    let mut v = vec![
        format!("looks      {}", looks.join(", ")),
        format!(
            "efficacy   {}: z >= {}",
            plan.efficacy.label(),
            b.efficacy
                .iter()
                .map(|&x| z(x))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ];
    if let Some(f) = &plan.futility {
        let bounds = if b.futility.iter().any(|x| x.is_finite()) {
            format!(
                ": z < {}",
                b.futility[..b.futility.len() - 1]
                    .iter()
                    .map(|&x| z(x))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            String::new()
        };
        v.push(format!("futility   {}{bounds}", futility_words(f)));
    }
    v
}

/// The boundary table of every analysis with looks (`trialsim boundaries`).
pub fn boundaries_text(model: &TrialModel) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "boundaries of {}", model.name);
    let mut any = false;
    for a in &model.analyses {
        let Some(plan) = &a.sequential else {
            continue;
        };
        any = true;
        analysis_boundaries(&mut s, model, a, plan);
    }
    if !any {
        let _ = writeln!(s, "\nno analysis has interim looks");
    }
    s
}

fn analysis_boundaries(s: &mut String, model: &TrialModel, a: &Analysis, plan: &SequentialPlan) {
    let b = &plan.boundaries;
    let _ = writeln!(
        s,
        "\nanalysis {} ({}): {}, alpha {}",
        a.name,
        model.outcomes[a.outcomes[0]].name,
        sides_words(a.sides),
        pct(a.alpha)
    );
    let _ = writeln!(s, "  efficacy   {}", plan.efficacy.label());
    if let Some(f) = &plan.futility {
        let _ = writeln!(s, "  futility   {}", futility_words(f));
    }
    if let Some(d) = b.drift {
        let _ = writeln!(
            s,
            "  drift      {:.4} at the design's power (the expected z at the last look; shift {:.4})",
            d,
            d * d
        );
    }
    let _ = writeln!(
        s,
        "  {:<22} {:>11} {:>11} {:>14} {:>17} {:>11}",
        "look", "information", "efficacy z", "nominal alpha", "cumulative alpha", "futility z"
    );
    for k in 0..b.efficacy.len() {
        let fut = if plan.futility.is_some() && b.futility[k].is_finite() {
            z(b.futility[k])
        } else {
            "-".into()
        };
        let _ = writeln!(
            s,
            "  {:<22} {:>11} {:>11} {:>14.6} {:>17.6} {:>11}",
            format!("{} {}", k + 1, look_label(plan, k)),
            format!("{:.2}%", 100.0 * plan.planned_fractions[k]),
            z(b.efficacy[k]),
            b.nominal_alpha[k],
            b.cumulative_alpha[k],
            fut
        );
    }
    if matches!(
        plan.futility,
        Some(crate::model::FutilityRule::ConditionalPower { .. })
    ) {
        let _ = writeln!(
            s,
            "  (the conditional-power rule stops at an interim look when the chance of crossing the last efficacy boundary, under the current trend, falls below the threshold; non-binding)"
        );
    }
    if let LookSchedule::Months(_) = plan.looks {
        let _ = writeln!(
            s,
            "  information: the share of the participants whose outcome is due by the look, under the inflow (outcome due {} months after intake)",
            model.due_month(a)
        );
    }
}

fn est(x: f64, se: f64, scale: f64, unit: &str, digits: usize) -> String {
    format!(
        "{:.*}{unit} (MC SE {:.*}{unit})",
        digits,
        x * scale,
        digits,
        se * scale
    )
}

/// The simulated looks, for `power`'s text report.
pub fn power_text(r: &SequentialReport, means: bool) -> String {
    let mut s = String::new();
    let (scale, unit, sign, d) = if means {
        (1.0, "", "+", 4)
    } else {
        (100.0, " pp", "+", 2)
    };
    let _ = writeln!(
        s,
        "\nlooks of analysis {} ({}), {} replicates",
        r.analysis, r.outcome, r.replicates
    );
    let _ = writeln!(s, "  efficacy   {}", r.efficacy);
    if let Some(f) = &r.futility {
        let _ = writeln!(s, "  futility   {f}");
    }
    let _ = writeln!(
        s,
        "  {:<6} {:>6} {:>12} {:>12} {:>10} {:>10} {:>20} {:>20}",
        "look",
        "month",
        "information",
        "(observed)",
        "efficacy z",
        "futility z",
        "stop for efficacy",
        "stop for futility"
    );
    for (k, l) in r.looks.iter().enumerate() {
        let _ = writeln!(
            s,
            "  {:<6} {:>6} {:>12} {:>12} {:>10} {:>10} {:>20} {:>20}",
            k + 1,
            format!("{:.1}", l.month),
            pct(l.planned_fraction),
            pct(l.observed_fraction),
            z(l.efficacy_z),
            l.futility_z.map_or_else(|| "-".into(), z),
            format!(
                "{:.4} ({:.4})",
                l.stop_efficacy.value, l.stop_efficacy.mc_se
            ),
            format!(
                "{:.4} ({:.4})",
                l.stop_futility.value, l.stop_futility.mc_se
            ),
        );
    }
    let _ = writeln!(s, "  (stopping probabilities with their MC SE in brackets)");
    let _ = writeln!(
        s,
        "  power, sequential   {:.4} (MC SE {:.4})",
        r.power.value, r.power.mc_se
    );
    let _ = writeln!(
        s,
        "  power, one look     {:.4} (MC SE {:.4}; the same replicates analysed once, at the last look)",
        r.fixed_power.value, r.fixed_power.mc_se
    );
    let _ = writeln!(
        s,
        "  expected enrolled   {} of {:.0}",
        est(
            r.expected_enrolled.value,
            r.expected_enrolled.mc_se,
            1.0,
            "",
            1
        ),
        r.max_enrolled
    );
    let _ = writeln!(
        s,
        "  expected analysed   {}",
        est(
            r.expected_analysed.value,
            r.expected_analysed.mc_se,
            1.0,
            "",
            1
        )
    );
    let _ = writeln!(
        s,
        "  expected duration   {} months, of {:.1}",
        est(
            r.expected_duration.value,
            r.expected_duration.mc_se,
            1.0,
            "",
            2
        ),
        r.max_duration
    );
    let truth = r
        .true_effect
        .map_or_else(|| "n/a".into(), |t| format!("{:+.d$}{unit}", t * scale));
    let _ = writeln!(
        s,
        "  estimate at stop    mean {:+.d$}{unit}; true effect {truth}{}",
        r.estimate.value * scale,
        r.bias.map_or_else(String::new, |b| format!(
            ", bias {:+.d$}{unit} (MC SE {:.d$}{unit}; the naive estimate after early stopping)",
            b.value * scale,
            b.mc_se * scale
        ))
    );
    if let Some(e) = r.estimate_early_efficacy {
        let _ = writeln!(
            s,
            "  stopped early for efficacy: mean estimate {sign}{}",
            est(e.value, e.mc_se, scale, unit, d)
        );
    }
    if r.undecided > 0 {
        let _ = writeln!(
            s,
            "  {} replicates had no analysable look and are left out of the expectations above",
            r.undecided
        );
    }
    s
}

/// The simulated looks as a Markdown section (the design report).
pub fn markdown(r: &SequentialReport, means: bool) -> String {
    let mut s = String::new();
    let (scale, unit) = if means { (1.0, "") } else { (100.0, " pp") };
    let _ = writeln!(
        s,
        "### Interim looks: analysis {} ({})\n",
        r.analysis, r.outcome
    );
    let _ = writeln!(
        s,
        "Efficacy boundary {}{}. {} replicates; the boundaries are re-computed by error spending on the information each replicate observed.\n",
        r.efficacy,
        r.futility
            .as_ref()
            .map_or_else(String::new, |f| format!("; futility: {f}")),
        r.replicates
    );
    let _ = writeln!(
        s,
        "| look | month | information | efficacy z | nominal alpha | cumulative alpha | futility z | P(stop, efficacy) | P(stop, futility) |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
    for (k, l) in r.looks.iter().enumerate() {
        let _ = writeln!(
            s,
            "| {} | {:.1} | {} | {} | {:.6} | {:.6} | {} | {:.4} ± {:.4} | {:.4} ± {:.4} |",
            k + 1,
            l.month,
            pct(l.planned_fraction),
            z(l.efficacy_z),
            l.nominal_alpha,
            l.cumulative_alpha,
            l.futility_z.map_or_else(|| "–".into(), z),
            l.stop_efficacy.value,
            l.stop_efficacy.mc_se,
            l.stop_futility.value,
            l.stop_futility.mc_se
        );
    }
    let _ = writeln!(s, "\n(± one Monte Carlo standard error)\n");
    let _ = writeln!(s, "| quantity | value | MC SE |\n|---|---|---|");
    let _ = writeln!(
        s,
        "| power, sequential | {:.4} | {:.4} |",
        r.power.value, r.power.mc_se
    );
    let _ = writeln!(
        s,
        "| power, one analysis at the last look | {:.4} | {:.4} |",
        r.fixed_power.value, r.fixed_power.mc_se
    );
    let _ = writeln!(
        s,
        "| expected participants enrolled (of {:.0}) | {:.1} | {:.1} |",
        r.max_enrolled, r.expected_enrolled.value, r.expected_enrolled.mc_se
    );
    let _ = writeln!(
        s,
        "| expected duration, months (of {:.1}) | {:.2} | {:.2} |",
        r.max_duration, r.expected_duration.value, r.expected_duration.mc_se
    );
    if let Some(b) = r.bias {
        let _ = writeln!(
            s,
            "| bias of the naive estimate at stopping{unit} | {:+.2} | {:.2} |",
            b.value * scale,
            b.mc_se * scale
        );
    }
    s
}

/// `analyze --look K`: the decision at the look, in words.
pub fn look_text(l: &crate::sequential::LookAnalysis, means: bool) -> String {
    use crate::sequential::Verdict;
    let mut s = String::new();
    let (scale, unit, d) = if means {
        (1.0, "", 4)
    } else {
        (100.0, " pp", 2)
    };
    let e = |x: f64| {
        if x.is_finite() {
            format!("{:+.d$}{unit}", x * scale)
        } else {
            "unbounded".into()
        }
    };
    let st = &l.statistic;
    let _ = writeln!(
        s,
        "\nLook {} of {} of analysis {} ({})",
        l.look, l.looks, l.analysis, l.outcome
    );
    let _ = writeln!(
        s,
        "  analysed       {} treatment, {} control; information {} (fractions spent on: {})",
        st.n_treatment,
        st.n_control,
        pct(l.fractions[l.look - 1]),
        l.fractions
            .iter()
            .map(|&f| pct(f))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        s,
        "  estimate       {} (SE {})",
        e(st.estimate),
        e(st.se).trim_start_matches('+')
    );
    let _ = writeln!(
        s,
        "  statistic      z = {:.4}; efficacy boundary {}{}",
        st.z,
        z(l.efficacy_z),
        l.futility_z
            .map_or_else(String::new, |f| format!(", futility boundary {}", z(f)))
    );
    if let Some(cp) = l.conditional_power {
        let _ = writeln!(
            s,
            "  conditional power under the current trend: {}",
            pct(cp)
        );
    }
    let verdict = match l.verdict {
        Verdict::Efficacy => "the efficacy boundary is crossed: stop and reject H0",
        Verdict::Futility => "the futility rule is met: stop for futility (H0 not rejected)",
        Verdict::Accept => "the last look does not cross the boundary: H0 not rejected",
        Verdict::Continue => "no boundary is crossed: continue to the next look",
    };
    let _ = writeln!(s, "  decision       {verdict}");
    let _ = writeln!(
        s,
        "  repeated CI    {} to {}",
        e(l.repeated_ci.0),
        e(l.repeated_ci.1)
    );
    if let Some(f) = &l.final_inference {
        let _ = writeln!(s, "  final inference (stage-wise ordering)");
        let _ = writeln!(s, "    adjusted p        {:.6}", f.p_value);
        let _ = writeln!(s, "    median-unbiased   {}", e(f.median_unbiased));
        let _ = writeln!(s, "    final CI          {} to {}", e(f.lower), e(f.upper));
    }
    s
}
