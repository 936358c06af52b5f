//! The Monte Carlo engine: one replicate of a checked [`TrialModel`] into a [`ParticipantTable`].
//!
//! The engine sees only the model. [`Simulator::new`] prepares it once (calibrated hazards,
//! truncated covariate samplers); [`Simulator::simulate`] then draws one replicate into a reusable
//! [`Worker`] without allocating per participant. Parallel runs, seeding and the aggregation over
//! replicates live in [`crate::power`]; random streams in [`rng`].
//!
//! # The process model
//!
//! **Population.** Covariates are independent, each drawn from its declared distribution.
//! - *Fixed sample* (`sample N per arm` in the spec, or `--n-per-arm N`): every arm gets exactly
//!   its N participants, and each covariate is drawn from its distribution *conditional on the
//!   eligibility criteria* (uniforms are truncated directly, categorical levels renormalised over
//!   the admitted levels, normal and log-normal values redrawn until they pass). Screening loss
//!   and the assignment rule do not change a fixed sample (arm sizes are given, covariates are
//!   independent of the arm), so they are not simulated.
//! - *Pool and funnel* (a `pool` and no `sample`): each of the pool's people is drawn
//!   unconditionally, kept when all criteria hold, then removed by paper screening with the
//!   *planned* loss, then assigned: by ID parity (a fair coin each, so arm sizes vary), complete
//!   randomisation (exact arm sizes in the ratio, largest remainder, a random permutation), or
//!   permuted blocks within strata (blocks filled in pool order within each stratum; the last
//!   block of a stratum may stay incomplete).
//!
//! **Intake.** The clock of every participant starts at their own intake (t = 0), as in Almere, so
//! intake order and capacity do not change outcomes; they feed the flows report (slots =
//! staff × caseload, months needed to take the largest arm in at the declared intake rate).
//!
//! **Flows, per participant,** in this order of draws:
//! 1. *Baseline employment*: in work in month 0 with the arm's share, with a job spell as below.
//! 2. *Dropout before intake* (with its share): the participant stays in the assigned arm for the
//!    analysis (intention to treat) but follows the referenced process instead: that arm's path
//!    (drawn by that arm's shares when no path is named), with its rate and delay. Dropouts take
//!    no sub-path, no exemption and no crossover of their own arm; their path column is missing.
//! 3. *Sub-path* by the arm's shares (Team Zorg / guided).
//! 4. *Temporary exemption* (with its share): the length is uniform on 1..=max months; the work
//!    process is paused (job-start hazard zero) for those months from intake, then the path
//!    starts, delay included. The path's calibration refers to non-exempt participants, so
//!    exemption lowers the arm's realised rate.
//! 5. *Crossover* (with its share): after `after` months the participant's job-start hazard
//!    becomes the target process's (target path drawn by the target arm's shares when not named);
//!    the target path's delay counts from the crossover. Analysed in the assigned arm.
//! 6. *Competing non-work exit*: a month X drawn from the geometric law with
//!    P(X ≤ m) = the stated probability within m months. No job starts in month X or later;
//!    a job already running goes on until it ends.
//! 7. *Loss to follow-up* (arms that declare it), after everything else, measures included: the
//!    month of loss L = ⌈E / c⌉ ≥ 1 from one uniform, with the arm's hazard c (at the
//!    participant's level, when the share differs by a covariate; times the factor when the
//!    outcome it depends on is 1); every outcome measured in month L or later becomes missing
//!    (NaN), and the participant counts as lost when L is at most the stated month. See
//!    [`crate::model::LostToFollowUp`].
//!
//! **Employment process.** Months 1..=H (H = the follow-up, or the latest month a measure needs).
//! Someone out of work in month t−1 starts a job in month t with the path's monthly hazard h
//! (zero during a delay, an exemption, or after a non-work exit); someone in work in month t−1
//! loses the job in month t with the monthly job-loss probability λ, and can start again from
//! month t+1. Every job spell draws its hours per month once (and its hourly wage, if declared).
//! Event times are drawn directly, not month by month: with E ~ Exp(1), the start is the first
//! month where the cumulative hazard −Σ ln(1−h) reaches E (exactly geometric within each
//! constant-hazard stretch), and a spell lasts ⌊E′ / −ln(1−λ)⌋ further months. Cost grows with
//! the number of events, not months.
//!
//! **Calibration** of a path's monthly hazard h from its stated rate p over m months with a delay
//! of d months (hazard zero in months 1..=d, so the window counts from intake):
//! - `work within m months: p` ([`RateMeaning::FoundWithin`]): P(a first job start in months
//!   1..=m | out of work at intake) = p, so h = 1 − (1 − p)^(1/(m − d)).
//! - `employed at month m: p` ([`RateMeaning::EmployedAt`]): h is solved numerically (bisection on
//!   the exact two-state recursion) so that P(in work in month m) = p for the path's participants,
//!   given λ and the arm's baseline employment.
//!
//! A delay of m months or more leaves no month to start in and is rejected, as is an
//! `employed at` rate out of reach for any hazard.
//!
//! **Measures** are read from the spells: employed at month m with ≥ h hours; worked (a spell with
//! ≥ h hours overlapping months 1..=m; a job held at intake counts); durable (one spell with ≥ h
//! hours covering the k months ending at m; spells are separated by at least one month, so runs
//! never join two jobs); hours in month m (0 out of work); benefit ended by month m (a job start
//! in months 1..=m, or a non-work exit by m; a job held at intake is part-time work on benefit).
//! Directly declared per-arm outcomes are drawn from their distribution, by assigned arm.
//!
//! **Lean runs.** `power` asks for [`SimOptions::lean`]: in a fixed sample, covariates that no
//! analysis (`within`), rate (`by`) or stratum reads, and outcomes that no analysis compares, are
//! left missing instead of drawn. Covariates are independent of each other and of the process,
//! so the plan's results have the same distribution either way; `simulate --export` writes
//! complete tables.
//!
//! **Truth.** [`Simulator::expected`] computes every measure's exact mean per arm (and subgroup)
//! by propagating the same process month by month over its few profiles (path, exemption length,
//! crossover target, rate level), with no simulation; `power` compares estimates with it.
//!
//! **Randomness and cost.** One stream per replicate ([`rng`]). Per participant the engine draws
//! one uniform per drawn covariate, one for the sub-path, one for each declared flow (baseline,
//! dropout, exemption, crossover, exit, loss to follow-up), one for the first job start, and
//! per job spell one for its hours (and wage) and one for its end when jobs can be lost.
//! Someone who never starts work costs no logarithm: the first uniform is compared with the path's precomputed
//! probability of no start over the follow-up; someone on one path from intake finds the month
//! of their first start in a table of thresholds ([`StartTable`]), also without a logarithm.
//!
//! **Two kernels.** A model without baseline employment, dropout, exemption, crossover, exits,
//! loss to follow-up, wages, clusters, inflow, rates or shares by level and direct outcomes (the Almere plan, the
//! NumPy peer's model) runs the simple kernel: the same draws in the same order, the same
//! table and counters, without the flow bookkeeping. Everything else runs the general one.

#[doc(hidden)]
pub mod assignment;
pub mod fixtures;
pub mod hours;
pub mod intake;
pub mod rng;
pub mod truth;

use assignment::Allocation;
use rand::Rng;
use rand_distr::{Beta, Distribution as _, StandardNormal};

use crate::model::{
    ArmId, AssignmentRule, Comparison, CriterionTest, DirectValue, Distribution, ExitKind, Measure,
    ProcessRef, RateMeaning, TrialModel, VarId, WorkRate,
};
use crate::stats::dist::norm_cdf;
use crate::table::{CovariateColumn, MISSING_CODE, ParticipantTable, flags};

/// Why a model cannot be simulated as given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct SimError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, SimError> {
    Err(SimError(msg.into()))
}

/// Options of a simulation that are not part of the model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimOptions {
    /// Overrides the model's sample: exactly this many participants in every arm.
    pub n_per_arm: Option<u32>,
    /// Draw only what the analysis plan and the process read: in a fixed sample, covariates
    /// that no analysis, rate or stratum refers to, and outcomes no analysis compares, are left
    /// missing (NaN, or the missing level code) instead of drawn. Results of the plan are
    /// unchanged in distribution; `power` runs this way. Off by default (a complete table).
    pub lean: bool,
}

/// Largest population the engine accepts per replicate (pool or total sample).
pub const MAX_PARTICIPANTS: u64 = 50_000_000;

/// Uniform on [0, 1) with 53 random bits.
#[inline]
pub(crate) fn u01<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Uniform on (0, 1] with 53 random bits.
#[inline]
fn u01_open<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    ((rng.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The 53 random bits of a word that the uniforms use: [`u01`] is `bits53(w)·2⁻⁵³` and
/// [`u01_open`] is `(bits53(w) + 1)·2⁻⁵³` for the same word `w`.
#[inline(always)]
fn bits53(word: u64) -> u64 {
    word >> 11
}

/// 2⁵³, the denominator of every uniform the engine draws.
const TWO_53: f64 = (1u64 << 53) as f64;

/// The bound that decides `u < q` for a uniform `u = k·2⁻⁵³` on its integer `k`: `u < q` exactly
/// when `k < lt_bound(q)`. Scaling by 2⁵³ is exact in binary floating point, so comparing the
/// integer decides as comparing the f64 would, without converting the word (which also lets the
/// branch that follows resolve sooner). A NaN or negative `q` gives 0 (never below).
#[inline]
fn lt_bound(q: f64) -> u64 {
    (q * TWO_53).ceil() as u64
}

/// As [`lt_bound`] for `u ≤ q`: `u ≤ q` exactly when `k < le_bound(q)`.
#[inline]
fn le_bound(q: f64) -> u64 {
    if q >= 0.0 {
        ((q * TWO_53).floor() as u64).saturating_add(1)
    } else {
        0
    }
}

/// For an event at rate `c` per month, E = −ln U (U = k·2⁻⁵³, 1 ≤ k ≤ 2⁵³) and its time E / c:
/// every k below this bound has E / c > `horizon` (and ⌈E / c⌉ > `horizon`), so the event falls
/// after the horizon without a logarithm being taken. The bound is exp(−c·horizon) lowered by a
/// relative 1e-9, far more than the logarithm's rounding, so it never decides a uniform the
/// logarithm would decide otherwise. 0 (nothing known) for a rate that is not positive.
fn never_within(c: f64, horizon: u32) -> u64 {
    if c > 0.0 {
        le_bound((-c * f64::from(horizon)).exp() * (1.0 - 1e-9))
    } else {
        0
    }
}

/// Exp(1) by inversion: −ln U with U uniform on (0, 1].
#[inline]
pub(crate) fn exp1<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    -u01_open(rng).ln()
}

/// Uniform integer in 0..n (n ≥ 1), by Lemire's multiply-shift (bias < n / 2^64).
#[inline]
fn below<R: Rng + ?Sized>(rng: &mut R, n: u32) -> u32 {
    ((u128::from(rng.next_u64()) * u128::from(n)) >> 64) as u32
}

/// Index drawn from cumulative probabilities (the last entry is treated as 1): the first index
/// whose cumulative probability exceeds `u`, counted without a branch (the entries do not
/// decrease, so the entries at or below `u` are exactly the ones before it).
#[inline]
fn pick(cum: &[f64], u: f64) -> usize {
    let last = cum.len().saturating_sub(1);
    cum[..last].iter().map(|&c| usize::from(u >= c)).sum()
}

/// [`pick`] on the integer of a [`u01`] uniform, `bits53(w)`, with the cumulative probabilities
/// as [`lt_bound`]s: `u ≥ c` exactly when `k ≥ lt_bound(c)`.
#[inline]
fn pick_bits(cum_lt: &[u64], k: u64) -> usize {
    let last = cum_lt.len().saturating_sub(1);
    cum_lt[..last].iter().map(|&c| usize::from(k >= c)).sum()
}

/// Appends `n` level codes to `col`, each drawn from one word with [`pick_bits`] on `cum_lt`.
/// The generator is copied in and out, so that its state stays in registers through the loop
/// (through the reference it would be loaded and stored for every word); two and three levels,
/// the common cases, keep their bounds in registers too.
#[inline(never)]
fn draw_levels<R: Rng + Clone>(cum_lt: &[u64], n: usize, col: &mut Vec<u32>, rng: &mut R) {
    let mut local = rng.clone();
    col.reserve(n);
    match *cum_lt {
        [c0, _] => {
            for _ in 0..n {
                col.push(u32::from(bits53(local.next_u64()) >= c0));
            }
        }
        [c0, c1, _] => {
            for _ in 0..n {
                let k = bits53(local.next_u64());
                col.push(u32::from(k >= c0) + u32::from(k >= c1));
            }
        }
        _ => {
            for _ in 0..n {
                col.push(pick_bits(cum_lt, bits53(local.next_u64())) as u32);
            }
        }
    }
    *rng = local;
}

fn cumulative(weights: impl Iterator<Item = f64>) -> Vec<f64> {
    let w: Vec<f64> = weights.collect();
    let total: f64 = w.iter().sum();
    let mut acc = 0.0;
    w.iter()
        .map(|x| {
            acc += if total > 0.0 { x / total } else { 0.0 };
            acc
        })
        .collect()
}

/// A numeric distribution ready to sample.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NumDist {
    Uniform {
        low: f64,
        high: f64,
    },
    Normal {
        mean: f64,
        sd: f64,
    },
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    Fixed(f64),
    /// Numeric levels of a categorical distribution: cumulative probabilities and values.
    Levels {
        cum: Vec<f64>,
        values: Vec<f64>,
    },
}

