//! Random draws: uniforms on their 53-bit integers, the integer bounds that decide them against
//! fixed probabilities, exponential times, picks from cumulative shares, shuffles and the beta
//! draw of a cluster's probability. Every draw of the engine goes through these.

use rand::Rng;
use rand_distr::{Beta, Distribution as _};

/// Uniform on [0, 1) with 53 random bits.
#[inline]
pub(crate) fn u01<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Uniform on (0, 1] with 53 random bits.
#[inline]
pub(super) fn u01_open<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    ((rng.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The 53 random bits of a word that the uniforms use: [`u01`] is `bits53(w)·2⁻⁵³` and
/// [`u01_open`] is `(bits53(w) + 1)·2⁻⁵³` for the same word `w`.
#[inline(always)]
pub(super) fn bits53(word: u64) -> u64 {
    word >> 11
}

/// 2⁵³, the denominator of every uniform the engine draws.
pub(super) const TWO_53: f64 = (1u64 << 53) as f64;

/// The bound that decides `u < q` for a uniform `u = k·2⁻⁵³` on its integer `k`: `u < q` exactly
/// when `k < lt_bound(q)`. Scaling by 2⁵³ is exact in binary floating point, so comparing the
/// integer decides as comparing the f64 would, without converting the word (which also lets the
/// branch that follows resolve sooner). A NaN or negative `q` gives 0 (never below).
#[inline]
pub(super) fn lt_bound(q: f64) -> u64 {
    (q * TWO_53).ceil() as u64
}

/// As [`lt_bound`] for `u ≤ q`: `u ≤ q` exactly when `k < le_bound(q)`.
#[inline]
pub(super) fn le_bound(q: f64) -> u64 {
    if q >= 0.0 {
        ((q * TWO_53).floor() as u64).saturating_add(1)
    } else {
        0
    }
}

/// For an event at rate `c` per month, E = −ln U (U = k·2⁻⁵³, 1 ≤ k ≤ 2⁵³) and its time E / c:
/// every k below this bound has E / c > `horizon` (and ⌈E / c⌉ > `horizon`), so the event falls
/// after the horizon without a logarithm being taken. The bound is exp(−c·horizon) lowered by a
/// relative 1e-9, far more than the logarithm's rounding, so it never decides a uniform the
/// logarithm would decide otherwise. 0 (nothing known) for a rate that is not positive.
pub(super) fn never_within(c: f64, horizon: u32) -> u64 {
    if c > 0.0 {
        le_bound((-c * f64::from(horizon)).exp() * (1.0 - 1e-9))
    } else {
        0
    }
}

/// Exp(1) by inversion: −ln U with U uniform on (0, 1].
#[inline]
pub(crate) fn exp1<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    -u01_open(rng).ln()
}

/// Uniform integer in 0..n (n ≥ 1), by Lemire's multiply-shift (bias < n / 2^64).
#[inline]
pub(super) fn below<R: Rng + ?Sized>(rng: &mut R, n: u32) -> u32 {
    ((u128::from(rng.next_u64()) * u128::from(n)) >> 64) as u32
}

/// Index drawn from cumulative probabilities (the last entry is treated as 1): the first index
/// whose cumulative probability exceeds `u`, counted without a branch (the entries do not
/// decrease, so the entries at or below `u` are exactly the ones before it).
#[inline]
pub(super) fn pick(cum: &[f64], u: f64) -> usize {
    let last = cum.len().saturating_sub(1);
    cum[..last].iter().map(|&c| usize::from(u >= c)).sum()
}

/// [`pick`] on the integer of a [`u01`] uniform, `bits53(w)`, with the cumulative probabilities
/// as [`lt_bound`]s: `u ≥ c` exactly when `k ≥ lt_bound(c)`.
#[inline]
pub(super) fn pick_bits(cum_lt: &[u64], k: u64) -> usize {
    let last = cum_lt.len().saturating_sub(1);
    cum_lt[..last].iter().map(|&c| usize::from(k >= c)).sum()
}

/// Appends `n` level codes to `col`, each drawn from one word with [`pick_bits`] on `cum_lt`.
/// The generator is copied in and out, so that its state stays in registers through the loop
/// (through the reference it would be loaded and stored for every word); two and three levels,
/// the common cases, keep their bounds in registers too.
#[inline(never)]
pub(super) fn draw_levels<R: Rng + Clone>(
    cum_lt: &[u64],
    n: usize,
    col: &mut Vec<u32>,
    rng: &mut R,
) {
    let mut local = rng.clone();
    col.reserve(n);
    match *cum_lt {
        [c0, _] => {
            for _ in 0..n {
                col.push(u32::from(bits53(local.next_u64()) >= c0));
            }
        }
        [c0, c1, _] => {
            for _ in 0..n {
                let k = bits53(local.next_u64());
                col.push(u32::from(k >= c0) + u32::from(k >= c1));
            }
        }
        _ => {
            for _ in 0..n {
                col.push(pick_bits(cum_lt, bits53(local.next_u64())) as u32);
            }
        }
    }
    *rng = local;
}

pub(super) fn cumulative(weights: impl Iterator<Item = f64>) -> Vec<f64> {
    let w: Vec<f64> = weights.collect();
    let total: f64 = w.iter().sum();
    let mut acc = 0.0;
    w.iter()
        .map(|x| {
            acc += if total > 0.0 { x / total } else { 0.0 };
            acc
        })
        .collect()
}

pub(super) fn shuffle<R: Rng + ?Sized>(v: &mut [u32], rng: &mut R) {
    for i in (1..v.len()).rev() {
        let j = below(rng, (i + 1) as u32) as usize;
        v.swap(i, j);
    }
}

/// A probability drawn from the beta distribution with mean `p` and intra-cluster correlation
/// `icc` (`α = p(1 − ρ)/ρ`, `β = (1 − p)(1 − ρ)/ρ`), so that binary outcomes drawn with it
/// have exactly that ICC.
pub(super) fn beta_draw<R: Rng + ?Sized>(p: f64, icc: f64, rng: &mut R) -> f64 {
    if icc <= 0.0 || p <= 0.0 || p >= 1.0 {
        return p;
    }
    let scale = (1.0 - icc) / icc;
    match Beta::new(p * scale, (1.0 - p) * scale) {
        Ok(b) => b.sample(rng),
        Err(_) => p,
    }
}
