//! Multiplicity corrections of a family of p-values (adjusted p-values, as
//! `statsmodels.stats.multitest.multipletests`). A NaN p-value counts in the family size (the
//! conservative choice), is adjusted to NaN and is never a rejection.

/// Bonferroni: `min(1, m · p)`.
pub fn bonferroni(p: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; p.len()];
    bonferroni_into(p, &mut out);
    out
}

/// [`bonferroni`] into a caller's buffer of the same length.
pub fn bonferroni_into(p: &[f64], out: &mut [f64]) {
    let m = p.len() as f64;
    for (o, &p) in out.iter_mut().zip(p) {
        // `f64::min` would turn NaN into 1.
        *o = if p.is_nan() { p } else { (m * p).min(1.0) };
    }
}

/// Holm's step-down: the i-th smallest p-value becomes `max_{j ≤ i} min(1, (m − j + 1) p_(j))`.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; p.len()];
    let mut order = Vec::with_capacity(p.len());
    holm_into(p, &mut out, &mut order);
    out
}

/// [`holm`] into a caller's buffer of the same length, with a reusable index buffer.
pub fn holm_into(p: &[f64], out: &mut [f64], order: &mut Vec<usize>) {
    order.clear();
    order.extend(0..p.len());
    // NaN sorts last; ties keep their input order.
    order.sort_by(|&i, &j| {
        (p[i].is_nan().cmp(&p[j].is_nan()))
            .then(p[i].total_cmp(&p[j]))
            .then(i.cmp(&j))
    });
    let m = p.len();
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        if p[i].is_nan() {
            out[i] = f64::NAN;
            continue;
        }
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        out[i] = running;
    }
}
