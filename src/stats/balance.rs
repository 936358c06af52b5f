//! Tests of baseline balance between two groups: Pearson's chi-square test of a contingency
//! table, and the omnibus F test of the regression of the group indicator on all covariates.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, FisherSnedecor};

use super::dist::chi2_sf;

/// Pearson's chi-square test of independence on a table of counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChiSquare {
    /// `Σ (observed − expected)² / expected`, without a continuity correction.
    pub statistic: f64,
    /// `(rows − 1)(columns − 1)` over the rows and columns with a non-zero total.
    pub df: u32,
    /// Upper tail of chi-square on `df` degrees of freedom; NaN when `df` is 0.
    pub p_value: f64,
    /// Cells whose expected count is below 5, where the chi-square approximation is rough
    /// (R's `chisq.test` warns then).
    pub small_expected: u32,
}

/// Pearson's chi-square test of `table[row][column]` (R `chisq.test(table, correct = FALSE)`).
///
/// Rows and columns whose total is 0 are left out (they hold no information and would make an
/// expected count 0). With fewer than two non-empty rows or columns the test is undefined:
/// statistic and p NaN, df 0.
pub fn pearson_chi2(table: &[Vec<u64>]) -> ChiSquare {
    let columns = table.iter().map(Vec::len).max().unwrap_or(0);
    let cell = |r: usize, c: usize| table[r].get(c).copied().unwrap_or(0);
    let rows: Vec<usize> = (0..table.len())
        .filter(|&r| table[r].iter().sum::<u64>() > 0)
        .collect();
    let cols: Vec<usize> = (0..columns)
        .filter(|&c| rows.iter().map(|&r| cell(r, c)).sum::<u64>() > 0)
        .collect();
    if rows.len() < 2 || cols.len() < 2 {
        return ChiSquare {
            statistic: f64::NAN,
            df: 0,
            p_value: f64::NAN,
            small_expected: 0,
        };
    }
    let row_total: Vec<f64> = rows
        .iter()
        .map(|&r| cols.iter().map(|&c| cell(r, c) as f64).sum())
        .collect();
    let col_total: Vec<f64> = cols
        .iter()
        .map(|&c| rows.iter().map(|&r| cell(r, c) as f64).sum())
        .collect();
    let n: f64 = row_total.iter().sum();
    let mut statistic = 0.0;
    let mut small_expected = 0;
    for (i, &r) in rows.iter().enumerate() {
        for (j, &c) in cols.iter().enumerate() {
            let expected = row_total[i] * col_total[j] / n;
            let d = cell(r, c) as f64 - expected;
            statistic += d * d / expected;
            small_expected += u32::from(expected < 5.0);
        }
    }
    let df = ((rows.len() - 1) * (cols.len() - 1)) as u32;
    ChiSquare {
        statistic,
        df,
        p_value: chi2_sf(statistic, f64::from(df)),
        small_expected,
    }
}

/// The omnibus F test of balance: the regression of the group indicator on every covariate
/// against the intercept alone (R `summary(lm(treat ~ x1 + x2 + ...))$fstatistic`, the same
/// as `anova(lm(treat ~ 1), lm(treat ~ x1 + ...))`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OmnibusF {
    /// `(R² / df1) / ((1 − R²) / df2)`.
    pub statistic: f64,
    /// Columns of the design matrix that are not linear combinations of the intercept and the
    /// columns before them (the rank minus one).
    pub df1: u32,
    /// Observations minus the rank.
    pub df2: u32,
    /// Upper tail of F(df1, df2); NaN when either df is 0.
    pub p_value: f64,
    /// Columns left out because they are constant or collinear with others (R reports their
    /// coefficients as `NA`).
    pub aliased: u32,
}

