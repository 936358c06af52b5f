//! Group-sequential designs, simulated and analysed look by look (docs/sequential.md).
//!
//! At each look only the participants whose primary outcome is due by then are analysed: a
//! participant who entered in month `e` (the inflow's schedule, in a random order across the
//! arms) has the outcome read `m` months after intake, so a look at calendar month `L` sees those
//! with `e + m ≤ L`. A look by information is taken in the month the stated share of the
//! outcomes is due. The statistic of each look is the plan's own test statistic (z, or Welch's
//! t read on the normal scale) on those participants; its information fraction is the share of
//! the final look's analysed participants it analyses, and the boundaries are re-computed by
//! error spending on those observed fractions (cached: they repeat across replicates).
//!
//! The same function ([`look_statistic`]) analyses a simulated replicate and real data
//! (`analyze --look`), so the plan run on the data is the plan simulated.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::model::{
    Analysis, FutilityRule, LookSchedule, SequentialPlan, Sides, TestKind, TrialModel,
};
use crate::power::{PowerSettings, simulate_chunks, validate};
use crate::sim::{SimError, SimOptions, Simulator};
use crate::stats::dist::{norm_quantile, norm_sf};
use crate::stats::sequential::{self as seq, Boundaries};
use crate::table::ParticipantTable;

/// Grid resolution of the boundaries the engine re-computes on observed fractions: 16 keeps
/// them within about 1e-6 of the converged values (see the unit test), far inside the Monte
/// Carlo error of any stopping probability.
const ENGINE_GRID: usize = 16;

/// The analysis of one look: the participants analysed and the plan's statistic.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LookStatistic {
    /// Analysed (outcome observed) in the treatment arm.
    pub n_treatment: u64,
    /// Analysed in the control arm.
    pub n_control: u64,
    /// Difference in means (proportions), treatment − control.
    pub estimate: f64,
    /// Its standard error (unpooled).
    pub se: f64,
    /// The plan's test statistic (pooled or unpooled z; Welch's t).
    pub z: f64,
}

/// The plan's statistic on the rows `include` selects.
#[allow(clippy::needless_range_loop)] // rows of several columns, and the filter takes the index
pub fn look_statistic(
    analysis: &Analysis,
    table: &ParticipantTable,
    include: impl Fn(usize) -> bool,
) -> LookStatistic {
    let o = analysis.outcomes[0];
    let col = &table.outcomes[o];
    let (t, c) = (analysis.treatment as u32, analysis.control as u32);
    let mut s = [[0.0f64; 3]; 2];
    for i in 0..table.len() {
        let g = if table.arm[i] == t {
            0
        } else if table.arm[i] == c {
            1
        } else {
            continue;
        };
        let y = col[i];
        if y.is_nan() || !include(i) {
            continue;
        }
        s[g][0] += 1.0;
        s[g][1] += y;
        s[g][2] += y * y;
    }
    let (nt, nc) = (s[0][0], s[1][0]);
    let (mt, mc) = (s[0][1] / nt, s[1][1] / nc);
    let var = |k: usize, n: f64, m: f64| {
        if n > 1.0 {
            ((s[k][2] - n * m * m) / (n - 1.0)).max(0.0)
        } else {
            f64::NAN
        }
    };
    let estimate = mt - mc;
    let z = match analysis.test {
        TestKind::PooledZ | TestKind::UnpooledZ => {
            crate::stats::tests::two_proportion_z(
                s[0][1].round() as u64,
                nt as u64,
                s[1][1].round() as u64,
                nc as u64,
                analysis.test == TestKind::PooledZ,
                crate::stats::Sides::TwoSided,
            )
            .statistic
        }
        _ => {
            crate::stats::tests::welch_t(
                mt,
                var(0, nt, mt).sqrt(),
                nt as u64,
                mc,
                var(1, nc, mc).sqrt(),
                nc as u64,
                crate::stats::Sides::TwoSided,
            )
            .statistic
        }
    };
    let se = if analysis.test == TestKind::WelchT {
        (var(0, nt, mt) / nt + var(1, nc, mc) / nc).sqrt()
    } else {
        (mt * (1.0 - mt) / nt + mc * (1.0 - mc) / nc).sqrt()
    };
    LookStatistic {
        n_treatment: nt as u64,
        n_control: nc as u64,
        estimate,
        se,
        z,
    }
}

