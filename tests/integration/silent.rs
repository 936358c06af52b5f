//! No construct is silent (issue 13, item 8): every value written in
//! tests/language-reference.trial, and in two smaller references below for the delivery
//! constructs it cannot combine with its own (clusters; inflow, parity, competing exits and
//! costs), is changed in turn. The change must reach the simulated participant table (the rows
//! `simulate --export` writes, and the monthly hours behind them), or be refused by the checker
//! (or the engine), or draw a warning, or be one of the few documented exceptions below, each
//! with the place its value does reach instead (the analysis, `feasibility`, the economics, or
//! the value recorded for reports). docs/language.md lists the same exceptions under "What is
//! recorded but not simulated", and an exception whose value does reach the table fails the
//! test, so the list cannot grow stale.
//!
//! The positions are found mechanically: every number (and the date) outside comments and
//! strings, so a statement added to a reference is covered without editing this file; names
//! are changed by a hand list per reference. Each number gets a few alternatives (±1, ×0.9,
//! ×1.1, ×½, ×2, ×10), since a single one may legitimately change nothing (`hours >= 1` → 2
//! when every job has at least 8 hours); a position is silent when the checker accepts some
//! alternatives, none of them changes any of the replicates (the same seed in both runs) or
//! draws a new warning, and no warning of the reference itself points at it. The alternatives
//! are fixed rather than random, so that a failure names its value and reproduces.

use trialsim::analysis::run_plan;
use trialsim::check::compile;
use trialsim::data::export::{MonthlyHours, write_csv};
use trialsim::design::feasibility::pool_answer;
use trialsim::economics::economics;
use trialsim::model::TrialModel;
use trialsim::sim::rng::replicate_rng;
use trialsim::sim::{SimOptions, Simulator};
use trialsim::source::SourceFile;
use trialsim::table::ParticipantTable;

const REFERENCE: &str = include_str!("../language-reference.trial");
const SEED: u64 = 20_261_204;
/// Several replicates, so that a change that only shifts a probability is seen.
const REPLICATES: u64 = 3;
/// Replicates whose analysis must move when a test, side, alpha or correction does: enough
/// that some p-value lies near the changed alpha.
const ANALYSED_REPLICATES: u64 = 20;

/// What an exception's value changes instead of the participant table.
#[derive(Clone, Copy)]
enum Reaches {
    /// The analysis of the same table (tests, sides, alpha, corrections, subgroups).
    Analysis,
    /// The pool's answer in `feasibility` (and the report's pool lines).
    Feasibility,
    /// The economics lines of `power` (costs), for a fixed effect.
    Economics,
    /// A value the model records for reports, read by this function.
    Recorded(fn(&TrialModel) -> String),
}

const REFERENCES: &[Reference] = &[
    Reference {
        name: "tests/language-reference.trial",
        text: REFERENCE,
        exceptions: LANGUAGE_EXCEPTIONS,
        renames: LANGUAGE_RENAMES,
    },
    Reference {
        name: "clusters",
        text: CLUSTERS,
        exceptions: CLUSTER_EXCEPTIONS,
        renames: CLUSTER_RENAMES,
    },
    Reference {
        name: "inflow, parity, exits and costs",
        text: INFLOW,
        exceptions: INFLOW_EXCEPTIONS,
        renames: INFLOW_RENAMES,
    },
];

/// Clusters, which the language reference cannot hold beside its own (a cluster design has no
/// rates by level and no queue).
const CLUSTERS: &str = r#"
trial "clusters" {
  follow_up 24 months
  population { gender ~ categorical { female: 60%, male: rest } }
  assignment { randomise 1:1 by cohort of 20, icc 5% }
  sample 4 cohorts per arm
  employment {
    job_loss 1% per month
    hours ~ uniform(12 hours per week, 36 hours per week)
  }
  arm app {
    work within 24 months: 30%
    signed_up: 40%
  }
  arm control {
    work within 24 months: 10%
    signed_up: 20%
  }
  outcome work_24m  = worked within 24 months
  outcome in_work   = employed at month 18, hours >= 20 hours per week
  outcome signed_up = binary
  analysis primary {
    compare work_24m: app vs control
    test cluster_t, one_sided greater, alpha 5%
  }
  analysis others { compare in_work, signed_up: app vs control within gender }
}
"#;