/// The omnibus F test of `y` (1 in one group, 0 in the other) on the columns `x` (each as long
/// as `y`; categorical covariates enter as indicator columns of all levels but one).
///
/// The columns are centred (which takes the intercept out) and orthogonalised in order by
/// modified Gram–Schmidt with one re-orthogonalisation; a column whose norm falls below 10⁻⁷ of
/// its centred norm is aliased and left out, as R's pivoting QR does with the same tolerance.
pub fn omnibus_f(y: &[f64], x: &[Vec<f64>]) -> OmnibusF {
    let n = y.len();
    let undefined = |aliased| OmnibusF {
        statistic: f64::NAN,
        df1: 0,
        df2: 0,
        p_value: f64::NAN,
        aliased,
    };
    if n == 0 || x.iter().any(|c| c.len() != n) {
        return undefined(0);
    }
    let centre = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / n as f64;
        v.iter().map(|a| a - m).collect::<Vec<f64>>()
    };
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
    let mut basis: Vec<Vec<f64>> = Vec::new();
    let mut aliased = 0u32;
    for column in x {
        let mut v = centre(column);
        let norm0 = dot(&v, &v).sqrt();
        for _ in 0..2 {
            for q in &basis {
                let r = dot(q, &v);
                v.iter_mut().zip(q).for_each(|(a, b)| *a -= r * b);
            }
        }
        let norm = dot(&v, &v).sqrt();
        if norm0 == 0.0 || !norm.is_finite() || norm <= 1e-7 * norm0 {
            aliased += 1;
            continue;
        }
        v.iter_mut().for_each(|a| *a /= norm);
        basis.push(v);
    }
    let yc = centre(y);
    let total = dot(&yc, &yc);
    let explained: f64 = basis.iter().map(|q| dot(q, &yc).powi(2)).sum();
    let df1 = basis.len();
    if df1 == 0 || n <= df1 + 1 || total == 0.0 {
        return undefined(aliased);
    }
    let df2 = n - df1 - 1;
    let residual = (total - explained).max(0.0);
    let statistic = (explained / df1 as f64) / (residual / df2 as f64);
    let p_value = match FisherSnedecor::new(df1 as f64, df2 as f64) {
        Ok(f) if statistic.is_finite() => f.sf(statistic),
        Ok(_) if statistic.is_infinite() => 0.0,
        _ => f64::NAN,
    };
    OmnibusF {
        statistic,
        df1: df1 as u32,
        df2: df2 as u32,
        p_value,
        aliased,
    }
}

#[cfg(test)]
#[allow(clippy::excessive_precision)] // R's 17-significant-digit output, as printed
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-8 * b.abs().max(1e-300)
    }

    #[test]
    fn chi_square_matches_r_on_nsw_binned_education() {
        // NSW (examples/nsw/data.csv) educ binned [0,9), [9,12), [12,16), [16,99) by arm;
        // R: chisq.test(table(d$arm, cut(d$educ, c(0,9,12,16,99), right=FALSE)), correct=FALSE)
        // (tests/reference/balance.R).
        let t = pearson_chi2(&[vec![28, 103, 53, 1], vec![36, 181, 43, 0]]);
        assert!(close(t.statistic, 12.169431272754338), "{t:?}");
        assert_eq!(t.df, 3);
        assert!(close(t.p_value, 0.0068247331586236875), "{t:?}");
        // The [16, 99) column expects 185/445 and 260/445 of one participant.
        assert_eq!(t.small_expected, 2);
    }

    #[test]
    fn chi_square_leaves_out_empty_columns_and_is_undefined_on_one() {
        let with_empty = pearson_chi2(&[vec![10, 0, 5], vec![4, 0, 9]]);
        let without = pearson_chi2(&[vec![10, 5], vec![4, 9]]);
        assert_eq!(with_empty, without);
        assert_eq!(without.df, 1);
        let one = pearson_chi2(&[vec![10, 0], vec![4, 0]]);
        assert!(one.p_value.is_nan() && one.df == 0);
    }

    #[test]
    fn omnibus_f_drops_aliased_columns() {
        let y = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0];
        let x1 = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 9.0];
        let twice = x1.iter().map(|v| 2.0 * v + 1.0).collect();
        let constant = vec![3.0; 8];
        let one = omnibus_f(&y, std::slice::from_ref(&x1));
        let three = omnibus_f(&y, &[x1, twice, constant]);
        assert_eq!(three.aliased, 2);
        assert_eq!(three.df1, 1);
        assert!(close(three.statistic, one.statistic));
        assert!(omnibus_f(&y, &[]).p_value.is_nan());
    }
}
