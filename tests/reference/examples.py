"""Reference values for the real examples (examples/nsw, examples/resume-names), computed from
the CSV files directly with scipy 1.17.1 / statsmodels 0.15.0, for tests/integration/analysis.rs.

Run from the crate root: python3 tests/reference/examples.py
"""
import csv
import numpy as np
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest, confint_proportions_2indep
from statsmodels.stats.contingency_tables import Table2x2
from statsmodels.stats.multitest import multipletests

def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))

def binary(rows, outcome, level_col=None, level=None):
    out = {}
    for arm in ("treatment", "control"):
        v = [float(r[outcome]) for r in rows if r["arm"] == arm and (level_col is None or r[level_col] == level)]
        out[arm] = (int(sum(v)), len(v))
    return out["treatment"], out["control"]

def proportions(label, t, c):
    (xt, nt), (xc, nc) = t, c
    z, p = proportions_ztest([xt, xc], [nt, nc], alternative="two-sided")
    nw = confint_proportions_2indep(xt, nt, xc, nc, method="newcomb", compare="diff")
    wd = confint_proportions_2indep(xt, nt, xc, nc, method="wald", compare="diff")
    cells = np.array([[xt, nt - xt], [xc, nc - xc]], float)
    # trialsim adds 0.5 to all four cells when any cell is zero (statsmodels' shift_zeros
    # replaces only the zero cells).
    tab = Table2x2(cells + 0.5 if cells.min() == 0 else cells, shift_zeros=False)
    fisher = stats.fisher_exact([[xt, nt - xt], [xc, nc - xc]], alternative="two-sided").pvalue
    d = xt / nt - xc / nc
    var = (xt / nt) * (1 - xt / nt) / nt + (xc / nc) * (1 - xc / nc) / nc
    print(f"{label}: x_t={xt} n_t={nt} x_c={xc} n_c={nc} d={d!r} z={z!r} p={p!r}")
    print(f"   newcombe={tuple(map(float, nw))!r} wald={tuple(map(float, wd))!r}")
    print(f"   rr={float(tab.riskratio)!r} rr_ci={tuple(map(float, tab.riskratio_confint()))!r} fisher={float(fisher)!r}")
    return p, d, var

def family(label, results):
    ps = [r[0] for r in results]
    print(f"{label}: holm={multipletests(ps, method='holm')[1].tolist()!r}")
    d = np.array([r[1] for r in results]); v = np.array([r[2] for r in results])
    ok = np.isfinite(d) & np.isfinite(v) & (v > 0)
    d, v = d[ok], v[ok]
    w = 1 / v; m = (w * d).sum() / w.sum(); q = (w * (d - m) ** 2).sum()
    print(f"   interaction Q={q!r} df={len(d) - 1} p={stats.chi2.sf(q, len(d) - 1)!r}")

print("## NSW")
nsw = read("examples/nsw/data.csv")
proportions("employed78", *binary(nsw, "employed78"))
family("by_degree", [proportions(f"nodegree={l}", *binary(nsw, "employed78", "nodegree", l)) for l in ("0", "1")])
family("by_ethnicity", [proportions(f"ethnicity={l}", *binary(nsw, "employed78", "ethnicity", l)) for l in ("black", "hispanic", "other")])
a = np.array([float(r["re78"]) for r in nsw if r["arm"] == "treatment"])
b = np.array([float(r["re78"]) for r in nsw if r["arm"] == "control"])
r = stats.ttest_ind(a, b, equal_var=False)
print(f"re78: mean_t={a.mean()!r} mean_c={b.mean()!r} sd_t={a.std(ddof=1)!r} sd_c={b.std(ddof=1)!r}")
print(f"   t={r.statistic!r} p={r.pvalue!r} df={r.df!r} ci={tuple(map(float, r.confidence_interval(0.95)))!r}")
age_t = np.array([float(r["age"]) for r in nsw if r["arm"] == "treatment"])
age_c = np.array([float(r["age"]) for r in nsw if r["arm"] == "control"])
print(f"balance age smd={(age_t.mean() - age_c.mean()) / np.sqrt((age_t.var(ddof=1) + age_c.var(ddof=1)) / 2)!r}")

print("## Resume names")
res = read("examples/resume-names/data.csv")
proportions("callback", *binary(res, "callback"))
family("by_sex", [proportions(f"female={l}", *binary(res, "callback", "female", l)) for l in ("0", "1")])
family("by_city", [proportions(f"city={l}", *binary(res, "callback", "city", l)) for l in ("boston", "chicago")])
