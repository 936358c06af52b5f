//! The seed gallery: one row per spec with its design, its power at the spec's size, the size a
//! trial would need, the candidates that size takes and the cost per extra exit, rendered as
//! the Markdown page `specs/gallery/README.md` (`trialsim gallery`).
//!
//! Everything on the page is computed, with a fixed seed and replicate count, so the page can be
//! regenerated and compared byte for byte (a test does exactly that).
//!
//! - *Power* is the simulated power of the spec's first analysis (its first contrast) at the
//!   spec's own sample, with its Monte Carlo standard error.
//! - *MDE* is the smallest effect the first analysis detects with 80 % power at that sample,
//!   by the normal approximation around the simulated control proportion; for a cluster design
//!   on the effective sample (participants divided by the design effect 1 + (m − 1) ICC).
//! - *Needed* is the size for 80 % power at the simulated arm proportions: participants per arm
//!   by the normal approximation for individual randomisation; for a cluster design the number
//!   of clusters per arm, found by simulating the cluster-level test at increasing numbers of
//!   clusters (the normal approximation is poor with few clusters).
//! - *Candidates* is what that size takes before selection: both arms divided by the share of
//!   the pool that meets the criteria and passes the planned screening. Against a stated pool
//!   the page prints the verdict of [`pool_answer`], the same computation `trialsim
//!   feasibility`, `check`, `power` and `report` use.
//! - *Cost per extra exit* comes from the spec's `costs` block ([`crate::economics`]).

use serde::Serialize;

use crate::design::feasibility::{PoolAnswer, pool_answer};
use crate::model::{AssignmentRule, TestKind, TrialModel};
use crate::power::{PowerReport, PowerSettings, run_power};
use crate::sim::SimError;
use crate::stats::power::{two_proportion_mde, two_proportion_normal_n};

/// How the page is computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GallerySettings {
    /// Master seed of every simulation.
    pub seed: u64,
    /// Replicates per simulation.
    pub replicates: u64,
    /// The power a trial should have.
    pub target: f64,
    /// Most clusters per arm searched.
    pub max_clusters: u32,
}

impl Default for GallerySettings {
    fn default() -> Self {
        Self {
            seed: 2019,
            replicates: 400,
            target: 0.8,
            max_clusters: 60,
        }
    }
}

/// The size a trial needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Needed {
    /// Participants per arm.
    PerArm {
        /// Participants per arm.
        n: u64,
        /// Simulated power at n, when the size was found by simulation (small trials and
        /// Fisher's test); `None`: the normal approximation.
        power: Option<f64>,
    },
    /// Clusters per arm (simulated), with the simulated power there.
    Clusters {
        /// Clusters per arm.
        k: u32,
        /// Participants per cluster.
        size: u32,
        /// Simulated power at k.
        power: f64,
    },
    /// No size reaches the target (no effect in the tested direction, or beyond the search).
    Unreachable,
    /// Not computed (the first analysis compares means, or the model has no two-arm contrast).
    NotComputed,
}

/// One row of the gallery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GalleryRow {
    /// The spec file as given.
    pub file: String,
    /// The trial's name.
    pub approach: String,
    /// Design in words.
    pub design: String,
    /// Arm sizes in words.
    pub n: String,
    /// The first analysis' name.
    pub analysis: String,
    /// Simulated arm proportions (treatment, control) of its first contrast.
    pub proportions: Option<(f64, f64)>,
    /// Simulated power at the spec's size.
    pub power: f64,
    /// Its Monte Carlo standard error.
    pub power_mc_se: f64,
    /// Minimum detectable effect at the spec's size (80 % power).
    pub mde: Option<f64>,
    /// The size for the target power.
    pub needed: Needed,
    /// Participants to screen for that size (both arms, before selection).
    pub candidates: Option<f64>,
    /// The spec's pool judged against that size ([`pool_answer`]).
    pub pool: Option<PoolAnswer>,
    /// Cost per extra exit at the simulated effect, with its 95 % simulation interval.
    pub cost_per_extra_exit: Option<(Option<f64>, Option<f64>, Option<f64>)>,
    /// Break-even effect of the costs block.
    pub break_even: Option<f64>,
    /// Months the spec's inflow takes to bring in the needed participants (all arms).
    pub intake_months: Option<u32>,
    /// Assurance of the first analysis at the spec's size (power averaged over the spec's
    /// beliefs about uncertain values), with its Monte Carlo standard error.
    pub assurance: Option<(f64, f64)>,
}

