//! Interim looks of an analysis: `looks at ...`, `efficacy ...`, `futility ...`
//! (docs/sequential.md). Checked once the rest of the model stands, because the information a
//! calendar look sees follows from the intake schedule and the month the outcome is read.

use super::*;
use crate::stats::sequential::{self as seq, BetaSpending, Efficacy, Spending};

const SPENDING: [&str; 4] = ["obrien_fleming", "pocock", "hsd", "haybittle_peto"];
/// Range of the Hwang–Shih–DeCani parameter accepted (rpact's is −10 to 5 for its tables; the
/// function itself is defined for every γ, and beyond ±10 it spends nothing or everything early).
const GAMMA: (f64, f64) = (-10.0, 10.0);

/// The sequential plan of analysis `a` (index `i` in `model.analyses`): `Some(None)` when the
/// analysis has no looks, `None` after an error.
pub(super) fn plan(
    cx: &mut Cx<'_>,
    a: &ast::Analysis,
    model: &TrialModel,
    i: usize,
) -> Option<Option<SequentialPlan>> {
    let Some(looks) = a.looks.first() else {
        if let Some(s) = a
            .efficacy
            .first()
            .map(|e| e.span)
            .or_else(|| a.futility.first().map(ast::Futility::span))
        {
            let e = cx
                .diag(
                    Kind::MissingSection,
                    format!("analysis `{}` has a stopping boundary but no looks", a.name.name),
                )
                .label(s, "a boundary for interim looks")
                .help("state the looks: `looks at 18, 27, 36 months` or `looks at 33%, 67%, 100% information`");
            cx.push(e);
            return None;
        }
        return Some(None);
    };
    for x in &a.looks[1..] {
        cx.duplicate("`looks`", looks.span, x.span);
    }
    for x in a.efficacy.iter().skip(1) {
        cx.duplicate("`efficacy`", a.efficacy[0].span, x.span);
    }
    for x in a.futility.iter().skip(1) {
        cx.duplicate("`futility`", a.futility[0].span(), x.span());
    }
    let analysis = &model.analyses[i];
    let mut ok = true;
    // One z statistic per look: one outcome, no subgroups, a test with a z (or t) statistic.
    if let Some(c) = a.compares.first() {
        if c.outcomes.len() > 1 {
            let e = cx
                .diag(
                    Kind::Conflict,
                    "interim looks test one outcome; this analysis compares several",
                )
                .label(c.outcomes[1].span, "a second outcome")
                .label(looks.span, "the looks")
                .help("put the other outcomes in an analysis of their own");
            cx.push(e);
            ok = false;
        }
        if let Some((v, _)) = &c.within {
            let e = cx
                .diag(
                    Kind::Conflict,
                    "interim looks are not taken within subgroups",
                )
                .label(v.span, "a subgroup analysis")
                .label(looks.span, "the looks")
                .help("analyse the subgroups in an analysis without looks");
            cx.push(e);
            ok = false;
        }
    }
    if matches!(analysis.test, TestKind::FisherExact | TestKind::ClusterT) {
        let e = cx
            .diag(
                Kind::TestMismatch,
                format!(
                    "interim looks need a z or t statistic; {} has none",
                    test_name(analysis.test)
                ),
            )
            .label(looks.span, "the looks")
            .help("use `pooled_z` or `unpooled_z` (binary outcomes) or `welch_t` (continuous)");
        cx.push(e);
        ok = false;
    }
    let efficacy = match a.efficacy.first() {
        None => {
            let e = cx
                .diag(
                    Kind::MissingSection,
                    format!(
                        "analysis `{}` has looks but no efficacy boundary",
                        a.name.name
                    ),
                )
                .label(looks.span, "the looks")
                .help("add `efficacy obrien_fleming` (or `pocock`, `hsd(-4)`, `haybittle_peto`)");
            cx.push(e);
            None
        }
        Some(f) => efficacy(cx, f),
    };
    let futility = match a.futility.first() {
        None => Some(None),
        Some(f) => futility(cx, f, analysis).map(Some),
    };
    if analysis.sides == Sides::TwoSided
        && let Some(f) = a.futility.first()
    {
        let e = cx
            .diag(Kind::Conflict, "futility stopping is for one-sided tests")
            .label(f.span(), "a futility rule")
            .help("test `one_sided greater` (or `less`), or drop the futility rule");
        cx.push(e);
        ok = false;
    }
    // `power(...)` of the plan would be the power of one analysis at the end, not of the looks.
    if model.expectations.iter().any(|x| x.analysis == i) {
        let e = cx
            .diag(
                Kind::Conflict,
                format!(
                    "an expectation about analysis `{}` would judge one analysis at the end, not its interim looks",
                    a.name.name
                ),
            )
            .label(looks.span, "this analysis has interim looks")
            .help("read the sequential power in `power`'s looks section; expectations about analyses with looks are not evaluated");
        cx.push(e);
        ok = false;
    }
    let schedule = schedule(cx, looks)?;
    let fractions = planned_fractions(cx, looks, &schedule, model, analysis)?;
    let efficacy = efficacy?;
    let futility = futility?;
    if !ok {
        return None;
    }
    let mut plan = SequentialPlan {
        looks: schedule,
        efficacy,
        futility,
        planned_fractions: fractions.clone(),
        boundaries: seq::Boundaries {
            fractions: Vec::new(),
            efficacy: Vec::new(),
            futility: Vec::new(),
            cumulative_alpha: Vec::new(),
            nominal_alpha: Vec::new(),
            drift: None,
            two_sided: false,
            binding: false,
        },
    };
    match seq::boundaries(&plan.design(analysis.alpha, analysis.sides, fractions)) {
        Ok(b) => plan.boundaries = b,
        Err(err) => {
            let e = cx
                .diag(Kind::InvalidValue, format!("these looks have no boundaries: {err}"))
                .label(looks.span, "the looks")
                .help("with `haybittle_peto`, alpha must exceed what z ≥ 3 spends at the interim looks");
            cx.push(e);
            return None;
        }
    }
    Some(Some(plan))
}

