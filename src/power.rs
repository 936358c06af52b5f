//! Power by simulation: many replicates of the engine, each analysed by the plan, aggregated into
//! power, bias, RMSE and coverage per contrast, the realised flows, the closed forms where they
//! exist, and the verdict on every `expect` of the spec.
//!
//! Replicates run in parallel (rayon) in fixed chunks of [`CHUNK`] replicates. Each chunk folds its
//! replicates in index order; the chunks are then folded in chunk order. The grouping depends only
//! on the replicate count, never on the threads, so a report is byte-identical for any
//! `--threads`, and replicate r (its stream is keyed by (seed, scenario, r)) is the same whatever
//! the number of replicates.
//!
//! The *true effect* of a contrast is computed exactly from the model (see
//! [`crate::sim::truth`]), not estimated.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use crate::analysis::{Detail, PlanResult, run_plan_into, run_plan_into_with};
use crate::economics::{EconomicsReport, economics};
use crate::model::{Comparison, Metric, Sides, TestKind, TrialModel};
use crate::shard::{Fold, Words, word, word_list};
use crate::sim::rng::{GENERATOR, replicate_rng};
use crate::sim::{FlowLayout, SimError, SimOptions, Simulator, Worker, counter};
use crate::stats::power::newcombe_exact_coverage;

/// Replicates folded together before chunks are combined (fixed, so results never depend on the
/// thread count).
pub const CHUNK: u64 = 64;
/// Chunks run in parallel between two progress updates.
const BATCH_CHUNKS: u64 = 64;
/// Most replicates accepted.
pub const MAX_REPLICATES: u64 = 1_000_000_000;

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerSettings {
    /// Master seed.
    pub seed: u64,
    /// Number of replicates (1..=10^9).
    pub replicates: u64,
    /// Overrides the model's sample with this many per arm.
    pub n_per_arm: Option<u32>,
    /// Scenario key of the streams (0 for an ordinary run; see [`crate::sim::rng`]).
    pub scenario: u64,
}

/// Sums over replicates for one contrast.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct ContrastAcc {
    rejections: u64,
    valid: u64,
    sum_estimate: f64,
    /// Sum of squared estimates, for the Monte Carlo standard error of the bias.
    sum_sq_estimate: f64,
    sum_sq_error: f64,
    covered: u64,
    /// Sums of the arm means over replicates where both are finite.
    sum_treatment: f64,
    sum_control: f64,
    means: u64,
    /// Sums of the participants analysed (with a value) per arm, over replicates.
    analysed_treatment: u64,
    analysed_control: u64,
}

/// Sums over replicates of a whole run.
#[derive(Debug, Clone, PartialEq)]
struct Acc {
    replicates: u64,
    /// Per analysis: per contrast.
    contrasts: Vec<Vec<ContrastAcc>>,
    /// Per analysis: replicates with at least one rejection.
    any: Vec<u64>,
    flows: Vec<u64>,
    /// Replicates where the largest arm exceeded the capacity slots.
    over_capacity: u64,
    /// The queue for slots: [participants queued, of them who waited, months waited, Σ of
    /// each replicate's last intake month, of them who waited through the follow-up].
    queue: [u64; 5],
    /// The analysis of the cost model, if any, and its first contrast's estimate per replicate
    /// (in replicate order).
    cost_analysis: Option<usize>,
    estimates: Vec<f64>,
}

impl Acc {
    fn new(truth: &[Vec<ContrastTruth>], flows: usize) -> Self {
        Self {
            replicates: 0,
            contrasts: truth
                .iter()
                .map(|a| vec![ContrastAcc::default(); a.len()])
                .collect(),
            any: vec![0; truth.len()],
            flows: vec![0; flows],
            over_capacity: 0,
            queue: [0; 5],
            cost_analysis: None,
            estimates: Vec::new(),
        }
    }

    fn add_replicate(&mut self, plan: &PlanResult, truth: &[Vec<ContrastTruth>]) {
        self.replicates += 1;
        if let Some(a) = self.cost_analysis {
            let d = plan
                .analyses
                .get(a)
                .and_then(|r| r.contrasts.first())
                .map_or(f64::NAN, |c| c.difference);
            self.estimates.push(d);
        }
        for (ai, (res, tr)) in plan.analyses.iter().zip(truth).enumerate() {
            let mut any = false;
            for (acc, (c, t)) in self.contrasts[ai]
                .iter_mut()
                .zip(res.contrasts.iter().zip(tr))
            {
                acc.rejections += u64::from(c.reject);
                any |= c.reject;
                acc.analysed_treatment += c.treatment.n;
                acc.analysed_control += c.control.n;
                if c.treatment.mean.is_finite() && c.control.mean.is_finite() {
                    acc.sum_treatment += c.treatment.mean;
                    acc.sum_control += c.control.mean;
                    acc.means += 1;
                }
                if c.difference.is_finite() {
                    acc.valid += 1;
                    acc.sum_estimate += c.difference;
                    acc.sum_sq_estimate += c.difference * c.difference;
                    if let Some(te) = t.effect {
                        acc.sum_sq_error += (c.difference - te) * (c.difference - te);
                        acc.covered += u64::from(c.ci.0 <= te && te <= c.ci.1);
                    }
                }
            }
            self.any[ai] += u64::from(any);
        }
    }

    fn merge(&mut self, other: &Self) {
        self.replicates += other.replicates;
        for (a, b) in self.contrasts.iter_mut().zip(&other.contrasts) {
            for (x, y) in a.iter_mut().zip(b) {
                x.rejections += y.rejections;
                x.valid += y.valid;
                x.sum_estimate += y.sum_estimate;
                x.sum_sq_estimate += y.sum_sq_estimate;
                x.sum_sq_error += y.sum_sq_error;
                x.covered += y.covered;
                x.sum_treatment += y.sum_treatment;
                x.sum_control += y.sum_control;
                x.means += y.means;
                x.analysed_treatment += y.analysed_treatment;
                x.analysed_control += y.analysed_control;
            }
        }
        for (a, b) in self.any.iter_mut().zip(&other.any) {
            *a += b;
        }
        for (a, b) in self.flows.iter_mut().zip(&other.flows) {
            *a += b;
        }
        self.over_capacity += other.over_capacity;
        for (a, b) in self.queue.iter_mut().zip(other.queue) {
            *a += b;
        }
        self.estimates.extend_from_slice(&other.estimates);
    }
}

/// The exact truth behind one contrast.
#[derive(Debug, Clone, PartialEq)]
struct ContrastTruth {
    outcome: usize,
    subgroup: Option<(usize, usize)>,
    treatment_mean: Option<f64>,
    control_mean: Option<f64>,
    treatment_sd: Option<f64>,
    control_sd: Option<f64>,
    effect: Option<f64>,
    /// Monte Carlo standard error of `effect` when it comes from simulation (0 when exact).
    effect_mc_se: f64,
    /// Whether `effect` was simulated (no exact form for this design).
    simulated: bool,
}

/// The true arm means and effect of every contrast: exact where [`Simulator::expected`] computes
/// them, otherwise simulated from many replicates of the design ([`Simulator::simulated_moments`]),
/// enough that the estimand's own Monte Carlo error stays well below the bias' over `replicates`.
/// The estimand is that of the full data: loss to follow-up hides outcomes after they are
/// drawn, so where the truth is simulated it is simulated without the loss (`options` are the
/// simulator's).
fn truths(sim: &Simulator<'_>, replicates: u64, options: SimOptions) -> Vec<Vec<ContrastTruth>> {
    let mut all = exact_truths(sim);
    let mut wanted = Vec::new();
    for (ai, contrasts) in all.iter().enumerate() {
        let a = &sim.model().analyses[ai];
        for t in contrasts.iter().filter(|t| t.effect.is_none()) {
            wanted.push((a.treatment, t.outcome, t.subgroup));
            wanted.push((a.control, t.outcome, t.subgroup));
        }
    }
    if wanted.is_empty() {
        return all;
    }
    // The bias' MC SE over R replicates of n people is about sd / √(R·n); the estimand's is
    // about sd / √P over P pooled people, a third of it at P = 9·R·n (within the bounds).
    let per_replicate = sim.participants_per_replicate().max(1);
    let participants = replicates
        .saturating_mul(per_replicate)
        .saturating_mul(9)
        .clamp(200_000, 20_000_000);
    let lossless = sim
        .model()
        .arms
        .iter()
        .any(|a| a.lost_to_follow_up.is_some())
        .then(|| {
            let mut full = sim.model().clone();
            for arm in &mut full.arms {
                arm.lost_to_follow_up = None;
            }
            full
        });
    let full_sim = lossless
        .as_ref()
        .and_then(|m| Simulator::new(m, options).ok());
    let moments = full_sim
        .as_ref()
        .unwrap_or(sim)
        .simulated_moments(&wanted, participants);
    let mut next = moments.chunks(2);
    for contrasts in &mut all {
        for t in contrasts.iter_mut().filter(|t| t.effect.is_none()) {
            let Some([tm, cm]) = next.next() else {
                continue;
            };
            if let (Some(tm), Some(cm)) = (tm, cm) {
                t.treatment_mean = Some(tm.mean);
                t.control_mean = Some(cm.mean);
                t.treatment_sd = Some(tm.variance.sqrt());
                t.control_sd = Some(cm.variance.sqrt());
                t.effect = Some(tm.mean - cm.mean);
                t.effect_mc_se = tm.mc_se.hypot(cm.mc_se);
                t.simulated = true;
            }
        }
    }
    all
}