fn settings(g: &GallerySettings, n_per_arm: Option<u32>) -> PowerSettings {
    PowerSettings {
        seed: g.seed,
        replicates: g.replicates,
        n_per_arm,
        scenario: 0,
    }
}

fn without_expectations(model: &TrialModel) -> TrialModel {
    TrialModel {
        expectations: Vec::new(),
        ..model.clone()
    }
}

/// The design of `model` in words.
pub fn design_text(model: &TrialModel) -> String {
    let ratio = |r: &[u32]| r.iter().map(u32::to_string).collect::<Vec<_>>().join(":");
    let mut s = match (&model.delivery.clusters, &model.assignment.rule) {
        (Some(c), AssignmentRule::Complete { ratio: r }) => format!(
            "{}s of {} randomised {}, ICC {}",
            c.label,
            c.size,
            ratio(r),
            c.icc
        ),
        (_, AssignmentRule::Parity { .. }) => "ID parity".to_string(),
        (_, AssignmentRule::Complete { ratio: r }) => format!("randomised {}", ratio(r)),
        (_, AssignmentRule::Blocked { ratio: r, .. }) => {
            format!("randomised {} in blocks", ratio(r))
        }
    };
    if let Some(i) = &model.delivery.inflow {
        let counts = i
            .per_period
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let per = if i.period_months == 12 {
            "year"
        } else {
            "month"
        };
        s.push_str(&format!(
            "; inflow {counts} per {per}, analysis at month {}",
            i.analysis_month
        ));
    }
    if !model.delivery.exits.is_empty() {
        s.push_str("; competing exits");
    }
    let pass = pool_answer(model, &[]).pass_share;
    if pass < 1.0 {
        s.push_str(&format!("; selection passes {:.0}%", 100.0 * pass));
    }
    s
}

fn sizes_text(model: &TrialModel, report: &PowerReport) -> String {
    let sizes: Vec<String> = match &report.arm_sizes {
        Some(v) => v.iter().map(u32::to_string).collect(),
        None => report
            .flows
            .arms
            .iter()
            .map(|a| format!("~{:.0}", a.mean_size))
            .collect(),
    };
    let mut s = model
        .arms
        .iter()
        .zip(&sizes)
        .map(|(a, n)| format!("{} {n}", a.name))
        .collect::<Vec<_>>()
        .join(", ");
    if let (Some(c), Some(v)) = (&model.delivery.clusters, &report.arm_sizes) {
        let k: Vec<String> = v
            .iter()
            .map(|&n| n.div_ceil(c.size.max(1)).to_string())
            .collect();
        s.push_str(&format!(" ({} {}s)", k.join(" + "), c.label));
    }
    s
}