const CLUSTER_EXCEPTIONS: &[Exception] = &[
    Exception {
        anchor: "test cluster_t, one_sided greater, alpha 5%",
        doc: "`test`",
        reason: "the test, its sides and alpha change the analysis of the table, not the table",
        reaches: Reaches::Analysis,
    },
    Exception {
        anchor: "within gender",
        doc: "`compare ... within V {levels}`",
        reason: "which subgroups an analysis compares: the analysis, not the table",
        reaches: Reaches::Analysis,
    },
];

const CLUSTER_RENAMES: &[(&str, &str)] = &[("within gender", "within gender {female}")];

/// An inflow with an analysis date, assignment by parity, rates of employment at a month,
/// competing exits and costs.
const INFLOW: &str = r#"
trial "inflow" {
  assignment {
    parity of bsn: even -> treatment, odd -> control
    intake order random
  }
  sample 100 per arm
  inflow 80, 70, 50 per year, analysis at month 36
  arm treatment {
    employed at month 12: 30%
    exemption 5% up to 26 weeks
    exits within 24 months { non_work: 5%, werkom: 12% }
  }
  arm control {
    employed at month 12: 20%
    exits within 24 months { work: 6%, non_work: 2%, werkom: 5% }
  }
  outcome e12        = employed at month 12
  outcome left_24m   = benefit ended by month 24
  outcome werkom_24m = exited to werkom by month 24
  analysis primary { compare left_24m, e12, werkom_24m: treatment vs control }
  analysis interim {
    compare e12: treatment vs control
    test pooled_z, one_sided greater, alpha 2.5%
    looks at 24, 36 months
    efficacy hsd(-4)
    futility beta_spending pocock, power 80%, binding
  }
  costs for primary {
    fixed 90000 euro
    per participant 100 euro
    saving 14000 euro per benefit year
    exit avoids 1 year
  }
}
"#;

const INFLOW_EXCEPTIONS: &[Exception] = &[
    Exception {
        anchor: "fixed 90000 euro\n    per participant 100 euro\n    saving 14000 euro per benefit year\n    exit avoids 1 year",
        doc: "`costs`",
        reason: "costs and savings turn the simulated effect into the economics lines of `power`",
        reaches: Reaches::Economics,
    },
    Exception {
        anchor: "test pooled_z, one_sided greater, alpha 2.5%\n    looks at 24, 36 months\n    efficacy hsd(-4)\n    futility beta_spending pocock, power 80%, binding",
        doc: "`looks`, `efficacy`, `futility`",
        reason: "interim looks and their boundaries decide when the table is analysed and what \
                 stops the trial (the boundaries the engine applies at each look), not what \
                 happens to participants",
        reaches: Reaches::Recorded(|m| {
            format!(
                "{:?}",
                m.analyses.iter().map(|a| &a.sequential).collect::<Vec<_>>()
            )
        }),
    },
];

const INFLOW_RENAMES: &[(&str, &str)] = &[
    (
        "even -> treatment, odd -> control",
        "even -> control, odd -> treatment",
    ),
    ("per year", "per month"),
    ("efficacy hsd(-4)", "efficacy obrien_fleming"),
    ("power 80%, binding", "power 80%, non_binding"),
    ("looks at 24, 36 months", "looks at 55%, 100% information"),
    ("exited to werkom", "exited to non_work"),
    ("benefit ended by month 24", "exited to work by month 24"),
    (
        "{ non_work: 5%, werkom: 12% }",
        "{ non_work: 5%, other: 12% }",
    ),
];

/// A spec whose every value is changed in turn, with its exceptions and hand-picked renames.
struct Reference {
    name: &'static str,
    text: &'static str,
    exceptions: &'static [Exception],
    renames: &'static [(&'static str, &'static str)],
}

/// A documented exception: the text of the reference whose values do not reach the table.
struct Exception {
    /// A unique piece of the reference; every changed position inside it is this exception's.
    anchor: &'static str,
    /// How docs/language.md names it under "What is recorded but not simulated".
    doc: &'static str,
    reason: &'static str,
    reaches: Reaches,
}

