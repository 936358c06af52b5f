//! Assignment: how the randomised participants of a replicate are allocated to arms, and the
//! exact law of the arm sizes that follows from the rule.
//!
//! # What `sample` means
//!
//! A fixed sample (`sample N per arm`, `sample A n, B m`, or `--n-per-arm N`) is the number of
//! people **randomised**, Σ over the arms. Who they are is drawn from the population conditional
//! on eligibility (paper screening removes people at random, so it changes how many candidates
//! are needed, not who is randomised). The assignment rule then decides the arm sizes:
//!
//! | rule | arm sizes in each replicate |
//! |---|---|
//! | `randomise R1:R2` (complete) | exactly the sample's sizes |
//! | clusters (`randomise 1:1 by cohort of M`) | exactly K clusters per arm |
//! | `parity of ID` | each person's parity is a fair coin: the even arm gets Binomial(Σ, ½) |
//! | `randomise R1:R2 in blocks of B within V` | permuted blocks within each stratum: a stratum's arms are balanced up to its last, incomplete block |
//!
//! Under blocks, the participants are drawn in randomisation order, their strata fill blocks
//! in that order, and the table is then regrouped so that each arm is one run of rows (the
//! analysis does not depend on row order). `--fixed-sizes` on `power` replaces the rule by
//! complete randomisation with the sample's sizes: the design's power at fixed arm sizes.

use rand::Rng;

use super::{Simulator, Worker, shuffle};
use crate::model::{AssignmentRule, TrialModel};
use crate::table::CovariateColumn;

/// How a fixed sample is split over the arms in each replicate.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Allocation {
    /// The sample's sizes, exactly (complete randomisation, clusters, or a pool).
    Exact,
    /// A fair coin per person: `even` gets the heads.
    Parity { even: u32, odd: u32 },
    /// Permuted blocks within strata, people in randomisation order.
    Blocked,
}

impl Allocation {
    /// The allocation a fixed sample of `model` follows.
    pub(crate) fn of(model: &TrialModel) -> Self {
        if model.delivery.clusters.is_some() {
            return Self::Exact;
        }
        match &model.assignment.rule {
            AssignmentRule::Parity { even, odd, .. } => Self::Parity {
                even: *even as u32,
                odd: *odd as u32,
            },
            AssignmentRule::Blocked { .. } => Self::Blocked,
            AssignmentRule::Complete { .. } => Self::Exact,
        }
    }

    /// A short name for reports: `exact`, `parity` or `blocks`.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Parity { .. } => "parity",
            Self::Blocked => "blocks",
        }
    }
}

/// `model` with its assignment replaced by complete randomisation, so that a fixed sample keeps
/// exactly its sizes: the design "at fixed arm sizes" beside the design under its own rule.
pub fn with_fixed_sizes(model: &TrialModel) -> TrialModel {
    let mut fixed = model.clone();
    fixed.assignment.rule = AssignmentRule::Complete {
        ratio: vec![1; model.arms.len()],
    };
    fixed
}