fn spending(cx: &mut Cx<'_>, f: &ast::SpendingFn, allow_hp: bool) -> Option<Efficacy> {
    let param = |cx: &mut Cx<'_>, wanted: bool| -> Option<Option<f64>> {
        match (&f.parameter, wanted) {
            (Some(p), false) => {
                let e = cx
                    .diag(
                        Kind::InvalidValue,
                        format!("`{}` takes no parameter", f.name.name),
                    )
                    .label(p.span, "not used")
                    .help(format!("write `{}`", f.name.name));
                cx.push(e);
                None
            }
            (None, true) => {
                let e = cx
                    .diag(Kind::InvalidValue, "`hsd` needs its parameter gamma")
                    .label(f.span, "no gamma")
                    .help("write `hsd(-4)` (O'Brien–Fleming-like) or `hsd(1)` (Pocock-like)");
                cx.push(e);
                None
            }
            (Some(p), true) => {
                if p.value.is_finite() && (GAMMA.0..=GAMMA.1).contains(&p.value) {
                    Some(Some(p.value))
                } else {
                    let e = cx
                        .diag(
                            Kind::InvalidValue,
                            format!("the Hwang–Shih–DeCani gamma {} is out of range", p.value),
                        )
                        .label(p.span, format!("must lie in [{}, {}]", GAMMA.0, GAMMA.1))
                        .help("gamma −4 spends like O'Brien–Fleming, 1 like Pocock");
                    cx.push(e);
                    None
                }
            }
            (None, false) => Some(None),
        }
    };
    match f.name.name.as_str() {
        "obrien_fleming" => param(cx, false).map(|_| Efficacy::Spending(Spending::OBrienFleming)),
        "pocock" => param(cx, false).map(|_| Efficacy::Spending(Spending::Pocock)),
        "hsd" => param(cx, true).map(|g| Efficacy::Spending(Spending::Hsd(g.unwrap_or(0.0)))),
        "haybittle_peto" if allow_hp => param(cx, false).map(|_| Efficacy::HaybittlePeto),
        other => {
            let list: &[&str] = if allow_hp { &SPENDING } else { &SPENDING[..3] };
            let e = cx
                .diag(
                    Kind::UnknownSpending,
                    format!("there is no spending function `{other}`"),
                )
                .label(f.name.span, "unknown spending function")
                .help(suggest::help_with(
                    other,
                    list,
                    if allow_hp {
                        "Boundaries are `obrien_fleming`, `pocock`, `hsd(gamma)` and `haybittle_peto`."
                    } else {
                        "Beta spending uses `obrien_fleming`, `pocock` or `hsd(gamma)`."
                    },
                ));
            cx.push(e);
            None
        }
    }
}

