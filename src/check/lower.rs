//! The lowering itself: one pass per section, every problem recorded, nothing aborts early.

use std::collections::HashMap;

mod delivery;

use super::diagnostics::{CheckError, Kind};
use super::suggest;
use crate::model::{self, *};
use crate::source::{SourceFile, Span};
use crate::syntax::ast::{self, Quantity, Share, UnitSpec};

/// Default hours per month of a job when the spec does not say.
const DEFAULT_HOURS: Distribution = Distribution::Uniform {
    low: 8.0,
    high: 160.0,
};
/// Default significance level.
const DEFAULT_ALPHA: f64 = 0.05;
/// Default follow-up when no outcome names a month.
const DEFAULT_FOLLOW_UP: u32 = 12;
/// Tolerance for shares adding up to 100 %.
const SHARE_TOL: f64 = 1e-6;

struct Cx<'a> {
    src: &'a SourceFile,
    diags: Vec<CheckError>,
}

impl Cx<'_> {
    fn push(&mut self, e: CheckError) {
        self.diags.push(e);
    }

    fn diag(&self, kind: Kind, msg: impl Into<String>) -> CheckError {
        CheckError::new(self.src, kind, msg)
    }

    /// A probability from a percentage (or a plain proportion).
    fn prob(&mut self, q: &Quantity, what: &str) -> Option<f64> {
        let p = match q.unit {
            UnitSpec::Percent => q.value / 100.0,
            UnitSpec::None => q.value,
            other => {
                self.unit_mismatch(q, other, "a percentage", what, "25%");
                return None;
            }
        };
        if !(0.0..=1.0).contains(&p) || !p.is_finite() {
            let shown = match q.unit {
                UnitSpec::Percent => format!("{}%", q.value),
                _ => format!("{}", q.value),
            };
            let help = if q.unit == UnitSpec::None && q.value > 1.0 && q.value <= 100.0 {
                format!(
                    "a plain number is a proportion between 0 and 1; write `{}%`",
                    q.value
                )
            } else {
                "a probability lies between 0% and 100%".to_string()
            };
            let e = self
                .diag(
                    Kind::ProbabilityRange,
                    format!("{what} {shown} is not a probability"),
                )
                .label(q.span, "must be between 0% and 100%")
                .help(help);
            self.push(e);
            return None;
        }
        Some(p)
    }

    fn unit_mismatch(
        &mut self,
        q: &Quantity,
        got: UnitSpec,
        want: &str,
        what: &str,
        example: &str,
    ) {
        let e = self
            .diag(
                Kind::UnitMismatch,
                format!("{what} needs {want}, but this is {}", got.describe()),
            )
            .label(q.span, format!("expected {want}"))
            .help(format!("write it like `{example}`"));
        self.push(e);
    }

    /// A duration in months (from months, weeks or years).
    fn months(&mut self, q: &Quantity, what: &str) -> Option<f64> {
        let m = match q.unit {
            UnitSpec::Months => q.value,
            UnitSpec::Years => q.value * 12.0,
            UnitSpec::Weeks => q.value * 12.0 / 52.0,
            other => {
                self.unit_mismatch(q, other, "a duration in months", what, "12 months");
                return None;
            }
        };
        if m < 0.0 || !m.is_finite() {
            let e = self
                .diag(Kind::InvalidValue, format!("{what} cannot be negative"))
                .label(q.span, "negative duration")
                .help("durations count months from intake (t = 0)");
            self.push(e);
            return None;
        }
        Some(m)
    }

    /// A whole number of months.
    fn whole_months(&mut self, q: &Quantity, what: &str) -> Option<u32> {
        let m = self.months(q, what)?;
        self.whole(m, q.span, what, "months")
    }

    fn whole(&mut self, m: f64, span: Span, what: &str, unit: &str) -> Option<u32> {
        let r = m.round();
        if (m - r).abs() > 1e-9 || !(0.0..=1.0e6).contains(&r) {
            let e = self
                .diag(
                    Kind::InvalidValue,
                    format!("{what} must be a whole number of {unit}"),
                )
                .label(span, format!("{m} is not a whole number of {unit}"))
                .help(format!("round it to whole {unit}"));
            self.push(e);
            return None;
        }
        Some(r as u32)
    }

    fn count(&mut self, n: &ast::Number, what: &str, min: u32) -> Option<u32> {
        let v = self.whole(n.value, n.span, what, "units")?;
        if v < min {
            let e = self
                .diag(Kind::InvalidValue, format!("{what} must be at least {min}"))
                .label(n.span, "too small");
            self.push(e);
            return None;
        }
        Some(v)
    }

    /// Hours per month (from `hours` or `hours per week`; a plain number is hours per month).
    fn hours(&mut self, q: &Quantity, what: &str) -> Option<f64> {
        match q.unit {
            UnitSpec::Hours | UnitSpec::None => Some(q.value),
            UnitSpec::HoursPerWeek => Some(q.value * 52.0 / 12.0),
            other => {
                self.unit_mismatch(q, other, "hours", what, "48 hours");
                None
            }
        }
    }

    fn duplicate(&mut self, what: &str, first: Span, again: Span) {
        let e = self
            .diag(Kind::Duplicate, format!("{what} is given twice"))
            .label(again, "given again here")
            .label(first, "first given here")
            .help("keep one of them");
        self.push(e);
    }
}

/// Names declared in the spec, for resolution.
struct Names<'s> {
    arms: Vec<&'s ast::Arm>,
    /// Path names per arm (declared, or the arm's own name).
    paths: Vec<Vec<String>>,
    outcomes: Vec<&'s ast::Outcome>,
    vars: Vec<Variable>,
    var_spans: Vec<Span>,
}

impl Names<'_> {
    fn arm(&self, cx: &mut Cx<'_>, id: &ast::Ident) -> Option<ArmId> {
        if let Some(i) = self.arms.iter().position(|a| a.name.name == id.name) {
            return Some(i);
        }
        let names: Vec<&str> = self.arms.iter().map(|a| a.name.name.as_str()).collect();
        let e = cx
            .diag(Kind::UnknownArm, format!("there is no arm `{}`", id.name))
            .label(id.span, "unknown arm")
            .help(suggest::help("arm", &id.name, &names));
        cx.push(e);
        None
    }

    fn outcome(&self, cx: &mut Cx<'_>, id: &ast::Ident) -> Option<OutcomeId> {
        if let Some(i) = self.outcomes.iter().position(|o| o.name.name == id.name) {
            return Some(i);
        }
        let names: Vec<&str> = self.outcomes.iter().map(|o| o.name.name.as_str()).collect();
        let e = cx
            .diag(
                Kind::UnknownOutcome,
                format!("there is no outcome `{}`", id.name),
            )
            .label(id.span, "unknown outcome")
            .help(suggest::help("outcome", &id.name, &names));
        cx.push(e);
        None
    }

    fn var(&self, cx: &mut Cx<'_>, id: &ast::Ident) -> Option<VarId> {
        if let Some(i) = self.vars.iter().position(|v| v.name == id.name) {
            return Some(i);
        }
        let names: Vec<&str> = self.vars.iter().map(|v| v.name.as_str()).collect();
        let mut help = suggest::help("variable", &id.name, &names);
        if names.is_empty() {
            help = "declare it in `population { }`, e.g. `background ~ categorical { dutch: 43%, other: rest }`"
                .to_string();
        }
        let e = cx
            .diag(
                Kind::UnknownVariable,
                format!("there is no population variable `{}`", id.name),
            )
            .label(id.span, "unknown variable")
            .help(help);
        cx.push(e);
        None
    }

    /// A categorical variable (for subgroups, strata, `by`).
    fn categorical(&self, cx: &mut Cx<'_>, id: &ast::Ident, what: &str) -> Option<VarId> {
        let v = self.var(cx, id)?;
        if self.vars[v].levels().is_none() {
            let e = cx
                .diag(
                    Kind::SubgroupNotCategorical,
                    format!("{what} `{}` is not categorical", id.name),
                )
                .label(id.span, "a numeric variable has no levels")
                .label(self.var_spans[v], "declared here")
                .help("subgroups, strata and `by` need a variable declared with `categorical { ... }`");
            cx.push(e);
            return None;
        }
        Some(v)
    }

    fn level(&self, cx: &mut Cx<'_>, var: VarId, id: &ast::Ident) -> Option<usize> {
        let levels = self.vars[var].levels().unwrap_or(&[]);
        if let Some(i) = levels.iter().position(|l| l.name == id.name) {
            return Some(i);
        }
        let names: Vec<&str> = levels.iter().map(|l| l.name.as_str()).collect();
        let e = cx
            .diag(
                Kind::UnknownLevel,
                format!("`{}` has no level `{}`", self.vars[var].name, id.name),
            )
            .label(id.span, "unknown level")
            .help(suggest::help("level", &id.name, &names));
        cx.push(e);
        None
    }

    fn process(&self, cx: &mut Cx<'_>, r: &ast::ProcessRef) -> Option<ProcessRef> {
        let arm = self.arm(cx, &r.arm)?;
        let path = match &r.path {
            None => None,
            Some(p) => {
                let paths = &self.paths[arm];
                match paths.iter().position(|n| *n == p.name) {
                    Some(i) => Some(i),
                    None => {
                        let names: Vec<&str> = paths.iter().map(String::as_str).collect();
                        let e = cx
                            .diag(
                                Kind::UnknownPath,
                                format!("arm `{}` has no path `{}`", r.arm.name, p.name),
                            )
                            .label(p.span, "unknown path")
                            .help(suggest::help("path", &p.name, &names));
                        cx.push(e);
                        return None;
                    }
                }
            }
        };
        Some(ProcessRef { arm, path })
    }
}

/// Collects singleton statements, reporting repeats.
fn single<'s, T>(cx: &mut Cx<'_>, what: &str, items: Vec<(&'s T, Span)>) -> Option<(&'s T, Span)> {
    let first = items.first().copied();
    if let Some((_, fs)) = first {
        for (_, s) in items.iter().skip(1) {
            cx.duplicate(what, fs, *s);
        }
    }
    first
}

