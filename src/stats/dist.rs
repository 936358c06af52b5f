//! Thin, NaN-safe wrappers over the distributions of `statrs`.

use statrs::distribution::{ChiSquared, ContinuousCDF, FisherSnedecor, Normal, StudentsT};
use statrs::function::erf::erfc;
use statrs::function::gamma::ln_gamma;
use std::f64::consts::PI;

use super::Sides;

/// Standard normal distribution function Φ(x).
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Standard normal upper tail 1 − Φ(x), accurate far into the tail.
pub fn norm_sf(x: f64) -> f64 {
    0.5 * erfc(x / std::f64::consts::SQRT_2)
}

/// Standard normal quantile Φ⁻¹(p); ±∞ at 0 and 1, NaN outside `[0, 1]`.
pub fn norm_quantile(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    Normal::standard().inverse_cdf(p)
}

/// Student t distribution function with `df` degrees of freedom (∞ gives the normal);
/// NaN when `df` is not positive.
pub fn t_cdf(x: f64, df: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    match student(df) {
        Some(t) => t.cdf(x),
        None if df == f64::INFINITY => norm_cdf(x),
        None => f64::NAN,
    }
}

/// Student t upper tail with `df` degrees of freedom.
pub fn t_sf(x: f64, df: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    match student(df) {
        Some(t) => t.sf(x),
        None if df == f64::INFINITY => norm_sf(x),
        None => f64::NAN,
    }
}

/// Student t quantile; NaN when `df` is not positive or `p` is outside `[0, 1]`.
///
/// Inverting the incomplete beta function costs about a microsecond, and the analysis asks for
/// the same few (p, df) pairs replicate after replicate (per-arm intervals at df = n − 1), so
/// the last few answers are remembered per thread.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if df == f64::INFINITY {
        return norm_quantile(p);
    }
    if p == 0.0 {
        return if df > 0.0 {
            f64::NEG_INFINITY
        } else {
            f64::NAN
        };
    }
    if p == 1.0 {
        return if df > 0.0 { f64::INFINITY } else { f64::NAN };
    }
    let Some(t) = student(df) else {
        return f64::NAN;
    };
    // Per-arm intervals: integral df, the 97.5 % point; a per-thread table filled on demand.
    if p == 0.975 && df.fract() == 0.0 && df <= 4096.0 {
        let index = df as usize;
        return T_975.with(|table| {
            let mut table = table.borrow_mut();
            if table.len() <= index {
                table.resize(index + 1, f64::NAN);
            }
            if table[index].is_nan() {
                table[index] = t_quantile_newton(p, df).unwrap_or_else(|| t.inverse_cdf(p));
            }
            table[index]
        });
    }
    T_QUANTILES.with(|memo| {
        let mut entries = memo.get();
        if let Some(&(_, _, q)) = entries.iter().find(|&&(mp, mdf, _)| mp == p && mdf == df) {
            return q;
        }
        let q = t_quantile_newton(p, df).unwrap_or_else(|| t.inverse_cdf(p));
        entries.rotate_right(1);
        entries[0] = (p, df, q);
        memo.set(entries);
        q
    })
}

/// The t quantile by Newton's method from the Cornish–Fisher expansion (Abramowitz & Stegun
/// 26.7.5), for `df ≥ 3` where that start is close; faster than inverting the incomplete beta
/// function, and more accurate for large `df` (where `statrs`' inversion loses digits). Beyond
/// 10⁷ degrees of freedom the expansion alone is exact to double precision. `None` when it does
/// not converge (the caller falls back).
fn t_quantile_newton(p: f64, df: f64) -> Option<f64> {
    if df < 3.0 || !(1e-12..=1.0 - 1e-12).contains(&p) {
        return None;
    }
    let z = norm_quantile(p);
    let z2 = z * z;
    let g1 = z * (z2 + 1.0) / 4.0;
    let g2 = z * ((5.0 * z2 + 16.0) * z2 + 3.0) / 96.0;
    let g3 = z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) / 384.0;
    let g4 = z * ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) / 92160.0;
    let mut q = z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df;
    if df >= 1e7 {
        return Some(q);
    }
    let ln_norm = ln_gamma((df + 1.0) / 2.0) - ln_gamma(df / 2.0) - 0.5 * (df * PI).ln();
    let mut last = f64::INFINITY;
    for _ in 0..12 {
        // F(q) − p, from the tail nearer to q for precision.
        let excess = if p > 0.5 {
            (1.0 - p) - t_sf(q, df)
        } else {
            t_cdf(q, df) - p
        };
        let density = (ln_norm - (df + 1.0) / 2.0 * (q * q / df).ln_1p()).exp();
        let step = excess / density;
        if !step.is_finite() {
            return None;
        }
        q -= step;
        last = step.abs();
        if last <= 1e-12 * q.abs().max(1.0) {
            return Some(q);
        }
    }
    // Rounding in the tail probability can keep the last steps from shrinking further.
    (last <= 1e-9 * q.abs().max(1.0)).then_some(q)
}

thread_local! {
    /// t quantiles at 0.975 by integral degrees of freedom (NaN: not computed yet).
    static T_975: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
    /// Recent (p, df, quantile) triples; NaN keys never match.
    static T_QUANTILES: std::cell::Cell<[(f64, f64, f64); 16]> =
        const { std::cell::Cell::new([(f64::NAN, f64::NAN, f64::NAN); 16]) };
}

