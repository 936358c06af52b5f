//! Arms, their paths and rates, and outcome measures.

use super::*;

// ---- arms --------------------------------------------------------------------------------------

pub(super) fn rate(
    cx: &mut Cx<'_>,
    names: &Names<'_>,
    param: &str,
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
    let probability = cx.chance(&r.value, "the rate", format!("{param}.work"));
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
                        let level = level_name(names, var, lv, &l.name.name);
                        let p = match &l.share {
                            Share::Value(q) => cx.chance(
                                q,
                                &format!("the rate for `{}`", l.name.name),
                                format!("{param}.work.{level}"),
                            ),
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
pub(super) fn arm(
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
            baseline = Some((
                cx.chance(
                    &r.value,
                    "baseline employment",
                    format!("arm.{}.baseline", a.name.name),
                ),
                r.span,
            ));
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
                rate(
                    cx,
                    names,
                    &format!("arm.{}", a.name.name),
                    r,
                    follow_up,
                    fu_span,
                )
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
                share_by: None,
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
        if let Some(shares) = &shares {
            for (p, share) in a.paths.iter().zip(shares) {
                if let Share::Value(Quantity {
                    belief: Some(b),
                    span,
                    ..
                }) = &p.share
                {
                    let _ = cx.belief(
                        b,
                        *share,
                        format!("arm.{}.{}.share", a.name.name, p.name.name),
                        *span,
                    );
                }
            }
        }
        let share_by = path_shares_by(cx, names, a, shares.as_deref());
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
                        rate(
                            cx,
                            names,
                            &format!("arm.{}.{}", a.name.name, p.name.name),
                            r,
                            follow_up,
                            fu_span,
                        )
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
            match (&shares, &share_by, delay, work) {
                (Some(shares), Some(by), Some(delay_months), Some(work)) => paths.push(SubPath {
                    name: p.name.name.clone(),
                    share: shares[i],
                    rest: matches!(p.share, Share::Rest(_)),
                    share_by: by[i].clone(),
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
            let share = cx.chance(
                &d.share,
                "the dropout share",
                format!("arm.{}.dropout", a.name.name),
            );
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
            let share = cx.chance(
                share,
                "the exemption share",
                format!("arm.{}.exemption", a.name.name),
            );
            let max_span = max.span;
            let max = cx.whole_months(max, "the longest exemption");
            if let Some(m) = max
                && m > follow_up
            {
                let mut e = cx
                    .diag(
                        Kind::ExemptionBeyondFollowUp,
                        format!(
                            "an exemption of up to {m} months is longer than the follow-up of {follow_up} months"
                        ),
                    )
                    .label(max_span, format!("{m} months"));
                if let Some(s) = fu_span {
                    e = e.label(s, "follow-up");
                }
                cx.push(
                    e.help(format!(
                        "every pause of {follow_up} months or more lasts the whole follow-up; check the number and its unit"
                    ))
                    .warning(),
                );
            }
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
            let p = cx.chance(
                p,
                "the non-work exit rate",
                format!("arm.{}.non_work_exit", a.name.name),
            );
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
            let share = cx.chance(
                &c.share,
                "the crossover share",
                format!("arm.{}.crossover", a.name.name),
            );
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
                .chance(
                    q,
                    &format!("the rate of `{}`", d.outcome.name),
                    format!("arm.{}.{}", a.name.name, d.outcome.name),
                )
                .map(|probability| DirectValue::Binary { probability }),
            (Some(Measure::DirectContinuous), ast::DirectValue::Distribution(dist)) => {
                numeric(cx, dist, DistUse::Plain)
                    .map(|distribution| DirectValue::Continuous { distribution })
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
    let lost_to_follow_up = lost(cx, names, measures, a, follow_up, fu_span);
    let arm = Arm {
        name: a.name.name.clone(),
        paths: paths?,
        baseline_employment,
        dropout: dropout?,
        exemption: exemption?,
        non_work_exit: non_work_exit?,
        crossover: crossover?,
        direct_outcomes: direct,
        lost_to_follow_up: lost_to_follow_up?,
    };
    ok.then_some(arm)
}

/// `lost_to_follow_up 20% by month 12, by background { ... }, 1.5 x if work_12m`: the share, the
/// month it refers to (1..=follow-up; the follow-up by default), shares by level and the
/// outcome-dependent factor. `Some(None)` when the arm has no such statement, `None` when the
/// statement is wrong (reported).
fn lost(
    cx: &mut Cx<'_>,
    names: &Names<'_>,
    measures: &[Option<Measure>],
    a: &ast::Arm,
    follow_up: u32,
    fu_span: Option<Span>,
) -> Option<Option<LostToFollowUp>> {
    let [l, rest @ ..] = a.lost.as_slice() else {
        return Some(None);
    };
    for r in rest {
        cx.duplicate("`lost_to_follow_up`", l.span, r.span);
    }
    // Above 100 % (or below 0 %) gets its own fix: a share of the arm cannot pass the whole arm.
    let percent = match l.share.unit {
        UnitSpec::Percent => Some(l.share.value),
        UnitSpec::None if l.share.value > 1.0 && l.share.value <= 100.0 => None,
        UnitSpec::None => Some(l.share.value * 100.0),
        _ => None,
    };
    let share = match percent {
        Some(x) if !(0.0..=100.0).contains(&x) => {
            let e = cx
                .diag(
                    Kind::ProbabilityRange,
                    format!(
                        "{}% of arm `{}` cannot be lost to follow-up",
                        pct(x / 100.0),
                        a.name.name
                    ),
                )
                .label(l.share.span, "must be between 0% and 100%")
                .help(format!(
                    "the share lost is a part of the arm, at most all of it; write e.g. `lost_to_follow_up {}% by month {}`",
                    if x > 100.0 { 20 } else { 0 },
                    l.by_month.as_ref().map_or(follow_up, |n| n.value.max(1.0) as u32)
                ));
            cx.push(e);
            None
        }
        _ => cx.chance(
            &l.share,
            "the share lost to follow-up",
            format!("arm.{}.lost_to_follow_up", a.name.name),
        ),
    };
    let by_month = match &l.by_month {
        None => Some(follow_up.max(1)),
        Some(n) => {
            match cx.whole(n.value, n.span, "the month of loss to follow-up", "months") {
                Some(0) => {
                    let e = cx
                    .diag(
                        Kind::InvalidValue,
                        "nobody can be lost to follow-up by month 0",
                    )
                    .label(n.span, "month 0 is intake")
                    .help("give the month by which the share is lost, 1 or later, e.g. `by month 12`");
                    cx.push(e);
                    None
                }
                Some(m) if m > follow_up => {
                    let mut e = cx
                    .diag(
                        Kind::RateBeyondFollowUp,
                        format!(
                            "the share lost to follow-up refers to month {m}, beyond the follow-up of {follow_up} months"
                        ),
                    )
                    .label(n.span, format!("month {m}"));
                    if let Some(s) = fu_span {
                        e = e.label(s, "follow-up");
                    }
                    cx.push(
                    e.help(format!(
                        "fewer than the stated share are lost by month {follow_up}; state the share lost by a month within the follow-up"
                    ))
                    .warning(),
                );
                    Some(m)
                }
                m => m,
            }
        }
    };
    let by = match &l.by {
        None => Some(None),
        Some(by) => match names.categorical(cx, &by.variable, "`by` variable") {
            None => None,
            Some(var) => {
                let n = names.vars[var].levels().map_or(0, <[Level]>::len);
                let mut probs = vec![None; n];
                let mut good = true;
                for lv in &by.levels {
                    let level = names.level(cx, var, &lv.name);
                    let p = match &lv.share {
                        Share::Value(q) => cx.chance(
                            q,
                            &format!("the share lost to follow-up for `{}`", lv.name.name),
                            format!(
                                "arm.{}.lost_to_follow_up.{}",
                                a.name.name,
                                level_name(names, var, level, &lv.name.name)
                            ),
                        ),
                        Share::Rest(s) => {
                            let e = cx
                                .diag(Kind::InvalidValue, "`rest` is not a share lost to follow-up")
                                .label(*s, "here")
                                .help("give each level its own share; levels left out use the overall share");
                            cx.push(e);
                            None
                        }
                    };
                    match (level, p) {
                        (Some(level), Some(p)) => probs[level] = Some(p),
                        _ => good = false,
                    }
                }
                good.then_some(Some(RateByLevel {
                    variable: var,
                    probabilities: probs,
                }))
            }
        },
    };
    let factor = match &l.factor {
        None => Some(None),
        Some((x, o)) => {
            let ratio = if x.value.is_finite() && x.value >= 0.0 {
                Some(x.value)
            } else {
                let e = cx
                    .diag(
                        Kind::InvalidValue,
                        format!("a hazard ratio of {} is not possible", x.value),
                    )
                    .label(x.span, "must be 0 or more")
                    .help("write how many times as likely loss is for those with the outcome, e.g. `1.5 x if work_12m` (below 1: less likely)");
                cx.push(e);
                None
            };
            let outcome =
                names.outcome(cx, o).and_then(|id| match &measures[id] {
                    Some(m) if m.is_binary() => Some(id),
                    Some(_) => {
                        let e = cx
                        .diag(
                            Kind::InvalidValue,
                            format!("loss can depend on a binary outcome; `{}` is not one", o.name),
                        )
                        .label(o.span, "not binary")
                        .label(names.outcomes[id].measure_span, "measured here")
                        .help("name a binary outcome such as `work_12m = worked within 12 months`");
                        cx.push(e);
                        None
                    }
                    None => None,
                });
            ratio.zip(outcome).map(|(hazard_ratio, outcome)| {
                Some(LossFactor {
                    outcome,
                    hazard_ratio,
                })
            })
        }
    };
    Some(Some(LostToFollowUp {
        share: share?,
        by_month: by_month?,
        by: by?,
        outcome_factor: factor?,
    }))
}

/// A path's share per level, with where it is written (`None`: the path's own share).
type LevelShares = Vec<Option<(f64, Span)>>;

/// Per-level path shares (`path team_zorg 30% by background { non_western: 25% }`), one entry per
/// path. The `rest` path gets what the others leave at every level; without a `rest` path the
/// shares must make 100 % at every level. `None` when something is wrong (reported).
/// The model's name of level `lv` of covariate `var` (as the parameter paths spell it), or the
/// name as written when the level is unknown.
fn level_name(names: &Names<'_>, var: VarId, lv: Option<usize>, written: &str) -> String {
    lv.and_then(|i| names.vars.get(var)?.levels()?.get(i))
        .map_or_else(|| written.to_string(), |l| l.name.clone())
}

fn path_shares_by(
    cx: &mut Cx<'_>,
    names: &Names<'_>,
    a: &ast::Arm,
    shares: Option<&[f64]>,
) -> Option<Vec<Option<RateByLevel>>> {
    let n_paths = a.paths.len();
    if a.paths.iter().all(|p| p.share_by.is_none()) {
        return Some(vec![None; n_paths]);
    }
    let mut ok = true;
    let mut var: Option<(VarId, &ast::Ident)> = None;
    let mut per_path: Vec<Option<LevelShares>> = vec![None; n_paths];
    for (i, p) in a.paths.iter().enumerate() {
        let Some(by) = &p.share_by else { continue };
        if let Share::Rest(s) = p.share {
            let e = cx
                .diag(
                    Kind::Conflict,
                    format!(
                        "the `rest` path `{}` cannot have shares by level",
                        p.name.name
                    ),
                )
                .label(by.variable.span, "shares by level")
                .label(s, "`rest` takes what the other paths leave, level by level")
                .help("give the other paths their shares by level; `rest` follows them");
            cx.push(e);
            ok = false;
            continue;
        }
        let Some(v) = names.categorical(cx, &by.variable, "`by` variable") else {
            ok = false;
            continue;
        };
        match var {
            Some((first, first_id)) if first != v => {
                let e = cx
                    .diag(
                        Kind::Conflict,
                        format!(
                            "the paths of arm `{}` split their shares by two variables",
                            a.name.name
                        ),
                    )
                    .label(by.variable.span, format!("by `{}`", by.variable.name))
                    .label(first_id.span, format!("by `{}`", first_id.name))
                    .help("path shares can vary by one categorical variable per arm");
                cx.push(e);
                ok = false;
                continue;
            }
            _ => var = Some((v, &by.variable)),
        }
        let n_levels = names.vars[v].levels().map_or(0, <[Level]>::len);
        let mut probs = vec![None; n_levels];
        for l in &by.levels {
            let lv = names.level(cx, v, &l.name);
            let level = level_name(names, v, lv, &l.name.name);
            let p = match &l.share {
                Share::Value(q) => cx.chance(
                    q,
                    &format!("the share for `{}`", l.name.name),
                    format!("arm.{}.{}.share.{level}", a.name.name, p.name.name),
                ),
                Share::Rest(s) => {
                    let e = cx
                        .diag(Kind::InvalidValue, "`rest` is not a share of one level")
                        .label(*s, "here")
                        .help(
                            "give each level its share; the arm's `rest` path takes what is left",
                        );
                    cx.push(e);
                    None
                }
            };
            match (lv, p) {
                (Some(lv), Some(p)) => probs[lv] = Some((p, l.share.span())),
                _ => ok = false,
            }
        }
        per_path[i] = Some(probs);
    }
    let (Some(shares), Some((v, _))) = (shares, var) else {
        return None;
    };
    if !ok {
        return None;
    }
    let levels = names.vars[v].levels().unwrap_or(&[]);
    let rest = a
        .paths
        .iter()
        .position(|p| matches!(p.share, Share::Rest(_)));
    let mut rest_probs = vec![None; levels.len()];
    for (li, level) in levels.iter().enumerate() {
        let mut total = 0.0;
        let mut spans = Vec::new();
        for (i, p) in a.paths.iter().enumerate() {
            if Some(i) == rest {
                continue;
            }
            match per_path[i].as_ref().and_then(|v| v[li]) {
                Some((x, s)) => {
                    total += x;
                    spans.push(s);
                }
                None => {
                    total += shares[i];
                    spans.push(p.share.span());
                }
            }
        }
        let over = total > 1.0 + SHARE_TOL;
        let under = rest.is_none() && total < 1.0 - SHARE_TOL;
        if over || under {
            let mut e = cx
                .diag(
                    if over {
                        Kind::SharesOver
                    } else {
                        Kind::SharesUnder
                    },
                    format!(
                        "for `{}` = `{}`, the shares of the paths of arm `{}` add up to {}%",
                        names.vars[v].name,
                        level.name,
                        a.name.name,
                        pct(total)
                    ),
                )
                .label(
                    a.name.span,
                    format!("{}% at level `{}`", pct(total), level.name),
                );
            for s in spans {
                e = e.label(s, "");
            }
            let help = if over {
                "at every level the path shares must leave the `rest` path 0% or more".to_string()
            } else {
                format!(
                    "give the remaining {}% at this level to a path, or make one path `rest`",
                    pct(1.0 - total)
                )
            };
            cx.push(e.help(help));
            ok = false;
        }
        rest_probs[li] = Some((1.0 - total).max(0.0));
    }
    if !ok {
        return None;
    }
    Some(
        (0..n_paths)
            .map(|i| {
                if Some(i) == rest {
                    Some(RateByLevel {
                        variable: v,
                        probabilities: rest_probs.clone(),
                    })
                } else {
                    per_path[i].as_ref().map(|probs| RateByLevel {
                        variable: v,
                        probabilities: probs.iter().map(|x| x.map(|(p, _)| p)).collect(),
                    })
                }
            })
            .collect(),
    )
}

// ---- outcomes ----------------------------------------------------------------------------------

/// The measure, and the latest month it looks at (with its span) for follow-up checks.
pub(super) fn measure(cx: &mut Cx<'_>, o: &ast::Outcome) -> Option<(Measure, Option<(u32, Span)>)> {
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
        ast::Measure::Wage(n) => {
            let m = month(cx, n)?;
            Some((Measure::Wage { month: m }, Some((m, n.span))))
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