/// Resolves shares with at most one `rest`; errors when they exceed or miss 100 %.
fn shares(cx: &mut Cx<'_>, what: &str, owner: Span, items: &[(&str, &Share)]) -> Option<Vec<f64>> {
    let mut out = Vec::with_capacity(items.len());
    let mut rest: Option<(usize, Span)> = None;
    let mut ok = true;
    for (i, (name, share)) in items.iter().enumerate() {
        match share {
            Share::Rest(span) => {
                if let Some((_, first)) = rest {
                    cx.duplicate("`rest`", first, *span);
                    ok = false;
                }
                rest = Some((i, *span));
                out.push(0.0);
            }
            Share::Value(q) => match cx.prob(q, &format!("the share of `{name}`")) {
                Some(p) => out.push(p),
                None => {
                    ok = false;
                    out.push(0.0);
                }
            },
        }
    }
    if !ok {
        return None;
    }
    let total: f64 = out.iter().sum();
    if total > 1.0 + SHARE_TOL {
        let mut e = cx
            .diag(
                Kind::SharesOver,
                format!("the shares of {what} add up to {}%", pct(total)),
            )
            .label(owner, format!("{}% in total", pct(total)));
        for (_, share) in items {
            e = e.label(share.span(), "");
        }
        cx.push(e.help("shares are parts of one whole; together they must make 100%"));
        return None;
    }
    match rest {
        Some((i, _)) => out[i] = (1.0 - total).max(0.0),
        None if (total - 1.0).abs() > SHARE_TOL => {
            let e = cx
                .diag(
                    Kind::SharesUnder,
                    format!("the shares of {what} add up to {}%, not 100%", pct(total)),
                )
                .label(owner, format!("{}% in total", pct(total)))
                .help(format!(
                    "give the remaining {}% to one of them, or write `rest` for the last share",
                    pct(1.0 - total)
                ));
            cx.push(e);
            return None;
        }
        None => {}
    }
    Some(out)
}

fn pct(p: f64) -> String {
    let v = (p * 100.0 * 1e6).round() / 1e6;
    format!("{v}")
}

/// Lowers the tree into a model; returns every diagnostic found.
pub(crate) fn lower(src: &SourceFile, spec: &ast::Spec) -> (Option<TrialModel>, Vec<CheckError>) {
    let mut cx = Cx {
        src,
        diags: Vec::new(),
    };
    let model = lower_spec(&mut cx, spec);
    (model, cx.diags)
}

#[allow(clippy::too_many_lines)]
fn lower_spec(cx: &mut Cx<'_>, spec: &ast::Spec) -> Option<TrialModel> {
    use ast::Item;
    let mut follow_ups = Vec::new();
    let mut dates = Vec::new();
    let mut pops = Vec::new();
    let mut eligs = Vec::new();
    let mut assigns = Vec::new();
    let mut samples = Vec::new();
    let mut emps = Vec::new();
    let mut arms: Vec<&ast::Arm> = Vec::new();
    let mut outcomes: Vec<&ast::Outcome> = Vec::new();
    let mut analyses: Vec<&ast::Analysis> = Vec::new();
    let mut expects = Vec::new();
    let mut datas = Vec::new();
    let mut inflows: Vec<&ast::Inflow> = Vec::new();
    let mut costs: Vec<&ast::Costs> = Vec::new();
    for item in &spec.items {
        match item {
            Item::FollowUp(q, s) => follow_ups.push((q, *s)),
            Item::ReferenceDate(d, s) => dates.push((d, *s)),
            Item::Population(p) => pops.push((p, p.span)),
            Item::Eligibility(e) => eligs.push((e, e.span)),
            Item::Assignment(a) => assigns.push((a, a.span)),
            Item::Sample(s) => samples.push((s, s.span())),
            Item::Employment(e) => emps.push((e, e.span)),
            Item::Arm(a) => arms.push(a),
            Item::Outcome(o) => outcomes.push(o),
            Item::Analysis(a) => analyses.push(a),
            Item::Expect(e) => expects.push(e),
            Item::Data(d) => datas.push((d, d.span)),
            Item::Inflow(i) => inflows.push(i),
            Item::Costs(c) => costs.push(c),
        }
    }
    let follow_up = single(cx, "`follow_up`", follow_ups);
    let date = single(cx, "`reference_date`", dates);
    let pop = single(cx, "the `population` block", pops);
    let elig = single(cx, "the `eligibility` block", eligs);
    let assign = single(cx, "the `assignment` block", assigns);
    let sample = single(cx, "`sample`", samples);
    let emp = single(cx, "the `employment` block", emps);
    let data = single(cx, "the `data` block", datas);

    // Unique names.
    let arms = dedup(cx, "arm", arms, |a| &a.name);
    let outcomes = dedup(cx, "outcome", outcomes, |o| &o.name);
    let analyses = dedup(cx, "analysis", analyses, |a| &a.name);
    if arms.len() < 2 {
        let e = cx
            .diag(
                Kind::MissingSection,
                format!(
                    "a trial needs at least two arms; this one declares {}",
                    arms.len()
                ),
            )
            .label(spec.title_span, "in this trial")
            .help("add `arm experiment { ... }` and `arm control { ... }` blocks");
        cx.push(e);
    }
    if outcomes.is_empty() {
        let e = cx
            .diag(Kind::MissingSection, "the trial declares no outcome")
            .label(spec.title_span, "in this trial")
            .help("add an outcome, e.g. `outcome work_12m = worked within 12 months, hours >= 1`");
        cx.push(e);
    }

    // Population.
    let (pool, vars, var_spans) = match pop {
        Some((p, _)) => population(cx, p),
        None => (None, Vec::new(), Vec::new()),
    };
    let paths: Vec<Vec<String>> = arms
        .iter()
        .map(|a| {
            if a.paths.is_empty() {
                vec![a.name.name.clone()]
            } else {
                a.paths.iter().map(|p| p.name.name.clone()).collect()
            }
        })
        .collect();
    let names = Names {
        arms: arms.clone(),
        paths,
        outcomes: outcomes.clone(),
        vars,
        var_spans,
    };

    // Outcomes (need follow-up, which defaults from them).
    let mut measures = Vec::new();
    let mut latest: Option<(u32, Span)> = None;
    for o in &outcomes {
        let m = measure(cx, o);
        if let Some((m, month)) = &m {
            let _ = m;
            if let Some(month) = month
                && latest.is_none_or(|(l, _)| month.0 > l)
            {
                latest = Some(*month);
            }
        }
        measures.push(m.map(|(m, _)| m));
    }
    let follow_up_months = match follow_up {
        Some((q, s)) => {
            let f = cx.whole_months(q, "`follow_up`");
            if let (Some(f), Some((month, ms))) = (f, latest)
                && month > f
            {
                let e = cx
                    .diag(
                        Kind::OutcomeAfterFollowUp,
                        format!("an outcome is measured at month {month}, after follow-up ends at month {f}"),
                    )
                    .label(ms, format!("month {month}"))
                    .label(s, format!("follow-up ends at month {f}"))
                    .help(format!(
                        "measure at month {f} or earlier, or extend `follow_up` to {month} months"
                    ));
                cx.push(e);
            }
            f
        }
        None => Some(latest.map_or(DEFAULT_FOLLOW_UP, |(m, _)| m.max(1))),
    };
    let follow_up_span = follow_up.map(|(_, s)| s);

    // Reference date.
    let reference_date = date.and_then(|(d, s)| {
        if valid_date(d) {
            Some(d.clone())
        } else {
            let e = cx
                .diag(Kind::InvalidDate, format!("`{d}` is not a calendar date"))
                .label(s, "invalid date")
                .help("write the date as YYYY-MM-DD, e.g. `2017-09-01`");
            cx.push(e);
            None
        }
    });

    let eligibility = match elig {
        Some((e, _)) => eligibility(cx, &names, e),
        None => Some(Eligibility {
            criteria: Vec::new(),
            screening: None,
        }),
    };
    let assignment = assignment(cx, &names, assign.map(|a| a.0));
    let clusters = delivery::clusters(cx, assign.map(|a| a.0));
    let cluster_sample = matches!(sample, Some((ast::Sample::Clusters(..), _)));
    let sample = sample.and_then(|(s, span)| {
        let sizes = sample_sizes(cx, &names, s)?;
        if !cluster_sample {
            return Some(sizes);
        }
        match &clusters {
            Some(Some(c)) => Some(sizes.iter().map(|k| k.saturating_mul(c.size)).collect()),
            Some(None) => {
                let e = cx
                    .diag(
                        Kind::MissingSection,
                        "the sample counts clusters, but the assignment randomises no clusters",
                    )
                    .label(span, "clusters per arm")
                    .help("randomise clusters in the assignment: `randomise 1:1 by cohort of 22, icc 5%`");
                cx.push(e);
                None
            }
            None => None,
        }
    });
    let inflow = delivery::inflow(cx, &inflows);
    let employment = employment(cx, emp.map(|e| e.0));

    let fu = follow_up_months.unwrap_or(DEFAULT_FOLLOW_UP);
    let mut model_arms = Vec::new();
    let mut arms_ok = true;
    for (i, a) in arms.iter().enumerate() {
        match arm(cx, &names, &measures, i, a, fu, follow_up_span) {
            Some(arm) => model_arms.push(arm),
            None => arms_ok = false,
        }
    }
    // Directly declared outcomes must be given by every arm.
    for (oi, m) in measures.iter().enumerate() {
        if matches!(m, Some(Measure::DirectBinary | Measure::DirectContinuous)) {
            for (ai, arm) in model_arms.iter().enumerate() {
                if !arm.direct_outcomes.iter().any(|d| d.outcome == oi) && arms_ok {
                    let e = cx
                        .diag(
                            Kind::MissingSection,
                            format!(
                                "arm `{}` gives no value for outcome `{}`",
                                arm.name, outcomes[oi].name.name
                            ),
                        )
                        .label(arms[ai].name.span, "this arm")
                        .label(outcomes[oi].name.span, "declared here")
                        .help(format!(
                            "add e.g. `{}: 30%` (binary) or `{} ~ normal(50, 10)` (continuous) to the arm",
                            outcomes[oi].name.name, outcomes[oi].name.name
                        ));
                    cx.push(e);
                }
            }
        }
    }

    let mut model_analyses = Vec::new();
    for a in &analyses {
        model_analyses.push(analysis(cx, &names, &measures, a));
    }
    if analyses.is_empty() && !outcomes.is_empty() {
        let e = cx
            .diag(Kind::NoAnalysis, "the trial has no analysis plan")
            .label(spec.title_span, "in this trial")
            .help("add `analysis primary { compare <outcome>: <arm> vs <arm> }`")
            .warning();
        cx.push(e);
    }
    // Outcomes nobody analyses.
    if !analyses.is_empty() {
        for o in &outcomes {
            let used = analyses.iter().any(|a| {
                a.compares
                    .iter()
                    .any(|c| c.outcomes.iter().any(|x| x.name == o.name.name))
            });
            if !used {
                let e = cx
                    .diag(
                        Kind::UnusedOutcome,
                        format!("outcome `{}` is not used by any analysis", o.name.name),
                    )
                    .label(o.name.span, "declared here")
                    .help("compare it in an analysis, or remove it")
                    .warning();
                cx.push(e);
            }
        }
    }

    let mut expectations = Vec::new();
    for e in &expects {
        expectations.push(expectation(cx, &analyses, e, sample.is_some()));
    }
    let data = data.and_then(|(d, s)| data_mapping(cx, &names, d, s));
    let exits = delivery::exits(cx, &names);
    let exits_ok = exits
        .as_ref()
        .is_some_and(|e| delivery::check_exit_measures(cx, &names, &measures, e));
    let costs = delivery::costs(cx, &costs, &analyses);
    let clusters = clusters?;
    if clusters.is_none()
        && let Some(a) = analyses.iter().find(|a| {
            a.tests
                .iter()
                .any(|t| t.names.first().is_some_and(|n| n.name == "cluster_t"))
        })
    {
        let e = cx
            .diag(
                Kind::TestMismatch,
                format!(
                    "analysis `{}` uses `cluster_t`, but the design has no clusters",
                    a.name.name
                ),
            )
            .label(a.name.span, "this analysis")
            .help("randomise clusters in the assignment: `randomise 1:1 by cohort of 22, icc 5%`");
        cx.push(e);
        return None;
    }
    if !exits_ok {
        return None;
    }

    let model = TrialModel {
        name: spec.title.clone(),
        follow_up_months: follow_up_months?,
        reference_date,
        population: Population {
            pool,
            variables: names.vars.clone(),
        },
        eligibility: eligibility?,
        assignment: assignment?,
        sample,
        arms: if arms_ok { model_arms } else { return None },
        employment: employment?,
        outcomes: outcomes
            .iter()
            .zip(measures)
            .map(|(o, m)| {
                m.map(|measure| model::Outcome {
                    name: o.name.name.clone(),
                    measure,
                })
            })
            .collect::<Option<Vec<_>>>()?,
        analyses: model_analyses.into_iter().collect::<Option<Vec<_>>>()?,
        expectations: expectations.into_iter().collect::<Option<Vec<_>>>()?,
        data,
        uncertain: Vec::new(),
        delivery: delivery::delivery(clusters, inflow?, exits?, costs?),
    };
    if let (
        Some(sizes),
        AssignmentRule::Complete { ratio } | AssignmentRule::Blocked { ratio, .. },
    ) = (&model.sample, &model.assignment.rule)
    {
        let base = sizes[0] as f64 / ratio[0].max(1) as f64;
        let off = sizes
            .iter()
            .zip(ratio)
            .any(|(n, r)| (*n as f64 - base * *r as f64).abs() > 0.5);
        if off && let Some((_, s)) = sample_span(spec) {
            let e = cx
                .diag(
                    Kind::SampleMismatch,
                    "the sample sizes do not follow the randomisation ratio",
                )
                .label(s, "these sizes")
                .help("the engine fills arms in the ratio; state sizes in that ratio or change the ratio")
                .warning();
            cx.push(e);
        }
    }
    Some(model)
}

