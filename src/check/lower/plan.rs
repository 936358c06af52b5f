//! The analysis plan, expectations and the data mapping.

use super::*;

// ---- analyses ----------------------------------------------------------------------------------

/// `within VAR bins [e0, ..., ek)`: checks the binning (as the balance block's) and returns the
/// derived categorical variable of its bins, appended to [`Names::derived`] unless an earlier
/// analysis binned the variable the same way, with the number of bins.
fn binned(
    cx: &mut Cx<'_>,
    names: &Names<'_>,
    var: &ast::Ident,
    edges: &[ast::Number],
) -> Option<(VarId, usize)> {
    let source = names.var(cx, var)?;
    let edges = super::balance::check_bins(cx, names, source, var, edges)?;
    let mut derived = names.derived.borrow_mut();
    let found = derived.iter().position(|d| {
        matches!(&d.distribution, Distribution::Binned { source: s, edges: e, .. }
            if *s == source && *e == edges)
    });
    let bins = edges.len() - 1;
    let index = match found {
        Some(i) => i,
        None => {
            let declared = &names.vars[source];
            let levels = edges
                .windows(2)
                .map(|w| Level {
                    name: Distribution::bin_name(w[0], w[1]),
                    value: None,
                    probability: mass_between(&declared.distribution, w[0], w[1]),
                })
                .collect();
            let written: Vec<String> = edges.iter().map(|e| e.to_string()).collect();
            derived.push(Variable {
                name: Distribution::binned_name(&declared.name, &written),
                unit: Unit::None,
                distribution: Distribution::Binned {
                    source,
                    edges,
                    levels,
                },
            });
            derived.len() - 1
        }
    };
    Some((names.vars.len() + index, bins))
}

/// The probability that a draw of `d` lies in `[lo, hi)` (NaN for a distribution without
/// numeric values, which the binning checks refuse).
fn mass_between(d: &Distribution, lo: f64, hi: f64) -> f64 {
    use crate::stats::dist::norm_cdf;
    let cdf = |x: f64| match d {
        Distribution::Uniform { low, high } => ((x - low) / (high - low)).clamp(0.0, 1.0),
        Distribution::Normal { mean, sd } => norm_cdf((x - mean) / sd),
        Distribution::LogNormal { median, sigma } => {
            if x <= 0.0 {
                0.0
            } else {
                norm_cdf((x / median).ln() / sigma)
            }
        }
        _ => f64::NAN,
    };
    match d {
        Distribution::Fixed { value } => f64::from(u8::from(lo <= *value && *value < hi)),
        Distribution::Categorical { levels } => levels
            .iter()
            .filter(|l| l.value.is_some_and(|v| lo <= v && v < hi))
            .map(|l| l.probability)
            .sum(),
        Distribution::Binned { .. } => f64::NAN,
        _ => (cdf(hi) - cdf(lo)).max(0.0),
    }
}

