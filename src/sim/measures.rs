//! Measures: the outcome values a participant's spells, exits and direct draws give (employed
//! at a month, worked within, durable, hours, wage, benefit ended, exited to), written into the
//! table; and loss to follow-up, which makes later measures missing.

use rand::Rng;

use super::*;

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
pub(super) struct SimpleMeasure {
    pub(super) outcome: usize,
    pub(super) latest_start: u32,
    pub(super) min_hours: f64,
    pub(super) hours: bool,
}

impl SimpleMeasure {
    /// The measure's rule for one job from month s to the horizon `h`; None for a measure the
    /// simple kernel does not evaluate.
    pub(super) fn of(outcome: usize, e: Eval, h: u32) -> Option<Self> {
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
pub(super) enum Eval {
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
    pub(super) fn of(m: &Measure) -> Self {
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

/// What the delivery features add to a participant's row.
pub(super) struct Extra {
    /// Months of follow-up by the analysis date (`u32::MAX` without an inflow).
    pub(super) follow: u32,
    /// Competing-exit destination and month, if one happened within the horizon.
    pub(super) exit_dest: Option<(usize, u32)>,
    /// The participant's cluster.
    pub(super) cluster: Option<usize>,
}

/// `exited to X by month m`, read on the analysis date.
pub(super) fn exited_value(x: &Extra, want: Option<usize>, month: u32) -> f64 {
    let month = month.min(x.follow);
    bool_f(match (x.exit_dest, want) {
        (Some((d, at)), Some(want)) => d == want && at <= month,
        _ => false,
    })
}

/// A direct outcome; a binary one uses its cluster's probability when there are clusters.
pub(super) fn direct_in_cluster<R: Rng + ?Sized>(
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
pub(super) fn direct_value<R: Rng + ?Sized>(d: &Option<DirectSampler>, rng: &mut R) -> f64 {
    match d {
        Some(DirectSampler::Binary(p)) => bool_f(u01(rng) < *p),
        Some(DirectSampler::Continuous(d)) => d.draw(rng),
        None => f64::NAN,
    }
}

#[inline]
pub(super) fn bool_f(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

impl Simulator<'_> {
    /// Evaluates the measures and flow months from `w.spells` (someone who worked) and appends
    /// the participant's row.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn finish<R: Rng + ?Sized>(
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

    /// Loss to follow-up of participant `i` of arm `a`, after every other draw of theirs: the
    /// month of loss L from one uniform, with the hazard at their covariate level, multiplied
    /// when the outcome it depends on is 1; then each evaluated outcome measured in month L or
    /// later (read on the analysis date, `follow` months after intake, with an inflow) becomes
    /// missing. Sets `w.lost_month`.
    #[inline(never)]
    pub(super) fn lose<R: Rng + ?Sized>(
        &self,
        w: &mut Worker,
        i: usize,
        a: usize,
        follow: u32,
        rng: &mut R,
    ) {
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
}