fn exact_truths(sim: &Simulator<'_>) -> Vec<Vec<ContrastTruth>> {
    let model = sim.model();
    model
        .analyses
        .iter()
        .map(|a| {
            let mut v = Vec::new();
            for &o in &a.outcomes {
                let groups: Vec<Option<(usize, usize)>> = match a.within {
                    Some(var) => a.levels.iter().map(|&l| Some((var, l))).collect(),
                    None => vec![None],
                };
                for g in groups {
                    let t = sim.expected(a.treatment, o, g);
                    let c = sim.expected(a.control, o, g);
                    v.push(ContrastTruth {
                        outcome: o,
                        subgroup: g,
                        treatment_mean: t.map(|m| m.mean),
                        control_mean: c.map(|m| m.mean),
                        treatment_sd: t.map(|m| m.variance.sqrt()),
                        control_sd: c.map(|m| m.variance.sqrt()),
                        effect: t.zip(c).map(|(t, c)| t.mean - c.mean),
                        effect_mc_se: 0.0,
                        simulated: false,
                    });
                }
            }
            v
        })
        .collect()
}

/// The plan's result for every replicate, in replicate order: the same replicates
/// [`run_power`] aggregates (for inspection and for tests of reproducibility).
pub fn replicate_results(
    model: &TrialModel,
    settings: &PowerSettings,
) -> Result<Vec<PlanResult>, SimError> {
    validate(settings)?;
    let sim = Simulator::new(
        model,
        SimOptions {
            n_per_arm: settings.n_per_arm,
            lean: true,
        },
    )?;
    let parts = simulate_chunks(&sim, settings, Vec::new, |plans, w, _| {
        let mut plan = PlanResult::default();
        run_plan_into(model, &w.table, &mut plan);
        plans.push(plan);
    });
    Ok(parts.into_iter().flatten().collect())
}

/// Simulates replicates `0..settings.replicates` with `sim` on all cores, each from its own
/// stream (`replicate_rng(seed, scenario, r)`), in chunks of [`CHUNK`]: `each(acc, worker, r)`
/// reads replicate `r`'s simulated trial into its chunk's accumulator, which `init` makes. The
/// accumulators come back in chunk order, so a fold over them in that order gives the same
/// figures on any number of threads.
pub fn simulate_chunks<A: Send>(
    sim: &Simulator<'_>,
    settings: &PowerSettings,
    init: impl Fn() -> A + Sync,
    each: impl Fn(&mut A, &Worker, u64) + Sync,
) -> Vec<A> {
    (0..settings.replicates.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut w = sim.worker();
            let mut acc = init();
            let first = c * CHUNK;
            for r in first..(first + CHUNK).min(settings.replicates) {
                let mut rng = replicate_rng(settings.seed, settings.scenario, r);
                sim.simulate(&mut w, &mut rng);
                each(&mut acc, &w, r);
            }
            acc
        })
        .collect()
}

/// Checks settings a user controls.
pub fn validate(settings: &PowerSettings) -> Result<(), SimError> {
    if settings.replicates == 0 || settings.replicates > MAX_REPLICATES {
        return Err(SimError(format!(
            "--reps must be between 1 and {MAX_REPLICATES}, not {}",
            settings.replicates
        )));
    }
    if settings.n_per_arm == Some(0) {
        return Err(SimError("--n-per-arm must be at least 1".into()));
    }
    Ok(())
}

fn run_chunk(
    sim: &Simulator<'_>,
    truth: &[Vec<ContrastTruth>],
    settings: &PowerSettings,
    chunk: u64,
    slots: Option<u64>,
) -> Acc {
    let layout = sim.flow_layout();
    let mut acc = Acc::new(truth, layout.len);
    acc.cost_analysis = sim.model().delivery.costs.as_ref().map(|c| c.analysis);
    let mut w = sim.worker();
    let mut plan = PlanResult::default();
    let first = chunk * CHUNK;
    let last = (first + CHUNK).min(settings.replicates);
    for r in first..last {
        let mut rng = replicate_rng(settings.seed, settings.scenario, r);
        sim.simulate(&mut w, &mut rng);
        run_plan_into_with(sim.model(), &w.table, &mut plan, Detail::Decisions);
        acc.add_replicate(&plan, truth);
        for (a, b) in acc.flows.iter_mut().zip(&w.flows) {
            *a += b;
        }
        if let Some(slots) = slots {
            let o = layout.arm(sim.model().capacity_arm());
            let intake = w.flows[o + counter::N] - w.flows[o + counter::DROPOUT];
            acc.over_capacity += u64::from(intake > slots);
            if sim.queue.is_some() {
                let q = &w.queue;
                acc.queue[0] += q.taken();
                acc.queue[1] += q.waited;
                acc.queue[2] += q.wait_months;
                acc.queue[3] += u64::from(q.last_intake);
                acc.queue[4] += q.never;
            }
        }
    }
    acc
}

/// What a shard puts in place of another shard's chunk `c`: no rejections, no estimates, but the
/// chunk's replicate count, so that the run goes on exactly as a whole one would (its report
/// is not shown; the merge reads the real chunk back).
fn filler(
    sim: &Simulator<'_>,
    truth: &[Vec<ContrastTruth>],
    settings: &PowerSettings,
    chunk: u64,
) -> Acc {
    let mut acc = Acc::new(truth, sim.flow_layout().len);
    let first = chunk * CHUNK;
    acc.replicates = (first + CHUNK).min(settings.replicates) - first;
    if sim.model().delivery.costs.is_some() {
        acc.estimates = vec![f64::NAN; usize::try_from(acc.replicates).unwrap_or(0)];
    }
    acc
}

/// Most analyses, contrasts per analysis, flow counters and estimates a chunk read back from a
/// part file may hold (a bound against a corrupt file, far above any spec's).
const WORDS_LIMIT: usize = 1 << 24;

impl Words for Acc {
    fn put(&self, out: &mut Vec<u64>) {
        out.push(self.replicates);
        out.push(self.contrasts.len() as u64);
        for a in &self.contrasts {
            out.push(a.len() as u64);
            for c in a {
                out.extend([
                    c.rejections,
                    c.valid,
                    c.sum_estimate.to_bits(),
                    c.sum_sq_estimate.to_bits(),
                    c.sum_sq_error.to_bits(),
                    c.covered,
                    c.sum_treatment.to_bits(),
                    c.sum_control.to_bits(),
                    c.means,
                    c.analysed_treatment,
                    c.analysed_control,
                ]);
            }
        }
        for list in [&self.any, &self.flows] {
            out.push(list.len() as u64);
            out.extend_from_slice(list);
        }
        out.push(self.over_capacity);
        out.extend(self.queue);
        out.push(self.estimates.len() as u64);
        out.extend(self.estimates.iter().map(|e| e.to_bits()));
    }

    fn take(words: &mut &[u64]) -> Option<Self> {
        let count = |words: &mut &[u64]| {
            word(words)
                .and_then(|n| usize::try_from(n).ok())
                .filter(|&n| n <= WORDS_LIMIT)
        };
        let replicates = word(words)?;
        let mut contrasts = Vec::new();
        for _ in 0..count(words)? {
            let mut a = Vec::new();
            for _ in 0..count(words)? {
                let mut f = || word(words);
                a.push(ContrastAcc {
                    rejections: f()?,
                    valid: f()?,
                    sum_estimate: f64::from_bits(f()?),
                    sum_sq_estimate: f64::from_bits(f()?),
                    sum_sq_error: f64::from_bits(f()?),
                    covered: f()?,
                    sum_treatment: f64::from_bits(f()?),
                    sum_control: f64::from_bits(f()?),
                    means: f()?,
                    analysed_treatment: f()?,
                    analysed_control: f()?,
                });
            }
            contrasts.push(a);
        }
        let any = word_list(words, WORDS_LIMIT)?;
        let flows = word_list(words, WORDS_LIMIT)?;
        let over_capacity = word(words)?;
        let mut queue = [0; 5];
        for q in &mut queue {
            *q = word(words)?;
        }
        let estimates = word_list(words, WORDS_LIMIT)?
            .into_iter()
            .map(f64::from_bits)
            .collect();
        Some(Self {
            replicates,
            contrasts,
            any,
            flows,
            over_capacity,
            queue,
            cost_analysis: None,
            estimates,
        })
    }