const LANGUAGE_EXCEPTIONS: &[Exception] = &[
    Exception {
        anchor: "reference_date 2017-09-01",
        doc: "`reference_date`",
        reason: "the date eligibility is assessed on: validated and shown by `check`; every clock \
                 starts at the participant's own intake, so no outcome depends on the calendar",
        reaches: Reaches::Recorded(|m| format!("{:?}", m.reference_date)),
    },
    Exception {
        anchor: "pool 440",
        doc: "`pool`",
        reason: "with a fixed `sample` the randomised participants are drawn directly; the pool \
                 decides whether the sample can be found (`feasibility`, the report's pool lines)",
        reaches: Reaches::Feasibility,
    },
    Exception {
        anchor: "(amended from 60 years)",
        doc: "`(amended from V)`",
        reason: "the bound a criterion replaced: documentation that reports show, not a criterion",
        reaches: Reaches::Recorded(|m| format!("{:?}", m.eligibility)),
    },
    Exception {
        anchor: "screening removes 25% (observed 5%)",
        doc: "`screening removes P (observed Q)`",
        reason: "paper screening removes people at random before randomisation: with a fixed \
                 `sample` it changes how many candidates are needed (`feasibility`), not who is \
                 randomised; the observed loss is compared with the planned one",
        reaches: Reaches::Feasibility,
    },
    Exception {
        anchor: "control starts paired with experiment",
        doc: "`A starts paired with B`",
        reason: "a calendar pairing (`paired_start`): every clock starts at the participant's own \
                 intake, so it changes calendar dates, not outcomes",
        reaches: Reaches::Recorded(|m| format!("{:?}", m.assignment.paired_start)),
    },
    Exception {
        anchor: "top_up 30 per arm at month 16 (excluded from analysis)",
        doc: "`top_up N per arm at month M (excluded from analysis)`",
        reason: "the top-up cohort is excluded from the analysis and, with clocks at each \
                 intake, changes no analysed participant's outcome; `check` and `power` report it",
        reaches: Reaches::Recorded(|m| format!("{:?}", m.assignment.top_up)),
    },
    Exception {
        anchor: "~ uniform(20%, 35%)",
        doc: "beliefs",
        reason: "a belief about a value: `power` uses the stated value, assurance draws from the \
                 belief",
        reaches: Reaches::Recorded(|m| format!("{:?}", m.uncertain)),
    },
    Exception {
        anchor: "~ normal(10%, 2%)",
        doc: "beliefs",
        reason: "a belief about a value: `power` uses the stated value, assurance draws from the \
                 belief",
        reaches: Reaches::Recorded(|m| format!("{:?}", m.uncertain)),
    },
    Exception {
        anchor: "within background {dutch, non_western}",
        doc: "`compare ... within V {levels}`",
        reason: "which subgroups an analysis compares: the analysis, not the table",
        reaches: Reaches::Analysis,
    },
    Exception {
        anchor: "test pooled_z, one_sided greater, alpha 5%",
        doc: "`test`",
        reason: "the test, its sides and alpha change the analysis of the table, not the table",
        reaches: Reaches::Analysis,
    },
    Exception {
        anchor: "correction holm",
        doc: "`correction`",
        reason: "the multiplicity correction changes the analysis, not the table",
        reaches: Reaches::Analysis,
    },
    Exception {
        anchor: "test welch_t, two_sided, alpha 5%",
        doc: "`test`",
        reason: "the test, its sides and alpha change the analysis of the table, not the table",
        reaches: Reaches::Analysis,
    },
    Exception {
        anchor: "test randomisation, one_sided less for score",
        doc: "`test`",
        reason: "a test and sides for one outcome change the analysis of the table, not the table",
        reaches: Reaches::Analysis,
    },
    Exception {
        anchor: "test robust_t, two_sided, alpha 5%",
        doc: "`test`",
        reason: "the test, its sides and alpha change the analysis of the table, not the table",
        reaches: Reaches::Analysis,
    },
    Exception {
        anchor: "adjust for score0, background (ancova)",
        doc: "`adjust for`",
        reason: "the covariates a regression adjusts for, and how: the analysis, not the table",
        reaches: Reaches::Analysis,
    },
    Exception {
        anchor: "within score0 bins [0, 45, 55, 100)",
        doc: "`compare ... within V bins [...)`",
        reason: "the bins that cut a numeric covariate into subgroups: the analysis, not the table",
        reaches: Reaches::Analysis,
    },
    Exception {
        anchor: "missing ipw on score0, background",
        doc: "`missing ipw on`",
        reason: "the covariates of the model of being observed: the analysis, not the table",
        reaches: Reaches::Analysis,
    },
    Exception {
        anchor: "expect power(primary) >= 80% at 180 per arm",
        doc: "`expect`",
        reason: "a claim `power` evaluates (at its own sample size) and gates on",
        reaches: Reaches::Recorded(|m| format!("{:?}", m.expectations)),
    },
    Exception {
        anchor: "expect coverage(primary) >= 94%",
        doc: "`expect`",
        reason: "a claim `power` evaluates and gates on",
        reaches: Reaches::Recorded(|m| format!("{:?}", m.expectations)),
    },
    Exception {
        anchor: "flag smd above 0.1\n    alpha 5%\n    age bins [45, 55, 60, 66)",
        doc: "`balance`",
        reason: "how the arms' baseline balance is judged in `analyze` (the SMD flag, the tests' \
                 level, the bins of a chi-square test) and in `power`'s chance-imbalance rates: \
                 a reading of the data, not the table",
        reaches: Reaches::Recorded(|m| format!("{:?}", m.balance)),
    },
    Exception {
        anchor: "decimal comma",
        doc: "`data`",
        reason: "the shape of a real data file (`data`): how `analyze` reads and \
                 `simulate --export` writes it, not what is simulated",
        reaches: Reaches::Recorded(|m| format!("{:?}", m.data)),
    },
];