impl NumDist {
    pub(crate) fn from_model(d: &Distribution, what: &str) -> Result<Self, SimError> {
        Ok(match d {
            Distribution::Uniform { low, high } => Self::Uniform {
                low: *low,
                high: *high,
            },
            Distribution::Normal { mean, sd } => Self::Normal {
                mean: *mean,
                sd: *sd,
            },
            Distribution::LogNormal { median, sigma } => {
                if *median <= 0.0 {
                    return err(format!("{what}: a log-normal median must be positive"));
                }
                Self::LogNormal {
                    mu: median.ln(),
                    sigma: *sigma,
                }
            }
            Distribution::Fixed { value } => Self::Fixed(*value),
            Distribution::Categorical { levels } => {
                let mut values = Vec::with_capacity(levels.len());
                for l in levels {
                    match l.value {
                        Some(v) => values.push(v),
                        None => {
                            return err(format!("{what}: level `{}` has no numeric value", l.name));
                        }
                    }
                }
                Self::Levels {
                    cum: cumulative(levels.iter().map(|l| l.probability)),
                    values,
                }
            }
        })
    }

    #[inline(always)]
    pub(crate) fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Self::Uniform { low, high } => low + (high - low) * u01(rng),
            Self::Normal { mean, sd } => {
                let z: f64 = StandardNormal.sample(rng);
                mean + sd * z
            }
            Self::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Self::Fixed(v) => *v,
            Self::Levels { cum, values } => values[pick(cum, u01(rng))],
        }
    }

    /// P(X ≥ x).
    pub(crate) fn sf(&self, x: f64) -> f64 {
        match self {
            Self::Uniform { low, high } => {
                if x <= *low {
                    1.0
                } else if x >= *high {
                    0.0
                } else {
                    (high - x) / (high - low)
                }
            }
            Self::Normal { mean, sd } => 1.0 - norm_cdf((x - mean) / sd),
            Self::LogNormal { mu, sigma } => {
                if x <= 0.0 {
                    1.0
                } else {
                    1.0 - norm_cdf((x.ln() - mu) / sigma)
                }
            }
            Self::Fixed(v) => f64::from(u8::from(*v >= x)),
            Self::Levels { cum, values } => {
                let mut prev = 0.0;
                let mut p = 0.0;
                for (c, v) in cum.iter().zip(values) {
                    if *v >= x {
                        p += c - prev;
                    }
                    prev = *c;
                }
                p
            }
        }
    }

    /// E[X] and E[X²].
    pub(crate) fn moments(&self) -> (f64, f64) {
        match self {
            Self::Uniform { low, high } => (
                (low + high) / 2.0,
                (low * low + low * high + high * high) / 3.0,
            ),
            Self::Normal { mean, sd } => (*mean, mean * mean + sd * sd),
            Self::LogNormal { mu, sigma } => (
                (mu + sigma * sigma / 2.0).exp(),
                (2.0 * mu + 2.0 * sigma * sigma).exp(),
            ),
            Self::Fixed(v) => (*v, v * v),
            Self::Levels { cum, values } => {
                let (mut prev, mut m1, mut m2) = (0.0, 0.0, 0.0);
                for (c, v) in cum.iter().zip(values) {
                    m1 += (c - prev) * v;
                    m2 += (c - prev) * v * v;
                    prev = *c;
                }
                (m1, m2)
            }
        }
    }
}

/// How one covariate is drawn.
#[derive(Debug, Clone)]
enum VarSampler {
    Categorical {
        /// Cumulative probabilities over all levels (pool draws).
        cum_all: Vec<f64>,
        /// Cumulative probabilities over the admitted levels only (conditional draws), as
        /// [`lt_bound`]s for [`pick_bits`].
        elig_lt: Vec<u64>,
        admitted: Vec<bool>,
        /// Level probabilities conditional on eligibility.
        probs_elig: Vec<f64>,
    },
    Numeric {
        dist: NumDist,
        /// The same distribution truncated to the criteria, when that can be done directly.
        truncated: Option<NumDist>,
        criteria: Vec<(Comparison, f64)>,
    },
}

impl VarSampler {
    fn numeric_ok(criteria: &[(Comparison, f64)], x: f64) -> bool {
        criteria.iter().all(|(op, v)| op.holds(x, *v))
    }
}

/// A path's prepared work process.
#[derive(Debug, Clone)]
pub(crate) struct PathPlan {
    pub(crate) delay: u32,
    /// The categorical variable whose level selects the hazard, if rates differ by level.
    pub(crate) by: Option<VarId>,
    /// Cumulative hazard per month, −ln(1 − h): one entry, or one per level of `by`.
    pub(crate) c: Vec<f64>,
    /// Per entry of `c`: the probability of no job start in months 1..=horizon for a
    /// participant who follows only this path from intake, exp(−c · (horizon − delay)).
    no_start: Vec<f64>,
    /// `no_start` as [`lt_bound`]s, for the simple kernel.
    no_start_lt: Vec<u64>,
    /// Per entry of `c`: the month of the first job start of such a participant, by table.
    starts: Vec<StartTable>,
}

/// The first job-start month of someone who follows one path from intake, from one uniform U
/// without a logarithm. With E = −ln U the month is the delay + 1 + ⌊E / c⌋ (see
/// [`Schedule::next_event`]), and ⌊E / c⌋ ≥ j exactly when U ≤ exp(−c·j), so the month is a count
/// of thresholds. Each threshold is widened by a relative 1e-9 on both sides; a uniform that falls
/// inside such a band (probability about 1e-9 per start) is decided by the logarithm, so the month
/// is always the one the logarithm gives. The uniform arrives as its integer `k` (U = k·2⁻⁵³) and
/// the thresholds are kept as the bounds that decide `U ≤ t` on it ([`le_bound`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct StartTable {
    /// U ≤ exp(−c·j)·(1 − 1e-9) for j = 1..L−1 (L = horizon − delay months in which to start).
    sure: Vec<u64>,
    /// U ≤ exp(−c·j)·(1 + 1e-9) for j = 1..=L.
    edge: Vec<u64>,
    /// For a uniform in [b/B, (b+1)/B) (B = `BUCKETS`): the number of `sure` thresholds at or
    /// above (b+1)/B, which it certainly does not exceed; the few below are compared one by one.
    bucket: Vec<u32>,
}

/// Buckets of the unit interval in a [`StartTable`].
const BUCKETS: usize = 1024;

/// The longest stretch of months a [`StartTable`] is built for.
const MAX_TABLE_MONTHS: u32 = 600;

impl StartTable {
    fn new(c: f64, months: u32) -> Self {
        let t = |j: u32| (-c * f64::from(j)).exp();
        let sure_f: Vec<f64> = (1..months).map(|j| t(j) * (1.0 - 1e-9)).collect();
        // From the top bucket down the count only grows: one pass over both.
        let mut bucket = vec![0u32; BUCKETS];
        let mut k = 0usize;
        for (b, count) in bucket.iter_mut().enumerate().rev() {
            let top = (b + 1) as f64 / BUCKETS as f64;
            while sure_f.get(k).is_some_and(|&x| x >= top) {
                k += 1;
            }
            *count = k as u32;
        }
        Self {
            sure: sure_f.iter().map(|&x| le_bound(x)).collect(),
            edge: (1..=months)
                .map(|j| le_bound(t(j) * (1.0 + 1e-9)))
                .collect(),
            bucket,
        }
    }

    /// The number of `sure` thresholds at or above U = k·2⁻⁵³ (k ≤ 2⁵³).
    #[inline(always)]
    fn count(&self, k: u64) -> u32 {
        // ⌊U·B⌋ = ⌊k·2⁻⁴³⌋, capped for U = 1.
        let b = ((k >> 43) as usize).min(BUCKETS - 1);
        let mut n = self.bucket.get(b).copied().unwrap_or(0);
        while self.sure.get(n as usize).is_some_and(|&x| k < x) {
            n += 1;
        }
        n
    }
}

impl PathPlan {
    #[inline]
    fn no_start_for(&self, level: u32) -> f64 {
        if self.no_start.len() == 1 {
            self.no_start[0]
        } else {
            self.no_start.get(level as usize).copied().unwrap_or(1.0)
        }
    }

    /// The first job-start month from the uniform U = k·2⁻⁵³ (1 ≤ k ≤ 2⁵³, U at least the
    /// probability of no start) for entry `entry` of `c`, as
    /// `Schedule::starting((1 + delay, c)).next_event(0, −ln U, horizon)` gives it.
    #[inline(always)]
    fn first_start(&self, entry: usize, k: u64, horizon: u32) -> Option<u32> {
        if let Some(table) = self.starts.get(entry) {
            let n = table.count(k);
            // U > edge ⟺ not U ≤ edge.
            if table.edge.get(n as usize).is_some_and(|&t| k >= t) {
                return Some(1 + self.delay + n);
            }
        }
        self.first_start_by_log(entry, k, horizon)
    }

    /// [`Self::first_start`] by the logarithm, for the rare uniform next to a threshold.
    #[cold]
    #[inline(never)]
    fn first_start_by_log(&self, entry: usize, k: u64, horizon: u32) -> Option<u32> {
        let c = self.c.get(entry).copied().unwrap_or(0.0);
        let u = k as f64 / TWO_53;
        Schedule::starting((1 + self.delay, c)).next_event(0, -u.ln(), horizon)
    }

    /// The entry of `c` that applies at `level` (None for a level without a rate).
    #[inline]
    fn entry(&self, level: Option<u32>) -> Option<usize> {
        match level {
            _ if self.c.len() == 1 => Some(0),
            Some(l) if (l as usize) < self.c.len() => Some(l as usize),
            _ => None,
        }
    }