impl Simulator<'_> {
    /// The allocation of this simulator's fixed sample (`Exact` for a pool).
    pub fn allocation_name(&self) -> &'static str {
        self.allocation.name()
    }

    /// Whether the arm sizes of a fixed sample vary between replicates.
    pub fn arm_sizes_vary(&self) -> bool {
        self.fixed_sample().is_some() && self.allocation != Allocation::Exact
    }

    /// Writes the arm column of a fixed sample of `n` people in arm runs. Under parity the coin
    /// flips are drawn here; under blocks the covariates must already be drawn (the strata are
    /// read from them) and the drawn covariate columns are regrouped with the arms.
    pub(super) fn allocate_fixed<R: Rng + ?Sized>(
        &self,
        w: &mut Worker,
        sizes: &[u32],
        n: usize,
        rng: &mut R,
    ) {
        match self.allocation {
            Allocation::Exact => {
                if w.table.arm.len() != n {
                    w.table.arm.clear();
                    for (a, &k) in sizes.iter().enumerate() {
                        w.table
                            .arm
                            .extend(std::iter::repeat_n(a as u32, k as usize));
                    }
                }
            }
            Allocation::Parity { even, odd } => {
                let mut heads = 0usize;
                let mut left = n;
                while left > 0 {
                    let take = left.min(64);
                    let bits = rng.next_u64();
                    let mask = if take == 64 {
                        u64::MAX
                    } else {
                        (1u64 << take) - 1
                    };
                    heads += (bits & mask).count_ones() as usize;
                    left -= take;
                }
                let (first, k_first, second) = if even <= odd {
                    (even, heads, odd)
                } else {
                    (odd, n - heads, even)
                };
                w.table.arm.clear();
                w.table.arm.extend(std::iter::repeat_n(first, k_first));
                w.table.arm.extend(std::iter::repeat_n(second, n - k_first));
            }
            Allocation::Blocked => {
                self.block_labels(w, n, rng);
                self.regroup_by_arm(w, n);
            }
        }
    }

    /// Arms of the first `n` rows by permuted blocks within strata, in row order, into
    /// `w.labels`: each stratum fills its blocks in the order its people come; a stratum's last
    /// block may stay incomplete.
    pub(super) fn block_labels<R: Rng + ?Sized>(&self, w: &mut Worker, n: usize, rng: &mut R) {
        w.labels.clear();
        let AssignmentRule::Blocked {
            ratio, block_size, ..
        } = &self.model.assignment.rule
        else {
            return;
        };
        let cells: usize = self.strata_radix.iter().map(|(_, l)| *l as usize).product();
        w.blocks.resize_with(cells.max(1), || (Vec::new(), 0));
        for (b, pos) in w.blocks.iter_mut() {
            b.clear();
            *pos = 0;
        }
        let unit: u32 = ratio.iter().sum();
        let reps = block_size / unit.max(1);
        for i in 0..n {
            let mut key = 0usize;
            for &(v, l) in &self.strata_radix {
                key = key * l as usize + self.level(w, i, v).min(l - 1) as usize;
            }
            let (block, pos) = &mut w.blocks[key];
            if *pos == block.len() {
                block.clear();
                for (a, &r) in ratio.iter().enumerate() {
                    block.extend(std::iter::repeat_n(a as u32, (r * reps) as usize));
                }
                shuffle(block, rng);
                *pos = 0;
            }
            w.labels.push(block[*pos]);
            *pos += 1;
        }
    }

    /// Moves the rows labelled in `w.labels` so that each arm is one run (arms in model order,
    /// rows in their order within an arm), writing the arm column. Only drawn covariate columns
    /// move: the others are missing in every row.
    fn regroup_by_arm(&self, w: &mut Worker, n: usize) {
        let n_arms = self.arms.len();
        w.arm_start.clear();
        w.arm_start.resize(n_arms + 1, 0);
        for &a in &w.labels {
            w.arm_start[a as usize + 1] += 1;
        }
        for a in 0..n_arms {
            w.arm_start[a + 1] += w.arm_start[a];
        }
        w.destination.clear();
        w.destination.extend(w.labels.iter().map(|&a| {
            let d = w.arm_start[a as usize];
            w.arm_start[a as usize] += 1;
            d as u32
        }));
        w.table.arm.clear();
        let mut from = 0;
        for (a, &end) in w.arm_start.iter().take(n_arms).enumerate() {
            // `arm_start[a]` now holds the end of arm a's run.
            w.table
                .arm
                .extend(std::iter::repeat_n(a as u32, end.saturating_sub(from)));
            from = end;
        }
        for (v, col) in w.table.covariates.iter_mut().enumerate() {
            if !self.draw_var[v] {
                continue;
            }
            match col {
                CovariateColumn::Categorical(c) => {
                    w.scratch_codes.clear();
                    w.scratch_codes.resize(n, 0);
                    for (&x, &d) in c.iter().zip(&w.destination) {
                        w.scratch_codes[d as usize] = x;
                    }
                    std::mem::swap(c, &mut w.scratch_codes);
                }
                CovariateColumn::Numeric(c) => {
                    w.scratch_values.clear();
                    w.scratch_values.resize(n, 0.0);
                    for (&x, &d) in c.iter().zip(&w.destination) {
                        w.scratch_values[d as usize] = x;
                    }
                    std::mem::swap(c, &mut w.scratch_values);
                }
            }
        }
    }

    /// The exact law of the sizes of arms `treatment` and `control` in a fixed sample:
    /// `(n_treatment, n_control, probability)`, terms below 1e-13 left out (their total mass
    /// is below 1e-10). A single term when the sizes are fixed; `None` when the law is not
    /// computed here (blocks over more than two arms, or too many strata and block positions).
    pub fn arm_size_law(&self, treatment: usize, control: usize) -> Option<Vec<(u32, u32, f64)>> {
        let sizes = self.fixed_sample()?;
        let (&nt, &nc) = (sizes.get(treatment)?, sizes.get(control)?);
        let total: u32 = sizes.iter().sum();
        if self.allocation != Allocation::Exact && total > MAX_LAW_TOTAL {
            // Thousands of terms, each an exact power of its own: not computed.
            return None;
        }
        match &self.allocation {
            Allocation::Exact => Some(vec![(nt, nc, 1.0)]),
            Allocation::Parity { even, .. } => {
                let total: u32 = sizes.iter().sum();
                let law = binomial_law(total, 0.5);
                Some(
                    law.into_iter()
                        .enumerate()
                        .filter(|(_, p)| *p > 1e-13)
                        .map(|(k, p)| {
                            let (k, rest) = (k as u32, total - k as u32);
                            if treatment as u32 == *even {
                                (k, rest, p)
                            } else {
                                (rest, k, p)
                            }
                        })
                        .collect(),
                )
            }
            Allocation::Blocked => {
                if sizes.len() != 2 {
                    return None;
                }
                let AssignmentRule::Blocked {
                    ratio, block_size, ..
                } = &self.model.assignment.rule
                else {
                    return None;
                };
                let mut cells = vec![1.0];
                for &(v, _) in &self.strata_radix {
                    let probs = self.eligible_level_probs(v)?;
                    cells = cells
                        .iter()
                        .flat_map(|c| probs.iter().map(move |p| c * p))
                        .collect();
                }
                let total: u32 = sizes.iter().sum();
                let in_block = ratio.get(treatment).copied()?
                    * (block_size / ratio.iter().sum::<u32>().max(1));
                let law = blocked_treatment_law(total, &cells, *block_size, in_block)?;
                Some(
                    law.into_iter()
                        .enumerate()
                        .filter(|(_, p)| *p > 1e-13)
                        .map(|(t, p)| (t as u32, total - t as u32, p))
                        .collect(),
                )
            }
        }
    }
}

