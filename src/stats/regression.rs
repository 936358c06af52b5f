//! Ordinary least squares with heteroskedasticity-robust (HC2) standard errors, for one
//! coefficient of interest: the covariate-adjusted treatment effect.
//!
//! The fit is a Householder QR decomposition of the design matrix (accurate to about the
//! machine precision times the condition number of X, not of X'X as the normal equations would
//! be). A column whose remaining norm falls below `1e-7` of its original norm during the
//! decomposition is linearly dependent on the columns before it and is dropped, as R's `lm`
//! (LINPACK `dqrdc2`, tolerance 1e-7) and estimatr do; the fit reports which.
//!
//! HC2 (MacKinnon & White 1985), the estimatr default: with `h_i` the leverage of row `i` and
//! `e_i` its residual, `V = (X'X)⁻¹ X' diag(e_i² / (1 − h_i)) X (X'X)⁻¹`. With `X = QR`, the
//! variance of coefficient `j` is `Σ_i e_i² / (1 − h_i) · (g'q_i)²`, where `q_i` is row `i` of
//! the thin Q (`R' q_i = x_i`), `h_i = |q_i|²` and `R' g = e_j`. Inference is by Student's t
//! with `n − rank` degrees of freedom, as estimatr `lm_robust` reports.
//!
//! [`Ols`] is a workspace: its buffers are kept from fit to fit, so a Monte Carlo replicate
//! costs no allocation once warm.

use super::Sides;
use super::dist::{p_from_t, t_quantile};
use super::tests::TestOutcome;

/// Relative tolerance below which a column counts as dependent on the columns before it (R's
/// `lm` default).
pub const RANK_TOLERANCE: f64 = 1e-7;

/// A leverage this close to 1 leaves the row's HC2 weight undefined.
const LEVERAGE_ONE: f64 = 1e-10;

/// The robust inference on one coefficient.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoefficientFit {
    /// The estimate (NaN when its column was dropped as dependent).
    pub estimate: f64,
    /// Its HC2 standard error (NaN when undefined: a row with leverage 1, or no residual
    /// degrees of freedom).
    pub se: f64,
    /// Residual degrees of freedom, `n − rank`.
    pub df: f64,
    /// Rows used.
    pub n: usize,
    /// Rank of the design matrix.
    pub rank: usize,
    /// A row with leverage 1 made the HC2 weight undefined.
    pub leverage_one: bool,
}

impl CoefficientFit {
    /// The t test of the coefficient against 0 in the direction `sides`.
    pub fn test(&self, sides: Sides) -> TestOutcome {
        if !self.estimate.is_finite() || !self.se.is_finite() || self.df <= 0.0 {
            return TestOutcome::UNDEFINED;
        }
        if self.se == 0.0 {
            return TestOutcome {
                statistic: if self.estimate == 0.0 {
                    0.0
                } else {
                    self.estimate.signum() * f64::INFINITY
                },
                p_value: match (self.estimate == 0.0, sides) {
                    (true, _) => 1.0,
                    (false, Sides::TwoSided) => 0.0,
                    (false, Sides::Greater) => f64::from(u8::from(self.estimate < 0.0)),
                    (false, Sides::Less) => f64::from(u8::from(self.estimate > 0.0)),
                },
            };
        }
        let statistic = self.estimate / self.se;
        TestOutcome {
            statistic,
            p_value: p_from_t(statistic, self.df, sides),
        }
    }

    /// The two-sided t interval at `level`.
    pub fn interval(&self, level: f64) -> (f64, f64) {
        if !self.se.is_finite() || self.df <= 0.0 {
            return (f64::NAN, f64::NAN);
        }
        let q = t_quantile(0.5 + level / 2.0, self.df);
        (self.estimate - q * self.se, self.estimate + q * self.se)
    }
}

