"""Reference values for tests/integration/stats.rs (scipy 1.17.1, statsmodels 0.15.0, NumPy 2.4).

Run: python3 tests/reference/stats.py  (pip install scipy statsmodels numpy). The printed numbers
are pasted into the tests as constants; cargo test needs nothing but Rust.
"""
import numpy as np, scipy, statsmodels
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest, confint_proportions_2indep, test_proportions_2indep, proportion_confint
from statsmodels.stats.contingency_tables import Table2x2
from statsmodels.stats.multitest import multipletests
print("# scipy", scipy.__version__, "statsmodels", statsmodels.__version__)
alt = {'greater':'larger','less':'smaller','two-sided':'two-sided'}
tables = [(7,20,3,20),(0,10,4,12),(10,10,3,9),(0,15,0,15),(12,12,12,12),(10,10,0,10),(38,180,21,180),(1,1,0,1),(1,2,0,3)]
for (xt,nt,xc,nc) in tables:
    print(f"## table {xt}/{nt} vs {xc}/{nc}")
    for s in ['greater','less','two-sided']:
        with np.errstate(all='ignore'):
            try:
                z,p = proportions_ztest([xt,xc],[nt,nc],alternative=alt[s])
            except Exception as e: z,p=(e,None)
            try:
                r = test_proportions_2indep(xt,nt,xc,nc,method='wald',compare='diff',alternative=alt[s])
                zu,pu = r.statistic, r.pvalue
            except Exception as e: zu,pu=(e,None)
        orr, pf = stats.fisher_exact([[xt,nt-xt],[xc,nc-xc]], alternative=s)
        print(f"{s}: pooled z={z!r} p={p!r} | unpooled z={zu!r} p={pu!r} | fisher or={orr!r} p={pf!r}")
    with np.errstate(all='ignore'):
        print("newcombe", confint_proportions_2indep(xt,nt,xc,nc,method='newcomb',compare='diff',alpha=0.05))
        print("wald", confint_proportions_2indep(xt,nt,xc,nc,method='wald',compare='diff',alpha=0.05))
        print("wilson t", proportion_confint(xt,nt,alpha=0.05,method='wilson'), "wilson c", proportion_confint(xc,nc,alpha=0.05,method='wilson'))
        cells = np.array([[xt,nt-xt],[xc,nc-xc]],dtype=float); cells = cells + 0.5 if cells.min() == 0 else cells
        t = Table2x2(cells, shift_zeros=False)  # statsmodels shift_zeros replaces only zero cells
        print("rr", t.riskratio, t.riskratio_confint(alpha=0.05))

# --- Welch t, t quantiles, multiplicity, heterogeneity



a=np.array([12.5,0,30,41.2,8,0,55.5,20]); b=np.array([0,5,0,12,18.5,0,7])
print("a mean sd", repr(a.mean()), repr(a.std(ddof=1)), "b", repr(b.mean()), repr(b.std(ddof=1)))
for s in ['greater','less','two-sided']:
    r=stats.ttest_ind(a,b,equal_var=False,alternative=s); print(s, repr(r.statistic), repr(r.pvalue), repr(r.df))
print("ci", stats.ttest_ind(a,b,equal_var=False).confidence_interval(0.95))
c=np.array([5.,5,5]); d=np.array([1.,2,4])
r=stats.ttest_ind(c,d,equal_var=False); print("one sd zero", repr(r.statistic), repr(r.pvalue), repr(r.df), r.confidence_interval(0.95))
for p,df in [(0.975,3.7),(0.975,10),(0.975,150.5),(0.9,2.2),(0.025,1000.0),(0.995,3.0),(0.6,25.5),(0.975,4.0),(0.975,37.0)]:
    print("tq", p, df, repr(stats.t.ppf(p,df)))
print("tmean", stats.t.interval(0.95, len(a)-1, loc=a.mean(), scale=a.std(ddof=1)/np.sqrt(len(a))))
for ps in [[0.01,0.04,0.03,0.005,0.5],[0.02,0.02,0.04],[0.3,0.2,0.6]]:
    print("holm", ps, multipletests(ps,method='holm')[1].tolist(), "bonf", multipletests(ps,method='bonferroni')[1].tolist())
d=np.array([0.1,0.25,-0.05]); v=np.array([0.004,0.006,0.01]); w=1/v; m=(w*d).sum()/w.sum(); Q=(w*(d-m)**2).sum()
print("Q", repr(Q), repr(stats.chi2.sf(Q,2)))
print("chi2", repr(stats.chi2.sf(3.2,1)), repr(stats.chi2.sf(10.5,4)))

# --- Fisher with tied tables (symmetric margins) and a large table
for t in [(3,10,7,10),(5,10,5,10),(2,8,6,8),(120,2435,157,2435),(4000,500000,4200,500000),(30000,400000,29500,380000)]:
    xt,nt,xc,nc=t
    print(t, [repr(stats.fisher_exact([[xt,nt-xt],[xc,nc-xc]],alternative=s).pvalue) for s in ['greater','less','two-sided']])
