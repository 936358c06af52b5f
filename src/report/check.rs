//! The summary of a checked spec that `trialsim check` prints: population and funnel, assignment,
//! arms with their paths and flows, outcomes, analyses and expectations, in words.

use std::fmt::Write as _;

use crate::design::feasibility::PoolAnswer;
use crate::model::*;

fn pct(p: f64) -> String {
    let v = (p * 100.0 * 1e4).round() / 1e4;
    format!("{v}%")
}

fn num(v: f64) -> String {
    let r = (v * 1e4).round() / 1e4;
    format!("{r}")
}

fn unit_suffix(u: Unit) -> &'static str {
    match u {
        Unit::None => "",
        Unit::Years => " years",
        Unit::Months => " months",
        Unit::HoursPerMonth => " hours/month",
    }
}

fn dist(d: &Distribution, unit: Unit) -> String {
    let u = unit_suffix(unit);
    match d {
        Distribution::Categorical { levels } => {
            let parts: Vec<String> = levels
                .iter()
                .map(|l| format!("{}: {}", level_text(&l.name), pct(l.probability)))
                .collect();
            format!("categorical {{ {} }}", parts.join(", "))
        }
        Distribution::Uniform { low, high } => format!("uniform({}, {}){u}", num(*low), num(*high)),
        Distribution::Normal { mean, sd } => format!("normal({}, {}){u}", num(*mean), num(*sd)),
        Distribution::LogNormal { median, sigma } => {
            format!(
                "lognormal(median {}, sigma {}){u}",
                num(*median),
                num(*sigma)
            )
        }
        Distribution::Fixed { value } => format!("fixed {}{u}", num(*value)),
        Distribution::Binned { levels, .. } => {
            let parts: Vec<String> = levels.iter().map(|l| l.name.clone()).collect();
            format!("bins {}", parts.join(", "))
        }
    }
}

fn op(c: Comparison) -> &'static str {
    match c {
        Comparison::Lt => "<",
        Comparison::Le => "<=",
        Comparison::Gt => ">",
        Comparison::Ge => ">=",
        Comparison::Eq => "==",
    }
}

fn process(m: &TrialModel, p: &ProcessRef) -> String {
    let arm = &m.arms[p.arm];
    match p.path {
        Some(i) => format!("{}.{}", arm.name, arm.paths[i].name),
        None => arm.name.clone(),
    }
}

fn rate(m: &TrialModel, w: &WorkRate) -> String {
    let mut s = match w.meaning {
        RateMeaning::FoundWithin => {
            format!("work within {} months: {}", w.months, pct(w.probability))
        }
        RateMeaning::EmployedAt => {
            format!("employed at month {}: {}", w.months, pct(w.probability))
        }
    };
    if let Some(by) = &w.by {
        let var = &m.population.variables[by.variable];
        let levels = var.levels().unwrap_or(&[]);
        let parts: Vec<String> = levels
            .iter()
            .zip(&by.probabilities)
            .filter_map(|(l, p)| p.map(|p| format!("{}: {}", level_text(&l.name), pct(p))))
            .collect();
        let _ = write!(s, " by {} {{ {} }}", var.name, parts.join(", "));
        if every_level_stated(m, by) {
            let _ = write!(s, " ({} reaches no one)", pct(w.probability));
        }
    }
    s
}

/// Whether every level a participant can have states its own value, so that the value before
/// `by` reaches no one.
fn every_level_stated(m: &TrialModel, by: &crate::model::RateByLevel) -> bool {
    let n = m
        .population
        .variables
        .get(by.variable)
        .and_then(|v| v.levels())
        .map_or(0, <[_]>::len);
    (0..n).all(|l| {
        !m.level_possible(by.variable, l) || by.probabilities.get(l).is_some_and(Option::is_some)
    })
}

fn measure(m: &Measure) -> String {
    match m {
        Measure::EmployedAt { month, min_hours } => {
            format!("employed at month {month}, >= {} h/month", num(*min_hours))
        }
        Measure::WorkedWithin { within, min_hours } => {
            format!(
                "worked within {within} months, >= {} h/month",
                num(*min_hours)
            )
        }
        Measure::Durable {
            month,
            consecutive,
            min_hours,
        } => format!(
            "durable at month {month}: {consecutive} consecutive months >= {} h/month",
            num(*min_hours)
        ),
        Measure::Hours { month } => format!("hours at month {month}"),
        Measure::Wage { month } => {
            format!("hourly wage at month {month}, among those in work (not ITT)")
        }
        Measure::BenefitEnded { month } => format!("benefit ended by month {month}"),
        Measure::ExitedTo { destination, month } => {
            format!("exited to {destination} by month {month}")
        }
        Measure::DirectBinary => "binary, given per arm".to_string(),
        Measure::DirectContinuous => "continuous, given per arm".to_string(),
    }
}