    #[inline]
    pub(crate) fn c_for(&self, level: u32) -> f64 {
        if self.c.len() == 1 {
            self.c[0]
        } else {
            self.c.get(level as usize).copied().unwrap_or(0.0)
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ArmPlan {
    pub(crate) path_cum: Vec<f64>,
    /// `path_cum` as [`lt_bound`]s, for [`pick_bits`].
    path_lt: Vec<u64>,
    pub(crate) path_shares: Vec<f64>,
    pub(crate) paths: Vec<PathPlan>,
    pub(crate) baseline: f64,
    pub(crate) dropout: Option<(f64, ProcessRef)>,
    pub(crate) exemption: Option<(f64, u32)>,
    /// −ln(1 − q) of the monthly non-work exit probability q (0 when none).
    pub(crate) exit_c: f64,
    /// [`never_within`] of `exit_c` and the horizon.
    exit_never: u64,
    pub(crate) crossover: Option<(f64, ProcessRef, u32)>,
    direct: Vec<Option<DirectSampler>>,
    /// Competing exits (see [`ExitPlan`]).
    pub(crate) exits: Option<ExitPlan>,
    /// Per outcome: the index of its `exited to` destination among this arm's exits.
    exit_outcome: Vec<Option<usize>>,
    /// Path shares by the level of a covariate, when a path declares `by`.
    pub(crate) path_by: Option<PathBy>,
    /// Loss to follow-up (see [`LostPlan`]).
    pub(crate) lost: Option<LostPlan>,
}

/// An arm's loss to follow-up, prepared: the month of loss L ≥ 1 is ⌈E / c⌉ with E ~ Exp(1),
/// so P(L > m) = exp(−c·m); outcomes measured in month L or later are missing.
#[derive(Debug, Clone)]
pub(crate) struct LostPlan {
    /// Hazard of loss per month, −ln(1 − share) / month: one entry, or one per level of `by`.
    c: Vec<f64>,
    /// The categorical covariate whose level selects the hazard, if shares differ by level.
    by: Option<VarId>,
    /// The binary outcome whose value 1 multiplies the hazard, and the factor.
    factor: Option<(usize, f64)>,
    /// The month the stated share refers to (counted in the flows).
    by_month: u32,
}

impl LostPlan {
    fn new(l: &crate::model::LostToFollowUp) -> Self {
        let month = f64::from(l.by_month.max(1));
        let c = |p: f64| rate_c(p) / month;
        Self {
            c: match &l.by {
                Some(b) => (0..b.probabilities.len())
                    .map(|level| c(l.share_at(Some(level))))
                    .collect(),
                None => vec![c(l.share)],
            },
            by: l.by.as_ref().map(|b| b.variable),
            factor: l
                .outcome_factor
                .as_ref()
                .map(|f| (f.outcome, f.hazard_ratio)),
            by_month: l.by_month,
        }
    }
}

/// Competing exits of an arm in continuous time: the first exit happens at rate `total` per
/// month, to destination k with probability `probs[k] / Σ probs`, so that the cumulative
/// incidence of destination k by the window's end is exactly `probs[k]`. The month is the
/// ceiling of the continuous time.
#[derive(Debug, Clone)]
pub(crate) struct ExitPlan {
    pub(crate) total: f64,
    /// [`never_within`] of `total` and the horizon.
    never: u64,
    cum: Vec<f64>,
    kinds: Vec<ExitKind>,
}

/// Path shares that depend on the level of one categorical covariate.
#[derive(Debug, Clone)]
pub(crate) struct PathBy {
    pub(crate) var: VarId,
    /// Per level: cumulative shares over the arm's paths.
    cum: Vec<Vec<f64>>,
    /// Per level: the shares.
    pub(crate) shares: Vec<Vec<f64>>,
}

impl ArmPlan {
    /// The path shares at `level` of the covariate they depend on (the arm's own when none).
    pub(crate) fn shares_at(&self, level: u32) -> &[f64] {
        match &self.path_by {
            Some(b) => b.shares.get(level as usize).unwrap_or(&self.path_shares),
            None => &self.path_shares,
        }
    }
}

#[derive(Debug, Clone)]
enum DirectSampler {
    Binary(f64),
    Continuous(NumDist),
}

/// Piecewise-constant monthly cumulative hazard: segment i covers months start[i]..start[i+1]−1.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schedule {
    start: [u32; 8],
    c: [f64; 8],
    len: usize,
}

impl Schedule {
    /// Hazard zero until month `start`, `c` from then on.
    #[inline]
    pub(crate) fn starting((start, c): (u32, f64)) -> Self {
        let mut s = Self::new();
        s.push(start, c);
        s
    }

    #[inline]
    pub(crate) fn new() -> Self {
        let mut s = Self {
            start: [0; 8],
            c: [0.0; 8],
            len: 0,
        };
        s.push(1, 0.0);
        s
    }

    /// From month `start` on, the hazard is `c` (later segments are dropped).
    #[inline]
    pub(crate) fn push(&mut self, start: u32, c: f64) {
        while self.len > 0 && self.start[self.len - 1] >= start {
            self.len -= 1;
        }
        if self.len < self.start.len() {
            self.start[self.len] = start;
            self.c[self.len] = c;
            self.len += 1;
        }
    }

    /// The hazard in month `t` (as −ln(1 − h)).
    pub(crate) fn c_at(&self, t: u32) -> f64 {
        let mut c = 0.0;
        for i in 0..self.len {
            if self.start[i] <= t {
                c = self.c[i];
            }
        }
        c
    }

    /// First month t in (t0, horizon] at which the cumulative hazard since t0 reaches `e`.
    #[inline]
    fn next_event(&self, t0: u32, mut e: f64, horizon: u32) -> Option<u32> {
        for i in 0..self.len {
            // A later segment may start after the horizon (a crossover after the follow-up):
            // no month past the horizon counts.
            let hi = if i + 1 < self.len {
                (self.start[i + 1] - 1).min(horizon)
            } else {
                horizon
            };
            let lo = self.start[i].max(t0 + 1);
            let c = self.c[i];
            if lo > hi || c <= 0.0 {
                continue;
            }
            let len = f64::from(hi - lo + 1);
            // The k-th month of the stretch, k = ⌈e / c⌉ (≥ 1); truncation is ⌈·⌉ − 1 except on
            // a set of probability zero, and avoids a libm call.
            let x = e / c;
            if x <= len {
                return Some(lo + (x as u32).min(hi - lo));
            }
            e -= c * len;
        }
        None
    }
}

/// One job spell: months `start..=end` in work.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Spell {
    start: u32,
    end: u32,
    hours: f64,
    wage: f64,
}

/// Index of the counters of one arm in [`Worker::flows`]; see [`FlowLayout`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowLayout {
    /// Number of arms.
    pub arms: usize,
    /// Paths per arm.
    pub paths: Vec<usize>,
    /// Months at which "found work within m" and "employed at month m" are counted.
    pub months: Vec<u32>,
    offsets: Vec<usize>,
    /// Total number of counters.
    pub len: usize,
}

/// Counters per arm, in this order.
pub mod counter {
    /// Participants.
    pub const N: usize = 0;
    /// Dropouts before intake.
    pub const DROPOUT: usize = 1;
    /// Temporarily exempted.
    pub const EXEMPT: usize = 2;
    /// Crossed over.
    pub const CROSSOVER: usize = 3;
    /// Non-work exits within the follow-up.
    pub const NON_WORK_EXIT: usize = 4;
    /// In work at intake.
    pub const BASELINE: usize = 5;
    /// Lost to follow-up by the month the arm's share refers to.
    pub const LOST: usize = 6;
    /// Fixed counters before the per-path and per-month ones.
    pub const FIXED: usize = 7;
}

impl FlowLayout {
    /// Offset of arm `a`'s counters.
    pub fn arm(&self, a: usize) -> usize {
        self.offsets[a]
    }
    /// Offset of the path counter (participants on path `p`, dropouts excluded).
    pub fn path(&self, a: usize, p: usize) -> usize {
        self.offsets[a] + counter::FIXED + p
    }
    /// Offset of the "a job start in months 1..=m" counter for `months[i]`.
    pub fn found_within(&self, a: usize, i: usize) -> usize {
        self.offsets[a] + counter::FIXED + self.paths[a] + i
    }
    /// Offset of the "in work in month m" counter for `months[i]`.
    pub fn employed_at(&self, a: usize, i: usize) -> usize {
        self.offsets[a] + counter::FIXED + self.paths[a] + self.months.len() + i
    }
}

/// Per-thread scratch: the participant table and buffers, reused replicate after replicate.
#[derive(Debug, Clone)]
pub struct Worker {
    /// The participants of the last replicate.
    pub table: ParticipantTable,
    /// Flow counters of the last replicate (see [`FlowLayout`]).
    pub flows: Vec<u64>,
    spells: Vec<Spell>,
    cov: Vec<f64>,
    labels: Vec<u32>,
    blocks: Vec<(Vec<u32>, usize)>,
    /// Regrouping rows by arm after blocked assignment: each arm's next row, each row's
    /// destination, and a spare column of each kind.
    arm_start: Vec<usize>,
    destination: Vec<u32>,
    scratch_codes: Vec<u32>,
    scratch_values: Vec<f64>,
    /// Per cluster: the cumulative hazard of each path of its arm (stride: most paths of an arm).
    cluster_c: Vec<f64>,
    /// Per cluster: the probability of each directly declared binary outcome.
    cluster_p: Vec<f64>,
    /// Intake month per participant, with an inflow.
    entry: Vec<u32>,
    /// The simulator whose fixed sample `table` is laid out for: its ids, arms and the columns a
    /// lean run leaves missing are the same in every replicate and are written only once.
    laid_out_for: Option<u64>,
    /// The simple kernel's count of first job starts by month, in one run of an arm.
    start_months: Vec<u64>,
    /// The queue for caseload slots, with the clock at randomisation.
    pub(crate) queue: intake::QueueState,
    /// The month in which the participant just drawn was lost to follow-up (`u32::MAX`: not
    /// within the horizon, or no loss declared).
    lost_month: u32,
}

/// Tells simulators apart, for [`Worker::laid_out_for`].
static NEXT_SIMULATOR: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How the replicate's participants are generated.
#[derive(Debug, Clone, PartialEq)]
enum Population {
    Fixed(Vec<u32>),
    Pool(u64),
}

/// A model prepared for simulation.
#[derive(Debug, Clone)]
pub struct Simulator<'m> {
    /// Unique per prepared model (clones share it: they lay out tables alike).
    id: u64,
    model: &'m TrialModel,
    vars: Vec<VarSampler>,
    pub(crate) arms: Vec<ArmPlan>,
    population: Population,
    pub(crate) horizon: u32,
    pub(crate) loss_c: f64,
    /// `keep[j]`: a uniform at or below it gives a job spell that outlasts `j` more months
    /// (exp(−loss_c · j), lowered by a relative 1e-9 so that it never decides a uniform the
    /// logarithm would decide otherwise); spares the logarithm for most spells.
    keep: Vec<f64>,
    pub(crate) loss: f64,
    pub(crate) hours: NumDist,
    wage: Option<NumDist>,
    layout: FlowLayout,
    strata_radix: Vec<(VarId, u32)>,
    /// How a fixed sample is split over the arms in each replicate.
    allocation: Allocation,
    /// The queue for caseload slots (capacity with the clock at randomisation).
    pub(crate) queue: Option<intake::QueuePlan>,
    /// Most paths of any arm (the stride of `Worker::cluster_c`).
    max_paths: usize,
    /// Per covariate: drawn (else left missing).
    draw_var: Vec<bool>,
    /// Per outcome: evaluated (else left missing).
    eval_outcome: Vec<bool>,
    /// Evaluated outcomes that can be non-zero for someone never in work (benefit ended, direct).
    not_work_outcomes: Vec<usize>,
    /// Evaluated outcomes with their measure in a copyable form, for someone who worked.
    eval_measures: Vec<(usize, Eval)>,
    /// The whole replicate in the simple kernel, when the model has no flows that need the
    /// general one (see [`SimpleMeasure`]).
    simple: Option<Vec<SimpleMeasure>>,
    /// Per outcome: the month it is measured in, for loss to follow-up (the measure's month;
    /// the window's end for `worked within`; the follow-up for a direct outcome).
    measured_at: Vec<u32>,
}

/// What an evaluated measure is for someone whose only job starts in month `s` and lasts to the
/// horizon with `hours` a month: when `s ≤ latest_start` and `hours ≥ min_hours`, 1 (or the
/// hours, for an hours measure), else 0.
///
/// In a model without baseline employment, dropout, exemption, crossover, exits, wages,
/// clusters, inflow, rates or shares by level and direct outcomes, every participant follows
/// one path from intake, and the simple kernel ([`Simulator::simulate_simple`]) draws the same
/// numbers in the same order as the general one and writes the same table, with far less
/// bookkeeping. Without job loss a job lasts to the horizon and these rules evaluate it; with
/// job loss the kernel draws the spells and evaluates them as the general kernel does.
#[derive(Debug, Clone, Copy)]
struct SimpleMeasure {
    outcome: usize,
    latest_start: u32,
    min_hours: f64,
    hours: bool,
}

impl SimpleMeasure {
    /// The measure's rule for one job from month s to the horizon `h`; None for a measure the
    /// simple kernel does not evaluate.
    fn of(outcome: usize, e: Eval, h: u32) -> Option<Self> {
        // A month after the horizon is never in work (the general evaluation asks end ≥ month).
        let by = |month: u32| if month <= h { month } else { 0 };
        let (latest_start, min_hours, hours) = match e {
            Eval::EmployedAt { month, min_hours } => (by(month), min_hours, false),
            Eval::WorkedWithin { within, min_hours } => (within, min_hours, false),
            Eval::Durable {
                month,
                consecutive,
                min_hours,
            } => {
                let first = i64::from(month) - i64::from(consecutive) + 1;
                let latest = u32::try_from(first).unwrap_or(0);
                (if month <= h { latest } else { 0 }, min_hours, false)
            }
            Eval::Hours { month } => (by(month), f64::NEG_INFINITY, true),
            Eval::BenefitEnded { month } => (month, f64::NEG_INFINITY, false),
            Eval::Wage { .. } | Eval::ExitedTo { .. } | Eval::Direct => return None,
        };
        Some(Self {
            outcome,
            latest_start,
            min_hours,
            hours,
        })
    }
}

/// A [`Measure`] without the destination name, read per participant without cloning.
#[derive(Debug, Clone, Copy)]
enum Eval {
    EmployedAt {
        month: u32,
        min_hours: f64,
    },
    WorkedWithin {
        within: u32,
        min_hours: f64,
    },
    Durable {
        month: u32,
        consecutive: u32,
        min_hours: f64,
    },
    Hours {
        month: u32,
    },
    Wage {
        month: u32,
    },
    BenefitEnded {
        month: u32,
    },
    ExitedTo {
        month: u32,
    },
    Direct,
}

