"""Reference numbers for src/sim/tests.rs `calibration_hits_targets_for_both_meanings`.

Iterates the monthly two-state chain (out of work / in work) by hand with NumPy, independently of
the engine: each month an out-of-work person starts a job with probability h and an employed one
loses it with probability lam, both from the previous month's state. A third bookkeeping state
tracks whether a job has started in months 1..m.

Setting: 4 % in work at intake (b), 5 % monthly job loss, rate 25 % at month 12.

Run: python3 tests/reference/calibration.py
"""

import numpy as np

B, LAM, M, TARGET = 0.04, 0.05, 12, 0.25


def chain(h):
    """(P(in work at month M), P(some job start in months 1..M)) from the chain."""
    # States: [out, never started], [in work since intake, never started],
    #         [out after losing the intake job, never started], [started: out], [started: in work]
    p = np.array([1 - B, B, 0.0, 0.0, 0.0])
    t = np.array(
        [
            [1 - h, 0, 0, 0, h],
            [0, 1 - LAM, LAM, 0, 0],
            [0, 0, 1 - h, 0, h],
            [0, 0, 0, 1 - h, h],
            [0, 0, 0, LAM, 1 - LAM],
        ]
    )
    for _ in range(M):
        p = p @ t
    return p[1] + p[4], p[3] + p[4]


# "found within 12: 25 %" among those out of work at intake: 1 - (1 - h)^12 = 0.25.
h_found = 1 - 0.75 ** (1 / M)
emp, found = chain(h_found)
print(f"found_within: h = {h_found:.12f}, employed at 12 = {emp:.12f}, found within 12 = {found:.12f}")

# "employed at 12: 25 %": bisection on h for P(in work at 12) = 0.25.
lo, hi = 0.0, 1.0
for _ in range(200):
    mid = (lo + hi) / 2
    if chain(mid)[0] < TARGET:
        lo = mid
    else:
        hi = mid
h_emp = (lo + hi) / 2
emp, found = chain(h_emp)
print(f"employed_at:  h = {h_emp:.12f}, employed at 12 = {emp:.12f}, found within 12 = {found:.12f}")