/// The readable summary `trialsim check` prints for a checked spec; `funnel` is the pool judged
/// against the spec's sample (computed by the command), when it states both.
pub fn summary(file: &str, m: &TrialModel, funnel: Option<&PoolAnswer>) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "{file}: ok: \"{}\"", m.name);
    let mut fu = format!("{} months after intake", m.follow_up_months);
    if let Some(d) = &m.reference_date {
        let _ = write!(fu, "; eligibility assessed on {d}");
    }
    let _ = writeln!(w, "  follow-up    {fu}");
    let pool = m
        .population
        .pool
        .map_or("pool size not stated".to_string(), |p| {
            format!("pool of {p}")
        });
    let _ = writeln!(w, "  population   {pool}");
    // Derived variables (bins of a declared one) are shown where an analysis uses them.
    for v in m
        .population
        .variables
        .iter()
        .filter(|v| v.binned_from().is_none())
    {
        let _ = writeln!(
            w,
            "                 {} ~ {}",
            v.name,
            dist(&v.distribution, v.unit)
        );
    }
    let mut criteria: Vec<String> = Vec::new();
    for c in &m.eligibility.criteria {
        let v = &m.population.variables[c.variable];
        let mut s = match &c.test {
            CriterionTest::Compare { op: o, value } => {
                format!(
                    "{} {} {}{}",
                    v.name,
                    op(*o),
                    num(*value),
                    unit_suffix(v.unit)
                )
            }
            CriterionTest::InSet { levels } => {
                let names: Vec<String> = levels
                    .iter()
                    .filter_map(|i| {
                        v.levels()
                            .and_then(|l| l.get(*i))
                            .map(|l| level_text(&l.name))
                    })
                    .collect();
                format!("{} in {{{}}}", v.name, names.join(", "))
            }
        };
        if let Some(a) = c.amended_from {
            let _ = write!(s, " (amended from {}{})", num(a), unit_suffix(v.unit));
        }
        criteria.push(s);
    }
    let _ = writeln!(
        w,
        "  eligibility  {}",
        if criteria.is_empty() {
            "everyone".to_string()
        } else {
            criteria.join(", ")
        }
    );
    if let Some(s) = &m.eligibility.screening {
        let observed = s
            .observed_loss
            .map_or(String::new(), |o| format!(" (observed {})", pct(o)));
        let _ = writeln!(
            w,
            "  screening    removes {}{observed}",
            pct(s.planned_loss)
        );
    }
    let rule = match &m.assignment.rule {
        AssignmentRule::Parity { even, odd, id } => format!(
            "parity of {id}: even -> {}, odd -> {}",
            m.arms[*even].name, m.arms[*odd].name
        ),
        AssignmentRule::Complete { ratio } => {
            format!("complete randomisation {}", ratio_text(ratio))
        }
        AssignmentRule::Blocked {
            ratio,
            block_size,
            strata,
        } => {
            let mut s = format!(
                "randomisation {} in blocks of {block_size}",
                ratio_text(ratio)
            );
            if !strata.is_empty() {
                let names: Vec<&str> = strata
                    .iter()
                    .map(|v| m.population.variables[*v].name.as_str())
                    .collect();
                let _ = write!(s, " within {}", names.join(", "));
            }
            s
        }
    };
    let order = match m.assignment.intake_order {
        IntakeOrder::Random => "random intake order",
        IntakeOrder::Simultaneous => "simultaneous intake",
    };
    let _ = write!(w, "  assignment   {rule}; {order}");
    if let Some(c) = &m.assignment.capacity {
        let _ = write!(w, "; capacity {} staff x {} caseload", c.staff, c.caseload);
        if let Some(r) = c.intakes_per_month {
            let _ = write!(w, ", {} intakes/month", num(r));
        }
    }
    let _ = writeln!(w);
    if let Some(p) = &m.assignment.paired_start {
        let _ = writeln!(
            w,
            "  calendar     {} client k starts on the date of {} client k (paired by sequence number)",
            m.arms[p.follower].name, m.arms[p.leader].name
        );
    }
    if let Some(line) = intake_calendar(m) {
        let _ = writeln!(w, "  intake       {line}");
    }
    if let Some(t) = &m.assignment.top_up {
        let _ = writeln!(
            w,
            "  top-up       {} per arm in month {} of intake, assigned by the same rule; {}",
            t.per_arm,
            t.month,
            if t.excluded {
                "excluded from the analysis"
            } else {
                "analysed"
            }
        );
    }
    if let Some(sizes) = &m.sample {
        let parts: Vec<String> = m
            .arms
            .iter()
            .zip(sizes)
            .map(|(a, n)| format!("{} {n}", a.name))
            .collect();
        let _ = writeln!(w, "  sample       {}", parts.join(", "));
        if let Some(line) = funnel.and_then(|a| pool_line(sizes, a)) {
            let _ = writeln!(w, "  funnel       {line}");
        }
    }
    let d = &m.delivery;
    if let Some(c) = &d.clusters {
        let _ = writeln!(
            w,
            "  clusters     {}s of {} randomised whole; ICC {}",
            c.label,
            c.size,
            num(c.icc)
        );
    }
    if let Some(i) = &d.inflow {
        let counts: Vec<String> = i.per_period.iter().map(u32::to_string).collect();
        let per = if i.period_months == 12 {
            "year"
        } else {
            "month"
        };
        let _ = writeln!(
            w,
            "  inflow       {} per {per}; analysis at month {}",
            counts.join(", "),
            i.analysis_month
        );
    }
    if let Some(c) = &d.costs {
        let _ = writeln!(
            w,
            "  costs        EUR {} fixed + EUR {} per participant; EUR {} saved per benefit-year; {} benefit-years avoided per exit",
            num(c.fixed),
            num(c.per_participant),
            num(c.saving_per_benefit_year),
            num(c.years_per_exit)
        );
    }
    let e = &m.employment;
    let mut emp = format!(
        "job loss {} per month; hours ~ {}",
        pct(e.job_loss_per_month),
        dist(&e.hours, Unit::HoursPerMonth)
    );
    if let Some(wage) = &e.wage {
        let _ = write!(emp, "; wage ~ {}", dist(wage, Unit::None));
    }
    let _ = writeln!(w, "  employment   {emp}");
    let _ = writeln!(w, "  arms");
    for a in &m.arms {
        let _ = writeln!(w, "    {}", a.name);
        let trivial = a.paths.len() == 1
            && a.paths[0].work.probability == 0.0
            && !a.direct_outcomes.is_empty();
        let own = a.paths.len() == 1 && a.paths[0].name == a.name;
        for p in a.paths.iter().filter(|_| !trivial) {
            if own {
                let _ = writeln!(w, "      {}", rate(m, &p.work));
                continue;
            }
            let delay = if p.delay_months > 0 {
                format!(", after {} months", p.delay_months)
            } else {
                String::new()
            };
            let _ = writeln!(
                w,
                "      path {} {}{}{delay}: {}",
                p.name,
                pct(p.share),
                share_by(m, p),
                rate(m, &p.work)
            );
        }
        for e in d
            .exits
            .iter()
            .filter(|e| m.arms.get(e.arm).is_some_and(|x| x.name == a.name))
        {
            let parts: Vec<String> = e
                .destinations
                .iter()
                .map(|x| format!("{}: {}", x.name, pct(x.probability)))
                .collect();
            let _ = writeln!(
                w,
                "      exits within {} months: {}",
                e.months,
                parts.join(", ")
            );
        }
        if a.baseline_employment > 0.0 {
            let _ = writeln!(
                w,
                "      employed at intake: {}",
                pct(a.baseline_employment)
            );
        }
        if let Some(d) = &a.dropout {
            let _ = writeln!(
                w,
                "      dropout before intake {}, follows {}",
                pct(d.share),
                process(m, &d.follows)
            );
        }
        if let Some(x) = &a.exemption {
            let _ = writeln!(
                w,
                "      exemption {} up to {} months",
                pct(x.share),
                x.max_months
            );
        }
        if let Some(x) = &a.non_work_exit {
            let _ = writeln!(
                w,
                "      exit without work within {} months: {}",
                x.months,
                pct(x.probability)
            );
        }
        if let Some(c) = &a.crossover {
            let _ = writeln!(
                w,
                "      crossover {} -> {} after {} months",
                pct(c.share),
                process(m, &c.to),
                c.after_months
            );
        }
        if let Some(l) = &a.lost_to_follow_up {
            let _ = write!(
                w,
                "      lost to follow-up {} by month {}",
                pct(l.share),
                l.by_month
            );
            if let Some(by) = &l.by
                && let Some(var) = m.population.variables.get(by.variable)
            {
                let parts: Vec<String> = var
                    .levels()
                    .unwrap_or(&[])
                    .iter()
                    .zip(&by.probabilities)
                    .filter_map(|(l, p)| p.map(|p| format!("{}: {}", level_text(&l.name), pct(p))))
                    .collect();
                let _ = write!(w, ", by {} {{ {} }}", var.name, parts.join(", "));
            }
            if let Some(f) = &l.outcome_factor {
                let _ = write!(
                    w,
                    ", {} x the hazard if {}",
                    num(f.hazard_ratio),
                    m.outcomes[f.outcome].name
                );
            }
            let _ = writeln!(
                w,
                " (outcomes measured from the month of loss on are missing)"
            );
        }
        for d in &a.direct_outcomes {
            let v = match &d.value {
                DirectValue::Binary { probability } => pct(*probability),
                DirectValue::Continuous { distribution } => dist(distribution, Unit::None),
            };
            let _ = writeln!(w, "      {}: {v}", m.outcomes[d.outcome].name);
        }
    }
    let _ = writeln!(w, "  outcomes");
    for o in &m.outcomes {
        let _ = writeln!(w, "    {} = {}", o.name, measure(&o.measure));
    }
    if !m.analyses.is_empty() {
        let _ = writeln!(w, "  analyses");
    }
    for a in &m.analyses {
        let outcomes: Vec<&str> = a
            .outcomes
            .iter()
            .map(|o| m.outcomes[*o].name.as_str())
            .collect();
        let _ = write!(
            w,
            "    {}{}: {}, {} vs {}, {}",
            a.name,
            if m.primary
                .is_some_and(|p| m.analyses.get(p).is_some_and(|x| x.name == a.name))
            {
                " (primary)"
            } else {
                ""
            },
            outcomes.join(", "),
            m.arms[a.treatment].name,
            m.arms[a.control].name,
            if a.missing == Some(crate::model::MissingHandling::Ipw) {
                format!(
                    "inverse-probability weighted z (sandwich SE, weighted on {}), {}, alpha {}, correction {}",
                    a.missing_covariates
                        .iter()
                        .filter_map(|&v| m.population.variables.get(v))
                        .map(|v| v.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    super::words::sides(a.sides),
                    pct(a.alpha),
                    super::words::correction(a.correction)
                )
            } else {
                super::words::analysis_header(a.test, a.sides, &pct(a.alpha), a.correction)
            }
        );
        for &(o, t, s) in &a.per_outcome {
            let _ = write!(
                w,
                "; {}: {}, {}",
                m.outcomes[o].name,
                super::words::test(t),
                super::words::sides(s)
            );
        }
        if let Some(var) = a
            .within
            .and_then(|v| m.population.variables.get(v))
            .filter(|v| v.binned_from().is_some())
        {
            // The derived variable's name is the binning as written; every bin is analysed.
            let _ = write!(w, ", within {}", var.name);
        } else if let Some(v) = a.within {
            let var = &m.population.variables[v];
            let names: Vec<String> = a
                .levels
                .iter()
                .filter_map(|i| {
                    var.levels()
                        .and_then(|l| l.get(*i))
                        .map(|l| level_text(&l.name))
                })
                .collect();
            let _ = write!(w, ", within {} {{{}}}", var.name, names.join(", "));
        }
        if let Some(adj) = &a.adjust {
            let names: Vec<&str> = adj
                .covariates
                .iter()
                .filter_map(|&v| m.population.variables.get(v))
                .map(|v| v.name.as_str())
                .collect();
            let _ = write!(
                w,
                ", adjusted for {} ({})",
                names.join(", "),
                adj.method.name()
            );
        }
        // The handling of missing outcomes is said where outcomes can go missing.
        let loses = [a.treatment, a.control]
            .iter()
            .any(|&x| m.arms[x].lost_to_follow_up.is_some());
        if loses || a.missing.is_some() {
            let _ = write!(
                w,
                ", missing outcomes: {}",
                a.missing_handling().name().replace('_', " ")
            );
        }
        if a.complier_effect {
            let _ = write!(
                w,
                ", complier effect (2SLS, assignment as instrument for receipt)"
            );
        }
        let _ = writeln!(w);
        if let Some(plan) = &a.sequential {
            for line in super::sequential::summary_lines(plan) {
                let _ = writeln!(w, "      {line}");
            }
        }
    }
    if !m.expectations.is_empty() {
        let _ = writeln!(w, "  expectations");
    }
    for x in &m.expectations {
        let metric = match x.metric {
            Metric::Power => "power",
            Metric::Coverage => "coverage",
        };
        let at = x
            .n_per_arm
            .map_or(String::new(), |n| format!(" at {n} per arm"));
        let _ = writeln!(
            w,
            "    {metric}({}) {} {}{at}",
            m.analyses[x.analysis].name,
            op(x.op),
            pct(x.value)
        );
    }
    for u in &m.uncertain {
        let belief = match &u.distribution {
            Distribution::Uniform { low, high } => {
                format!("uniform({}, {})", pct(*low), pct(*high))
            }
            Distribution::Normal { mean, sd } => format!("normal({}, {})", pct(*mean), pct(*sd)),
            Distribution::Fixed { value } => format!("fixed({})", pct(*value)),
            other => dist(other, Unit::None),
        };
        let _ = writeln!(w, "  uncertain    {} ~ {belief}", u.parameter);
    }
    if let Some(d) = &m.data {
        let _ = writeln!(
            w,
            "  data         id column \"{}\", arm column \"{}\", {} covariate(s), {} outcome column(s){}",
            d.id,
            d.arm,
            d.covariates.len(),
            d.outcomes.len(),
            d.monthly_hours
                .as_ref()
                .map_or(String::new(), |p| format!(", monthly hours \"{p}\""))
        );
    }
    out
}