/// The statistic turned the way the boundaries read it: larger is more evidence for the
/// alternative (`|z|` for a two-sided test).
pub fn directed(z: f64, sides: Sides) -> f64 {
    match sides {
        Sides::Greater => z,
        Sides::Less => -z,
        Sides::TwoSided => z.abs(),
    }
}

/// How a trial ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The efficacy boundary was crossed: H0 rejected.
    Efficacy,
    /// Stopped at an interim look for futility.
    Futility,
    /// Reached the last look without rejecting H0.
    Accept,
    /// Not yet decided (an interim look that crossed nothing).
    Continue,
}

/// The decision at a look with (directed) statistic `z`, with `b` the boundaries on the
/// effective looks and `k` the index of this look among them.
pub fn decide(plan: &SequentialPlan, b: &Boundaries, k: usize, z: f64) -> Verdict {
    let last = k + 1 == b.efficacy.len();
    if z >= b.efficacy[k] {
        return Verdict::Efficacy;
    }
    if last {
        return Verdict::Accept;
    }
    match plan.futility {
        Some(FutilityRule::BetaSpending(_)) if z < b.futility[k] => Verdict::Futility,
        Some(FutilityRule::ConditionalPower { below })
            if seq::conditional_power(b.fractions[k], z, b.efficacy[b.efficacy.len() - 1])
                < below =>
        {
            Verdict::Futility
        }
        _ => Verdict::Continue,
    }
}

/// Boundaries on observed fractions, computed once per distinct set of analysed counts.
#[derive(Debug, Default)]
pub struct BoundaryCache {
    map: Mutex<HashMap<Vec<u64>, Option<Arc<Boundaries>>>>,
}

impl BoundaryCache {
    /// The boundaries of `plan` for the analysed counts `counts` (strictly increasing, the last
    /// the final look's); `None` when they have none.
    pub fn get(
        &self,
        plan: &SequentialPlan,
        a: &Analysis,
        counts: &[u64],
    ) -> Option<Arc<Boundaries>> {
        if let Ok(m) = self.map.lock()
            && let Some(b) = m.get(counts)
        {
            return b.clone();
        }
        let total = *counts.last()? as f64;
        let fractions: Vec<f64> = counts.iter().map(|&c| c as f64 / total).collect();
        let design = plan.design(a.alpha, a.sides, fractions);
        let b = seq::boundaries_at_drift(&design, plan.boundaries.drift, ENGINE_GRID)
            .ok()
            .map(Arc::new);
        if let Ok(mut m) = self.map.lock() {
            m.insert(counts.to_vec(), b.clone());
        }
        b
    }
}

/// Each participant's due month and entry month (0 without an inflow).
fn due_months(model: &TrialModel, a: &Analysis, entry: &[u32], n: usize) -> Vec<(u32, u32)> {
    let due = model.due_month(a);
    (0..n)
        .map(|i| {
            let e = entry.get(i).copied().unwrap_or(0);
            (e.saturating_add(due), e)
        })
        .collect()
}

/// The calendar month of every look for participants due at `dues`.
pub fn look_months(plan: &SequentialPlan, dues: &[(u32, u32)]) -> Vec<u32> {
    match &plan.looks {
        LookSchedule::Months(m) => m.clone(),
        LookSchedule::Information(t) => {
            let mut d: Vec<u32> = dues.iter().map(|x| x.0).collect();
            d.sort_unstable();
            t.iter()
                .map(|&f| {
                    let k = ((f * d.len() as f64).ceil() as usize).clamp(1, d.len().max(1));
                    d.get(k - 1).copied().unwrap_or(0)
                })
                .collect()
        }
    }
}