/// An analysis; a `test ... for OUTCOME` statement gives those outcomes their own test and
/// sidedness. The analysis-wide test and sides are those of the first outcome, so that every
/// design question about the first contrast reads them as before; the other outcomes that
/// differ are listed in [`Analysis::per_outcome`]. Each group of outcomes is lowered with its
/// own test statement by [`analysis_base`], which checks the test against those outcomes.
pub(super) fn analysis(
    cx: &mut Cx<'_>,
    names: &Names<'_>,
    measures: &[Option<Measure>],
    a: &ast::Analysis,
) -> Option<Analysis> {
    let (qualified, plain): (Vec<&ast::Test>, Vec<&ast::Test>) =
        a.tests.iter().partition(|t| !t.outcomes.is_empty());
    let Some(c) = a.compares.first().filter(|_| !qualified.is_empty()) else {
        return analysis_base(cx, names, measures, a);
    };
    // Which group each compared outcome belongs to: the test statement naming it, or none.
    let mut ok = true;
    let mut group: Vec<Option<usize>> = vec![None; c.outcomes.len()];
    for (q, t) in qualified.iter().enumerate() {
        for alpha in &t.alphas {
            let e = cx
                .diag(
                    Kind::InvalidValue,
                    "alpha applies to the whole analysis, not to some of its outcomes",
                )
                .label(alpha.span, "alpha for some outcomes")
                .help("state alpha in the analysis' `test` statement without `for`");
            cx.push(e);
            ok = false;
        }
        for o in &t.outcomes {
            match c.outcomes.iter().position(|x| x.name == o.name) {
                Some(i) if group[i].is_some() => {
                    let e = cx
                        .diag(
                            Kind::Duplicate,
                            format!("outcome `{}` is given a test twice", o.name),
                        )
                        .label(o.span, "given again here")
                        .help("give each outcome at most one `test ... for` statement");
                    cx.push(e);
                    ok = false;
                }
                Some(i) => group[i] = Some(q),
                None => {
                    let compared: Vec<&str> = c.outcomes.iter().map(|x| x.name.as_str()).collect();
                    let e = cx
                        .diag(
                            Kind::UnknownOutcome,
                            format!("analysis `{}` does not compare `{}`", a.name.name, o.name),
                        )
                        .label(o.span, "not compared here")
                        .help(suggest::help("outcome", &o.name, &compared));
                    cx.push(e);
                    ok = false;
                }
            }
        }
    }
    if !ok {
        return None;
    }
    // The analysis-wide lowering, over the outcomes without a test of their own (or the first
    // outcome when every outcome has one), with the plain test statement.
    let rest: Vec<ast::Ident> = c
        .outcomes
        .iter()
        .zip(&group)
        .filter(|(_, g)| g.is_none())
        .map(|(o, _)| o.clone())
        .collect();
    let with = |outcomes: Vec<ast::Ident>, tests: Vec<ast::Test>| ast::Analysis {
        compares: vec![ast::Compare {
            outcomes,
            ..c.clone()
        }],
        tests,
        ..a.clone()
    };
    let plain: Vec<ast::Test> = plain.into_iter().cloned().collect();
    let base_outcomes = if rest.is_empty() {
        c.outcomes[..1].to_vec()
    } else {
        rest
    };
    let base = analysis_base(cx, names, measures, &with(base_outcomes, plain))?;
    // Each `for` group with its own test; its warnings were given by the base lowering already
    // (the compare, correction and missing statements are the same), so only errors are kept.
    let mut own: Vec<(usize, TestKind, Sides)> = Vec::new();
    for (q, t) in qualified.iter().enumerate() {
        let outcomes: Vec<ast::Ident> = c
            .outcomes
            .iter()
            .zip(&group)
            .filter(|(_, g)| **g == Some(q))
            .map(|(o, _)| o.clone())
            .collect();
        let mut test = (*t).clone();
        test.outcomes.clear();
        let before = cx.diags.len();
        let sub = analysis_base(cx, names, measures, &with(outcomes.clone(), vec![test]));
        let mut i = before;
        while i < cx.diags.len() {
            if cx.diags[i].is_error() {
                i += 1;
            } else {
                cx.diags.remove(i);
            }
        }
        let sub = sub?;
        for o in &sub.outcomes {
            own.push((*o, sub.test, sub.sides));
        }
    }
    let mut out = Analysis {
        outcomes: Vec::new(),
        ..base
    };
    for o in &c.outcomes {
        if let Some(id) = names.outcomes.iter().position(|x| x.name.name == o.name) {
            out.outcomes.push(id);
        }
    }
    let wide = (out.test, out.sides);
    let first = out.outcomes.first().copied();
    if let Some(&(_, test, sides)) = own.iter().find(|(o, ..)| Some(*o) == first) {
        out.test = test;
        out.sides = sides;
        // The first outcome's own test is now the analysis-wide one; the outcomes without a
        // test of their own keep the plain statement's.
        for &o in &out.outcomes {
            if !own.iter().any(|(x, ..)| *x == o) && (test, sides) != wide {
                own.push((o, wide.0, wide.1));
            }
        }
    }
    out.per_outcome = own
        .into_iter()
        .filter(|&(o, test, sides)| Some(o) != first && (test, sides) != (out.test, out.sides))
        .collect();
    Some(out)
}

