"""Independent references for tests/integration/design.rs: for each two-proportion design, the
normal-approximation n per arm (unrounded, pooled z test, Fleiss without continuity correction),
the first n per arm at which the exact power of the pooled z test reaches 80 % (full enumeration
over both binomials), and the slope of the normal power in n at that point (used to turn the
Monte Carlo SE of a power into a tolerance in n).

Run: python3 tests/reference/design.py   (numpy 2.4.6, scipy 1.17.1)
"""
import numpy as np
from scipy.stats import norm, binom

def crit(alpha, sides):
    return norm.ppf(1 - alpha) if sides == 'greater' else norm.ppf(1 - alpha / 2)

def normal_power(pc, pt, n, alpha, sides):
    pbar = (pt + pc) / 2; se0 = np.sqrt(pbar * (1 - pbar) * 2 / n)
    se1 = np.sqrt((pt * (1 - pt) + pc * (1 - pc)) / n); d = pt - pc; c = crit(alpha, sides)
    if sides == 'greater':
        return norm.cdf((d - c * se0) / se1)
    return norm.cdf((d - c * se0) / se1) + norm.cdf((-d - c * se0) / se1)

def normal_n(pc, pt, alpha, sides):
    lo, hi = 1.0, 1e6
    for _ in range(200):
        mid = (lo + hi) / 2
        if normal_power(pc, pt, mid, alpha, sides) >= 0.8: hi = mid
        else: lo = mid
    return hi

def exact_power(pc, pt, n, alpha, sides):
    xt = np.arange(n + 1)[:, None]; xc = np.arange(n + 1)[None, :]
    d = xt / n - xc / n; p = (xt + xc) / (2 * n); v = p * (1 - p) * 2 / n
    with np.errstate(all='ignore'):
        z = np.where(d == 0, 0.0, np.where(v == 0, np.sign(d) * np.inf, d / np.sqrt(np.where(v == 0, 1, v))))
    rej = (z >= crit(alpha, sides)) if sides == 'greater' else (np.abs(z) >= crit(alpha, sides))
    rej &= (d != 0)
    w = binom.pmf(np.arange(n + 1), n, pt)[:, None] * binom.pmf(np.arange(n + 1), n, pc)[None, :]
    return (w * rej).sum()

designs = [
    ("A", 0.20, 0.30, 0.05, 'two_sided'),
    ("B", 0.1167, 0.2125, 0.05, 'greater'),
    ("C", 0.50, 0.65, 0.05, 'two_sided'),
    ("D", 0.05, 0.15, 0.05, 'greater'),
]
for name, pc, pt, alpha, sides in designs:
    nn = normal_n(pc, pt, alpha, sides)
    ex = next(n for n in range(int(nn / 2), 2000) if exact_power(pc, pt, n, alpha, sides) >= 0.8)
    slope = (normal_power(pc, pt, ex + 5, alpha, sides) - normal_power(pc, pt, ex - 5, alpha, sides)) / 10
    print(name, pc, pt, sides, "normal_n", repr(nn), "exact_n", ex, "slope", repr(slope))

# --- feasibility of the Almere plan (specs/almere-45plus.trial): independent covariates, so a
# pool member is eligible with probability e = P(45 <= age <= 63 | U(45, 64))
# * P(months_on_benefit > 6 | lognormal(median 48, sigma 0.9)) * 0.97 * 0.97 (ladder 3/4: 1).
from scipy.stats import lognorm
e = (63 - 45) / (64 - 45) * lognorm(s=0.9, scale=48).sf(6) * 0.97 * 0.97
print("eligible share", repr(e))
for loss in (0.25, 0.05):
    q = e * (1 - loss)
    T = np.arange(441); pT = binom.pmf(T, 440, q)
    filled = sum(pT[t] * (binom.cdf(t - 180, t, 0.5) - binom.cdf(179, t, 0.5)) for t in T if t >= 360)
    print("loss", loss, "expected randomised", repr(440 * q), "P(both arms >= 180)", repr(filled))