/// Computes the gallery row of one checked spec.
pub fn row(file: &str, model: &TrialModel, g: &GallerySettings) -> Result<GalleryRow, SimError> {
    let bare = without_expectations(model);
    let report = run_power(&bare, &settings(g, None), &|_| {})?;
    let first = report.analyses.first();
    let contrast = first.and_then(|a| a.contrasts.first());
    let analysis = model.analyses.first();
    let binary = analysis
        .and_then(|a| a.outcomes.first())
        .and_then(|&o| model.outcomes.get(o))
        .is_some_and(|o| o.is_binary());
    let proportions = contrast.and_then(|c| c.mean_treatment.zip(c.mean_control));
    let de = model
        .delivery
        .clusters
        .as_ref()
        .map_or(1.0, |c| 1.0 + (f64::from(c.size) - 1.0) * c.icc);
    let arm_n = |arm: usize| {
        report
            .arm_sizes
            .as_ref()
            .and_then(|v| v.get(arm).map(|&n| f64::from(n)))
            .or_else(|| report.flows.arms.get(arm).map(|a| a.mean_size))
    };
    let mut mde = None;
    let mut needed = Needed::NotComputed;
    if let (Some(a), Some((p_t, p_c)), true) = (analysis, proportions, binary) {
        if let (Some(n_t), Some(n_c)) = (arm_n(a.treatment), arm_n(a.control)) {
            mde = two_proportion_mde(p_c, n_c / de, n_t / de, a.alpha, a.sides, g.target);
        }
        let n_cf = two_proportion_normal_n(p_c, p_t, a.alpha, a.sides, g.target, 1.0);
        let z_test = matches!(a.test, TestKind::PooledZ | TestKind::UnpooledZ);
        needed = match &model.delivery.clusters {
            _ if !n_cf.is_finite() => Needed::Unreachable,
            None if z_test && n_cf > LARGE => Needed::PerArm {
                n: n_cf.ceil().max(2.0) as u64,
                power: None,
            },
            _ => searched(&full_follow_up(&bare), g)?,
        };
    }
    let per_arm = match &needed {
        Needed::PerArm { n, .. } => u32::try_from(*n).ok(),
        Needed::Clusters { k, size, .. } => k.checked_mul(*size),
        _ => None,
    };
    let answer = per_arm.map(|n| pool_answer(model, &vec![n; model.arms.len()]));
    let candidates = answer.as_ref().and_then(|a| a.candidates);
    let intake_months = match (&model.delivery.inflow, candidates) {
        (Some(inflow), Some(_)) => {
            let total = match &needed {
                Needed::PerArm { n, .. } => *n as usize * model.arms.len(),
                Needed::Clusters { k, size, .. } => (*k * *size) as usize * model.arms.len(),
                _ => 0,
            };
            crate::sim::entry_months(inflow, total.min(1_000_000))
                .last()
                .map(|m| m + 1)
        }
        _ => None,
    };
    let cost_per_extra_exit = report.economics.as_ref().map(|e| {
        (
            e.cost_per_extra_exit,
            e.cost_per_extra_exit_interval.0,
            e.cost_per_extra_exit_interval.1,
        )
    });
    Ok(GalleryRow {
        file: file.to_owned(),
        approach: model.name.clone(),
        design: design_text(model),
        n: sizes_text(model, &report),
        analysis: analysis.map_or_else(String::new, |a| a.name.clone()),
        proportions,
        power: first.map_or(f64::NAN, |a| a.power),
        power_mc_se: first.map_or(f64::NAN, |a| a.mc_se),
        mde,
        needed,
        candidates,
        pool: answer.filter(|a| a.pool.is_some()),
        cost_per_extra_exit,
        break_even: report.economics.as_ref().map(|e| e.break_even_effect),
        intake_months,
        assurance: assurance(&bare, g)?,
    })
}

/// Assurance of the first analysis at the spec's size over the spec's beliefs
/// ([`crate::design::assurance::run_assurance`]); `None` without beliefs.
fn assurance(model: &TrialModel, g: &GallerySettings) -> Result<Option<(f64, f64)>, SimError> {
    if model.uncertain.is_empty() || model.analyses.is_empty() {
        return Ok(None);
    }
    let r =
        crate::design::assurance::run_assurance(model, 0, &model.uncertain, g.seed, g.replicates)
            .map_err(|e| SimError(e.message))?;
    Ok(Some((r.assurance, r.mc_se)))
}

/// Above this many per arm, a z test's size is taken from the normal approximation (accurate
/// there, and simulating it would be slow).
const LARGE: f64 = 200.0;

/// The model with every participant followed in full: sizes needed are for a complete
/// follow-up; the time the inflow takes to bring them in is reported beside.
fn full_follow_up(model: &TrialModel) -> TrialModel {
    let mut m = model.clone();
    m.delivery.inflow = None;
    m
}

