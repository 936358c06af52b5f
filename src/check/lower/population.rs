//! Population, distributions, units and eligibility.

use super::*;

// ---- population --------------------------------------------------------------------------------

pub(super) fn population(
    cx: &mut Cx<'_>,
    p: &ast::Population,
) -> (Option<u64>, Vec<Variable>, Vec<Span>) {
    let pool = match p.pools.as_slice() {
        [] => None,
        [first, rest @ ..] => {
            for r in rest {
                cx.duplicate("`pool`", first.span, r.span);
            }
            // The pool is drawn person by person each replicate: the engine's limit applies.
            cx.count_up_to(first, "the pool size", 1, crate::sim::MAX_PARTICIPANTS)
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
pub(super) enum DistUse {
    Covariate,
    Hours,
    Plain,
}

/// A distribution and the canonical unit of its values.
pub(super) fn distribution(
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
                        .help(suggest::help_with(other, &KNOWN, "The distributions are `uniform(low, high)`, `normal(mean, sd)`, `lognormal(median, sigma)`, `fixed(value)` and `categorical { ... }`."));
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

/// A distribution of numbers: a categorical one must have numeric levels.
pub(super) fn numeric(
    cx: &mut Cx<'_>,
    d: &ast::Distribution,
    usage: DistUse,
) -> Option<Distribution> {
    let (dist, _) = distribution(cx, d, usage)?;
    if let Distribution::Categorical { levels } = &dist
        && let Some(level) = levels.iter().find(|l| l.value.is_none())
    {
        let e = cx
            .diag(
                Kind::InvalidDistribution,
                format!("this distribution needs numbers, but level `{}` is a name", level.name),
            )
            .label(d.span(), "here")
            .help("use numeric levels (`categorical { 40: 50%, 80: rest }`) or a continuous distribution");
        cx.push(e);
        return None;
    }
    Some(dist)
}

/// The unit a distribution's values carry, from its arguments' units.
pub(super) fn canonical_unit(cx: &mut Cx<'_>, args: &[&Quantity], usage: DistUse) -> Option<Unit> {
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
pub(super) fn convert(cx: &mut Cx<'_>, q: &Quantity, unit: Unit) -> Option<f64> {
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

pub(super) fn comparison(op: &str) -> Comparison {
    match op {
        "<" => Comparison::Lt,
        "<=" => Comparison::Le,
        ">" => Comparison::Gt,
        ">=" => Comparison::Ge,
        _ => Comparison::Eq,
    }
}

pub(super) fn eligibility(
    cx: &mut Cx<'_>,
    names: &Names<'_>,
    e: &ast::Eligibility,
) -> Option<Eligibility> {
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
            let planned = cx.chance(
                &first.planned,
                "the screening loss",
                "eligibility.screening".to_string(),
            );
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
pub(super) fn feasibility(
    cx: &mut Cx<'_>,
    names: &Names<'_>,
    criteria: &[Criterion],
    spans: &[Span],
) {
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

// ---- covariate effects on outcomes ------------------------------------------------------------

/// The `depends on` terms of every outcome: how covariates shift continuous outcomes in the
/// simulated population. Only a `continuous` outcome takes them (a binary rate depends on a
/// categorical covariate through `by <variable> { ... }` in the arm); a numeric covariate
/// takes a shift per unit, a categorical one a shift per level.
pub(super) fn covariate_effects(
    cx: &mut Cx<'_>,
    names: &Names<'_>,
    outcomes: &[&ast::Outcome],
    measures: &[Option<Measure>],
) -> Option<Vec<CovariateEffect>> {
    let mut effects = Vec::new();
    let mut ok = true;
    for (o, (outcome, measure)) in outcomes.iter().zip(measures).enumerate() {
        let Some(first) = outcome.depends.first() else {
            continue;
        };
        if !matches!(measure, Some(Measure::DirectContinuous)) {
            if measure.is_some() {
                let e = cx
                    .diag(
                        Kind::InvalidValue,
                        format!(
                            "outcome `{}` is not `continuous`: only a continuous outcome depends on covariates",
                            outcome.name.name
                        ),
                    )
                    .label(first.span, "not simulated for this measure")
                    .label(outcome.measure_span, "the measure")
                    .help("a rate of work or a direct binary outcome depends on a categorical covariate through `by <variable> { level: P% }` in the arm");
                cx.push(e);
            }
            ok = false;
            continue;
        }
        let mut seen: Vec<VarId> = Vec::new();
        for term in &outcome.depends {
            let Some(v) = names.var(cx, &term.variable) else {
                ok = false;
                continue;
            };
            if seen.contains(&v) {
                let e = cx
                    .diag(
                        Kind::InvalidValue,
                        format!(
                            "`{}` shifts `{}` twice",
                            term.variable.name, outcome.name.name
                        ),
                    )
                    .label(term.span, "again")
                    .help("give each covariate one term");
                cx.push(e);
                ok = false;
                continue;
            }
            seen.push(v);
            let var = &names.vars[v];
            match (var.levels(), &term.per_unit) {
                (None, Some(c)) => {
                    let mean = match var.distribution {
                        Distribution::Normal { mean, .. } => mean,
                        Distribution::Uniform { low, high } => (low + high) / 2.0,
                        Distribution::LogNormal { median, sigma } => {
                            median * (sigma * sigma / 2.0).exp()
                        }
                        Distribution::Fixed { value } => value,
                        Distribution::Categorical { .. } | Distribution::Binned { .. } => f64::NAN,
                    };
                    effects.push(CovariateEffect {
                        outcome: o,
                        variable: v,
                        shift: CovariateShift::PerUnit {
                            coefficient: c.value,
                        },
                        centre: c.value * mean,
                    });
                }
                (Some(levels), None) if !term.per_level.is_empty() => {
                    let mut shifts = vec![0.0; levels.len()];
                    let mut good = true;
                    for (level, value) in &term.per_level {
                        match names.level(cx, v, level) {
                            Some(l) => shifts[l] = value.value,
                            None => good = false,
                        }
                    }
                    if !good {
                        ok = false;
                        continue;
                    }
                    let centre = levels
                        .iter()
                        .zip(&shifts)
                        .map(|(l, s)| l.probability * s)
                        .sum();
                    effects.push(CovariateEffect {
                        outcome: o,
                        variable: v,
                        shift: CovariateShift::PerLevel { shifts },
                        centre,
                    });
                }
                (Some(_), _) => {
                    let e = cx
                        .diag(
                            Kind::InvalidValue,
                            format!(
                                "`{}` is categorical: it shifts an outcome per level",
                                term.variable.name
                            ),
                        )
                        .label(term.span, "a number per unit")
                        .label(names.var_spans[v], "declared here")
                        .help(format!(
                            "write the shift of each level, e.g. `{} {{ {}: 500 }}` (levels not listed shift by 0)",
                            term.variable.name,
                            var.levels().and_then(|l| l.last()).map_or("level", |l| l.name.as_str())
                        ));
                    cx.push(e);
                    ok = false;
                }
                (None, None) => {
                    let e = cx
                        .diag(
                            Kind::InvalidValue,
                            format!(
                                "`{}` is numeric: it shifts an outcome per unit",
                                term.variable.name
                            ),
                        )
                        .label(term.span, "levels of a numeric covariate")
                        .label(names.var_spans[v], "declared here")
                        .help(format!(
                            "write the shift per unit, e.g. `{} 0.8`",
                            term.variable.name
                        ));
                    cx.push(e);
                    ok = false;
                }
            }
        }
    }
    ok.then_some(effects)
}