/// A least-squares workspace: fill the design column by column ([`Ols::start`],
/// [`Ols::column_mut`]), then [`Ols::fit_hc2`].
#[derive(Debug, Default, Clone)]
pub struct Ols {
    n: usize,
    p: usize,
    /// The design, column-major `n × p`; the QR factors after a fit.
    x: Vec<f64>,
    /// A copy of the design (columns in the fit's order).
    x0: Vec<f64>,
    /// Original column index of each position.
    label: Vec<usize>,
    tau: Vec<f64>,
    /// First entry of each Householder vector (the diagonal holds R).
    v0: Vec<f64>,
    qty: Vec<f64>,
    beta: Vec<f64>,
    g: Vec<f64>,
    /// Original column norms, for the dependence test.
    norms: Vec<f64>,
    /// Rank of the last fit.
    rank: usize,
    /// The estimate of the last fit's coefficient of interest.
    estimate: f64,
    /// Thin Q of the last fit, row-major `n × rank`.
    q: Vec<f64>,
    /// Residuals of the last fit.
    resid: Vec<f64>,
    /// `1 / R_jj`.
    inv_diag: Vec<f64>,
    // CR2 buffers.
    order: Vec<usize>,
    small: Vec<f64>,
    vecs: Vec<f64>,
    vals: Vec<f64>,
    z: Vec<f64>,
    u: Vec<f64>,
    uk: Vec<f64>,
    w: Vec<f64>,
    wtw: Vec<f64>,
    /// Original columns dropped as dependent, in the last fit.
    dropped: Vec<usize>,
}

impl Ols {
    /// Starts a design of `n` rows and `p` columns (all zero).
    pub fn start(&mut self, n: usize, p: usize) {
        self.n = n;
        self.p = p;
        self.x.clear();
        self.x.resize(n * p, 0.0);
        self.dropped.clear();
    }

    /// Rows of the design.
    pub fn rows(&self) -> usize {
        self.n
    }

    /// Column `j` of the design, to fill.
    pub fn column_mut(&mut self, j: usize) -> &mut [f64] {
        &mut self.x[j * self.n..(j + 1) * self.n]
    }

    /// Original indices of the columns the last fit dropped as linearly dependent.
    pub fn dropped(&self) -> &[usize] {
        &self.dropped
    }

    /// Fits `y` on the design and returns the HC2 inference on original column `coef`.
    ///
    /// `y` must have [`Ols::rows`] values. The design is consumed (start a new one for the next
    /// fit).
    pub fn fit_hc2(&mut self, y: &[f64], coef: usize) -> CoefficientFit {
        match self.fit(y, coef) {
            Ok(()) => self.hc2(),
            Err(undefined) => undefined,
        }
    }

    /// Two-stage least squares: fits `y` on the design, whose original column `coef` holds the
    /// first stage's fitted values of an endogenous regressor with values `actual`, and returns
    /// the HC2 inference on it with the structural residuals `y − Xβ` (`actual` in column
    /// `coef`) and the leverages of the fitted design, as estimatr `iv_robust` computes them.
    pub fn fit_hc2_two_stage(&mut self, y: &[f64], coef: usize, actual: &[f64]) -> CoefficientFit {
        match self.fit_two_stage(y, coef, actual) {
            Ok(()) => self.hc2(),
            Err(undefined) => undefined,
        }
    }

    /// [`Ols::fit_hc2_two_stage`] with CR2 errors for the clusters `cluster` (estimatr
    /// `iv_robust(..., clusters = )`).
    pub fn fit_cr2_two_stage(
        &mut self,
        y: &[f64],
        coef: usize,
        actual: &[f64],
        cluster: &[u32],
    ) -> CoefficientFit {
        match self.fit_two_stage(y, coef, actual) {
            Ok(()) => self.cr2(cluster),
            Err(undefined) => undefined,
        }
    }

    /// The fit with the structural residuals in place of the second stage's.
    fn fit_two_stage(
        &mut self,
        y: &[f64],
        coef: usize,
        actual: &[f64],
    ) -> Result<(), CoefficientFit> {
        self.fit(y, coef)?;
        if actual.len() != self.n {
            return Err(CoefficientFit {
                estimate: f64::NAN,
                se: f64::NAN,
                df: f64::NAN,
                n: self.n,
                rank: self.rank,
                leverage_one: false,
            });
        }
        let n = self.n;
        if let Some(at) = self.label[..self.rank].iter().position(|&l| l == coef) {
            let column = &self.x0[at * n..(at + 1) * n];
            for ((e, &d), &fitted) in self.resid.iter_mut().zip(actual).zip(column) {
                *e -= (d - fitted) * self.estimate;
            }
        }
        Ok(())
    }

