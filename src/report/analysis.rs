//! The analysis report of `trialsim analyze`: the plan's results on real data, the data summary,
//! the balance table and the assumption audit, rendered as text, Markdown or JSON.
//!
//! All renderers are pure and byte-deterministic: fixed ordering (plan order, then reasons and
//! columns sorted by name), fixed float formatting. The JSON writes every float at its shortest round-trip
//! representation (what `serde_json` gives an `f64`), never rounded, and non-finite numbers as
//! `null`; the text and Markdown round for people. `--check` compares numbers with a tolerance
//! ([`NUMBERS_EQUAL_REL`], [`NUMBERS_EQUAL_ABS`]) so that a snapshot stays valid across platforms
//! whose last bits differ. The full schema is in `docs/outputs.md`.
//!
//! JSON schema (`"schema": "trialsim.analysis/1"`; object keys are written in sorted order):
//! - `inputs`: `spec` and `data` (file names relative to the spec's folder, or base names),
//!   `model_sha256` (of the checked model's canonical form: comments and layout do not change
//!   it) and `data_sha256` (of the data file's bytes); `--check` compares the hashes and ignores
//!   the names;
//! - `trial`: the spec's title; `data`: `file` (as in `inputs.data`), `rows` (data rows read), `participants`,
//!   `excluded` (reason → rows), `excluded_total`, `missing` (column → values), `delimiter`,
//!   `decimal` (`point`/`comma`), `arms` (`[{arm, n}]`);
//! - `analyses`: per analysis `name`, `test`, `sides`, `alpha`, `correction`, `contrasts`; each
//!   contrast has `label` (`outcome` or `outcome [variable=level]`) and every field of
//!   [`crate::analysis::ContrastResult`] (`outcome`, `subgroup`, `treatment`/`control`
//!   `{n, mean, sd}`, `difference`, `ci`, `statistic`, `p_value`, `p_adjusted`, `reject`, …);
//!   when the spec expects missing outcomes or some are missing, also `missing`: `{handling,
//!   treatment, control}` (`complete_cases`, and the participants of each arm without a value,
//!   who are left out of the contrast; `n` counts those analysed);
//! - `audit`: per assumption `kind` (`allocation`, `sample`, `rate`, `path_share`,
//!   `baseline_employment`, `outcome`, `dropout`, `exemption`, `crossover`, `non_work_exit`,
//!   `covariate`, `lost_to_follow_up`), `assumption`, `planned`, `observed`, `n`, `ci`, `status`
//!   (`consistent`/`contradicted`/`not_observed`), `note`;
//! - `balance`: the analysis module's balance table (`treatment`, `control`, `rows` of
//!   `{variable, level, treatment, control, standardized_difference}`);
//! - `realised_power`: `null` (`--replicates 0`), `{"error": …}` when the spec cannot be
//!   simulated, or per analysis `{analysis, power, mc_se, any_power, seed, replicates, note}`:
//!   the power re-simulated with the observed arm sizes, shares, flows and comparator levels at
//!   the planned effect (`note` says what was taken from the data, including the common factor
//!   on the job-start hazards; see `audit::observed_model_with`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::analysis::{ContrastResult, PlanResult};
use crate::audit::{AuditItem, AuditStatus};
use crate::model::subgroup_label;
use crate::stats::randomisation::Method;

/// Everything `trialsim analyze` reports, computed by the command
/// ([`crate::cli::stages::analysis_report`]); the functions here only render it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisReport {
    /// The spec's title.
    pub trial: String,
    /// What the report was computed from, by content.
    pub inputs: Inputs,
    /// What was read.
    pub data: DataSummary,
    /// Tests, sides, alpha and correction per analysis, in plan order.
    pub plan_info: Vec<PlanInfo>,
    /// The plan's results.
    pub plan: PlanResult,
    /// Per analysis, per contrast (in the plan's order): participants of the treatment and the
    /// control arm (within the contrast's subgroup) without a value of the outcome, who are left
    /// out of it (complete cases).
    pub missing_outcomes: Vec<Vec<[u64; 2]>>,
    /// Per analysis within bins of a numeric covariate (`within educ bins [...)`): the
    /// participants of its two arms in no bin (the value missing or outside all bins), who are
    /// left out of every contrast; `None` for other analyses and when nobody was left out.
    pub outside_bins: Vec<Option<OutsideBins>>,
    /// Covariate balance, as the analysis module computes it (already JSON).
    pub balance: Value,
    /// Per analysis and contrast (as `missing_outcomes`), the Lee bounds of an analysis that
    /// states `missing lee_bounds` (`None` elsewhere, or where an arm has no observed value).
    pub lee_bounds: Vec<Vec<Option<crate::stats::lee::LeeBounds>>>,
    /// Per analysis and contrast (as `missing_outcomes`), the complier effect of an analysis
    /// that states `estimate complier_effect`: `Err` with the reason when it cannot be
    /// estimated from these data (no `received` column); empty elsewhere.
    pub complier_effects:
        Vec<Result<Vec<Option<crate::analysis::complier::ComplierEffect>>, String>>,
    /// The assumption audit.
    pub audit: Vec<AuditItem>,
    /// Power the trial really had, re-simulated with the observed flows (JSON), if computed.
    pub realised_power: Value,
}

/// The inputs of a report, identified by content so that a snapshot passes from any working
/// directory and on any byte-identical copy of the data, and fails only when content changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Inputs {
    /// The spec file's name, relative to nothing (its base name).
    pub spec: String,
    /// sha256 of the checked model's canonical serialisation ([`crate::fingerprint`]).
    pub model_sha256: String,
    /// The data file's name, relative to the spec's folder (or its base name).
    pub data: String,
    /// sha256 of the data file's bytes.
    pub data_sha256: String,
}

/// Two numbers in a report are the same under `--check` when they differ by at most this
/// fraction of the larger magnitude…
pub const NUMBERS_EQUAL_REL: f64 = 1e-9;
/// …or by at most this much in absolute terms (for numbers at or near zero).
pub const NUMBERS_EQUAL_ABS: f64 = 1e-12;

/// Fields that name files rather than say what they hold; `--check` ignores them (the hashes in
/// `inputs` stand for the content).
const PATH_FIELDS: [&str; 3] = ["data.file", "inputs.spec", "inputs.data"];

/// How one analysis of the plan is declared (for the report's headings).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanInfo {
    /// The test (`pooled_z`, `fisher`, … in the JSON; [`super::words::test`]).
    pub test: crate::model::TestKind,
    /// The alternative (`greater`, `less`, `two_sided` in the JSON).
    pub sides: crate::stats::Sides,
    /// Significance level.
    pub alpha: f64,
    /// The multiplicity correction (`none`, `holm`, `bonferroni` in the JSON).
    pub correction: crate::model::Correction,
    /// Whether the analysis' outcomes are binary, by outcome name.
    pub binary: BTreeMap<String, bool>,
    /// How missing outcomes are handled (`complete_cases`).
    pub missing: String,
    /// Whether the spec expects missing outcomes in this analysis: it states the handling, or
    /// an arm it compares loses outcomes to follow-up.
    pub missing_planned: bool,
    /// Whether the spec marks this analysis `(primary)`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub primary: bool,
    /// Outcomes with their own test and sidedness (`test ... for OUTCOME`): (outcome, test,
    /// sides); `test` and `sides` above are the first outcome's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub per_outcome: Vec<(String, String, String)>,
}