    fn fits(&self, filler: &Self) -> bool {
        self.replicates == filler.replicates
            && self.contrasts.len() == filler.contrasts.len()
            && self
                .contrasts
                .iter()
                .zip(&filler.contrasts)
                .all(|(a, b)| a.len() == b.len())
            && self.any.len() == filler.any.len()
            && self.flows.len() == filler.flows.len()
            && self.estimates.len() == filler.estimates.len()
    }
}

/// Simulates `settings.replicates` replicates of `model` and aggregates them into a report.
/// `progress` is called with the number of replicates done after each batch.
pub fn run_power(
    model: &TrialModel,
    settings: &PowerSettings,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<PowerReport, SimError> {
    run_power_until(model, settings, progress, &AtomicBool::new(false))
}

/// [`run_power`] that stops early once `cancel` is set (by a Ctrl-C handler): the flag is read
/// between batches of chunks, so the report then covers the first k batches of replicates, in
/// order — the same figures a run of exactly that many replicates gives — with
/// [`PowerReport::interrupted`] set and the expectations left unevaluated.
pub fn run_power_until(
    model: &TrialModel,
    settings: &PowerSettings,
    progress: &(dyn Fn(u64) + Sync),
    cancel: &AtomicBool,
) -> Result<PowerReport, SimError> {
    validate(settings)?;
    // A design without a sample or a pool is simulated at the size its expectations name.
    let mut settings = *settings;
    if settings.n_per_arm.is_none() && model.sample.is_none() && model.population.pool.is_none() {
        let mut sizes: Vec<u32> = model
            .expectations
            .iter()
            .filter_map(|e| e.n_per_arm)
            .collect();
        sizes.sort_unstable();
        sizes.dedup();
        if let [n] = sizes[..] {
            settings.n_per_arm = Some(n);
        }
    }
    let settings = &settings;
    let sim = Simulator::new(
        model,
        SimOptions {
            n_per_arm: settings.n_per_arm,
            lean: true,
        },
    )?;
    let truth = truths(
        &sim,
        settings.replicates,
        SimOptions {
            n_per_arm: settings.n_per_arm,
            lean: true,
        },
    );
    let slots = model
        .assignment
        .capacity
        .as_ref()
        .map(|c| u64::from(c.staff) * u64::from(c.caseload));
    let mut total = Acc::new(&truth, sim.flow_layout().len);
    let chunks = settings.replicates.div_ceil(CHUNK);
    // A sharded run computes some chunks here and reads the others back at the merge.
    let fold = Fold::begin("power", chunks);
    let mut next = 0;
    while next < chunks {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        let end = (next + BATCH_CHUNKS).min(chunks);
        let parts: Vec<Acc> = (next..end)
            .into_par_iter()
            .map(|c| {
                fold.value(
                    c,
                    || run_chunk(&sim, &truth, settings, c, slots),
                    || filler(&sim, &truth, settings, c),
                )
            })
            .collect();
        for p in &parts {
            total.merge(p);
        }
        next = end;
        progress(total.replicates);
    }
    if total.replicates == 0 {
        return Err(SimError("interrupted before any replicate was done".into()));
    }
    let mut report = build_report(&sim, &truth, settings, &total, slots);
    if total.replicates < settings.replicates {
        report.interrupted = true;
        report.passed = false;
        return Ok(report);
    }
    // Expectations at another sample size run again, with the same seed.
    for (ei, e) in model.expectations.iter().enumerate() {
        let same = match (e.n_per_arm, sim.fixed_sample()) {
            (None, _) => true,
            (Some(n), Some(sizes)) => sizes.iter().all(|&s| s == n),
            (Some(_), None) => false,
        };
        let source = if same {
            None
        } else {
            let again = PowerSettings {
                n_per_arm: e.n_per_arm,
                ..*settings
            };
            let again = run_power_until(
                &TrialModel {
                    expectations: Vec::new(),
                    ..model.clone()
                },
                &again,
                &|_| {},
                cancel,
            );
            match again {
                Ok(r) if !r.interrupted => Some(r),
                // Stopped during an expectation's own run: report what the main run did.
                _ if cancel.load(Ordering::Relaxed) => {
                    report.interrupted = true;
                    report.passed = false;
                    report.expectations.clear();
                    return Ok(report);
                }
                Ok(r) => Some(r),
                Err(e) => return Err(e),
            }
        };
        let from = source.as_ref().unwrap_or(&report);
        let verdict = expectation(model, ei, from);
        report.expectations.push(verdict);
    }
    report.passed = report.expectations.iter().all(|e| e.passed);
    Ok(report)
}

fn expectation(model: &TrialModel, ei: usize, from: &PowerReport) -> ExpectationResult {
    let e = &model.expectations[ei];
    let analysis = model
        .analyses
        .get(e.analysis)
        .map_or_else(String::new, |a| a.name.clone());
    let first = from
        .analyses
        .get(e.analysis)
        .and_then(|a| a.contrasts.first());
    let (estimate, mc_se, interval) = match (e.metric, first) {
        (Metric::Power, Some(c)) => (Some(c.power), Some(c.mc_se), Some(c.power_ci)),
        (Metric::Coverage, Some(c)) => (c.coverage, c.coverage_mc_se, c.coverage_ci),
        (_, None) => (None, None, None),
    };
    let exact = match (e.metric, first) {
        (Metric::Power, Some(c)) => c.exact_power,
        _ => None,
    };
    let (verdict, judged_on) = judge(e.op, e.value, exact, estimate, mc_se, interval);
    let note = match (exact, judged_on) {
        (Some(x), Judgement::Simulation) => Some(format!(
            "the exact value {x:.4} disagrees with the simulation by more than 4 MC SE, so the \
             simulation decides (the exact figure assumes two independent binomial arms)"
        )),
        _ => None,
    };
    let passed = verdict != Verdict::NotMet;
    let metric = match e.metric {
        Metric::Power => "power",
        Metric::Coverage => "coverage",
    };
    // `power(analysis)` and `coverage(analysis)` speak of the analysis' first contrast.
    let several = from
        .analyses
        .get(e.analysis)
        .is_some_and(|a| a.contrasts.len() > 1);
    let contrast = first.filter(|_| several).map(|c| match &c.subgroup {
        Some(g) => format!(
            "{} [{}]",
            c.outcome,
            crate::model::subgroup_label(&g.variable, &g.level)
        ),
        None => c.outcome.clone(),
    });
    let n_text = e
        .n_per_arm
        .map_or_else(String::new, |n| format!(" at {n} per arm"));
    ExpectationResult {
        text: format!(
            "{metric}({analysis}) {} {}%{n_text}",
            op_text(e.op),
            fmt_pct(e.value)
        ),
        analysis,
        contrast,
        metric: metric.into(),
        op: op_text(e.op).into(),
        value: e.value,
        n_per_arm: e.n_per_arm,
        estimate,
        mc_se,
        interval,
        exact,
        verdict,
        judged_on,
        note,
        passed,
    }
}

/// Judges `quantity <op> bound`. Where the exact value is known and agrees with the simulation
/// (within 4 Monte Carlo standard errors) it decides, free of Monte Carlo noise; an exact value
/// the simulation contradicts rests on an assumption the model breaks, so it is not used.
/// Otherwise the simulated estimate decides only when its whole 95 % Wilson interval lies on one
/// side of the bound; an interval that straddles the bound is undecided, because more replicates
/// could still turn the verdict either way. The Wilson interval keeps a width where the estimate
/// is 0 or 1 and the binomial standard error is 0.
fn judge(
    op: Comparison,
    bound: f64,
    exact: Option<f64>,
    estimate: Option<f64>,
    mc_se: Option<f64>,
    interval: Option<(f64, f64)>,
) -> (Verdict, Judgement) {
    // The standard error for the agreement check: never below the Wilson interval's, so an
    // estimate of exactly 0 or 1 does not reject an exact value next to it.
    let se = match (mc_se, interval) {
        (Some(se), Some((lo, hi))) => Some(se.max((hi - lo) / (2.0 * 1.959_963_984_540_054))),
        (se, _) => se,
    };
    let agrees = |x: f64| match (estimate, se) {
        (Some(est), Some(se)) => (est - x).abs() <= 4.0 * se,
        _ => true,
    };
    if let Some(x) = exact.filter(|&x| agrees(x)) {
        let verdict = if op.holds(x, bound) {
            Verdict::Met
        } else {
            Verdict::NotMet
        };
        return (verdict, Judgement::Exact);
    }
    let Some(x) = estimate else {
        return (Verdict::NotMet, Judgement::Simulation);
    };
    let (low, high) = interval.unwrap_or((x, x));
    let verdict = match (op.holds(low, bound), op.holds(high, bound)) {
        (true, true) => Verdict::Met,
        (false, false) => Verdict::NotMet,
        _ => Verdict::Undecided,
    };
    (verdict, Judgement::Simulation)
}

fn fmt_pct(x: f64) -> String {
    let s = format!("{:.2}", 100.0 * x);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn op_text(op: Comparison) -> &'static str {
    match op {
        Comparison::Lt => "<",
        Comparison::Le => "<=",
        Comparison::Gt => ">",
        Comparison::Ge => ">=",
        Comparison::Eq => "==",
    }
}

/// Wilson score interval for a binomial proportion at 95 % ([`crate::stats::intervals::wilson`]).
pub fn wilson(successes: u64, n: u64) -> (f64, f64) {
    crate::stats::intervals::wilson(successes, n, 0.95)
}

fn binomial_se(successes: u64, n: u64) -> f64 {
    if n == 0 {
        return f64::NAN;
    }
    let p = successes as f64 / n as f64;
    (p * (1.0 - p) / n as f64).sqrt()
}

fn build_report(
    sim: &Simulator<'_>,
    truth: &[Vec<ContrastTruth>],
    settings: &PowerSettings,
    acc: &Acc,
    slots: Option<u64>,
) -> PowerReport {
    let model = sim.model();
    let r = acc.replicates;
    let fixed = sim.fixed_sample().map(<[u32]>::to_vec);
    let n_per_arm = fixed
        .as_ref()
        .and_then(|v| v.first().filter(|&&n| v.iter().all(|&m| m == n)).copied());
    let mut analyses = Vec::with_capacity(model.analyses.len());
    for (ai, a) in model.analyses.iter().enumerate() {
        let mut contrasts = Vec::new();
        for (c, t) in acc.contrasts[ai].iter().zip(&truth[ai]) {
            let power = c.rejections as f64 / r as f64;
            let valid = c.valid.max(1) as f64;
            let mean_estimate = (c.valid > 0).then(|| c.sum_estimate / valid);
            // sd(estimate) / sqrt(valid), from the sums folded in replicate order.
            // sd(estimate) / sqrt(valid), and the simulated estimand's own error beside it.
            let bias_mc_se = (c.valid > 1 && t.effect.is_some()).then(|| {
                let n = c.valid as f64;
                let var = ((c.sum_sq_estimate - c.sum_estimate * c.sum_estimate / n) / (n - 1.0))
                    .max(0.0);
                (var / n).sqrt().hypot(t.effect_mc_se)
            });
            let (bias, rmse, coverage, coverage_mc_se, coverage_ci) =
                match (t.effect, mean_estimate) {
                    (Some(te), Some(m)) => (
                        Some(m - te),
                        Some((c.sum_sq_error / valid).sqrt()),
                        Some(c.covered as f64 / valid),
                        Some(binomial_se(c.covered, c.valid)),
                        Some(wilson(c.covered, c.valid)),
                    ),
                    _ => (None, None, None, None, None),
                };
            // A subgroup's arms are random parts of the arms, so the whole arm's binomial law
            // does not describe it; nor does it describe arms whose outcomes go missing (the
            // numbers analysed vary, and with outcome-dependent loss the means change). The
            // binomial figures also need exact proportions and independent participants: not
            // where the estimand had to be simulated (exits, inflow, clusters, a queue).
            let lost = model.loses_outcomes(a);
            let single = truth[ai].len() == 1 && t.subgroup.is_none() && !t.simulated && !lost;
            // Where the rule lets the arm sizes vary (parity, blocks), the exact figures average
            // over their law, so that they mean what the simulation means.
            let law = sim.arm_size_law(a.treatment, a.control);
            let planned = fixed.as_ref().and_then(|sizes| {
                Some(vec![(
                    *sizes.get(a.treatment)?,
                    *sizes.get(a.control)?,
                    1.0,
                )])
            });
            let (closed_form_power, exact_power) = match (&law, single) {
                (Some(law), true) => closed_forms(a, t, law, model),
                _ => (None, None),
            };
            let exact_power_at_planned_sizes = match (&planned, single) {
                (Some(p), true) if sim.arm_sizes_vary() => closed_forms(a, t, p, model).1,
                _ => None,
            };
            // Exact coverage of the Newcombe interval: two whole arms, binary.
            let exact_coverage = match (&law, t.subgroup, t.treatment_mean, t.control_mean) {
                (Some(law), None, Some(p_t), Some(p_c))
                    if model.outcomes[t.outcome].is_binary()
                        && a.test != TestKind::ClusterT
                        && !a.test.is_regression()
                        && !t.simulated
                        && !lost =>
                {
                    average_over(law, |nt, nc| {
                        Some(newcombe_exact_coverage(
                            p_c,
                            p_t,
                            u64::from(nc),
                            u64::from(nt),
                            crate::analysis::CONFIDENCE,
                        ))
                    })
                    .filter(|x| x.is_finite())
                }
                _ => None,
            };
            let subgroup = t.subgroup.map(|(v, l)| {
                let var = &model.population.variables[v];
                let level = var
                    .levels()
                    .and_then(|ls| ls.get(l))
                    .map_or_else(|| l.to_string(), |x| x.name.clone());
                SubgroupRef {
                    variable: var.name.clone(),
                    level,
                }
            });
            contrasts.push(ContrastReport {
                outcome: model.outcomes[t.outcome].name.clone(),
                subgroup,
                power,
                mc_se: binomial_se(c.rejections, r),
                power_ci: wilson(c.rejections, r),
                mean_estimate,
                true_effect: t.effect,
                truth: if t.simulated { "simulated" } else { "exact" },
                true_effect_mc_se: t.simulated.then_some(t.effect_mc_se),
                true_treatment: t.treatment_mean,
                true_control: t.control_mean,
                bias,
                bias_mc_se,
                rmse,
                coverage,
                coverage_mc_se,
                coverage_ci,
                exact_coverage,
                valid_replicates: c.valid,
                closed_form_power,
                exact_power,
                exact_power_at_planned_sizes,
                sample_estimand: None,
                mean_treatment: (c.means > 0).then(|| c.sum_treatment / c.means as f64),
                mean_control: (c.means > 0).then(|| c.sum_control / c.means as f64),
                analysed: lost.then(|| {
                    let size = |arm: usize| {
                        let n = acc.flows[sim.flow_layout().arm(arm) + counter::N];
                        n as f64 / r as f64
                    };
                    Analysed {
                        missing: a.missing_handling(),
                        treatment: c.analysed_treatment as f64 / r as f64,
                        control: c.analysed_control as f64 / r as f64,
                        treatment_size: size(a.treatment),
                        control_size: size(a.control),
                    }
                }),
            });
        }
        let first = contrasts.first();
        analyses.push(AnalysisReport {
            name: a.name.clone(),
            power: first.map_or(f64::NAN, |c| c.power),
            mc_se: first.map_or(f64::NAN, |c| c.mc_se),
            power_ci: first.map_or((0.0, 1.0), |c| c.power_ci),
            closed_form_power: first.and_then(|c| c.closed_form_power),
            exact_power: first.and_then(|c| c.exact_power),
            any_power: acc.any[ai] as f64 / r as f64,
            any_mc_se: binomial_se(acc.any[ai], r),
            test: a.test,
            sides: a.sides,
            alpha: a.alpha,
            correction: a.correction,
            contrasts,
            means: a
                .outcomes
                .first()
                .and_then(|&o| model.outcomes.get(o))
                .is_some_and(|o| !o.is_binary()),
            primary: model.primary == Some(ai),
            per_outcome: a
                .per_outcome
                .iter()
                .map(|&(o, t, s)| (model.outcomes[o].name.clone(), t, s))
                .collect(),
            regression: a.test.is_regression().then(|| RegressionPlan {
                method: a.adjust.as_ref().map_or("none", |x| x.method.name()),
                covariates: a
                    .adjust
                    .iter()
                    .flat_map(|x| &x.covariates)
                    .filter_map(|&v| model.population.variables.get(v))
                    .map(|v| v.name.clone())
                    .collect(),
                se_type: if a.test == TestKind::Cr2 {
                    "CR2"
                } else {
                    "HC2"
                },
                binary: a
                    .outcomes
                    .first()
                    .and_then(|&o| model.outcomes.get(o))
                    .is_none_or(|o| o.is_binary()),
            }),
            weighted_on: if a.missing == Some(crate::model::MissingHandling::Ipw) {
                a.missing_covariates
                    .iter()
                    .filter_map(|&v| model.population.variables.get(v))
                    .map(|v| v.name.clone())
                    .collect()
            } else {
                Vec::new()
            },
        });
    }
    PowerReport {
        spec: model.name.clone(),
        seed: settings.seed,
        replicates: r,
        generator: GENERATOR.into(),
        n_per_arm,
        arm_sizes: fixed,
        allocation: sim.allocation_name().into(),
        analyses,
        flows: flows_report(sim, acc, slots),
        economics: economics_report(sim, truth, acc),
        expectations: Vec::new(),
        passed: true,
        interrupted: false,
        sequential: Vec::new(),
        imbalance: None,
        lee_bounds: Vec::new(),
        compliers: Vec::new(),
    }
}

fn economics_report(
    sim: &Simulator<'_>,
    truth: &[Vec<ContrastTruth>],
    acc: &Acc,
) -> Option<EconomicsReport> {
    let model = sim.model();
    let costs = model.delivery.costs.as_ref()?;
    let analysis = model.analyses.get(costs.analysis)?;
    let treated = match sim.fixed_sample() {
        Some(sizes) => f64::from(*sizes.get(analysis.treatment)?),
        None => {
            let o = sim.flow_layout().arm(analysis.treatment);
            acc.flows[o + counter::N] as f64 / acc.replicates.max(1) as f64
        }
    };
    let finite: Vec<f64> = acc
        .estimates
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    let mean = finite.iter().sum::<f64>() / finite.len().max(1) as f64;
    let effect = truth
        .get(costs.analysis)
        .and_then(|t| t.first())
        .and_then(|t| t.effect)
        .unwrap_or(mean);
    Some(economics(
        costs,
        &analysis.name,
        treated,
        &acc.estimates,
        effect,
    ))
}

/// Whether an arm has an employment process: a work rate, baseline employment, or a crossover
/// into another arm's process.
fn has_employment(arm: &crate::model::Arm) -> bool {
    arm.baseline_employment > 0.0
        || arm.crossover.is_some()
        || arm
            .paths
            .iter()
            .any(|p| p.work.probability > 0.0 || p.work.by.is_some())
}

fn flows_report(sim: &Simulator<'_>, acc: &Acc, slots: Option<u64>) -> FlowsReport {
    let model = sim.model();
    let l: &FlowLayout = sim.flow_layout();
    let f = &acc.flows;
    let r = acc.replicates.max(1) as f64;
    let arms = model
        .arms
        .iter()
        .enumerate()
        .map(|(a, arm)| {
            let o = l.arm(a);
            let n = f[o + counter::N];
            let share = |k: u64, of: u64| if of == 0 { 0.0 } else { k as f64 / of as f64 };
            let stayed = n - f[o + counter::DROPOUT];
            ArmFlows {
                name: arm.name.clone(),
                mean_size: n as f64 / r,
                dropout: share(f[o + counter::DROPOUT], n),
                exempt: share(f[o + counter::EXEMPT], stayed),
                crossover: share(f[o + counter::CROSSOVER], stayed),
                non_work_exit: share(f[o + counter::NON_WORK_EXIT], n),
                baseline_employed: share(f[o + counter::BASELINE], n),
                lost_to_follow_up: arm.lost_to_follow_up.as_ref().map(|l| LostFlows {
                    by_month: l.by_month,
                    share: share(f[o + counter::LOST], n),
                }),
                paths: arm
                    .paths
                    .iter()
                    .enumerate()
                    .map(|(p, path)| PathFlows {
                        name: path.name.clone(),
                        planned_share: sim.path_share(a, p),
                        share: share(f[l.path(a, p)], stayed),
                    })
                    .collect(),
                // Arms without an employment process (outcomes declared directly) have no
                // employment figures to show.
                employment: if has_employment(arm) {
                    l.months
                        .iter()
                        .enumerate()
                        .map(|(k, &m)| EmploymentFlows {
                            month: m,
                            found_work_within: share(f[l.found_within(a, k)], n),
                            employed_at: share(f[l.employed_at(a, k)], n),
                        })
                        .collect()
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    let capacity = slots.map(|slots| {
        let arm = model.capacity_arm();
        let o = l.arm(arm);
        let intake = (f[o + counter::N] - f[o + counter::DROPOUT]) as f64 / r;
        let rate = model
            .assignment
            .capacity
            .as_ref()
            .and_then(|c| c.intakes_per_month);
        CapacityFlows {
            slots,
            arm: model.arms[arm].name.clone(),
            mean_intake: intake,
            over_capacity: acc.over_capacity as f64 / r,
            months_to_take_in: model.intake_months(intake),
            intakes_per_month: rate.filter(|&x| x > 0.0),
            queue: sim.queue.as_ref().map(|q| {
                let [taken, waited, months, last, never] = acc.queue.map(|x| x as f64);
                QueueFlows {
                    arm: model.arms[q.arm].name.clone(),
                    share_never_taken_in: if taken > 0.0 { never / taken } else { 0.0 },
                    share_waiting: if taken > 0.0 { waited / taken } else { 0.0 },
                    mean_wait_months: if taken > 0.0 { months / taken } else { 0.0 },
                    mean_last_intake_month: last / r,
                }
            }),
        }
    });
    FlowsReport {
        arms,
        capacity,
        top_up: model.assignment.top_up.clone(),
    }
}

/// Σ P(sizes) · f(n_treatment, n_control) over a law of arm sizes; an empty arm contributes
/// no rejection and no coverage (the analysis gives no result), so it counts as 0. `None` when
/// `f` has no value at some size with an arm that is not empty.
pub(crate) fn average_over(
    law: &[(u32, u32, f64)],
    mut f: impl FnMut(u32, u32) -> Option<f64>,
) -> Option<f64> {
    let mut total = 0.0;
    for &(nt, nc, p) in law {
        if nt == 0 || nc == 0 {
            continue;
        }
        total += p * f(nt, nc)?;
    }
    Some(total)
}

/// Closed-form (normal) and exact power of a whole-arm contrast, by the formula the analysis'
/// test calls for ([`crate::analysis::power`]), averaged over the law of the arm sizes
/// `(n_treatment, n_control, probability)` (one term when the sizes are fixed).
fn closed_forms(
    a: &crate::model::Analysis,
    t: &ContrastTruth,
    law: &[(u32, u32, f64)],
    model: &TrialModel,
) -> (Option<f64>, Option<f64>) {
    use crate::analysis::{Effect, closed_form_power, exact_power};
    let (Some(p_t), Some(p_c)) = (t.treatment_mean, t.control_mean) else {
        return (None, None);
    };
    let effect = if model.outcomes[t.outcome].is_binary() {
        Effect::Proportions { p_c, p_t }
    } else {
        let (Some(sd_t), Some(sd_c)) = (t.treatment_sd, t.control_sd) else {
            return (None, None);
        };
        Effect::Means {
            delta: p_t - p_c,
            sd_t,
            sd_c,
        }
    };
    (
        average_over(law, |nt, nc| {
            closed_form_power(a, effect, f64::from(nc), f64::from(nt))
        }),
        average_over(law, |nt, nc| {
            exact_power(a, effect, u64::from(nc), u64::from(nt))
        }),
    )
}

/// The power report. Its JSON form (`trialsim power --format json`) is a stable interface:
///
/// ```text
/// {
///   "spec": string,                 trial name
///   "seed": integer,                master seed
///   "replicates": integer,
///   "generator": string,            random generator and stream derivation
///   "n_per_arm": integer | null,    participants per arm when all arms have the same fixed size
///   "arm_sizes": [integer] | null,  fixed size per arm (model order); null when the pool decides
///   "allocation": "exact" | "parity" | "blocks",   how the rule splits that sample per replicate
///   "analyses": [{
///     "name": string,
///     "power", "mc_se": number,     power of the analysis' first contrast and its MC standard error
///     "power_ci": [lo, hi],         95 % Wilson interval of that power
///     "closed_form_power": number | null,   normal-approximation power (single contrast only)
///     "exact_power": number | null,         exact power under the binomial model (two proportions),
///                                           averaged over the arm sizes the rule gives
///     "any_power", "any_mc_se": number,     P(at least one contrast of the family rejects)
///     "regression": {"method", "covariates", "se_type", "binary"}   regression tests only
///     "test": "pooled_z" | "unpooled_z" | "fisher" | "welch_t" | "cluster_t"
///             | "robust_t" | "cr2" | "student_t",
///     "sides": "greater" | "less" | "two_sided", "alpha": number,
///     "correction": "none" | "holm" | "bonferroni",
///     "contrasts": [{
///       "outcome": string, "subgroup": {"variable", "level"} | null,
///       "power", "mc_se", "power_ci",
///       "mean_estimate": number | null,   mean estimated difference over valid replicates
///       "true_effect": number | null,     difference the model implies (the estimand)
///       "truth": "exact" | "simulated",   computed exactly, or (exits, inflow, clusters) as
///                                         the mean over many replicates of the design
///       "true_effect_mc_se": number,      its MC standard error, when simulated
///       "true_treatment", "true_control": number | null,   exact arm means
///       "bias", "rmse": number | null,
///       "bias_mc_se": number | null,      sd(estimate) / sqrt(valid_replicates)
///       "coverage", "coverage_mc_se": number | null,   share of 95 % CIs containing the truth
///       "coverage_ci": [lo, hi] | null,   95 % Wilson interval of the coverage
///       "exact_coverage": number | null,  exact Newcombe coverage (two proportions, fixed n,
///                                         no subgroup)
///       "valid_replicates": integer,      replicates where the difference could be estimated
///       "closed_form_power", "exact_power": number | null,
///       "sample_estimand": {"mean", "sd", "coverage", "coverage_mc_se", "replicates",
///                           "first_stage", "complier_effect"}
///                                         with `--sample-estimand` only: each replicate's mean of
///                                         Y(treatment) - Y(control) over its participants
///       "exact_power_at_planned_sizes": number,   only where the rule lets the sizes vary:
///                                         exact power at the planned sizes, fixed
///       "mean_treatment", "mean_control": number | null   simulated arm means, averaged
///       "analysed": {"missing": "complete_cases", "treatment", "control",
///                    "treatment_size", "control_size": number}
///                                         only when an arm loses outcomes to follow-up: the
///                                         handling of missing outcomes and the mean number
///                                         analysed (with a value) and assigned per arm
///     }]
///   }],
///   "flows": {
///     "arms": [{ "name", "mean_size", "dropout", "exempt", "crossover", "non_work_exit",
///                "baseline_employed",
///                "lost_to_follow_up": {"by_month", "share"}   only with `lost_to_follow_up`:
///                                   the share of the arm lost by the stated month,
///                "paths": [{"name", "planned_share", "share"}],
///                "employment": [{"month", "found_work_within", "employed_at"}] }],
///                                   empty for an arm without an employment process
///     "capacity": {"slots", "arm", "mean_intake", "over_capacity", "months_to_take_in",
///                  "intakes_per_month",
///                  "queue": {"arm", "share_waiting", "mean_wait_months", "share_never_taken_in",
///                            "mean_last_intake_month"} (with `clock from randomisation`)} | null,
///     "top_up": {"per_arm", "month", "excluded"} | null
///   },
///   "expectations": [{ "text", "analysis",
///                      "contrast": string | null,   the contrast judged when the analysis has
///                                                   several: power(analysis) and
///                                                   coverage(analysis) mean its FIRST contrast
///                      "metric": "power" | "coverage", "op", "value",
///                      "n_per_arm": integer | null, "estimate": number | null,
///                      "mc_se": number | null, "interval": [lo, hi] | null,
///                      "exact": number | null,
///                      "verdict": "met" | "not_met" | "undecided",
///                      "judged_on": "exact" | "simulation",
///                      "note": string | null,   why an exact value was set aside
///                      "passed": bool }],      false only when not met
///   "passed": bool,                 no expectation is contradicted (the exit code is 1 otherwise)
///   "economics": {                  with a `costs` block (see `crate::economics`), else null
///     "analysis", "treated", "cost", "break_even_effect", "effect", "extra_exits",
///     "cost_per_extra_exit", "net_saving", "effect_interval", "net_saving_interval",
///     "cost_per_extra_exit_interval", "p_break_even"
///   } | null,
///   "assurance": {...}              with beliefs (`assume` or `--assume`), added by the command
///                                   beside the report (`crate::report::power::json_with`): see
///                                   `crate::design::assurance::AssuranceReport`; absent otherwise
/// }
/// ```
///
/// Shares in `flows` are pooled over replicates: dropout, non-work exit, baseline employment and
/// the employment figures are shares of the arm; exemption, crossover and path shares are shares
/// of the arm's participants who did not drop out. "found_work_within" counts a job start in
/// months 1..=m, "employed_at" being in work in month m.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerReport {
    /// Trial name.
    pub spec: String,
    /// Master seed.
    pub seed: u64,
    /// Replicates run.
    pub replicates: u64,
    /// Generator and stream derivation.
    pub generator: String,
    /// Participants per arm, when all arms have the same fixed size.
    pub n_per_arm: Option<u32>,
    /// Fixed size per arm, when the sample is fixed.
    pub arm_sizes: Option<Vec<u32>>,
    /// How the rule splits a fixed sample over the arms in each replicate: `exact` (complete
    /// randomisation, clusters, a pool's funnel), `parity` (a fair coin per person) or
    /// `blocks` (permuted blocks within strata).
    pub allocation: String,
    /// One entry per analysis of the plan.
    pub analyses: Vec<AnalysisReport>,
    /// Realised flows.
    pub flows: FlowsReport,
    /// Verdicts on the spec's expectations.
    pub expectations: Vec<ExpectationResult>,
    /// Whether every expectation holds.
    pub passed: bool,
    /// The run was stopped (Ctrl-C) before all replicates were done: `replicates` says how many
    /// were, and the expectations were not evaluated. Present in JSON only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// Costs and savings, when the spec has a `costs` block.
    pub economics: Option<EconomicsReport>,
    /// The simulated looks of every analysis with interim looks (`power` fills it; left out of
    /// JSON when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sequential: Vec<crate::sequential::SequentialReport>,
    /// How often the balance audit flags a chance imbalance, when the spec states a `balance`
    /// block (`power` fills it; left out of JSON otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imbalance: Option<crate::imbalance::ImbalanceReport>,
    /// The simulated Lee bounds of every analysis that states `missing lee_bounds` (`power`
    /// fills it; left out of JSON when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lee_bounds: Vec<crate::bounds::AnalysisBounds>,
    /// The simulated complier effects of every analysis that states `estimate
    /// complier_effect` (`power` fills it; left out of JSON when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub compliers: Vec<crate::cace::AnalysisCompliers>,
}

/// Power of one analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisReport {
    /// Analysis name.
    pub name: String,
    /// Power of the first contrast.
    pub power: f64,
    /// Its Monte Carlo standard error.
    pub mc_se: f64,
    /// 95 % Wilson interval of the power.
    pub power_ci: (f64, f64),
    /// Normal-approximation power, where a closed form exists.
    pub closed_form_power: Option<f64>,
    /// Exact power under the binomial model, where it exists.
    pub exact_power: Option<f64>,
    /// Probability that at least one contrast rejects.
    pub any_power: f64,
    /// Its Monte Carlo standard error.
    pub any_mc_se: f64,
    /// The test.
    pub test: TestKind,
    /// The alternative.
    pub sides: Sides,
    /// Significance level.
    pub alpha: f64,
    /// The multiplicity correction across the analysis' contrasts.
    pub correction: crate::model::Correction,
    /// Per contrast.
    pub contrasts: Vec<ContrastReport>,
    /// Whether the analysis compares means (a continuous first outcome), so that its effects
    /// read in the outcome's own units rather than percentage points.
    #[serde(skip)]
    pub means: bool,
    /// Outcomes with their own test and sidedness (`test ... for OUTCOME`): (outcome, test,
    /// sides); `test` and `sides` above are the first outcome's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub per_outcome: Vec<(String, TestKind, Sides)>,
    /// Whether the spec marks this analysis `(primary)`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub primary: bool,
    /// For a regression test (`robust_t`, `cr2`): the adjustment and the outcome's kind; left
    /// out of the JSON otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regression: Option<RegressionPlan>,
    /// Under `missing ipw on ...`: the covariates of the model of being observed (the test is
    /// then the weighted difference's z test with the sandwich standard error); left out of the
    /// JSON otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub weighted_on: Vec<String>,
}

/// The regression an analysis runs on every replicate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegressionPlan {
    /// `lin`, `ancova`, or `none` (no covariates).
    pub method: &'static str,
    /// The covariates adjusted for.
    pub covariates: Vec<String>,
    /// `HC2` or `CR2`.
    pub se_type: &'static str,
    /// Whether the (first) outcome is binary, regressed as a linear probability model.
    pub binary: bool,
}

/// A subgroup level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubgroupRef {
    /// Variable name.
    pub variable: String,
    /// Level name.
    pub level: String,
}

/// Operating characteristics of one contrast.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContrastReport {
    /// Outcome name.
    pub outcome: String,
    /// Subgroup, if any.
    pub subgroup: Option<SubgroupRef>,
    /// Share of replicates rejecting H0 (after the family's correction).
    pub power: f64,
    /// Monte Carlo standard error of the power.
    pub mc_se: f64,
    /// 95 % Wilson interval of the power.
    pub power_ci: (f64, f64),
    /// Mean estimated difference.
    pub mean_estimate: Option<f64>,
    /// The difference the model implies: exact where it can be computed, otherwise the mean
    /// difference over many simulated replicates of the design.
    pub true_effect: Option<f64>,
    /// `exact` or `simulated`: how `true_effect` and the true arm means were found.
    pub truth: &'static str,
    /// Monte Carlo standard error of a simulated `true_effect`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub true_effect_mc_se: Option<f64>,
    /// Exact treatment-arm mean.
    pub true_treatment: Option<f64>,
    /// Exact control-arm mean.
    pub true_control: Option<f64>,
    /// Mean estimate minus the true effect.
    pub bias: Option<f64>,
    /// Monte Carlo standard error of the bias: sd(estimate) / √valid replicates.
    pub bias_mc_se: Option<f64>,
    /// Root mean squared error of the estimate.
    pub rmse: Option<f64>,
    /// Share of 95 % intervals containing the true effect.
    pub coverage: Option<f64>,
    /// Its Monte Carlo standard error.
    pub coverage_mc_se: Option<f64>,
    /// 95 % Wilson interval of the coverage.
    pub coverage_ci: Option<(f64, f64)>,
    /// Exact coverage of the 95 % Newcombe interval under the binomial model (two proportions,
    /// fixed arm sizes, no subgroup): what the simulated coverage estimates, which differs from
    /// the nominal 95 % in finite samples.
    pub exact_coverage: Option<f64>,
    /// Replicates with a finite estimate.
    pub valid_replicates: u64,
    /// Normal-approximation power.
    pub closed_form_power: Option<f64>,
    /// Exact power, averaged over the law of the arm sizes where the rule lets them vary.
    pub exact_power: Option<f64>,
    /// The sample estimand of each replicate (`power --sample-estimand`): see
    /// [`add_sample_estimands`]; absent from the JSON otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_estimand: Option<SampleEstimand>,
    /// Exact power at the planned arm sizes, where the rule lets the sizes vary (parity,
    /// blocks): the design's power at fixed sizes, beside `exact_power` under its rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact_power_at_planned_sizes: Option<f64>,
    /// Mean over replicates of the treatment arm's simulated mean (proportion).
    pub mean_treatment: Option<f64>,
    /// Mean over replicates of the control arm's simulated mean (proportion).
    pub mean_control: Option<f64>,
    /// With loss to follow-up in an arm of the contrast: how missing outcomes are handled and
    /// how many participants are analysed per arm on average (absent from the JSON otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysed: Option<Analysed>,
}