/// One replicate (or one data set) taken through its looks.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// Calendar month of each planned look.
    pub months: Vec<u32>,
    /// The statistic at each planned look (all looks are computed, also after stopping).
    pub looks: Vec<LookStatistic>,
    /// Indices of the looks that saw new information (the boundaries' looks).
    pub effective: Vec<usize>,
    /// Boundaries on the observed fractions of the effective looks.
    pub boundaries: Option<Arc<Boundaries>>,
    /// The look (planned index) at which the trial stopped, and how.
    pub stop: Option<(usize, Verdict)>,
    /// Participants who had entered by each look.
    pub enrolled: Vec<u64>,
}

/// Takes `table` through the looks of analysis `a`; `entry` is each row's intake month.
pub fn run_looks(
    model: &TrialModel,
    a: &Analysis,
    plan: &SequentialPlan,
    table: &ParticipantTable,
    entry: &[u32],
    cache: &BoundaryCache,
) -> Path {
    let dues = due_months(model, a, entry, table.len());
    let months = look_months(plan, &dues);
    let looks: Vec<LookStatistic> = months
        .iter()
        .map(|&m| look_statistic(a, table, |i| dues[i].0 <= m))
        .collect();
    let enrolled = months
        .iter()
        .map(|&m| dues.iter().filter(|d| d.1 <= m).count() as u64)
        .collect();
    let mut effective = Vec::new();
    let mut counts = Vec::new();
    let mut prev = 0;
    for (k, l) in looks.iter().enumerate() {
        let n = l.n_treatment + l.n_control;
        let last = k + 1 == looks.len();
        if n > prev && (l.n_treatment > 1 && l.n_control > 1 || last) {
            effective.push(k);
            counts.push(n);
            prev = n;
        } else if last && !counts.is_empty() {
            // The last look always decides; without new data it replaces the one before.
            effective.pop();
            effective.push(k);
        }
    }
    let boundaries = if counts.is_empty() {
        None
    } else {
        cache.get(plan, a, &counts)
    };
    let mut stop = None;
    if let Some(b) = &boundaries {
        for (j, &k) in effective.iter().enumerate() {
            let z = directed(looks[k].z, a.sides);
            let v = if z.is_nan() {
                if j + 1 == effective.len() {
                    Verdict::Accept
                } else {
                    Verdict::Continue
                }
            } else {
                decide(plan, b, j, z)
            };
            if v != Verdict::Continue {
                stop = Some((k, v));
                break;
            }
        }
    }
    Path {
        months,
        looks,
        effective,
        boundaries,
        stop,
        enrolled,
    }
}

/// An estimate with its Monte Carlo standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// The mean over replicates.
    pub value: f64,
    /// Its Monte Carlo standard error.
    pub mc_se: f64,
}

impl Estimate {
    pub(crate) fn of(sum: f64, sum_sq: f64, n: f64) -> Self {
        let mean = sum / n;
        let var = ((sum_sq - n * mean * mean) / (n - 1.0).max(1.0)).max(0.0);
        Self {
            value: mean,
            mc_se: (var / n).sqrt(),
        }
    }

    pub(crate) fn share(k: u64, n: u64) -> Self {
        let p = k as f64 / n as f64;
        Self {
            value: p,
            mc_se: (p * (1.0 - p) / n as f64).sqrt(),
        }
    }
}

/// One look of the simulated design.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LookReport {
    /// Calendar month of the look (for looks by information: the mean over replicates).
    pub month: f64,
    /// Planned information fraction.
    pub planned_fraction: f64,
    /// Mean observed information fraction.
    pub observed_fraction: f64,
    /// Planned efficacy boundary (z).
    pub efficacy_z: f64,
    /// Planned futility boundary (z; absent where there is none).
    pub futility_z: Option<f64>,
    /// Nominal level of the planned efficacy boundary.
    pub nominal_alpha: f64,
    /// Cumulative alpha spent by the planned boundaries.
    pub cumulative_alpha: f64,
    /// Probability of stopping here for efficacy.
    pub stop_efficacy: Estimate,
    /// Probability of stopping here for futility.
    pub stop_futility: Estimate,
}

