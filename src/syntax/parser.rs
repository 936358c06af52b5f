//! The pest parser and the builder that turns its pairs into the syntax tree.

use pest::Parser as _;
use pest::iterators::Pair;

use super::ast::*;
use crate::source::Span;

/// The generated parser for `grammar/trial.pest`.
#[derive(pest_derive::Parser)]
#[grammar = "../grammar/trial.pest"]
pub(crate) struct TrialParser;

/// A tree shape the grammar should make impossible; reported, never panicked on.
#[derive(Debug)]
pub(crate) struct Bug {
    pub(crate) span: Span,
    pub(crate) what: &'static str,
}

type Res<T> = Result<T, Bug>;

/// Parses the text into pest pairs and builds the tree.
pub(crate) fn parse_spec(text: &str) -> Result<Res<Spec>, Box<pest::error::Error<Rule>>> {
    let mut pairs = TrialParser::parse(Rule::spec, text).map_err(Box::new)?;
    Ok(match pairs.next() {
        Some(pair) => build_spec(pair),
        None => Err(Bug {
            span: Span::new(0, 0),
            what: "empty parse",
        }),
    })
}

/// Rules that only structure the text: keywords and punctuation.
fn is_token(rule: Rule) -> bool {
    let name = format!("{rule:?}");
    name.starts_with("kw_")
        || matches!(
            rule,
            Rule::lbrace
                | Rule::lbracket
                | Rule::rbrace
                | Rule::lparen
                | Rule::rparen
                | Rule::colon
                | Rule::comma
                | Rule::dot
                | Rule::tilde
                | Rule::eq
                | Rule::arrow
                | Rule::times
                | Rule::ge
                | Rule::EOI
        )
}

/// The meaningful children of a pair.
struct Kids<'i> {
    items: std::collections::VecDeque<Pair<'i, Rule>>,
    span: Span,
}

impl<'i> Kids<'i> {
    fn of(pair: Pair<'i, Rule>) -> Self {
        let span = span(&pair);
        Self {
            items: pair
                .into_inner()
                .filter(|p| !is_token(p.as_rule()))
                .collect(),
            span,
        }
    }

    fn next(&mut self, what: &'static str) -> Res<Pair<'i, Rule>> {
        self.items.pop_front().ok_or(Bug {
            span: self.span,
            what,
        })
    }

    fn opt(&mut self, rule: Rule) -> Option<Pair<'i, Rule>> {
        if self.items.front().map(|p| p.as_rule()) == Some(rule) {
            self.items.pop_front()
        } else {
            None
        }
    }

    fn rest(&mut self) -> impl Iterator<Item = Pair<'i, Rule>> + '_ {
        self.items.drain(..)
    }
}

fn has(pair: &Pair<'_, Rule>, rule: Rule) -> bool {
    pair.clone().into_inner().any(|p| p.as_rule() == rule)
}

/// The pair's span without the whitespace and comments that pest's implicit whitespace leaves
/// at its end (after an optional part that did not match): it ends where its last token ends.
fn span(pair: &Pair<'_, Rule>) -> Span {
    Span::new(pair.as_span().start(), end_of(pair))
}

fn end_of(pair: &Pair<'_, Rule>) -> usize {
    match pair.clone().into_inner().last() {
        Some(last) => end_of(&last),
        None => pair.as_span().end(),
    }
}

fn ident(pair: Pair<'_, Rule>) -> Ident {
    // A quoted level (`"50k plus"`) is its text without the quotes.
    let text = pair.as_str();
    let name = match pair.as_rule() {
        Rule::level_name => text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(text),
        _ => text,
    };
    Ident {
        name: name.to_string(),
        span: span(&pair),
    }
}

fn number(pair: Pair<'_, Rule>) -> Res<Number> {
    let s = span(&pair);
    let value = pair.as_str().parse::<f64>().map_err(|_| Bug {
        span: s,
        what: "number",
    })?;
    Ok(Number { value, span: s })
}

/// A ratio such as `2:1`: its numbers and its span (shared by `randomise` and cluster rules).
fn ratio(pair: Pair<'_, Rule>) -> Res<(Vec<Number>, Span)> {
    let rs = span(&pair);
    let nums = Kids::of(pair).rest().map(number).collect::<Res<Vec<_>>>()?;
    Ok((nums, rs))
}