/// The pool against the fixed sample, from the computation `trialsim feasibility` uses
/// ([`crate::design::feasibility::pool_answer`]); `None` when the spec states no pool.
fn pool_line(sizes: &[u32], a: &PoolAnswer) -> Option<String> {
    let verdict = a.verdict_text()?;
    let total: u64 = sizes.iter().map(|&n| u64::from(n)).sum();
    let need = a.candidates.map_or_else(
        || "cannot be reached".to_string(),
        |c| format!("take {c:.0}"),
    );
    Some(format!(
        "{total} to randomise {need} of the pool on average ({} eligible, screening loss {}); {verdict}",
        pct(a.eligible_share),
        pct(a.screening_loss)
    ))
}

/// ` by background { dutch: 31.7%, non_western: 25% }` for shares that vary by level.
fn share_by(m: &TrialModel, p: &SubPath) -> String {
    let Some(by) = &p.share_by else {
        return String::new();
    };
    let Some(var) = m.population.variables.get(by.variable) else {
        return String::new();
    };
    let levels = var.levels().unwrap_or(&[]);
    let parts: Vec<String> = levels
        .iter()
        .zip(&by.probabilities)
        .filter_map(|(l, x)| x.map(|x| format!("{}: {}", level_text(&l.name), pct(x))))
        .collect();
    let unused = if every_level_stated(m, by) && !p.rest {
        format!(" ({} reaches no one)", pct(p.share))
    } else {
        String::new()
    };
    format!(" by {} {{ {} }}{unused}", var.name, parts.join(", "))
}