/// Participants an analysis within bins leaves out: in no bin of `variable` (its value
/// missing or outside `[first edge, last edge)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutsideBins {
    /// The binned covariate (as declared).
    pub variable: String,
    /// The bins' span, e.g. `[0, 99)`.
    pub range: String,
    /// Left out of the treatment arm.
    pub treatment: u64,
    /// Left out of the control arm.
    pub control: u64,
}

/// One line per contrast of analysis `i` whose cluster-level test is undefined because
/// clusters hold participants of both arms.
fn clusters_in_two_arms_lines(report: &AnalysisReport, i: usize) -> Vec<String> {
    let Some(a) = report.plan.analyses.get(i) else {
        return Vec::new();
    };
    a.contrasts
        .iter()
        .filter_map(|c| {
            let m = c.clusters_in_two_arms?;
            Some(format!(
                "{}: UNDEFINED: {} of its {} clusters {} participants of both arms, so the data were not randomised by cluster as the design says and the cluster-level test has no units; with clusters for the standard errors only, `test cr2` is defined",
                contrast_label(c),
                m.mixed,
                m.clusters,
                if m.mixed == 1 { "holds" } else { "hold" }
            ))
        })
        .collect()
}

/// The line that says who analysis `i` left out for being in no bin.
fn outside_bins_line(report: &AnalysisReport, i: usize) -> Option<String> {
    let o = report.outside_bins.get(i)?.as_ref()?;
    Some(format!(
        "{} participant(s) (treatment {}, control {}) are in no bin and left out of every contrast: their {} is missing or outside {}",
        o.treatment + o.control,
        o.treatment,
        o.control,
        o.variable,
        o.range
    ))
}

/// What the loader read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataSummary {
    /// The data file, as given.
    pub file: String,
    /// Data rows read.
    pub rows: u64,
    /// Participants analysed.
    pub participants: u64,
    /// Rows excluded, by reason.
    pub excluded: BTreeMap<String, u64>,
    /// Missing values kept, by column.
    pub missing: BTreeMap<String, u64>,
    /// The delimiter, as text.
    pub delimiter: String,
    /// Whether decimal commas were read.
    pub decimal_comma: bool,
    /// Participants per arm, in arm order.
    pub arms: Vec<(String, u64)>,
}

/// The label of a contrast: `outcome` or `outcome [variable=level]`.
pub fn contrast_label(c: &ContrastResult) -> String {
    match &c.subgroup {
        Some((var, level)) => format!("{} [{}]", c.outcome, subgroup_label(var, level)),
        None => c.outcome.clone(),
    }
}

/// The report as a JSON value (floats at full precision).
pub fn to_json(report: &AnalysisReport) -> Value {
    let mut analyses = Vec::new();
    for (i, a) in report.plan.analyses.iter().enumerate() {
        let info = report.plan_info.get(i);
        let missing = report.missing_outcomes.get(i);
        let say_missing = says_missing(report, i);
        let contrasts: Vec<Value> = a
            .contrasts
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let mut obj = Map::new();
                obj.insert("label".into(), Value::String(contrast_label(c)));
                if let Ok(Value::Object(fields)) = serde_json::to_value(c) {
                    obj.extend(fields);
                }
                if say_missing {
                    let [mt, mc] = missing.and_then(|m| m.get(k)).copied().unwrap_or([0, 0]);
                    obj.insert(
                        "missing".into(),
                        json!({
                            "handling": info.map_or("complete_cases", |x| x.missing.as_str()),
                            "treatment": mt,
                            "control": mc,
                        }),
                    );
                }
                if let Some(Some(b)) = report.lee_bounds.get(i).and_then(|l| l.get(k)) {
                    obj.insert(
                        "lee_bounds".into(),
                        serde_json::to_value(b).unwrap_or(Value::Null),
                    );
                }
                match report.complier_effects.get(i) {
                    Some(Ok(effects)) if !effects.is_empty() => {
                        obj.insert(
                            "complier_effect".into(),
                            effects
                                .get(k)
                                .and_then(|e| serde_json::to_value(e).ok())
                                .unwrap_or(Value::Null),
                        );
                    }
                    Some(Err(why)) => {
                        obj.insert("complier_effect".into(), json!({ "not_estimated": why }));
                    }
                    _ => {}
                }
                Value::Object(obj)
            })
            .collect();
        let mut obj = serde_json::to_value(a).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut obj {
            map.insert("contrasts".into(), Value::Array(contrasts));
        }
        let mut head = Map::new();
        head.insert("name".into(), json!(a.name));
        if let Some(Some(o)) = report.outside_bins.get(i) {
            head.insert("outside_bins".into(), json!(o));
        }
        if let Some(info) = info {
            // A weighted analysis is tested by its own z test, whatever the default test.
            if info.missing == "ipw" {
                head.insert("test".into(), json!("ipw_z"));
            } else {
                head.insert("test".into(), json!(info.test));
            }
            head.insert("sides".into(), json!(info.sides));
            head.insert("alpha".into(), json!(info.alpha));
            head.insert("correction".into(), json!(info.correction));
            if info.primary {
                head.insert("primary".into(), json!(true));
            }
            if !info.per_outcome.is_empty() {
                head.insert("per_outcome".into(), json!(info.per_outcome));
            }
        }
        if let Value::Object(map) = obj {
            for (k, v) in map {
                head.entry(k).or_insert(v);
            }
        }
        analyses.push(Value::Object(head));
    }
    let d = &report.data;
    json!({
        "schema": "trialsim.analysis/1",
        "inputs": report.inputs,
        "trial": report.trial,
        "data": {
            "file": report.inputs.data,
            "rows": d.rows,
            "participants": d.participants,
            "excluded": d.excluded,
            "excluded_total": d.excluded.values().sum::<u64>(),
            "missing": d.missing,
            "delimiter": d.delimiter,
            "decimal": if d.decimal_comma { "comma" } else { "point" },
            "arms": d.arms.iter().map(|(a, n)| json!({"arm": a, "n": n})).collect::<Vec<_>>(),
        },
        "analyses": analyses,
        "balance": report.balance,
        "audit": report.audit,
        "realised_power": report.realised_power,
    })
}

/// The JSON report text (pretty, with a final newline).
pub fn render_json(report: &AnalysisReport) -> String {
    let mut s = serde_json::to_string_pretty(&to_json(report)).unwrap_or_default();
    s.push('\n');
    s
}

/// A number for people: proportions and differences of proportions as percentages with one
/// decimal, other values with 2 decimals (or 4 significant digits when small).
fn fmt_value(x: f64, binary: bool) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    if binary {
        return format!("{:.1}%", x * 100.0);
    }
    if x != 0.0 && x.abs() < 0.01 {
        format!("{:.3e}", x)
    } else {
        format!("{x:.2}")
    }
}

/// A p-value: 4 decimals, or scientific below 0.0001.
pub fn fmt_p(p: f64) -> String {
    if !p.is_finite() {
        "–".into()
    } else if p < 1e-4 {
        format!("{p:.2e}")
    } else {
        format!("{p:.4}")
    }
}

fn fmt_stat(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        "–".into()
    }
}

/// Whether the report says how analysis `i` handled missing outcomes: the spec expects them,
/// or some are missing.
fn says_missing(report: &AnalysisReport, i: usize) -> bool {
    report.plan_info.get(i).is_some_and(|x| x.missing_planned)
        || report
            .missing_outcomes
            .get(i)
            .is_some_and(|m| m.iter().any(|[t, c]| t + c > 0))
}

