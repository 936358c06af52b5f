//! Randomisation (permutation) tests: the p-value of a difference in means under the sharp null
//! hypothesis that no unit's outcome depends on its arm, from the distribution of the statistic
//! over every assignment the design could have made.
//!
//! The design is given as strata of units: within each stratum the number of treated units is
//! fixed at its observed value and every subset of that size is equally likely (complete
//! randomisation within the stratum). A unit is a participant, or a whole cluster (its outcome
//! sum and its size). The statistic is the difference of the arms' participant means,
//! `Σ_t sum / Σ_t n − Σ_c sum / Σ_c n`.
//!
//! Three ways to the distribution, always the most exact one available:
//! - **Hypergeometric** (binary outcomes, units of one participant): the number of treated
//!   events is a sum of independent hypergeometric variables, one per stratum, and the statistic
//!   increases with it, so its exact law is their convolution (Fisher's exact test when there is
//!   one stratum; one-sided, its p-value is R's `fisher.test(alternative = "greater")`).
//! - **Enumeration** when the design has at most [`EXACT_LIMIT`] assignments (8 + 8 has 12,870).
//! - **Monte Carlo** otherwise: [`MC_DRAWS`] assignments drawn uniformly from a Xoshiro256++
//!   stream keyed by the data, `p = (1 + #{T* at least as extreme}) / (1 + draws)`, which is a
//!   valid p-value for any number of draws; its Monte Carlo standard error is reported.
//!
//! "At least as extreme": `T* ≥ t` (greater), `T* ≤ t` (less), `|T*| ≥ |t|` (two-sided), with a
//! relative tolerance of 10⁻⁹ so that assignments that tie with the observed one in exact
//! arithmetic count as ties after rounding.

use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use statrs::function::factorial::ln_binomial;

use super::Sides;
use super::mix64;

/// Largest number of assignments enumerated exactly.
pub const EXACT_LIMIT: f64 = 20_000.0;
/// Assignments drawn when the design has more than [`EXACT_LIMIT`].
pub const MC_DRAWS: u64 = 10_000;

/// One unit of randomisation: a participant (`n` = 1) or a cluster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unit {
    /// Sum of the unit's outcome values.
    pub sum: f64,
    /// Participants with a value in the unit.
    pub n: f64,
    /// Whether the unit was assigned to the treatment arm.
    pub treated: bool,
}

/// How the randomisation distribution was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Convolution of hypergeometric laws (binary outcome, participants as units).
    Hypergeometric,
    /// Every assignment enumerated.
    Exact,
    /// Assignments drawn at random.
    MonteCarlo,
}

/// A randomisation test's result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RandomisationTest {
    /// The observed difference in means (treatment − control).
    pub statistic: f64,
    /// The p-value; NaN when an arm is empty.
    pub p_value: f64,
    /// How it was computed.
    pub method: Method,
    /// Assignments the design could have made, Π over strata of C(units, treated) (infinite
    /// beyond the largest float; see `log10_assignments`).
    pub assignments: f64,
    /// Its base-10 logarithm, finite however many assignments there are.
    pub log10_assignments: f64,
    /// Assignments drawn (Monte Carlo) or enumerated.
    pub draws: u64,
    /// Monte Carlo standard error of the p-value, `√(p(1 − p) / draws)`; 0 when exact.
    pub mc_se: f64,
}