fn efficacy(cx: &mut Cx<'_>, f: &ast::SpendingFn) -> Option<Efficacy> {
    spending(cx, f, true)
}

fn futility(cx: &mut Cx<'_>, f: &ast::Futility, analysis: &Analysis) -> Option<FutilityRule> {
    match f {
        ast::Futility::BetaSpending {
            spending: s,
            power,
            binding,
            ..
        } => {
            let sp = match spending(cx, s, false) {
                Some(Efficacy::Spending(sp)) => Some(sp),
                _ => None,
            };
            let p = cx.prob(power, "the design's power")?;
            if p <= analysis.alpha || p >= 1.0 {
                let e = cx
                    .diag(
                        Kind::InvalidValue,
                        format!(
                            "a design power of {}% cannot set a futility boundary",
                            pct(p)
                        ),
                    )
                    .label(power.span, "must lie between alpha and 100%")
                    .help("the power the design is planned for, e.g. `power 80%`");
                cx.push(e);
                return None;
            }
            Some(FutilityRule::BetaSpending(BetaSpending {
                spending: sp?,
                // 1 − 80 % is 0.2, not 0.19999999999999996.
                beta: ((1.0 - p) * 1e12).round() / 1e12,
                binding: *binding,
            }))
        }
        ast::Futility::ConditionalPower { below, .. } => {
            let p = cx.prob(below, "the conditional-power threshold")?;
            if p <= 0.0 || p >= 1.0 {
                let e = cx
                    .diag(
                        Kind::InvalidValue,
                        "a conditional-power threshold must lie strictly between 0% and 100%",
                    )
                    .label(below.span, "out of range")
                    .help("the usual choice is `conditional_power below 10%`");
                cx.push(e);
                return None;
            }
            Some(FutilityRule::ConditionalPower { below: p })
        }
    }
}

/// The looks as written: months or fractions, increasing.
fn schedule(cx: &mut Cx<'_>, looks: &ast::Looks) -> Option<LookSchedule> {
    let last = looks.values.last()?;
    let unit = last.unit;
    let mut bad = false;
    for q in &looks.values {
        if q.unit != UnitSpec::None && q.unit != unit {
            cx.unit_mismatch(
                q,
                q.unit,
                unit.describe(),
                "a look",
                "looks at 18, 27, 36 months",
            );
            bad = true;
        }
    }
    let (want, example) = if looks.information {
        (UnitSpec::Percent, "looks at 33%, 67%, 100% information")
    } else {
        (UnitSpec::Months, "looks at 18, 27, 36 months")
    };
    if unit != want {
        cx.unit_mismatch(
            last,
            unit,
            if looks.information {
                "a percentage"
            } else {
                "months"
            },
            "the looks",
            example,
        );
        return None;
    }
    if bad {
        return None;
    }
    let values: Vec<f64> = looks.values.iter().map(|q| q.value).collect();
    for (k, w) in values.windows(2).enumerate() {
        if w[1] <= w[0] {
            let e = cx
                .diag(
                    Kind::LooksNotIncreasing,
                    "the looks must come one after another",
                )
                .label(looks.values[k + 1].span, "not after the look before it")
                .label(looks.values[k].span, "the look before")
                .help("list the looks in increasing order, each later than the one before");
            cx.push(e);
            return None;
        }
    }
    if looks.information {
        for q in &looks.values {
            if !(q.value > 0.0 && q.value <= 100.0) {
                let e = cx
                    .diag(
                        Kind::InvalidValue,
                        format!(
                            "a look at {}% information is not a share of the information",
                            q.value
                        ),
                    )
                    .label(q.span, "must lie in (0%, 100%]")
                    .help("information fractions lie between 0% and 100%");
                cx.push(e);
                return None;
            }
        }
        if (last.value - 100.0).abs() > 1e-9 {
            let e = cx
                .diag(
                    Kind::InvalidValue,
                    "the last look must be at 100% information",
                )
                .label(last.span, "the final analysis")
                .help("end the looks with `100%`: the final analysis sees every outcome");
            cx.push(e);
            return None;
        }
        Some(LookSchedule::Information(
            values.iter().map(|v| v / 100.0).collect(),
        ))
    } else {
        for q in &looks.values {
            if !(q.value >= 1.0 && q.value.fract() == 0.0 && q.value <= MAX_WHOLE as f64) {
                let e = cx
                    .diag(
                        Kind::InvalidValue,
                        format!(
                            "a look at month {} is not a whole month after the first intake",
                            q.value
                        ),
                    )
                    .label(q.span, "a whole number of months, at least 1")
                    .help(format!("for example `{example}`"));
                cx.push(e);
                return None;
            }
        }
        Some(LookSchedule::Months(
            values.iter().map(|v| *v as u32).collect(),
        ))
    }
}

