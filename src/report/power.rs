//! The power report as text and as JSON (schema: [`crate::power::PowerReport`]).

use std::fmt::Write as _;

use serde::Serialize;

use crate::design::assurance::AssuranceReport;
use crate::model::TestKind;
use crate::model::subgroup_label;
use crate::power::{ContrastReport, Judgement, PowerReport, Verdict};

/// The report as pretty-printed JSON, with a final newline.
pub fn json(report: &PowerReport) -> String {
    json_with(report, None)
}

/// What `trialsim power` writes as JSON: the power report with, when beliefs were stated,
/// assurance beside it under `assurance` (absent otherwise).
#[derive(Serialize)]
struct WithAssurance<'a> {
    #[serde(flatten)]
    power: &'a PowerReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    assurance: Option<&'a AssuranceReport>,
}

/// The report and assurance beside it (if any) as pretty-printed JSON, with a final newline.
pub fn json_with(report: &PowerReport, assurance: Option<&AssuranceReport>) -> String {
    let view = WithAssurance {
        power: report,
        assurance,
    };
    let mut s =
        serde_json::to_string_pretty(&view).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn pp(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".into(), |v| format!("{:+.2} pp", 100.0 * v))
}

/// A difference in the outcome's own units (means: hours, euro, a score), signed.
fn units(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".into(), |v| format!("{v:+.4}"))
}

fn num(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".into(), |v| format!("{v:.4}"))
}

fn contrast_label(c: &ContrastReport) -> String {
    match &c.subgroup {
        Some(g) => format!("{} [{}]", c.outcome, subgroup_label(&g.variable, &g.level)),
        None => c.outcome.clone(),
    }
}

/// How a contrast handled missing outcomes and how many were analysed per arm, when an arm of
/// it loses outcomes to follow-up.
fn analysed_line(c: &ContrastReport) -> Option<String> {
    let a = c.analysed.as_ref()?;
    let handling = match a.missing {
        crate::model::MissingHandling::CompleteCases => "complete cases",
        crate::model::MissingHandling::LeeBounds => "complete cases (Lee bounds simulated below)",
        crate::model::MissingHandling::Ipw => {
            "inverse-probability weighted (the observed weighted by 1/p̂ of a logistic model of being observed per arm, z test with the sandwich SE)"
        }
    };
    Some(format!(
        "{handling}; analysed on average {:.1} of {:.1} (treatment), {:.1} of {:.1} (control)",
        a.treatment, a.treatment_size, a.control, a.control_size
    ))
}

/// The report as readable text.
pub fn text(report: &PowerReport) -> String {
    text_with(report, None)
}

/// The report as text, with assurance (if any) after it.
pub fn text_with(report: &PowerReport, assurance: Option<&AssuranceReport>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "power of {}", report.spec);
    let size = match (&report.n_per_arm, &report.arm_sizes) {
        (Some(n), _) => format!("{n} per arm"),
        (None, Some(v)) => format!(
            "arms of {}",
            v.iter().map(u32::to_string).collect::<Vec<_>>().join(" / ")
        ),
        (None, None) => "arm sizes from the pool and funnel".into(),
    };
    let rule = match report.allocation.as_str() {
        "parity" => ", arm sizes by ID parity (binomial)",
        "blocks" => ", arm sizes by permuted blocks within strata",
        _ => "",
    };
    let _ = writeln!(
        s,
        "seed {}, {} replicates, {size}{rule}\n",
        report.seed, report.replicates
    );
    for a in &report.analyses {
        // Proportions differ in percentage points; means in the outcome's own units.
        let means = match &a.regression {
            Some(r) => !r.binary,
            None => matches!(a.test, TestKind::WelchT | TestKind::StudentT) || a.means,
        };
        let eff = |x: Option<f64>| if means { units(x) } else { pp(x) };
        let _ = writeln!(
            s,
            "analysis {}{}: {}{}",
            a.name,
            if a.primary { " (primary)" } else { "" },
            if a.weighted_on.is_empty() {
                super::words::analysis_header(a.test, a.sides, &pct(a.alpha), a.correction)
            } else {
                format!(
                    "inverse-probability weighted z (sandwich SE, weighted on {}), {}, alpha {}, correction {}",
                    a.weighted_on.join(", "),
                    super::words::sides(a.sides),
                    pct(a.alpha),
                    super::words::correction(a.correction)
                )
            },
            a.regression
                .as_ref()
                .filter(|r| !r.covariates.is_empty())
                .map_or(String::new(), |r| format!(
                    ", adjusted for {} ({})",
                    r.covariates.join(", "),
                    r.method
                ))
        );
        for (o, t, sides) in &a.per_outcome {
            let _ = writeln!(
                s,
                "  {o}: {}, {}",
                super::words::test(*t),
                super::words::sides(*sides)
            );
        }
        if report.sequential.iter().any(|r| r.analysis == a.name) {
            let _ = writeln!(
                s,
                "  (analysed once at the end here; its interim looks are under `looks` below)"
            );
        }
        if a.contrasts.len() == 1 {
            let c = &a.contrasts[0];
            let _ = writeln!(s, "  outcome             {}", contrast_label(c));
            let _ = writeln!(
                s,
                "  power, simulated    {:.4} (MC SE {:.4}; 95% {:.4} to {:.4})",
                c.power, c.mc_se, c.power_ci.0, c.power_ci.1
            );
            if let Some(x) = c.exact_power {
                let _ = writeln!(
                    s,
                    "  power, exact        {x:.4} (binomial model, enumerated{})",
                    if c.exact_power_at_planned_sizes.is_some() {
                        ", over the arm sizes the rule gives"
                    } else {
                        ""
                    }
                );
            }
            if let Some(x) = c.exact_power_at_planned_sizes {
                let _ = writeln!(
                    s,
                    "  power, exact        {x:.4} (at the planned arm sizes, fixed)"
                );
            }
            if let Some(x) = c.closed_form_power {
                let _ = writeln!(
                    s,
                    "  power, normal       {x:.4} (closed-form approximation)"
                );
            }
            let simulated = c.true_effect_mc_se.map_or(String::new(), |se| {
                format!(
                    "; simulated from the design, MC SE {}",
                    if means {
                        format!("{se:.4}")
                    } else {
                        format!("{:.2} pp", 100.0 * se)
                    }
                )
            });
            let _ = writeln!(
                s,
                "  true effect         {} ({} vs {}{simulated})",
                eff(c.true_effect),
                c.true_treatment.map_or("n/a".into(), |x| format!("{x:.4}")),
                c.true_control.map_or("n/a".into(), |x| format!("{x:.4}")),
            );
            if let Some(se) = &c.sample_estimand {
                let _ = writeln!(
                    s,
                    "  sample estimand     mean {} (sd {} across replicates); CI coverage of it {} (MC SE {})",
                    eff(Some(se.mean)),
                    if means {
                        format!("{:.4}", se.sd)
                    } else {
                        format!("{:.2} pp", 100.0 * se.sd)
                    },
                    pct(se.coverage),
                    pct(se.coverage_mc_se)
                );
                let _ = writeln!(
                    s,
                    "  receipt             {} more receive the programme under treatment; complier effect (ITT / first stage) {}",
                    pct(se.first_stage),
                    eff(se.complier_effect)
                );
            }
            let _ = writeln!(
                s,
                "  estimate            mean {}, bias {} (MC SE {}), RMSE {}",
                eff(c.mean_estimate),
                eff(c.bias),
                c.bias_mc_se.map_or("n/a".into(), |x| if means {
                    format!("{x:.4}")
                } else {
                    format!("{:.2} pp", 100.0 * x)
                }),
                c.rmse.map_or("n/a".into(), |x| if means {
                    format!("{x:.4}")
                } else {
                    format!("{:.2} pp", 100.0 * x)
                })
            );
            let exact = c
                .exact_coverage
                .map_or_else(String::new, |x| format!("; exact {:.2}%", 100.0 * x));
            let _ = writeln!(
                s,
                "  CI coverage         {} (MC SE {}){exact}",
                c.coverage.map_or("n/a".into(), pct),
                c.coverage_mc_se.map_or("n/a".into(), pct)
            );
            if let Some(line) = analysed_line(c) {
                let _ = writeln!(s, "  missing outcomes    {line}");
            }
        } else {
            let _ = writeln!(
                s,
                "  {:<36} {:>7} {:>7} {:>11} {:>11} {:>9}",
                "contrast", "power", "MC SE", "true effect", "mean est.", "coverage"
            );
            for c in &a.contrasts {
                let _ = writeln!(
                    s,
                    "  {:<36} {:>7.4} {:>7.4} {:>11} {:>11} {:>9}",
                    contrast_label(c),
                    c.power,
                    c.mc_se,
                    eff(c.true_effect),
                    eff(c.mean_estimate),
                    c.coverage.map_or("n/a".into(), pct)
                );
            }
            let _ = writeln!(
                s,
                "  any contrast rejects: {:.4} (MC SE {:.4})",
                a.any_power, a.any_mc_se
            );
            for c in &a.contrasts {
                if let Some(line) = analysed_line(c) {
                    let _ = writeln!(s, "  missing outcomes of {}: {line}", contrast_label(c));
                }
            }
        }
        s.push('\n');
    }
    let _ = writeln!(s, "realised flows (shares pooled over replicates)");
    for arm in &report.flows.arms {
        let _ = writeln!(
            s,
            "  {}: {:.1} participants; dropout {}, exempt {}, crossover {}, non-work exit {}, in work at intake {}",
            arm.name,
            arm.mean_size,
            pct(arm.dropout),
            pct(arm.exempt),
            pct(arm.crossover),
            pct(arm.non_work_exit),
            pct(arm.baseline_employed)
        );
        if let Some(l) = &arm.lost_to_follow_up {
            let _ = writeln!(
                s,
                "    lost to follow-up by month {}: {} (outcomes measured from the month of loss on are missing)",
                l.by_month,
                pct(l.share)
            );
        }
        if arm.paths.len() > 1 {
            let paths: Vec<String> = arm
                .paths
                .iter()
                .map(|p| {
                    format!(
                        "{} {} (spec {})",
                        p.name,
                        pct(p.share),
                        pct(p.planned_share)
                    )
                })
                .collect();
            let _ = writeln!(s, "    paths: {}", paths.join(", "));
        }
        for e in &arm.employment {
            let _ = writeln!(
                s,
                "    month {:>2}: found work within {}, employed at {}",
                e.month,
                pct(e.found_work_within),
                pct(e.employed_at)
            );
        }
    }
    if let Some(c) = &report.flows.capacity {
        let _ = writeln!(
            s,
            "  capacity: {} slots; {} takes in {:.1} on average; over capacity in {} of replicates{}",
            c.slots,
            c.arm,
            c.mean_intake,
            pct(c.over_capacity),
            c.months_to_take_in
                .map_or(String::new(), |m| format!("; {m:.0} months to take it in"))
        );
        if let Some(q) = &c.queue {
            let _ = writeln!(
                s,
                "  queue for slots ({}, clock from randomisation): {} waited, {:.1} months on \
                 average; last intake in month {:.1} on average",
                q.arm,
                pct(q.share_waiting),
                q.mean_wait_months,
                q.mean_last_intake_month
            );
            if q.share_never_taken_in > 0.0 {
                let _ = writeln!(
                    s,
                    "  warning: {} of {} waited through the whole follow-up without a slot: more \
                     staff or caseload, or `guidance N months`, empties the queue",
                    pct(q.share_never_taken_in),
                    q.arm
                );
            }
        }
    }
    if let Some(t) = &report.flows.top_up {
        // At the declared intake rate, the top-up adds its own months of intake.
        let extra = report
            .flows
            .capacity
            .as_ref()
            .and_then(|c| c.intakes_per_month)
            .map(|rate| {
                format!(
                    "; {:.0} more months of intake at {rate} intakes/month",
                    (f64::from(t.per_arm) / rate).ceil()
                )
            })
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "  top-up: {} per arm in month {} of intake, excluded from the analysis (counted, not simulated){extra}",
            t.per_arm, t.month
        );
    }
    if let Some(e) = &report.economics {
        let euro = |x: f64| format!("€{x:.0}");
        let cpe = |x: Option<f64>| x.map_or_else(|| "unbounded".to_string(), euro);
        let _ = writeln!(s, "\ncosts and savings ({})", e.analysis);
        let _ = writeln!(
            s,
            "  programme cost      {} for {:.0} treated",
            euro(e.cost),
            e.treated
        );
        let _ = writeln!(s, "  break-even effect   {}", pp(Some(e.break_even_effect)));
        let _ = writeln!(
            s,
            "  at effect {}: {:.1} extra exits, cost per extra exit {}, net saving {}",
            pp(Some(e.effect)),
            e.extra_exits,
            cpe(e.cost_per_extra_exit),
            euro(e.net_saving)
        );
        let _ = writeln!(
            s,
            "  simulation interval (95%): effect {} to {}, net saving {} to {}, cost per extra exit {} to {}",
            pp(Some(e.effect_interval.0)),
            pp(Some(e.effect_interval.1)),
            euro(e.net_saving_interval.0),
            euro(e.net_saving_interval.1),
            cpe(e.cost_per_extra_exit_interval.0),
            cpe(e.cost_per_extra_exit_interval.1)
        );
        let _ = writeln!(
            s,
            "  replicates reaching break-even: {}",
            pct(e.p_break_even)
        );
    }
    for r in &report.sequential {
        let means = report
            .analyses
            .iter()
            .find(|a| a.name == r.analysis)
            .is_some_and(|a| a.test == TestKind::WelchT);
        s.push_str(&crate::report::sequential::power_text(r, means));
    }
    if let Some(b) = &report.imbalance {
        s.push_str(&imbalance_text(b));
    }
    for b in &report.lee_bounds {
        s.push_str(&bounds_text(b));
    }
    for c in &report.compliers {
        s.push_str(&compliers_text(c));
    }
    if !report.expectations.is_empty() {
        let _ = writeln!(s, "\nexpectations");
        for e in &report.expectations {
            let verdict = match e.verdict {
                Verdict::Met => "met",
                Verdict::NotMet => "NOT MET",
                Verdict::Undecided => "undecided",
            };
            let basis = match (e.judged_on, e.exact) {
                (Judgement::Exact, Some(x)) => format!(
                    "exact {}; simulated {} (MC SE {})",
                    num(Some(x)),
                    num(e.estimate),
                    num(e.mc_se)
                ),
                _ => format!(
                    "simulated {} (MC SE {}; 95% {})",
                    num(e.estimate),
                    num(e.mc_se),
                    e.interval
                        .map_or_else(|| "n/a".into(), |(lo, hi)| format!("{lo:.4} to {hi:.4}"))
                ),
            };
            let first = e
                .contrast
                .as_ref()
                .map_or_else(String::new, |c| format!(" — first contrast {c}"));
            let _ = writeln!(s, "  {verdict:<9} {}{first}: {basis}", e.text);
            if let Some(n) = &e.note {
                let _ = writeln!(s, "            note: {n}");
            }
            if e.verdict == Verdict::Undecided {
                let _ = writeln!(
                    s,
                    "            the 95 % Wilson interval of the simulation contains the bound: raise --reps to decide"
                );
            }
        }
    }
    if let Some(a) = assurance {
        let _ = write!(s, "\n{}", crate::report::design::assurance_text(a));
    }
    s
}