/// The randomisation test of `strata` (each a list of units) in the direction `sides`. `binary`
/// says that every unit is a single participant with a 0/1 outcome (the hypergeometric path).
pub fn randomisation_test(strata: &[Vec<Unit>], binary: bool, sides: Sides) -> RandomisationTest {
    let totals = |treated: bool| {
        strata
            .iter()
            .flatten()
            .filter(|u| u.treated == treated)
            .fold((0.0, 0.0), |(s, n), u| (s + u.sum, n + u.n))
    };
    let ((st, nt), (sc, nc)) = (totals(true), totals(false));
    let statistic = st / nt - sc / nc;
    let ln_assignments: f64 = strata
        .iter()
        .map(|s| {
            let k = s.iter().filter(|u| u.treated).count() as u64;
            ln_binomial(s.len() as u64, k)
        })
        .sum();
    let assignments = ln_assignments.exp();
    let mut out = RandomisationTest {
        statistic,
        p_value: f64::NAN,
        method: Method::Exact,
        assignments,
        log10_assignments: ln_assignments / std::f64::consts::LN_10,
        draws: 0,
        mc_se: 0.0,
    };
    if !(nt > 0.0 && nc > 0.0 && statistic.is_finite()) {
        return out;
    }
    let (total_sum, total_n) = (st + sc, nt + nc);
    // The statistic of an assignment with treated totals (sum, n).
    let stat = move |s: f64, n: f64| s / n - (total_sum - s) / (total_n - n);
    let scale = strata
        .iter()
        .flatten()
        .map(|u| (u.sum / u.n.max(1.0)).abs())
        .fold(statistic.abs(), f64::max)
        .max(f64::MIN_POSITIVE);
    let tol = 1e-9 * scale;
    let extreme = move |t: f64| match sides {
        Sides::Greater => t >= statistic - tol,
        Sides::Less => t <= statistic + tol,
        Sides::TwoSided => t.abs() >= statistic.abs() - tol,
    };
    if binary {
        out.method = Method::Hypergeometric;
        out.draws = 0;
        out.p_value = hypergeometric_p(strata, nt, &stat, &extreme);
        return out;
    }
    if assignments <= EXACT_LIMIT {
        // Every stratum's subsets as (treated sum, treated n), combined across strata.
        let mut combined: Vec<(f64, f64)> = vec![(0.0, 0.0)];
        for s in strata {
            let k = s.iter().filter(|u| u.treated).count();
            let subsets = subset_totals(s, k);
            let mut next = Vec::with_capacity(combined.len() * subsets.len());
            for &(a, b) in &combined {
                next.extend(subsets.iter().map(|&(c, d)| (a + c, b + d)));
            }
            combined = next;
        }
        let hits = combined
            .iter()
            .filter(|&&(s, n)| extreme(stat(s, n)))
            .count();
        out.draws = combined.len() as u64;
        out.p_value = hits as f64 / combined.len() as f64;
        return out;
    }
    out.method = Method::MonteCarlo;
    out.draws = MC_DRAWS;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(key(strata, sides));
    let mut order: Vec<Vec<usize>> = strata.iter().map(|s| (0..s.len()).collect()).collect();
    let treated: Vec<usize> = strata
        .iter()
        .map(|s| s.iter().filter(|u| u.treated).count())
        .collect();
    let mut hits = 0u64;
    for _ in 0..MC_DRAWS {
        let (mut s_t, mut n_t) = (0.0, 0.0);
        for ((units, idx), &k) in strata.iter().zip(&mut order).zip(&treated) {
            // A partial Fisher–Yates shuffle: the first k indices are a uniform k-subset.
            let len = idx.len() as u64;
            for i in 0..k {
                // Uniform in 0..len − i by Lemire's multiply-shift (bias below 2⁻⁴⁰ here).
                let j =
                    i + ((u128::from(rng.next_u64()) * u128::from(len - i as u64)) >> 64) as usize;
                idx.swap(i, j);
                let u = units[idx[i]];
                s_t += u.sum;
                n_t += u.n;
            }
        }
        hits += u64::from(extreme(stat(s_t, n_t)));
    }
    let p = (1 + hits) as f64 / (1 + MC_DRAWS) as f64;
    out.p_value = p;
    out.mc_se = (p * (1.0 - p) / MC_DRAWS as f64).sqrt();
    out
}

/// The treated totals (sum, n) of every k-subset of `units`, in lexicographic order of the
/// index sets.
fn subset_totals(units: &[Unit], k: usize) -> Vec<(f64, f64)> {
    let n = units.len();
    let mut out = Vec::new();
    if k > n {
        return out;
    }
    let mut idx: Vec<usize> = (0..k).collect();
    loop {
        out.push(
            idx.iter()
                .fold((0.0, 0.0), |(s, m), &i| (s + units[i].sum, m + units[i].n)),
        );
        // The next combination: bump the last index that can move, reset those after it.
        let Some(pos) = (0..k).rev().find(|&i| idx[i] < n - k + i) else {
            break;
        };
        idx[pos] += 1;
        for i in pos + 1..k {
            idx[i] = idx[i - 1] + 1;
        }
    }
    out
}