fn string(pair: Pair<'_, Rule>) -> Str {
    let s = span(&pair);
    let text = pair.as_str();
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    Str {
        text: inner.to_string(),
        span: s,
    }
}

fn quantity(pair: Pair<'_, Rule>) -> Res<Quantity> {
    let s = span(&pair);
    let mut kids = Kids::of(pair);
    let value = number(kids.next("quantity number")?)?.value;
    let mut unit = UnitSpec::None;
    for kid in kids.rest() {
        match kid.as_rule() {
            Rule::percent => unit = UnitSpec::Percent,
            Rule::unit_word => {
                unit = match kid.as_str() {
                    "years" | "year" => UnitSpec::Years,
                    "months" | "month" => UnitSpec::Months,
                    "weeks" | "week" => UnitSpec::Weeks,
                    "euro" => UnitSpec::Euro,
                    _ => UnitSpec::Hours,
                }
            }
            Rule::per_what if has(&kid, Rule::kw_week) && unit == UnitSpec::Hours => {
                unit = UnitSpec::HoursPerWeek;
            }
            _ => {}
        }
    }
    Ok(Quantity {
        value,
        unit,
        belief: None,
        span: s,
    })
}

/// A quantity, possibly with a belief: `25% ~ uniform(20%, 35%)`. The span is the quantity's.
fn chance(pair: Pair<'_, Rule>) -> Res<Quantity> {
    if pair.as_rule() == Rule::quantity {
        return quantity(pair);
    }
    let mut kids = Kids::of(pair);
    let mut q = quantity(kids.next("chance")?)?;
    if let Some(b) = kids.opt(Rule::belief) {
        q.belief = Some(Box::new(distribution(Kids::of(b).next("belief")?)?));
    }
    Ok(q)
}

fn share(pair: Pair<'_, Rule>) -> Res<Share> {
    let s = span(&pair);
    if has(&pair, Rule::kw_rest) {
        return Ok(Share::Rest(s));
    }
    let mut kids = Kids::of(pair);
    Ok(Share::Value(chance(kids.next("share")?)?))
}

fn build_spec(pair: Pair<'_, Rule>) -> Res<Spec> {
    let s = span(&pair);
    let mut kids = Kids::of(pair);
    let title = string(kids.next("title")?);
    let mut items = Vec::new();
    for kid in kids.rest() {
        items.push(item(kid)?);
    }
    Ok(Spec {
        title: title.text,
        title_span: title.span,
        items,
        span: s,
    })
}

fn item(pair: Pair<'_, Rule>) -> Res<Item> {
    let s = span(&pair);
    let rule = pair.as_rule();
    let mut kids = Kids::of(pair.clone());
    Ok(match rule {
        Rule::follow_up => Item::FollowUp(quantity(kids.next("follow_up")?)?, s),
        Rule::reference_date => Item::ReferenceDate(kids.next("date")?.as_str().to_string(), s),
        Rule::population => Item::Population(population(kids, s)?),
        Rule::eligibility => Item::Eligibility(eligibility(kids, s)?),
        Rule::assignment => Item::Assignment(assignment(kids, s)?),
        Rule::sample => Item::Sample(sample(kids, s)?),
        Rule::employment => Item::Employment(employment(kids, s)?),
        Rule::arm => Item::Arm(arm(kids, s)?),
        Rule::outcome => Item::Outcome(outcome(kids, s)?),
        Rule::analysis => Item::Analysis(analysis(kids, s)?),
        Rule::expect => Item::Expect(expect(kids, s)?),
        Rule::data => Item::Data(data(kids, s)?),
        Rule::inflow => Item::Inflow(inflow(kids, has(&pair, Rule::kw_year), s)?),
        Rule::costs => Item::Costs(costs(kids, s)?),
        Rule::balance => Item::Balance(balance(kids, s)?),
        _ => {
            return Err(Bug {
                span: s,
                what: "top-level item",
            });
        }
    })
}

fn population(mut kids: Kids<'_>, s: Span) -> Res<Population> {
    let mut pop = Population {
        pools: Vec::new(),
        variables: Vec::new(),
        span: s,
    };
    for kid in kids.rest() {
        match kid.as_rule() {
            Rule::pool => pop.pools.push(number(Kids::of(kid).next("pool")?)?),
            _ => {
                let vs = span(&kid);
                let mut k = Kids::of(kid);
                let name = ident(k.next("variable name")?);
                let distribution = distribution(k.next("distribution")?)?;
                pop.variables.push(Variable {
                    name,
                    distribution,
                    span: vs,
                });
            }
        }
    }
    Ok(pop)
}