/// Names changed by hand: (the text, what it becomes).
const LANGUAGE_RENAMES: &[(&str, &str)] = &[
    ("intake order random", "intake order simultaneous"),
    ("clock from randomisation", "clock from intake"),
    ("within background\n", "within ladder\n"),
    (
        "waiting follows control",
        "waiting follows experiment.team_zorg",
    ),
    ("for experiment, waiting", "for control, waiting"),
    (
        "before intake follows control",
        "before intake follows experiment.guided",
    ),
    (
        "-> experiment.guided after",
        "-> experiment.team_zorg after",
    ),
    ("{ non_western: 20% }", "{ dutch: 20% }"),
    (
        "{ dutch: 22%, non_western: 27% }",
        "{ western: 22%, non_western: 27% }",
    ),
    ("{ non_western: 15% }", "{ dutch: 15% }"),
    ("if work_12m", "if work48_12m"),
    (
        "= employed at month 12, hours",
        "= durable at month 12 for 2 months, hours",
    ),
    (
        "hours_12m   = hours at month 12",
        "hours_12m   = wage at month 12",
    ),
    (
        "age ~ uniform(45 years, 66 years)",
        "age ~ normal(55 years, 6 years)",
    ),
    (
        "within background {dutch, non_western}",
        "within background {dutch, western}",
    ),
    ("one_sided greater", "one_sided less"),
    ("test pooled_z", "test unpooled_z"),
    ("correction holm", "correction none"),
    ("welch_t, two_sided", "welch_t, one_sided greater"),
    ("(ancova)", "(lin)"),
    ("adjust for score0, background", "adjust for score0"),
    ("ipw on score0, background", "ipw on score0"),
    (
        "randomisation, one_sided less for score",
        "randomisation, two_sided for score",
    ),
    (
        "control starts paired with experiment",
        "experiment starts paired with control",
    ),
    ("expect power(primary)", "expect power(means)"),
    ("decimal comma", "decimal point"),
];

/// One value of the reference that the test changes.
struct Position {
    start: usize,
    end: usize,
    alternatives: Vec<String>,
}

/// Every number and date outside comments and strings.
fn numbers(text: &str) -> Vec<Position> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'#' || (c == b'/' && b.get(i + 1) == Some(&b'/')) {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += 1;
            }
            i += 1;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b'-') {
                i += 1;
            }
            out.push(Position {
                start,
                end: i,
                alternatives: alternatives(&text[start..i]),
            });
        } else {
            i += 1;
        }
    }
    out
}

