"""Reference numbers for tests/integration/gallery.rs (cluster-level t test).

Run: python3 tests/reference/gallery.py  (scipy 1.17)

A small cluster-randomised table: 3 treatment clusters and 3 control clusters of unequal size;
the cluster-level analysis takes each cluster's proportion and runs Student's two-sample t test
(equal variances) on them.
"""
from scipy import stats
import numpy as np

# (arm, cluster, outcome) rows, as in the Rust test.
treatment = {0: [1, 1, 0, 1], 1: [1, 0, 0], 2: [1, 1, 1, 1, 0]}
control = {3: [0, 0, 1, 0], 4: [0, 0, 0], 5: [1, 0, 0, 0, 0, 1]}
t_means = [np.mean(v) for v in treatment.values()]
c_means = [np.mean(v) for v in control.values()]
for alt in ["two-sided", "greater"]:
    r = stats.ttest_ind(t_means, c_means, equal_var=True, alternative=alt)
    print(alt, repr(float(r.statistic)), repr(float(r.pvalue)))
d = np.mean(t_means) - np.mean(c_means)
sp = np.sqrt(((len(t_means) - 1) * np.var(t_means, ddof=1) + (len(c_means) - 1) * np.var(c_means, ddof=1)) / 4)
se = sp * np.sqrt(1 / 3 + 1 / 3)
q = stats.t.ppf(0.975, 4)
print("diff", repr(float(d)), "ci", repr(float(d - q * se)), repr(float(d + q * se)))