/// How long intake takes at the declared capacity, when the sample and the rate are known: the
/// arm that takes the slots ([`TrialModel::capacity_arm`]) at the stated intakes per month
/// ([`TrialModel::intake_months`], as `feasibility` and `power` answer), plus
/// the top-up.
fn intake_calendar(m: &TrialModel) -> Option<String> {
    let c = m.assignment.capacity.as_ref()?;
    let slots = u64::from(c.staff) * u64::from(c.caseload);
    let sizes = m.sample.as_ref()?;
    let arm = m.capacity_arm();
    let n = *sizes.get(arm)?;
    let name = &m.arms.get(arm)?.name;
    let mut line = format!("{n} {name} clients for {slots} caseload slots");
    if u64::from(n) > slots {
        let _ = write!(
            line,
            " (more than the slots: intake must wait for clients to leave)"
        );
    }
    if let (Some(rate), Some(months)) = (
        c.intakes_per_month.filter(|r| *r > 0.0),
        m.intake_months(f64::from(n)),
    ) {
        let _ = write!(
            line,
            "; {} months of intake at {} intakes/month",
            num(months),
            num(rate)
        );
        if let Some(t) = &m.assignment.top_up {
            let _ = write!(
                line,
                ", the top-up {} more",
                num((f64::from(t.per_arm) / rate).ceil())
            );
        }
    }
    Some(line)
}

fn ratio_text(r: &[u32]) -> String {
    r.iter().map(u32::to_string).collect::<Vec<_>>().join(":")
}

/// A level name as a spec writes it: quoted when it holds anything but letters, digits, `_`,
/// `.` and `-` (`"50k plus"`).
fn level_text(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        name.to_owned()
    } else {
        format!("\"{name}\"")
    }
}
