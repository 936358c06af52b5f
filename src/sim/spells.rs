//! Employment spells: the jobs of one participant, each with its hours (and wage) and, when jobs
//! can be lost, its end; and the flow months counted from them.

use rand::Rng;

use super::*;

/// One job spell: months `start..=end` in work.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Spell {
    pub(super) start: u32,
    pub(super) end: u32,
    pub(super) hours: f64,
    pub(super) wage: f64,
}

/// Adds one participant's spells to the "a job start in months 1..=m" and "in work in month m"
/// counters of one arm (at `first` in `flows`, one per month of `months` each).
#[inline]
pub(super) fn count_flow_months(flows: &mut [u64], first: usize, months: &[u32], spells: &[Spell]) {
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
pub(super) fn spell_measure(e: Eval, sp: &[Spell], c: impl Fn(u32) -> u32, exit_month: u32) -> f64 {
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

impl Simulator<'_> {
    /// The job spells of someone whose first job starts in month `first` (0: held at intake),
    /// into `spells`: each draws its hours (and wage) and, when jobs can be lost, its end; after
    /// a job ends the next start follows `sched`. `forced_start` is the month of an exit to
    /// work, which starts a job then unless one starts earlier.
    #[inline]
    pub(super) fn job_spells<R: Rng + ?Sized>(
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
}