fn sample_span(spec: &ast::Spec) -> Option<((), Span)> {
    spec.items.iter().find_map(|i| match i {
        ast::Item::Sample(s) => Some(((), s.span())),
        _ => None,
    })
}

fn dedup<'s, T>(
    cx: &mut Cx<'_>,
    what: &str,
    items: Vec<&'s T>,
    name: impl Fn(&T) -> &ast::Ident,
) -> Vec<&'s T> {
    let mut seen: HashMap<&str, Span> = HashMap::new();
    let mut out = Vec::new();
    for item in items {
        let id = name(item);
        if let Some(first) = seen.get(id.name.as_str()) {
            let e = cx
                .diag(
                    Kind::Duplicate,
                    format!("{what} `{}` is declared twice", id.name),
                )
                .label(id.span, "declared again here")
                .label(*first, "first declared here")
                .help(format!("rename one of them; {what} names must be unique"));
            cx.push(e);
        } else {
            seen.insert(id.name.as_str(), id.span);
            out.push(item);
        }
    }
    out
}

fn valid_date(d: &str) -> bool {
    let parts: Vec<u32> = d.split('-').filter_map(|p| p.parse().ok()).collect();
    match parts.as_slice() {
        [y, m, day] => {
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let days = match m {
                1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
                4 | 6 | 9 | 11 => 30,
                2 if leap => 29,
                2 => 28,
                _ => return false,
            };
            (1..=days).contains(day)
        }
        _ => false,
    }
}

// ---- population --------------------------------------------------------------------------------

fn population(cx: &mut Cx<'_>, p: &ast::Population) -> (Option<u64>, Vec<Variable>, Vec<Span>) {
    let pool = match p.pools.as_slice() {
        [] => None,
        [first, rest @ ..] => {
            for r in rest {
                cx.duplicate("`pool`", first.span, r.span);
            }
            cx.count(first, "the pool size", 1).map(u64::from)
        }
    };
    let mut vars = Vec::new();
    let mut spans = Vec::new();
    let mut seen: HashMap<&str, Span> = HashMap::new();
    for v in &p.variables {
        if let Some(first) = seen.get(v.name.name.as_str()) {
            let e = cx
                .diag(
                    Kind::Duplicate,
                    format!("variable `{}` is declared twice", v.name.name),
                )
                .label(v.name.span, "declared again here")
                .label(*first, "first declared here")
                .help("each population variable is declared once");
            cx.push(e);
            continue;
        }
        seen.insert(v.name.name.as_str(), v.name.span);
        if let Some((distribution, unit)) = distribution(cx, &v.distribution, DistUse::Covariate) {
            vars.push(Variable {
                name: v.name.name.clone(),
                unit,
                distribution,
            });
            spans.push(v.span);
        }
    }
    (pool, vars, spans)
}

#[derive(Clone, Copy, PartialEq)]
enum DistUse {
    Covariate,
    Hours,
    Plain,
}

/// A distribution and the canonical unit of its values.
fn distribution(
    cx: &mut Cx<'_>,
    d: &ast::Distribution,
    usage: DistUse,
) -> Option<(Distribution, Unit)> {
    match d {
        ast::Distribution::Categorical(levels, span) => {
            let mut seen: HashMap<&str, Span> = HashMap::new();
            for l in levels {
                if let Some(first) = seen.get(l.name.name.as_str()) {
                    cx.duplicate(&format!("level `{}`", l.name.name), *first, l.name.span);
                    return None;
                }
                seen.insert(l.name.name.as_str(), l.name.span);
            }
            let items: Vec<(&str, &Share)> = levels
                .iter()
                .map(|l| (l.name.name.as_str(), &l.share))
                .collect();
            let probs = shares(cx, "the levels", *span, &items)?;
            let levels = levels
                .iter()
                .zip(probs)
                .map(|(l, p)| Level {
                    name: l.name.name.clone(),
                    value: l.name.name.parse::<f64>().ok().filter(|v| v.is_finite()),
                    probability: p,
                })
                .collect();
            Some((Distribution::Categorical { levels }, Unit::None))
        }
        ast::Distribution::Call { name, args, span } => {
            const KNOWN: [&str; 4] = ["uniform", "normal", "lognormal", "fixed"];
            let params: &[&str] = match name.name.as_str() {
                "uniform" => &["low", "high"],
                "normal" => &["mean", "sd"],
                "lognormal" => &["median", "sigma"],
                "fixed" => &["value"],
                other => {
                    let e = cx
                        .diag(
                            Kind::UnknownDistribution,
                            format!("there is no distribution `{other}`"),
                        )
                        .label(name.span, "unknown distribution")
                        .help(format!(
                            "{}; the distributions are `uniform(low, high)`, `normal(mean, sd)`, `lognormal(median, sigma)`, `fixed(value)` and `categorical {{ ... }}`",
                            suggest::help("distribution", other, &KNOWN)
                        ));
                    cx.push(e);
                    return None;
                }
            };
            if args.len() != params.len() {
                let e = cx
                    .diag(
                        Kind::InvalidDistribution,
                        format!(
                            "`{}` takes {} argument{}, not {}",
                            name.name,
                            params.len(),
                            if params.len() == 1 { "" } else { "s" },
                            args.len()
                        ),
                    )
                    .label(*span, "here")
                    .help(format!("write `{}({})`", name.name, params.join(", ")));
                cx.push(e);
                return None;
            }
            for (arg, want) in args.iter().zip(params) {
                if let Some(n) = &arg.name
                    && n.name != *want
                {
                    let e = cx
                        .diag(
                            Kind::InvalidDistribution,
                            format!(
                                "`{}` has no parameter `{}` at this position",
                                name.name, n.name
                            ),
                        )
                        .label(n.span, format!("expected `{want}`"))
                        .help(format!("write `{}({})`", name.name, params.join(", ")));
                    cx.push(e);
                    return None;
                }
            }
            // `sigma` of a log-normal is unitless; the others carry the variable's unit.
            let unit_args: Vec<&Quantity> = args
                .iter()
                .zip(params)
                .filter(|(_, p)| **p != "sigma")
                .map(|(a, _)| &a.value)
                .collect();
            let unit = canonical_unit(cx, &unit_args, usage)?;
            let mut values = Vec::new();
            for (arg, p) in args.iter().zip(params) {
                let v = if *p == "sigma" {
                    if arg.value.unit != UnitSpec::None {
                        cx.unit_mismatch(
                            &arg.value,
                            arg.value.unit,
                            "a plain number",
                            "`sigma`",
                            "0.9",
                        );
                        return None;
                    }
                    arg.value.value
                } else {
                    convert(cx, &arg.value, unit)?
                };
                values.push(v);
            }
            let bad = |cx: &mut Cx<'_>, msg: String, help: &str| {
                let e = cx
                    .diag(Kind::InvalidDistribution, msg)
                    .label(*span, "here")
                    .help(help.to_string());
                cx.push(e);
            };
            let dist = match (name.name.as_str(), values.as_slice()) {
                ("uniform", [low, high]) => {
                    if low >= high {
                        bad(
                            cx,
                            format!("`uniform` needs low < high, got {low} and {high}"),
                            "swap the bounds",
                        );
                        return None;
                    }
                    Distribution::Uniform {
                        low: *low,
                        high: *high,
                    }
                }
                ("normal", [mean, sd]) => {
                    if *sd <= 0.0 {
                        bad(
                            cx,
                            format!("the sd of `normal` must be positive, got {sd}"),
                            "give a positive standard deviation",
                        );
                        return None;
                    }
                    Distribution::Normal {
                        mean: *mean,
                        sd: *sd,
                    }
                }
                ("lognormal", [median, sigma]) => {
                    if *median <= 0.0 || *sigma <= 0.0 {
                        bad(
                            cx,
                            "`lognormal` needs a positive median and sigma".to_string(),
                            "the median is exp(mu); sigma is the sd of the log",
                        );
                        return None;
                    }
                    Distribution::LogNormal {
                        median: *median,
                        sigma: *sigma,
                    }
                }
                (_, [value]) => Distribution::Fixed { value: *value },
                _ => return None,
            };
            Some((dist, unit))
        }
    }
}

