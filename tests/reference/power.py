"""Independent power references for src/stats/power.rs and tests/integration/stats.rs:
the normal approximation written out and the exact power by full enumeration over both binomials.

Run: python3 tests/reference/power.py
"""
import numpy as np
from scipy.stats import fisher_exact
from scipy.stats import norm, binom
def normal_power(pc, pt, nc, nt, alpha, sides):
    pbar=(nt*pt+nc*pc)/(nt+nc); se0=np.sqrt(pbar*(1-pbar)*(1/nt+1/nc)); se1=np.sqrt(pt*(1-pt)/nt+pc*(1-pc)/nc)
    d=pt-pc
    if sides=='greater': return norm.cdf((d-norm.ppf(1-alpha)*se0)/se1)
    if sides=='less': return norm.cdf((-d-norm.ppf(1-alpha)*se0)/se1)
    c=norm.ppf(1-alpha/2); return norm.cdf((d-c*se0)/se1)+norm.cdf((-d-c*se0)/se1)
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
pc,pt=0.1167,0.2125
print("normal 180", repr(normal_power(pc,pt,180,180,0.05,'greater')))
zb=norm.ppf(0.8); za=norm.ppf(0.95); pbar=(pt+pc)/2
print("n closed", repr((za*np.sqrt(2*pbar*(1-pbar))+zb*np.sqrt(pt*(1-pt)+pc*(1-pc)))**2/(pt-pc)**2))
for n in [180,181,182,183,184,185]:
    print(n, repr(exact_power(pc,pt,n,n,0.05,'greater')), repr(exact_power(pc,pt,n,n,0.05,'greater',False)))
print("first n>=0.8:", next(n for n in range(50,400) if exact_power(pc,pt,n,n,0.05,'greater')>=0.8))

# --- further designs



# designs: (pc, pt, nc, nt, alpha, sides)
for d in [(0.3,0.45,60,80,0.05,'two-sided'),(0.5,0.35,40,40,0.025,'less'),(0.0,0.1,50,50,0.05,'greater'),(0.2,0.2,30,30,0.05,'two-sided')]:
    print(d, "normal", repr(normal_power(*d)), "exact pooled", repr(exact_power(*d)), "exact unpooled", repr(exact_power(*d, pooled=False)))
# two-sided n for 0.3 vs 0.45 ratio 1 90 %: solve by brentq on normal_power with both tails
from scipy.optimize import brentq
f=lambda n: normal_power(0.3,0.45,n,n,0.05,'two-sided')-0.9
print("n two-sided 90%", repr(brentq(f,2,1000,xtol=1e-12)))
f=lambda n: normal_power(0.3,0.45,n,2*n,0.05,'greater')-0.8
print("n greater ratio2 80%", repr(brentq(f,2,1000,xtol=1e-12)))
# mde: p_t such that power = 0.8 at 180/180, one-sided 5%, p_c 0.1167
f=lambda pt: normal_power(0.1167,pt,180,180,0.05,'greater')-0.8
print("mde", repr(brentq(f,0.1167+1e-9,1,xtol=1e-13)-0.1167))
# means: delta 10, sd_t 30, sd_c 25, n 50/60, two-sided 5 %
se=np.sqrt(30**2/60+25**2/50); c=norm.ppf(0.975)
print("mean power", repr(norm.cdf(10/se-c)+norm.cdf(-10/se-c)))
print("mean n one-sided 80% ratio 1", repr((norm.ppf(0.95)+norm.ppf(0.8))**2*(30**2+25**2)/10**2))

# --- Minimum detectable difference of means (sd 30 / 25, n_c 50, n_t 60)
from scipy.optimize import brentq
se = np.sqrt(30**2/60 + 25**2/50)
print("mean mde one-sided", repr((norm.ppf(0.95) + norm.ppf(0.8)) * se))
c = norm.ppf(0.975)
print("mean mde two-sided 90%", repr(brentq(lambda d: norm.cdf(d/se - c) + norm.cdf(-d/se - c) - 0.9, 1e-9, 100, xtol=1e-13)))

# --- Exact power of Fisher's test: scipy.stats.fisher_exact on every table, binomial weights


def fisher_power(pc, pt, nc, nt, alpha, sides):
    wt = binom.pmf(np.arange(nt+1), nt, pt); wc = binom.pmf(np.arange(nc+1), nc, pc)
    tot = 0.0
    for xt in range(nt+1):
        if wt[xt] < 1e-17: continue
        for xc in range(nc+1):
            if wc[xc] < 1e-17: continue
            if fisher_exact([[xt, nt-xt], [xc, nc-xc]], alternative=sides).pvalue <= alpha:
                tot += wt[xt]*wc[xc]
    return tot
for d in [(0.3,0.45,60,80,0.05,'two-sided'),(0.5,0.35,40,40,0.025,'less'),(0.1167,0.2125,180,180,0.05,'greater')]:
    print(d, repr(fisher_power(*d)))

# --- Normal approximation of the unpooled z test (unpooled se under H0 and H1)
pc, pt, nc, nt = 0.3, 0.45, 60, 80
se = np.sqrt(pt*(1-pt)/nt + pc*(1-pc)/nc); d = pt - pc; c = norm.ppf(0.975)
print("unpooled normal", repr(norm.cdf((d - c*se)/se) + norm.cdf((-d - c*se)/se)))
print("n less ratio 0.5 90%", repr(brentq(lambda n: normal_power(0.5,0.35,n,0.5*n,0.025,'less')-0.9, 2, 5000, xtol=1e-12)))