/// Chi-square upper tail with `df` degrees of freedom; NaN when `df` is not positive.
pub fn chi2_sf(x: f64, df: f64) -> f64 {
    if x.is_nan() || df.is_nan() || df <= 0.0 || df.is_infinite() {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    match ChiSquared::new(df) {
        Ok(c) => c.sf(x),
        Err(_) => f64::NAN,
    }
}

/// F upper tail with `df1` and `df2` degrees of freedom; NaN when either is not positive.
pub fn f_sf(x: f64, df1: f64, df2: f64) -> f64 {
    if x.is_nan() || !(df1 > 0.0 && df2 > 0.0) || df1.is_infinite() || df2.is_infinite() {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    match FisherSnedecor::new(df1, df2) {
        Ok(f) => f.sf(x),
        Err(_) => f64::NAN,
    }
}

fn student(df: f64) -> Option<StudentsT> {
    if df.is_finite() && df > 0.0 {
        StudentsT::new(0.0, 1.0, df).ok()
    } else {
        None
    }
}

/// p-value of a statistic `z` that is standard normal under H0, in the direction `sides`.
/// NaN in, NaN out; ±∞ give 0 or 1.
pub fn p_from_z(z: f64, sides: Sides) -> f64 {
    match sides {
        Sides::Greater => norm_sf(z),
        Sides::Less => norm_cdf(z),
        Sides::TwoSided => (2.0 * norm_sf(z.abs())).min(1.0),
    }
}

/// p-value of a statistic `t` with `df` degrees of freedom under H0, in the direction `sides`.
pub fn p_from_t(t: f64, df: f64, sides: Sides) -> f64 {
    match sides {
        Sides::Greater => t_sf(t, df),
        Sides::Less => t_cdf(t, df),
        Sides::TwoSided => (2.0 * t_sf(t.abs(), df)).min(1.0),
    }
}

/// The critical value `c` of a standard normal statistic: a one-sided test rejects when the
/// statistic is beyond `c` in its direction, a two-sided test when `|z| ≥ c`.
pub fn z_critical(alpha: f64, sides: Sides) -> f64 {
    match sides {
        Sides::TwoSided => norm_quantile(1.0 - alpha / 2.0),
        Sides::Greater | Sides::Less => norm_quantile(1.0 - alpha),
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    /// Large degrees of freedom (a Welch test on a million rows): stats.t.sf(2.0, df),
    /// stats.t.ppf(0.975, df), stats.t.sf(-1.5, df) from scipy 1.17.1. (statrs' incomplete beta
    /// function is good to about 1e-10 at these df; its own t inversion was off by 1e-4.)
    #[test]
    fn t_distribution_with_large_df_matches_scipy() {
        let cases = [
            (
                1e4,
                0.022763630330717714,
                1.960201239890626,
                0.9331770140881902,
            ),
            (
                1e6,
                0.02275026692565962,
                1.959966356814107,
                0.9331926408816036,
            ),
            (
                5e7,
                0.02275013464772755,
                1.9599640319854799,
                0.9331927955741506,
            ),
        ];
        for (df, sf2, q, sf_neg) in cases {
            assert!(
                (t_sf(2.0, df) - sf2).abs() < 1e-8,
                "sf {df}: {}",
                t_sf(2.0, df)
            );
            assert!(
                (t_quantile(0.975, df) - q).abs() < 1e-9,
                "q {df}: {}",
                t_quantile(0.975, df)
            );
            assert!(
                (t_sf(-1.5, df) - sf_neg).abs() < 1e-8,
                "sf- {df}: {}",
                t_sf(-1.5, df)
            );
        }
    }

    /// Small df, where statrs' inversion is used: stats.t.ppf(p, df), scipy 1.17.1.
    #[test]
    fn t_quantile_with_small_df_matches_scipy() {
        for (p, df, q) in [
            (0.975, 1.0, 12.706204736174694),
            (0.975, 2.0, 4.302652729749462),
            (0.999, 1.5, 52.18443000899263),
            (0.6, 0.5, 0.3979754267847907),
            (0.975, 2.9, 3.2454380624331107),
        ] {
            let got = t_quantile(p, df);
            assert!((got - q).abs() < 1e-8 * q.abs().max(1.0), "{p} {df}: {got}");
        }
    }

    #[test]
    fn invalid_arguments_give_nan_not_panics() {
        assert!(t_cdf(f64::NAN, 5.0).is_nan());
        assert!(t_sf(1.0, -1.0).is_nan());
        assert!(t_quantile(1.5, 5.0).is_nan());
        assert!(t_quantile(0.5, 0.0).is_nan());
        assert!(norm_quantile(-0.1).is_nan());
        assert!(chi2_sf(1.0, 0.0).is_nan());
        assert_eq!(chi2_sf(0.0, 3.0), 1.0);
        assert_eq!(p_from_z(f64::INFINITY, Sides::Greater), 0.0);
        assert_eq!(p_from_z(f64::NEG_INFINITY, Sides::TwoSided), 0.0);
    }
}