    /// The residuals of the last fit (empty when its coefficient was not estimable).
    pub fn residuals(&self) -> &[f64] {
        &self.resid
    }

    /// Fits `y` and returns the CR2 inference on original column `coef`, with `cluster` the
    /// cluster code of each row (Bell–McCaffrey degrees of freedom, see [`Ols::cr2`]).
    pub fn fit_cr2(&mut self, y: &[f64], coef: usize, cluster: &[u32]) -> CoefficientFit {
        match self.fit(y, coef) {
            Ok(()) => self.cr2(cluster),
            Err(undefined) => undefined,
        }
    }

    /// The decomposition, the coefficients, the residuals, the thin Q and `g` (`R' g = e_at`)
    /// for coefficient `coef`; the undefined fit when the coefficient cannot be estimated.
    fn fit(&mut self, y: &[f64], coef: usize) -> Result<(), CoefficientFit> {
        let (n, p) = (self.n, self.p);
        let undefined = CoefficientFit {
            estimate: f64::NAN,
            se: f64::NAN,
            df: f64::NAN,
            n,
            rank: 0,
            leverage_one: false,
        };
        self.resid.clear();
        if y.len() != n || coef >= p || n == 0 {
            return Err(undefined);
        }
        self.x0.clone_from(&self.x);
        self.label.clear();
        self.label.extend(0..p);
        self.tau.clear();
        self.tau.resize(p, 0.0);
        self.v0.clear();
        self.v0.resize(p, 0.0);
        let rank = self.decompose();
        self.rank = rank;
        let Some(at) = self.label[..rank].iter().position(|&l| l == coef) else {
            return Err(CoefficientFit {
                rank,
                df: (n - rank) as f64,
                ..undefined
            });
        };
        // Q'y, then R beta = (Q'y)[..rank].
        self.qty.clear();
        self.qty.extend_from_slice(y);
        for k in 0..rank {
            self.reflect(k);
        }
        self.beta.clear();
        self.beta.resize(rank, 0.0);
        for i in (0..rank).rev() {
            let mut s = self.qty[i];
            for j in i + 1..rank {
                s -= self.r(i, j) * self.beta[j];
            }
            self.beta[i] = s / self.r(i, i);
        }
        // R' g = e_at.
        self.g.clear();
        self.g.resize(rank, 0.0);
        for i in 0..rank {
            let mut s = if i == at { 1.0 } else { 0.0 };
            for k in 0..i {
                s -= self.r(k, i) * self.g[k];
            }
            self.g[i] = s / self.r(i, i);
        }
        // Row by row: the thin Q (R' q_i = x_i, forward substitution) and the residual.
        self.q.clear();
        self.q.resize(n * rank, 0.0);
        self.resid.clear();
        self.inv_diag.clear();
        for j in 0..rank {
            let d = 1.0 / self.x[j * n + j];
            self.inv_diag.push(d);
        }
        for (i, (row, &yi)) in self.q.chunks_exact_mut(rank).zip(y).enumerate() {
            let mut fitted = 0.0;
            for j in 0..rank {
                let x = self.x0[j * n + i];
                fitted += x * self.beta[j];
                let column = &self.x[j * n..j * n + j];
                let mut s = x;
                for (r, q) in column.iter().zip(&row[..j]) {
                    s -= r * q;
                }
                row[j] = s * self.inv_diag[j];
            }
            self.resid.push(yi - fitted);
        }
        self.estimate = self.beta[at];
        Ok(())
    }

    /// The residual sum of squares of the last fit (NaN when its coefficient was not
    /// estimable).
    pub fn residual_sum_of_squares(&self) -> f64 {
        if self.resid.len() == self.n {
            self.resid.iter().map(|e| e * e).sum()
        } else {
            f64::NAN
        }
    }

    /// Row `i` of the thin Q.
    fn q_row(&self, i: usize) -> &[f64] {
        &self.q[i * self.rank..(i + 1) * self.rank]
    }