fn level(pair: Pair<'_, Rule>) -> Res<Level> {
    let mut k = Kids::of(pair);
    let name = ident(k.next("level name")?);
    let share = share(k.next("level share")?)?;
    Ok(Level { name, share })
}

fn distribution(pair: Pair<'_, Rule>) -> Res<Distribution> {
    let s = span(&pair);
    let rule = pair.as_rule();
    let mut k = Kids::of(pair);
    if rule == Rule::categorical {
        let mut levels = Vec::new();
        for kid in k.rest() {
            levels.push(level(kid)?);
        }
        return Ok(Distribution::Categorical(levels, s));
    }
    let name = ident(k.next("distribution name")?);
    let mut args = Vec::new();
    for kid in k.rest() {
        let mut a = Kids::of(kid);
        let arg_name = a.opt(Rule::name).map(ident);
        let value = quantity(a.next("argument")?)?;
        args.push(DistArg {
            name: arg_name,
            value,
        });
    }
    Ok(Distribution::Call {
        name,
        args,
        span: s,
    })
}

fn eligibility(mut kids: Kids<'_>, s: Span) -> Res<Eligibility> {
    let mut el = Eligibility {
        criteria: Vec::new(),
        screenings: Vec::new(),
        span: s,
    };
    for kid in kids.rest() {
        let ks = span(&kid);
        match kid.as_rule() {
            Rule::screening => {
                let mut k = Kids::of(kid);
                let planned = chance(k.next("screening")?)?;
                let observed = match k.opt(Rule::observed) {
                    Some(o) => Some(quantity(Kids::of(o).next("observed")?)?),
                    None => None,
                };
                el.screenings.push(Screening {
                    planned,
                    observed,
                    span: ks,
                });
            }
            _ => {
                let mut k = Kids::of(kid);
                let variable = ident(k.next("criterion variable")?);
                let t = k.next("criterion test")?;
                let test = if t.as_rule() == Rule::in_set {
                    CriterionTest::InSet(Kids::of(t).rest().map(ident).collect())
                } else {
                    let mut c = Kids::of(t);
                    let op = c.next("operator")?.as_str().to_string();
                    CriterionTest::Compare(op, quantity(c.next("bound")?)?)
                };
                let amended_from = match k.opt(Rule::amended) {
                    Some(a) => Some(quantity(Kids::of(a).next("amended")?)?),
                    None => None,
                };
                el.criteria.push(Criterion {
                    variable,
                    test,
                    amended_from,
                    span: ks,
                });
            }
        }
    }
    Ok(el)
}

fn inflow(kids: Kids<'_>, per_year: bool, s: Span) -> Res<Inflow> {
    let mut counts = Vec::new();
    for kid in kids.items {
        counts.push(number(kid)?);
    }
    // The grammar ends the statement with the analysis month; the numbers before it are counts.
    let analysis_month = counts.pop().ok_or(Bug {
        span: s,
        what: "analysis month",
    })?;
    Ok(Inflow {
        counts,
        per_year,
        analysis_month,
        span: s,
    })
}

fn costs(mut kids: Kids<'_>, s: Span) -> Res<Costs> {
    let analysis = ident(kids.next("analysis")?);
    let mut c = Costs {
        analysis,
        fixed: Vec::new(),
        per_participant: Vec::new(),
        saving: Vec::new(),
        years_per_exit: Vec::new(),
        span: s,
    };
    for kid in kids.rest() {
        let rule = kid.as_rule();
        let q = quantity(Kids::of(kid).next("amount")?)?;
        match rule {
            Rule::c_fixed => c.fixed.push(q),
            Rule::c_per => c.per_participant.push(q),
            Rule::c_saving => c.saving.push(q),
            _ => c.years_per_exit.push(q),
        }
    }
    Ok(c)
}

fn balance(mut kids: Kids<'_>, s: Span) -> Res<Balance> {
    let mut b = Balance {
        flags: Vec::new(),
        alphas: Vec::new(),
        bins: Vec::new(),
        span: s,
    };
    for kid in kids.rest() {
        let ks = span(&kid);
        let rule = kid.as_rule();
        let mut k = Kids::of(kid);
        match rule {
            Rule::b_flag => b.flags.push(quantity(k.next("smd threshold")?)?),
            Rule::b_alpha => b.alphas.push(quantity(k.next("alpha")?)?),
            _ => {
                let variable = ident(k.next("binned covariate")?);
                let edges = k.rest().map(number).collect::<Res<Vec<_>>>()?;
                b.bins.push(Bins {
                    variable,
                    edges,
                    span: ks,
                });
            }
        }
    }
    Ok(b)
}