impl Eval {
    fn of(m: &Measure) -> Self {
        match *m {
            Measure::EmployedAt { month, min_hours } => Self::EmployedAt { month, min_hours },
            Measure::WorkedWithin { within, min_hours } => Self::WorkedWithin { within, min_hours },
            Measure::Durable {
                month,
                consecutive,
                min_hours,
            } => Self::Durable {
                month,
                consecutive,
                min_hours,
            },
            Measure::Hours { month } => Self::Hours { month },
            Measure::Wage { month } => Self::Wage { month },
            Measure::BenefitEnded { month } => Self::BenefitEnded { month },
            Measure::ExitedTo { month, .. } => Self::ExitedTo { month },
            Measure::DirectBinary | Measure::DirectContinuous => Self::Direct,
        }
    }
}

fn rate_c(p: f64) -> f64 {
    if p >= 1.0 {
        f64::INFINITY
    } else {
        -(-p).ln_1p()
    }
}

/// P(in work in month m) for someone starting out of work with probability 1 − b, when the
/// job-start hazard is zero in months 1..=d and `h` afterwards, and jobs end with λ per month.
pub(crate) fn employed_at_prob(h: f64, lambda: f64, b: f64, d: u32, m: u32) -> f64 {
    let mut e = b;
    for t in 1..=m {
        let ht = if t > d { h } else { 0.0 };
        e = e * (1.0 - lambda) + (1.0 - e) * ht;
    }
    e
}