/// The simulated complier effects of one analysis: where the estimates centre, how often the
/// test rejects and the interval covers, and how often the first stage is weak.
fn compliers_text(a: &crate::cace::AnalysisCompliers) -> String {
    let mut s = String::new();
    let se = crate::report::words::MC_SE;
    let _ = writeln!(
        s,
        "\ncomplier effect of analysis {} (CACE: 2SLS, assignment as instrument for receipt; HC2)",
        a.analysis
    );
    for c in &a.contrasts {
        let label = c
            .subgroup
            .as_ref()
            .map_or_else(|| c.outcome.clone(), |g| format!("{} [{g}]", c.outcome));
        let truth = match (&c.true_effect, c.median_bias) {
            (Some(t), Some(b)) => format!(
                "; complier effect ITT / first stage {:.4} ({se} {:.4}), median bias {b:+.4}",
                t.value, t.mc_se
            ),
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "  {label}: median estimate {:.4} ({se} {:.4}){truth}",
            c.median.value, c.median.mc_se
        );
        let coverage = c.coverage.as_ref().map_or_else(String::new, |e| {
            format!(
                "; 95% interval covers it in {:.4} ({se} {:.4})",
                e.value, e.mc_se
            )
        });
        let _ = writeln!(
            s,
            "    rejects no effect in {:.4} ({se} {:.4}) of {} trials{coverage}",
            c.power.value, c.power.mc_se, c.replicates
        );
        let _ = writeln!(
            s,
            "    first stage {:.4} ({se} {:.4}); weak (F < 10) in {:.1}% of trials",
            c.first_stage.value,
            c.first_stage.mc_se,
            100.0 * c.weak
        );
    }
    s
}