fn assignment(mut kids: Kids<'_>, s: Span) -> Res<Assignment> {
    let mut a = Assignment {
        rules: Vec::new(),
        intake: Vec::new(),
        capacity: Vec::new(),
        clock: Vec::new(),
        top_ups: Vec::new(),
        paired: Vec::new(),
        span: s,
    };
    for kid in kids.rest() {
        let ks = span(&kid);
        match kid.as_rule() {
            Rule::parity => {
                let mut k = Kids::of(kid);
                let id = ident(k.next("id")?);
                let even = ident(k.next("even arm")?);
                let odd = ident(k.next("odd arm")?);
                a.rules.push(Rule_::Parity {
                    id,
                    even,
                    odd,
                    span: ks,
                });
            }
            Rule::randomise => {
                let mut k = Kids::of(kid);
                let ratio = k.opt(Rule::ratio).map(ratio).transpose()?;
                let blocks = match k.opt(Rule::blocks) {
                    Some(b) => Some(number(Kids::of(b).next("block size")?)?),
                    None => None,
                };
                let strata = match k.opt(Rule::strata) {
                    Some(st) => Kids::of(st).rest().map(ident).collect(),
                    None => Vec::new(),
                };
                a.rules.push(Rule_::Randomise {
                    ratio,
                    blocks,
                    strata,
                    span: ks,
                });
            }
            Rule::cluster_rule => {
                let mut k = Kids::of(kid);
                let ratio = k.opt(Rule::ratio).map(ratio).transpose()?;
                let label = ident(k.next("cluster label")?);
                let size = number(k.next("cluster size")?)?;
                let icc = quantity(k.next("icc")?)?;
                a.rules.push(Rule_::Cluster {
                    ratio,
                    label,
                    size,
                    icc,
                    span: ks,
                });
            }
            Rule::intake => a.intake.push((has(&kid, Rule::kw_random), ks)),
            Rule::clock => a.clock.push((has(&kid, Rule::kw_randomisation), ks)),
            Rule::top_up => {
                let mut k = Kids::of(kid);
                let per_arm = number(k.next("top-up size")?)?;
                let month = number(k.next("top-up month")?)?;
                let excluded = k.opt(Rule::excluded).is_some();
                a.top_ups.push(TopUp {
                    per_arm,
                    month,
                    excluded,
                    span: ks,
                });
            }
            Rule::paired_start => {
                let mut k = Kids::of(kid);
                let follower = ident(k.next("paired arm")?);
                let leader = ident(k.next("leading arm")?);
                a.paired.push(PairedStart {
                    follower,
                    leader,
                    span: ks,
                });
            }
            _ => {
                let mut k = Kids::of(kid);
                let staff = number(k.next("staff")?)?;
                let caseload = number(k.next("caseload")?)?;
                let intakes_per_month = match k.opt(Rule::intake_rate) {
                    Some(r) => Some(number(Kids::of(r).next("intakes")?)?),
                    None => None,
                };
                let guidance = match k.opt(Rule::guidance) {
                    Some(r) => Some(quantity(Kids::of(r).next("duration")?)?),
                    None => None,
                };
                let arm = match k.opt(Rule::capacity_arm) {
                    Some(r) => Some(ident(Kids::of(r).next("arm")?)),
                    None => None,
                };
                let waiting = match k.opt(Rule::waiting) {
                    Some(r) => Some(process_ref(Kids::of(r).next("process")?)?),
                    None => None,
                };
                a.capacity.push(Capacity {
                    staff,
                    caseload,
                    intakes_per_month,
                    guidance,
                    arm,
                    waiting,
                    span: ks,
                });
            }
        }
    }
    Ok(a)
}

use super::ast::Rule as Rule_;

