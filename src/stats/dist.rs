//! Thin, NaN-safe wrappers over the distributions of `statrs`.

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal, StudentsT};
use statrs::function::erf::erfc;

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
    match student(df) {
        Some(t) => t.inverse_cdf(p),
        None => f64::NAN,
    }
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
