//! Hazards: the calibration of a path's monthly job-start hazard from its stated rate, the
//! piecewise-constant schedules of hazards over months (delays, waits, exemptions, crossovers,
//! exits), and the first-start tables that find a start month without a logarithm.

use super::*;

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
    pub(super) no_start: Vec<f64>,
    /// `no_start` as [`lt_bound`]s, for the simple kernel.
    pub(super) no_start_lt: Vec<u64>,
    /// Per entry of `c`: the month of the first job start of such a participant, by table.
    pub(super) starts: Vec<StartTable>,
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
    pub(super) sure: Vec<u64>,
    /// U ≤ exp(−c·j)·(1 + 1e-9) for j = 1..=L.
    pub(super) edge: Vec<u64>,
    /// For a uniform in [b/B, (b+1)/B) (B = `BUCKETS`): the number of `sure` thresholds at or
    /// above (b+1)/B, which it certainly does not exceed; the few below are compared one by one.
    pub(super) bucket: Vec<u32>,
}

/// Buckets of the unit interval in a [`StartTable`].
pub(super) const BUCKETS: usize = 1024;

/// The longest stretch of months a [`StartTable`] is built for.
pub(super) const MAX_TABLE_MONTHS: u32 = 600;

impl StartTable {
    pub(super) fn new(c: f64, months: u32) -> Self {
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
    pub(super) fn count(&self, k: u64) -> u32 {
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
    pub(super) fn no_start_for(&self, level: u32) -> f64 {
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
    pub(super) fn first_start(&self, entry: usize, k: u64, horizon: u32) -> Option<u32> {
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
    pub(super) fn first_start_by_log(&self, entry: usize, k: u64, horizon: u32) -> Option<u32> {
        let c = self.c.get(entry).copied().unwrap_or(0.0);
        let u = k as f64 / TWO_53;
        Schedule::starting((1 + self.delay, c)).next_event(0, -u.ln(), horizon)
    }

    /// The entry of `c` that applies at `level` (None for a level without a rate).
    #[inline]
    pub(super) fn entry(&self, level: Option<u32>) -> Option<usize> {
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

/// Piecewise-constant monthly cumulative hazard: segment i covers months start[i]..start[i+1]−1.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schedule {
    pub(super) start: [u32; 8],
    pub(super) c: [f64; 8],
    pub(super) len: usize,
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
    pub(super) fn next_event(&self, t0: u32, mut e: f64, horizon: u32) -> Option<u32> {
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

pub(super) fn rate_c(p: f64) -> f64 {
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