fn alternatives(token: &str) -> Vec<String> {
    if let [y, m, d] = token.split('-').collect::<Vec<_>>()[..] {
        // A date: the next day.
        let d: u32 = d.parse().expect("a day");
        return vec![format!("{y}-{m}-{:02}", d % 28 + 1)];
    }
    let x: f64 = token.parse().expect("a number");
    let mut v: Vec<f64> = if token.contains('.') {
        vec![x * 1.1, x * 0.9, x * 0.5, x * 2.0]
    } else {
        let r = |y: f64| y.round();
        vec![
            x + 1.0,
            x - 1.0,
            r(x * 0.9),
            r(x * 1.1),
            r(x * 0.5),
            x * 2.0,
            x * 10.0,
        ]
    };
    v.retain(|y| *y >= 0.0 && (y - x).abs() > 1e-9);
    let mut out: Vec<String> = v
        .iter()
        .map(|y| format!("{}", (y * 1e4).round() / 1e4))
        .collect();
    out.dedup();
    out
}

/// The economics lines at a fixed effect of 10 points (estimates 5 to 15 points).
fn economics_of(model: &TrialModel) -> String {
    let costs = model
        .delivery
        .costs
        .as_ref()
        .expect("the reference states costs");
    let estimates: Vec<f64> = (5..=15).map(|x| f64::from(x) / 100.0).collect();
    format!("{:?}", economics(costs, "primary", 100.0, &estimates, 0.10))
}

/// What `simulate --export` writes for replicates 0..REPLICATES (model columns), with every
/// participant's monthly hours; or why the engine refuses the model.
fn export(model: &TrialModel) -> Result<Vec<u8>, String> {
    let sim = Simulator::new(model, SimOptions::default()).map_err(|e| e.to_string())?;
    let mut w = sim.worker();
    let mut bytes = Vec::new();
    let mut hours = MonthlyHours::default();
    for r in 0..REPLICATES {
        let mut rng = replicate_rng(SEED, 0, r);
        sim.simulate_with_hours(&mut w, &mut rng, &mut hours);
        write_csv(model, &w.table, &mut bytes).expect("writes to memory");
        bytes.extend(format!("{:?}\n", hours.hours).bytes());
    }
    Ok(bytes)
}

/// The participant tables of replicates 0..n.
fn tables(model: &TrialModel, n: u64) -> Vec<ParticipantTable> {
    let sim = Simulator::new(model, SimOptions::default()).expect("the reference simulates");
    let mut w = sim.worker();
    (0..n)
        .map(|r| {
            sim.simulate(&mut w, &mut replicate_rng(SEED, 0, r));
            w.table.clone()
        })
        .collect()
}

/// What became of one changed spec.
enum Fate {
    /// The checker (or the engine) refuses it, or the checker warns about it (a warning the
    /// reference does not get).
    Reported,
    /// It checks; the table (or the hours) changed.
    Changed,
    /// It checks and simulates the very same table: the model, for the exception's effects.
    Same(Box<TrialModel>),
}

fn fate(text: &str, base: &[u8], base_warnings: &[&str]) -> Fate {
    match compile(&SourceFile::new("changed.trial", text)) {
        Err(_) => Fate::Reported,
        Ok(checked)
            if checked
                .warnings
                .iter()
                .any(|w| !base_warnings.contains(&w.code_str())) =>
        {
            Fate::Reported
        }
        Ok(checked) => match export(&checked.model) {
            Err(_) => Fate::Reported,
            Ok(bytes) if bytes != base => Fate::Changed,
            Ok(_) => Fate::Same(Box::new(checked.model)),
        },
    }
}

fn anchor_range(text: &str, anchor: &str) -> (usize, usize) {
    let start = text
        .find(anchor)
        .unwrap_or_else(|| panic!("`{anchor}` is not in the reference"));
    assert_eq!(
        text.rfind(anchor),
        Some(start),
        "`{anchor}` is not unique in the reference"
    );
    (start, start + anchor.len())
}

fn line_of(text: &str, pos: usize) -> &str {
    let start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    text[start..end].trim()
}

#[test]
fn every_value_of_the_reference_reaches_the_table_or_is_refused_or_documented() {
    for reference in REFERENCES {
        no_value_is_silent(reference);
    }
}

