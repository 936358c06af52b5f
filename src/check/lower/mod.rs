//! The lowering itself: one pass per section, every problem recorded, nothing aborts early.

use std::collections::HashMap;

use super::diagnostics::{CheckError, Kind};
use super::suggest;
use crate::model::{self, *};
use crate::source::{SourceFile, Span};
use crate::syntax::ast::{self, Quantity, Share, UnitSpec};

/// Largest whole number (months, sample sizes, counts) a spec may state, except the pool.
const MAX_WHOLE: u64 = 1_000_000;

mod arms;
mod balance;
mod delivery;
mod design;
mod plan;
mod population;
mod sequential;

use arms::*;
use design::*;
use plan::*;
use population::*;

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
    /// Beliefs about uncertain values, with where each was written.
    uncertain: Vec<(UncertainParameter, Span)>,
}

impl Cx<'_> {
    /// A probability that may carry a belief (`25% ~ uniform(20%, 35%)`), recorded under the
    /// parameter path that `params` uses for it.
    fn chance(&mut self, q: &Quantity, what: &str, parameter: String) -> Option<f64> {
        let p = self.prob(q, what)?;
        if let Some(belief) = &q.belief {
            self.belief(belief, p, parameter, q.span)?;
        }
        Some(p)
    }

    fn belief(
        &mut self,
        d: &ast::Distribution,
        central: f64,
        parameter: String,
        at: Span,
    ) -> Option<()> {
        let ast::Distribution::Call { name, args, span } = d else {
            let e = self
                .diag(
                    Kind::InvalidDistribution,
                    "a belief about a probability cannot be categorical",
                )
                .label(d.span(), "here")
                .help("write e.g. `25% ~ uniform(20%, 35%)`");
            self.push(e);
            return None;
        };
        let mut values = Vec::new();
        for a in args {
            let v = match a.value.unit {
                UnitSpec::Percent => a.value.value / 100.0,
                UnitSpec::None => a.value.value,
                other => {
                    self.unit_mismatch(
                        &a.value,
                        other,
                        "a percentage",
                        "a belief about a probability",
                        "20%",
                    );
                    return None;
                }
            };
            values.push(v);
        }
        let bad = |cx: &mut Self, msg: &str| {
            let e = cx
                .diag(Kind::InvalidDistribution, msg.to_string())
                .label(*span, "this belief")
                .help("a belief about a probability is `uniform(low, high)` with 0% <= low < high <= 100%, `normal(mean, sd)` or `fixed(value)`");
            cx.push(e);
        };
        let distribution = match (name.name.as_str(), values.as_slice()) {
            ("uniform", [low, high]) if 0.0 <= *low && low < high && *high <= 1.0 => {
                Distribution::Uniform {
                    low: *low,
                    high: *high,
                }
            }
            ("normal", [mean, sd]) if *sd > 0.0 && (0.0..=1.0).contains(mean) => {
                Distribution::Normal {
                    mean: *mean,
                    sd: *sd,
                }
            }
            ("fixed", [value]) if (0.0..=1.0).contains(value) => {
                Distribution::Fixed { value: *value }
            }
            _ => {
                bad(
                    self,
                    &format!(
                        "`{}` with these arguments is not a belief about a probability",
                        name.name
                    ),
                );
                return None;
            }
        };
        if let Distribution::Uniform { low, high } = distribution
            && !(low..=high).contains(&central)
        {
            let e = self
                .diag(Kind::BeliefOffCentre, "the stated value lies outside the belief about it")
                .label(at, "stated value")
                .label(*span, "belief")
                .help("power is reported at the stated value and assurance over the belief; make the range include the value")
                .warning();
            self.push(e);
        }
        self.uncertain.push((
            UncertainParameter {
                parameter,
                distribution,
            },
            at,
        ));
        Some(())
    }

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
        let fraction = (m - m.round()).abs() > 1e-9;
        if fraction && m.is_finite() && matches!(q.unit, UnitSpec::Weeks | UnitSpec::Years) {
            // `10 weeks`: say it in months and offer the whole months around it.
            let written = match q.unit {
                UnitSpec::Weeks => format!("{} weeks", q.value),
                _ => format!("{} years", q.value),
            };
            let (lo, hi) = (m.floor(), m.ceil());
            let options = if lo >= 1.0 {
                format!("`{lo} months` or `{hi} months`")
            } else {
                format!("`{hi} months`")
            };
            let e = self
                .diag(
                    Kind::InvalidValue,
                    format!("{what} must be a whole number of months; {written} is {m:.1} months"),
                )
                .label(q.span, format!("{m:.1} months"))
                .help(format!(
                    "the simulation steps a month at a time: write {options} (a year is 52 weeks \
                     and 12 months, so 13 weeks is 3 months)"
                ));
            self.push(e);
            return None;
        }
        self.whole(m, q.span, what, "months")
    }

    fn whole(&mut self, m: f64, span: Span, what: &str, unit: &str) -> Option<u32> {
        self.whole_up_to(m, span, what, unit, MAX_WHOLE)
            .map(|v| v as u32)
    }

    /// A whole, non-negative number no larger than `max`, with a diagnostic naming which of the
    /// three it is not.
    fn whole_up_to(&mut self, m: f64, span: Span, what: &str, unit: &str, max: u64) -> Option<u64> {
        let r = m.round();
        let (message, label, help) = if (m - r).abs() > 1e-9 || !m.is_finite() {
            (
                format!("{what} must be a whole number of {unit}"),
                format!("{m} is not a whole number of {unit}"),
                format!("round it to whole {unit}"),
            )
        } else if r < 0.0 {
            (
                format!("{what} cannot be negative"),
                format!("{m} is negative"),
                format!("write a number of {unit} of 0 or more"),
            )
        } else if r > max as f64 {
            (
                format!("{what} is too large"),
                format!("{m} is more than the limit of {max}"),
                format!("write at most {max} {unit}"),
            )
        } else {
            return Some(r as u64);
        };
        let e = self
            .diag(Kind::InvalidValue, message)
            .label(span, label)
            .help(help);
        self.push(e);
        None
    }

    /// A count of at least `min` and at most `max`.
    fn count_up_to(&mut self, n: &ast::Number, what: &str, min: u64, max: u64) -> Option<u64> {
        let v = self.whole_up_to(n.value, n.span, what, "units", max)?;
        if v < min {
            let e = self
                .diag(Kind::InvalidValue, format!("{what} must be at least {min}"))
                .label(n.span, "too small");
            self.push(e);
            return None;
        }
        Some(v)
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
    /// Variables derived from declared ones (`within educ bins [...)`), numbered after them.
    derived: std::cell::RefCell<Vec<Variable>>,
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
        uncertain: Vec::new(),
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
    let mut balances: Vec<&ast::Balance> = Vec::new();
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
            Item::Balance(b) => balances.push(b),
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
    let datas_block = data.map(|(d, _)| d);

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
        derived: std::cell::RefCell::new(Vec::new()),
    };
    let balance = balance::balance(cx, &names, &balances);
    let mut primary: Option<(usize, Span)> = None;
    for (i, a) in analyses.iter().enumerate() {
        let Some(at) = a.primary else { continue };
        match primary {
            Some((_, first)) => cx.duplicate("the mark `(primary)`", first, at),
            None => primary = Some((i, at)),
        }
    }

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
    if let (Some(model_a), Some((ast_a, _))) = (&assignment, assign) {
        design::capacity_checks(
            cx,
            ast_a,
            model_a,
            matches!(inflow, Some(Some(_))),
            matches!(clusters, Some(Some(_))),
        );
    }
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

    let covariate_effects = covariate_effects(cx, &names, &outcomes, &measures);
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
    // Wages exist only for those in work: the process must draw them, and a contrast of them
    // compares those in work, not the arms as randomised.
    for (o, m) in outcomes.iter().zip(&measures) {
        if !matches!(m, Some(Measure::Wage { .. })) {
            continue;
        }
        if emp.is_none_or(|(e, _)| e.wage.is_empty()) {
            let mut e = cx
                .diag(
                    Kind::MissingSection,
                    format!(
                        "outcome `{}` measures wages, but the employment process draws none",
                        o.name.name
                    ),
                )
                .label(o.measure_span, "hourly wage");
            if let Some((_, s)) = emp {
                e = e.label(s, "no `wage ~` here");
            }
            cx.push(e.help(
                "add e.g. `wage ~ lognormal(median 14 euro, sigma 0.3)` to `employment { }`",
            ));
        }
        for a in &analyses {
            if let Some(x) = a
                .compares
                .iter()
                .flat_map(|c| &c.outcomes)
                .find(|x| x.name == o.name.name)
            {
                let e = cx
                    .diag(
                        Kind::ConditionalOutcome,
                        format!(
                            "`{}` is a mean among those in work, not an intention-to-treat contrast",
                            o.name.name
                        ),
                    )
                    .label(x.span, "a wage is missing when not in work")
                    .help(
                        "the intervention changes who is in work, so this difference is \
                         descriptive, not the effect of assignment; `hours at month M` (0 when \
                         not in work) is the intention-to-treat alternative",
                    )
                    .warning();
                cx.push(e);
            }
        }
    }
    // A wage distribution that no outcome reads changes nothing that is simulated.
    if let Some((e, _)) = emp
        && let Some(w) = e.wage.first()
        && !measures
            .iter()
            .any(|m| matches!(m, Some(Measure::Wage { .. })))
    {
        let e = cx
            .diag(
                Kind::UnusedWage,
                "the employment process draws wages, but no outcome measures them",
            )
            .label(w.span(), "not read by any outcome")
            .help("add an outcome `wage at month M`, or remove `wage ~ ...`")
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
    let mut clusters = clusters?;
    if !delivery::cluster_column(cx, datas_block, &mut clusters) {
        return None;
    }
    // The engine clusters rates of work and direct binary outcomes; competing exits are drawn
    // for each participant alone, so the ICC would silently not reach them.
    if clusters.is_some()
        && let Some(icc) = assign.and_then(|a| {
            a.0.rules.iter().find_map(|r| match r {
                ast::Rule::Cluster { icc, .. } => Some(icc.span),
                _ => None,
            })
        })
    {
        for a in &names.arms {
            if let Some(x) = a.competing.first() {
                let e = cx
                    .diag(
                        Kind::UnclusteredExits,
                        format!(
                            "the competing exits of arm `{}` are not clustered: the ICC applies to rates of work and direct binary outcomes",
                            a.name.name
                        ),
                    )
                    .label(x.span, "drawn for each participant alone")
                    .label(icc, "the ICC")
                    .help(
                        "state the arm's outflow as a rate of work (`work within 12 months: 25%`), \
                         which the ICC reaches; outcomes read from these exits have the power of \
                         an unclustered design",
                    )
                    .warning();
                cx.push(e);
            }
        }
    }
    if clusters.is_none()
        && let Some(a) = analyses.iter().find(|a| {
            a.tests.iter().any(|t| {
                t.names
                    .first()
                    .is_some_and(|n| n.name == "cluster_t" || n.name == "cr2")
            })
        })
    {
        let test = a
            .tests
            .iter()
            .filter_map(|t| t.names.first())
            .find(|n| n.name == "cluster_t" || n.name == "cr2")
            .map_or("cluster_t", |n| n.name.as_str());
        let e = cx
            .diag(
                Kind::TestMismatch,
                format!(
                    "analysis `{}` uses `{test}`, but the design has no clusters",
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
            variables: names
                .vars
                .iter()
                .cloned()
                .chain(names.derived.take())
                .collect(),
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
        uncertain: cx.uncertain.iter().map(|(u, _)| u.clone()).collect(),
        delivery: delivery::delivery(clusters, inflow?, exits?, costs?),
        balance: balance?,
        primary: primary.map(|(i, _)| i),
        covariate_effects: covariate_effects?,
    };
    let mut model = model;
    eligible_subgroups(cx, &mut model, &analyses);
    let mut looks_ok = true;
    for (i, a) in analyses.iter().enumerate() {
        match sequential::plan(cx, a, &model, i) {
            Some(p) => model.analyses[i].sequential = p,
            None => looks_ok = false,
        }
    }
    if !looks_ok {
        return None;
    }
    let mut unknown = Vec::new();
    for (u, at) in &cx.uncertain {
        if let Err(e) = crate::params::get(&model, &u.parameter) {
            unknown.push((u.parameter.clone(), *at, e));
        }
    }
    for (parameter, at, error) in unknown {
        let e = match error {
            crate::params::ParamError::Overridden {
                reason, effective, ..
            } => {
                let help = match crate::params::vary_instead(&effective) {
                    Some(instead) => format!(
                        "drop the belief here; {}",
                        instead.replace("vary", "give the belief to")
                    ),
                    None => "give this value without a belief".into(),
                };
                cx.diag(
                    Kind::InvalidValue,
                    format!(
                        "a belief about this value changes nothing: `{parameter}` takes no effect ({reason})"
                    ),
                )
                .label(at, "no participant uses this value")
                .help(help)
            }
            _ => cx
                .diag(
                    Kind::InvalidValue,
                    format!("this value cannot be varied (no parameter `{parameter}`)"),
                )
                .label(at, "here")
                .help("give this value without a belief"),
        };
        cx.push(e);
    }
    if let (
        Some(sizes),
        AssignmentRule::Complete { ratio } | AssignmentRule::Blocked { ratio, .. },
    ) = (&model.sample, &model.assignment.rule)
    {
        let base = match (sizes.first(), ratio.first()) {
            (Some(n), Some(r)) => f64::from(*n) / f64::from((*r).max(1)),
            _ => 0.0,
        };
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