/// What the simulation of a group-sequential analysis shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SequentialReport {
    /// The analysis.
    pub analysis: String,
    /// Its outcome.
    pub outcome: String,
    /// Replicates.
    pub replicates: u64,
    /// Efficacy boundary, as written.
    pub efficacy: String,
    /// Futility rule, in words (absent without one).
    pub futility: Option<String>,
    /// The looks.
    pub looks: Vec<LookReport>,
    /// Probability of rejecting H0 at some look.
    pub power: Estimate,
    /// Power of the fixed design analysed once at the last look, on the same replicates.
    pub fixed_power: Estimate,
    /// Participants enrolled when the trial stops, on average.
    pub expected_enrolled: Estimate,
    /// Participants in the whole design.
    pub max_enrolled: f64,
    /// Participants analysed when the trial stops, on average.
    pub expected_analysed: Estimate,
    /// Calendar month at which the trial stops, on average.
    pub expected_duration: Estimate,
    /// Month of the last look.
    pub max_duration: f64,
    /// The true effect (exact), if known.
    pub true_effect: Option<f64>,
    /// Mean of the naive estimate at stopping.
    pub estimate: Estimate,
    /// Mean of the naive estimate at stopping, minus the true effect (its MC SE includes the
    /// true effect's own where that is simulated).
    pub bias: Option<Estimate>,
    /// Mean of the naive estimate among replicates that stopped early for efficacy.
    pub estimate_early_efficacy: Option<Estimate>,
    /// Replicates in which no look could be analysed.
    pub undecided: u64,
    /// Distinct sets of observed fractions, each with its own boundaries.
    pub boundary_sets: usize,
    /// The first [`PATHS`] replicates' paths: per look reached, the observed fraction and the
    /// statistic (turned the way the boundaries read it), for the figure.
    pub paths: Vec<Vec<(f64, f64)>>,
}

/// Simulated paths kept for the figure.
pub const PATHS: u64 = 40;

#[derive(Debug, Clone, Default)]
struct Acc {
    reps: u64,
    undecided: u64,
    reject: u64,
    fixed_reject: u64,
    stop_eff: Vec<u64>,
    stop_fut: Vec<u64>,
    fraction: Vec<f64>,
    month: Vec<f64>,
    enrolled: [f64; 2],
    analysed: [f64; 2],
    duration: [f64; 2],
    estimate: [f64; 2],
    early: [f64; 3],
    paths: Vec<Vec<(f64, f64)>>,
}

impl Acc {
    fn new(k: usize) -> Self {
        Self {
            stop_eff: vec![0; k],
            stop_fut: vec![0; k],
            fraction: vec![0.0; k],
            month: vec![0.0; k],
            ..Self::default()
        }
    }