    /// HC2 inference after [`Ols::fit`].
    fn hc2(&mut self) -> CoefficientFit {
        let (n, rank) = (self.n, self.rank);
        let df = (n - rank) as f64;
        let mut variance = 0.0;
        let mut leverage_one = false;
        for i in 0..n {
            let q = self.q_row(i);
            let h = dot(q, q);
            let gq = dot(&self.g, q);
            if 1.0 - h <= LEVERAGE_ONE {
                // The row is fitted exactly; its weight e² / (1 − h) is 0 / 0.
                leverage_one = true;
                continue;
            }
            let e = self.resid[i];
            variance += e * e / (1.0 - h) * gq * gq;
        }
        let se = if leverage_one || df <= 0.0 {
            f64::NAN
        } else {
            variance.sqrt()
        };
        CoefficientFit {
            estimate: self.estimate,
            se,
            df,
            n,
            rank,
            leverage_one,
        }
    }

    /// CR2 inference after [`Ols::fit`] (Bell & McCaffrey 2002; estimatr's default for
    /// clustered designs).
    ///
    /// With `Q_g` the rows of the thin Q in cluster `g`, `A_g = (I − Q_g Q_g')^{−1/2}` and
    /// `u_g = A_g Q_g g`, the variance is `Σ_g (u_g · e_g)²`. `A_g` comes from the eigenvectors
    /// of the small `Q_g'Q_g = V S² V'`: `A_g z = z + U diag((1 − s²)^{−1/2} − 1) U' z` with
    /// `U = Q_g V S⁻¹` (identity off the span of `Q_g`). The degrees of freedom are
    /// Satterthwaite's under a homoskedastic working model: with `G = (I − H)[·, g] u_g` per
    /// cluster, `df = tr(G'G)² / tr((G'G)²)`, where `G'G = diag(|u_g|²) − W W'` and row `g` of
    /// `W` is `w_g = Q_g' u_g`.
    fn cr2(&mut self, cluster: &[u32]) -> CoefficientFit {
        let (n, rank) = (self.n, self.rank);
        let mut out = CoefficientFit {
            estimate: self.estimate,
            se: f64::NAN,
            df: f64::NAN,
            n,
            rank,
            leverage_one: false,
        };
        if cluster.len() != n {
            return out;
        }
        // Rows grouped by cluster.
        self.order.clear();
        self.order.extend(0..n);
        self.order.sort_by_key(|&i| (cluster[i], i));
        let mut variance = 0.0;
        let (mut sum_u2, mut sum_u4, mut sum_u2w2) = (0.0, 0.0, 0.0);
        self.wtw.clear();
        self.wtw.resize(rank * rank, 0.0);
        let mut start = 0;
        let mut clusters = 0usize;
        while start < n {
            let code = cluster[self.order[start]];
            let mut end = start;
            while end < n && cluster[self.order[end]] == code {
                end += 1;
            }
            clusters += 1;
            let m = end - start;
            // Q_g'Q_g (rank × rank) and its eigen-decomposition.
            self.small.clear();
            self.small.resize(rank * rank, 0.0);
            for &i in &self.order[start..end] {
                let q = &self.q[i * rank..(i + 1) * rank];
                for a in 0..rank {
                    for b in 0..rank {
                        self.small[a * rank + b] += q[a] * q[b];
                    }
                }
            }
            jacobi_eigen(&mut self.small, &mut self.vecs, &mut self.vals, rank);
            // z = Q_g g (the cluster's rows of X (X'X)⁻¹ c).
            self.z.clear();
            for &i in &self.order[start..end] {
                let q = &self.q[i * rank..(i + 1) * rank];
                self.z.push(self.g.iter().zip(q).map(|(a, b)| a * b).sum());
            }
            // u = z + Σ_k f_k U_k (U_k · z), U_k = Q_g v_k / s_k.
            self.u.clear();
            self.u.extend_from_slice(&self.z);
            for k in 0..rank {
                let s2 = self.vals[k];
                if s2 <= 1e-14 {
                    continue;
                }
                if 1.0 - s2 <= LEVERAGE_ONE {
                    out.leverage_one = true;
                    continue;
                }
                let f = 1.0 / (1.0 - s2).sqrt() - 1.0;
                let s = s2.sqrt();
                self.uk.clear();
                for &i in &self.order[start..end] {
                    let q = &self.q[i * rank..(i + 1) * rank];
                    let d: f64 = q
                        .iter()
                        .enumerate()
                        .map(|(a, qa)| qa * self.vecs[a * rank + k])
                        .sum();
                    self.uk.push(d / s);
                }
                let dot: f64 = self.uk.iter().zip(&self.z).map(|(a, b)| a * b).sum();
                for (u, uk) in self.u.iter_mut().zip(&self.uk) {
                    *u += f * dot * uk;
                }
            }
            let mut ue = 0.0;
            let mut u2 = 0.0;
            self.w.clear();
            self.w.resize(rank, 0.0);
            for (r, &i) in self.order[start..end].iter().enumerate() {
                let u = self.u[r];
                ue += u * self.resid[i];
                u2 += u * u;
                let q = &self.q[i * rank..(i + 1) * rank];
                for (w, qa) in self.w.iter_mut().zip(q) {
                    *w += qa * u;
                }
            }
            variance += ue * ue;
            let w2: f64 = self.w.iter().map(|w| w * w).sum();
            sum_u2 += u2 - w2;
            sum_u4 += u2 * u2;
            sum_u2w2 += u2 * w2;
            for a in 0..rank {
                for b in 0..rank {
                    self.wtw[a * rank + b] += self.w[a] * self.w[b];
                }
            }
            let _ = m;
            start = end;
        }
        if out.leverage_one || clusters < 2 {
            return out;
        }
        let wtw2: f64 = self.wtw.iter().map(|x| x * x).sum();
        let trace_sq = sum_u4 - 2.0 * sum_u2w2 + wtw2;
        out.se = variance.sqrt();
        out.df = sum_u2 * sum_u2 / trace_sq;
        out
    }

