//! Employment measures computed from one participant's hours worked per month.
//!
//! `hours[m]` is the hours worked in month `m` after intake (month 0 = intake); NaN means the
//! month is missing in the data. A measure is missing (`None`) only when the known months cannot
//! decide it: one known qualifying month decides "worked within", one known failing month
//! decides "durable".

use crate::model::Measure;

/// Highest month index a measure reads, if it is computed from hours.
pub fn last_month(measure: &Measure) -> Option<u32> {
    match *measure {
        Measure::EmployedAt { month, .. } | Measure::Hours { month } => Some(month),
        Measure::WorkedWithin { within, .. } => Some(within),
        Measure::Durable { month, .. } => Some(month),
        Measure::Wage { .. }
        | Measure::BenefitEnded { .. }
        | Measure::ExitedTo { .. }
        | Measure::DirectBinary
        | Measure::DirectContinuous => None,
    }
}

/// The measure's value for one participant: 0/1 for binary measures, hours for
/// [`Measure::Hours`]; `None` when missing months leave it undecided or when the measure cannot
/// be computed from hours at all (benefit end, direct outcomes).
pub fn from_hours(measure: &Measure, hours: &[f64]) -> Option<f64> {
    let at = |m: u32| hours.get(m as usize).copied().filter(|h| !h.is_nan());
    let bit = |b: bool| if b { 1.0 } else { 0.0 };
    match *measure {
        Measure::EmployedAt { month, min_hours } => at(month).map(|h| bit(h >= min_hours)),
        Measure::Hours { month } => at(month),
        Measure::WorkedWithin { within, min_hours } => {
            let mut undecided = false;
            for m in 1..=within {
                match at(m) {
                    Some(h) if h >= min_hours => return Some(1.0),
                    Some(_) => {}
                    None => undecided = true,
                }
            }
            if undecided { None } else { Some(0.0) }
        }
        Measure::Durable {
            month,
            consecutive,
            min_hours,
        } => {
            if consecutive == 0 || consecutive > month + 1 {
                return None;
            }
            let mut undecided = false;
            for m in (month + 1 - consecutive)..=month {
                match at(m) {
                    Some(h) if h >= min_hours => {}
                    Some(_) => return Some(0.0),
                    None => undecided = true,
                }
            }
            if undecided { None } else { Some(1.0) }
        }
        Measure::Wage { .. }
        | Measure::BenefitEnded { .. }
        | Measure::ExitedTo { .. }
        | Measure::DirectBinary
        | Measure::DirectContinuous => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NA: f64 = f64::NAN;

    #[test]
    fn employed_at_uses_the_threshold_inclusively() {
        let m = Measure::EmployedAt {
            month: 2,
            min_hours: 48.0,
        };
        assert_eq!(from_hours(&m, &[0.0, 0.0, 48.0]), Some(1.0));
        assert_eq!(from_hours(&m, &[0.0, 0.0, 47.9]), Some(0.0));
        assert_eq!(from_hours(&m, &[0.0, 0.0, NA]), None);
        assert_eq!(from_hours(&m, &[0.0, 0.0]), None);
    }

    #[test]
    fn worked_within_ignores_month_zero() {
        let m = Measure::WorkedWithin {
            within: 3,
            min_hours: 1.0,
        };
        assert_eq!(from_hours(&m, &[160.0, 0.0, 0.0, 0.0]), Some(0.0));
        assert_eq!(from_hours(&m, &[0.0, 0.0, 0.0, 1.0]), Some(1.0));
        assert_eq!(from_hours(&m, &[0.0, 0.0, 0.0, 0.5]), Some(0.0));
    }

    #[test]
    fn worked_within_one_known_job_decides_despite_gaps() {
        let m = Measure::WorkedWithin {
            within: 3,
            min_hours: 1.0,
        };
        assert_eq!(from_hours(&m, &[0.0, NA, 20.0, NA]), Some(1.0));
        assert_eq!(from_hours(&m, &[0.0, NA, 0.0, 0.0]), None);
    }

    #[test]
    fn durable_needs_every_month_of_the_run() {
        let m = Measure::Durable {
            month: 4,
            consecutive: 3,
            min_hours: 48.0,
        };
        assert_eq!(from_hours(&m, &[0.0, 0.0, 50.0, 60.0, 48.0]), Some(1.0));
        assert_eq!(from_hours(&m, &[0.0, 99.0, 47.0, 60.0, 48.0]), Some(0.0));
        assert_eq!(from_hours(&m, &[0.0, 0.0, 50.0, NA, 48.0]), None);
        assert_eq!(from_hours(&m, &[0.0, 0.0, 10.0, NA, 48.0]), Some(0.0));
    }

    #[test]
    fn durable_longer_than_follow_up_is_undecidable() {
        let m = Measure::Durable {
            month: 1,
            consecutive: 3,
            min_hours: 1.0,
        };
        assert_eq!(from_hours(&m, &[10.0, 10.0]), None);
    }

    #[test]
    fn hours_and_uncomputable_measures() {
        assert_eq!(
            from_hours(&Measure::Hours { month: 1 }, &[0.0, 32.5]),
            Some(32.5)
        );
        assert_eq!(
            from_hours(&Measure::BenefitEnded { month: 1 }, &[0.0, 1.0]),
            None
        );
        assert_eq!(from_hours(&Measure::DirectBinary, &[1.0]), None);
        assert_eq!(
            last_month(&Measure::WorkedWithin {
                within: 12,
                min_hours: 1.0
            }),
            Some(12)
        );
        assert_eq!(last_month(&Measure::DirectContinuous), None);
    }
}