fn sample(mut kids: Kids<'_>, s: Span) -> Res<Sample> {
    if let Some(p) = kids.opt(Rule::sample_per_arm) {
        return Ok(Sample::PerArm(number(Kids::of(p).next("per arm")?)?, s));
    }
    if let Some(p) = kids.opt(Rule::sample_clusters) {
        let mut k = Kids::of(p);
        let n = number(k.next("clusters per arm")?)?;
        let label = ident(k.next("cluster label")?);
        return Ok(Sample::Clusters(n, label, s));
    }
    let mut arms = Vec::new();
    for kid in kids.rest() {
        let mut k = Kids::of(kid);
        let name = ident(k.next("arm")?);
        arms.push((name, number(k.next("size")?)?));
    }
    Ok(Sample::Arms(arms, s))
}

fn employment(mut kids: Kids<'_>, s: Span) -> Res<Employment> {
    let mut e = Employment {
        job_loss: Vec::new(),
        hours: Vec::new(),
        wage: Vec::new(),
        span: s,
    };
    for kid in kids.rest() {
        let rule = kid.as_rule();
        let mut k = Kids::of(kid);
        match rule {
            Rule::job_loss => e.job_loss.push(quantity(k.next("job loss")?)?),
            Rule::hours_dist => e.hours.push(distribution(k.next("hours")?)?),
            _ => e.wage.push(distribution(k.next("wage")?)?),
        }
    }
    Ok(e)
}

fn rate(pair: Pair<'_, Rule>) -> Res<Rate> {
    let s = span(&pair);
    let rule = pair.as_rule();
    let at_intake = has(&pair, Rule::kw_intake);
    let mut k = Kids::of(pair);
    let kind = if rule == Rule::work_rate {
        RateKind::WorkWithin(quantity(k.next("window")?)?)
    } else if at_intake {
        RateKind::EmployedAtIntake
    } else {
        RateKind::EmployedAt(number(k.next("month")?)?)
    };
    let value = chance(k.next("rate")?)?;
    let by = rate_by(&mut k)?;
    Ok(Rate {
        kind,
        value,
        by,
        span: s,
    })
}

fn rate_by(k: &mut Kids<'_>) -> Res<Option<RateBy>> {
    match k.opt(Rule::rate_by) {
        Some(b) => {
            let mut bk = Kids::of(b);
            let variable = ident(bk.next("by variable")?);
            let mut levels = Vec::new();
            for l in bk.rest() {
                levels.push(level(l)?);
            }
            Ok(Some(RateBy { variable, levels }))
        }
        None => Ok(None),
    }
}

fn process_ref(pair: Pair<'_, Rule>) -> Res<ProcessRef> {
    let s = span(&pair);
    let mut k = Kids::of(pair);
    let arm = ident(k.next("arm")?);
    let path = k.opt(Rule::name).map(ident);
    Ok(ProcessRef { arm, path, span: s })
}