/// The most people randomised for which the law of varying arm sizes is computed (about 300
/// terms under parity, each an exact power of its own); blocks stop at 2,000 (their work grows
/// with the square of the number randomised).
const MAX_LAW_TOTAL: u32 = 5_000;

/// P(X = k), k = 0..=n, for X ~ Binomial(n, p), by the recurrence on log-free ratios from the
/// mode (no underflow for n in the millions).
pub(crate) fn binomial_law(n: u32, p: f64) -> Vec<f64> {
    let n_us = n as usize;
    let mut law = vec![0.0; n_us + 1];
    if p <= 0.0 {
        law[0] = 1.0;
        return law;
    }
    if p >= 1.0 {
        law[n_us] = 1.0;
        return law;
    }
    let mode = ((f64::from(n) + 1.0) * p).floor().min(f64::from(n)) as usize;
    law[mode] = 1.0;
    let odds = p / (1.0 - p);
    for k in mode + 1..=n_us {
        law[k] = law[k - 1] * odds * (n_us - k + 1) as f64 / k as f64;
    }
    for k in (0..mode).rev() {
        law[k] = law[k + 1] / odds * (k + 1) as f64 / (n_us - k) as f64;
    }
    let total: f64 = law.iter().sum();
    law.iter_mut().for_each(|x| *x /= total);
    law
}

