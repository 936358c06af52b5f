"""Independent references for the design searches in tests/integration/search.rs.

1. Minimum detectable effect of a two-arm pooled z test (control 20 %, 150 per arm, one-sided
   greater, alpha 5 %, 80 % power): the treatment proportion where the normal-approximation power
   reaches 80 % (root of the formula), where the exact power of the test reaches 80 % (full
   enumeration over both binomials, bisection; the exact power of this one-sided test rises with
   the treatment proportion), and the slope of the normal power there.
2. A cluster-randomised design (groups of 20, ICC 5 %, 55 % vs 30 %, Student's t test on cluster
   proportions, one-sided greater, alpha 5 %): the clusters per arm of the normal approximation
   with the design effect plus one (Hayes & Moulton 2009, eq. 7.4 with sigma_b^2 = ICC p(1-p)),
   and the power of the cluster-level t test at 2..8 clusters per arm by an independent
   simulation (numpy: cluster probabilities from the beta law with that mean and ICC, binomial
   counts, scipy's equal-variance t test), 200,000 replicates each.
3. Fisher's exact test, one-sided greater, alpha 5 %, 20 % vs 4 %: exact power at 40..80 per arm
   by enumeration (scipy's hypergeometric survival function for the conditional p-value).

Run: python3 tests/reference/search.py   (numpy 2.4.6, scipy 1.17.1)
"""
import numpy as np
from scipy.optimize import brentq
from scipy.stats import norm, binom, hypergeom, ttest_ind

# 1. MDE
pc, n, alpha = 0.20, 150, 0.05
zc = norm.ppf(1 - alpha)

def normal_power(pt):
    pbar = (pt + pc) / 2
    se0 = np.sqrt(pbar * (1 - pbar) * 2 / n)
    se1 = np.sqrt((pt * (1 - pt) + pc * (1 - pc)) / n)
    return norm.cdf((pt - pc - zc * se0) / se1)

def exact_power(pt):
    x = np.arange(n + 1)
    xt = x[:, None]; xc = x[None, :]
    d = (xt - xc) / n; p = (xt + xc) / (2 * n); v = p * (1 - p) * 2 / n
    with np.errstate(all='ignore'):
        z = np.where(v > 0, d / np.sqrt(np.where(v > 0, v, 1)), 0.0)
    rej = (z >= zc) & (d != 0)
    w = binom.pmf(x, n, pt)[:, None] * binom.pmf(x, n, pc)[None, :]
    return (w * rej).sum()

normal_mde = brentq(lambda pt: normal_power(pt) - 0.8, pc + 1e-9, 0.99, xtol=1e-14)
lo, hi = pc, 0.99
for _ in range(100):
    mid = (lo + hi) / 2
    if exact_power(mid) >= 0.8: hi = mid
    else: lo = mid
slope = (normal_power(hi + 1e-4) - normal_power(hi - 1e-4)) / 2e-4
print("mde normal_pt", repr(normal_mde), "exact_pt", repr(hi), "slope", repr(slope))

# 2. Cluster design
m, icc, p1, p0 = 20, 0.05, 0.55, 0.30
deff = 1 + (m - 1) * icc
z = norm.ppf(1 - alpha) + norm.ppf(0.8)
per_arm = z ** 2 * (p1 * (1 - p1) + p0 * (1 - p0)) * deff / (p1 - p0) ** 2
print("cluster normal_n_with_deff", repr(per_arm), "hayes_moulton_k", repr(1 + per_arm / m))
rng = np.random.default_rng(20261204)
R = 200_000
def cluster_means(p, k):
    a = p * (1 - icc) / icc; b = (1 - p) * (1 - icc) / icc
    q = rng.beta(a, b, size=(R, k))
    return rng.binomial(m, q) / m
for k in range(2, 9):
    t = ttest_ind(cluster_means(p1, k), cluster_means(p0, k), axis=1, equal_var=True,
                  alternative='greater')
    power = np.mean(t.pvalue <= alpha)
    print("cluster k", k, "power", repr(power), "se", repr(np.sqrt(power * (1 - power) / R)))

# 3. Fisher
pt3, pc3 = 0.20, 0.04
def fisher_power(n):
    x = np.arange(n + 1)
    total = 0.0
    for xt in x:
        for xc in x:
            s = xt + xc
            # one-sided greater: P(X_t >= xt | s) under the hypergeometric
            p = hypergeom.sf(xt - 1, 2 * n, s, n)
            if p <= alpha:
                total += binom.pmf(xt, n, pt3) * binom.pmf(xc, n, pc3)
    return total
for n3 in range(40, 81):
    print("fisher n", n3, "power", repr(fisher_power(n3)))
