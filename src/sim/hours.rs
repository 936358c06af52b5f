//! Each participant's hours worked per month, for exporting a simulated trial in the shape of a
//! spec's data section (`monthly_hours "hours_m{m}"`).
//!
//! The power loop never computes hours: [`Simulator::simulate`] keeps only the current
//! participant's job spells. [`Simulator::simulate_with_hours`] draws the very same replicate
//! (the same random stream, the same table) and, after each participant, turns the spells the
//! worker holds into hours for months 0..=horizon: a spell's hours in the months it covers, 0
//! elsewhere (a negative draw of a normal hours distribution is written as 0).

use rand::Rng;

use super::{Simulator, Spell, Worker};
use crate::table::MonthlyHours;

/// Appends months 0..=`months` of hours for one participant's `spells` to `out`; months from
/// `lost` on (the month the participant was lost to follow-up) are missing (NaN).
fn push_hours(spells: &[Spell], months: u32, lost: u32, out: &mut Vec<f64>) {
    let start = out.len();
    out.resize(start + months as usize + 1, 0.0);
    for s in spells {
        for m in s.start..=s.end.min(months) {
            out[start + m as usize] = s.hours.max(0.0);
        }
    }
    for m in lost..=months {
        out[start + m as usize] = f64::NAN;
    }
}

impl Simulator<'_> {
    /// The last month simulated (the follow-up, or a later month a measure needs): hours are
    /// recorded for months 0..=this.
    pub fn horizon(&self) -> u32 {
        self.horizon
    }

    /// Draws one replicate exactly as [`Simulator::simulate`] does (same stream, same table and
    /// flows) and also records every participant's hours for months 0..=[`Self::horizon`].
    pub fn simulate_with_hours<R: Rng + Clone>(
        &self,
        w: &mut Worker,
        rng: &mut R,
        hours: &mut MonthlyHours,
    ) {
        hours.months = self.horizon;
        hours.hours.clear();
        let months = self.horizon;
        let out = &mut hours.hours;
        self.simulate_each(w, rng, |w| {
            push_hours(&w.spells, months, w.lost_month, out);
        });
        self.mark_receipt(w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spell(start: u32, end: u32, hours: f64) -> Spell {
        Spell {
            start,
            end,
            hours,
            wage: f64::NAN,
        }
    }

    #[test]
    fn spells_become_hours_per_month() {
        let mut out = vec![7.0];
        push_hours(
            &[spell(0, 1, 20.0), spell(3, 9, -5.0)],
            4,
            u32::MAX,
            &mut out,
        );
        assert_eq!(out, vec![7.0, 20.0, 20.0, 0.0, 0.0, 0.0]);
        let mut out = Vec::new();
        push_hours(&[], 2, u32::MAX, &mut out);
        assert_eq!(out, vec![0.0; 3]);
    }

    #[test]
    fn months_from_the_loss_on_are_missing() {
        let mut out = Vec::new();
        push_hours(&[spell(1, 4, 20.0)], 4, 3, &mut out);
        assert_eq!(out[..3], [0.0, 20.0, 20.0]);
        assert!(out[3].is_nan() && out[4].is_nan(), "{out:?}");
    }
}