/// The line that says how analysis `i` handled missing outcomes, when [`says_missing`].
fn missing_line(report: &AnalysisReport, i: usize) -> Option<String> {
    if !says_missing(report, i) {
        return None;
    }
    let total: u64 = report
        .missing_outcomes
        .get(i)
        .map_or(0, |m| m.iter().map(|[t, c]| t + c).sum());
    let handling = report
        .plan_info
        .get(i)
        .map_or("complete_cases", |x| x.missing.as_str())
        .replace(
            "lee_bounds",
            "complete cases, with Lee bounds as the sensitivity analysis",
        )
        .replace('_', " ");
    if handling == "ipw" {
        return Some(format!(
            "missing outcomes: inverse-probability weighting (the observed weighted by 1/p̂ of a logistic model of being observed, fitted in each arm; {total} missing values across its contrasts, counted per arm above)"
        ));
    }
    Some(format!(
        "missing outcomes: {handling} (participants without a value are left out of a contrast; {total} missing values across its contrasts, counted per arm above)"
    ))
}

/// One line per contrast estimated by regression: the method, the covariates, the standard
/// error and its degrees of freedom, the participants in the regression, the unadjusted
/// difference among them, and whatever was dropped or left undefined.
fn regression_lines(report: &AnalysisReport, i: usize) -> Vec<String> {
    let Some(a) = report.plan.analyses.get(i) else {
        return Vec::new();
    };
    a.contrasts
        .iter()
        .filter_map(|c| {
            let r = c.regression.as_ref()?;
            let b = is_binary(report, i, &c.outcome);
            let how = match r.method {
                "lin" => format!("adjusted for {} (Lin, interacted)", r.covariates.join(", ")),
                "ancova" => format!("adjusted for {} (ANCOVA)", r.covariates.join(", ")),
                _ => "unadjusted regression".to_owned(),
            };
            let mut line = format!(
                "{}: {how}; {} SE {} on {} df; n = {}; unadjusted difference {}",
                contrast_label(c),
                r.se_type,
                fmt_value(r.se, b),
                if r.df.fract() == 0.0 {
                    format!("{}", r.df)
                } else {
                    format!("{:.2}", r.df)
                },
                r.n,
                fmt_value(r.unadjusted_difference, b)
            );
            if !r.dropped.is_empty() {
                line += &format!(
                    "; dropped as constant or collinear: {}",
                    r.dropped.join(", ")
                );
            }
            if let Some(f) = &r.flag {
                line += &format!("; UNDEFINED: {f}");
            }
            Some(line)
        })
        .collect()
}

/// One line per contrast with the figures beside the plan's own: for a binary outcome the risk
/// ratio (Katz), the odds ratio (Woolf) and the Yates-corrected p; for a continuous one
/// Student's t beside Welch's.
fn comparison_lines(report: &AnalysisReport, i: usize) -> Vec<String> {
    let Some(a) = report.plan.analyses.get(i) else {
        return Vec::new();
    };
    let ratio = |x: f64| {
        if x.is_finite() {
            format!("{x:.3}")
        } else {
            "–".to_owned()
        }
    };
    a.contrasts
        .iter()
        .filter(|c| c.regression.is_none() && c.ipw.is_none())
        .filter_map(|c| {
            let mut parts = Vec::new();
            if let Some(rr) = &c.risk_ratio {
                parts.push(format!(
                    "risk ratio {} [{}, {}]{}",
                    ratio(rr.estimate),
                    ratio(rr.ci.0),
                    ratio(rr.ci.1),
                    if rr.zero_cell_corrected {
                        " (0.5 added to every cell: an arm has no events)"
                    } else {
                        ""
                    }
                ));
            }
            if let Some(or) = &c.odds_ratio {
                parts.push(format!(
                    "odds ratio {} [{}, {}] (Woolf{})",
                    ratio(or.estimate),
                    ratio(or.ci.0),
                    ratio(or.ci.1),
                    if or.zero_cell_corrected {
                        "; 0.5 added to every cell: a cell is zero"
                    } else {
                        ""
                    }
                ));
            }
            if let Some(p) = c.yates_p {
                parts.push(format!("Yates-corrected p {}", fmt_p(p)));
            }
            if c.student.is_some_and(|st| st.df.is_nan()) {
                parts.push("Student t not defined (an arm has fewer than 2 participants)".into());
            } else if let Some(st) = &c.student {
                let b = is_binary(report, i, &c.outcome);
                parts.push(format!(
                    "Student t {} on {} df, p {}, 95% CI [{}, {}]",
                    fmt_stat(st.statistic),
                    st.df,
                    fmt_p(st.p_value),
                    fmt_value(st.ci.0, b),
                    fmt_value(st.ci.1, b)
                ));
            }
            (!parts.is_empty()).then(|| format!("{}: {}", contrast_label(c), parts.join("; ")))
        })
        .collect()
}

fn is_binary(report: &AnalysisReport, analysis: usize, outcome: &str) -> bool {
    report
        .plan_info
        .get(analysis)
        .and_then(|i| i.binary.get(outcome).copied())
        .unwrap_or(true)
}

fn status_word(s: AuditStatus) -> &'static str {
    match s {
        AuditStatus::Consistent => "ok",
        AuditStatus::Contradicted => "CONTRADICTED",
        AuditStatus::NotObserved => "not observed",
        AuditStatus::Imbalanced => "IMBALANCED",
    }
}

fn audit_value(item: &AuditItem, x: f64) -> String {
    let count = matches!(item.kind, "sample" | "clusters");
    let proportion = !count && !item.assumption.contains("mean ");
    if count {
        format!("{x:.0}")
    } else {
        fmt_value(x, proportion)
    }
}

/// One row per contrast: label, arms, difference with CI, statistic, p, adjusted p, decision.
fn contrast_rows(report: &AnalysisReport) -> Vec<(String, Vec<[String; 8]>)> {
    report
        .plan
        .analyses
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let info = report.plan_info.get(i);
            let title = match info {
                Some(info) if info.missing == "ipw" => format!(
                    "{}{}: inverse-probability weighted z (sandwich SE), {}, alpha {}, correction {}",
                    a.name,
                    if info.primary { " (primary)" } else { "" },
                    super::words::sides(info.sides),
                    fmt_value(info.alpha, true),
                    super::words::correction(info.correction)
                ),
                Some(info) => format!(
                    "{}{}: {}",
                    a.name,
                    if info.primary { " (primary)" } else { "" },
                    super::words::analysis_header(
                        info.test,
                        info.sides,
                        &fmt_value(info.alpha, true),
                        info.correction
                    )
                ),
                None => a.name.clone(),
            };
            let missing = report.missing_outcomes.get(i);
            let rows = a
                .contrasts
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    let b = is_binary(report, i, &c.outcome);
                    let [mt, mc] = missing.and_then(|m| m.get(k)).copied().unwrap_or([0, 0]);
                    let arm = |mean: f64, n: u64, m: u64| {
                        if m > 0 {
                            format!("{} (n={n}, {m} missing)", fmt_value(mean, b))
                        } else {
                            format!("{} (n={n})", fmt_value(mean, b))
                        }
                    };
                    // Under weighting, the arms' weighted means over those weighted (the
                    // difference is theirs; the JSON's `ipw` holds them, `treatment` and
                    // `control` the unweighted complete cases).
                    let (cell_t, cell_c) = match &c.ipw {
                        Some(w) => {
                            let weighted = |x: &crate::analysis::IpwArmInfo, m: u64| {
                                let mut cell =
                                    format!("{} weighted (n={}", fmt_value(x.mean, b), x.observed);
                                if m > 0 {
                                    write!(cell, ", {m} missing").ok();
                                }
                                cell + ")"
                            };
                            (weighted(&w.treatment, mt), weighted(&w.control, mc))
                        }
                        None => (
                            arm(c.treatment.mean, c.treatment.n, mt),
                            arm(c.control.mean, c.control.n, mc),
                        ),
                    };
                    [
                        contrast_label(c),
                        cell_t,
                        cell_c,
                        format!(
                            "{} [{}, {}]",
                            fmt_value(c.difference, b),
                            fmt_value(c.ci.0, b),
                            fmt_value(c.ci.1, b)
                        ),
                        fmt_stat(c.statistic),
                        fmt_p(c.p_value),
                        fmt_p(c.p_adjusted),
                        if c.reject { "reject H0" } else { "–" }.to_owned(),
                    ]
                })
                .collect();
            (title, rows)
        })
        .collect()
}

