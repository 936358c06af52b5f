"""Reference values for src/validate/ (scipy 1.17.1, statsmodels 0.15.0, NumPy 2.x).

Run: python3 tests/reference/validation.py  (pip install scipy statsmodels numpy). The printed
numbers are pasted into src/validate/reference.rs as constants; nothing here runs in cargo test.
These extend tests/reference/stats.py (small tables) with large, unbalanced and far-tail cases,
and give independent values for the exact figures `trialsim validate` computes itself.
"""
import numpy as np, scipy, statsmodels
from scipy import stats, integrate
from statsmodels.stats.proportion import proportions_ztest, test_proportions_2indep, confint_proportions_2indep
print("# scipy", scipy.__version__, "statsmodels", statsmodels.__version__)
alt = {'greater': 'larger', 'less': 'smaller', 'two-sided': 'two-sided'}

print("## two-proportion tests: (x_t, n_t, x_c, n_c, sides): pooled z p, unpooled z p, fisher p")
tables = [(412, 1000, 355, 1000), (3, 250, 12, 260), (45, 50, 30, 50), (120, 300, 80, 150),
          (260, 500, 240, 500), (1, 400, 9, 380)]
for (xt, nt, xc, nc) in tables:
    for s in ['greater', 'less', 'two-sided']:
        z, p = proportions_ztest([xt, xc], [nt, nc], alternative=alt[s])
        r = test_proportions_2indep(xt, nt, xc, nc, method='wald', compare='diff', alternative=alt[s])
        _, pf = stats.fisher_exact([[xt, nt - xt], [xc, nc - xc]], alternative=s)
        print(f"({xt}, {nt}, {xc}, {nc}, {s}): {p!r}, {r.pvalue!r}, {pf!r}")

print("## Welch from summaries (mean_t, sd_t, n_t, mean_c, sd_c, n_c, sides): p")
welch = [(5.1, 2.3, 200, 4.6, 1.1, 350), (102.5, 15.0, 12, 95.0, 30.0, 9),
         (0.2, 1.0, 1000, 0.0, 1.0, 1000), (3.0, 0.5, 5, 2.0, 4.0, 40)]
for (mt, st, nt, mc, sc, nc) in welch:
    for s in ['greater', 'less', 'two-sided']:
        r = stats.ttest_ind_from_stats(mt, st, nt, mc, sc, nc, equal_var=False, alternative=s)
        print(f"({mt}, {st}, {nt}, {mc}, {sc}, {nc}, {s}): {r.pvalue!r}")

def pmf(n, p):
    return stats.binom.pmf(np.arange(n + 1), n, p)

print("## exact coverage of the Newcombe interval (p_c, p_t, n_c, n_t): coverage")
for (pc, pt, nc, nt) in [(0.05, 0.15, 80, 120), (0.3, 0.3, 80, 120)]:
    wt, wc, d, tot = pmf(nt, pt), pmf(nc, pc), pt - pc, 0.0
    for xt in range(nt + 1):
        for xc in range(nc + 1):
            lo, hi = confint_proportions_2indep(xt, nt, xc, nc, method='newcomb', compare='diff')
            if lo <= d <= hi:
                tot += wt[xt] * wc[xc]
    print(f"({pc}, {pt}, {nc}, {nt}): {tot!r}")

print("## exact power of Fisher's test (p_c, p_t, n_c, n_t, alpha, sides): power")
for (pc, pt, nc, nt, a, s) in [(0.2, 0.5, 40, 40, 0.05, 'two-sided'), (0.1, 0.3, 50, 100, 0.05, 'greater')]:
    wt, wc, tot = pmf(nt, pt), pmf(nc, pc), 0.0
    for xt in range(nt + 1):
        for xc in range(nc + 1):
            if stats.fisher_exact([[xt, nt - xt], [xc, nc - xc]], alternative=s)[1] <= a:
                tot += wt[xt] * wc[xc]
    print(f"({pc}, {pt}, {nc}, {nt}, {a}, {s}): {tot!r}")

print("## Welch power and CI coverage with normal data, by double integration over the two")
print("## sample variances (s^2 = sigma^2 chi2_{n-1}/(n-1)); the mean difference is normal and")
print("## independent of them: P(reject | s) = Phi((delta - c*se_hat)/sd_D) per tail.")
def welch(mt, st, nt, mc, sc, nc, a, s):
    delta, sdd = mt - mc, np.sqrt(st**2 / nt + sc**2 / nc)
    ft, fc = nt - 1, nc - 1
    def inner(vt, vc, what):
        se = np.sqrt(vt / nt + vc / nc)
        df = (vt / nt + vc / nc)**2 / ((vt / nt)**2 / ft + (vc / nc)**2 / fc)
        if what == 'cov':
            q = stats.t.ppf(0.975, df)
            return 2 * stats.norm.cdf(q * se / sdd) - 1
        if s == 'two-sided':
            c = stats.t.ppf(1 - a / 2, df)
            return stats.norm.cdf((delta - c * se) / sdd) + stats.norm.cdf((-delta - c * se) / sdd)
        c = stats.t.ppf(1 - a, df)
        return stats.norm.cdf((delta - c * se) / sdd) if s == 'greater' else stats.norm.cdf((-delta - c * se) / sdd)
    out = []
    for what in ['power', 'cov']:
        f = lambda ut, uc: inner(st**2 * stats.chi2.ppf(ut, ft) / ft, sc**2 * stats.chi2.ppf(uc, fc) / fc, what)
        val, err = integrate.dblquad(lambda uc, ut: f(ut, uc), 0, 1, 0, 1, epsabs=1e-10, epsrel=1e-10)
        out.append(val)
    return out
for args in [(0.0, 1.0, 30, 0.0, 2.0, 60, 0.05, 'two-sided'), (10.0, 6.0, 40, 8.0, 3.0, 80, 0.05, 'greater')]:
    print(args, [repr(v) for v in welch(*args)])