/// Exact p from the convolution of each stratum's hypergeometric law of treated events.
fn hypergeometric_p(
    strata: &[Vec<Unit>],
    nt: f64,
    stat: &dyn Fn(f64, f64) -> f64,
    extreme: &dyn Fn(f64) -> bool,
) -> f64 {
    let mut law = vec![1.0f64];
    for s in strata {
        let size = s.len() as u64;
        let k = s.iter().filter(|u| u.treated).count() as u64;
        let m = s.iter().filter(|u| u.sum >= 0.5).count() as u64;
        let lo = (k + m).saturating_sub(size);
        let hi = k.min(m);
        let denominator = ln_binomial(size, k);
        let pmf: Vec<f64> = (lo..=hi)
            .map(|x| (ln_binomial(m, x) + ln_binomial(size - m, k - x) - denominator).exp())
            .collect();
        let mut next = vec![0.0; law.len() + (hi as usize) + 1];
        for (a, &pa) in law.iter().enumerate() {
            for (j, &pb) in pmf.iter().enumerate() {
                next[a + lo as usize + j] += pa * pb;
            }
        }
        law = next;
    }
    let p: f64 = law
        .iter()
        .enumerate()
        .filter(|&(x, _)| extreme(stat(x as f64, nt)))
        .map(|(_, &q)| q)
        .sum();
    p.min(1.0)
}