const CONTRAST_HEAD: [&str; 8] = [
    "contrast",
    "treatment",
    "control",
    "difference [95% CI]",
    "statistic",
    "p",
    "p adj.",
    "decision",
];
const AUDIT_HEAD: [&str; 5] = ["assumption", "planned", "observed [95% CI]", "n", "verdict"];

/// The audit table's rows and the notes that go under it: a row with a note says `see [k]` in its
/// verdict and note `k` is printed below the table, so the verdict column stays narrow however
/// long a note is (identical notes share a number).
fn audit_rows(report: &AnalysisReport) -> (Vec<[String; 5]>, Vec<String>) {
    let mut notes: Vec<String> = Vec::new();
    let rows = report
        .audit
        .iter()
        .map(|item| {
            if item.kind == "balance" {
                // The test's statistic, or why it is undefined, goes to the notes.
                let mut verdict = status_word(item.status).to_owned();
                if let Some(note) = &item.note {
                    let k = notes.iter().position(|n| n == note).unwrap_or_else(|| {
                        notes.push(note.clone());
                        notes.len() - 1
                    });
                    write!(verdict, " [{}]", k + 1).ok();
                }
                return [
                    item.assumption.clone(),
                    "balanced".to_owned(),
                    item.observed
                        .map_or_else(|| "–".to_owned(), |p| format!("p = {}", fmt_p(p))),
                    item.n.to_string(),
                    verdict,
                ];
            }
            let observed = match (item.observed, item.ci) {
                (Some(x), Some((lo, hi))) => {
                    format!(
                        "{} [{}, {}]",
                        audit_value(item, x),
                        audit_value(item, lo),
                        audit_value(item, hi)
                    )
                }
                (Some(x), None) => audit_value(item, x),
                _ => "–".into(),
            };
            let mut verdict = status_word(item.status).to_owned();
            if let Some(note) = &item.note {
                let k = match notes.iter().position(|n| n == note) {
                    Some(k) => k,
                    None => {
                        notes.push(note.clone());
                        notes.len() - 1
                    }
                };
                write!(verdict, " [{}]", k + 1).ok();
            }
            [
                item.assumption.clone(),
                audit_value(item, item.planned),
                observed,
                item.n.to_string(),
                verdict,
            ]
        })
        .collect();
    (rows, notes)
}

/// The widest the audit's assumption column grows in the text report before it wraps, so that
/// the table, verdict column included, stays within 100 characters.
const AUDIT_ASSUMPTION_WIDTH: usize = 40;

/// `rows` with a first cell wider than `width` wrapped onto continuation rows (indented by two,
/// the other cells empty).
fn wrap_first_column<const N: usize>(rows: &[[String; N]], width: usize) -> Vec<[String; N]> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let lines = wrap(&row[0], width);
        if lines.len() <= 1 {
            out.push(row.clone());
            continue;
        }
        let mut first = row.clone();
        first[0] = lines[0].clone();
        out.push(first);
        for line in &lines[1..] {
            let mut more: [String; N] = std::array::from_fn(|_| String::new());
            more[0] = format!("  {line}");
            out.push(more);
        }
    }
    out
}

/// `text` broken into lines of at most `width` characters at spaces (a longer word stands alone).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The audit notes under the table, `[k] text` (in Markdown a list item `- [k] text`), wrapped
/// so that no line passes 100 characters.
fn audit_notes(notes: &[String], indent: &str, markdown: bool) -> String {
    let mut out = String::new();
    for (k, note) in notes.iter().enumerate() {
        let mark = if markdown {
            format!("- [{}] ", k + 1)
        } else {
            format!("[{}] ", k + 1)
        };
        let hang = " ".repeat(if markdown { 2 } else { mark.chars().count() });
        let width = 100 - indent.chars().count() - mark.chars().count();
        for (i, l) in wrap(note, width).iter().enumerate() {
            let lead = if i == 0 { &mark } else { &hang };
            out += &format!("{indent}{lead}{l}\n");
        }
    }
    out
}

/// One line per inverse-probability weighted contrast (`missing ipw on ...`): the share
/// observed per arm, the model's covariates, the standard error and its method, the largest
/// weight per arm (flagged when extreme), and whatever was dropped or left undefined.
fn ipw_lines(report: &AnalysisReport, analysis: usize) -> Vec<String> {
    let Some(a) = report.plan.analyses.get(analysis) else {
        return Vec::new();
    };
    a.contrasts
        .iter()
        .filter_map(|c| {
            let w = c.ipw.as_ref()?;
            let b = is_binary(report, analysis, &c.outcome);
            let share = |x: &crate::analysis::IpwArmInfo| {
                if x.n == 0 {
                    "–".to_owned()
                } else {
                    fmt_value(x.observed as f64 / x.n as f64, true)
                }
            };
            let weight = |x: &crate::analysis::IpwArmInfo| {
                let mut s = if x.max_weight.is_finite() {
                    format!("{:.2}", x.max_weight)
                } else {
                    "–".to_owned()
                };
                if x.extreme_weight {
                    s += " EXTREME";
                }
                s
            };
            let mut line = format!(
                "{}: weighted on {}; observed {} of {} (treatment, {}) and {} of {} (control, {}); SE {} (M-estimation sandwich with the estimated model); largest weight {} (treatment), {} (control)",
                contrast_label(c),
                w.covariates.join(", "),
                w.treatment.observed,
                w.treatment.n,
                share(&w.treatment),
                w.control.observed,
                w.control.n,
                share(&w.control),
                fmt_value(w.se, b),
                weight(&w.treatment),
                weight(&w.control),
            );
            if w.covariate_missing > 0 {
                line += &format!(
                    "; {} left out with a covariate missing",
                    w.covariate_missing
                );
            }
            for (arm, x) in [("treatment", &w.treatment), ("control", &w.control)] {
                if !x.dropped.is_empty() {
                    line += &format!(
                        "; dropped as constant or collinear in the {arm} arm: {}",
                        x.dropped.join(", ")
                    );
                }
                if x.separated > 0 {
                    line += &format!(
                        "; SEPARATION in the {arm} arm: {} without an outcome in a covariate pattern nobody was observed in (fitted probability 0), whom the weighting cannot represent",
                        x.separated
                    );
                }
            }
            if let Some(f) = &w.flag {
                line += &format!("; UNDEFINED: {f}");
            }
            Some(line)
        })
        .collect()
}