    fn add(&mut self, p: &Path, a: &Analysis, fixed_crit: f64, r: u64) {
        self.reps += 1;
        let k = p.looks.len();
        let final_n = (p.looks[k - 1].n_treatment + p.looks[k - 1].n_control).max(1) as f64;
        if r < PATHS {
            let end = p.stop.map_or(k - 1, |s| s.0);
            self.paths.push(
                p.effective
                    .iter()
                    .filter(|&&j| j <= end)
                    .map(|&j| {
                        let l = &p.looks[j];
                        (
                            (l.n_treatment + l.n_control) as f64 / final_n,
                            directed(l.z, a.sides),
                        )
                    })
                    .collect(),
            );
        }
        for (j, l) in p.looks.iter().enumerate() {
            self.fraction[j] += (l.n_treatment + l.n_control) as f64 / final_n;
            self.month[j] += f64::from(p.months[j]);
        }
        if directed(p.looks[k - 1].z, a.sides) >= fixed_crit {
            self.fixed_reject += 1;
        }
        let Some((at, v)) = p.stop else {
            self.undecided += 1;
            return;
        };
        match v {
            Verdict::Efficacy => {
                self.reject += 1;
                self.stop_eff[at] += 1;
            }
            Verdict::Futility => self.stop_fut[at] += 1,
            _ => {}
        }
        let l = &p.looks[at];
        let add = |s: &mut [f64; 2], x: f64| {
            s[0] += x;
            s[1] += x * x;
        };
        add(&mut self.enrolled, p.enrolled[at] as f64);
        add(&mut self.analysed, (l.n_treatment + l.n_control) as f64);
        add(&mut self.duration, f64::from(p.months[at]));
        if l.estimate.is_finite() {
            add(&mut self.estimate, l.estimate);
        }
        if v == Verdict::Efficacy && at + 1 < k && l.estimate.is_finite() {
            self.early[0] += l.estimate;
            self.early[1] += l.estimate * l.estimate;
            self.early[2] += 1.0;
        }
    }

    fn merge(&mut self, o: &Self) {
        self.reps += o.reps;
        self.undecided += o.undecided;
        self.reject += o.reject;
        self.fixed_reject += o.fixed_reject;
        for j in 0..self.stop_eff.len() {
            self.stop_eff[j] += o.stop_eff[j];
            self.stop_fut[j] += o.stop_fut[j];
            self.fraction[j] += o.fraction[j];
            self.month[j] += o.month[j];
        }
        for (s, x) in [
            (&mut self.enrolled, &o.enrolled),
            (&mut self.analysed, &o.analysed),
            (&mut self.duration, &o.duration),
            (&mut self.estimate, &o.estimate),
        ] {
            s[0] += x[0];
            s[1] += x[1];
        }
        for j in 0..3 {
            self.early[j] += o.early[j];
        }
        self.paths.extend(o.paths.iter().cloned());
    }
}