/// The size for the target power by the search `trialsim size` runs
/// ([`crate::design::size::size_for_model`]): participants per arm, or clusters per arm in a
/// cluster design.
fn searched(model: &TrialModel, g: &GallerySettings) -> Result<Needed, SimError> {
    let question = crate::design::size::SizeQuestion {
        analysis: 0,
        target: g.target,
        ratio: vec![1; model.arms.len()],
        seed: g.seed,
        replicates: g.replicates,
        max_n: match &model.delivery.clusters {
            Some(c) => g.max_clusters.saturating_mul(c.size.max(1)),
            None => 5_000,
        },
        move_analysis: false,
    };
    match crate::design::size::size_for_model(model, &question) {
        Ok(r) => Ok(match (r.clusters_per_arm, r.cluster_size) {
            (Some(k), Some(size)) => Needed::Clusters {
                k,
                size,
                power: r.power,
            },
            _ => Needed::PerArm {
                n: u64::from(r.n_per_arm),
                power: Some(r.power),
            },
        }),
        Err(e) if e.no_answer => Ok(Needed::Unreachable),
        Err(e) => Err(SimError(e.message)),
    }
}

fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

fn euro(x: f64) -> String {
    let whole = x.round() as i64;
    let digits = whole.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{}€{out}", if whole < 0 { "−" } else { "" })
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The gallery page.
pub fn markdown(rows: &[GalleryRow], g: &GallerySettings, command: &str) -> String {
    let mut s = String::new();
    s.push_str("# The seed gallery\n\n");
    s.push_str(
        "Every approach of the seed reports written as a trial spec, with what a randomised \
         trial of it would take. Each spec cites the report lines its numbers come from and \
         marks its assumptions. This page is generated; do not edit it by hand:\n\n",
    );
    s.push_str(&format!("```sh\n{command}\n```\n\n"));
    s.push_str(&format!(
        "Seed {}, {} replicates per simulation; target power {}.\n\n",
        g.seed,
        g.replicates,
        pct(g.target)
    ));
    s.push_str(
        "| Approach | Spec | Design | n | First analysis: proportions | Power (MC SE) | MDE | Needed for target | Candidates to screen | Assurance | Cost per extra exit (95 % sim.) |\n",
    );
    s.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for r in rows {
        let props = r.proportions.map_or_else(
            || "—".to_string(),
            |(t, c)| format!("{}: {} vs {}", r.analysis, pct(t), pct(c)),
        );
        let power = if r.power.is_finite() {
            format!("{} ({})", pct(r.power), pct(r.power_mc_se))
        } else {
            "—".to_string()
        };
        let mde = r
            .mde
            .map_or_else(|| "—".to_string(), |m| format!("{:+.1} pp", 100.0 * m));
        let needed = match &r.needed {
            Needed::PerArm { n, power: None } => format!("{n} per arm (normal approx.)"),
            Needed::PerArm { n, power: Some(p) } => format!("{n} per arm (power {})", pct(*p)),
            Needed::Clusters { k, size, power } => {
                format!("{k} clusters of {size} per arm (power {})", pct(*power))
            }
            Needed::Unreachable => "not reachable".to_string(),
            Needed::NotComputed => "—".to_string(),
        };
        let candidates = match (r.candidates, r.pool.as_ref().and_then(|a| a.verdict_text())) {
            (Some(c), Some(verdict)) => format!("{:.0} ({verdict})", c.ceil()),
            (Some(c), None) => format!("{:.0}", c.ceil()),
            (None, _) => "—".to_string(),
        };
        let needed = match r.intake_months {
            Some(m) => format!("{needed}; intake {m} months at the spec's inflow"),
            None => needed,
        };
        let cost = match r.cost_per_extra_exit {
            Some((at, lo, hi)) => {
                let f = |x: Option<f64>| x.map_or_else(|| "unbounded".to_string(), euro);
                let be = r.break_even.map_or_else(String::new, |b| {
                    format!("; break-even {:+.1} pp", 100.0 * b)
                });
                format!("{} ({} to {}){be}", f(at), f(lo), f(hi))
            }
            None => "—".to_string(),
        };
        s.push_str(&format!(
            "| {} | [{}]({}) | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            cell(&r.approach),
            cell(r.file.rsplit('/').next().unwrap_or(&r.file)),
            cell(&link(&r.file)),
            cell(&r.design),
            cell(&r.n),
            cell(&props),
            power,
            mde,
            cell(&needed),
            cell(&candidates),
            r.assurance.map_or_else(
                || "—".to_string(),
                |(a, se)| format!("{} ({})", pct(a), pct(se))
            ),
            cell(&cost),
        ));
    }
    s.push_str(
        "\n**Reading the table.** *Power* is the simulated power of the spec's first analysis at \
         the spec's own arm sizes. *MDE* is the smallest effect that analysis detects with the \
         target power at those sizes (normal approximation around the simulated control \
         proportion; cluster designs on the sample divided by the design effect). *Needed* is \
         the size for the target power at the simulated proportions: participants per arm by the \
         normal approximation for z tests above 200 per arm, otherwise found by simulating the \
         spec's own test (shown with the power reached), with every participant followed in \
         full; for cluster designs the clusters per arm, found by simulating the cluster-level \
         t test. With an inflow, the months it takes to bring that many in are added. \
         *Candidates to screen* is that size over all arms divided by the share of the pool \
         that meets the criteria and passes the planned screening; against a stated pool, \
         *enough* means the pool fills every arm with probability (*P(fill)*) at least 80 %, \
         the verdict `trialsim feasibility` gives. *Assurance* is the power at the \
         spec's size averaged over its beliefs about uncertain values (`20% ~ uniform(10%, \
         30%)`), as `trialsim power` reports it. *Cost per extra exit* is the \
         programme's cost over the extra exits at the simulated effect, with the interval a \
         trial of this size would report; *break-even* is the effect at which the savings \
         (€14,000 per benefit-year) pay for the programme.\n",
    );
    s
}

/// A link from `specs/gallery/README.md` to a spec given relative to the crate root.
fn link(file: &str) -> String {
    match file.strip_prefix("specs/gallery/") {
        Some(rest) => rest.to_owned(),
        None => match file.strip_prefix("specs/") {
            Some(rest) => format!("../{rest}"),
            None => file.to_owned(),
        },
    }
}

/// The spec files named by `inputs`, in order: a directory contributes its `.trial` files
/// sorted by name, a file itself. Paths are kept as written (with `/` separators).
pub fn collect(inputs: &[String]) -> Result<Vec<String>, String> {
    let mut files = Vec::new();
    for input in inputs {
        let path = std::path::Path::new(input);
        if path.is_dir() {
            let mut found: Vec<String> = std::fs::read_dir(path)
                .map_err(|e| format!("cannot read {input}: {e}"))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "trial"))
                .filter_map(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .map(|n| format!("{}/{n}", input.trim_end_matches('/')))
                })
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

/// The command line that regenerates a page, as printed on it.
pub fn command_line(inputs: &[String], out: Option<&str>, g: &GallerySettings) -> String {
    let mut s = format!(
        "trialsim gallery {} --seed {} --reps {}",
        inputs.join(" "),
        g.seed,
        g.replicates
    );
    if let Some(out) = out {
        s.push_str(&format!(" --out {out}"));
    }
    s
}

/// Checks every spec of `inputs`, computes its row and renders the page. Paths are read
/// relative to the current directory. Errors name the file.
pub fn page(inputs: &[String], out: Option<&str>, g: &GallerySettings) -> Result<String, String> {
    let files = collect(inputs)?;
    let mut rows = Vec::with_capacity(files.len());
    for file in &files {
        let source = crate::source::SourceFile::read(file).map_err(|e| format!("{e}"))?;
        let checked =
            crate::check::compile(&source).map_err(|e| format!("{:?}", miette::Report::new(e)))?;
        rows.push(row(file, &checked.model, g).map_err(|e| format!("{file}: {}", e.0))?);
    }
    Ok(markdown(&rows, g, &command_line(inputs, out, g)))
}