/// Planned information fractions: the share of the participants whose outcome is due by each
/// look, under the intake schedule of the inflow.
fn planned_fractions(
    cx: &mut Cx<'_>,
    looks: &ast::Looks,
    schedule: &LookSchedule,
    model: &TrialModel,
    analysis: &Analysis,
) -> Option<Vec<f64>> {
    let due = model.due_month(analysis);
    let Some(inflow) = &model.delivery.inflow else {
        let seen = match schedule {
            LookSchedule::Months(m) => m
                .iter()
                .map(|&l| if l >= due { "100%" } else { "0%" })
                .collect::<Vec<_>>()
                .join(", "),
            LookSchedule::Information(_) => {
                "0% until month {due}, then 100%".replace("{due}", &due.to_string())
            }
        };
        let e = cx
            .diag(
                Kind::LooksNeedStaggeredIntake,
                format!(
                    "with simultaneous intake every outcome is due at month {due}: the looks see {seen} of the outcomes"
                ),
            )
            .label(looks.span, "interim looks need participants entering over time")
            .help("stagger the intake with an inflow: `inflow 15 per month, analysis at month 36` (an intake rate alone does not date each participant's entry)");
        cx.push(e);
        return None;
    };
    let Some(n) = model
        .sample
        .as_ref()
        .map(|s| s.iter().sum::<u32>() as usize)
    else {
        let e = cx
            .diag(
                Kind::MissingSection,
                "interim looks need a fixed sample, to know what share of it each look sees",
            )
            .label(looks.span, "the looks")
            .help("state the sample: `sample 180 per arm`");
        cx.push(e);
        return None;
    };
    let entries = crate::sim::entry_months(inflow, n);
    let mut dues: Vec<u32> = entries.iter().map(|e| e + due).collect();
    dues.sort_unstable();
    match schedule {
        LookSchedule::Information(t) => Some(t.clone()),
        LookSchedule::Months(months) => {
            let last = *months.last()?;
            if last > inflow.analysis_month {
                let e = cx
                    .diag(
                        Kind::LookAfterFollowUp,
                        format!(
                            "the look at month {last} comes after the analysis date, month {}",
                            inflow.analysis_month
                        ),
                    )
                    .label(looks.values[looks.values.len() - 1].span, "after the analysis date")
                    .help("the last look is the final analysis: at or before the inflow's `analysis at month M`");
                cx.push(e);
                return None;
            }
            let counts: Vec<usize> = months
                .iter()
                .map(|&l| dues.partition_point(|&d| d <= l))
                .collect();
            let total = *counts.last()?;
            for (k, &c) in counts.iter().enumerate() {
                let before = if k == 0 { 0 } else { counts[k - 1] };
                if c == before {
                    let e = cx
                        .diag(
                            Kind::LooksNeedStaggeredIntake,
                            format!(
                                "the look at month {} sees no outcome that the look before it did not (the first is due at month {})",
                                months[k], dues.first().copied().unwrap_or(due)
                            ),
                        )
                        .label(looks.values[k].span, "no new information")
                        .help(format!(
                            "outcomes are due {due} months after intake; move the look later"
                        ));
                    cx.push(e);
                    return None;
                }
            }
            Some(counts.iter().map(|&c| c as f64 / total as f64).collect())
        }
    }
}