    /// Entry (i, j) of R (i ≤ j), in the decomposed design.
    #[inline]
    fn r(&self, i: usize, j: usize) -> f64 {
        self.x[j * self.n + i]
    }

    /// Householder QR in place with dependent columns moved out (to the end, and dropped).
    /// Returns the rank.
    fn decompose(&mut self) -> usize {
        let n = self.n;
        let mut active = self.p;
        let mut k = 0;
        self.norms.clear();
        for j in 0..self.p {
            let c = norm(&self.x[j * n..(j + 1) * n]);
            self.norms.push(c);
        }
        while k < active.min(n) {
            let col = &self.x[k * n + k..(k + 1) * n];
            let rest = norm(col);
            let original = self.norms[self.label[k]];
            if rest <= RANK_TOLERANCE * original || original == 0.0 {
                // Dependent: move the column to the end of the active ones.
                self.dropped.push(self.label[k]);
                for j in k..active - 1 {
                    self.swap_columns(j, j + 1);
                }
                active -= 1;
                continue;
            }
            // Householder vector v = x + sign(x_k) |x| e_k, stored in place of the column
            // below the diagonal with v_k kept in tau; R_kk = −sign(x_k) |x|.
            let alpha = if self.x[k * n + k] >= 0.0 {
                -rest
            } else {
                rest
            };
            let v0 = self.x[k * n + k] - alpha;
            self.x[k * n + k] = v0;
            let below = &self.x[k * n + k + 1..(k + 1) * n];
            let vnorm2 = v0 * v0 + dot(below, below);
            self.tau[k] = if vnorm2 == 0.0 { 0.0 } else { 2.0 / vnorm2 };
            for j in k + 1..active {
                self.reflect_column(k, j);
            }
            // R_kk goes on the diagonal, v's first entry aside.
            self.x[k * n + k] = alpha;
            self.v0[k] = v0;
            k += 1;
        }
        // Columns beyond n rows cannot be estimated.
        while active > k {
            self.dropped.push(self.label[active - 1]);
            active -= 1;
        }
        self.dropped.sort_unstable();
        k
    }

    fn swap_columns(&mut self, a: usize, b: usize) {
        let n = self.n;
        for i in 0..n {
            self.x.swap(a * n + i, b * n + i);
            self.x0.swap(a * n + i, b * n + i);
        }
        self.label.swap(a, b);
    }