fn analysis_base(
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
    let (within, levels) = match (&c.within, &c.within_bins) {
        (None, _) => (Some(None), Some(Vec::new())),
        (Some((var, _)), Some((edges, _))) => match binned(cx, names, var, edges) {
            Some((v, bins)) => (Some(Some(v)), Some((0..bins).collect())),
            None => (None, None),
        },
        (Some((var, lv)), None) => match names.categorical(cx, var, "subgroup variable") {
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
            const TESTS: [&str; 10] = [
                "pooled_z",
                "unpooled_z",
                "fisher",
                "welch_t",
                "student_t",
                "cluster_t",
                "robust_t",
                "cr2",
                "randomisation",
                "permutation",
            ];
            match n.name.as_str() {
                "pooled_z" => Some(TestKind::PooledZ),
                "unpooled_z" => Some(TestKind::UnpooledZ),
                "fisher" => Some(TestKind::FisherExact),
                "welch_t" => Some(TestKind::WelchT),
                "student_t" => Some(TestKind::StudentT),
                "cluster_t" => Some(TestKind::ClusterT),
                "randomisation" | "randomization" | "permutation" => Some(TestKind::Randomisation),
                "robust_t" => Some(TestKind::RobustT),
                "cr2" => Some(TestKind::Cr2),
                other => {
                    let e = cx
                        .diag(Kind::UnknownTest, format!("there is no test `{other}`"))
                        .label(n.span, "unknown test")
                        .help(suggest::help_with(other, &TESTS, "Tests are `pooled_z`, `unpooled_z`, `fisher` (binary outcomes), `welch_t` and `student_t` (continuous), `cluster_t`, `robust_t`, `cr2` and `randomisation` (either)."));
                    cx.push(e);
                    None
                }
            }
        }
        None if !a.adjust.is_empty() => Some(TestKind::RobustT),
        None => Some(match binary.first() {
            Some((false, _)) => TestKind::WelchT,
            _ => TestKind::PooledZ,
        }),
    };
    let adjust = adjustment(cx, names, a, test, explicit);
    if let Some(test) = test {
        let for_binary = !matches!(test, TestKind::WelchT | TestKind::StudentT);
        // The cluster-level t test and the randomisation test compare means of any outcome,
        // and a regression takes either (a binary one as a linear probability model).
        // So does inverse-probability weighting (a weighted difference of means or shares).
        let ipw = a.missing.first().is_some_and(|m| m.how.name == "ipw");
        let either = matches!(test, TestKind::ClusterT | TestKind::Randomisation)
            || test.is_regression()
            || ipw;
        for (is_bin, s) in &binary {
            if *is_bin != for_binary && !either {
                let (what, fix) = if *is_bin {
                    ("binary", "`pooled_z`, `unpooled_z`, `fisher` or `robust_t`")
                } else {
                    ("continuous", "`welch_t`, `student_t` or `robust_t`")
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
                            .help(if q.unit == UnitSpec::None && v > 0.5 && v <= 50.0 {
                                format!(
                                    "a plain number is a proportion; write `alpha {}%`",
                                    q.value
                                )
                            } else {
                                "the usual choice is `alpha 5%`".to_string()
                            });
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
                        .help(suggest::help_with(
                            other,
                            &CORR,
                            "Corrections are `none`, `bonferroni` and `holm`.",
                        ));
                    cx.push(e);
                    None
                }
            }
        }
    };
    let missing = match a.missing.as_slice() {
        [] => Some(None),
        [m, rest @ ..] => {
            for r in rest {
                cx.duplicate("`missing`", m.span, r.span);
            }
            const HANDLINGS: [&str; 3] = ["complete_cases", "lee_bounds", "ipw"];
            match m.how.name.as_str() {
                "complete_cases" => Some(Some(MissingHandling::CompleteCases)),
                "lee_bounds" => Some(Some(MissingHandling::LeeBounds)),
                "ipw" => Some(Some(MissingHandling::Ipw)),
                other => {
                    let e = cx
                        .diag(
                            Kind::InvalidValue,
                            format!("there is no handling of missing outcomes `{other}`"),
                        )
                        .label(m.how.span, "unknown handling")
                        .help(suggest::help_with(
                            other,
                            &HANDLINGS,
                            "Missing outcomes are handled by `complete_cases` (those without a value are left out of the contrast, and counted), `lee_bounds` (complete cases, with Lee bounds beside) or `ipw on <covariates>` (inverse-probability weighting).",
                        ));
                    cx.push(e);
                    None
                }
            }
        }
    };
    let missing_covariates = missing_model(cx, names, a, missing.flatten(), explicit);
    let mut complier_effect = false;
    for (k, e) in a.estimates.iter().enumerate() {
        if let Some(first) = a.estimates[..k].iter().find(|f| f.name == e.name) {
            cx.duplicate(&format!("`estimate {}`", e.name), first.span, e.span);
            continue;
        }
        match e.name.as_str() {
            "complier_effect" => complier_effect = true,
            other => {
                let d = cx
                    .diag(
                        Kind::InvalidValue,
                        format!("there is no estimand `{other}`"),
                    )
                    .label(e.span, "unknown estimand")
                    .help(suggest::help_with(
                        other,
                        &["complier_effect"],
                        "`estimate complier_effect` adds the complier effect (CACE: the assigned arm as instrument for receipt) beside the ITT effect.",
                    ));
                cx.push(d);
                ok = false;
            }
        }
    }
    if !ok {
        return None;
    }
    Some(Analysis {
        per_outcome: Vec::new(),
        adjust: adjust?,
        missing: missing?,
        missing_covariates: missing_covariates?,
        complier_effect,
        sequential: None,
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

/// The covariates of `missing ipw on ...` (empty for another handling), and the statements
/// that cannot go with it: an explicit test (the weighted difference has its own z test) and
/// `adjust for`.
fn missing_model(
    cx: &mut Cx<'_>,
    names: &Names<'_>,
    a: &ast::Analysis,
    handling: Option<MissingHandling>,
    explicit: Option<&ast::Ident>,
) -> Option<Vec<VarId>> {
    let Some(m) = a.missing.first() else {
        return Some(Vec::new());
    };
    if handling != Some(MissingHandling::Ipw) {
        if let (Some(span), Some(_)) = (m.on_span, handling) {
            let e = cx
                .diag(
                    Kind::InvalidValue,
                    format!("`missing {}` takes no covariates", m.how.name),
                )
                .label(span, "covariates of a model of being observed")
                .help("covariates belong to inverse-probability weighting: `missing ipw on age, educ`; otherwise leave out `on ...`");
            cx.push(e);
            return None;
        }
        return Some(Vec::new());
    }
    let mut ok = true;
    if m.on.is_empty() {
        let e = cx
            .diag(
                Kind::MissingSection,
                "`missing ipw` needs the covariates that predict being observed",
            )
            .label(m.span, "no covariates")
            .help("name them: `missing ipw on age, educ` (a logistic model of being observed given them is fitted in each arm)");
        cx.push(e);
        ok = false;
    }
    let mut covariates = Vec::new();
    for c in &m.on {
        match names.var(cx, c) {
            Some(v) if covariates.contains(&v) => {
                let e = cx
                    .diag(Kind::InvalidValue, format!("`{}` is named twice", c.name))
                    .label(c.span, "again")
                    .help("name each covariate once");
                cx.push(e);
                ok = false;
            }
            Some(v) => covariates.push(v),
            None => ok = false,
        }
    }
    if let Some(n) = explicit {
        let e = cx
            .diag(
                Kind::TestMismatch,
                "inverse-probability weighting has its own test",
            )
            .label(n.span, "the test")
            .label(m.span, "the weighting")
            .help("the weighted difference is tested by a z test with the M-estimation sandwich standard error; leave out the test's name (sidedness and alpha stay)");
        cx.push(e);
        ok = false;
    }
    if let Some(adj) = a.adjust.first() {
        let e = cx
            .diag(
                Kind::Conflict,
                "`adjust for` and `missing ipw` cannot be combined",
            )
            .label(adj.span, "regression adjustment")
            .label(m.span, "inverse-probability weighting")
            .help("weight the unadjusted difference (`missing ipw on ...`) or adjust the complete cases (`adjust for ...`), in separate analyses");
        cx.push(e);
        ok = false;
    }
    ok.then_some(covariates)
}

/// The `adjust for` statement of an analysis: its covariates and method, and the test it needs
/// (a regression's: `robust_t`, or `cr2` in a cluster design). `Some(None)` without one.
fn adjustment(
    cx: &mut Cx<'_>,
    names: &Names<'_>,
    a: &ast::Analysis,
    test: Option<TestKind>,
    explicit: Option<&ast::Ident>,
) -> Option<Option<Adjustment>> {
    let Some(first) = a.adjust.first() else {
        return Some(None);
    };
    for other in &a.adjust[1..] {
        cx.duplicate("`adjust for`", first.span, other.span);
    }
    let mut ok = true;
    let mut covariates = Vec::new();
    for c in &first.covariates {
        match names.var(cx, c) {
            Some(v) if covariates.contains(&v) => {
                let e = cx
                    .diag(
                        Kind::InvalidValue,
                        format!("`{}` is adjusted for twice", c.name),
                    )
                    .label(c.span, "again")
                    .help("name each covariate once");
                cx.push(e);
                ok = false;
            }
            Some(v) => covariates.push(v),
            None => ok = false,
        }
    }
    const METHODS: [&str; 2] = ["lin", "ancova"];
    let method = match &first.method {
        None => AdjustMethod::Lin,
        Some(m) if m.name == "lin" => AdjustMethod::Lin,
        Some(m) if m.name == "ancova" => AdjustMethod::Ancova,
        Some(m) => {
            let e = cx
                .diag(
                    Kind::InvalidValue,
                    format!("there is no adjustment method `{}`", m.name),
                )
                .label(m.span, "unknown method")
                .help(suggest::help_with(
                    &m.name,
                    &METHODS,
                    "Methods are `lin` (covariates centred and interacted with treatment, the default) and `ancova` (covariates added).",
                ));
            cx.push(e);
            ok = false;
            AdjustMethod::Lin
        }
    };
    if let (Some(t), Some(n)) = (test, explicit)
        && !t.is_regression()
    {
        let e = cx
            .diag(
                Kind::TestMismatch,
                format!("{} cannot adjust for covariates", test_name(t)),
            )
            .label(n.span, "the test")
            .label(first.span, "the adjustment")
            .help("an adjusted analysis tests the regression's treatment coefficient: `test robust_t` (HC2 errors), or `test cr2` in a cluster design");
        cx.push(e);
        ok = false;
    }
    ok.then_some(Some(Adjustment { covariates, method }))
}

pub(super) fn test_name(t: TestKind) -> &'static str {
    match t {
        TestKind::PooledZ => "`pooled_z`",
        TestKind::UnpooledZ => "`unpooled_z`",
        TestKind::FisherExact => "`fisher`",
        TestKind::WelchT => "`welch_t`",
        TestKind::ClusterT => "`cluster_t`",
        TestKind::Randomisation => "`randomisation`",
        TestKind::RobustT => "`robust_t`",
        TestKind::Cr2 => "`cr2`",
        TestKind::StudentT => "`student_t`",
    }
}

pub(super) fn expectation(
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
                .help(suggest::help_with(
                    other,
                    &METRICS,
                    "Expectations are about `power(...)` or `coverage(...)`.",
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
pub(super) type ArmColumn = (String, Vec<(String, ArmId)>, Span);

pub(super) fn data_mapping(
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
    let mut covariate_spans: Vec<(VarId, Span)> = Vec::new();
    let mut outcome_spans: Vec<(OutcomeId, Span)> = Vec::new();
    let mut monthly_hours: Option<(String, Span)> = None;
    let mut path: Option<(PathColumn, Span)> = None;
    let mut delimiter: Option<(u8, Span)> = None;
    let mut decimal: Option<(bool, Span)> = None;
    let mut allow: Option<Span> = None;
    let mut flows: Vec<(Flow, String, Span)> = Vec::new();
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
                let mut vs: Vec<(String, ArmId)> = Vec::new();
                let mut value_spans: Vec<Span> = Vec::new();
                for (v, a) in values {
                    if let Some(i) = vs.iter().position(|(x, _)| *x == v.text) {
                        cx.duplicate(&format!("the value \"{}\"", v.text), value_spans[i], v.span);
                        ok = false;
                        continue;
                    }
                    match names.arm(cx, a) {
                        Some(a) => {
                            vs.push((v.text.clone(), a));
                            value_spans.push(v.span);
                        }
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
                Some(id) => {
                    if let Some((_, first)) = covariate_spans.iter().find(|(x, _)| *x == id) {
                        cx.duplicate(&format!("the column of `{}`", v.name), *first, s);
                        ok = false;
                    }
                    covariate_spans.push((id, s));
                    covariates.push((id, col.text.clone()));
                }
                None => ok = false,
            },
            DataItem::Outcome(o, col, _) => match names.outcome(cx, o) {
                Some(id) => {
                    if let Some((_, first)) = outcome_spans.iter().find(|(x, _)| *x == id) {
                        cx.duplicate(&format!("the column of `{}`", o.name), *first, s);
                        ok = false;
                    }
                    outcome_spans.push((id, s));
                    outcomes.push((id, col.text.clone()));
                }
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
            // Read by the delivery lowering (`delivery::cluster_column`).
            DataItem::Cluster(..) => {}
            DataItem::AllowExclusions(_) => {
                if let Some(f) = allow {
                    cx.duplicate("`allow exclusions`", f, s);
                }
                allow = Some(s);
            }
            DataItem::Flow(name, col, _) => match Flow::from_name(&name.name) {
                Some(flow) => {
                    if let Some((_, _, first)) = flows.iter().find(|(f, _, _)| *f == flow) {
                        cx.duplicate(&format!("the {} column", flow.name()), *first, s);
                        ok = false;
                    }
                    flows.push((flow, col.text.clone(), s));
                }
                None => {
                    let names: Vec<&str> = Flow::ALL.iter().map(|f| f.name()).collect();
                    let mut candidates = names.clone();
                    candidates.extend(DATA_KEYWORDS);
                    let list = format!(
                        "A data section maps `id`, `arm`, `covariate`, `outcome`, `monthly_hours`, `path`, `delimiter`, `decimal`, `allow exclusions`, `cluster` and the flow columns {}",
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    let e = cx
                        .diag(
                            Kind::UnknownFlow,
                            format!("`{}` is not a statement of the data section", name.name),
                        )
                        .label(name.span, "unknown")
                        .help(suggest::help_with(&name.name, &candidates, &list));
                    cx.push(e);
                    ok = false;
                }
            },
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
        flows: flows.into_iter().map(|(f, c, _)| (f, c)).collect(),
    })
}

/// Keywords of the data section, for "did you mean" on an unknown statement.
const DATA_KEYWORDS: [&str; 9] = [
    "cluster",
    "id",
    "arm",
    "covariate",
    "outcome",
    "monthly_hours",
    "path",
    "delimiter",
    "decimal",
];

/// Eligibility applied to subgroups. A bin's probability becomes the share of the population in
/// it that the criteria on its source admit (the simulator draws the source under the same
/// criteria), and a subgroup level no eligible participant can have, such as a bin the criteria
/// exclude or a level outside `in {...}`, is warned about where the analysis asks for it: its
/// contrast is never estimable, in simulation or on data from this design.
pub(super) fn eligible_subgroups(
    cx: &mut Cx<'_>,
    model: &mut TrialModel,
    analyses: &[&ast::Analysis],
) {
    let declared = model.population.variables.clone();
    for var in &mut model.population.variables {
        let Distribution::Binned {
            source,
            edges,
            levels,
        } = &mut var.distribution
        else {
            continue;
        };
        let criteria: Vec<(Comparison, f64)> = model
            .eligibility
            .criteria
            .iter()
            .filter(|c| c.variable == *source)
            .filter_map(|c| match c.test {
                CriterionTest::Compare { op, value } => Some((op, value)),
                CriterionTest::InSet { .. } => None,
            })
            .collect();
        let Some(from) = declared.get(*source) else {
            continue;
        };
        for (level, bin) in levels.iter_mut().zip(edges.windows(2)) {
            level.probability = admitted_mass(&from.distribution, bin[0], bin[1], &criteria);
        }
    }
    for (analysis, written) in model.analyses.iter().zip(analyses) {
        let (Some(var), Some(compare)) = (analysis.within, written.compares.first()) else {
            continue;
        };
        let Some(variable) = model.population.variables.get(var) else {
            continue;
        };
        let unreachable: Vec<&str> = analysis
            .levels
            .iter()
            .filter(|&&l| !model.level_possible(var, l))
            .filter_map(|&l| variable.levels()?.get(l).map(|l| l.name.as_str()))
            .collect();
        if unreachable.is_empty() {
            continue;
        }
        let plural = unreachable.len() > 1;
        let (subject, at) = match (&compare.within, &compare.within_bins) {
            (Some((name, _)), Some((_, span))) => (
                format!(
                    "falls in {} {} of `{}`",
                    if plural { "bins" } else { "bin" },
                    unreachable.join(", "),
                    name.name
                ),
                *span,
            ),
            (Some((name, _)), None) => (
                format!(
                    "has {} {} of `{}`",
                    if plural { "levels" } else { "level" },
                    unreachable.join(", "),
                    name.name
                ),
                name.span,
            ),
            (None, _) => continue,
        };
        let source = variable
            .binned_from()
            .and_then(|s| model.population.variables.get(s))
            .map_or(variable.name.as_str(), |s| s.name.as_str());
        let e = cx
            .diag(
                Kind::ImpossibleEligibility,
                format!(
                    "no eligible participant {subject}: {} in every simulated trial and on data that meet the criteria",
                    if plural { "their contrasts are empty" } else { "its contrast is empty" }
                ),
            )
            .label(at, "a subgroup the eligibility criteria or the population leave empty")
            .help(format!(
                "drop or merge these subgroups, or check the population and eligibility criteria on `{source}`"
            ))
            .warning();
        cx.push(e);
    }
}

/// The population mass of `d` in `[lo, hi)` that the comparisons `criteria` admit.
fn admitted_mass(d: &Distribution, lo: f64, hi: f64, criteria: &[(Comparison, f64)]) -> f64 {
    if let Distribution::Fixed { value } = d {
        let admitted = criteria.iter().all(|(op, v)| op.holds(*value, *v));
        return f64::from(u8::from(admitted && lo <= *value && *value < hi));
    }
    // A continuous source: the criteria admit an interval, and an equality holds no mass.
    let (mut lower, mut upper) = (lo, hi);
    for (op, v) in criteria {
        match op {
            Comparison::Gt | Comparison::Ge => lower = lower.max(*v),
            Comparison::Lt | Comparison::Le => upper = upper.min(*v),
            Comparison::Eq => return 0.0,
        }
    }
    if lower < upper {
        mass_between(d, lower, upper)
    } else {
        0.0
    }
}