/// Simulates the group-sequential analysis `ai` of `model`.
pub fn run_sequential(
    model: &TrialModel,
    ai: usize,
    settings: &PowerSettings,
) -> Result<SequentialReport, SimError> {
    validate(settings)?;
    let a = model
        .analyses
        .get(ai)
        .ok_or_else(|| SimError("no such analysis".into()))?;
    let plan = a
        .sequential
        .as_ref()
        .ok_or_else(|| SimError(format!("analysis `{}` has no interim looks", a.name)))?;
    let sim = Simulator::new(
        model,
        SimOptions {
            n_per_arm: settings.n_per_arm,
            lean: true,
        },
    )?;
    let cache = BoundaryCache::default();
    let k = plan.planned_fractions.len();
    let fixed_crit = match a.sides {
        Sides::TwoSided => norm_quantile(1.0 - a.alpha / 2.0),
        _ => norm_quantile(1.0 - a.alpha),
    };
    let parts = simulate_chunks(
        &sim,
        settings,
        || (Acc::new(k), 0.0f64),
        |(acc, max_enrolled), w, r| {
            let p = run_looks(model, a, plan, &w.table, w.entry_months(), &cache);
            *max_enrolled = max_enrolled.max(w.table.len() as f64);
            acc.add(&p, a, fixed_crit, r);
        },
    );
    let mut acc = Acc::new(k);
    let mut max_enrolled = 0.0f64;
    for (p, m) in &parts {
        acc.merge(p);
        max_enrolled = max_enrolled.max(*m);
    }
    let reps = acc.reps;
    let decided = (reps - acc.undecided) as f64;
    let b = &plan.boundaries;
    let looks = (0..k)
        .map(|j| LookReport {
            month: acc.month[j] / reps as f64,
            planned_fraction: plan.planned_fractions[j],
            observed_fraction: acc.fraction[j] / reps as f64,
            efficacy_z: b.efficacy[j],
            futility_z: b.futility[j].is_finite().then_some(b.futility[j]),
            nominal_alpha: b.nominal_alpha[j],
            cumulative_alpha: b.cumulative_alpha[j],
            stop_efficacy: Estimate::share(acc.stop_eff[j], reps),
            stop_futility: Estimate::share(acc.stop_fut[j], reps),
        })
        .collect();
    let truth = {
        let o = a.outcomes[0];
        let t = sim.expected(a.treatment, o, None);
        let c = sim.expected(a.control, o, None);
        t.zip(c).map(|(t, c)| t.mean - c.mean)
    };
    let estimate = Estimate::of(acc.estimate[0], acc.estimate[1], decided);
    let bias = truth.map(|t| Estimate {
        value: estimate.value - t,
        mc_se: estimate.mc_se,
    });
    let early =
        (acc.early[2] > 0.0).then(|| Estimate::of(acc.early[0], acc.early[1], acc.early[2]));
    let boundary_sets = cache.map.lock().map(|m| m.len()).unwrap_or(0);
    Ok(SequentialReport {
        analysis: a.name.clone(),
        outcome: model.outcomes[a.outcomes[0]].name.clone(),
        replicates: reps,
        efficacy: plan.efficacy.label(),
        futility: plan.futility.map(|f| futility_words(&f)),
        looks,
        power: Estimate::share(acc.reject, reps),
        fixed_power: Estimate::share(acc.fixed_reject, reps),
        expected_enrolled: Estimate::of(acc.enrolled[0], acc.enrolled[1], decided),
        max_enrolled,
        expected_analysed: Estimate::of(acc.analysed[0], acc.analysed[1], decided),
        expected_duration: Estimate::of(acc.duration[0], acc.duration[1], decided),
        max_duration: acc.month[k - 1] / reps as f64,
        true_effect: truth,
        estimate,
        bias,
        estimate_early_efficacy: early,
        undecided: acc.undecided,
        boundary_sets,
        paths: std::mem::take(&mut acc.paths),
    })
}

impl SequentialReport {
    /// Sets the true effect where the engine has no exact one (the power run's simulated
    /// estimand, with its Monte Carlo error added to the bias').
    pub fn set_truth(&mut self, truth: Option<f64>, truth_mc_se: Option<f64>) {
        if self.true_effect.is_some() {
            return;
        }
        if let Some(t) = truth {
            self.true_effect = Some(t);
            self.bias = Some(Estimate {
                value: self.estimate.value - t,
                mc_se: self.estimate.mc_se.hypot(truth_mc_se.unwrap_or(0.0)),
            });
        }
    }
}

/// A futility rule in words.
pub fn futility_words(f: &FutilityRule) -> String {
    match f {
        FutilityRule::BetaSpending(b) => format!(
            "beta spending {} at power {}%, {}",
            b.spending.label(),
            fmt_num(100.0 * (1.0 - b.beta)),
            if b.binding { "binding" } else { "non-binding" }
        ),
        FutilityRule::ConditionalPower { below } => format!(
            "conditional power under the current trend below {}%",
            fmt_num(100.0 * below)
        ),
    }
}