/// Participants analysed per arm when outcomes go missing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysed {
    /// The analysis' handling of missing outcomes.
    pub missing: crate::model::MissingHandling,
    /// Mean number with a value in the treatment arm.
    pub treatment: f64,
    /// Mean number with a value in the control arm.
    pub control: f64,
    /// Mean number assigned to the treatment arm.
    pub treatment_size: f64,
    /// Mean number assigned to the control arm.
    pub control_size: f64,
}

/// Loss to follow-up of one arm, as simulated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LostFlows {
    /// The month the spec's share refers to.
    pub by_month: u32,
    /// Share of the arm lost by that month.
    pub share: f64,
}

/// Realised flows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowsReport {
    /// Per arm.
    pub arms: Vec<ArmFlows>,
    /// Capacity, if declared.
    pub capacity: Option<CapacityFlows>,
    /// The top-up cohort, if declared: counted here, not simulated, since it is excluded from
    /// the analysis and each clock starts at its own intake.
    pub top_up: Option<crate::model::TopUp>,
}

/// Realised flows of one arm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArmFlows {
    /// Arm name.
    pub name: String,
    /// Mean number of participants.
    pub mean_size: f64,
    /// Share who dropped out before intake.
    pub dropout: f64,
    /// Share exempted (of those who did not drop out).
    pub exempt: f64,
    /// Share who crossed over (of those who did not drop out).
    pub crossover: f64,
    /// Share with a non-work exit within the follow-up.
    pub non_work_exit: f64,
    /// Share in work at intake.
    pub baseline_employed: f64,
    /// Share lost to follow-up by the spec's month, when the arm declares loss (absent from
    /// the JSON otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost_to_follow_up: Option<LostFlows>,
    /// Sub-path shares.
    pub paths: Vec<PathFlows>,
    /// Both employment quantities at each outcome month.
    pub employment: Vec<EmploymentFlows>,
}