/// Calibrates a stated rate into the monthly job-start hazard h (see the module docs).
pub fn calibrate(
    rate: &WorkRate,
    p: f64,
    delay: u32,
    job_loss: f64,
    baseline: f64,
) -> Result<f64, SimError> {
    let m = rate.months;
    if m <= delay {
        return err(format!(
            "a rate over {m} months cannot be reached after a delay of {delay} months"
        ));
    }
    match rate.meaning {
        RateMeaning::FoundWithin => Ok(1.0 - (1.0 - p).powf(1.0 / f64::from(m - delay))),
        RateMeaning::EmployedAt => {
            let f = |h| employed_at_prob(h, job_loss, baseline, delay, m);
            let (lo_v, hi_v) = (f(0.0), f(1.0));
            if p < lo_v - 1e-12 || p > hi_v + 1e-12 {
                return err(format!(
                    "`employed at month {m}: {:.2}%` is out of reach: with {:.2}% monthly job \
                     loss, {:.2}% baseline employment and a {delay}-month delay, any hazard gives \
                     between {:.2}% and {:.2}%",
                    100.0 * p,
                    100.0 * job_loss,
                    100.0 * baseline,
                    100.0 * lo_v,
                    100.0 * hi_v
                ));
            }
            let (mut lo, mut hi) = (0.0, 1.0);
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if f(mid) < p {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            Ok(0.5 * (lo + hi))
        }
    }
}

impl<'m> Simulator<'m> {
    /// Prepares `model` for simulation.
    pub fn new(model: &'m TrialModel, options: SimOptions) -> Result<Self, SimError> {
        if model.arms.is_empty() {
            return err("the model has no arms");
        }
        let n_arms = model.arms.len();
        // Covariates.
        let mut vars = Vec::with_capacity(model.population.variables.len());
        for (vi, var) in model.population.variables.iter().enumerate() {
            let criteria: Vec<_> = model
                .eligibility
                .criteria
                .iter()
                .filter(|c| c.variable == vi)
                .collect();
            match &var.distribution {
                Distribution::Categorical { levels } => {
                    let mut admitted = vec![true; levels.len()];
                    for c in &criteria {
                        for (li, l) in levels.iter().enumerate() {
                            let ok = match &c.test {
                                CriterionTest::InSet { levels } => levels.contains(&li),
                                CriterionTest::Compare { op, value } => {
                                    l.value.is_some_and(|v| op.holds(v, *value))
                                }
                            };
                            admitted[li] &= ok;
                        }
                    }
                    let w: Vec<f64> = levels
                        .iter()
                        .zip(&admitted)
                        .map(|(l, a)| if *a { l.probability } else { 0.0 })
                        .collect();
                    let total: f64 = w.iter().sum();
                    if total <= 0.0 {
                        return err(format!(
                            "the criteria on `{}` admit no level with positive probability",
                            var.name
                        ));
                    }
                    vars.push(VarSampler::Categorical {
                        cum_all: cumulative(levels.iter().map(|l| l.probability)),
                        elig_lt: cumulative(w.iter().copied())
                            .into_iter()
                            .map(lt_bound)
                            .collect(),
                        admitted,
                        probs_elig: w.iter().map(|x| x / total).collect(),
                    });
                }
                d => {
                    let dist = NumDist::from_model(d, &var.name)?;
                    let mut cr = Vec::new();
                    for c in &criteria {
                        match &c.test {
                            CriterionTest::Compare { op, value } => cr.push((*op, *value)),
                            CriterionTest::InSet { .. } => {
                                return err(format!(
                                    "`{}` is numeric; a set criterion needs levels",
                                    var.name
                                ));
                            }
                        }
                    }
                    let (truncated, acceptance) = truncate(&dist, &cr);
                    if acceptance < 1e-4 {
                        return err(format!(
                            "the criteria on `{}` admit {:.4}% of its distribution; too few to \
                             sample",
                            var.name,
                            100.0 * acceptance
                        ));
                    }
                    vars.push(VarSampler::Numeric {
                        dist,
                        truncated,
                        criteria: cr,
                    });
                }
            }
        }
        // Population.
        let population = match (options.n_per_arm, &model.sample, model.population.pool) {
            (Some(0), _, _) => return err("--n-per-arm must be at least 1"),
            (Some(n), _, _) => Population::Fixed(vec![n; n_arms]),
            (None, Some(s), _) => {
                if s.len() != n_arms {
                    return err("the sample gives a size for a different number of arms");
                }
                Population::Fixed(s.clone())
            }
            (None, None, Some(pool)) => Population::Pool(pool),
            (None, None, None) => {
                return err(
                    "the model fixes neither a sample nor a pool; give `--n-per-arm N` or a \
                     `sample` in the spec",
                );
            }
        };
        let total = match &population {
            Population::Fixed(v) => v.iter().map(|&n| u64::from(n)).sum(),
            Population::Pool(p) => *p,
        };
        if total > MAX_PARTICIPANTS {
            return err(format!(
                "{total} participants per replicate is more than the engine's limit of \
                 {MAX_PARTICIPANTS}"
            ));
        }
        let emp = &model.employment;
        let loss = emp.job_loss_per_month;
        let hours = NumDist::from_model(&emp.hours, "hours")?;
        let wage = match &emp.wage {
            Some(w) => Some(NumDist::from_model(w, "wage")?),
            None => None,
        };
        // Arms.
        let mut arms = Vec::with_capacity(n_arms);
        for arm in &model.arms {
            if arm.paths.is_empty() {
                return err(format!("arm `{}` has no path", arm.name));
            }
            let mut paths = Vec::with_capacity(arm.paths.len());
            for p in &arm.paths {
                let cal = |prob: f64| {
                    calibrate(&p.work, prob, p.delay_months, loss, arm.baseline_employment)
                        .map(rate_c)
                };
                let (by, c) = match &p.work.by {
                    None => (
                        None,
                        vec![cal(p.work.probability).map_err(|e| {
                            SimError(format!("arm `{}`, path `{}`: {}", arm.name, p.name, e.0))
                        })?],
                    ),
                    Some(by) => {
                        let mut c = Vec::with_capacity(by.probabilities.len());
                        for q in &by.probabilities {
                            c.push(cal(q.unwrap_or(p.work.probability)).map_err(|e| {
                                SimError(format!("arm `{}`, path `{}`: {}", arm.name, p.name, e.0))
                            })?);
                        }
                        (Some(by.variable), c)
                    }
                };
                paths.push(PathPlan {
                    delay: p.delay_months,
                    by,
                    c,
                    no_start: Vec::new(),
                    no_start_lt: Vec::new(),
                    starts: Vec::new(),
                });
            }
            let check_ref = |r: &ProcessRef| -> Result<(), SimError> {
                let ok = r.arm < n_arms
                    && r.path
                        .is_none_or(|p| p < model.arms[r.arm].paths.len().max(1));
                if ok {
                    Ok(())
                } else {
                    err("a flow refers to an unknown arm or path")
                }
            };
            let dropout = match &arm.dropout {
                Some(d) => {
                    check_ref(&d.follows)?;
                    Some((d.share, d.follows.clone()))
                }
                None => None,
            };
            let crossover = match &arm.crossover {
                Some(x) => {
                    check_ref(&x.to)?;
                    Some((x.share, x.to.clone(), x.after_months))
                }
                None => None,
            };
            let exit_c = match &arm.non_work_exit {
                Some(e) if e.months > 0 && e.probability > 0.0 => {
                    rate_c(1.0 - (1.0 - e.probability).powf(1.0 / f64::from(e.months)))
                }
                _ => 0.0,
            };
            let mut direct = vec![None; model.outcomes.len()];
            for d in &arm.direct_outcomes {
                if d.outcome < direct.len() {
                    direct[d.outcome] = Some(match &d.value {
                        DirectValue::Binary { probability } => DirectSampler::Binary(*probability),
                        DirectValue::Continuous { distribution } => DirectSampler::Continuous(
                            NumDist::from_model(distribution, "direct outcome")?,
                        ),
                    });
                }
            }
            let ai = arms.len();
            let exits = match model.delivery.exits.iter().find(|e| e.arm == ai) {
                Some(e) => {
                    let sum: f64 = e.destinations.iter().map(|d| d.probability).sum();
                    if e.months == 0 || sum > 1.0 + 1e-9 {
                        return err(format!("arm `{}`: invalid competing exits", arm.name));
                    }
                    let total = if sum >= 1.0 {
                        f64::INFINITY
                    } else {
                        -(-sum).ln_1p() / f64::from(e.months)
                    };
                    Some(ExitPlan {
                        total,
                        never: 0,
                        cum: cumulative(e.destinations.iter().map(|d| d.probability)),
                        kinds: e.destinations.iter().map(|d| d.kind).collect(),
                    })
                }
                None => None,
            };
            let exit_outcome = model
                .outcomes
                .iter()
                .map(|o| match &o.measure {
                    Measure::ExitedTo { destination, .. } => model
                        .delivery
                        .exits
                        .iter()
                        .find(|e| e.arm == ai)
                        .and_then(|e| e.destinations.iter().position(|d| &d.name == destination)),
                    _ => None,
                })
                .collect();
            if model.delivery.clusters.is_some() && arm.paths.iter().any(|p| p.work.by.is_some()) {
                return err(format!(
                    "arm `{}`: rates by subgroup cannot be combined with clusters",
                    arm.name
                ));
            }
            let path_by = arm.paths.iter().find_map(|p| p.share_by.as_ref()).map(|b| {
                let shares: Vec<Vec<f64>> = (0..b.probabilities.len())
                    .map(|l| {
                        arm.paths
                            .iter()
                            .map(|p| {
                                p.share_by
                                    .as_ref()
                                    .filter(|pb| pb.variable == b.variable)
                                    .and_then(|pb| pb.probabilities.get(l).copied().flatten())
                                    .unwrap_or(p.share)
                            })
                            .collect()
                    })
                    .collect();
                PathBy {
                    var: b.variable,
                    cum: shares
                        .iter()
                        .map(|s| cumulative(s.iter().copied()))
                        .collect(),
                    shares,
                }
            });
            arms.push(ArmPlan {
                lost: arm.lost_to_follow_up.as_ref().map(LostPlan::new),
                exits,
                exit_outcome,
                path_by,
                path_cum: cumulative(arm.paths.iter().map(|p| p.share)),
                path_lt: cumulative(arm.paths.iter().map(|p| p.share))
                    .into_iter()
                    .map(lt_bound)
                    .collect(),
                path_shares: arm.paths.iter().map(|p| p.share).collect(),
                paths,
                baseline: arm.baseline_employment,
                dropout,
                exemption: arm
                    .exemption
                    .as_ref()
                    .filter(|e| e.max_months > 0)
                    .map(|e| (e.share, e.max_months)),
                exit_c,
                exit_never: 0,
                crossover,
                direct,
            });
        }
        // Horizon and the months of the flows report.
        let mut months = Vec::new();
        let mut horizon = model.follow_up_months;
        for o in &model.outcomes {
            let m = match o.measure {
                Measure::EmployedAt { month, .. }
                | Measure::Durable { month, .. }
                | Measure::Hours { month }
                | Measure::Wage { month }
                | Measure::BenefitEnded { month }
                | Measure::ExitedTo { month, .. } => month,
                Measure::WorkedWithin { within, .. } => within,
                Measure::DirectBinary | Measure::DirectContinuous => continue,
            };
            horizon = horizon.max(m);
            if m > 0 && !months.contains(&m) {
                months.push(m);
            }
        }
        if model.follow_up_months > 0 && !months.contains(&model.follow_up_months) {
            months.push(model.follow_up_months);
        }
        months.sort_unstable();
        let paths: Vec<usize> = model.arms.iter().map(|a| a.paths.len()).collect();
        let mut offsets = Vec::with_capacity(n_arms);
        let mut len = 0;
        for p in &paths {
            offsets.push(len);
            len += counter::FIXED + p + 2 * months.len();
        }
        let layout = FlowLayout {
            arms: n_arms,
            paths,
            months,
            offsets,
            len,
        };
        // Strata for blocked assignment.
        let mut strata_radix = Vec::new();
        if let AssignmentRule::Blocked {
            strata,
            ratio,
            block_size,
        } = &model.assignment.rule
        {
            let w: u32 = ratio.iter().sum();
            if ratio.len() != n_arms || w == 0 || *block_size == 0 || block_size % w != 0 {
                return err(
                    "blocked assignment needs a ratio per arm and a block size that is a multiple of its sum",
                );
            }
            let mut cells: u64 = 1;
            for &v in strata {
                let levels = model
                    .population
                    .variables
                    .get(v)
                    .and_then(|x| x.levels())
                    .map_or(0, <[_]>::len);
                if levels == 0 {
                    return err("a stratification variable must be categorical");
                }
                cells = cells.saturating_mul(levels as u64);
                strata_radix.push((v, levels as u32));
            }
            if cells > 65_536 {
                return err("too many strata (more than 65,536 cells)");
            }
        }
        if let AssignmentRule::Complete { ratio } = &model.assignment.rule
            && (ratio.len() != n_arms || ratio.iter().sum::<u32>() == 0)
        {
            return err("complete randomisation needs a positive ratio per arm");
        }
        if let AssignmentRule::Parity { even, odd, .. } = model.assignment.rule
            && (even >= n_arms || odd >= n_arms)
        {
            return err("parity assignment refers to an unknown arm");
        }
        if let Some(c) = &model.delivery.clusters {
            if c.size == 0 || !(0.0..1.0).contains(&c.icc) {
                return err("clusters need a positive size and an ICC in [0, 1)");
            }
            if !matches!(population, Population::Fixed(_)) {
                return err(
                    "a cluster design needs a fixed sample: `sample K cohorts per arm` or `--n-per-arm`",
                );
            }
        }
        if let (Some(inflow), Population::Fixed(sizes)) = (&model.delivery.inflow, &population) {
            let n: u64 = sizes.iter().map(|&n| u64::from(n)).sum();
            let last = entry_months(inflow, n as usize)
                .last()
                .copied()
                .unwrap_or(0);
            if last >= inflow.analysis_month {
                return err(format!(
                    "the inflow takes the last of {n} participants in at month {last}, not before \
                     the analysis at month {}",
                    inflow.analysis_month
                ));
            }
        }
        let max_paths = model.arms.iter().map(|a| a.paths.len()).max().unwrap_or(1);
        // What a lean run draws.
        let n_vars = model.population.variables.len();
        let (draw_var, eval_outcome) = if options.lean {
            let mut vars = vec![false; n_vars];
            let mut outs = vec![false; model.outcomes.len()];
            for a in &model.analyses {
                if let Some(v) = a.within.filter(|&v| v < n_vars) {
                    vars[v] = true;
                }
                for &o in &a.outcomes {
                    if let Some(x) = outs.get_mut(o) {
                        *x = true;
                    }
                }
            }
            for p in arms.iter().flat_map(|a| &a.paths) {
                if let Some(v) = p.by.filter(|&v| v < n_vars) {
                    vars[v] = true;
                }
            }
            for &(v, _) in &strata_radix {
                vars[v] = true;
            }
            for b in arms.iter().filter_map(|a| a.path_by.as_ref()) {
                if let Some(x) = vars.get_mut(b.var) {
                    *x = true;
                }
            }
            // Loss to follow-up reads its covariate and the outcome it depends on.
            for l in arms.iter().filter_map(|a| a.lost.as_ref()) {
                if let Some(x) = l.by.and_then(|v| vars.get_mut(v)) {
                    *x = true;
                }
                if let Some(x) = l.factor.and_then(|(o, _)| outs.get_mut(o)) {
                    *x = true;
                }
            }
            (vars, outs)
        } else {
            (vec![true; n_vars], vec![true; model.outcomes.len()])
        };
        for arm in &mut arms {
            arm.exit_never = never_within(arm.exit_c, horizon);
            if let Some(ex) = &mut arm.exits {
                ex.never = never_within(ex.total, horizon);
            }
            for p in &mut arm.paths {
                let active = f64::from(horizon.saturating_sub(p.delay));
                p.no_start = p.c.iter().map(|c| (-c * active).exp()).collect();
                p.no_start_lt = p.no_start.iter().map(|&q| lt_bound(q)).collect();
                // Beyond a few hundred months the tables would cost more than the logarithms
                // they save; without one the logarithm decides.
                let months = horizon.saturating_sub(p.delay);
                if months <= MAX_TABLE_MONTHS {
                    p.starts = p.c.iter().map(|&c| StartTable::new(c, months)).collect();
                }
            }
        }
        let eval_measures: Vec<(usize, Eval)> = model
            .outcomes
            .iter()
            .enumerate()
            .filter(|(o, _)| eval_outcome[*o])
            .map(|(o, x)| (o, Eval::of(&x.measure)))
            .collect();
        let queue = intake::QueuePlan::of(model, horizon)?;
        let simple_flows = queue.is_none()
            && model.delivery.inflow.is_none()
            && model.delivery.clusters.is_none()
            && wage.is_none()
            && arms.iter().all(|a| {
                a.baseline <= 0.0
                    && a.dropout.as_ref().is_none_or(|d| d.0 <= 0.0)
                    && a.exemption.is_none_or(|e| e.0 <= 0.0)
                    && a.crossover.as_ref().is_none_or(|c| c.0 <= 0.0)
                    && a.exit_c <= 0.0
                    && a.exits.as_ref().is_none_or(|x| x.total <= 0.0)
                    && a.path_by.is_none()
                    && a.lost.is_none()
                    && a.paths.iter().all(|p| p.by.is_none() && p.c.len() == 1)
            });
        let simple = eval_measures
            .iter()
            .map(|&(o, e)| SimpleMeasure::of(o, e, horizon))
            .collect::<Option<Vec<_>>>()
            .filter(|_| simple_flows);
        let allocation = match &population {
            Population::Fixed(_) => Allocation::of(model),
            Population::Pool(_) => Allocation::Exact,
        };
        Ok(Self {
            allocation,
            queue,
            id: NEXT_SIMULATOR.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            max_paths,
            model,
            vars,
            arms,
            population,
            horizon,
            loss_c: rate_c(loss),
            keep: (0..=horizon)
                .map(|j| (-rate_c(loss) * f64::from(j)).exp() * (1.0 - 1e-9))
                .collect(),
            loss,
            hours,
            wage,
            layout,
            strata_radix,
            not_work_outcomes: model
                .outcomes
                .iter()
                .enumerate()
                .filter(|(o, x)| {
                    eval_outcome[*o]
                        && matches!(
                            x.measure,
                            Measure::BenefitEnded { .. }
                                | Measure::ExitedTo { .. }
                                | Measure::DirectBinary
                                | Measure::DirectContinuous
                        )
                })
                .map(|(o, _)| o)
                .collect(),
            eval_measures,
            simple,
            draw_var,
            eval_outcome,
            measured_at: model
                .outcomes
                .iter()
                .map(|o| match o.measure {
                    Measure::EmployedAt { month, .. }
                    | Measure::Durable { month, .. }
                    | Measure::Hours { month }
                    | Measure::Wage { month }
                    | Measure::BenefitEnded { month }
                    | Measure::ExitedTo { month, .. } => month,
                    Measure::WorkedWithin { within, .. } => within,
                    Measure::DirectBinary | Measure::DirectContinuous => model.follow_up_months,
                })
                .collect(),
        })
    }

    /// The model being simulated.
    pub fn model(&self) -> &TrialModel {
        self.model
    }

    /// The layout of the flow counters.
    pub fn flow_layout(&self) -> &FlowLayout {
        &self.layout
    }

    /// Participants per arm, when the sample is fixed.
    pub fn fixed_sample(&self) -> Option<&[u32]> {
        match &self.population {
            Population::Fixed(v) => Some(v),
            Population::Pool(_) => None,
        }
    }

    /// The share of arm `arm`'s participants (dropouts aside) expected on path `path`: its
    /// declared share, or, when shares depend on a covariate's level, their average over the
    /// level distribution among the eligible.
    pub fn path_share(&self, arm: ArmId, path: usize) -> f64 {
        let Some(plan) = self.arms.get(arm) else {
            return f64::NAN;
        };
        let own = plan.path_shares.get(path).copied().unwrap_or(f64::NAN);
        match &plan.path_by {
            Some(b) => match self.eligible_level_probs(b.var) {
                Some(probs) if probs.len() == b.shares.len() => probs
                    .iter()
                    .zip(&b.shares)
                    .map(|(p, s)| p * s.get(path).copied().unwrap_or(0.0))
                    .sum(),
                _ => own,
            },
            None => own,
        }
    }

    /// Level probabilities of a categorical covariate among the eligible.
    pub(crate) fn eligible_level_probs(&self, v: VarId) -> Option<&[f64]> {
        match self.vars.get(v)? {
            VarSampler::Categorical { probs_elig, .. } => Some(probs_elig),
            VarSampler::Numeric { .. } => None,
        }
    }

    /// A fresh worker with buffers sized for this model.
    pub fn worker(&self) -> Worker {
        let cap = match &self.population {
            Population::Fixed(v) => v.iter().map(|&n| n as usize).sum(),
            Population::Pool(p) => (*p).min(1 << 20) as usize,
        };
        let mut table = ParticipantTable {
            id: Vec::with_capacity(cap),
            arm: Vec::with_capacity(cap),
            path: Vec::with_capacity(cap),
            flags: Vec::with_capacity(cap),
            covariates: Vec::new(),
            outcomes: Vec::new(),
            cluster: Vec::new(),
        };
        for v in &self.vars {
            table.covariates.push(match v {
                VarSampler::Categorical { .. } => {
                    CovariateColumn::Categorical(Vec::with_capacity(cap))
                }
                VarSampler::Numeric { .. } => CovariateColumn::Numeric(Vec::with_capacity(cap)),
            });
        }
        for _ in &self.model.outcomes {
            table.outcomes.push(Vec::with_capacity(cap));
        }
        Worker {
            cluster_c: Vec::new(),
            cluster_p: Vec::new(),
            entry: Vec::new(),
            table,
            flows: vec![0; self.layout.len],
            spells: Vec::with_capacity(16),
            cov: vec![0.0; self.vars.len()],
            labels: Vec::new(),
            blocks: Vec::new(),
            arm_start: Vec::new(),
            destination: Vec::new(),
            scratch_codes: Vec::new(),
            scratch_values: Vec::new(),
            laid_out_for: None,
            start_months: Vec::new(),
            queue: intake::QueueState::default(),
            lost_month: u32::MAX,
        }
    }

    /// Draws one replicate into `w.table` and `w.flows`. The generator is advanced exactly as
    /// if it had been used in place (it is copied in and back out, which is why it must be
    /// `Clone`).
    pub fn simulate<R: Rng + Clone>(&self, w: &mut Worker, rng: &mut R) {
        // A local copy of the generator can stay in registers through the loop (the caller's
        // would have to be kept in memory in case of a panic).
        let mut local = rng.clone();
        match &self.simple {
            Some(measures) => self.simulate_simple(w, &mut local, measures),
            None => self.simulate_each(w, &mut local, |_| {}),
        }
        *rng = local;
    }

    /// [`Self::simulate`] in the simple kernel (see [`SimpleMeasure`]).
    fn simulate_simple<R: Rng + Clone>(
        &self,
        w: &mut Worker,
        rng: &mut R,
        measures: &[SimpleMeasure],
    ) {
        self.lay_out(w, rng);
        let h = self.horizon;
        let months = &self.layout.months;
        let n = w.table.arm.len();
        // Runs of participants in the same arm (a fixed sample is one run per arm), so that the
        // arm's constants are read once and its counters are written once per run.
        let mut run = 0;
        while run < n {
            let a = w.table.arm[run] as usize;
            let end = w.table.arm_run_end(run);
            let arm = &self.arms[a];
            let first = self.layout.found_within(a, 0);
            w.start_months.clear();
            w.start_months.resize(h as usize + 1, 0);
            self.simple_rows(a, run..end, w, measures, rng);
            // Found work within m / employed at m: the starts in months 1..=m (a job lasts).
            if let Some(counters) = w.flows.get_mut(first..first + 2 * months.len()) {
                let (found_at, employed_at) = counters.split_at_mut(months.len());
                for ((&m, found), emp) in months.iter().zip(found_at).zip(employed_at) {
                    let k: u64 = w.start_months.iter().take(m as usize + 1).sum();
                    *found += k;
                    *emp += if h >= m { k } else { 0 };
                }
            }
            // Flags stay 0 (no flows), as laid out.
            w.flows[self.layout.arm(a) + counter::N] += (end - run) as u64;
            for p in 0..arm.paths.len() {
                let k = w.table.path[run..end]
                    .iter()
                    .filter(|&&x| x == p as u32)
                    .count();
                w.flows[self.layout.path(a, p)] += k as u64;
            }
            run = end;
        }
    }

    /// The participants `rows` of arm `a` in the simple kernel: each one's path and first job
    /// start and, for someone who starts, the job and its measures (and the start month in
    /// `w.start_months`). Kept apart from the bookkeeping around it, with its own copy of the
    /// generator, so that the loop keeps the generator's state in registers; about four in five
    /// participants never start work and cost only their one or two words and a comparison.
    #[inline(never)]
    fn simple_rows<R: Rng + Clone>(
        &self,
        a: usize,
        rows: std::ops::Range<usize>,
        w: &mut Worker,
        measures: &[SimpleMeasure],
        rng: &mut R,
    ) {
        let mut local = rng.clone();
        let arm = &self.arms[a];
        let h = self.horizon;
        let single = arm.paths.len() == 1;
        for i in rows {
            let p = if single {
                0
            } else {
                pick_bits(&arm.path_lt, bits53(local.next_u64()))
            };
            if let Some(x) = w.table.path.get_mut(i) {
                *x = p as u32;
            }
            let Some(pp) = arm.paths.get(p) else {
                continue;
            };
            // The uniform on (0, 1] of the first start, decided on its integer.
            let k = bits53(local.next_u64()) + 1;
            if pp.no_start_lt.first().is_none_or(|&q| k < q) {
                continue;
            }
            let Some(s) = pp.first_start(0, k, h) else {
                continue;
            };
            // The generator goes to other functions as a copy: were the address of `local`
            // taken, it would live in memory for the whole loop instead of in registers.
            let mut lent = local.clone();
            if self.loss_c > 0.0 {
                self.simple_spells(a, pp, i, s, w, &mut lent);
                local = lent;
                continue;
            }
            let hours = self.hours.draw(&mut lent);
            local = lent;
            if let Some(x) = w.start_months.get_mut(s as usize) {
                *x += 1;
            }
            for m in measures {
                let value = if m.hours { hours } else { 1.0 };
                let counts = s <= m.latest_start && hours >= m.min_hours;
                if let Some(x) = w
                    .table
                    .outcomes
                    .get_mut(m.outcome)
                    .and_then(|c| c.get_mut(i))
                {
                    *x = if counts { value } else { 0.0 };
                }
            }
        }
        *rng = local;
    }

    /// Participant `i` of arm `a` in the simple kernel when jobs can end: the spells from the
    /// first start `s` on, drawn, counted and evaluated as the general kernel does it.
    #[inline(never)]
    fn simple_spells<R: Rng + ?Sized>(
        &self,
        a: usize,
        pp: &PathPlan,
        i: usize,
        s: u32,
        w: &mut Worker,
        rng: &mut R,
    ) {
        let first = self.layout.found_within(a, 0);
        let sched = Schedule::starting((1 + pp.delay, pp.c.first().copied().unwrap_or(0.0)));
        self.job_spells(&mut w.spells, Some(s), None, &sched, rng);
        count_flow_months(&mut w.flows, first, &self.layout.months, &w.spells);
        for &(o, e) in &self.eval_measures {
            let v = spell_measure(e, &w.spells, |m| m, u32::MAX);
            if let Some(x) = w.table.outcomes.get_mut(o).and_then(|c| c.get_mut(i)) {
                *x = v;
            }
        }
    }

    /// [`Self::simulate`], calling `after` with the worker after each participant is drawn
    /// (while `w.spells` still holds that participant's job spells). `simulate` passes a no-op,
    /// which compiles away; [`Self::simulate_with_hours`] records hours this way.
    #[inline]
    pub(crate) fn simulate_each<R: Rng + Clone, F: FnMut(&Worker)>(
        &self,
        w: &mut Worker,
        rng: &mut R,
        mut after: F,
    ) {
        self.lay_out(w, rng);
        w.queue.reset();
        for i in 0..w.table.arm.len() {
            let queued = self
                .queue
                .as_ref()
                .filter(|q| w.table.arm[i] as usize == q.arm);
            let intake = queued.map_or(0, |q| w.queue.intake(q));
            // A wait to the horizon or beyond: the programme never starts within it.
            let wait = intake.min(self.horizon);
            let (took, benefit_ends) = self.participant(w, i, wait, rng);
            if let Some(q) = queued {
                w.queue.release(q, intake, took, benefit_ends);
            }
            after(w);
        }
    }

    /// Everything before the participants' flows: the population and its arms, the table's
    /// columns at their starting values, clusters and intake months.
    #[inline]
    fn lay_out<R: Rng + Clone>(&self, w: &mut Worker, rng: &mut R) {
        w.flows.iter_mut().for_each(|x| *x = 0);
        match &self.population {
            Population::Fixed(sizes) => {
                let n: usize = sizes.iter().map(|&n| n as usize).sum();
                let laid_out = w.laid_out_for == Some(self.id) && w.table.id.len() == n;
                if !laid_out {
                    w.table.clear();
                    w.table.id.extend(1..=n as u64);
                    // Each participant writes its own path and flags.
                    w.table.path.resize(n, MISSING_CODE);
                    w.table.flags.resize(n, 0);
                    for (v, col) in w.table.covariates.iter_mut().enumerate() {
                        if !self.draw_var[v] {
                            col.fill_missing(n);
                        }
                    }
                    for (o, col) in w.table.outcomes.iter_mut().enumerate() {
                        if !self.eval_outcome[o] {
                            col.resize(n, f64::NAN);
                        }
                    }
                    w.laid_out_for = Some(self.id);
                }
                // Parity flips its coins before the covariates are drawn; blocks read the strata
                // from the drawn covariates.
                if self.allocation != Allocation::Blocked {
                    self.allocate_fixed(w, sizes, n, rng);
                }
                self.draw_eligible(w, n, rng);
                if self.allocation == Allocation::Blocked {
                    self.allocate_fixed(w, sizes, n, rng);
                }
            }
            Population::Pool(pool) => {
                w.table.clear();
                w.laid_out_for = None;
                let screening = self
                    .model
                    .eligibility
                    .screening
                    .as_ref()
                    .map_or(0.0, |s| s.planned_loss);
                // Counted here: without population variables there is no covariate column to count.
                let mut kept = 0usize;
                for _ in 0..*pool {
                    if self.draw_unconditional(w, rng)
                        && (screening <= 0.0 || u01(rng) >= screening)
                    {
                        self.push_cov(w);
                        kept += 1;
                    }
                }
                self.assign_pool(w, kept, rng);
                w.table.id.extend(1..=kept as u64);
                w.table.path.resize(kept, MISSING_CODE);
                w.table.flags.resize(kept, 0);
                for (o, col) in w.table.outcomes.iter_mut().enumerate() {
                    if !self.eval_outcome[o] {
                        col.resize(kept, f64::NAN);
                    }
                }
            }
        }
        let n = w.table.arm.len();
        // Evaluated outcome columns start at their value for someone never in work; participants
        // then write only what differs.
        for (o, col) in w.table.outcomes.iter_mut().enumerate() {
            if self.eval_outcome[o] {
                // A wage is missing for someone never in work.
                let wage = matches!(self.model.outcomes[o].measure, Measure::Wage { .. });
                col.clear();
                col.resize(n, if wage { f64::NAN } else { 0.0 });
            }
        }
        self.draw_clusters(w, rng);
        w.entry.clear();
        if let Some(inflow) = &self.model.delivery.inflow {
            w.entry = entry_months(inflow, n);
            // Intake slots go to participants in a random order, so arms interleave.
            shuffle(&mut w.entry, rng);
        }
    }

    /// Cluster codes (arm by arm, `size` consecutive participants each) and each cluster's own
    /// hazards and direct probabilities, drawn from beta distributions with the stated means
    /// and the design's ICC.
    fn draw_clusters<R: Rng + ?Sized>(&self, w: &mut Worker, rng: &mut R) {
        w.table.cluster.clear();
        w.cluster_c.clear();
        w.cluster_p.clear();
        let Some(cl) = &self.model.delivery.clusters else {
            return;
        };
        let size = cl.size.max(1) as usize;
        let n_out = self.model.outcomes.len();
        let mut code = 0u32;
        let mut start = 0usize;
        let n = w.table.arm.len();
        while start < n {
            let arm = w.table.arm[start];
            let mut end = start;
            while end < n && end - start < size && w.table.arm[end] == arm {
                end += 1;
            }
            w.table
                .cluster
                .extend(std::iter::repeat_n(code, end - start));
            let a = arm as usize;
            let plan = &self.arms[a];
            let model_arm = &self.model.arms[a];
            for p in 0..self.max_paths {
                let c = match (plan.paths.get(p), model_arm.paths.get(p)) {
                    (Some(pp), Some(sp)) => {
                        let q = beta_draw(sp.work.probability, cl.icc, rng);
                        calibrate(
                            &sp.work,
                            q,
                            sp.delay_months,
                            self.loss,
                            model_arm.baseline_employment,
                        )
                        .map_or(pp.c[0], rate_c)
                    }
                    _ => 0.0,
                };
                w.cluster_c.push(c);
            }
            for o in 0..n_out {
                let q = match plan.direct.get(o) {
                    Some(Some(DirectSampler::Binary(p))) => beta_draw(*p, cl.icc, rng),
                    _ => f64::NAN,
                };
                w.cluster_p.push(q);
            }
            code += 1;
            start = end;
        }
    }

    /// Draws `n` participants' covariates conditional on eligibility, column by column.
    fn draw_eligible<R: Rng + Clone>(&self, w: &mut Worker, n: usize, rng: &mut R) {
        for (v, s) in self.vars.iter().enumerate() {
            // Columns a lean run leaves missing are laid out once per worker.
            if !self.draw_var[v] {
                continue;
            }
            w.table.covariates[v].clear();
            match (s, &mut w.table.covariates[v]) {
                (VarSampler::Categorical { elig_lt, .. }, CovariateColumn::Categorical(col)) => {
                    draw_levels(elig_lt, n, col, rng);
                }
                (
                    VarSampler::Numeric {
                        dist,
                        truncated,
                        criteria,
                    },
                    CovariateColumn::Numeric(col),
                ) => match (truncated, dist) {
                    (Some(NumDist::Uniform { low, high }), _) => {
                        let (low, width) = (*low, high - low);
                        col.extend((0..n).map(|_| low + width * u01(rng)));
                    }
                    (_, NumDist::LogNormal { mu, sigma }) => {
                        // Criteria tested on the log scale, one exp per accepted value.
                        let (lo, hi) = log_bounds(criteria);
                        col.extend((0..n).map(|_| {
                            let mut tries = 0;
                            loop {
                                let z: f64 = StandardNormal.sample(rng);
                                let l = mu + sigma * z;
                                if (l > lo && l < hi) || tries >= 1_000_000 {
                                    break l.exp();
                                }
                                tries += 1;
                            }
                        }));
                        // Boundary values (x == bound) are left to the exact check below.
                        for x in col.iter_mut().rev().take(n) {
                            if !VarSampler::numeric_ok(criteria, *x) {
                                let mut y = dist.draw(rng);
                                let mut tries = 0;
                                while !VarSampler::numeric_ok(criteria, y) && tries < 1_000_000 {
                                    y = dist.draw(rng);
                                    tries += 1;
                                }
                                *x = y;
                            }
                        }
                    }
                    _ => {
                        let d = truncated.as_ref().unwrap_or(dist);
                        col.extend((0..n).map(|_| {
                            // Acceptance is at least 1e-4 (checked in `new`); the cap only
                            // guards against a pathological edge and keeps the last draw.
                            let mut x = d.draw(rng);
                            let mut tries = 0;
                            while !VarSampler::numeric_ok(criteria, x) && tries < 1_000_000 {
                                x = d.draw(rng);
                                tries += 1;
                            }
                            x
                        }));
                    }
                },
                _ => {}
            }
        }
    }

    /// Draws a pool member into `w.cov`; returns whether all criteria hold.
    fn draw_unconditional<R: Rng + ?Sized>(&self, w: &mut Worker, rng: &mut R) -> bool {
        let mut ok = true;
        for (v, s) in self.vars.iter().enumerate() {
            match s {
                VarSampler::Categorical {
                    cum_all, admitted, ..
                } => {
                    let l = pick(cum_all, u01(rng));
                    ok &= admitted[l];
                    w.cov[v] = l as f64;
                }
                VarSampler::Numeric { dist, criteria, .. } => {
                    let x = dist.draw(rng);
                    ok &= VarSampler::numeric_ok(criteria, x);
                    w.cov[v] = x;
                }
            }
        }
        ok
    }

    fn push_cov(&self, w: &mut Worker) {
        for (v, col) in w.table.covariates.iter_mut().enumerate() {
            match col {
                CovariateColumn::Categorical(c) => c.push(w.cov[v] as u32),
                CovariateColumn::Numeric(c) => c.push(w.cov[v]),
            }
        }
    }

    fn level(&self, w: &Worker, i: usize, v: VarId) -> u32 {
        match w.table.covariates.get(v) {
            Some(CovariateColumn::Categorical(c)) => c[i],
            _ => MISSING_CODE,
        }
    }

    /// The cumulative path shares of `arm` for participant `i` (by their level, when the shares
    /// depend on one).
    #[inline]
    fn path_cum(&self, w: &Worker, i: usize, arm: ArmId) -> &[f64] {
        let plan = &self.arms[arm];
        match &plan.path_by {
            Some(b) => b
                .cum
                .get(self.level(w, i, b.var) as usize)
                .unwrap_or(&plan.path_cum),
            None => &plan.path_cum,
        }
    }

    /// Draws the path of `r` when it names none.
    #[inline]
    fn resolve<R: Rng + ?Sized>(
        &self,
        w: &Worker,
        i: usize,
        r: &ProcessRef,
        rng: &mut R,
    ) -> (ArmId, usize) {
        let target = &self.arms[r.arm];
        let p = match r.path {
            Some(p) => p.min(target.paths.len() - 1),
            None if target.paths.len() == 1 => 0,
            None => pick(self.path_cum(w, i, r.arm), u01(rng)),
        };
        (r.arm, p)
    }

    #[inline]
    fn path_c(&self, w: &Worker, i: usize, arm: ArmId, path: usize) -> (u32, f64) {
        let p = &self.arms[arm].paths[path];
        let c = match p.by {
            Some(v) => p.c_for(self.level(w, i, v)),
            None => p.c[0],
        };
        (p.delay, c)
    }

    #[inline(always)]
    /// Participant `i`, who waits `wait` months for a caseload slot before the programme starts
    /// (0 without a queue). Returns whether they took up the programme (not a dropout) and the
    /// month their benefit ended (a job start from month 1, or a non-work exit; `u32::MAX` when
    /// it did not end within the horizon), which frees their slot.
    fn participant<R: Rng + ?Sized>(
        &self,
        w: &mut Worker,
        i: usize,
        wait: u32,
        rng: &mut R,
    ) -> (bool, u32) {
        let a = w.table.arm[i] as usize;
        let arm = &self.arms[a];
        let h = self.horizon;
        // Months of follow-up by the analysis date, with an inflow.
        let follow = match (&self.model.delivery.inflow, w.entry.get(i)) {
            (Some(inflow), Some(&e)) => inflow.analysis_month.saturating_sub(e),
            _ => u32::MAX,
        };
        let cluster = w.table.cluster.get(i).map(|&c| c as usize);
        let base = self.layout.arm(a);
        let mut f = 0u8;
        w.flows[base + counter::N] += 1;
        w.lost_month = u32::MAX;

        // 1. Baseline employment.
        let baseline = arm.baseline > 0.0 && u01(rng) < arm.baseline;
        if baseline {
            f |= flags::EMPLOYED_AT_BASELINE;
            w.flows[base + counter::BASELINE] += 1;
        }
        // The hazard schedule: one segment (hazard seg.1 from month seg.0) for most
        // participants; a full schedule only once a crossover or an exit needs one.
        let mut seg = (1u32, 0.0f64);
        let mut sched: Option<Schedule> = None;
        let mut path_col = MISSING_CODE;
        // P(no job start at all) when the participant follows one path from intake, else NaN.
        let mut no_start = f64::NAN;
        // That path and its entry, while `no_start` holds.
        let mut single: Option<(&PathPlan, usize)> = None;
        // 2. Dropout.
        let dropped = match &arm.dropout {
            Some((share, to)) if *share > 0.0 && u01(rng) < *share => {
                let (ta, tp) = self.resolve(w, i, to, rng);
                let (d, c) = self.path_c(w, i, ta, tp);
                seg = (1 + d, c);
                f |= flags::DROPOUT;
                w.flows[base + counter::DROPOUT] += 1;
                true
            }
            _ => false,
        };
        if !dropped {
            // 3. Sub-path.
            let p = if arm.paths.len() == 1 {
                0
            } else {
                pick(self.path_cum(w, i, a), u01(rng))
            };
            path_col = p as u32;
            w.flows[self.layout.path(a, p)] += 1;
            // 4. Exemption.
            let pause = match arm.exemption {
                Some((share, max)) if share > 0.0 && u01(rng) < share => {
                    f |= flags::EXEMPT;
                    w.flows[base + counter::EXEMPT] += 1;
                    1 + below(rng, max)
                }
                _ => 0,
            };
            // The path's constants, with the participant's level read once.
            let pp = &arm.paths[p];
            let level = pp.by.map(|v| self.level(w, i, v));
            let mut c = level.map_or(pp.c[0], |l| pp.c_for(l));
            if let Some(k) = cluster {
                c = w.cluster_c[k * self.max_paths + p];
            }
            seg = (
                1u32.saturating_add(wait)
                    .saturating_add(pause)
                    .saturating_add(pp.delay),
                c,
            );
            if wait > 0
                && let Some(q) = &self.queue
                && let Some(waiting) = &q.waiting
            {
                // While waiting: the named process from month 1 (its own delay kept), then the
                // programme's pause and delay from the intake month.
                let (ta, tp) = self.resolve(w, i, waiting, rng);
                let (dw, cw) = self.path_c(w, i, ta, tp);
                let mut waiting = Schedule::starting((1 + dw, cw));
                waiting.push(1 + wait, 0.0);
                waiting.push(seg.0, seg.1);
                sched = Some(waiting);
            }
            if pause == 0 && wait == 0 && cluster.is_none() {
                no_start = level.map_or(pp.no_start[0], |l| pp.no_start_for(l));
                single = pp.entry(level).map(|e| (pp, e));
            }
            // 5. Crossover.
            if let Some((share, to, after)) = &arm.crossover
                && *share > 0.0
                && u01(rng) < *share
            {
                let (ta, tp) = self.resolve(w, i, to, rng);
                let (d, c) = self.path_c(w, i, ta, tp);
                let s = sched.get_or_insert_with(|| Schedule::starting(seg));
                s.push(wait + after + 1, 0.0);
                s.push(wait + after + 1 + d, c);
                no_start = f64::NAN;
                f |= flags::CROSSOVER;
                w.flows[base + counter::CROSSOVER] += 1;
            }
        }
        // 6. Non-work exit.
        let mut exit_month = u32::MAX;
        // X = ⌈E / c⌉ ≥ 1, as truncation + 1, for E = −ln U; a U below `exit_never` is an exit
        // after the horizon, known without the logarithm.
        let exit_u = if arm.exit_c > 0.0 {
            Some(bits53(rng.next_u64()) + 1)
        } else {
            None
        };
        if let Some(k) = exit_u.filter(|&k| k >= arm.exit_never) {
            let x = -(k as f64 / TWO_53).ln() / arm.exit_c;
            if x < f64::from(h) {
                exit_month = x as u32 + 1;
                sched
                    .get_or_insert_with(|| Schedule::starting(seg))
                    .push(exit_month, 0.0);
                no_start = f64::NAN;
                f |= flags::NON_WORK_EXIT;
                w.flows[base + counter::NON_WORK_EXIT] += 1;
            }
        }

        // 7. Competing exits: a destination and a month.
        let mut forced_start = None;
        let mut exit_dest = None;
        if let Some(ex) = &arm.exits
            && ex.total > 0.0
        {
            // The month ⌈E / total⌉ ≥ 1; a U below `never` is after the horizon (see above).
            let u = bits53(rng.next_u64()) + 1;
            let d = pick(&ex.cum, u01(rng));
            let k = if u < ex.never {
                f64::INFINITY
            } else {
                (-(u as f64 / TWO_53).ln() / ex.total).ceil().max(1.0)
            };
            if k <= f64::from(h) {
                let x = k as u32;
                exit_dest = Some((d, x));
                match ex.kinds[d] {
                    ExitKind::Work => forced_start = Some(x),
                    ExitKind::NonWork => {
                        sched
                            .get_or_insert_with(|| Schedule::starting(seg))
                            .push(x, 0.0);
                        no_start = f64::NAN;
                        if x < exit_month {
                            if exit_month == u32::MAX {
                                w.flows[base + counter::NON_WORK_EXIT] += 1;
                            }
                            exit_month = x;
                            f |= flags::NON_WORK_EXIT;
                        }
                    }
                    ExitKind::Provision => {
                        sched
                            .get_or_insert_with(|| Schedule::starting(seg))
                            .push(x, 0.0);
                        no_start = f64::NAN;
                    }
                }
            }
        }

        // Employment spells (none for someone who never works).
        w.spells.clear();
        let mut employed_from = if baseline {
            Some(0u32)
        } else {
            // The first start, from one uniform: none at all when U < P(no start); on one path
            // from intake, the month by table; otherwise E = −ln U. Either way no logarithm for
            // most participants.
            let k = bits53(rng.next_u64()) + 1;
            let u = k as f64 / TWO_53;
            if u < no_start {
                None
            } else if let (false, Some((pp, e))) = (no_start.is_nan(), single) {
                pp.first_start(e, k, h)
            } else {
                sched
                    .get_or_insert_with(|| Schedule::starting(seg))
                    .next_event(0, -u.ln(), h)
            }
        };
        // An exit to work starts a job in its month unless one starts earlier.
        match (employed_from, forced_start) {
            (Some(s), Some(x)) if x < s && !baseline => {
                employed_from = Some(x);
                forced_start = None;
            }
            (None, Some(x)) => {
                employed_from = Some(x);
                forced_start = None;
            }
            _ => {}
        }
        let extra = Extra {
            follow,
            exit_dest,
            cluster,
        };
        if employed_from.is_none() && !baseline {
            // Never in work (most participants): every employment measure stays 0; only
            // outcomes that do not depend on work are written. Kept inline: this path is hot.
            w.table.path[i] = path_col;
            w.table.flags[i] = f;
            let n_out = self.model.outcomes.len();
            for &o in &self.not_work_outcomes {
                w.table.outcomes[o][i] = match &self.model.outcomes[o].measure {
                    Measure::BenefitEnded { month } => {
                        bool_f(exit_month <= (*month).min(extra.follow))
                    }
                    Measure::ExitedTo { month, .. } => {
                        exited_value(&extra, arm.exit_outcome[o], *month)
                    }
                    _ => direct_in_cluster(&arm.direct[o], cluster, &w.cluster_p, o, n_out, rng),
                };
            }
            if arm.lost.is_some() {
                self.lose(w, i, a, follow, rng);
            }
            return (!dropped, exit_month);
        }
        let sched = sched.unwrap_or_else(|| Schedule::starting(seg));
        self.job_spells(&mut w.spells, employed_from, forced_start, &sched, rng);
        let benefit_ends = w
            .spells
            .iter()
            .find(|sp| sp.start >= 1)
            .map_or(exit_month, |sp| sp.start.min(exit_month));

        self.finish(w, i, a, f, path_col, exit_month, &extra, rng);
        if arm.lost.is_some() {
            self.lose(w, i, a, follow, rng);
        }
        (!dropped, benefit_ends)
    }

    /// Loss to follow-up of participant `i` of arm `a`, after every other draw of theirs: the
    /// month of loss L from one uniform, with the hazard at their covariate level, multiplied
    /// when the outcome it depends on is 1; then each evaluated outcome measured in month L or
    /// later (read on the analysis date, `follow` months after intake, with an inflow) becomes
    /// missing. Sets `w.lost_month`.
    #[inline(never)]
    fn lose<R: Rng + ?Sized>(&self, w: &mut Worker, i: usize, a: usize, follow: u32, rng: &mut R) {
        w.lost_month = u32::MAX;
        let Some(lp) = &self.arms[a].lost else {
            return;
        };
        let level = lp.by.map(|v| self.level(w, i, v));
        let mut c = match level {
            Some(l) if lp.c.len() > 1 => lp.c.get(l as usize).copied().unwrap_or(lp.c[0]),
            _ => lp.c.first().copied().unwrap_or(0.0),
        };
        if let Some((o, ratio)) = lp.factor
            && w.table
                .outcomes
                .get(o)
                .and_then(|col| col.get(i))
                .is_some_and(|&y| y >= 0.5)
        {
            c = if ratio > 0.0 { c * ratio } else { 0.0 };
        }
        // L = ⌈E / c⌉ ≥ 1 for E = −ln U; a loss after the horizon misses nothing.
        let k = bits53(rng.next_u64()) + 1;
        let month = if c.is_nan() || c <= 0.0 {
            u32::MAX
        } else if c.is_infinite() {
            1
        } else {
            let x = -(k as f64 / TWO_53).ln() / c;
            if x > f64::from(self.horizon) {
                u32::MAX
            } else {
                (x.ceil() as u32).max(1)
            }
        };
        w.lost_month = month;
        if month <= lp.by_month {
            w.flows[self.layout.arm(a) + counter::LOST] += 1;
            if let Some(f) = w.table.flags.get_mut(i) {
                *f |= flags::LOST_TO_FOLLOW_UP;
            }
        }
        if month == u32::MAX {
            return;
        }
        for (o, col) in w.table.outcomes.iter_mut().enumerate() {
            let at = self.measured_at.get(o).copied().unwrap_or(0).min(follow);
            if self.eval_outcome[o]
                && at >= month
                && let Some(x) = col.get_mut(i)
            {
                *x = f64::NAN;
            }
        }
    }

    /// The job spells of someone whose first job starts in month `first` (0: held at intake),
    /// into `spells`: each draws its hours (and wage) and, when jobs can be lost, its end; after
    /// a job ends the next start follows `sched`. `forced_start` is the month of an exit to
    /// work, which starts a job then unless one starts earlier.
    #[inline]
    fn job_spells<R: Rng + ?Sized>(
        &self,
        spells: &mut Vec<Spell>,
        first: Option<u32>,
        mut forced_start: Option<u32>,
        sched: &Schedule,
        rng: &mut R,
    ) {
        let h = self.horizon;
        spells.clear();
        let mut t0 = 0u32;
        let mut employed_from = first;
        loop {
            if let Some(s) = employed_from {
                let hours = self.hours.draw(rng);
                let wage = self.wage.as_ref().map_or(f64::NAN, |d| d.draw(rng));
                let end = if self.loss_c > 0.0 {
                    let u = u01_open(rng);
                    let left = h - s;
                    // Kept to the horizon without a logarithm when U is safely below the
                    // survival threshold; otherwise the exact E = −ln U decides, as always.
                    let k = if self.keep.get(left as usize).is_some_and(|&t| u <= t) {
                        f64::INFINITY
                    } else {
                        -u.ln() / self.loss_c
                    };
                    if k >= f64::from(left) {
                        h
                    } else {
                        s + k as u32
                    }
                } else {
                    h
                };
                spells.push(Spell {
                    start: s,
                    end,
                    hours,
                    wage,
                });
                if end >= h {
                    break;
                }
                t0 = end + 1;
                employed_from = None;
            } else {
                let next = sched.next_event(t0, exp1(rng), h);
                // An exit to work starts a job in its month unless one starts earlier.
                let forced = forced_start.filter(|&x| x > t0);
                match (next, forced) {
                    (Some(s), Some(x)) if x < s => {
                        forced_start = None;
                        employed_from = Some(x);
                    }
                    (Some(s), _) => employed_from = Some(s),
                    (None, Some(x)) => {
                        forced_start = None;
                        employed_from = Some(x);
                    }
                    (None, None) => break,
                }
            }
        }
    }

    /// Evaluates the measures and flow months from `w.spells` (someone who worked) and appends
    /// the participant's row.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    fn finish<R: Rng + ?Sized>(
        &self,
        w: &mut Worker,
        i: usize,
        a: usize,
        f: u8,
        path_col: u32,
        exit_month: u32,
        x: &Extra,
        rng: &mut R,
    ) {
        let arm = &self.arms[a];
        let n_out = self.model.outcomes.len();
        w.table.path[i] = path_col;
        // Flow months: the found-within counters, then the employed-at ones, per arm.
        let first = self.layout.found_within(a, 0);
        count_flow_months(&mut w.flows, first, &self.layout.months, &w.spells);
        // Measures (read on the analysis date when follow-up is shorter: `c` clamps a month).
        let c = |m: u32| m.min(x.follow);
        for &(o, e) in &self.eval_measures {
            let v = match e {
                Eval::ExitedTo { month } => exited_value(x, arm.exit_outcome[o], month),
                Eval::Direct => {
                    direct_in_cluster(&arm.direct[o], x.cluster, &w.cluster_p, o, n_out, rng)
                }
                _ => spell_measure(e, &w.spells, c, exit_month),
            };
            w.table.outcomes[o][i] = v;
        }
        w.table.flags[i] = f;
    }
}

