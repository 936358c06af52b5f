//! The `balance { ... }` block: how the arms' baseline balance is judged.

use super::*;

/// Lowers the balance blocks (at most one) into the plan; the defaults without one.
pub(super) fn balance(
    cx: &mut Cx<'_>,
    names: &Names<'_>,
    blocks: &[&ast::Balance],
) -> Option<BalancePlan> {
    let mut plan = BalancePlan::default();
    let Some((b, rest)) = blocks.split_first() else {
        return Some(plan);
    };
    plan.stated = true;
    for r in rest {
        cx.duplicate("the `balance` block", b.span, r.span);
    }
    let mut ok = true;
    if let Some((q, again)) = b.flags.split_first() {
        for r in again {
            cx.duplicate("`flag smd above`", q.span, r.span);
        }
        if q.unit != UnitSpec::None {
            cx.unit_mismatch(
                q,
                q.unit,
                "a plain number (an SMD has no unit)",
                "the SMD threshold",
                "flag smd above 0.1",
            );
            ok = false;
        } else if q.value > 0.0 && q.value.is_finite() {
            plan.smd_threshold = q.value;
        } else {
            let e = cx
                .diag(
                    Kind::InvalidValue,
                    format!("an SMD threshold must be above 0, not {}", q.value),
                )
                .label(q.span, "not above 0")
                .help("the usual threshold is `flag smd above 0.1`");
            cx.push(e);
            ok = false;
        }
    }
    if let Some((q, again)) = b.alphas.split_first() {
        for r in again {
            cx.duplicate("`alpha`", q.span, r.span);
        }
        let v = match q.unit {
            UnitSpec::Percent => Some(q.value / 100.0),
            UnitSpec::None => Some(q.value),
            other => {
                cx.unit_mismatch(q, other, "a percentage", "`alpha`", "alpha 5%");
                None
            }
        };
        match v {
            Some(v) if v > 0.0 && v <= 0.5 => plan.alpha = v,
            Some(v) => {
                let e = cx
                    .diag(
                        Kind::AlphaRange,
                        format!("alpha must lie in (0%, 50%], not {}%", pct(v)),
                    )
                    .label(q.span, "out of range")
                    .help("the usual choice is `alpha 5%`");
                cx.push(e);
                ok = false;
            }
            None => ok = false,
        }
    }
    let mut seen: Vec<(VarId, Span)> = Vec::new();
    for bins in &b.bins {
        let Some(var) = names.var(cx, &bins.variable) else {
            ok = false;
            continue;
        };
        if let Some((_, first)) = seen.iter().find(|(v, _)| *v == var) {
            cx.duplicate(
                &format!("the bins of `{}`", bins.variable.name),
                *first,
                bins.span,
            );
            ok = false;
            continue;
        }
        seen.push((var, bins.span));
        match check_bins(cx, names, var, &bins.variable, &bins.edges) {
            Some(edges) => plan.bins.push((var, edges)),
            None => ok = false,
        }
    }
    ok.then_some(plan)
}

/// The edges of bins of covariate `var` (written `name`), checked: the covariate is numeric
/// and the edges increase. Shared by the balance block and `within VAR bins [...)`.
pub(super) fn check_bins(
    cx: &mut Cx<'_>,
    names: &Names<'_>,
    var: VarId,
    name: &ast::Ident,
    edges: &[ast::Number],
) -> Option<Vec<f64>> {
    if names.vars[var].levels().is_some() {
        let e = cx
            .diag(
                Kind::InvalidValue,
                format!("`{}` is categorical: its levels are its bins", name.name),
            )
            .label(name.span, "a categorical covariate")
            .label(names.var_spans[var], "declared here")
            .help("bin only numeric covariates; a categorical one is tested on its levels");
        cx.push(e);
        return None;
    }
    if let Some(w) = edges.windows(2).find(|w| w[1].value <= w[0].value) {
        let e = cx
            .diag(
                Kind::InvalidValue,
                format!(
                    "bin edges must increase: {} does not come after {}",
                    w[1].value, w[0].value
                ),
            )
            .label(w[1].span, "not above the edge before it")
            .help("write the edges in increasing order, e.g. `educ bins [0, 9, 12, 16, 99)`");
        cx.push(e);
        return None;
    }
    if let Some(n) = edges.iter().find(|n| !n.value.is_finite()) {
        let e = cx
            .diag(Kind::InvalidValue, "a bin edge must be a finite number")
            .label(n.span, "not finite")
            .help("write the edges as plain numbers, e.g. `educ bins [0, 9, 12, 16, 99)`");
        cx.push(e);
        return None;
    }
    if edges.len() < 2 {
        let at = edges.first().map_or(name.span, |n| n.span);
        let e = cx
            .diag(Kind::InvalidValue, "bins need at least two edges")
            .label(at, "one edge")
            .help("give the edges of at least one bin, e.g. `educ bins [0, 9, 12, 16, 99)`");
        cx.push(e);
        return None;
    }
    Some(edges.iter().map(|n| n.value).collect())
}