/// The unit a distribution's values carry, from its arguments' units.
fn canonical_unit(cx: &mut Cx<'_>, args: &[&Quantity], usage: DistUse) -> Option<Unit> {
    let mut unit = match usage {
        DistUse::Hours => Unit::HoursPerMonth,
        _ => Unit::None,
    };
    for q in args {
        let u = match q.unit {
            UnitSpec::None => continue,
            UnitSpec::Years if usage == DistUse::Covariate => Unit::Years,
            UnitSpec::Months | UnitSpec::Weeks if usage == DistUse::Covariate => Unit::Months,
            UnitSpec::Hours | UnitSpec::HoursPerWeek if usage != DistUse::Plain => {
                Unit::HoursPerMonth
            }
            UnitSpec::Euro if usage == DistUse::Plain => Unit::None,
            other => {
                let want = match usage {
                    DistUse::Hours => "hours",
                    _ => "years, months or hours",
                };
                cx.unit_mismatch(q, other, want, "this distribution", "48 hours");
                return None;
            }
        };
        if unit == Unit::None || unit == u {
            unit = u;
        } else if !(unit == Unit::Months && u == Unit::Years) {
            cx.unit_mismatch(
                q,
                q.unit,
                "the same unit as the other arguments",
                "this argument",
                "12 months",
            );
            return None;
        }
    }
    Some(unit)
}

/// Converts a quantity into a canonical unit.
fn convert(cx: &mut Cx<'_>, q: &Quantity, unit: Unit) -> Option<f64> {
    let v = q.value;
    let out = match (unit, q.unit) {
        (_, UnitSpec::None) => v,
        (Unit::Years, UnitSpec::Years) => v,
        (Unit::Years, UnitSpec::Months) => v / 12.0,
        (Unit::Months, UnitSpec::Months) => v,
        (Unit::Months, UnitSpec::Years) => v * 12.0,
        (Unit::Months, UnitSpec::Weeks) => v * 12.0 / 52.0,
        (Unit::HoursPerMonth, UnitSpec::Hours) => v,
        (Unit::HoursPerMonth, UnitSpec::HoursPerWeek) => v * 52.0 / 12.0,
        (Unit::None, UnitSpec::Euro) => v,
        (want, got) => {
            let w = match want {
                Unit::Years => "years",
                Unit::Months => "months",
                Unit::HoursPerMonth => "hours",
                Unit::None => "a plain number",
            };
            cx.unit_mismatch(q, got, w, "this value", "12 months");
            return None;
        }
    };
    if !out.is_finite() {
        let e = cx
            .diag(Kind::InvalidValue, "this number is too large")
            .label(q.span, "too large");
        cx.push(e);
        return None;
    }
    Some(out)
}

// ---- eligibility -------------------------------------------------------------------------------

fn comparison(op: &str) -> Comparison {
    match op {
        "<" => Comparison::Lt,
        "<=" => Comparison::Le,
        ">" => Comparison::Gt,
        ">=" => Comparison::Ge,
        _ => Comparison::Eq,
    }
}

fn eligibility(cx: &mut Cx<'_>, names: &Names<'_>, e: &ast::Eligibility) -> Option<Eligibility> {
    let mut ok = true;
    let mut criteria = Vec::new();
    let mut spans = Vec::new();
    for c in &e.criteria {
        let Some(var) = names.var(cx, &c.variable) else {
            ok = false;
            continue;
        };
        let v = &names.vars[var];
        let test = match &c.test {
            ast::CriterionTest::InSet(levels) => {
                if v.levels().is_none() {
                    let e = cx
                        .diag(
                            Kind::SubgroupNotCategorical,
                            format!(
                                "`{}` is numeric; `in {{...}}` needs a categorical variable",
                                v.name
                            ),
                        )
                        .label(c.span, "here")
                        .help(format!("compare it instead, e.g. `{} >= 45`", v.name));
                    cx.push(e);
                    ok = false;
                    continue;
                }
                let mut ids = Vec::new();
                for l in levels {
                    match names.level(cx, var, l) {
                        Some(i) => ids.push(i),
                        None => ok = false,
                    }
                }
                CriterionTest::InSet { levels: ids }
            }
            ast::CriterionTest::Compare(op, q) => {
                let value = if let Some(levels) = v.levels() {
                    if levels.iter().any(|l| l.value.is_none()) {
                        let e = cx
                            .diag(
                                Kind::InvalidValue,
                                format!(
                                    "`{}` has named levels and cannot be compared with a number",
                                    v.name
                                ),
                            )
                            .label(c.span, "here")
                            .help(format!("use `{} in {{ ... }}` with level names", v.name));
                        cx.push(e);
                        ok = false;
                        continue;
                    }
                    convert(cx, q, Unit::None)
                } else {
                    convert(cx, q, v.unit)
                };
                let Some(value) = value else {
                    ok = false;
                    continue;
                };
                CriterionTest::Compare {
                    op: comparison(op),
                    value,
                }
            }
        };
        let amended_from = match &c.amended_from {
            Some(q) => match convert(
                cx,
                q,
                if v.levels().is_some() {
                    Unit::None
                } else {
                    v.unit
                },
            ) {
                Some(x) => Some(x),
                None => {
                    ok = false;
                    None
                }
            },
            None => None,
        };
        criteria.push(Criterion {
            variable: var,
            test,
            amended_from,
        });
        spans.push(c.span);
    }
    if ok {
        feasibility(cx, names, &criteria, &spans);
    }
    let screening = match e.screenings.as_slice() {
        [] => None,
        [first, rest @ ..] => {
            for r in rest {
                cx.duplicate("`screening`", first.span, r.span);
            }
            let planned = cx.prob(&first.planned, "the screening loss");
            let observed = match &first.observed {
                Some(q) => match cx.prob(q, "the observed screening loss") {
                    Some(p) => Some(p),
                    None => return None,
                },
                None => None,
            };
            Some(Screening {
                planned_loss: planned?,
                observed_loss: observed,
            })
        }
    };
    ok.then_some(Eligibility {
        criteria,
        screening,
    })
}

/// Finds criteria that contradict each other, or that no one in the declared population meets.
fn feasibility(cx: &mut Cx<'_>, names: &Names<'_>, criteria: &[Criterion], spans: &[Span]) {
    for (var, v) in names.vars.iter().enumerate() {
        let idx: Vec<usize> = (0..criteria.len())
            .filter(|i| criteria[*i].variable == var)
            .collect();
        if idx.is_empty() {
            continue;
        }
        // Interval bounds: (value, strict, span).
        let mut lo: Option<(f64, bool, Span)> = None;
        let mut hi: Option<(f64, bool, Span)> = None;
        let mut admitted: Option<Vec<bool>> = v.levels().map(|l| vec![true; l.len()]);
        for &i in &idx {
            match &criteria[i].test {
                CriterionTest::Compare { op, value } => {
                    let s = spans[i];
                    let (l, h) = match op {
                        Comparison::Gt => (Some((*value, true)), None),
                        Comparison::Ge => (Some((*value, false)), None),
                        Comparison::Lt => (None, Some((*value, true))),
                        Comparison::Le => (None, Some((*value, false))),
                        Comparison::Eq => (Some((*value, false)), Some((*value, false))),
                    };
                    if let Some((x, st)) = l
                        && lo.is_none_or(|(y, sy, _)| x > y || (x == y && st && !sy))
                    {
                        lo = Some((x, st, s));
                    }
                    if let Some((x, st)) = h
                        && hi.is_none_or(|(y, sy, _)| x < y || (x == y && st && !sy))
                    {
                        hi = Some((x, st, s));
                    }
                    if let (Some(adm), Some(levels)) = (admitted.as_mut(), v.levels()) {
                        for (a, level) in adm.iter_mut().zip(levels) {
                            if !level.value.is_some_and(|lv| op.holds(lv, *value)) {
                                *a = false;
                            }
                        }
                    }
                }
                CriterionTest::InSet { levels } => {
                    if let Some(adm) = admitted.as_mut() {
                        for (j, a) in adm.iter_mut().enumerate() {
                            if !levels.contains(&j) {
                                *a = false;
                            }
                        }
                    }
                }
            }
        }
        if let (Some((l, ls, lspan)), Some((h, hs, hspan))) = (lo, hi)
            && (l > h || (l == h && (ls || hs)))
        {
            let e = cx
                .diag(
                    Kind::ImpossibleEligibility,
                    format!("no value of `{}` meets these criteria together", v.name),
                )
                .label(
                    lspan,
                    format!("needs `{}` {} {l}", v.name, if ls { ">" } else { ">=" }),
                )
                .label(
                    hspan,
                    format!("but also {} {h}", if hs { "<" } else { "<=" }),
                )
                .help("criteria all have to hold; fix the bound that is wrong");
            cx.push(e);
            continue;
        }
        let excluded = match (&v.distribution, &admitted) {
            (_, Some(adm)) => {
                let levels = v.levels().unwrap_or(&[]);
                !adm.iter()
                    .zip(levels)
                    .any(|(a, l)| *a && l.probability > 0.0)
            }
            (Distribution::Uniform { low, high }, None) => {
                lo.is_some_and(|(l, _, _)| l >= *high)
                    || hi.is_some_and(|(h, s, _)| h < *low || (s && h <= *low))
            }
            (Distribution::Fixed { value }, None) => {
                lo.is_some_and(|(l, s, _)| *value < l || (s && *value <= l))
                    || hi.is_some_and(|(h, s, _)| *value > h || (s && *value >= h))
            }
            (Distribution::LogNormal { .. }, None) => hi.is_some_and(|(h, _, _)| h <= 0.0),
            _ => false,
        };
        if excluded {
            let mut e = cx
                .diag(
                    Kind::PopulationExcluded,
                    format!("the eligibility criteria exclude everyone: no `{}` in the population meets them", v.name),
                )
                .label(names.var_spans[var], "the population as declared");
            for &i in &idx {
                e = e.label(spans[i], "this criterion");
            }
            cx.push(e.help("loosen the criterion or correct the population's distribution"));
        }
    }
}