/// Adds one participant's spells to the "a job start in months 1..=m" and "in work in month m"
/// counters of one arm (at `first` in `flows`, one per month of `months` each).
#[inline]
fn count_flow_months(flows: &mut [u64], first: usize, months: &[u32], spells: &[Spell]) {
    if let Some(counters) = flows.get_mut(first..first + 2 * months.len()) {
        let (found_at, employed_at) = counters.split_at_mut(months.len());
        for ((&m, found), emp) in months.iter().zip(found_at).zip(employed_at) {
            *found += u64::from(spells.iter().any(|s| s.start >= 1 && s.start <= m));
            *emp += u64::from(spells.iter().any(|s| s.start <= m && s.end >= m));
        }
    }
}

/// The value of a work measure for someone with job spells `sp`, months read through `c` (the
/// analysis date clamps them) and a non-work exit in `exit_month` (`u32::MAX`: none). Exits to
/// a destination and direct outcomes are not read from spells (NaN).
#[inline]
fn spell_measure(e: Eval, sp: &[Spell], c: impl Fn(u32) -> u32, exit_month: u32) -> f64 {
    match e {
        Eval::EmployedAt { month, min_hours } => {
            let month = c(month);
            bool_f(
                sp.iter()
                    .any(|s| s.start <= month && s.end >= month && s.hours >= min_hours),
            )
        }
        Eval::WorkedWithin { within, min_hours } => {
            let within = c(within);
            bool_f(
                sp.iter()
                    .any(|s| s.start <= within && s.end >= 1 && s.hours >= min_hours),
            )
        }
        Eval::Durable {
            month,
            consecutive,
            min_hours,
        } => {
            let month = c(month);
            let first = i64::from(month) - i64::from(consecutive) + 1;
            bool_f(
                first >= 0
                    && sp.iter().any(|s| {
                        i64::from(s.start) <= first && s.end >= month && s.hours >= min_hours
                    }),
            )
        }
        Eval::Hours { month } => {
            let month = c(month);
            sp.iter()
                .find(|s| s.start <= month && s.end >= month)
                .map_or(0.0, |s| s.hours)
        }
        Eval::Wage { month } => {
            let month = c(month);
            sp.iter()
                .find(|s| s.start <= month && s.end >= month)
                .map_or(f64::NAN, |s| s.wage)
        }
        Eval::BenefitEnded { month } => {
            let month = c(month);
            bool_f(exit_month <= month || sp.iter().any(|s| s.start >= 1 && s.start <= month))
        }
        Eval::ExitedTo { .. } | Eval::Direct => f64::NAN,
    }
}