/// Realised share of one sub-path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathFlows {
    /// Path name.
    pub name: String,
    /// Share in the spec (for shares that differ by a covariate's level, their average over
    /// the levels among the eligible).
    pub planned_share: f64,
    /// Realised share.
    pub share: f64,
}

/// "Found work within m" next to "employed at month m".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmploymentFlows {
    /// The month.
    pub month: u32,
    /// Share with a job start in months 1..=m.
    pub found_work_within: f64,
    /// Share in work in month m.
    pub employed_at: f64,
}

/// Intake capacity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacityFlows {
    /// Staff × caseload.
    pub slots: u64,
    /// The arm that takes the slots ([`TrialModel::capacity_arm`]).
    pub arm: String,
    /// Its mean size, without dropouts.
    pub mean_intake: f64,
    /// Share of replicates where that exceeds the slots.
    pub over_capacity: f64,
    /// Months to take it in at the declared intake rate
    /// ([`crate::design::feasibility::intake_months`]).
    pub months_to_take_in: Option<f64>,
    /// The declared intake rate, if any.
    pub intakes_per_month: Option<f64>,
    /// The simulated queue for slots, with the clock at randomisation (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueFlows>,
}

/// The queue for caseload slots, pooled over replicates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueFlows {
    /// The arm that takes the slots.
    pub arm: String,
    /// Share of its participants queued (dropouts aside) who waited for a slot or the rate.
    pub share_waiting: f64,
    /// Mean months from randomisation to intake (up to the horizon), over those queued.
    pub mean_wait_months: f64,
    /// Share of those queued who waited through the whole follow-up, never taken in.
    pub share_never_taken_in: f64,
    /// Mean (over replicates) of the month of the last intake.
    pub mean_last_intake_month: f64,
}