// ---- assignment --------------------------------------------------------------------------------

fn assignment(
    cx: &mut Cx<'_>,
    names: &Names<'_>,
    a: Option<&ast::Assignment>,
) -> Option<Assignment> {
    let n_arms = names.arms.len();
    let Some(a) = a else {
        return Some(Assignment {
            rule: AssignmentRule::Complete {
                ratio: vec![1; n_arms],
            },
            intake_order: IntakeOrder::Simultaneous,
            capacity: None,
        });
    };
    let rule = match a.rules.as_slice() {
        [] => Some(AssignmentRule::Complete {
            ratio: vec![1; n_arms],
        }),
        [first, rest @ ..] => {
            for r in rest {
                cx.duplicate("the allocation rule", first.span(), r.span());
            }
            allocation(cx, names, first)
        }
    };
    let intake_order = match a.intake.as_slice() {
        [] => IntakeOrder::Simultaneous,
        [(random, s), rest @ ..] => {
            for (_, r) in rest {
                cx.duplicate("`intake order`", *s, *r);
            }
            if *random {
                IntakeOrder::Random
            } else {
                IntakeOrder::Simultaneous
            }
        }
    };
    let capacity = match a.capacity.as_slice() {
        [] => None,
        [c, rest @ ..] => {
            for r in rest {
                cx.duplicate("`capacity`", c.span, r.span);
            }
            let staff = cx.count(&c.staff, "the number of staff", 1);
            let caseload = cx.count(&c.caseload, "the caseload", 1);
            let rate = match &c.intakes_per_month {
                Some(n) if n.value > 0.0 && n.value.is_finite() => Some(n.value),
                Some(n) => {
                    let e = cx
                        .diag(Kind::InvalidValue, "intakes per month must be positive")
                        .label(n.span, "here");
                    cx.push(e);
                    return None;
                }
                None => None,
            };
            Some(Capacity {
                staff: staff?,
                caseload: caseload?,
                intakes_per_month: rate,
            })
        }
    };
    Some(Assignment {
        rule: rule?,
        intake_order,
        capacity,
    })
}

fn allocation(cx: &mut Cx<'_>, names: &Names<'_>, r: &ast::Rule) -> Option<AssignmentRule> {
    let n_arms = names.arms.len();
    if let ast::Rule::Cluster { ratio, span, .. } = r {
        // Clusters are allocated by complete randomisation in the ratio.
        let as_randomise = ast::Rule::Randomise {
            ratio: ratio.clone(),
            blocks: None,
            strata: Vec::new(),
            span: *span,
        };
        return allocation(cx, names, &as_randomise);
    }
    match r {
        ast::Rule::Parity {
            even, odd, span, ..
        } => {
            let e_arm = names.arm(cx, even);
            let o_arm = names.arm(cx, odd);
            let (e_arm, o_arm) = (e_arm?, o_arm?);
            if e_arm == o_arm {
                let e = cx
                    .diag(
                        Kind::SameArm,
                        format!("even and odd IDs both go to `{}`", even.name),
                    )
                    .label(odd.span, "same arm as for even IDs")
                    .help("send odd IDs to the other arm");
                cx.push(e);
                return None;
            }
            if n_arms != 2 {
                let e = cx
                    .diag(Kind::InvalidValue, format!("assignment by parity needs exactly two arms, but the trial has {n_arms}"))
                    .label(*span, "here")
                    .help("use `randomise 1:1:1` for more arms");
                cx.push(e);
                return None;
            }
            Some(AssignmentRule::Parity {
                even: e_arm,
                odd: o_arm,
            })
        }
        ast::Rule::Randomise {
            ratio,
            blocks,
            strata,
            span,
        } => {
            let ratio_v = match ratio {
                None => vec![1; n_arms],
                Some((nums, rs)) => {
                    if nums.len() != n_arms {
                        let e = cx
                            .diag(
                                Kind::InvalidValue,
                                format!(
                                    "the ratio has {} parts but the trial has {n_arms} arms",
                                    nums.len()
                                ),
                            )
                            .label(*rs, "one part per arm, in the order the arms are declared")
                            .help(format!("write {} numbers", n_arms));
                        cx.push(e);
                        return None;
                    }
                    let mut v = Vec::new();
                    for n in nums {
                        v.push(cx.count(n, "a ratio part", 1)?);
                    }
                    v
                }
            };
            let total: u32 = ratio_v.iter().sum();
            match blocks {
                None => {
                    if let Some(s) = strata.first() {
                        let e = cx
                            .diag(Kind::InvalidValue, "stratified randomisation needs blocks")
                            .label(s.span, "strata without blocks")
                            .help(format!(
                                "write e.g. `randomise in blocks of {} within {}`",
                                total * 2,
                                s.name
                            ));
                        cx.push(e);
                        return None;
                    }
                    Some(AssignmentRule::Complete { ratio: ratio_v })
                }
                Some(b) => {
                    let size = cx.count(b, "the block size", 1)?;
                    if total == 0 || size % total != 0 {
                        let e = cx
                            .diag(
                                Kind::InvalidValue,
                                format!("a block of {size} cannot hold the ratio, whose parts add up to {total}"),
                            )
                            .label(b.span, format!("not a multiple of {total}"))
                            .label(*span, "")
                            .help(format!("use a multiple of {total}, e.g. {}", total * 2));
                        cx.push(e);
                        return None;
                    }
                    let mut vars = Vec::new();
                    for s in strata {
                        vars.push(names.categorical(cx, s, "stratum"));
                    }
                    Some(AssignmentRule::Blocked {
                        ratio: ratio_v,
                        block_size: size,
                        strata: vars.into_iter().collect::<Option<Vec<_>>>()?,
                    })
                }
            }
        }
        // Handled above, by complete randomisation of the clusters.
        ast::Rule::Cluster { .. } => None,
    }
}

fn sample_sizes(cx: &mut Cx<'_>, names: &Names<'_>, s: &ast::Sample) -> Option<Vec<u32>> {
    match s {
        ast::Sample::PerArm(n, _) => {
            let n = cx.count(n, "the sample size", 1)?;
            Some(vec![n; names.arms.len()])
        }
        ast::Sample::Clusters(n, _, _) => {
            let n = cx.count(n, "the number of clusters", 1)?;
            Some(vec![n; names.arms.len()])
        }
        ast::Sample::Arms(list, span) => {
            let mut sizes: Vec<Option<u32>> = vec![None; names.arms.len()];
            let mut ok = true;
            for (arm, n) in list {
                let a = names.arm(cx, arm);
                let n = cx.count(n, "the sample size", 1);
                match (a, n) {
                    (Some(a), Some(n)) => {
                        if sizes[a].is_some() {
                            let e = cx
                                .diag(
                                    Kind::Duplicate,
                                    format!("arm `{}` is sized twice", arm.name),
                                )
                                .label(arm.span, "again")
                                .help("give each arm one size");
                            cx.push(e);
                            ok = false;
                        }
                        sizes[a] = Some(n);
                    }
                    _ => ok = false,
                }
            }
            if !ok {
                return None;
            }
            let missing: Vec<String> = names
                .arms
                .iter()
                .zip(&sizes)
                .filter(|(_, s)| s.is_none())
                .map(|(a, _)| format!("`{}`", a.name.name))
                .collect();
            if !missing.is_empty() {
                let e = cx
                    .diag(Kind::MissingSection, format!("no sample size for {}", missing.join(", ")))
                    .label(*span, "sizes given here")
                    .help("give every arm a size, e.g. `sample experiment 203, control 199`, or write `sample 180 per arm`");
                cx.push(e);
                return None;
            }
            sizes.into_iter().collect()
        }
    }
}

fn employment(cx: &mut Cx<'_>, e: Option<&ast::Employment>) -> Option<EmploymentProcess> {
    let Some(e) = e else {
        return Some(EmploymentProcess {
            job_loss_per_month: 0.0,
            hours: DEFAULT_HOURS,
            wage: None,
        });
    };
    let job_loss = match e.job_loss.as_slice() {
        [] => Some(0.0),
        [q, rest @ ..] => {
            for r in rest {
                cx.duplicate("`job_loss`", q.span, r.span);
            }
            cx.prob(q, "the monthly job loss")
        }
    };
    let hours = match e.hours.as_slice() {
        [] => Some(DEFAULT_HOURS),
        [d, rest @ ..] => {
            for r in rest {
                cx.duplicate("`hours`", d.span(), r.span());
            }
            distribution(cx, d, DistUse::Hours).map(|x| x.0)
        }
    };
    let wage = match e.wage.as_slice() {
        [] => Some(None),
        [d, rest @ ..] => {
            for r in rest {
                cx.duplicate("`wage`", d.span(), r.span());
            }
            distribution(cx, d, DistUse::Plain).map(|x| Some(x.0))
        }
    };
    Some(EmploymentProcess {
        job_loss_per_month: job_loss?,
        hours: hours?,
        wage: wage?,
    })
}

// ---- arms --------------------------------------------------------------------------------------