/// The simulated Lee bounds of one analysis: the bounds a trial can expect and how often the
/// sensitivity analysis still excludes no effect.
fn bounds_text(b: &crate::bounds::AnalysisBounds) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\nLee bounds of analysis {} (always-observed; SE of Lee 2009, Prop. 3; Imbens-Manski 95% interval)",
        b.analysis
    );
    for c in &b.contrasts {
        let label = c
            .subgroup
            .as_ref()
            .map_or_else(|| c.outcome.clone(), |g| format!("{} [{g}]", c.outcome));
        let se = crate::report::words::MC_SE;
        let _ = writeln!(
            s,
            "  {label}: mean bounds [{:.4}, {:.4}] ({se} {:.4}, {:.4}), {:.1}% trimmed; mean interval [{:.4}, {:.4}]",
            c.lower.value,
            c.upper.value,
            c.lower.mc_se,
            c.upper.mc_se,
            100.0 * c.trimmed_share,
            c.ci_lower,
            c.ci_upper
        );
        let _ = writeln!(
            s,
            "    interval excludes 0 in {:.4} ({se} {:.4}) of {} trials",
            c.excludes_zero.value, c.excludes_zero.mc_se, c.replicates
        );
        if let Some(e) = &c.contains_true_effect {
            let _ = writeln!(
                s,
                "    interval contains the true effect in {:.4} ({se} {:.4}) (the always-observed effect when the effect is the same for everyone)",
                e.value, e.mc_se
            );
        }
    }
    s
}