/// Whether an expectation holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It holds.
    Met,
    /// It does not hold.
    NotMet,
    /// The 95 % Wilson interval straddles the bound: more replicates are needed to tell.
    Undecided,
}

/// What an expectation's verdict rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Judgement {
    /// The exact value (no Monte Carlo error).
    Exact,
    /// The simulated estimate's 95 % Wilson interval.
    Simulation,
}

/// The verdict on one `expect`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpectationResult {
    /// The expectation as text.
    pub text: String,
    /// Analysis name.
    pub analysis: String,
    /// The contrast judged, when the analysis has several: `power(analysis)` and
    /// `coverage(analysis)` mean the analysis' first contrast.
    pub contrast: Option<String>,
    /// `power` or `coverage`.
    pub metric: String,
    /// Comparison operator.
    pub op: String,
    /// Bound.
    pub value: f64,
    /// Sample size at which it was evaluated.
    pub n_per_arm: Option<u32>,
    /// Simulated value.
    pub estimate: Option<f64>,
    /// Its Monte Carlo standard error.
    pub mc_se: Option<f64>,
    /// Its 95 % Wilson interval, on which a simulation verdict rests.
    pub interval: Option<(f64, f64)>,
    /// Exact value of the quantity, where one exists (power of two proportions).
    pub exact: Option<f64>,
    /// Whether the expectation is met.
    pub verdict: Verdict,
    /// What decided the verdict.
    pub judged_on: Judgement,
    /// Why the exact value was set aside, when it was.
    pub note: Option<String>,
    /// Whether it is not contradicted (met or undecided); the exit code is 1 otherwise.
    pub passed: bool,
}