fn no_value_is_silent(reference: &Reference) {
    let Reference {
        name,
        text: reference_text,
        exceptions,
        renames,
    } = reference;
    let base = compile(&SourceFile::new(*name, *reference_text))
        .unwrap_or_else(|e| panic!("{name} does not check: {e:?}"));
    let base_bytes = export(&base.model).expect("reference simulates");
    let base_tables = tables(&base.model, ANALYSED_REPLICATES);
    let plans = |model: &TrialModel| -> Vec<String> {
        base_tables
            .iter()
            .map(|t| format!("{:?}", run_plan(model, t)))
            .collect()
    };
    let base_warnings: Vec<&str> = base.warnings.iter().map(|w| w.code_str()).collect();
    let base_plan = plans(&base.model);
    let sample = base.model.sample.clone().expect("reference has a sample");
    let base_pool = format!("{:?}", pool_answer(&base.model, &sample));

    let ranges: Vec<(usize, usize)> = exceptions
        .iter()
        .map(|e| anchor_range(reference_text, e.anchor))
        .collect();
    let mut positions = numbers(reference_text);
    for (from, to) in renames.iter() {
        let (start, end) = anchor_range(reference_text, from);
        positions.push(Position {
            start,
            end,
            alternatives: vec![(*to).to_owned()],
        });
    }
    let mut silent = Vec::new();
    let mut used = vec![false; exceptions.len()];
    for p in &positions {
        let written = &reference_text[p.start..p.end];
        let exception = ranges.iter().position(|&(s, e)| s <= p.start && p.end <= e);
        // The checker already says, at this very place, that the value changes nothing.
        let warned = base
            .warnings
            .iter()
            .flat_map(|w| &w.labels)
            .any(|(span, _)| span.start <= p.start && p.end <= span.end);
        let mut accepted = 0;
        let mut changed = false;
        let mut reached = false;
        for alt in &p.alternatives {
            let text = format!(
                "{}{alt}{}",
                &reference_text[..p.start],
                &reference_text[p.end..]
            );
            match fate(&text, &base_bytes, &base_warnings) {
                Fate::Reported => {}
                Fate::Changed => {
                    accepted += 1;
                    changed = true;
                }
                Fate::Same(model) => {
                    accepted += 1;
                    if let Some(x) = exception {
                        reached |= match exceptions[x].reaches {
                            Reaches::Analysis => plans(&model) != base_plan,
                            Reaches::Feasibility => {
                                format!("{:?}", pool_answer(&model, &sample)) != base_pool
                            }
                            Reaches::Economics => economics_of(&model) != economics_of(&base.model),
                            Reaches::Recorded(read) => read(&model) != read(&base.model),
                        };
                    }
                }
            }
            if changed && exception.is_none() {
                break;
            }
        }
        match exception {
            None if accepted > 0 && !changed && !warned => silent.push(format!(
                "`{written}` in `{}`: {:?} all check and simulate the same table",
                line_of(reference_text, p.start),
                p.alternatives
            )),
            None => {}
            Some(x) => {
                used[x] = true;
                let e = &exceptions[x];
                assert!(
                    !changed,
                    "`{written}` in `{}` is listed as an exception ({}) but changes the table: \
                     remove it from the list and from docs/language.md",
                    line_of(reference_text, p.start),
                    e.reason
                );
                assert!(
                    accepted == 0 || reached,
                    "`{written}` in `{}` ({}): no change of it reaches what it should",
                    line_of(reference_text, p.start),
                    e.reason
                );
            }
        }
    }
    assert!(silent.is_empty(), "silent values:\n{}", silent.join("\n"));
    for (e, used) in exceptions.iter().zip(used) {
        assert!(
            used,
            "exception `{}` covers no value of the reference",
            e.anchor
        );
    }
}

/// The exceptions are the ones docs/language.md lists as recorded but not simulated.
#[test]
fn the_exceptions_are_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/language.md"))
        .expect("docs/language.md is readable");
    let section = doc
        .split("## What is recorded but not simulated")
        .nth(1)
        .expect("docs/language.md has the section")
        .split("\n## ")
        .next()
        .unwrap_or_default();
    for e in REFERENCES.iter().flat_map(|r| r.exceptions) {
        assert!(
            section.contains(e.doc),
            "docs/language.md does not list {} (`{}`) as recorded but not simulated",
            e.doc,
            e.anchor
        );
    }
}
