//! Lowering of the delivery features: cluster randomisation, inflow over time, competing exits
//! and costs (see [`crate::model::Delivery`]).

use super::{Cx, Names};
use crate::check::diagnostics::Kind;
use crate::model::{
    ArmExits, Clusters, CostModel, Delivery, ExitDestination, ExitKind, Inflow, Measure,
};
use crate::syntax::ast::{self, Quantity, UnitSpec};

/// Cluster design from the assignment's `randomise ... by <label> of N, icc X` rule, if any.
pub(super) fn clusters(cx: &mut Cx<'_>, a: Option<&ast::Assignment>) -> Option<Option<Clusters>> {
    let Some(a) = a else { return Some(None) };
    let Some((label, size, icc)) = a.rules.iter().find_map(|r| match r {
        ast::Rule::Cluster {
            label, size, icc, ..
        } => Some((label, size, icc)),
        _ => None,
    }) else {
        return Some(None);
    };
    let size = cx.count(size, "the cluster size", 1);
    let icc_value = cx.prob(icc, "the intra-cluster correlation");
    if let Some(v) = icc_value
        && v >= 1.0
    {
        let e = cx
            .diag(Kind::InvalidValue, "the intra-cluster correlation must be below 1")
            .label(icc.span, "here")
            .help("an ICC of 1 makes every member of a cluster identical; typical values are 0.01 to 0.1");
        cx.push(e);
        return None;
    }
    Some(Some(Clusters {
        size: size?,
        icc: icc_value?,
        label: label.name.clone(),
        data_column: None,
    }))
}

/// `cluster "column"` of the data block: only for a design with clusters, given once.
pub(super) fn cluster_column(
    cx: &mut Cx<'_>,
    data: Option<&ast::Data>,
    clusters: &mut Option<Clusters>,
) -> bool {
    let Some(data) = data else { return true };
    let mut first: Option<crate::source::Span> = None;
    for item in &data.items {
        let ast::DataItem::Cluster(col, s) = item else {
            continue;
        };
        if let Some(f) = first {
            cx.duplicate("the cluster column", f, *s);
            return false;
        }
        first = Some(*s);
        match clusters {
            Some(c) => c.data_column = Some(col.text.clone()),
            None => {
                let e = cx
                    .diag(
                        Kind::Conflict,
                        "the data give a cluster column, but the design randomises no clusters",
                    )
                    .label(*s, "cluster column")
                    .help("randomise clusters in the assignment: `randomise 1:1 by cohort of 22, icc 5%`");
                cx.push(e);
                return false;
            }
        }
    }
    true
}

/// `inflow 80, 70, 50 per year, analysis at month 36`.
pub(super) fn inflow(cx: &mut Cx<'_>, items: &[&ast::Inflow]) -> Option<Option<Inflow>> {
    let Some((first, rest)) = items.split_first() else {
        return Some(None);
    };
    for r in rest {
        cx.duplicate("`inflow`", first.span, r.span);
    }
    let mut per_period = Vec::new();
    let mut ok = true;
    for n in &first.counts {
        match cx.whole(n.value, n.span, "an intake count", "participants") {
            Some(c) => per_period.push(c),
            None => ok = false,
        }
    }
    let analysis_month = cx.count(&first.analysis_month, "the analysis month", 1);
    if ok && per_period.iter().all(|&c| c == 0) {
        let e = cx
            .diag(Kind::InvalidValue, "the inflow takes nobody in")
            .label(first.span, "all counts are zero")
            .help("give the intakes per period, e.g. `inflow 80, 70, 50 per year, analysis at month 36`");
        cx.push(e);
        ok = false;
    }
    if !ok {
        return None;
    }
    Some(Some(Inflow {
        per_period,
        period_months: if first.per_year { 12 } else { 1 },
        analysis_month: analysis_month?,
    }))
}

/// What a destination name means.
pub(crate) fn exit_kind(name: &str) -> ExitKind {
    match name {
        "work" => ExitKind::Work,
        "non_work" => ExitKind::NonWork,
        _ => ExitKind::Provision,
    }
}

/// `exits within 12 months { work: 30%, werkom: 24% }` of every arm.
pub(super) fn exits(cx: &mut Cx<'_>, names: &Names<'_>) -> Option<Vec<ArmExits>> {
    let mut out = Vec::new();
    let mut ok = true;
    for (arm, a) in names.arms.iter().enumerate() {
        let Some((first, rest)) = a.competing.split_first() else {
            continue;
        };
        for r in rest {
            cx.duplicate("the arm's `exits`", first.span, r.span);
        }
        let months = cx.whole_months(&first.window, "the exit window");
        let mut destinations: Vec<ExitDestination> = Vec::new();
        let mut total = 0.0;
        for (name, q) in &first.destinations {
            if destinations.iter().any(|d| d.name == name.name) {
                let e = cx
                    .diag(
                        Kind::Duplicate,
                        format!("destination `{}` is given twice", name.name),
                    )
                    .label(name.span, "again")
                    .help("give each destination one incidence");
                cx.push(e);
                ok = false;
                continue;
            }
            match cx.prob(q, &format!("the exit to `{}`", name.name)) {
                Some(p) => {
                    total += p;
                    destinations.push(ExitDestination {
                        name: name.name.clone(),
                        kind: exit_kind(&name.name),
                        probability: p,
                    });
                }
                None => ok = false,
            }
        }
        if total > 1.0 + 1e-9 {
            let e = cx
                .diag(
                    Kind::SharesOver,
                    format!(
                        "the exits of arm `{}` add up to {:.2}%, more than 100%",
                        a.name.name,
                        100.0 * total
                    ),
                )
                .label(first.span, "these exits")
                .help("each participant leaves to at most one destination within the window");
            cx.push(e);
            ok = false;
        }
        if let Some(months) = months
            && months == 0
        {
            let e = cx
                .diag(
                    Kind::InvalidValue,
                    "the exit window must be at least one month",
                )
                .label(first.window.span, "here");
            cx.push(e);
            ok = false;
        }
        if let Some(months) = months {
            out.push(ArmExits {
                arm,
                months,
                destinations,
            });
        } else {
            ok = false;
        }
    }
    ok.then_some(out)
}