fn rate(
    cx: &mut Cx<'_>,
    names: &Names<'_>,
    r: &ast::Rate,
    follow_up: u32,
    fu_span: Option<Span>,
) -> Option<WorkRate> {
    let (months, meaning) = match &r.kind {
        ast::RateKind::WorkWithin(q) => (
            cx.whole_months(q, "the window of a work rate"),
            RateMeaning::FoundWithin,
        ),
        ast::RateKind::EmployedAt(n) => (
            cx.whole(n.value, n.span, "the month", "months"),
            RateMeaning::EmployedAt,
        ),
        ast::RateKind::EmployedAtIntake => (Some(0), RateMeaning::EmployedAt),
    };
    let probability = cx.prob(&r.value, "the rate");
    let by = match &r.by {
        None => Some(None),
        Some(by) => {
            let var = names.categorical(cx, &by.variable, "`by` variable");
            match var {
                None => None,
                Some(var) => {
                    let n = names.vars[var].levels().map_or(0, <[Level]>::len);
                    let mut probs = vec![None; n];
                    let mut ok = true;
                    for l in &by.levels {
                        let lv = names.level(cx, var, &l.name);
                        let p = match &l.share {
                            Share::Value(q) => {
                                cx.prob(q, &format!("the rate for `{}`", l.name.name))
                            }
                            Share::Rest(s) => {
                                let e = cx
                                    .diag(Kind::InvalidValue, "`rest` is not a rate")
                                    .label(*s, "here")
                                    .help("give each level its own rate; levels left out use the overall rate");
                                cx.push(e);
                                None
                            }
                        };
                        match (lv, p) {
                            (Some(lv), Some(p)) => probs[lv] = Some(p),
                            _ => ok = false,
                        }
                    }
                    ok.then_some(Some(RateByLevel {
                        variable: var,
                        probabilities: probs,
                    }))
                }
            }
        }
    };
    let months = months?;
    if months > follow_up {
        let mut e = cx
            .diag(
                Kind::RateBeyondFollowUp,
                format!("this rate refers to {months} months, beyond the follow-up of {follow_up} months"),
            )
            .label(r.span, format!("{months} months"));
        if let Some(s) = fu_span {
            e = e.label(s, "follow-up");
        }
        cx.push(
            e.help("the part after follow-up is never observed")
                .warning(),
        );
    }
    Some(WorkRate {
        probability: probability?,
        months,
        meaning,
        by: by?,
    })
}

#[allow(clippy::too_many_arguments)]
fn arm(
    cx: &mut Cx<'_>,
    names: &Names<'_>,
    measures: &[Option<Measure>],
    index: usize,
    a: &ast::Arm,
    follow_up: u32,
    fu_span: Option<Span>,
) -> Option<Arm> {
    let mut ok = true;
    let mut baseline = None;
    let mut arm_rates = Vec::new();
    for r in &a.rates {
        if matches!(r.kind, ast::RateKind::EmployedAtIntake) {
            if let Some((_, s)) = baseline {
                cx.duplicate("`employed at intake`", s, r.span);
                ok = false;
            }
            baseline = Some((cx.prob(&r.value, "baseline employment"), r.span));
        } else {
            arm_rates.push(r);
        }
    }
    let baseline_employment = match baseline {
        Some((Some(p), _)) => p,
        Some((None, _)) => {
            ok = false;
            0.0
        }
        None => 0.0,
    };

    let paths = if a.paths.is_empty() {
        let work = match arm_rates.as_slice() {
            [] => Some(WorkRate {
                probability: 0.0,
                months: follow_up,
                meaning: RateMeaning::FoundWithin,
                by: None,
            }),
            [r, rest @ ..] => {
                for x in rest {
                    cx.duplicate("the arm's work rate", r.span, x.span);
                }
                rate(cx, names, r, follow_up, fu_span)
            }
        };
        let needs_rate = arm_rates.is_empty()
            && a.competing.is_empty()
            && measures.iter().any(|m| {
                m.as_ref().is_some_and(|m| {
                    !matches!(m, Measure::DirectBinary | Measure::DirectContinuous)
                })
            });
        if needs_rate {
            let e = cx
                .diag(
                    Kind::MissingSection,
                    format!(
                        "arm `{}` says nothing about work, but outcomes measure it",
                        a.name.name
                    ),
                )
                .label(a.name.span, "this arm")
                .help("add a rate such as `work within 12 months: 11.67%`, or paths with rates");
            cx.push(e);
            ok = false;
        }
        work.map(|work| {
            vec![SubPath {
                name: a.name.name.clone(),
                share: 1.0,
                rest: false,
                delay_months: 0,
                work,
            }]
        })
    } else {
        if let Some(r) = arm_rates.first() {
            let e = cx
                .diag(
                    Kind::Conflict,
                    format!(
                        "arm `{}` has paths and also an arm-wide work rate",
                        a.name.name
                    ),
                )
                .label(r.span, "arm-wide rate")
                .label(a.paths[0].span, "paths")
                .help("move the rate into a path; each path has its own rate");
            cx.push(e);
            ok = false;
        }
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for p in &a.paths {
            if let Some(first) = seen.get(p.name.name.as_str()) {
                cx.duplicate(&format!("path `{}`", p.name.name), *first, p.name.span);
                ok = false;
            }
            seen.insert(p.name.name.as_str(), p.name.span);
        }
        let items: Vec<(&str, &Share)> = a
            .paths
            .iter()
            .map(|p| (p.name.name.as_str(), &p.share))
            .collect();
        let shares = shares(
            cx,
            &format!("the paths of arm `{}`", a.name.name),
            a.name.span,
            &items,
        );
        let mut paths = Vec::new();
        for (i, p) in a.paths.iter().enumerate() {
            let delay = match &p.delay {
                Some(q) => cx.whole_months(q, "the path's delay"),
                None => Some(0),
            };
            let work = match p.rates.as_slice() {
                [] => {
                    let e = cx
                        .diag(Kind::MissingSection, format!("path `{}` has no work rate", p.name.name))
                        .label(p.name.span, "this path")
                        .help("add e.g. `work within 12 months: 10%` inside its braces (0% for no outflow)");
                    cx.push(e);
                    None
                }
                [r, rest @ ..] => {
                    for x in rest {
                        cx.duplicate("the path's work rate", r.span, x.span);
                    }
                    if matches!(r.kind, ast::RateKind::EmployedAtIntake) {
                        let e = cx
                            .diag(
                                Kind::InvalidValue,
                                "`employed at intake` belongs to the arm, not to a path",
                            )
                            .label(r.span, "here")
                            .help("move it out of the path, into the arm's block");
                        cx.push(e);
                        None
                    } else {
                        rate(cx, names, r, follow_up, fu_span)
                    }
                }
            };
            if let (Some(shares), Share::Value(q)) = (&shares, &p.share)
                && shares[i] == 0.0
            {
                let e = cx
                    .diag(
                        Kind::ZeroShare,
                        format!("path `{}` has a share of 0%", p.name.name),
                    )
                    .label(q.span, "nobody takes this path")
                    .help("remove the path, or give it a share")
                    .warning();
                cx.push(e);
            }
            match (&shares, delay, work) {
                (Some(shares), Some(delay_months), Some(work)) => paths.push(SubPath {
                    name: p.name.name.clone(),
                    share: shares[i],
                    rest: matches!(p.share, Share::Rest(_)),
                    delay_months,
                    work,
                }),
                _ => ok = false,
            }
        }
        Some(paths)
    };

    let dropout = match a.dropouts.as_slice() {
        [] => Some(None),
        [d, rest @ ..] => {
            for r in rest {
                cx.duplicate("`dropout`", d.span, r.span);
            }
            let share = cx.prob(&d.share, "the dropout share");
            let follows = match &d.follows {
                Some(p) => names.process(cx, p),
                None => {
                    let e = cx
                        .diag(Kind::MissingSection, "say whose process the dropouts follow")
                        .label(d.span, "dropout without `follows`")
                        .help("add e.g. `follows control`: people who never start usually follow the comparator's process");
                    cx.push(e);
                    None
                }
            };
            match (share, follows) {
                (Some(share), Some(follows)) => Some(Some(Dropout { share, follows })),
                _ => None,
            }
        }
    };
    let exemption = match a.exemptions.as_slice() {
        [] => Some(None),
        [(share, max, s), rest @ ..] => {
            for (_, _, r) in rest {
                cx.duplicate("`exemption`", *s, *r);
            }
            let share = cx.prob(share, "the exemption share");
            let max = cx.whole_months(max, "the longest exemption");
            share
                .zip(max)
                .map(|(share, max_months)| Some(Exemption { share, max_months }))
        }
    };
    let non_work_exit = match a.exits.as_slice() {
        [] => Some(None),
        [(window, p, s), rest @ ..] => {
            for (_, _, r) in rest {
                cx.duplicate("`exit without work`", *s, *r);
            }
            let months = cx.whole_months(window, "the window of non-work exits");
            let p = cx.prob(p, "the non-work exit rate");
            months.zip(p).map(|(months, probability)| {
                Some(EventRate {
                    probability,
                    months,
                })
            })
        }
    };
    let crossover = match a.crossovers.as_slice() {
        [] => Some(None),
        [c, rest @ ..] => {
            for r in rest {
                cx.duplicate("`crossover`", c.span, r.span);
            }
            let share = cx.prob(&c.share, "the crossover share");
            let to = names.process(cx, &c.to);
            if let Some(to) = &to
                && to.arm == index
            {
                let e = cx
                    .diag(
                        Kind::SameArm,
                        format!("arm `{}` crosses over into itself", a.name.name),
                    )
                    .label(c.to.span, "the same arm")
                    .help("crossover moves people into another arm's process");
                cx.push(e);
                ok = false;
            }
            let after = match &c.after {
                Some(q) => cx.whole_months(q, "the crossover time"),
                None => Some(0),
            };
            match (share, to, after) {
                (Some(share), Some(to), Some(after_months)) => Some(Some(Crossover {
                    share,
                    to,
                    after_months,
                })),
                _ => None,
            }
        }
    };
    let mut direct = Vec::new();
    let mut seen: HashMap<&str, Span> = HashMap::new();
    for d in &a.direct {
        if let Some(first) = seen.get(d.outcome.name.as_str()) {
            cx.duplicate(
                &format!("the value of `{}`", d.outcome.name),
                *first,
                d.span,
            );
            ok = false;
            continue;
        }
        seen.insert(d.outcome.name.as_str(), d.span);
        let Some(o) = names.outcome(cx, &d.outcome) else {
            ok = false;
            continue;
        };
        let value = match (&measures[o], &d.value) {
            (Some(Measure::DirectBinary), ast::DirectValue::Probability(q)) => cx
                .prob(q, &format!("the rate of `{}`", d.outcome.name))
                .map(|probability| DirectValue::Binary { probability }),
            (Some(Measure::DirectContinuous), ast::DirectValue::Distribution(dist)) => {
                distribution(cx, dist, DistUse::Plain)
                    .map(|(distribution, _)| DirectValue::Continuous { distribution })
            }
            (Some(Measure::DirectBinary), ast::DirectValue::Distribution(dist)) => {
                let e = cx
                    .diag(
                        Kind::TestMismatch,
                        format!(
                            "`{}` is binary; give it a rate, not a distribution",
                            d.outcome.name
                        ),
                    )
                    .label(dist.span(), "a distribution")
                    .help(format!(
                        "write `{}: 30%`, or declare the outcome `continuous`",
                        d.outcome.name
                    ));
                cx.push(e);
                None
            }
            (Some(Measure::DirectContinuous), ast::DirectValue::Probability(q)) => {
                let e = cx
                    .diag(
                        Kind::TestMismatch,
                        format!(
                            "`{}` is continuous; give it a distribution, not a rate",
                            d.outcome.name
                        ),
                    )
                    .label(q.span, "a rate")
                    .help(format!(
                        "write `{} ~ normal(50, 10)`, or declare the outcome `binary`",
                        d.outcome.name
                    ));
                cx.push(e);
                None
            }
            (Some(_), _) => {
                let e = cx
                    .diag(
                        Kind::Conflict,
                        format!("`{}` is measured from the employment process and cannot be given directly", d.outcome.name),
                    )
                    .label(d.span, "direct value")
                    .label(names.outcomes[o].measure_span, "measured here")
                    .help("declare the outcome as `binary` or `continuous` to give its value per arm");
                cx.push(e);
                None
            }
            (None, _) => None,
        };
        match value {
            Some(value) => direct.push(model::DirectOutcome { outcome: o, value }),
            None => ok = false,
        }
    }
    let arm = Arm {
        name: a.name.name.clone(),
        paths: paths?,
        baseline_employment,
        dropout: dropout?,
        exemption: exemption?,
        non_work_exit: non_work_exit?,
        crossover: crossover?,
        direct_outcomes: direct,
    };
    ok.then_some(arm)
}