/// The sample estimand of one contrast over the replicates of a run: in each replicate the mean,
/// over its participants (in the contrast's subgroup), of their outcome under the treatment arm
/// minus under the control arm, both drawn with common random numbers
/// ([`Simulator::simulate_potential`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SampleEstimand {
    /// Mean of the replicates' sample estimands (it estimates the population estimand).
    pub mean: f64,
    /// Their standard deviation across replicates.
    pub sd: f64,
    /// Share of replicates whose 95 % interval contains their own sample estimand.
    pub coverage: f64,
    /// Its Monte Carlo standard error.
    pub coverage_mc_se: f64,
    /// Replicates with both a sample estimand and an interval.
    pub replicates: u64,
    /// Mean over replicates of the share of participants who would receive the programme under
    /// treatment and not under control, D(treatment) − D(control) averaged (the first stage).
    pub first_stage: f64,
    /// The complier effect: the mean sample estimand over the mean first stage, the effect
    /// among compliers where monotonicity and the exclusion restriction hold (what the
    /// instrumental-variable estimate targets). Not read off the potential outcomes of the
    /// compliers directly: those are drawn with common random numbers, and which of a
    /// participant's draws decides receipt and which the outcome depends on the flows each arm
    /// declares, so principal strata read that way would carry an artefact of the draw order.
    /// Null when the first stage is 0.
    pub complier_effect: Option<f64>,
}