fn arm(mut kids: Kids<'_>, s: Span) -> Res<Arm> {
    let name = ident(kids.next("arm name")?);
    let mut arm = Arm {
        name,
        paths: Vec::new(),
        rates: Vec::new(),
        dropouts: Vec::new(),
        lost: Vec::new(),
        exemptions: Vec::new(),
        exits: Vec::new(),
        crossovers: Vec::new(),
        direct: Vec::new(),
        competing: Vec::new(),
        span: s,
    };
    for kid in kids.rest() {
        let ks = span(&kid);
        match kid.as_rule() {
            Rule::path => {
                let mut k = Kids::of(kid);
                let name = ident(k.next("path name")?);
                let share = share(k.next("path share")?)?;
                let share_by = rate_by(&mut k)?;
                let delay = match k.opt(Rule::delay) {
                    Some(d) => Some(quantity(Kids::of(d).next("delay")?)?),
                    None => None,
                };
                let mut rates = Vec::new();
                for r in k.rest() {
                    rates.push(rate(r)?);
                }
                arm.paths.push(Path {
                    name,
                    share,
                    share_by,
                    delay,
                    rates,
                    span: ks,
                });
            }
            Rule::work_rate | Rule::employed_rate => arm.rates.push(rate(kid)?),
            Rule::dropout => {
                let mut k = Kids::of(kid);
                let share = chance(k.next("dropout share")?)?;
                let follows = match k.opt(Rule::process_ref) {
                    Some(p) => Some(process_ref(p)?),
                    None => None,
                };
                arm.dropouts.push(Dropout {
                    share,
                    follows,
                    span: ks,
                });
            }
            Rule::lost => {
                let mut k = Kids::of(kid);
                let share = chance(k.next("lost share")?)?;
                let by_month = match k.opt(Rule::lost_by) {
                    Some(b) => Some(number(Kids::of(b).next("loss month")?)?),
                    None => None,
                };
                let by = rate_by(&mut k)?;
                let factor = match k.opt(Rule::lost_if) {
                    Some(f) => {
                        let mut fk = Kids::of(f);
                        let x = number(fk.next("loss factor")?)?;
                        Some((x, ident(fk.next("loss outcome")?)))
                    }
                    None => None,
                };
                arm.lost.push(LostToFollowUp {
                    share,
                    by_month,
                    by,
                    factor,
                    span: ks,
                });
            }
            Rule::exemption => {
                let mut k = Kids::of(kid);
                let share = chance(k.next("exemption share")?)?;
                let max = quantity(k.next("exemption length")?)?;
                arm.exemptions.push((share, max, ks));
            }
            Rule::exit_rate => {
                let mut k = Kids::of(kid);
                let window = quantity(k.next("exit window")?)?;
                let p = chance(k.next("exit rate")?)?;
                arm.exits.push((window, p, ks));
            }
            Rule::exits => {
                let mut k = Kids::of(kid);
                let window = quantity(k.next("exit window")?)?;
                let mut destinations = Vec::new();
                for d in k.rest() {
                    let mut dk = Kids::of(d);
                    let name = ident(dk.next("destination")?);
                    destinations.push((name, quantity(dk.next("incidence")?)?));
                }
                arm.competing.push(Exits {
                    window,
                    destinations,
                    span: ks,
                });
            }
            Rule::crossover => {
                let mut k = Kids::of(kid);
                let share = chance(k.next("crossover share")?)?;
                let to = process_ref(k.next("crossover target")?)?;
                let after = match k.opt(Rule::delay) {
                    Some(d) => Some(quantity(Kids::of(d).next("delay")?)?),
                    None => None,
                };
                arm.crossovers.push(Crossover {
                    share,
                    to,
                    after,
                    span: ks,
                });
            }
            _ => {
                let mut k = Kids::of(kid);
                let outcome = ident(k.next("direct outcome")?);
                let v = k.next("direct value")?;
                let value = if v.as_rule() == Rule::chance {
                    DirectValue::Probability(chance(v)?)
                } else {
                    DirectValue::Distribution(distribution(v)?)
                };
                arm.direct.push(DirectOutcome {
                    outcome,
                    value,
                    span: ks,
                });
            }
        }
    }
    Ok(arm)
}

fn at_month(pair: Pair<'_, Rule>) -> Res<Number> {
    number(Kids::of(pair).next("month")?)
}

fn threshold(k: &mut Kids<'_>) -> Res<Option<Quantity>> {
    match k.opt(Rule::threshold) {
        Some(t) => Ok(Some(quantity(Kids::of(t).next("threshold")?)?)),
        None => Ok(None),
    }
}

fn outcome(mut kids: Kids<'_>, s: Span) -> Res<Outcome> {
    let name = ident(kids.next("outcome name")?);
    let m = kids.next("measure")?;
    let ms = span(&m);
    let rule = m.as_rule();
    let mut k = Kids::of(m);
    let measure = match rule {
        Rule::m_worked => {
            let w = quantity(k.next("window")?)?;
            Measure::WorkedWithin(w, threshold(&mut k)?)
        }
        Rule::m_employed => {
            let month = at_month(k.next("month")?)?;
            Measure::EmployedAt(month, threshold(&mut k)?)
        }
        Rule::m_durable => {
            let month = at_month(k.next("month")?)?;
            let run = quantity(k.next("run")?)?;
            Measure::Durable(month, run, threshold(&mut k)?)
        }
        Rule::m_hours => Measure::Hours(at_month(k.next("month")?)?),
        Rule::m_wage => Measure::Wage(at_month(k.next("month")?)?),
        Rule::m_benefit => Measure::BenefitEnded(number(k.next("month")?)?),
        Rule::m_exited => {
            let to = ident(k.next("destination")?);
            Measure::ExitedTo(to, number(k.next("month")?)?)
        }
        Rule::m_binary => Measure::Binary,
        _ => Measure::Continuous,
    };
    let mut depends = Vec::new();
    if let Some(d) = kids.opt(Rule::depends) {
        for term in Kids::of(d).rest().filter(|p| p.as_rule() == Rule::dep_term) {
            let ts = span(&term);
            let mut k = Kids::of(term);
            let variable = ident(k.next("covariate")?);
            let mut per_unit = None;
            let mut per_level = Vec::new();
            for p in k.rest() {
                match p.as_rule() {
                    Rule::number => per_unit = Some(number(p)?),
                    Rule::dep_level => {
                        let mut lk = Kids::of(p);
                        let level = ident(lk.next("level")?);
                        per_level.push((level, number(lk.next("shift")?)?));
                    }
                    _ => {}
                }
            }
            depends.push(Dependence {
                variable,
                per_unit,
                per_level,
                span: ts,
            });
        }
    }
    Ok(Outcome {
        name,
        measure,
        measure_span: ms,
        depends,
        span: s,
    })
}