// ---- outcomes ----------------------------------------------------------------------------------

/// The measure, and the latest month it looks at (with its span) for follow-up checks.
fn measure(cx: &mut Cx<'_>, o: &ast::Outcome) -> Option<(Measure, Option<(u32, Span)>)> {
    let thr = |cx: &mut Cx<'_>, t: &Option<Quantity>| -> Option<f64> {
        match t {
            None => Some(1.0),
            Some(q) => {
                let h = cx.hours(q, "the hours threshold")?;
                if h <= 0.0 {
                    let e = cx
                        .diag(Kind::InvalidValue, "the hours threshold must be positive")
                        .label(q.span, "here")
                        .help("`hours >= 1` counts any paid work");
                    cx.push(e);
                    return None;
                }
                Some(h)
            }
        }
    };
    let month = |cx: &mut Cx<'_>, n: &ast::Number| cx.whole(n.value, n.span, "the month", "months");
    match &o.measure {
        ast::Measure::WorkedWithin(q, t) => {
            let within = cx.whole_months(q, "the window");
            let min_hours = thr(cx, t)?;
            let within = within?;
            Some((
                Measure::WorkedWithin { within, min_hours },
                Some((within, q.span)),
            ))
        }
        ast::Measure::EmployedAt(n, t) => {
            let m = month(cx, n);
            let min_hours = thr(cx, t)?;
            let m = m?;
            Some((
                Measure::EmployedAt {
                    month: m,
                    min_hours,
                },
                Some((m, n.span)),
            ))
        }
        ast::Measure::Durable(n, run, t) => {
            let m = month(cx, n);
            let consecutive = cx.whole_months(run, "the run of a durable outcome");
            let min_hours = thr(cx, t)?;
            let (m, consecutive) = (m?, consecutive?);
            if consecutive == 0 {
                let e = cx
                    .diag(Kind::InvalidValue, "a durable run needs at least one month")
                    .label(run.span, "here");
                cx.push(e);
                return None;
            }
            if consecutive > m {
                let e = cx
                    .diag(
                        Kind::DurableTooLong,
                        format!("a run of {consecutive} months cannot end at month {m}: it would start before intake"),
                    )
                    .label(run.span, format!("{consecutive} months"))
                    .label(n.span, format!("ends at month {m}"))
                    .help(format!("measure at month {consecutive} or later, or shorten the run"));
                cx.push(e);
                return None;
            }
            Some((
                Measure::Durable {
                    month: m,
                    consecutive,
                    min_hours,
                },
                Some((m, n.span)),
            ))
        }
        ast::Measure::Hours(n) => {
            let m = month(cx, n)?;
            Some((Measure::Hours { month: m }, Some((m, n.span))))
        }
        ast::Measure::BenefitEnded(n) => {
            let m = month(cx, n)?;
            Some((Measure::BenefitEnded { month: m }, Some((m, n.span))))
        }
        ast::Measure::ExitedTo(to, n) => {
            let m = month(cx, n)?;
            Some((
                Measure::ExitedTo {
                    destination: to.name.clone(),
                    month: m,
                },
                Some((m, n.span)),
            ))
        }
        ast::Measure::Binary => Some((Measure::DirectBinary, None)),
        ast::Measure::Continuous => Some((Measure::DirectContinuous, None)),
    }
}

// ---- analyses ----------------------------------------------------------------------------------

fn analysis(
    cx: &mut Cx<'_>,
    names: &Names<'_>,
    measures: &[Option<Measure>],
    a: &ast::Analysis,
) -> Option<Analysis> {
    let Some(c) = a.compares.first() else {
        let e = cx
            .diag(
                Kind::MissingSection,
                format!("analysis `{}` compares nothing", a.name.name),
            )
            .label(a.name.span, "this analysis")
            .help("add `compare <outcome>: <treatment arm> vs <control arm>`");
        cx.push(e);
        return None;
    };
    for other in &a.compares[1..] {
        cx.duplicate("`compare`", c.span, other.span);
    }
    let mut outcomes = Vec::new();
    let mut ok = true;
    for o in &c.outcomes {
        match names.outcome(cx, o) {
            Some(id) => outcomes.push((id, o.span)),
            None => ok = false,
        }
    }
    let treatment = names.arm(cx, &c.treatment);
    let control = names.arm(cx, &c.control);
    if let (Some(t), Some(k)) = (treatment, control)
        && t == k
    {
        let e = cx
            .diag(
                Kind::SameArm,
                format!(
                    "analysis `{}` compares arm `{}` with itself",
                    a.name.name, c.treatment.name
                ),
            )
            .label(c.control.span, "same arm as the treatment")
            .help("compare the treatment arm with another arm");
        cx.push(e);
        ok = false;
    }
    let (within, levels) = match &c.within {
        None => (Some(None), Some(Vec::new())),
        Some((var, lv)) => match names.categorical(cx, var, "subgroup variable") {
            None => (None, None),
            Some(v) => {
                let mut ids = Vec::new();
                let mut good = true;
                for l in lv {
                    match names.level(cx, v, l) {
                        Some(i) => ids.push(i),
                        None => good = false,
                    }
                }
                if lv.is_empty() {
                    ids = (0..names.vars[v].levels().map_or(0, <[Level]>::len)).collect();
                }
                (Some(Some(v)), good.then_some(ids))
            }
        },
    };
    // Test.
    let test_stmt = a.tests.first();
    for t in a.tests.iter().skip(1) {
        if let Some(first) = test_stmt {
            cx.duplicate("`test`", first.span, t.span);
        }
    }
    let binary: Vec<(bool, Span)> = outcomes
        .iter()
        .filter_map(|(o, s)| measures[*o].as_ref().map(|m| (m.is_binary(), *s)))
        .collect();
    let explicit = test_stmt.and_then(|t| t.names.first());
    if let Some(t) = test_stmt {
        for n in t.names.iter().skip(1) {
            if let Some(first) = explicit {
                cx.duplicate("the test", first.span, n.span);
            }
        }
    }
    let test = match explicit {
        Some(n) => {
            const TESTS: [&str; 5] = ["pooled_z", "unpooled_z", "fisher", "welch_t", "cluster_t"];
            match n.name.as_str() {
                "pooled_z" => Some(TestKind::PooledZ),
                "unpooled_z" => Some(TestKind::UnpooledZ),
                "fisher" => Some(TestKind::FisherExact),
                "welch_t" => Some(TestKind::WelchT),
                "cluster_t" => Some(TestKind::ClusterT),
                other => {
                    let e = cx
                        .diag(Kind::UnknownTest, format!("there is no test `{other}`"))
                        .label(n.span, "unknown test")
                        .help(format!(
                            "{}; tests are `pooled_z`, `unpooled_z`, `fisher` (binary outcomes) and `welch_t` (continuous)",
                            suggest::help("test", other, &TESTS)
                        ));
                    cx.push(e);
                    None
                }
            }
        }
        None => Some(match binary.first() {
            Some((false, _)) => TestKind::WelchT,
            _ => TestKind::PooledZ,
        }),
    };
    if let Some(test) = test {
        let for_binary = test != TestKind::WelchT;
        for (is_bin, s) in &binary {
            // The cluster-level t test compares cluster means of any outcome.
            if *is_bin != for_binary && test != TestKind::ClusterT {
                let (what, fix) = if *is_bin {
                    ("binary", "`pooled_z`, `unpooled_z` or `fisher`")
                } else {
                    ("continuous", "`welch_t`")
                };
                let mut e = cx
                    .diag(
                        Kind::TestMismatch,
                        format!("{} cannot test this {what} outcome", test_name(test)),
                    )
                    .label(*s, format!("a {what} outcome"));
                if let Some(n) = explicit {
                    e = e.label(n.span, "the test");
                }
                cx.push(e.help(format!(
                    "use {fix}, or put binary and continuous outcomes in separate analyses"
                )));
                ok = false;
            }
        }
    }
    // Sides and alpha.
    let mut sides = Sides::TwoSided;
    let mut alpha = Some(DEFAULT_ALPHA);
    if let Some(t) = test_stmt {
        if let Some(s) = t.sides.first() {
            for x in &t.sides[1..] {
                cx.duplicate("the sidedness", s.span, x.span);
            }
            sides = match (s.one_sided, s.greater) {
                (false, _) => Sides::TwoSided,
                (true, Some(false)) => Sides::Less,
                (true, Some(true)) => Sides::Greater,
                (true, None) => {
                    let e = cx
                        .diag(Kind::OneSidedDirection, "one-sided test without a stated direction")
                        .label(s.span, "taken as `one_sided greater` (treatment > control)")
                        .help("write `one_sided greater` or `one_sided less`, so the direction is part of the plan")
                        .warning();
                    cx.push(e);
                    Sides::Greater
                }
            };
        }
        if let Some(q) = t.alphas.first() {
            for x in &t.alphas[1..] {
                cx.duplicate("`alpha`", q.span, x.span);
            }
            alpha = match q.unit {
                UnitSpec::Percent | UnitSpec::None => {
                    let v = if q.unit == UnitSpec::Percent {
                        q.value / 100.0
                    } else {
                        q.value
                    };
                    if v > 0.0 && v <= 0.5 {
                        Some(v)
                    } else {
                        let e = cx
                            .diag(
                                Kind::AlphaRange,
                                format!("alpha must lie in (0%, 50%], not {}", pct(v) + "%"),
                            )
                            .label(q.span, "out of range")
                            .help("the usual choice is `alpha 5%`");
                        cx.push(e);
                        None
                    }
                }
                other => {
                    cx.unit_mismatch(q, other, "a percentage", "`alpha`", "alpha 5%");
                    None
                }
            };
        }
    }
    let correction = match a.corrections.as_slice() {
        [] => Some(Correction::None),
        [c, rest @ ..] => {
            for r in rest {
                cx.duplicate("`correction`", c.span, r.span);
            }
            const CORR: [&str; 3] = ["none", "bonferroni", "holm"];
            match c.name.as_str() {
                "none" => Some(Correction::None),
                "bonferroni" => Some(Correction::Bonferroni),
                "holm" => Some(Correction::Holm),
                other => {
                    let e = cx
                        .diag(
                            Kind::UnknownCorrection,
                            format!("there is no correction `{other}`"),
                        )
                        .label(c.span, "unknown correction")
                        .help(format!(
                            "{}; corrections are `none`, `bonferroni` and `holm`",
                            suggest::help("correction", other, &CORR)
                        ));
                    cx.push(e);
                    None
                }
            }
        }
    };
    if !ok {
        return None;
    }
    Some(Analysis {
        name: a.name.name.clone(),
        outcomes: outcomes.into_iter().map(|(o, _)| o).collect(),
        treatment: treatment?,
        control: control?,
        test: test?,
        sides,
        alpha: alpha?,
        within: within?,
        levels: levels?,
        correction: correction?,
    })
}