/// Runs the replicates of `settings` again with every participant's potential outcomes (the
/// same replicates: the same streams, the same tables) and adds each contrast's
/// [`SampleEstimand`] to `report`. Costs about one more simulation per arm; `Err` where
/// potential outcomes are not defined participant by participant (clusters, a queue).
pub fn add_sample_estimands(
    model: &TrialModel,
    settings: &PowerSettings,
    report: &mut PowerReport,
) -> Result<(), SimError> {
    let sim = Simulator::new(
        model,
        SimOptions {
            n_per_arm: settings.n_per_arm,
            lean: true,
        },
    )?;
    let replicates = report.replicates;
    let n_contrasts: usize = report.analyses.iter().map(|a| a.contrasts.len()).sum();
    let chunks = replicates.div_ceil(CHUNK);
    // Per contrast: [valid, Σ sate, Σ sate², covered, Σ first stage].
    let parts: Vec<Result<Vec<[f64; 5]>, SimError>> = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let mut w = sim.worker();
            let mut plan = PlanResult::default();
            let mut acc = vec![[0.0; 5]; n_contrasts];
            for r in c * CHUNK..((c + 1) * CHUNK).min(replicates) {
                let mut rng = replicate_rng(settings.seed, settings.scenario, r);
                sim.simulate_potential(&mut w, &mut rng)?;
                run_plan_into(model, &w.table, &mut plan);
                let mut k = 0;
                for (a, result) in model.analyses.iter().zip(&plan.analyses) {
                    let groups: Vec<Option<usize>> = match a.within {
                        Some(_) => a.levels.iter().map(|&l| Some(l)).collect(),
                        None => vec![None],
                    };
                    let keys = a
                        .outcomes
                        .iter()
                        .flat_map(|&o| groups.iter().map(move |&g| (o, g)));
                    for ((o, g), contrast) in keys.zip(&result.contrasts) {
                        let (mut n, mut sum) = (0.0, 0.0);
                        let mut first = 0.0;
                        for i in 0..w.table.len() {
                            if let (Some(v), Some(l)) = (a.within, g)
                                && !matches!(&w.table.covariates[v],
                                    crate::table::CovariateColumn::Categorical(col)
                                        if col.get(i).is_some_and(|&x| x as usize == l))
                            {
                                continue;
                            }
                            let d = sim.potential_outcome(&w, i, o, a.treatment)
                                - sim.potential_outcome(&w, i, o, a.control);
                            if d.is_finite() {
                                n += 1.0;
                                sum += d;
                                let (dt, dc) = (
                                    sim.potential_receipt(&w, i, a.treatment),
                                    sim.potential_receipt(&w, i, a.control),
                                );
                                first += f64::from(u8::from(dt)) - f64::from(u8::from(dc));
                            }
                        }
                        let (lo, hi) = contrast.ci;
                        if n > 0.0 && lo.is_finite() && hi.is_finite() {
                            let sate = sum / n;
                            let x = &mut acc[k];
                            x[0] += 1.0;
                            x[1] += sate;
                            x[2] += sate * sate;
                            x[3] += f64::from(u8::from(lo <= sate && sate <= hi));
                            x[4] += first / n;
                        }
                        k += 1;
                    }
                }
            }
            Ok(acc)
        })
        .collect();
    let mut total = vec![[0.0; 5]; n_contrasts];
    for part in parts {
        for (t, p) in total.iter_mut().zip(part?) {
            for (x, y) in t.iter_mut().zip(p) {
                *x += y;
            }
        }
    }
    let mut k = 0;
    for a in &mut report.analyses {
        for c in &mut a.contrasts {
            let [n, sum, sum_sq, covered, first] = total[k];
            k += 1;
            if n < 2.0 {
                continue;
            }
            let mean = sum / n;
            let coverage = covered / n;
            c.sample_estimand = Some(SampleEstimand {
                mean,
                sd: ((sum_sq - n * mean * mean) / (n - 1.0)).max(0.0).sqrt(),
                coverage,
                coverage_mc_se: (coverage * (1.0 - coverage) / n).sqrt(),
                replicates: n as u64,
                first_stage: first / n,
                complier_effect: (first.abs() > 0.0).then(|| sum / first),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exact_value_decides_only_where_the_simulation_agrees() {
        // `power >= bound`, exact value `exact`, simulated `estimate` with MC SE `se`.
        let judge_ge = |bound: f64, exact: f64, estimate: f64, se: f64| {
            let ci = Some((estimate - 1.96 * se, estimate + 1.96 * se));
            judge(
                Comparison::Ge,
                bound,
                Some(exact),
                Some(estimate),
                Some(se),
                ci,
            )
        };
        // Agrees (|0.798 - 0.7965| = 0.0015 <= 4 x 0.004): the exact value decides.
        assert_eq!(
            judge_ge(0.8, 0.7965, 0.798, 0.004),
            (Verdict::NotMet, Judgement::Exact)
        );
        assert_eq!(
            judge_ge(0.8, 0.801, 0.79, 0.004),
            (Verdict::Met, Judgement::Exact)
        );
        // Contradicted (0.83 is 33 MC SE from 0.7965): the simulation decides.
        assert_eq!(
            judge_ge(0.8, 0.7965, 0.83, 0.001),
            (Verdict::Met, Judgement::Simulation)
        );
        assert_eq!(
            judge_ge(0.5, 0.7965, 0.490, 0.005),
            (Verdict::NotMet, Judgement::Simulation)
        );
    }

    #[test]
    fn a_simulated_estimate_decides_only_outside_its_wilson_interval() {
        let sim = |estimate: f64| {
            let ci = Some((estimate - 0.00784, estimate + 0.00784));
            judge(Comparison::Ge, 0.8, None, Some(estimate), Some(0.004), ci).0
        };
        assert_eq!(sim(0.8079), Verdict::Met);
        assert_eq!(sim(0.8077), Verdict::Undecided);
        assert_eq!(sim(0.7923), Verdict::Undecided);
        assert_eq!(sim(0.7921), Verdict::NotMet);
        assert_eq!(
            judge(Comparison::Ge, 0.8, None, None, None, None).0,
            Verdict::NotMet
        );
        // All 20 replicates reject: the binomial SE is 0, but the Wilson interval (0.839 to 1)
        // still contains 0.9, so `power >= 90%` is undecided, not met.
        let ci = wilson(20, 20);
        assert!((ci.0 - 0.8389).abs() < 1e-3, "{ci:?}");
        let judged = judge(Comparison::Ge, 0.9, None, Some(1.0), Some(0.0), Some(ci));
        assert_eq!(judged.0, Verdict::Undecided);
        // And an exact 0.995 is not thrown out by a zero standard error.
        let judged = judge(
            Comparison::Ge,
            0.9,
            Some(0.995),
            Some(1.0),
            Some(0.0),
            Some(ci),
        );
        assert_eq!(judged, (Verdict::Met, Judgement::Exact));
    }
}
