"""Reference values for tests/integration/analysis.rs: the same table, analysed with statsmodels/scipy.

Run: python3 tests/reference/analysis.py
"""
# Reference values for the run_plan tests: a 2-arm table with a sex covariate, a binary and a
# continuous outcome, missing values, a participant of a third arm and flags (ignored by ITT).
import numpy as np
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest, confint_proportions_2indep, proportion_confint
from statsmodels.stats.contingency_tables import Table2x2
from statsmodels.stats.multitest import multipletests
nan = float('nan')
# arm 0 = experiment (treatment), 1 = control, 2 = a third arm not in the analyses
arm  = [0]*14 + [1]*13 + [2]*3
sex  = [0,1]*7 + [0,1,0,1,0,1,0,1,0,1,0,1,0] + [0,1,0]
work = [1,0,1,1,0,nan,1,0,0,1,1,0,1,0,  0,0,1,0,0,0,nan,1,0,0,0,0,1,  1,1,1]
hours= [80,0,120.5,64,0,32,96,0,0,140,72,nan,88,10,  0,0,60,0,16,0,0,40,0,0,8,0,100, 500,500,500]
flags= [1 if i%5==0 else 0 for i in range(len(arm))]
print("arm", arm); print("sex", sex); print("work", work); print("hours", hours); print("flags", flags)
arm=np.array(arm); sex=np.array(sex); work=np.array(work); hours=np.array(hours)
def bin_counts(mask):
    w = work[mask]; w=w[~np.isnan(w)]; return int(w.sum()), len(w)
def show(label, t, c, sides):
    xt,nt = t; xc,nc = c
    alt={'greater':'larger','two-sided':'two-sided','less':'smaller'}[sides]
    z,p = proportions_ztest([xt,xc],[nt,nc],alternative=alt)
    nw = confint_proportions_2indep(xt,nt,xc,nc,method='newcomb',compare='diff')
    wd = confint_proportions_2indep(xt,nt,xc,nc,method='wald',compare='diff')
    tab = Table2x2(np.array([[xt,nt-xt],[xc,nc-xc]],float),shift_zeros=True)
    print(label, f"x_t={xt} n_t={nt} x_c={xc} n_c={nc} diff={xt/nt-xc/nc!r} z={z!r} p={p!r} newcombe={nw!r} wald={wd!r} rr={tab.riskratio!r} rrci={tab.riskratio_confint()!r}")
    print("   wilson_t", proportion_confint(xt,nt,method='wilson'), "fisher", stats.fisher_exact([[xt,nt-xt],[xc,nc-xc]], alternative=sides))
    return p, xt/nt-xc/nc, (xt/nt)*(1-xt/nt)/nt + (xc/nc)*(1-xc/nc)/nc
t = bin_counts(arm==0); c = bin_counts(arm==1)
show("primary(greater)", t, c, 'greater')
ps=[]; ds=[]; vs=[]
for lvl in [0,1]:
    p,d,v = show(f"sex={lvl}(two-sided)", bin_counts((arm==0)&(sex==lvl)), bin_counts((arm==1)&(sex==lvl)), 'two-sided')
    ps.append(p); ds.append(d); vs.append(v)
print("holm", multipletests(ps, method='holm')[1], "bonf", multipletests(ps, method='bonferroni')[1])
ds=np.array(ds); vs=np.array(vs); w=1/vs; m=(w*ds).sum()/w.sum(); Q=(w*(ds-m)**2).sum()
print("interaction Q", repr(Q), "p", repr(stats.chi2.sf(Q, 1)))
a = hours[(arm==0)&~np.isnan(hours)]; b = hours[(arm==1)&~np.isnan(hours)]
r = stats.ttest_ind(a,b,equal_var=False, alternative='two-sided')
print("hours welch", len(a), len(b), repr(a.mean()), repr(b.mean()), repr(a.std(ddof=1)), repr(b.std(ddof=1)), "t", repr(r.statistic), "p", repr(r.pvalue), "df", repr(r.df), "ci", r.confidence_interval(0.95))
for nm, arr in [("a",a),("b",b)]:
    ci = stats.t.interval(0.95, len(arr)-1, loc=arr.mean(), scale=arr.std(ddof=1)/np.sqrt(len(arr)))
    print(" tmean", nm, ci)

# --- Exact power, size and Newcombe coverage for the simulation test
from scipy.stats import binom, norm
def exact_power(pc, pt, nc, nt, alpha, sides, pooled=True):
    xt=np.arange(nt+1)[:,None]; xc=np.arange(nc+1)[None,:]
    ptt=xt/nt; pcc=xc/nc; d=ptt-pcc
    if pooled:
        p=(xt+xc)/(nt+nc); v=p*(1-p)*(1/nt+1/nc)
    else:
        v=ptt*(1-ptt)/nt+pcc*(1-pcc)/nc
    with np.errstate(all='ignore'):
        z=np.where(d==0,0.0,np.where(v==0,np.sign(d)*np.inf,d/np.sqrt(np.where(v==0,1,v))))
    if sides=='greater': rej = z>=norm.ppf(1-alpha)
    elif sides=='less': rej = z<=-norm.ppf(1-alpha)
    else: rej = np.abs(z)>=norm.ppf(1-alpha/2)
    rej &= (d!=0)
    w=binom.pmf(np.arange(nt+1),nt,pt)[:,None]*binom.pmf(np.arange(nc+1),nc,pc)[None,:]
    return (w*rej).sum()
def coverage(pc, pt, n):
    d = pt - pc; tot = 0.0
    wt = binom.pmf(np.arange(n+1), n, pt); wc = binom.pmf(np.arange(n+1), n, pc)
    for xt in range(n+1):
        for xc in range(n+1):
            lo, hi = confint_proportions_2indep(xt, n, xc, n, method='newcomb', compare='diff')
            if lo <= d <= hi: tot += wt[xt]*wc[xc]
    return tot
print("power", repr(exact_power(0.15,0.30,60,60,0.05,'two-sided')), "coverage", repr(coverage(0.15,0.30,60)))
print("size", repr(exact_power(0.2,0.2,60,60,0.05,'two-sided')), "coverage", repr(coverage(0.2,0.2,60)))

# --- Balance: standardised difference of age = 45 + (i % 7) * 2.5
age = np.array([45 + (i % 7) * 2.5 for i in range(len(arm))])
a, b = age[arm == 0], age[arm == 1]
print("age smd", repr((a.mean() - b.mean()) / np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)))