/// The law of the treatment arm's size when `total` people, each in stratum c with probability
/// `cells[c]`, are assigned by permuted blocks of `block` within strata, a full block holding
/// `in_block` treatment places. A stratum of m people fills ⌊m / block⌋ blocks and the first
/// r = m mod block places of one more, whose treatment count is hypergeometric; so the treatment
/// size is (total − Σr)·in_block/block + ΣH. The strata counts are multinomial, taken stratum by
/// stratum as binomials of what is left; the state is (people left, Σr, ΣH).
fn blocked_treatment_law(total: u32, cells: &[f64], block: u32, in_block: u32) -> Option<Vec<f64>> {
    let n = total as usize;
    let b = block as usize;
    let max_r = cells.len() * (b - 1);
    if block == 0 || n > 2_000 || (n + 1) * (max_r + 1) * (max_r + 1) > 4_000_000 {
        return None;
    }
    // Hypergeometric: treatment places among the first r of a shuffled block.
    let hyper: Vec<Vec<f64>> = (0..b)
        .map(|r| {
            (0..=r)
                .map(|h| {
                    let k = in_block as usize;
                    if h > k || r - h > b - k {
                        0.0
                    } else {
                        choose(k, h) * choose(b - k, r - h) / choose(b, r)
                    }
                })
                .collect()
        })
        .collect();
    let idx = |left: usize, sr: usize, sh: usize| (left * (max_r + 1) + sr) * (max_r + 1) + sh;
    let mut state = vec![0.0; (n + 1) * (max_r + 1) * (max_r + 1)];
    state[idx(n, 0, 0)] = 1.0;
    let mut mass_left = 1.0;
    for (ci, &pc) in cells.iter().enumerate() {
        let last = ci + 1 == cells.len();
        let q = if mass_left > 0.0 {
            (pc / mass_left).clamp(0.0, 1.0)
        } else {
            1.0
        };
        let mut next = vec![0.0; state.len()];
        for left in 0..=n {
            let laws = if last {
                None
            } else {
                Some(binomial_law(left as u32, q))
            };
            for sr in 0..=max_r {
                for sh in 0..=sr {
                    let w = state[idx(left, sr, sh)];
                    if w == 0.0 {
                        continue;
                    }
                    let mut add = |m: usize, pm: f64| {
                        let r = m % b;
                        for (h, &ph) in hyper[r].iter().enumerate() {
                            if ph > 0.0 {
                                next[idx(left - m, sr + r, sh + h)] += w * pm * ph;
                            }
                        }
                    };
                    match &laws {
                        None => add(left, 1.0),
                        Some(law) => {
                            for (m, &pm) in law.iter().enumerate() {
                                if pm > 1e-16 {
                                    add(m, pm);
                                }
                            }
                        }
                    }
                }
            }
        }
        state = next;
        mass_left -= pc;
    }
    let mut law = vec![0.0; n + 1];
    for sr in 0..=max_r {
        for sh in 0..=sr {
            let w = state[idx(0, sr, sh)];
            if w > 0.0 && sr <= n {
                let full = (n - sr) / b;
                let t = full * in_block as usize + sh;
                if t <= n {
                    law[t] += w;
                }
            }
        }
    }
    Some(law)
}