    /// Applies reflection `k` to column `j` of the design (during the decomposition, while the
    /// reflection's first entry is still on the diagonal).
    fn reflect_column(&mut self, k: usize, j: usize) {
        let n = self.n;
        let (left, right) = self.x.split_at_mut(j * n);
        let v = &left[k * n + k..(k + 1) * n];
        let c = &mut right[k..n];
        let s = self.tau[k] * dot(v, c);
        for (ci, vi) in c.iter_mut().zip(v) {
            *ci -= s * vi;
        }
    }

    /// Applies reflection `k` to the vector `qty`.
    fn reflect(&mut self, k: usize) {
        let n = self.n;
        let v0 = self.v0[k];
        let below = &self.x[k * n + k + 1..(k + 1) * n];
        let y = &mut self.qty[k..n];
        let s = self.tau[k] * (v0 * y[0] + dot(below, &y[1..]));
        y[0] -= s * v0;
        for (yi, vi) in y[1..].iter_mut().zip(below) {
            *yi -= s * vi;
        }
    }
}

/// Eigen-decomposition of the symmetric `k × k` matrix `a` (row-major, destroyed) by cyclic
/// Jacobi rotations: eigenvalues in `vals`, eigenvectors in the columns of `vecs`.
fn jacobi_eigen(a: &mut [f64], vecs: &mut Vec<f64>, vals: &mut Vec<f64>, k: usize) {
    vecs.clear();
    vecs.resize(k * k, 0.0);
    for i in 0..k {
        vecs[i * k + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..k)
            .flat_map(|i| (0..k).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * k + j] * a[i * k + j])
            .sum();
        let scale: f64 = (0..k).map(|i| a[i * k + i] * a[i * k + i]).sum();
        if off <= 1e-30 * scale.max(f64::MIN_POSITIVE) {
            break;
        }
        for p in 0..k {
            for q in p + 1..k {
                let apq = a[p * k + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * k + q] - a[p * k + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for r in 0..k {
                    let (arp, arq) = (a[r * k + p], a[r * k + q]);
                    a[r * k + p] = c * arp - s * arq;
                    a[r * k + q] = s * arp + c * arq;
                }
                for r in 0..k {
                    let (apr, aqr) = (a[p * k + r], a[q * k + r]);
                    a[p * k + r] = c * apr - s * aqr;
                    a[q * k + r] = s * apr + c * aqr;
                }
                for r in 0..k {
                    let (vrp, vrq) = (vecs[r * k + p], vecs[r * k + q]);
                    vecs[r * k + p] = c * vrp - s * vrq;
                    vecs[r * k + q] = s * vrp + c * vrq;
                }
            }
        }
    }
    vals.clear();
    vals.extend((0..k).map(|i| a[i * k + i]));
}

/// `Σ a_i b_i` over the shorter of the two, in four interleaved partial sums (which the
/// compiler keeps in vector registers; a single running sum is one long dependency chain).
#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

fn norm(v: &[f64]) -> f64 {
    let plain = dot(v, v).sqrt();
    if plain.is_finite() && plain > 1e-150 {
        return plain;
    }
    // Scaled, so that huge or tiny columns can neither overflow nor underflow.
    let scale = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if scale == 0.0 || !scale.is_finite() {
        return scale;
    }
    scale
        * v.iter()
            .map(|x| (x / scale) * (x / scale))
            .sum::<f64>()
            .sqrt()
}

