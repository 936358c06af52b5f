//! Assignment, sample sizes and the employment process.

use super::*;

// ---- assignment --------------------------------------------------------------------------------

pub(super) fn assignment(
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
            paired_start: None,
            top_up: None,
            clock: Clock::Intake,
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
            let guidance_months = match &c.guidance {
                Some(q) => match cx.whole_months(q, "the guidance") {
                    Some(0) => {
                        let e = cx
                            .diag(Kind::InvalidValue, "a guidance of 0 months holds no slot")
                            .label(q.span, "here")
                            .help("give the longest a client stays in the caseload, e.g. `guidance 12 months`");
                        cx.push(e);
                        return None;
                    }
                    Some(m) => Some(m),
                    None => return None,
                },
                None => None,
            };
            let arm = match &c.arm {
                Some(a) => Some(names.arm(cx, a)?),
                None => None,
            };
            let waiting = match &c.waiting {
                Some(p) => Some(names.process(cx, p)?),
                None => None,
            };
            Some(Capacity {
                staff: staff?,
                caseload: caseload?,
                intakes_per_month: rate,
                guidance_months,
                arm,
                waiting,
            })
        }
    };
    let top_up = match a.top_ups.as_slice() {
        [] => Some(None),
        [t, rest @ ..] => {
            for r in rest {
                cx.duplicate("`top_up`", t.span, r.span);
            }
            top_up(cx, t)
        }
    };
    let paired_start = match a.paired.as_slice() {
        [] => Some(None),
        [p, rest @ ..] => {
            for r in rest {
                cx.duplicate("the start pairing", p.span, r.span);
            }
            paired(cx, names, p, intake_order)
        }
    };
    let clock = match a.clock.as_slice() {
        [] => Clock::Intake,
        [(from_randomisation, s), rest @ ..] => {
            for (_, r) in rest {
                cx.duplicate("`clock`", *s, *r);
            }
            if *from_randomisation {
                Clock::Randomisation
            } else {
                Clock::Intake
            }
        }
    };
    Some(Assignment {
        clock,
        rule: rule?,
        intake_order,
        capacity,
        paired_start: paired_start?,
        top_up: top_up?,
    })
}

/// What a caseload limit does, said where the spec states it: with every clock at intake it
/// moves intake dates only (a warning that names what it does not change, unless the spec
/// states `clock from intake` itself); with the clock at
/// randomisation the engine queues the capacity arm for slots, which it does not combine with an
/// inflow or clusters (refused).
pub(super) fn capacity_checks(
    cx: &mut Cx<'_>,
    a: &ast::Assignment,
    model: &Assignment,
    inflow: bool,
    clusters: bool,
) {
    let (Some(c), Some(_)) = (a.capacity.first(), &model.capacity) else {
        return;
    };
    match model.clock {
        // Stated: the spec says where the months count from; nothing is left unsaid.
        Clock::Intake if !a.clock.is_empty() => {}
        Clock::Intake => {
            let e = cx
                .diag(
                    Kind::CapacityCalendar,
                    "with every clock starting at intake, the caseload limit moves intake dates, not outcomes",
                )
                .label(c.span, "slots and intake rate: reported, not a delay")
                .help(
                    "outcomes measured a fixed time after randomisation see the wait for a slot: \
                     add `clock from randomisation` to the assignment",
                )
                .warning();
            cx.push(e);
        }
        Clock::Randomisation if inflow || clusters => {
            let what = if inflow { "an inflow" } else { "clusters" };
            let e = cx
                .diag(
                    Kind::Conflict,
                    format!("a queue for caseload slots is not simulated together with {what}"),
                )
                .label(c.span, "capacity with the clock at randomisation")
                .help(
                    "remove `clock from randomisation` (the limit then moves intake dates only), \
                     or the capacity statement",
                );
            cx.push(e);
        }
        Clock::Randomisation => {
            // The queue takes people in one by one, in their random order of randomisation:
            // an explicit `intake order simultaneous` cannot hold, and would change nothing.
            if let Some((false, s)) = a.intake.first() {
                let e = cx
                    .diag(
                        Kind::CapacityCalendar,
                        "with the queue for caseload slots, intake is not simultaneous",
                    )
                    .label(*s, "not simulated: the queue decides who starts when")
                    .label(c.span, "capacity with the clock at randomisation")
                    .help(
                        "the queue takes participants in one by one in their random order of \
                         randomisation: write `intake order random`",
                    )
                    .warning();
                cx.push(e);
            }
        }
    }
}