/// Intake months of `n` participants under an inflow: period k takes in `per_period[k]` (the
/// last count repeating), spread evenly over the period's months.
pub fn entry_months(inflow: &crate::model::Inflow, n: usize) -> Vec<u32> {
    let mut out = Vec::with_capacity(n);
    let len = inflow.period_months.max(1);
    let last = inflow.per_period.last().copied().unwrap_or(0);
    if last == 0 && inflow.per_period.iter().all(|&c| c == 0) {
        return vec![0; n];
    }
    let mut k = 0usize;
    while out.len() < n {
        let count = inflow.per_period.get(k).copied().unwrap_or(last);
        if count == 0 && k >= inflow.per_period.len() {
            // Nobody more comes in; the rest enter at the end of the last period.
            let m = (k as u32).saturating_mul(len);
            out.resize(n, m);
            break;
        }
        for j in 0..count {
            if out.len() == n {
                break;
            }
            let offset = (u64::from(j) * u64::from(len) / u64::from(count.max(1))) as u32;
            out.push((k as u32).saturating_mul(len).saturating_add(offset));
        }
        k += 1;
    }
    out
}

/// A probability drawn from the beta distribution with mean `p` and intra-cluster correlation
/// `icc` (`α = p(1 − ρ)/ρ`, `β = (1 − p)(1 − ρ)/ρ`), so that binary outcomes drawn with it
/// have exactly that ICC.
fn beta_draw<R: Rng + ?Sized>(p: f64, icc: f64, rng: &mut R) -> f64 {
    if icc <= 0.0 || p <= 0.0 || p >= 1.0 {
        return p;
    }
    let scale = (1.0 - icc) / icc;
    match Beta::new(p * scale, (1.0 - p) * scale) {
        Ok(b) => b.sample(rng),
        Err(_) => p,
    }
}