#[cfg(test)]
// Reference values are written with every digit R printed.
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;

    /// The NSW data (examples/nsw/data.csv): (treated, age, educ, re75, re78, employed78).
    fn nsw() -> Vec<[f64; 6]> {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/nsw/data.csv"
        ))
        .expect("the NSW example data");
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().expect("header").split(',').collect();
        let col = |name: &str| header.iter().position(|h| *h == name).expect("column");
        let (arm, age, educ, re75, re78, emp) = (
            col("arm"),
            col("age"),
            col("educ"),
            col("re75"),
            col("re78"),
            col("employed78"),
        );
        lines
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                let num = |i: usize| f[i].parse::<f64>().expect("number");
                [
                    f64::from(u8::from(f[arm] == "treatment")),
                    num(age),
                    num(educ),
                    num(re75),
                    num(re78),
                    num(emp),
                ]
            })
            .collect()
    }

    fn close(got: f64, want: f64) {
        assert!(
            ((got - want) / want).abs() < 1e-8,
            "got {got:.17}, want {want:.17}"
        );
    }

    /// Lin's estimator by hand (treatment, centred covariates, their interactions) against
    /// estimatr `lm_lin(re78 ~ treat, covariates = ~ age + educ + re75)`
    /// (tests/reference/regression.R).
    #[test]
    fn lin_matches_estimatr() {
        let rows = nsw();
        let n = rows.len();
        let means: Vec<f64> = (1..4)
            .map(|k| rows.iter().map(|r| r[k]).sum::<f64>() / n as f64)
            .collect();
        let mut ols = Ols::default();
        ols.start(n, 8);
        for (i, r) in rows.iter().enumerate() {
            ols.column_mut(0)[i] = 1.0;
            ols.column_mut(1)[i] = r[0];
            for k in 0..3 {
                let c = r[k + 1] - means[k];
                ols.column_mut(2 + k)[i] = c;
                ols.column_mut(5 + k)[i] = c * r[0];
            }
        }
        let y: Vec<f64> = rows.iter().map(|r| r[4]).collect();
        let fit = ols.fit_hc2(&y, 1);
        close(fit.estimate, 1597.6053160021761);
        close(fit.se, 644.93223069100611);
        assert_eq!(fit.df, 437.0);
        let t = fit.test(Sides::TwoSided);
        close(t.statistic, 2.4771677394544818);
        close(t.p_value, 0.013620204124337679);
        let (lo, hi) = fit.interval(0.95);
        close(lo, 330.05078027368177);
        close(hi, 2865.1598517306702);
    }

    /// A column equal to another is dropped, as `lm` does, and the rest of the fit is the fit
    /// without it: ANCOVA on employed78 against `lm_robust(employed78 ~ treat + age + educ +
    /// re75)`.
    #[test]
    fn dependent_columns_are_dropped() {
        let rows = nsw();
        let n = rows.len();
        let mut ols = Ols::default();
        ols.start(n, 6);
        for (i, r) in rows.iter().enumerate() {
            ols.column_mut(0)[i] = 1.0;
            ols.column_mut(1)[i] = r[0];
            ols.column_mut(2)[i] = r[1];
            ols.column_mut(3)[i] = 2.0 * r[1];
            ols.column_mut(4)[i] = r[2];
            ols.column_mut(5)[i] = r[3];
        }
        let y: Vec<f64> = rows.iter().map(|r| r[5]).collect();
        let fit = ols.fit_hc2(&y, 1);
        assert_eq!(ols.dropped(), &[3]);
        assert_eq!(fit.rank, 5);
        close(fit.estimate, 0.10907074065895665);
        close(fit.se, 0.043834697843155933);
        assert_eq!(fit.df, 440.0);
    }

    /// The coefficient of interest itself dependent (no treated row): no estimate, NaN, never a
    /// panic; a row with leverage 1 leaves the HC2 error undefined.
    #[test]
    fn undefined_fits_are_nan() {
        let mut ols = Ols::default();
        ols.start(4, 2);
        ols.column_mut(0).copy_from_slice(&[1.0; 4]);
        let fit = ols.fit_hc2(&[1.0, 2.0, 3.0, 4.0], 1);
        assert!(fit.estimate.is_nan() && fit.se.is_nan());
        assert!(fit.test(Sides::TwoSided).p_value.is_nan());
        ols.start(4, 2);
        ols.column_mut(0).copy_from_slice(&[1.0; 4]);
        ols.column_mut(1).copy_from_slice(&[1.0, 0.0, 0.0, 0.0]);
        let fit = ols.fit_hc2(&[1.0, 2.0, 3.0, 4.0], 1);
        assert!((fit.estimate + 2.0).abs() < 1e-12);
        assert!(fit.leverage_one && fit.se.is_nan());
    }
}