fn analysis(mut kids: Kids<'_>, s: Span) -> Res<Analysis> {
    let name = ident(kids.next("analysis name")?);
    let mut a = Analysis {
        name,
        compares: Vec::new(),
        tests: Vec::new(),
        corrections: Vec::new(),
        missing: Vec::new(),
        primary: None,
        adjust: Vec::new(),
        estimates: Vec::new(),
        looks: Vec::new(),
        efficacy: Vec::new(),
        futility: Vec::new(),
        span: s,
    };
    for kid in kids.rest() {
        let ks = span(&kid);
        match kid.as_rule() {
            Rule::primary_mark => a.primary = Some(ks),
            Rule::compare_stmt => {
                let names: Vec<Pair<'_, Rule>> = Kids::of(kid.clone())
                    .rest()
                    .filter(|p| p.as_rule() == Rule::name)
                    .collect();
                let mut idents: Vec<Ident> = names.into_iter().map(ident).collect();
                let mut within_bins = None;
                let within = match Kids::of(kid).rest().find(|p| p.as_rule() == Rule::subgroup) {
                    Some(sg) => {
                        let mut k = Kids::of(sg);
                        let var = ident(k.next("subgroup variable")?);
                        if let Some(b) = k.opt(Rule::sub_bins) {
                            let bs = span(&b);
                            let edges = Kids::of(b).rest().map(number).collect::<Res<Vec<_>>>()?;
                            within_bins = Some((edges, bs));
                        }
                        Some((var, k.rest().map(ident).collect()))
                    }
                    None => None,
                };
                if idents.len() < 3 {
                    return Err(Bug {
                        span: ks,
                        what: "compare",
                    });
                }
                let control = idents.remove(idents.len() - 1);
                let treatment = idents.remove(idents.len() - 1);
                a.compares.push(Compare {
                    outcomes: idents,
                    treatment,
                    control,
                    within,
                    within_bins,
                    span: ks,
                });
            }
            Rule::test_stmt => {
                let mut t = Test {
                    names: Vec::new(),
                    sides: Vec::new(),
                    alphas: Vec::new(),
                    outcomes: Vec::new(),
                    span: ks,
                };
                for item in Kids::of(kid).rest() {
                    let is = span(&item);
                    match item.as_rule() {
                        Rule::sides => {
                            let one_sided = has(&item, Rule::kw_one_sided);
                            let greater = Kids::of(item)
                                .opt(Rule::direction)
                                .map(|d| has(&d, Rule::kw_greater));
                            t.sides.push(Sides {
                                one_sided,
                                greater,
                                span: is,
                            });
                        }
                        Rule::alpha => t.alphas.push(quantity(Kids::of(item).next("alpha")?)?),
                        Rule::test_for => t.outcomes.extend(Kids::of(item).rest().map(ident)),
                        _ => t.names.push(ident(Kids::of(item).next("test name")?)),
                    }
                }
                a.tests.push(t);
            }
            Rule::missing => {
                let mut kids = Kids::of(kid);
                let how = ident(kids.next("missing")?);
                let mut on = Vec::new();
                let mut on_span = None;
                for p in kids.rest() {
                    if p.as_rule() == Rule::missing_on {
                        on_span = Some(span(&p));
                        on.extend(Kids::of(p).rest().map(ident));
                    }
                }
                a.missing.push(Missing {
                    how,
                    on,
                    on_span,
                    span: ks,
                });
            }
            Rule::estimate => a.estimates.push(ident(Kids::of(kid).next("estimand")?)),
            Rule::adjust => {
                let mut covariates = Vec::new();
                let mut method = None;
                for p in Kids::of(kid).rest() {
                    match p.as_rule() {
                        Rule::name => covariates.push(ident(p)),
                        Rule::adjust_how => method = Some(ident(Kids::of(p).next("method")?)),
                        _ => {}
                    }
                }
                a.adjust.push(Adjust {
                    covariates,
                    method,
                    span: ks,
                });
            }
            Rule::looks => {
                let information = has(&kid, Rule::kw_information);
                let values = Kids::of(kid)
                    .rest()
                    .map(quantity)
                    .collect::<Res<Vec<_>>>()?;
                a.looks.push(Looks {
                    values,
                    information,
                    span: ks,
                });
            }
            Rule::efficacy => a
                .efficacy
                .push(spending_fn(Kids::of(kid).next("spending function")?)?),
            Rule::futility => {
                let rule = Kids::of(kid).next("futility rule")?;
                let binding = has(&rule, Rule::kw_binding);
                let f = if rule.as_rule() == Rule::fut_beta {
                    let mut k = Kids::of(rule);
                    Futility::BetaSpending {
                        spending: spending_fn(k.next("spending function")?)?,
                        power: quantity(k.next("power")?)?,
                        binding,
                        span: ks,
                    }
                } else {
                    Futility::ConditionalPower {
                        below: quantity(Kids::of(rule).next("threshold")?)?,
                        span: ks,
                    }
                };
                a.futility.push(f);
            }
            _ => a.corrections.push(ident(Kids::of(kid).next("correction")?)),
        }
    }
    Ok(a)
}