/// One line per contrast with a complier effect (`estimate complier_effect`).
fn complier_lines(report: &AnalysisReport, analysis: usize) -> Vec<String> {
    let (Some(effects), Some(a)) = (
        report.complier_effects.get(analysis),
        report.plan.analyses.get(analysis),
    ) else {
        return Vec::new();
    };
    let effects = match effects {
        Ok(e) => e,
        Err(why) => return vec![format!("complier effect: not estimated ({why})")],
    };
    effects
        .iter()
        .zip(&a.contrasts)
        .map(|(e, c)| {
            let label = match &c.subgroup {
                Some((v, l)) => format!("{} [{}]", c.outcome, subgroup_label(v, l)),
                None => c.outcome.clone(),
            };
            let binary = is_binary(report, analysis, &c.outcome);
            match e {
                Some(e) => {
                    let adjusted = if e.covariates.is_empty() {
                        String::new()
                    } else {
                        format!(", adjusted for {}", e.covariates.join(", "))
                    };
                    let mut flag = e.flag.as_ref().map_or_else(String::new, |f| format!("; {f}"));
                    if e.receipt_unknown > 0 {
                        write!(flag, "; {} with the outcome left out for an unknown receipt", e.receipt_unknown).ok();
                    }
                    if e.covariate_missing > 0 {
                        write!(flag, "; {} left out with a covariate missing", e.covariate_missing).ok();
                    }
                    format!(
                        "complier effect of {label} (CACE: 2SLS, assignment as instrument for receipt{adjusted}; HC2): {} [{}, {}], SE {} on {} df, p {}; first stage {} (F {:.1}); n = {}{flag}",
                        fmt_value(e.estimate, binary),
                        fmt_value(e.ci.0, binary),
                        fmt_value(e.ci.1, binary),
                        fmt_value(e.se, binary),
                        e.df,
                        fmt_p(e.p_value),
                        fmt_value(e.first_stage, true),
                        e.first_stage_f,
                        e.n
                    )
                }
                None => format!("complier effect of {label}: undefined (an arm has nobody with the outcome and receipt known)"),
            }
        })
        .collect()
}

/// One line per contrast with Lee bounds (`missing lee_bounds`).
fn lee_lines(report: &AnalysisReport, analysis: usize) -> Vec<String> {
    let (Some(bounds), Some(a)) = (
        report.lee_bounds.get(analysis),
        report.plan.analyses.get(analysis),
    ) else {
        return Vec::new();
    };
    bounds
        .iter()
        .zip(&a.contrasts)
        .map(|(b, c)| {
            let label = match &c.subgroup {
                Some((v, l)) => format!("{} [{}]", c.outcome, subgroup_label(v, l)),
                None => c.outcome.clone(),
            };
            let binary = is_binary(report, analysis, &c.outcome);
            let Some(b) = b else {
                return format!("Lee bounds of {label}: undefined (an arm has no observed value)");
            };
            let interval = if b.se_lower.is_nan() {
                "no interval (an arm has fewer than 2 observed values, so the SEs are not estimable)"
                    .to_owned()
            } else {
                format!(
                    "Imbens-Manski 95% CI [{}, {}] (SE of Lee 2009, Prop. 3: {} and {})",
                    fmt_value(b.ci.0, binary),
                    fmt_value(b.ci.1, binary),
                    fmt_value(b.se_lower, binary),
                    fmt_value(b.se_upper, binary)
                )
            };
            format!(
                "Lee bounds of {label} (always-observed; observed {} vs {}, {} of the {} arm's observed trimmed, ties fractionally): [{}, {}]; {interval}",
                fmt_value(b.observed_treatment, true),
                fmt_value(b.observed_control, true),
                fmt_value(b.trimmed_share, true),
                b.trimmed_arm,
                fmt_value(b.lower, binary),
                fmt_value(b.upper, binary),
            )
        })
        .collect()
}

/// One line per outcome with its own test and sidedness (`test ... for OUTCOME`).
fn per_outcome_lines(report: &AnalysisReport, analysis: usize) -> Vec<String> {
    report
        .plan_info
        .get(analysis)
        .map_or_else(Vec::new, |info| {
            info.per_outcome
                .iter()
                .map(|(o, t, s)| format!("{o} is tested by {t}, {}", s.replace('_', "-")))
                .collect()
        })
}

/// One line per contrast tested by randomisation: how its p-value was obtained.
fn randomisation_lines(report: &AnalysisReport, analysis: usize) -> Vec<String> {
    let Some(a) = report.plan.analyses.get(analysis) else {
        return Vec::new();
    };
    a.contrasts
        .iter()
        .filter_map(|c| {
            let r = c.randomisation.as_ref()?;
            let label = match &c.subgroup {
                Some((v, l)) => format!("{} [{}]", c.outcome, subgroup_label(v, l)),
                None => c.outcome.clone(),
            };
            let how = match r.method {
                Method::Hypergeometric => format!(
                    "exact (hypergeometric, Fisher's exact test) over {} assignments",
                    fmt_count(r.assignments, r.log10_assignments)
                ),
                Method::Exact => format!(
                    "exact, all {} assignments enumerated",
                    fmt_count(r.assignments, r.log10_assignments)
                ),
                Method::MonteCarlo => format!(
                    "Monte Carlo, {} of {} assignments drawn, MC SE of p {}",
                    r.draws,
                    fmt_count(r.assignments, r.log10_assignments),
                    fmt_p(r.mc_se)
                ),
            };
            Some(format!(
                "randomisation test of {label}: p = {} {how}",
                fmt_p(r.p_value)
            ))
        })
        .collect()
}

/// Degrees of freedom to one decimal, or "–" when undefined.
fn fmt_df(df: f64) -> String {
    if df.is_finite() {
        format!("{df:.1}")
    } else {
        "–".to_owned()
    }
}

/// A count of assignments: whole below a million, else in scientific notation, and as a power
/// of ten from its logarithm beyond the largest float.
fn fmt_count(x: f64, log10: f64) -> String {
    if !x.is_finite() && log10.is_finite() {
        return format!("about 10^{}", log10.floor());
    }
    if x < 1e6 {
        format!("{:.0}", x.round())
    } else {
        format!("{x:.3e}")
    }
}

/// One line per interaction (heterogeneity) test of the analysis.
fn interaction_lines(report: &AnalysisReport, analysis: usize) -> Vec<String> {
    report
        .plan
        .analyses
        .get(analysis)
        .map_or_else(Vec::new, |a| {
            a.interactions
                .iter()
                .map(|t| {
                    let mut line = format!(
                        "interaction {} × {}: Q = {} on {} df, p = {}",
                        t.outcome,
                        t.variable,
                        fmt_stat(t.statistic),
                        t.df,
                        fmt_p(t.p_value)
                    );
                    if let Some(f) = &t.f_test {
                        line += &format!(
                            "; F = {} on {} and {} df, p = {} (linear model)",
                            fmt_stat(f.statistic),
                            f.df1,
                            f.df2,
                            fmt_p(f.p_value)
                        );
                    }
                    line
                })
                .collect()
        })
}