/// The chance-imbalance section: how often the balance audit flags a randomised trial.
fn imbalance_text(b: &crate::imbalance::ImbalanceReport) -> String {
    let mut s = String::new();
    let rate = |e: &crate::sequential::Estimate| {
        format!(
            "{:.4} ({} {:.4})",
            e.value,
            crate::report::words::MC_SE,
            e.mc_se
        )
    };
    let _ = writeln!(
        s,
        "\nchance imbalance at baseline ({} vs {}, the balance audit on {} simulated trials)",
        b.treatment, b.control, b.replicates
    );
    let level = pct(b.alpha);
    let rows = [
        (format!("some covariate's test p < {level}"), &b.any_test),
        (format!("omnibus F test p < {level}"), &b.omnibus),
        (format!("some |SMD| > {}", b.smd_threshold), &b.any_smd),
    ];
    for (what, e) in rows {
        let _ = writeln!(s, "  {what:<46} {}", rate(e));
    }
    for t in &b.tests {
        let bins = t.bins.as_ref().map_or_else(String::new, |edges| {
            let edges: Vec<String> = edges.iter().map(|e| format!("{e}")).collect();
            format!(" on bins {}", edges.join(", "))
        });
        let name = format!("{} ({}{bins})", t.variable, t.test);
        let undefined = if t.undefined > 0 {
            format!("; undefined in {} trials", t.undefined)
        } else {
            String::new()
        };
        let _ = writeln!(s, "    {name:<44} {}{undefined}", rate(&t.rate));
    }
    let _ = writeln!(
        s,
        "  (the arms were randomised, so every flag is a false alarm: the rates at which the\n   \
         audit of real data flags an imbalance by chance)"
    );
    s
}