fn spending_fn(pair: Pair<'_, Rule>) -> Res<SpendingFn> {
    let s = span(&pair);
    let mut k = Kids::of(pair);
    let name = ident(k.next("spending function name")?);
    let parameter = match k.opt(Rule::number) {
        Some(n) => Some(number(n)?),
        None => None,
    };
    Ok(SpendingFn {
        name,
        parameter,
        span: s,
    })
}

fn expect(mut kids: Kids<'_>, s: Span) -> Res<Expect> {
    let metric = ident(kids.next("metric")?);
    let analysis = ident(kids.next("analysis")?);
    let op = kids.next("operator")?;
    let op = (op.as_str().to_string(), span(&op));
    let value = quantity(kids.next("bound")?)?;
    let n_per_arm = match kids.opt(Rule::at_n) {
        Some(n) => Some(number(Kids::of(n).next("n")?)?),
        None => None,
    };
    Ok(Expect {
        metric,
        analysis,
        op,
        value,
        n_per_arm,
        span: s,
    })
}

fn data(mut kids: Kids<'_>, s: Span) -> Res<Data> {
    let mut items = Vec::new();
    for kid in kids.rest() {
        let ks = span(&kid);
        let rule = kid.as_rule();
        let is_comma = has(&kid, Rule::kw_comma);
        let mut k = Kids::of(kid);
        items.push(match rule {
            Rule::d_id => DataItem::Id(string(k.next("id column")?), ks),
            Rule::d_arm => {
                let column = string(k.next("arm column")?);
                let mut values = Vec::new();
                for v in k.rest() {
                    let mut vk = Kids::of(v);
                    let value = string(vk.next("arm value")?);
                    values.push((value, ident(vk.next("arm")?)));
                }
                DataItem::Arm(column, values, ks)
            }
            Rule::d_covariate => {
                let var = ident(k.next("covariate")?);
                DataItem::Covariate(var, string(k.next("column")?), ks)
            }
            Rule::d_outcome => {
                let o = ident(k.next("outcome")?);
                DataItem::Outcome(o, string(k.next("column")?), ks)
            }
            Rule::d_hours => DataItem::MonthlyHours(string(k.next("pattern")?), ks),
            Rule::d_path => {
                let column = string(k.next("path column")?);
                let mut values = Vec::new();
                for v in k.rest() {
                    let mut vk = Kids::of(v);
                    let value = string(vk.next("path value")?);
                    values.push((value, process_ref(vk.next("path")?)?));
                }
                DataItem::Path(column, values, ks)
            }
            Rule::d_delimiter => DataItem::Delimiter(string(k.next("delimiter")?), ks),
            Rule::d_decimal => DataItem::Decimal(is_comma, ks),
            Rule::d_cluster => DataItem::Cluster(string(k.next("cluster column")?), ks),
            Rule::d_flow => {
                let flow = ident(k.next("flow")?);
                DataItem::Flow(flow, string(k.next("column")?), ks)
            }
            _ => DataItem::AllowExclusions(ks),
        });
    }
    Ok(Data { items, span: s })
}
