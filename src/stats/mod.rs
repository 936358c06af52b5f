//! Numbers only: distributions, hypothesis tests, confidence intervals, multiplicity corrections
//! and closed-form or exactly enumerated power. Nothing here knows about trials, arms or specs;
//! the analysis plan and the power report build on these functions.
//!
//! Conventions shared by every function:
//! - "treatment" is the first group and "control" the second; a one-sided alternative
//!   [`Sides::Greater`] means treatment > control.
//! - Where a quantity is mathematically undefined (an empty group, a standard deviation of a
//!   single observation) the function returns NaN and says so; a NaN p-value is never a rejection.
//! - Where a limit exists (a zero variance with a non-zero difference) the limit is returned
//!   (an infinite statistic, a p-value of 0 or 1), never NaN.

pub mod balance;
pub mod dist;
pub mod intervals;
pub mod ipw;
pub mod lee;
pub mod multiplicity;
pub mod power;
pub mod randomisation;
pub mod regression;
pub mod sequential;
pub mod tests;

/// The SplitMix64 output function (Steele, Lea & Flood 2014): a 64-bit mixer. Randomisation
/// inference and the Lee bounds' bootstrap key their seeded draws on their data with it; the
/// engine derives its per-replicate streams from it.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Sidedness of the alternative hypothesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sides {
    /// H1: treatment > control.
    Greater,
    /// H1: treatment < control.
    Less,
    /// H1: treatment ≠ control.
    TwoSided,
}