fn choose(n: usize, k: usize) -> f64 {
    if k > n {
        return 0.0;
    }
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

impl Simulator<'_> {
    /// Assigns the `n` people kept from a pool to arms, in pool order: by ID parity (a fair
    /// coin each), complete randomisation (exact sizes in the ratio, largest remainder, a random
    /// permutation) or permuted blocks within strata. Arms interleave; the analysis does not
    /// depend on row order.
    pub(super) fn assign_pool<R: Rng + ?Sized>(&self, w: &mut Worker, n: usize, rng: &mut R) {
        match &self.model.assignment.rule {
            AssignmentRule::Parity { even, odd, .. } => {
                let mut bits = 0u64;
                for i in 0..n {
                    if i % 64 == 0 {
                        bits = rng.next_u64();
                    }
                    let arm = if bits & 1 == 0 { *even } else { *odd };
                    bits >>= 1;
                    w.table.arm.push(arm as u32);
                }
            }
            AssignmentRule::Complete { ratio } => {
                let total: u32 = ratio.iter().sum();
                let mut sizes: Vec<(usize, u64, u64)> = ratio
                    .iter()
                    .enumerate()
                    .map(|(a, &r)| {
                        let x = n as u64 * u64::from(r);
                        (a, x / u64::from(total), x % u64::from(total))
                    })
                    .collect();
                let assigned: u64 = sizes.iter().map(|s| s.1).sum();
                let mut order: Vec<usize> = (0..sizes.len()).collect();
                order.sort_by(|&x, &y| sizes[y].2.cmp(&sizes[x].2).then(x.cmp(&y)));
                for &a in order.iter().take((n as u64 - assigned) as usize) {
                    sizes[a].1 += 1;
                }
                w.labels.clear();
                for (a, k, _) in &sizes {
                    w.labels.extend(std::iter::repeat_n(*a as u32, *k as usize));
                }
                shuffle(&mut w.labels, rng);
                w.table.arm.extend_from_slice(&w.labels);
            }
            AssignmentRule::Blocked { .. } => {
                self.block_labels(w, n, rng);
                w.table.arm.extend_from_slice(&w.labels);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AssignmentRule;
    use crate::sim::fixtures::{CONTROL, EXPERIMENT, almere_plan};
    use crate::sim::rng::replicate_rng;
    use crate::sim::{SimOptions, Simulator};
    use crate::table::CovariateColumn;

    /// The Almere plan randomised in blocks of `block` within ladder × background (6 strata).
    fn blocked(block: u32) -> TrialModel {
        let mut m = almere_plan();
        m.assignment.rule = AssignmentRule::Blocked {
            ratio: vec![1, 1],
            block_size: block,
            strata: vec![1, 3],
        };
        m
    }

    fn codes(col: &CovariateColumn) -> &[u32] {
        match col {
            CovariateColumn::Categorical(c) => c,
            CovariateColumn::Numeric(_) => panic!("categorical column expected"),
        }
    }

    #[test]
    fn blocks_keep_every_stratum_within_the_block_bound() {
        let model = blocked(4);
        let sim = Simulator::new(&model, SimOptions::default()).expect("simulates");
        let mut w = sim.worker();
        let mut sizes_seen = std::collections::BTreeSet::new();
        for r in 0..300 {
            sim.simulate(&mut w, &mut replicate_rng(5, 0, r));
            assert!(w.table.is_consistent());
            assert_eq!(w.table.len(), 360);
            // Each arm one run of rows.
            assert_eq!(
                w.table.arm_run_end(0),
                w.table.arm.iter().filter(|&&a| a == 0).count()
            );
            let (ladder, background) =
                (codes(&w.table.covariates[1]), codes(&w.table.covariates[3]));
            let mut diff = [[0i64; 3]; 2];
            for i in 0..w.table.len() {
                let d = if w.table.arm[i] == EXPERIMENT as u32 {
                    1
                } else {
                    -1
                };
                diff[ladder[i] as usize][background[i] as usize] += d;
            }
            for row in diff {
                for d in row {
                    assert!(d.abs() <= 2, "replicate {r}: stratum imbalance {d}");
                }
            }
            sizes_seen.insert(w.table.arm.iter().filter(|&&a| a == CONTROL as u32).count());
        }
        // The arms follow from the rule: they are not fixed at 180.
        assert!(sizes_seen.len() > 3, "{sizes_seen:?}");
    }

    /// Pearson's statistic of `counts` (observed per k) against `law` over `replicates`, bins
    /// with an expected count below 5 pooled into their neighbours; with its degrees of freedom.
    fn chi_square(counts: &[u64], law: &[f64], replicates: u64) -> (f64, usize) {
        let (mut stat, mut bins) = (0.0, 0usize);
        let (mut obs, mut exp) = (0.0, 0.0);
        for (k, &p) in law.iter().enumerate() {
            obs += counts.get(k).copied().unwrap_or(0) as f64;
            exp += p * replicates as f64;
            if exp >= 5.0 {
                stat += (obs - exp).powi(2) / exp;
                bins += 1;
                (obs, exp) = (0.0, 0.0);
            }
        }
        if exp > 0.0 || obs > 0.0 {
            stat += (obs - exp).powi(2) / exp.max(1e-9);
            bins += 1;
        }
        (stat, bins - 1)
    }

    /// The χ² quantile 0.999 for `df` degrees of freedom (Wilson–Hilferty).
    fn chi_square_999(df: usize) -> f64 {
        let k = df as f64;
        let z = 3.090_232;
        k * (1.0 - 2.0 / (9.0 * k) + z * (2.0 / (9.0 * k)).sqrt()).powi(3)
    }

    fn arm_size_counts(model: &TrialModel, n: u32, replicates: u64) -> Vec<u64> {
        let options = SimOptions {
            n_per_arm: Some(n),
            lean: true,
        };
        let sim = Simulator::new(model, options).expect("simulates");
        let mut w = sim.worker();
        let mut counts = vec![0u64; 2 * n as usize + 1];
        for r in 0..replicates {
            sim.simulate(&mut w, &mut replicate_rng(9, 0, r));
            let k = w
                .table
                .arm
                .iter()
                .filter(|&&a| a == EXPERIMENT as u32)
                .count();
            counts[k] += 1;
        }
        counts
    }

    #[test]
    fn parity_arm_sizes_follow_the_binomial_law() {
        let reps = 4000;
        let counts = arm_size_counts(&almere_plan(), 20, reps);
        let law = statrs_binomial(40, 0.5);
        let (stat, df) = chi_square(&counts, &law, reps);
        assert!(stat < chi_square_999(df), "χ² {stat:.1} on {df} df");
        // The simulator's law is that binomial.
        let model = almere_plan();
        let sim = Simulator::new(
            &model,
            SimOptions {
                n_per_arm: Some(20),
                lean: true,
            },
        )
        .expect("simulates");
        let shown = sim.arm_size_law(EXPERIMENT, CONTROL).expect("a law");
        for (nt, nc, p) in shown {
            assert_eq!(nt + nc, 40);
            assert!(
                (p - law[nt as usize]).abs() < 1e-12,
                "{nt}: {p} vs {}",
                law[nt as usize]
            );
        }
    }

    /// Binomial probabilities from statrs, independent of [`binomial_law`].
    fn statrs_binomial(n: u64, p: f64) -> Vec<f64> {
        use statrs::distribution::{Binomial, Discrete};
        let b = Binomial::new(p, n).expect("valid");
        (0..=n).map(|k| b.pmf(k)).collect()
    }

    #[test]
    fn binomial_law_agrees_with_statrs() {
        for (n, p) in [(0, 0.5), (1, 0.3), (40, 0.5), (361, 0.27), (5000, 0.5)] {
            let ours = binomial_law(n, p);
            let theirs = statrs_binomial(u64::from(n), p);
            for (a, b) in ours.iter().zip(&theirs) {
                assert!((a - b).abs() < 1e-12, "n {n}, p {p}: {a} vs {b}");
            }
        }
    }

    /// The blocked law by brute force: every sequence of strata for `total` people, its
    /// probability, and for each stratum's incomplete last block every arrangement of the
    /// block's places taken one by one.
    fn blocked_law_by_enumeration(
        total: usize,
        cells: &[f64],
        block: usize,
        in_block: usize,
    ) -> Vec<f64> {
        let mut law = vec![0.0; total + 1];
        let sequences = cells.len().pow(total as u32);
        // All arrangements of a block: in_block treatment places among `block`.
        let arrangements: Vec<Vec<bool>> = (0u32..1 << block)
            .filter(|m| m.count_ones() as usize == in_block)
            .map(|m| (0..block).map(|i| m >> i & 1 == 1).collect())
            .collect();
        for s in 0..sequences {
            let (mut rest, mut p) = (s, 1.0);
            let mut counts = vec![0usize; cells.len()];
            for _ in 0..total {
                let c = rest % cells.len();
                rest /= cells.len();
                p *= cells[c];
                counts[c] += 1;
            }
            // Treatment count distribution: full blocks fixed, partial blocks by arrangement.
            let mut dist = vec![0.0; total + 1];
            dist[0] = 1.0;
            for &m in &counts {
                let (full, r) = (m / block, m % block);
                let mut next = vec![0.0; total + 1];
                for (t, &w) in dist.iter().enumerate() {
                    if w == 0.0 {
                        continue;
                    }
                    for a in &arrangements {
                        let h = a[..r].iter().filter(|&&x| x).count();
                        next[t + full * in_block + h] += w / arrangements.len() as f64;
                    }
                }
                dist = next;
            }
            for (t, w) in dist.iter().enumerate() {
                law[t] += p * w;
            }
        }
        law
    }

    #[test]
    fn blocked_law_agrees_with_enumeration() {
        for (total, cells, block, in_block) in [
            (7, vec![0.3, 0.7], 4, 2),
            (6, vec![0.2, 0.5, 0.3], 4, 2),
            (9, vec![0.6, 0.4], 6, 2),
            (5, vec![1.0], 4, 2),
        ] {
            let ours = blocked_treatment_law(total as u32, &cells, block as u32, in_block as u32)
                .expect("small enough");
            let brute = blocked_law_by_enumeration(total, &cells, block, in_block);
            for (t, (a, b)) in ours.iter().zip(&brute).enumerate() {
                assert!((a - b).abs() < 1e-12, "{total} {cells:?} t={t}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn blocked_arm_sizes_follow_their_law() {
        let model = blocked(4);
        let reps = 4000;
        let counts = arm_size_counts(&model, 30, reps);
        let sim = Simulator::new(
            &model,
            SimOptions {
                n_per_arm: Some(30),
                lean: true,
            },
        )
        .expect("simulates");
        let mut law = vec![0.0; 61];
        for (nt, _, p) in sim.arm_size_law(EXPERIMENT, CONTROL).expect("a law") {
            law[nt as usize] += p;
        }
        assert!((law.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let (stat, df) = chi_square(&counts, &law, reps);
        assert!(df >= 2, "the law should spread over several sizes: {law:?}");
        assert!(stat < chi_square_999(df), "χ² {stat:.1} on {df} df");
    }

    /// Large samples get no law (its terms would each need an exact power), at once.
    #[test]
    fn large_samples_get_no_law() {
        for model in [almere_plan(), blocked(4)] {
            let sim = Simulator::new(
                &model,
                SimOptions {
                    n_per_arm: Some(1_000_000),
                    lean: true,
                },
            )
            .expect("simulates");
            assert_eq!(sim.arm_size_law(EXPERIMENT, CONTROL), None);
        }
        let model = blocked(4);
        let sim = Simulator::new(
            &model,
            SimOptions {
                n_per_arm: Some(1_500),
                lean: true,
            },
        )
        .expect("simulates");
        assert_eq!(sim.arm_size_law(EXPERIMENT, CONTROL), None);
    }

    #[test]
    fn fixed_sizes_keep_the_planned_arms() {
        let model = with_fixed_sizes(&almere_plan());
        let sim = Simulator::new(&model, SimOptions::default()).expect("simulates");
        assert!(!sim.arm_sizes_vary());
        let mut w = sim.worker();
        for r in 0..20 {
            sim.simulate(&mut w, &mut replicate_rng(3, 0, r));
            assert_eq!(w.table.arm.iter().filter(|&&a| a == 0).count(), 180);
        }
        assert_eq!(
            sim.arm_size_law(EXPERIMENT, CONTROL),
            Some(vec![(180, 180, 1.0)])
        );
    }
}