fn top_up(cx: &mut Cx<'_>, t: &ast::TopUp) -> Option<Option<TopUp>> {
    let per_arm = cx.count(&t.per_arm, "the top-up size", 1);
    let month = cx.whole(t.month.value, t.month.span, "the top-up month", "months");
    if !t.excluded {
        let e = cx
            .diag(
                Kind::InvalidValue,
                "a top-up cohort must be excluded from the analysis",
            )
            .label(t.span, "analysed top-up")
            .help(
                "write `(excluded from analysis)` after it; participants who are analysed belong in `sample` (or the pool)",
            );
        cx.push(e);
        return None;
    }
    Some(Some(TopUp {
        per_arm: per_arm?,
        month: month?,
        excluded: true,
    }))
}

fn paired(
    cx: &mut Cx<'_>,
    names: &Names<'_>,
    p: &ast::PairedStart,
    order: IntakeOrder,
) -> Option<Option<PairedStart>> {
    let follower = names.arm(cx, &p.follower);
    let leader = names.arm(cx, &p.leader);
    let (follower, leader) = (follower?, leader?);
    if follower == leader {
        let e = cx
            .diag(
                Kind::SameArm,
                format!("arm `{}` is paired with itself", p.leader.name),
            )
            .label(p.leader.span, "the same arm")
            .help("pair the comparator with the arm whose intakes set the dates: `control starts paired with experiment`");
        cx.push(e);
        return None;
    }
    if order != IntakeOrder::Random {
        let e = cx
            .diag(
                Kind::Conflict,
                "starts are paired by intake order, but the intake order is not random",
            )
            .label(p.span, "pairing")
            .help("add `intake order random`: client k of each arm is the k-th by sequence number")
            .warning();
        cx.push(e);
    }
    Some(Some(PairedStart { follower, leader }))
}

pub(super) fn allocation(
    cx: &mut Cx<'_>,
    names: &Names<'_>,
    r: &ast::Rule,
) -> Option<AssignmentRule> {
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
        // Handled above, by complete randomisation of the clusters.
        ast::Rule::Cluster { .. } => None,
        ast::Rule::Parity {
            id,
            even,
            odd,
            span,
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
                id: id.name.clone(),
            })
        }
        ast::Rule::Randomise {
            ratio,
            blocks,
            strata,
            ..
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
    }
}

pub(super) fn sample_sizes(
    cx: &mut Cx<'_>,
    names: &Names<'_>,
    s: &ast::Sample,
) -> Option<Vec<u32>> {
    match s {
        ast::Sample::Clusters(n, _, _) => {
            let n = cx.count(n, "the number of clusters", 1)?;
            Some(vec![n; names.arms.len()])
        }
        ast::Sample::PerArm(n, _) => {
            let n = cx.count(n, "the sample size", 1)?;
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

pub(super) fn employment(
    cx: &mut Cx<'_>,
    e: Option<&ast::Employment>,
) -> Option<EmploymentProcess> {
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
            numeric(cx, d, DistUse::Hours)
        }
    };
    let wage = match e.wage.as_slice() {
        [] => Some(None),
        [d, rest @ ..] => {
            for r in rest {
                cx.duplicate("`wage`", d.span(), r.span());
            }
            numeric(cx, d, DistUse::Plain).map(Some)
        }
    };
    Some(EmploymentProcess {
        job_loss_per_month: job_loss?,
        hours: hours?,
        wage: wage?,
    })
}