/// The Monte Carlo stream's key: the data themselves (so the same data give the same p-value on
/// any machine and thread count) and the direction.
fn key(strata: &[Vec<Unit>], sides: Sides) -> u64 {
    let mut h = mix64(sides as u64 + 1);
    for (s, units) in strata.iter().enumerate() {
        h = mix64(h ^ (s as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        for u in units {
            h = mix64(h ^ u.sum.to_bits());
            h = mix64(h ^ u.n.to_bits() ^ u64::from(u.treated));
        }
    }
    h
}

#[cfg(test)]
#[allow(clippy::excessive_precision)] // R's 17-significant-digit output, as printed
mod tests {
    use super::*;

    fn units(t: &[f64], c: &[f64]) -> Vec<Unit> {
        let unit = |treated| {
            move |&v: &f64| Unit {
                sum: v,
                n: 1.0,
                treated,
            }
        };
        t.iter()
            .map(unit(true))
            .chain(c.iter().map(unit(false)))
            .collect()
    }

    #[test]
    fn binary_one_sided_is_fishers_exact_test() {
        // 6/8 against 2/8 (tests/reference/randomisation.R): R's
        // fisher.test(matrix(c(6,2,2,6),2), alternative="greater")$p.value, and the enumeration
        // of all 12,870 assignments with combn() for the three directions.
        let t = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0];
        let c = [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let r = randomisation_test(&[units(&t, &c)], true, Sides::Greater);
        assert_eq!(r.method, Method::Hypergeometric);
        assert!((r.p_value - 0.065967365967366035).abs() < 1e-12, "{r:?}");
        assert!((r.assignments - 12_870.0).abs() < 1e-6);
        // Enumeration of the same design agrees with the hypergeometric path.
        let e = randomisation_test(&[units(&t, &c)], false, Sides::Greater);
        assert_eq!(e.method, Method::Exact);
        assert_eq!(e.draws, 12_870);
        assert!((e.p_value - r.p_value).abs() < 1e-12);
        for (sides, r_value) in [
            (Sides::Less, 0.99494949494949492),
            (Sides::TwoSided, 0.13193473193473193),
        ] {
            let h = randomisation_test(&[units(&t, &c)], true, sides);
            let e = randomisation_test(&[units(&t, &c)], false, sides);
            assert!((h.p_value - r_value).abs() < 1e-12, "{sides:?}: {h:?}");
            assert!((e.p_value - r_value).abs() < 1e-12, "{sides:?}: {e:?}");
        }
    }

    #[test]
    fn continuous_eight_and_eight_is_enumerated_as_r_does() {
        // tests/reference/randomisation.R: combn() over all 12,870 assignments.
        let t = [3.1, 4.7, 2.2, 5.9, 4.4, 3.8, 6.1, 2.9];
        let c = [2.4, 3.0, 1.7, 4.1, 2.2, 3.3, 1.9, 2.6];
        for (sides, r_value) in [
            (Sides::Greater, 0.011344211344211345),
            (Sides::Less, 0.9902874902874903),
            (Sides::TwoSided, 0.02268842268842269),
        ] {
            let e = randomisation_test(&[units(&t, &c)], false, sides);
            assert_eq!((e.method, e.draws), (Method::Exact, 12_870));
            assert!((e.p_value - r_value).abs() < 1e-12, "{sides:?}: {e:?}");
        }
    }

    #[test]
    fn monte_carlo_is_reproducible_and_close_to_the_exact_value() {
        let t: Vec<f64> = (0..13).map(|i| f64::from(i) * 0.7 + 1.0).collect();
        let c: Vec<f64> = (0..13).map(|i| f64::from(i) * 0.6).collect();
        let a = randomisation_test(&[units(&t, &c)], false, Sides::TwoSided);
        let b = randomisation_test(&[units(&t, &c)], false, Sides::TwoSided);
        assert_eq!(a, b);
        assert_eq!(a.method, Method::MonteCarlo);
        assert!(a.mc_se > 0.0 && a.mc_se < 0.006);
        // Split into two strata of 13 units each the count stays above the exact limit; one
        // stratum of 8 + 8 is enumerated.
        let small = randomisation_test(&[units(&t[..8], &c[..8])], false, Sides::TwoSided);
        assert_eq!(small.method, Method::Exact);
    }

    #[test]
    fn strata_and_clusters_enumerate_within_strata() {
        // Two strata of 2 + 2: 6 × 6 = 36 assignments.
        let s1 = units(&[5.0, 6.0], &[1.0, 2.0]);
        let s2 = units(&[3.0, 4.0], &[3.0, 1.0]);
        let r = randomisation_test(&[s1, s2], false, Sides::Greater);
        assert_eq!(r.draws, 36);
        assert!((r.assignments - 36.0).abs() < 1e-9);
        // Clusters: units with their own sizes.
        let clusters = vec![
            Unit {
                sum: 10.0,
                n: 4.0,
                treated: true,
            },
            Unit {
                sum: 9.0,
                n: 3.0,
                treated: true,
            },
            Unit {
                sum: 2.0,
                n: 5.0,
                treated: false,
            },
            Unit {
                sum: 1.0,
                n: 2.0,
                treated: false,
            },
        ];
        let r = randomisation_test(&[clusters], false, Sides::Greater);
        assert_eq!(r.draws, 6);
        // The observed split is the most extreme of the six: p = 1/6.
        assert!((r.p_value - 1.0 / 6.0).abs() < 1e-12, "{r:?}");
    }

    #[test]
    fn the_count_of_assignments_keeps_its_logarithm_beyond_the_largest_float() {
        // C(4000, 2000) ≈ 1.7 × 10^1202 overflows a float, its logarithm does not.
        // R: print(lchoose(4000, 2000) / log(10), digits = 17) gives 1202.2208655783406.
        let t: Vec<f64> = (0..2000).map(f64::from).collect();
        let c: Vec<f64> = (0..2000).map(|i| f64::from(i) + 0.5).collect();
        let r = randomisation_test(&[units(&t, &c)], false, Sides::TwoSided);
        assert!(r.assignments.is_infinite(), "{r:?}");
        let small = randomisation_test(&[units(&t[..8], &c[..8])], false, Sides::TwoSided);
        assert!((small.log10_assignments - 12_870f64.log10()).abs() < 1e-9);
        assert!(
            (r.log10_assignments - 1202.2208655783406).abs() < 1e-8,
            "{r:?}"
        );
    }

    #[test]
    fn an_empty_arm_is_undefined() {
        let r = randomisation_test(&[units(&[1.0, 2.0], &[])], false, Sides::TwoSided);
        assert!(r.p_value.is_nan());
    }
}