/// Plain-text table with columns padded to their widest cell (by characters).
fn text_table<const N: usize>(head: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = head.map(|h| h.chars().count());
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::from(" ");
        for (i, c) in cells.iter().enumerate() {
            let pad = widths[i] - c.chars().count();
            s.push(' ');
            s.push_str(c);
            if i + 1 < N {
                s.push_str(&" ".repeat(pad + 2));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(head.to_vec());
    out += &line(
        widths
            .iter()
            .map(|&w| "-".repeat(w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    );
    for r in rows {
        out += &line(r.iter().map(String::as_str).collect());
    }
    out
}

fn md_table<const N: usize>(head: [&str; N], rows: &[[String; N]]) -> String {
    let esc = |s: &str| s.replace('|', "\\|");
    let mut out = format!("| {} |\n", head.join(" | "));
    out += &format!("|{}\n", " --- |".repeat(N));
    for r in rows {
        out += &format!(
            "| {} |\n",
            r.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")
        );
    }
    out
}

fn data_lines(d: &DataSummary) -> Vec<String> {
    let mut lines = vec![
        format!(
            "{} participants from {} rows of `{}` (delimiter `{}`, decimal {})",
            d.participants,
            d.rows,
            d.file,
            d.delimiter,
            if d.decimal_comma { "comma" } else { "point" }
        ),
        format!(
            "arms: {}",
            d.arms
                .iter()
                .map(|(a, n)| format!("{a} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ];
    let total: u64 = d.excluded.values().sum();
    lines.push(format!("excluded rows: {total}"));
    for (reason, n) in &d.excluded {
        lines.push(format!("  {n} × {reason}"));
    }
    if !d.missing.is_empty() {
        lines.push(format!(
            "missing values kept: {}",
            d.missing
                .iter()
                .map(|(c, n)| format!("{c} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    lines
}

/// Balance rows from the analysis module's balance table (as JSON: `{treatment, control, rows:
/// [{variable, level, treatment: {n, missing, mean, sd}, control: {…}, standardized_difference}]}`):
/// variable (and level), each arm's mean (sd) or share, and the standardised difference.
/// What the balance section says when the data map no baseline covariate.
const NO_COVARIATES: &str = "no baseline covariate is mapped (`covariate NAME \"column\"` in the data block), so there is no balance to check";

/// Whether the balance was computed but had no covariate to compare.
fn balance_without_covariates(balance: &Value) -> bool {
    balance
        .get("rows")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
}

fn balance_table(balance: &Value) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let rows = balance.get("rows")?.as_array()?;
    if rows.is_empty() {
        return None;
    }
    let arm = |k: &str| {
        balance
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or(k)
            .to_owned()
    };
    let num = |v: Option<&Value>| v.and_then(Value::as_f64).unwrap_or(f64::NAN);
    let head = vec![
        "covariate".to_owned(),
        arm("treatment"),
        arm("control"),
        "std. difference".to_owned(),
        "flag".to_owned(),
        "missing".to_owned(),
    ];
    let threshold = num(balance.get("smd_threshold"));
    let body = rows
        .iter()
        .map(|r| {
            let level = r.get("level").and_then(Value::as_str);
            let name = r.get("variable").and_then(Value::as_str).unwrap_or("?");
            let label = match level {
                Some(l) if l.starts_with('[') => format!("{name} in {l}"),
                Some(l) => format!("{name} = {l}"),
                None => name.to_owned(),
            };
            let cell = |k: &str| {
                let c = r.get(k);
                let mean = num(c.and_then(|c| c.get("mean")));
                if level.is_some() {
                    fmt_value(mean, true)
                } else {
                    format!(
                        "{} ({})",
                        fmt_value(mean, false),
                        fmt_value(num(c.and_then(|c| c.get("sd"))), false)
                    )
                }
            };
            let missing: u64 = ["treatment", "control"]
                .iter()
                .filter_map(|k| {
                    r.get(*k)
                        .and_then(|c| c.get("missing"))
                        .and_then(Value::as_u64)
                })
                .sum();
            vec![
                label,
                cell("treatment"),
                cell("control"),
                fmt_stat(num(r.get("standardized_difference"))),
                if r.get("flagged").and_then(Value::as_bool) == Some(true) {
                    format!("|SMD| > {threshold}")
                } else {
                    String::new()
                },
                missing.to_string(),
            ]
        })
        .collect();
    Some((head, body))
}

/// One line per balance test and one for the omnibus test (JSON `balance.tests`,
/// `balance.omnibus`), each marked `IMBALANCED` where p < the balance alpha.
fn balance_lines(balance: &Value) -> Vec<String> {
    let num = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN);
    let alpha = num(balance, "alpha");
    let mark = |v: &Value| {
        if v.get("imbalanced").and_then(Value::as_bool) == Some(true) {
            format!("  IMBALANCED (p < {})", fmt_value(alpha, true))
        } else {
            String::new()
        }
    };
    let mut lines = Vec::new();
    for t in balance
        .get("tests")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = t.get("variable").and_then(Value::as_str).unwrap_or("?");
        let (p, stat) = (num(t, "p_value"), num(t, "statistic"));
        let line = if t.get("test").and_then(Value::as_str) == Some("welch_t") {
            format!(
                "{name}: Welch t = {} on {} df, p = {}",
                fmt_stat(stat),
                fmt_df(num(t, "df")),
                fmt_p(p)
            )
        } else {
            let bins = t.get("bins").and_then(Value::as_array).map(|e| {
                let e: Vec<String> = e
                    .iter()
                    .filter_map(Value::as_f64)
                    .map(|x| x.to_string())
                    .collect();
                format!(" in bins [{})", e.join(", "))
            });
            let mut l = format!(
                "{name}{}: Pearson chi-square = {} on {} df, p = {}",
                bins.unwrap_or_default(),
                fmt_stat(stat),
                num(t, "df"),
                fmt_p(p)
            );
            let small = num(t, "small_expected");
            if small > 0.0 {
                write!(l, " ({small} cell(s) expected below 5)").ok();
            }
            let outside = num(t, "outside_bins");
            if outside > 0.0 {
                write!(l, " ({outside} outside the bins)").ok();
            }
            l
        };
        lines.push(line + &mark(t));
    }
    if let Some(o) = balance.get("omnibus") {
        lines.push(format!(
            "omnibus (arm on all covariates): F = {} on {} and {} df, p = {}, n = {}{}",
            fmt_stat(num(o, "statistic")),
            num(o, "df1"),
            num(o, "df2"),
            fmt_p(num(o, "p_value")),
            num(o, "n"),
            mark(o)
        ));
    }
    let without: Vec<&str> = balance
        .get("without_values")
        .and_then(Value::as_array)
        .map(|v| v.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !without.is_empty() {
        lines.push(format!(
            "left out, no value in either arm (declared, not mapped to a column): {}",
            without.join(", ")
        ));
    }
    lines
}

fn dyn_text_table(head: &[String], rows: &[Vec<String>], markdown: bool) -> String {
    // Reuse the fixed-width renderers through a column-count-erased path.
    let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    if markdown {
        out += &format!(
            "| {} |\n|{}\n",
            head.join(" | "),
            " --- |".repeat(head.len())
        );
        for r in rows {
            out += &format!("| {} |\n", r.join(" | "));
        }
        return out;
    }
    let line = |cells: &[String]| {
        let mut s = String::from(" ");
        for (i, c) in cells.iter().enumerate() {
            s.push(' ');
            s.push_str(c);
            s.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
        }
        s.trim_end().to_owned() + "\n"
    };
    out += &line(head);
    out += &line(&widths.iter().map(|&w| "-".repeat(w)).collect::<Vec<_>>());
    for r in rows {
        out += &line(r);
    }
    out
}

fn power_lines(power: &Value) -> Vec<String> {
    if let Some(err) = power.get("error").and_then(Value::as_str) {
        return vec![format!("not simulated: {err}")];
    }
    let Some(items) = power.as_array() else {
        return Vec::new();
    };
    let mut lines: Vec<String> = items
        .iter()
        .filter_map(|p| {
            let name = p.get("analysis")?.as_str()?;
            let power = p.get("power")?.as_f64()?;
            let se = p.get("mc_se").and_then(Value::as_f64).unwrap_or(f64::NAN);
            let any = p
                .get("any_power")
                .and_then(Value::as_f64)
                .unwrap_or(f64::NAN);
            Some(format!(
                "{name}: {:.1}% (MC SE {:.1}%; any contrast of the family: {:.1}%)",
                power * 100.0,
                se * 100.0,
                any * 100.0
            ))
        })
        .collect();
    if let Some(first) = items.first() {
        let seed = first.get("seed").and_then(Value::as_u64).unwrap_or(0);
        let reps = first.get("replicates").and_then(Value::as_u64).unwrap_or(0);
        let note = first.get("note").and_then(Value::as_str).unwrap_or("");
        lines.push(format!("{reps} replicates, seed {seed}; {note}"));
    }
    lines
}

/// Audit items that are chance imbalances of the randomisation.
fn imbalances(report: &AnalysisReport) -> usize {
    report
        .audit
        .iter()
        .filter(|a| a.status == AuditStatus::Imbalanced)
        .count()
}

/// The report as plain text.
pub fn render_text(report: &AnalysisReport) -> String {
    let mut out = format!("Analysis of \"{}\"\n\n", report.trial);
    out += "Data\n";
    for l in data_lines(&report.data) {
        out += &format!("  {l}\n");
    }
    for (i, (title, rows)) in contrast_rows(report).into_iter().enumerate() {
        out += &format!("\nAnalysis {title}\n");
        out += &text_table(CONTRAST_HEAD, &rows);
        for l in regression_lines(report, i) {
            out += &format!("  {l}\n");
        }
        for l in comparison_lines(report, i) {
            out += &format!("  {l}\n");
        }
        for l in interaction_lines(report, i) {
            out += &format!("  {l}\n");
        }
        for l in randomisation_lines(report, i) {
            out += &format!("  {l}\n");
        }
        for l in per_outcome_lines(report, i) {
            out += &format!("  {l}\n");
        }
        for l in ipw_lines(report, i) {
            out += &format!("  {l}\n");
        }
        for l in lee_lines(report, i) {
            out += &format!("  {l}\n");
        }
        for l in complier_lines(report, i) {
            out += &format!("  {l}\n");
        }
        if let Some(l) = missing_line(report, i) {
            out += &format!("  {l}\n");
        }
        if let Some(l) = outside_bins_line(report, i) {
            out += &format!("  {l}\n");
        }
        for l in clusters_in_two_arms_lines(report, i) {
            out += &format!("  {l}\n");
        }
    }
    if let Some((head, rows)) = balance_table(&report.balance) {
        out += "\nCovariate balance\n";
        out += &dyn_text_table(&head, &rows, false);
        for l in balance_lines(&report.balance) {
            out += &format!("  {l}\n");
        }
    } else if balance_without_covariates(&report.balance) {
        out += &format!("\nCovariate balance\n  {NO_COVARIATES}\n");
    }
    out += "\nAssumption audit (planned value against the data, 95% Wilson / normal intervals)\n";
    let (rows, notes) = audit_rows(report);
    out += &text_table(
        AUDIT_HEAD,
        &wrap_first_column(&rows, AUDIT_ASSUMPTION_WIDTH),
    );
    out += &audit_notes(&notes, "  ", false);
    let flagged = report
        .audit
        .iter()
        .filter(|a| a.status == AuditStatus::Contradicted)
        .count();
    out += &format!("  {flagged} assumption(s) contradicted by the data\n");
    let imbalanced = imbalances(report);
    if imbalanced > 0 {
        out += &format!("  {imbalanced} chance imbalance(s) between the arms at baseline\n");
    }
    let power = power_lines(&report.realised_power);
    if !power.is_empty() {
        out += "\nPower the trial really had (re-simulated with the observed flows)\n";
        for l in power {
            out += &format!("  {l}\n");
        }
    }
    out
}

/// The report as Markdown.
pub fn render_markdown(report: &AnalysisReport) -> String {
    let mut out = format!("# Analysis of \"{}\"\n\n## Data\n\n", report.trial);
    for l in data_lines(&report.data) {
        let l = l.trim_start();
        out += &format!("- {l}\n");
    }
    for (i, (title, rows)) in contrast_rows(report).into_iter().enumerate() {
        out += &format!("\n## Analysis {title}\n\n");
        out += &md_table(CONTRAST_HEAD, &rows);
        let mut lines = regression_lines(report, i);
        lines.extend(comparison_lines(report, i));
        lines.extend(interaction_lines(report, i));
        lines.extend(randomisation_lines(report, i));
        lines.extend(per_outcome_lines(report, i));
        lines.extend(ipw_lines(report, i));
        lines.extend(lee_lines(report, i));
        lines.extend(complier_lines(report, i));
        lines.extend(missing_line(report, i));
        lines.extend(outside_bins_line(report, i));
        lines.extend(clusters_in_two_arms_lines(report, i));
        if !lines.is_empty() {
            out += "\n";
        }
        for l in lines {
            out += &format!("- {l}\n");
        }
    }
    if let Some((head, rows)) = balance_table(&report.balance) {
        out += "\n## Covariate balance\n\n";
        out += &dyn_text_table(&head, &rows, true);
        let lines = balance_lines(&report.balance);
        if !lines.is_empty() {
            out += "\n";
        }
        for l in lines {
            out += &format!("- {l}\n");
        }
    } else if balance_without_covariates(&report.balance) {
        out += &format!("\n## Covariate balance\n\n{NO_COVARIATES}.\n");
    }
    out += "\n## Assumption audit\n\nPlanned value against the data, with 95 % intervals (Wilson for proportions).\n\n";
    let (rows, notes) = audit_rows(report);
    out += &md_table(AUDIT_HEAD, &rows);
    if !notes.is_empty() {
        out += "\n";
        out += &audit_notes(&notes, "", true);
    }
    let flagged = report
        .audit
        .iter()
        .filter(|a| a.status == AuditStatus::Contradicted)
        .count();
    out += &format!("\n{flagged} assumption(s) contradicted by the data.\n");
    let imbalanced = imbalances(report);
    if imbalanced > 0 {
        out += &format!("{imbalanced} chance imbalance(s) between the arms at baseline.\n");
    }
    let power = power_lines(&report.realised_power);
    if !power.is_empty() {
        out += "\n## Power the trial really had\n\nRe-simulated with the observed flows.\n\n";
        for l in power {
            out += &format!("- {l}\n");
        }
    }
    out
}

/// What changed between two JSON reports, one line per changed value, with a readable path
/// (`analyses.primary.contrasts[employed78].p_value: 0.0127 → 0.0131`). Empty when equal.
pub fn diff(old: &Value, new: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_into("", old, new, &mut out);
    out
}

fn key_of(v: &Value) -> Option<String> {
    let o = v.as_object()?;
    ["label", "name", "assumption", "arm", "analysis"]
        .iter()
        .find_map(|k| o.get(*k).and_then(Value::as_str).map(str::to_owned))
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        Value::Array(_) | Value::Object(_) => {
            let s = v.to_string();
            if s.chars().count() > 60 {
                format!("{}…", s.chars().take(60).collect::<String>())
            } else {
                s
            }
        }
        other => other.to_string(),
    }
}

/// Whether two JSON numbers are the same report value: within [`NUMBERS_EQUAL_REL`] of the
/// larger magnitude, or within [`NUMBERS_EQUAL_ABS`]. Integers compare exactly.
fn numbers_equal(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    if a == b {
        return true;
    }
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if !(a.is_u64() || a.is_i64()) || !(b.is_u64() || b.is_i64()) => {
            let d = (x - y).abs();
            d <= NUMBERS_EQUAL_ABS || d <= NUMBERS_EQUAL_REL * x.abs().max(y.abs())
        }
        _ => false,
    }
}

fn diff_into(path: &str, old: &Value, new: &Value, out: &mut Vec<String>) {
    if PATH_FIELDS.contains(&path) {
        return;
    }
    let join = |k: &str| {
        if path.is_empty() {
            k.to_owned()
        } else {
            format!("{path}.{k}")
        }
    };
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                match b.get(k) {
                    Some(vb) => diff_into(&join(k), va, vb, out),
                    None => out.push(format!("{}: removed (was {})", join(k), show(va))),
                }
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    out.push(format!("{}: added {}", join(k), show(vb)));
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            let keyed = a.iter().chain(b).all(|v| key_of(v).is_some());
            if keyed {
                let index = |items: &Vec<Value>| -> Vec<(String, usize)> {
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (key_of(v).unwrap_or_default(), i))
                        .collect()
                };
                let (ia, ib) = (index(a), index(b));
                for (k, i) in &ia {
                    let p = format!("{path}[{k}]");
                    match ib.iter().find(|(kb, _)| kb == k) {
                        Some((_, j)) => diff_into(&p, &a[*i], &b[*j], out),
                        None => out.push(format!("{p}: removed")),
                    }
                }
                for (k, _) in &ib {
                    if !ia.iter().any(|(ka, _)| ka == k) {
                        out.push(format!("{path}[{k}]: added"));
                    }
                }
            } else if a.len() == b.len()
                && a.iter().chain(b).all(|v| !v.is_object() && !v.is_array())
            {
                let same = a.iter().zip(b).all(|(x, y)| match (x, y) {
                    (Value::Number(x), Value::Number(y)) => numbers_equal(x, y),
                    _ => x == y,
                });
                if !same {
                    out.push(format!("{path}: {} → {}", show(old), show(new)));
                }
            } else {
                for i in 0..a.len().max(b.len()) {
                    match (a.get(i), b.get(i)) {
                        (Some(x), Some(y)) => diff_into(&format!("{path}[{i}]"), x, y, out),
                        (Some(_), None) => out.push(format!("{path}[{i}]: removed")),
                        (None, Some(_)) => out.push(format!("{path}[{i}]: added")),
                        (None, None) => {}
                    }
                }
            }
        }
        (Value::Number(a), Value::Number(b)) => {
            if !numbers_equal(a, b) {
                out.push(format!("{path}: {a} → {b}"));
            }
        }
        (a, b) => {
            if a != b {
                out.push(format!("{path}: {} → {}", show(a), show(b)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{AnalysisResult, ArmSummary};

    fn report(p: f64) -> AnalysisReport {
        let arm = |n, mean| ArmSummary {
            n,
            mean,
            sd: 0.4,
            events: None,
            ci: (f64::NAN, f64::NAN),
        };
        AnalysisReport {
            trial: "t".into(),
            inputs: Inputs::default(),
            data: DataSummary {
                file: "d.csv".into(),
                rows: 3,
                participants: 2,
                excluded: [("unknown arm value in column `arm`".to_owned(), 1)].into(),
                missing: BTreeMap::new(),
                delimiter: ",".into(),
                decimal_comma: false,
                arms: vec![("treatment".into(), 1), ("control".into(), 1)],
            },
            plan_info: Vec::new(),
            missing_outcomes: Vec::new(),
            outside_bins: Vec::new(),
            plan: PlanResult {
                analyses: vec![AnalysisResult {
                    name: "primary".into(),
                    contrasts: vec![ContrastResult {
                        outcome: "employed".into(),
                        subgroup: None,
                        treatment: arm(185, 0.756_756_756_756_756_8),
                        control: arm(260, 0.646_153_846_153_846_2),
                        difference: 0.110_602_910_602_910_6,
                        ci: (0.023_810_759_768_498_71, 0.192_707_927_386_685_5),
                        statistic: f64::NAN,
                        p_value: p,
                        p_adjusted: p,
                        reject: p < 0.05,
                        wald_ci: (f64::NAN, f64::NAN),
                        df: None,
                        risk_ratio: None,
                        randomisation: None,
                        regression: None,
                        odds_ratio: None,
                        yates_p: None,
                        student: None,
                        ipw: None,
                        clusters_in_two_arms: None,
                    }],
                    interactions: Vec::new(),
                }],
            },
            balance: Value::Null,
            lee_bounds: Vec::new(),
            complier_effects: Vec::new(),
            audit: Vec::new(),
            realised_power: Value::Null,
        }
    }

    #[test]
    fn json_floats_round_trip_and_nan_is_null() {
        let p = 0.012_736_411_146_287_267;
        let text = render_json(&report(p));
        assert!(text.contains("\"p_value\": 0.012736411146287267"), "{text}");
        let back: Value = serde_json::from_str(&text).expect("valid JSON");
        let read = back["analyses"][0]["contrasts"][0]["p_value"].as_f64();
        assert_eq!(read.map(f64::to_bits), Some(p.to_bits()));
        assert!(text.contains("\"statistic\": null"), "{text}");
        assert!(text.contains("\"label\": \"employed\""), "{text}");
        assert!(text.contains("\"excluded_total\": 1"), "{text}");
    }

    #[test]
    fn diff_names_what_changed() {
        let a = to_json(&report(0.0127));
        assert!(diff(&a, &a).is_empty());
        let b = to_json(&report(0.0713));
        assert_eq!(
            diff(&a, &b),
            [
                "analyses[primary].contrasts[employed].p_adjusted: 0.0127 → 0.0713",
                "analyses[primary].contrasts[employed].p_value: 0.0127 → 0.0713",
                "analyses[primary].contrasts[employed].reject: true → false",
            ]
        );
    }

    #[test]
    fn check_tolerates_the_last_bits_but_not_a_real_change_and_ignores_paths() {
        let a = to_json(&report(0.0127));
        let mut b = to_json(&report(0.0127 * (1.0 + 1e-12)));
        b["data"]["file"] = json!("elsewhere/copy.csv");
        b["inputs"]["data"] = json!("copy.csv");
        assert!(diff(&a, &b).is_empty(), "{:?}", diff(&a, &b));
        let c = to_json(&report(0.0127 * (1.0 + 1e-8)));
        assert_eq!(diff(&a, &c).len(), 2);
        let mut d = to_json(&report(0.0127));
        d["inputs"]["data_sha256"] = json!("00");
        assert_eq!(diff(&a, &d), ["inputs.data_sha256: \"\" → \"00\""]);
    }

    #[test]
    fn text_shows_percentages_and_exclusions() {
        let text = render_text(&report(0.0127));
        assert!(text.contains("75.7% (n=185)"), "{text}");
        assert!(text.contains("11.1% [2.4%, 19.3%]"), "{text}");
        assert!(
            text.contains("1 × unknown arm value in column `arm`"),
            "{text}"
        );
    }
}