fn test_name(t: TestKind) -> &'static str {
    match t {
        TestKind::PooledZ => "`pooled_z`",
        TestKind::UnpooledZ => "`unpooled_z`",
        TestKind::FisherExact => "`fisher`",
        TestKind::WelchT => "`welch_t`",
        TestKind::ClusterT => "`cluster_t`",
    }
}

fn expectation(
    cx: &mut Cx<'_>,
    analyses: &[&ast::Analysis],
    e: &ast::Expect,
    has_sample: bool,
) -> Option<Expectation> {
    const METRICS: [&str; 2] = ["power", "coverage"];
    let metric = match e.metric.name.as_str() {
        "power" => Some(Metric::Power),
        "coverage" => Some(Metric::Coverage),
        other => {
            let d = cx
                .diag(
                    Kind::UnknownMetric,
                    format!("there is no quantity `{other}` to expect"),
                )
                .label(e.metric.span, "unknown")
                .help(format!(
                    "{}; expectations are about `power(...)` or `coverage(...)`",
                    suggest::help("quantity", other, &METRICS)
                ));
            cx.push(d);
            None
        }
    };
    let analysis = match analyses.iter().position(|a| a.name.name == e.analysis.name) {
        Some(i) => Some(i),
        None => {
            let names: Vec<&str> = analyses.iter().map(|a| a.name.name.as_str()).collect();
            let d = cx
                .diag(
                    Kind::UnknownAnalysis,
                    format!("there is no analysis `{}`", e.analysis.name),
                )
                .label(e.analysis.span, "unknown analysis")
                .help(suggest::help("analysis", &e.analysis.name, &names));
            cx.push(d);
            None
        }
    };
    let value = cx.prob(&e.value, "the expected value");
    let n = match &e.n_per_arm {
        Some(n) => cx.count(n, "the sample size", 1).map(Some),
        None => {
            if !has_sample {
                let d = cx
                    .diag(
                        Kind::ExpectWithoutSample,
                        "this expectation names no sample size and the trial fixes none",
                    )
                    .label(e.span, "evaluated at whatever the pool yields")
                    .help("add `at 180 per arm`, or a `sample` statement")
                    .warning();
                cx.push(d);
            }
            Some(None)
        }
    };
    Some(Expectation {
        analysis: analysis?,
        metric: metric?,
        op: comparison(&e.op.0),
        value: value?,
        n_per_arm: n?,
    })
}

// ---- data mapping ------------------------------------------------------------------------------

/// The arm column: name, value → arm, where.
type ArmColumn = (String, Vec<(String, ArmId)>, Span);

fn data_mapping(
    cx: &mut Cx<'_>,
    names: &Names<'_>,
    d: &ast::Data,
    span: Span,
) -> Option<DataMapping> {
    use ast::DataItem;
    let mut ok = true;
    let mut id: Option<(&ast::Str, Span)> = None;
    let mut arm: Option<ArmColumn> = None;
    let mut covariates = Vec::new();
    let mut outcomes = Vec::new();
    let mut monthly_hours: Option<(String, Span)> = None;
    let mut path: Option<(PathColumn, Span)> = None;
    let mut delimiter: Option<(u8, Span)> = None;
    let mut decimal: Option<(bool, Span)> = None;
    let mut allow: Option<Span> = None;
    for item in &d.items {
        let s = item.span();
        match item {
            DataItem::Id(col, _) => {
                if let Some((_, f)) = id {
                    cx.duplicate("the id column", f, s);
                }
                id = Some((col, s));
            }
            DataItem::Arm(col, values, _) => {
                if let Some((_, _, f)) = &arm {
                    cx.duplicate("the arm column", *f, s);
                }
                let mut vs = Vec::new();
                for (v, a) in values {
                    match names.arm(cx, a) {
                        Some(a) => vs.push((v.text.clone(), a)),
                        None => ok = false,
                    }
                }
                for (ai, a) in names.arms.iter().enumerate() {
                    if !vs.iter().any(|(_, x)| *x == ai) && ok {
                        let e = cx
                            .diag(
                                Kind::UnmappedArm,
                                format!("no value of the arm column means arm `{}`", a.name.name),
                            )
                            .label(s, "arm column")
                            .help(format!("add `\"...\" -> {}`", a.name.name))
                            .warning();
                        cx.push(e);
                    }
                }
                arm = Some((col.text.clone(), vs, s));
            }
            DataItem::Covariate(v, col, _) => match names.var(cx, v) {
                Some(v) => covariates.push((v, col.text.clone())),
                None => ok = false,
            },
            DataItem::Outcome(o, col, _) => match names.outcome(cx, o) {
                Some(o) => outcomes.push((o, col.text.clone())),
                None => ok = false,
            },
            DataItem::MonthlyHours(p, _) => {
                if let Some((_, f)) = monthly_hours {
                    cx.duplicate("the monthly hours pattern", f, s);
                }
                if !p.text.contains("{m}") {
                    let e = cx
                        .diag(Kind::InvalidValue, format!("the pattern `{}` has no `{{m}}` for the month", p.text))
                        .label(p.span, "no `{m}`")
                        .help("write e.g. `monthly_hours \"hours_m{m}\"`: `{m}` stands for the month number");
                    cx.push(e);
                    ok = false;
                }
                monthly_hours = Some((p.text.clone(), s));
            }
            DataItem::Path(col, values, _) => {
                if let Some((_, f)) = &path {
                    cx.duplicate("the path column", *f, s);
                }
                let mut vs = Vec::new();
                for (v, r) in values {
                    match names.process(cx, r) {
                        Some(ProcessRef { arm, path: Some(p) }) => vs.push(PathValue {
                            value: v.text.clone(),
                            arm,
                            path: p,
                        }),
                        Some(ProcessRef { arm, path: None }) => {
                            if names.paths[arm].len() == 1 {
                                vs.push(PathValue {
                                    value: v.text.clone(),
                                    arm,
                                    path: 0,
                                });
                            } else {
                                let e = cx
                                    .diag(
                                        Kind::UnknownPath,
                                        format!(
                                            "`{}` names an arm with several paths; say which",
                                            r.arm.name
                                        ),
                                    )
                                    .label(r.span, "arm without path")
                                    .help(format!("write `{}.<path>`", r.arm.name));
                                cx.push(e);
                                ok = false;
                            }
                        }
                        None => ok = false,
                    }
                }
                path = Some((
                    PathColumn {
                        column: col.text.clone(),
                        values: vs,
                    },
                    s,
                ));
            }
            DataItem::Delimiter(t, _) => {
                if let Some((_, f)) = delimiter {
                    cx.duplicate("the delimiter", f, s);
                }
                let b = match t.text.as_str() {
                    ";" => Some(b';'),
                    "," => Some(b','),
                    "\\t" | "\t" => Some(b'\t'),
                    "|" => Some(b'|'),
                    _ => None,
                };
                match b {
                    Some(b) => delimiter = Some((b, s)),
                    None => {
                        let e = cx
                            .diag(
                                Kind::InvalidValue,
                                format!("`{}` is not a supported delimiter", t.text),
                            )
                            .label(t.span, "here")
                            .help("use `\";\"`, `\",\"`, `\"|\"` or `\"\\t\"`");
                        cx.push(e);
                        ok = false;
                    }
                }
            }
            DataItem::Decimal(c, _) => {
                if let Some((_, f)) = decimal {
                    cx.duplicate("the decimal mark", f, s);
                }
                decimal = Some((*c, s));
            }
            DataItem::AllowExclusions(_) => {
                if let Some(f) = allow {
                    cx.duplicate("`allow exclusions`", f, s);
                }
                allow = Some(s);
            }
        }
    }
    let missing: Vec<&str> = [
        ("`id \"column\"`", id.is_none()),
        ("`arm \"column\" { ... }`", arm.is_none()),
    ]
    .into_iter()
    .filter(|(_, m)| *m)
    .map(|(n, _)| n)
    .collect();
    if !missing.is_empty() {
        let e = cx
            .diag(Kind::MissingSection, format!("the data mapping needs {}", missing.join(" and ")))
            .label(span, "in this block")
            .help("the loader needs to know which column identifies a participant and which gives the arm");
        cx.push(e);
        return None;
    }
    let (id, _) = id?;
    let (arm, arm_values, _) = arm?;
    ok.then(|| DataMapping {
        id: id.text.clone(),
        arm,
        arm_values,
        covariates,
        outcomes,
        monthly_hours: monthly_hours.map(|(p, _)| p),
        path: path.map(|(p, _)| p),
        delimiter: delimiter.map(|(d, _)| d),
        decimal_comma: decimal.map(|(d, _)| d),
        allow_exclusions: allow.is_some(),
    })
}