/// What the delivery features add to a participant's row.
struct Extra {
    /// Months of follow-up by the analysis date (`u32::MAX` without an inflow).
    follow: u32,
    /// Competing-exit destination and month, if one happened within the horizon.
    exit_dest: Option<(usize, u32)>,
    /// The participant's cluster.
    cluster: Option<usize>,
}

/// `exited to X by month m`, read on the analysis date.
fn exited_value(x: &Extra, want: Option<usize>, month: u32) -> f64 {
    let month = month.min(x.follow);
    bool_f(match (x.exit_dest, want) {
        (Some((d, at)), Some(want)) => d == want && at <= month,
        _ => false,
    })
}

/// A direct outcome; a binary one uses its cluster's probability when there are clusters.
fn direct_in_cluster<R: Rng + ?Sized>(
    d: &Option<DirectSampler>,
    cluster: Option<usize>,
    cluster_p: &[f64],
    o: usize,
    n_out: usize,
    rng: &mut R,
) -> f64 {
    match (d, cluster) {
        (Some(DirectSampler::Binary(_)), Some(k)) => match cluster_p.get(k * n_out + o) {
            Some(&p) => bool_f(u01(rng) < p),
            None => direct_value(d, rng),
        },
        _ => direct_value(d, rng),
    }
}

#[inline]
fn direct_value<R: Rng + ?Sized>(d: &Option<DirectSampler>, rng: &mut R) -> f64 {
    match d {
        Some(DirectSampler::Binary(p)) => bool_f(u01(rng) < *p),
        Some(DirectSampler::Continuous(d)) => d.draw(rng),
        None => f64::NAN,
    }
}

#[inline]
fn bool_f(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

fn shuffle<R: Rng + ?Sized>(v: &mut [u32], rng: &mut R) {
    for i in (1..v.len()).rev() {
        let j = below(rng, (i + 1) as u32) as usize;
        v.swap(i, j);
    }
}

/// Open bounds on ln x implied by the criteria (for a positive variable).
fn log_bounds(criteria: &[(Comparison, f64)]) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
    for (op, v) in criteria {
        let l = if *v > 0.0 { v.ln() } else { f64::NEG_INFINITY };
        match op {
            Comparison::Gt | Comparison::Ge => lo = lo.max(l),
            Comparison::Lt | Comparison::Le => hi = hi.min(l),
            // An equality has probability zero; the exact check keeps it honest.
            Comparison::Eq => {}
        }
    }
    (lo, hi)
}

/// The distribution truncated to the criteria where that is direct (uniform, fixed), and the
/// share of the distribution the criteria admit.
fn truncate(dist: &NumDist, criteria: &[(Comparison, f64)]) -> (Option<NumDist>, f64) {
    let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
    let mut point = None;
    for (op, v) in criteria {
        match op {
            Comparison::Gt | Comparison::Ge => lo = lo.max(*v),
            Comparison::Lt | Comparison::Le => hi = hi.min(*v),
            Comparison::Eq => point = Some(*v),
        }
    }
    let mass = |d: &NumDist| -> f64 {
        if let Some(p) = point {
            return f64::from(u8::from(matches!(d, NumDist::Fixed(x) if *x == p)));
        }
        let below = |x: f64| 1.0 - d.sf(x);
        (below(hi) - below(lo)).max(0.0)
    };
    match dist {
        NumDist::Uniform { low, high } => {
            let (a, b) = (low.max(lo), high.min(hi));
            if point.is_some() || a >= b {
                (None, 0.0)
            } else {
                (
                    Some(NumDist::Uniform { low: a, high: b }),
                    (b - a) / (high - low),
                )
            }
        }
        NumDist::Fixed(x) => {
            let ok = criteria.iter().all(|(op, v)| op.holds(*x, *v));
            (None, f64::from(u8::from(ok)))
        }
        NumDist::Levels { values, .. } => {
            let ok = values
                .iter()
                .any(|x| criteria.iter().all(|(op, v)| op.holds(*x, *v)));
            (None, if ok { mass(dist).max(1e-3) } else { 0.0 })
        }
        _ => (None, mass(dist)),
    }
}

#[cfg(test)]
pub(crate) mod tests;