/// Every `exited to X` measure names a destination some arm declares.
pub(super) fn check_exit_measures(
    cx: &mut Cx<'_>,
    names: &Names<'_>,
    measures: &[Option<Measure>],
    exits: &[ArmExits],
) -> bool {
    let mut ok = true;
    for (o, m) in names.outcomes.iter().zip(measures) {
        if let Some(Measure::ExitedTo { destination, .. }) = m
            && !exits
                .iter()
                .any(|e| e.destinations.iter().any(|d| &d.name == destination))
        {
            let e = cx
                .diag(
                    Kind::UnknownOutcome,
                    format!("no arm has an exit to `{destination}`"),
                )
                .label(o.measure_span, "measured here")
                .help(format!(
                    "declare it in an arm: `exits within 12 months {{ {destination}: 20% }}`"
                ));
            cx.push(e);
            ok = false;
        }
    }
    ok
}

fn euro(cx: &mut Cx<'_>, q: &Quantity, what: &str) -> Option<f64> {
    if !matches!(q.unit, UnitSpec::Euro | UnitSpec::None) {
        let e = cx
            .diag(
                Kind::UnitMismatch,
                format!("{what} is an amount, not {}", q.unit.describe()),
            )
            .label(q.span, "here")
            .help("write an amount such as `90000 euro`");
        cx.push(e);
        return None;
    }
    if !(q.value >= 0.0 && q.value.is_finite()) {
        let e = cx
            .diag(Kind::InvalidValue, format!("{what} cannot be negative"))
            .label(q.span, "here");
        cx.push(e);
        return None;
    }
    Some(q.value)
}

/// `costs for <analysis> { ... }`.
pub(super) fn costs(
    cx: &mut Cx<'_>,
    items: &[&ast::Costs],
    analyses: &[&ast::Analysis],
) -> Option<Option<CostModel>> {
    let Some((c, rest)) = items.split_first() else {
        return Some(None);
    };
    for r in rest {
        cx.duplicate("the `costs` block", c.span, r.span);
    }
    let analysis = analyses.iter().position(|a| a.name.name == c.analysis.name);
    if analysis.is_none() {
        let e = cx
            .diag(
                Kind::UnknownAnalysis,
                format!("there is no analysis `{}`", c.analysis.name),
            )
            .label(c.analysis.span, "unknown analysis")
            .help("name the analysis whose first contrast counts the extra exits");
        cx.push(e);
    }
    let one = |cx: &mut Cx<'_>, v: &[Quantity], what: &str| -> Option<Option<f64>> {
        match v.split_first() {
            None => Some(None),
            Some((q, rest)) => {
                for r in rest {
                    cx.duplicate(what, q.span, r.span);
                }
                euro(cx, q, what).map(Some)
            }
        }
    };
    let fixed = one(cx, &c.fixed, "the fixed cost");
    let per = one(cx, &c.per_participant, "the cost per participant");
    let saving = one(cx, &c.saving, "the saving per benefit-year");
    let years = match c.years_per_exit.split_first() {
        None => Some(1.0),
        Some((q, rest)) => {
            for r in rest {
                cx.duplicate("`exit avoids`", q.span, r.span);
            }
            match q.unit {
                UnitSpec::Years | UnitSpec::None if q.value > 0.0 && q.value.is_finite() => {
                    Some(q.value)
                }
                UnitSpec::Months if q.value > 0.0 && q.value.is_finite() => Some(q.value / 12.0),
                _ => {
                    let e = cx
                        .diag(
                            Kind::InvalidValue,
                            "an exit avoids a positive duration of benefit",
                        )
                        .label(q.span, "here")
                        .help("write e.g. `exit avoids 1 year`");
                    cx.push(e);
                    None
                }
            }
        }
    };
    Some(Some(CostModel {
        analysis: analysis?,
        fixed: fixed?.unwrap_or(0.0),
        per_participant: per?.unwrap_or(0.0),
        saving_per_benefit_year: saving?.unwrap_or(14_000.0),
        years_per_exit: years?,
    }))
}

/// Assembles the delivery features.
pub(super) fn delivery(
    clusters: Option<Clusters>,
    inflow: Option<Inflow>,
    exits: Vec<ArmExits>,
    costs: Option<CostModel>,
) -> Delivery {
    Delivery {
        clusters,
        inflow,
        exits,
        costs,
    }
}