fn fmt_num(x: f64) -> String {
    let s = format!("{x:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The p-value of the stage-wise ordering, the median-unbiased estimate and the final
/// confidence interval (two-sided level `1 − 2α` for a one-sided design, as rpact gives it)
/// after stopping at effective look `stage` with directed statistic `z`. `info_max` is the
/// information `1 / se²` the final look would have had.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FinalInference {
    /// Stage-wise-ordering adjusted p-value (one-sided).
    pub p_value: f64,
    /// Median-unbiased estimate of the effect.
    pub median_unbiased: f64,
    /// Lower end of the final confidence interval.
    pub lower: f64,
    /// Upper end.
    pub upper: f64,
}

/// Final inference in the stage-wise ordering; `scale` turns a drift into an effect
/// (`1 / √I_K`), `sign` the direction of the test (+1 greater, −1 less).
pub fn final_inference(
    b: &Boundaries,
    stage: usize,
    z: f64,
    scale: f64,
    alpha: f64,
) -> FinalInference {
    let p_value = seq::stagewise_tail(b, stage, z, 0.0);
    let solve = |target: f64| {
        // The tail probability increases with the drift.
        let (mut lo, mut hi) = (-20.0, 20.0);
        for _ in 0..80 {
            let mid = 0.5 * (lo + hi);
            if seq::stagewise_tail(b, stage, z, mid) < target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi) * scale
    };
    FinalInference {
        p_value,
        median_unbiased: solve(0.5),
        lower: solve(alpha),
        upper: solve(1.0 - alpha),
    }
}

/// A repeated confidence interval at a look: `estimate ∓ c_k · se` (one-sided designs give the
/// lower bound at level `1 − α`, two-sided both ends).
pub fn repeated_ci(l: &LookStatistic, c: f64, sides: Sides) -> (f64, f64) {
    match sides {
        Sides::Greater => (l.estimate - c * l.se, f64::INFINITY),
        Sides::Less => (f64::NEG_INFINITY, l.estimate + c * l.se),
        Sides::TwoSided => (l.estimate - c * l.se, l.estimate + c * l.se),
    }
}

/// Whether `p` is a p-value below the nominal level of the boundary `c` (for reports).
pub fn nominal_p(z: f64) -> f64 {
    norm_sf(z)
}

#[cfg(test)]
mod unit {
    use super::*;
    use crate::stats::sequential::{Design, Efficacy, Spending, boundaries_with_grid};

    /// rpact 3.3.4, getAnalysisResults (the last part of tests/reference/sequential.R): an
    /// O'Brien–Fleming design with three equal looks ending at z = 2.2488 with estimate 0.18333.
    #[test]
    fn final_inference_matches_rpact() {
        let d = Design {
            fractions: vec![1.0 / 3.0, 2.0 / 3.0, 1.0],
            alpha: 0.025,
            two_sided: false,
            efficacy: Efficacy::Spending(Spending::OBrienFleming),
            futility: None,
        };
        let b = crate::stats::sequential::boundaries(&d).unwrap();
        let z = 2.248815424513735;
        let estimate = 0.18333333333333333;
        let f = final_inference(&b, 2, z, estimate / z, 0.025);
        assert!((f.p_value - 0.0150839599922057).abs() < 1e-6, "{f:?}");
        // rpact solves the estimate and interval to about 1e-5 (its own tolerance).
        assert!(
            (f.median_unbiased - 0.180082153237598).abs() < 1e-4,
            "{f:?}"
        );
        assert!((f.lower - 0.017475514628425).abs() < 1e-4, "{f:?}");
        assert!((f.upper - 0.340996575134211).abs() < 1e-4, "{f:?}");
    }

    #[test]
    fn the_engine_grid_is_within_1e_6_of_the_report_grid() {
        let d = Design {
            fractions: vec![0.29, 0.67, 1.0],
            alpha: 0.05,
            two_sided: false,
            efficacy: Efficacy::Spending(Spending::OBrienFleming),
            futility: None,
        };
        let a = boundaries_with_grid(&d, ENGINE_GRID).unwrap();
        let b = boundaries_with_grid(&d, 128).unwrap();
        for i in 0..3 {
            assert!((a.efficacy[i] - b.efficacy[i]).abs() < 2e-6);
        }
    }
}

/// The plan run on data at one look (`analyze --look K`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LookAnalysis {
    /// The analysis.
    pub analysis: String,
    /// Its outcome.
    pub outcome: String,
    /// The look, from 1.
    pub look: usize,
    /// Number of looks planned.
    pub looks: usize,
    /// Information fractions the boundaries were spent on: the planned ones before this look,
    /// the observed one at it (analysed / the planned total; 1 at the last look), the planned
    /// ones after.
    pub fractions: Vec<f64>,
    /// The plan's statistic on the data.
    pub statistic: LookStatistic,
    /// The statistic turned the way the boundaries read it.
    pub directed_z: f64,
    /// Efficacy boundary at this look.
    pub efficacy_z: f64,
    /// Futility boundary at this look (absent where none).
    pub futility_z: Option<f64>,
    /// Conditional power under the current trend (interim looks).
    pub conditional_power: Option<f64>,
    /// What the look decides.
    pub verdict: Verdict,
    /// Repeated confidence interval of the effect (level 1 − α per side, valid at every look).
    pub repeated_ci: (f64, f64),
    /// Stage-wise-ordering inference once the trial stops (one-sided designs).
    pub final_inference: Option<FinalInference>,
}

/// Runs the sequential plan of analysis `a` on `table`, the data as they stand at look `look`
/// (from 1). Every analysable row counts: the data hold what was observed by the look.
pub fn analyze_look(
    model: &TrialModel,
    a: &Analysis,
    plan: &SequentialPlan,
    table: &ParticipantTable,
    look: usize,
) -> Result<LookAnalysis, String> {
    let k = plan.planned_fractions.len();
    if look == 0 || look > k {
        return Err(format!(
            "analysis `{}` plans {k} looks; --look must be 1 to {k}, not {look}",
            a.name
        ));
    }
    let stat = look_statistic(a, table, |_| true);
    let n = (stat.n_treatment + stat.n_control) as f64;
    let planned_total: f64 = model
        .sample
        .as_ref()
        .map_or(0.0, |s| s.iter().map(|&x| f64::from(x)).sum());
    let j = look - 1;
    let mut fractions = plan.planned_fractions.clone();
    if j + 1 < k {
        let t = if planned_total > 0.0 {
            n / planned_total
        } else {
            f64::NAN
        };
        let lo = if j == 0 { 0.0 } else { fractions[j - 1] };
        if !(t > lo && t < fractions[j + 1]) {
            return Err(format!(
                "look {look} analyses {n} participants, {:.1}% of the planned {planned_total}: not between the looks around it ({:.1}% and {:.1}%)",
                100.0 * t,
                100.0 * lo,
                100.0 * fractions[j + 1]
            ));
        }
        fractions[j] = t;
    }
    let design = plan.design(a.alpha, a.sides, fractions.clone());
    let b = seq::boundaries_at_drift(&design, plan.boundaries.drift, seq::GRID)
        .map_err(|e| e.to_string())?;
    let z = directed(stat.z, a.sides);
    let verdict = if z.is_nan() {
        return Err("the statistic is undefined on these data (an arm without outcomes)".into());
    } else {
        decide(plan, &b, j, z)
    };
    let cp = (j + 1 < k).then(|| seq::conditional_power(b.fractions[j], z, b.efficacy[k - 1]));
    let repeated = repeated_ci(&stat, b.efficacy[j], a.sides);
    let final_inference = (a.sides != Sides::TwoSided
        && matches!(
            verdict,
            Verdict::Efficacy | Verdict::Accept | Verdict::Futility
        ))
    .then(|| {
        let scale = stat.se * b.fractions[j].sqrt();
        let f = final_inference(&b, j, z, scale, a.alpha);
        if a.sides == Sides::Less {
            FinalInference {
                p_value: f.p_value,
                median_unbiased: -f.median_unbiased,
                lower: -f.upper,
                upper: -f.lower,
            }
        } else {
            f
        }
    });
    Ok(LookAnalysis {
        analysis: a.name.clone(),
        outcome: model.outcomes[a.outcomes[0]].name.clone(),
        look,
        looks: k,
        fractions,
        statistic: stat,
        directed_z: z,
        efficacy_z: b.efficacy[j],
        futility_z: b.futility[j].is_finite().then_some(b.futility[j]),
        conditional_power: cp,
        verdict,
        repeated_ci: repeated,
        final_inference,
    })
}
