//! The kernels: one replicate laid out (population, arms, clusters, intake months) and run
//! participant by participant, in the general kernel with every flow, or in the simple kernel
//! for models without flows.

use rand::Rng;

use super::*;

impl Simulator<'_> {
    /// Draws one replicate into `w.table` and `w.flows`. The generator is advanced exactly as
    /// if it had been used in place (it is copied in and back out, which is why it must be
    /// `Clone`).
    pub fn simulate<R: Rng + Clone>(&self, w: &mut Worker, rng: &mut R) {
        // A local copy of the generator can stay in registers through the loop (the caller's
        // would have to be kept in memory in case of a panic).
        let mut local = rng.clone();
        match &self.simple {
            Some(measures) => {
                self.simulate_simple(w, &mut local, measures);
                self.shift_outcomes(w, false);
            }
            None => self.simulate_each(w, &mut local, |_| {}),
        }
        *rng = local;
        self.mark_receipt(w);
    }

    /// Marks who received the programme under their own arm, for complier analyses.
    pub(super) fn mark_receipt(&self, w: &mut Worker) {
        if !self.mark_receipt {
            return;
        }
        for i in 0..w.table.len() {
            let arm = w.table.arm[i] as usize;
            if self.receives(arm, w.table.flags[i]) {
                w.table.flags[i] |= crate::table::flags::RECEIVED;
            }
        }
    }

    /// Adds each participant's covariate shifts (`depends on`) to the continuous outcomes they
    /// act on, in the table and, with `potential`, under every arm alike: the arm's draw plus
    /// the shift, so the effect of the arm is untouched and the outcome's spread includes the
    /// covariate's. A missing value stays missing.
    fn shift_outcomes(&self, w: &mut Worker, potential: bool) {
        let (n_out, n_arms) = (self.model.outcomes.len(), self.arms.len());
        for e in &self.model.covariate_effects {
            let Worker {
                table,
                potential: po,
                ..
            } = w;
            let Some(col) = table.covariates.get(e.variable) else {
                continue;
            };
            let Some(values) = table.outcomes.get_mut(e.outcome) else {
                continue;
            };
            for (i, v) in values.iter_mut().enumerate() {
                let shift = match col {
                    crate::table::CovariateColumn::Numeric(x) => {
                        e.shift(x.get(i).copied().unwrap_or(f64::NAN), 0)
                    }
                    crate::table::CovariateColumn::Categorical(c) => {
                        e.shift(0.0, c.get(i).copied().unwrap_or(crate::table::MISSING_CODE))
                    }
                };
                *v += shift;
                if potential {
                    let at = (i * n_out + e.outcome) * n_arms;
                    if let Some(row) = po.get_mut(at..at + n_arms) {
                        row.iter_mut().for_each(|p| *p += shift);
                    }
                }
            }
        }
    }

    /// [`Self::simulate`] in the simple kernel (see [`SimpleMeasure`]).
    pub(super) fn simulate_simple<R: Rng + Clone>(
        &self,
        w: &mut Worker,
        rng: &mut R,
        measures: &[SimpleMeasure],
    ) {
        self.lay_out(w, rng);
        let h = self.horizon;
        let months = &self.layout.months;
        let n = w.table.arm.len();
        // Runs of participants in the same arm (a fixed sample is one run per arm), so that the
        // arm's constants are read once and its counters are written once per run.
        let mut run = 0;
        while run < n {
            let a = w.table.arm[run] as usize;
            let end = w.table.arm_run_end(run);
            let arm = &self.arms[a];
            let first = self.layout.found_within(a, 0);
            w.start_months.clear();
            w.start_months.resize(h as usize + 1, 0);
            self.simple_rows(a, run..end, w, measures, rng);
            // Found work within m / employed at m: the starts in months 1..=m (a job lasts).
            if let Some(counters) = w.flows.get_mut(first..first + 2 * months.len()) {
                let (found_at, employed_at) = counters.split_at_mut(months.len());
                for ((&m, found), emp) in months.iter().zip(found_at).zip(employed_at) {
                    let k: u64 = w.start_months.iter().take(m as usize + 1).sum();
                    *found += k;
                    *emp += if h >= m { k } else { 0 };
                }
            }
            // Flags stay 0 (no flows), as laid out.
            w.flows[self.layout.arm(a) + counter::N] += (end - run) as u64;
            for p in 0..arm.paths.len() {
                let k = w.table.path[run..end]
                    .iter()
                    .filter(|&&x| x == p as u32)
                    .count();
                w.flows[self.layout.path(a, p)] += k as u64;
            }
            run = end;
        }
    }

    /// The participants `rows` of arm `a` in the simple kernel: each one's path and first job
    /// start and, for someone who starts, the job and its measures (and the start month in
    /// `w.start_months`). Kept apart from the bookkeeping around it, with its own copy of the
    /// generator, so that the loop keeps the generator's state in registers; about four in five
    /// participants never start work and cost only their one or two words and a comparison.
    #[inline(never)]
    pub(super) fn simple_rows<R: Rng + Clone>(
        &self,
        a: usize,
        rows: std::ops::Range<usize>,
        w: &mut Worker,
        measures: &[SimpleMeasure],
        rng: &mut R,
    ) {
        let mut local = rng.clone();
        let arm = &self.arms[a];
        let h = self.horizon;
        let single = arm.paths.len() == 1;
        for i in rows {
            let p = if single {
                0
            } else {
                pick_bits(&arm.path_lt, bits53(local.next_u64()))
            };
            if let Some(x) = w.table.path.get_mut(i) {
                *x = p as u32;
            }
            let Some(pp) = arm.paths.get(p) else {
                continue;
            };
            // The uniform on (0, 1] of the first start, decided on its integer.
            let k = bits53(local.next_u64()) + 1;
            if pp.no_start_lt.first().is_none_or(|&q| k < q) {
                continue;
            }
            let Some(s) = pp.first_start(0, k, h) else {
                continue;
            };
            // The generator goes to other functions as a copy: were the address of `local`
            // taken, it would live in memory for the whole loop instead of in registers.
            let mut lent = local.clone();
            if self.loss_c > 0.0 {
                self.simple_spells(a, pp, i, s, w, &mut lent);
                local = lent;
                continue;
            }
            let hours = self.hours.draw(&mut lent);
            local = lent;
            if let Some(x) = w.start_months.get_mut(s as usize) {
                *x += 1;
            }
            for m in measures {
                let value = if m.hours { hours } else { 1.0 };
                let counts = s <= m.latest_start && hours >= m.min_hours;
                if let Some(x) = w
                    .table
                    .outcomes
                    .get_mut(m.outcome)
                    .and_then(|c| c.get_mut(i))
                {
                    *x = if counts { value } else { 0.0 };
                }
            }
        }
        *rng = local;
    }

    /// Participant `i` of arm `a` in the simple kernel when jobs can end: the spells from the
    /// first start `s` on, drawn, counted and evaluated as the general kernel does it.
    #[inline(never)]
    pub(super) fn simple_spells<R: Rng + ?Sized>(
        &self,
        a: usize,
        pp: &PathPlan,
        i: usize,
        s: u32,
        w: &mut Worker,
        rng: &mut R,
    ) {
        let first = self.layout.found_within(a, 0);
        let sched = Schedule::starting((1 + pp.delay, pp.c.first().copied().unwrap_or(0.0)));
        self.job_spells(&mut w.spells, Some(s), None, &sched, rng);
        count_flow_months(&mut w.flows, first, &self.layout.months, &w.spells);
        for &(o, e) in &self.eval_measures {
            let v = spell_measure(e, &w.spells, |m| m, u32::MAX);
            if let Some(x) = w.table.outcomes.get_mut(o).and_then(|c| c.get_mut(i)) {
                *x = v;
            }
        }
    }

    /// [`Self::simulate`], calling `after` with the worker after each participant is drawn
    /// (while `w.spells` still holds that participant's job spells). `simulate` passes a no-op,
    /// which compiles away; [`Self::simulate_with_hours`] records hours this way.
    #[inline]
    pub(crate) fn simulate_each<R: Rng + Clone, F: FnMut(&Worker)>(
        &self,
        w: &mut Worker,
        rng: &mut R,
        after: F,
    ) {
        self.run_each(w, rng, after, false);
    }

    /// One replicate in the general kernel, and every participant's outcomes under every arm
    /// into `w.potential` (see [`Self::potential_outcome`]): the replicate itself is exactly
    /// [`Self::simulate`]'s (same draws, same table); each counterfactual re-runs the
    /// participant under another arm from the generator's state before their own draws (common
    /// random numbers), and is then discarded. `Err` where the counterfactual is not defined by
    /// the participant alone: clusters (an arm's cluster draw) and a queue for slots (the
    /// queue's state).
    pub fn simulate_potential<R: Rng + Clone>(
        &self,
        w: &mut Worker,
        rng: &mut R,
    ) -> Result<(), SimError> {
        if self.model.delivery.clusters.is_some() || self.queue.is_some() {
            return Err(SimError(
                "potential outcomes are not defined participant by participant with clusters or \
                 a queue for caseload slots"
                    .into(),
            ));
        }
        self.run_each(w, rng, |_| {}, true);
        self.mark_receipt(w);
        Ok(())
    }

    /// Participant `i`'s outcome `o` under arm `arm`, after [`Self::simulate_potential`].
    pub fn potential_outcome(&self, w: &Worker, i: usize, o: usize, arm: usize) -> f64 {
        let (n_out, n_arms) = (self.model.outcomes.len(), self.arms.len());
        w.potential
            .get((i * n_out + o) * n_arms + arm)
            .copied()
            .unwrap_or(f64::NAN)
    }

    /// The arm whose process is "the programme" for receipt: the primary analysis' treatment
    /// arm (the first arm without an analysis).
    pub fn programme_arm(&self) -> usize {
        self.model.primary_analysis().map_or(0, |a| a.treatment)
    }

    /// Whether a participant assigned to `arm`, with the flow `flags` of that run, received the
    /// programme: in the programme arm unless they dropped out before intake into another
    /// arm's process; in another arm if they crossed over (or, dropping out, were sent) into
    /// the programme arm's process. Every path of the programme arm counts as receiving it
    /// (Team Zorg included): the spec's paths are the programme as delivered.
    fn receives(&self, arm: usize, flags: u8) -> bool {
        let programme = self.programme_arm();
        let plan = &self.model.arms[arm];
        let dropped_into = |to: usize| {
            flags & crate::table::flags::DROPOUT != 0
                && plan.dropout.as_ref().is_some_and(|d| d.follows.arm == to)
        };
        if arm == programme {
            flags & crate::table::flags::DROPOUT == 0 || dropped_into(programme)
        } else {
            (flags & crate::table::flags::CROSSOVER != 0
                && plan
                    .crossover
                    .as_ref()
                    .is_some_and(|c| c.to.arm == programme))
                || dropped_into(programme)
        }
    }

    /// Whether participant `i` would receive the programme under `arm` (D(arm)), after
    /// [`Self::simulate_potential`].
    pub fn potential_receipt(&self, w: &Worker, i: usize, arm: usize) -> bool {
        w.receipt
            .get(i * self.arms.len() + arm)
            .copied()
            .unwrap_or(false)
    }

    fn run_each<R: Rng + Clone, F: FnMut(&Worker)>(
        &self,
        w: &mut Worker,
        rng: &mut R,
        mut after: F,
        potential: bool,
    ) {
        self.lay_out(w, rng);
        w.queue.reset();
        let (n_out, n_arms) = (self.model.outcomes.len(), self.arms.len());
        if potential {
            w.potential.clear();
            w.potential.resize(w.table.len() * n_out * n_arms, f64::NAN);
            w.receipt.clear();
            w.receipt.resize(w.table.len() * n_arms, false);
        }
        for i in 0..w.table.arm.len() {
            let queued = self
                .queue
                .as_ref()
                .filter(|q| w.table.arm[i] as usize == q.arm);
            let intake = queued.map_or(0, |q| w.queue.intake(q));
            // A wait to the horizon or beyond: the programme never starts within it.
            let wait = intake.min(self.horizon);
            let before = potential.then(|| rng.clone());
            let (took, benefit_ends) = self.participant(w, i, wait, rng);
            if let Some(q) = queued {
                w.queue.release(q, intake, took, benefit_ends);
            }
            if let Some(before) = before {
                self.counterfactuals(w, i, &before);
            }
            after(w);
        }
        self.shift_outcomes(w, potential);
    }

    /// Participant `i`'s outcomes under every arm into `w.potential`, the row and the flow
    /// counters left as their own run wrote them.
    fn counterfactuals<R: Rng + Clone>(&self, w: &mut Worker, i: usize, before: &R) {
        let (n_out, n_arms) = (self.model.outcomes.len(), self.arms.len());
        let own = w.table.arm[i] as usize;
        let (path, flags, lost) = (w.table.path[i], w.table.flags[i], w.lost_month);
        w.row_saved.clear();
        w.row_saved.extend(
            w.table
                .outcomes
                .iter()
                .map(|col| col.get(i).copied().unwrap_or(f64::NAN)),
        );
        w.flows_saved.clear();
        w.flows_saved.extend_from_slice(&w.flows);
        for arm in 0..n_arms {
            let at = (i * n_out) * n_arms + arm;
            if arm == own {
                for o in 0..n_out {
                    w.potential[at + o * n_arms] = w.row_saved[o];
                }
                w.receipt[i * n_arms + arm] = self.receives(arm, flags);
                continue;
            }
            // The row as lay_out leaves it, then the participant under `arm`.
            w.table.arm[i] = arm as u32;
            for (o, col) in w.table.outcomes.iter_mut().enumerate() {
                if self.eval_outcome[o]
                    && let Some(x) = col.get_mut(i)
                {
                    let wage = matches!(self.model.outcomes[o].measure, Measure::Wage { .. });
                    *x = if wage { f64::NAN } else { 0.0 };
                }
            }
            self.participant(w, i, 0, &mut before.clone());
            for o in 0..n_out {
                w.potential[at + o * n_arms] =
                    w.table.outcomes[o].get(i).copied().unwrap_or(f64::NAN);
            }
            w.receipt[i * n_arms + arm] = self.receives(arm, w.table.flags[i]);
        }
        w.table.arm[i] = own as u32;
        w.table.path[i] = path;
        w.table.flags[i] = flags;
        w.lost_month = lost;
        for (col, &x) in w.table.outcomes.iter_mut().zip(&w.row_saved) {
            if let Some(y) = col.get_mut(i) {
                *y = x;
            }
        }
        w.flows.copy_from_slice(&w.flows_saved);
    }

    /// Everything before the participants' flows: the population and its arms, the table's
    /// columns at their starting values, clusters and intake months.
    #[inline]
    pub(super) fn lay_out<R: Rng + Clone>(&self, w: &mut Worker, rng: &mut R) {
        w.flows.iter_mut().for_each(|x| *x = 0);
        match &self.population {
            Population::Fixed(sizes) => {
                let n: usize = sizes.iter().map(|&n| n as usize).sum();
                let laid_out = w.laid_out_for == Some(self.id) && w.table.id.len() == n;
                if !laid_out {
                    w.table.clear();
                    w.table.id.extend(1..=n as u64);
                    // Each participant writes its own path and flags.
                    w.table.path.resize(n, MISSING_CODE);
                    w.table.flags.resize(n, 0);
                    for (v, col) in w.table.covariates.iter_mut().enumerate() {
                        if !self.draw_var[v] {
                            col.fill_missing(n);
                        }
                    }
                    for (o, col) in w.table.outcomes.iter_mut().enumerate() {
                        if !self.eval_outcome[o] {
                            col.resize(n, f64::NAN);
                        }
                    }
                    w.laid_out_for = Some(self.id);
                }
                // Parity flips its coins before the covariates are drawn; blocks read the strata
                // from the drawn covariates.
                if self.allocation != Allocation::Blocked {
                    self.allocate_fixed(w, sizes, n, rng);
                }
                self.draw_eligible(w, n, rng);
                if self.allocation == Allocation::Blocked {
                    self.allocate_fixed(w, sizes, n, rng);
                }
            }
            Population::Pool(pool) => {
                w.table.clear();
                w.laid_out_for = None;
                let screening = self
                    .model
                    .eligibility
                    .screening
                    .as_ref()
                    .map_or(0.0, |s| s.planned_loss);
                // Counted here: without population variables there is no covariate column to count.
                let mut kept = 0usize;
                for _ in 0..*pool {
                    if self.draw_unconditional(w, rng)
                        && (screening <= 0.0 || u01(rng) >= screening)
                    {
                        self.push_cov(w);
                        kept += 1;
                    }
                }
                self.assign_pool(w, kept, rng);
                w.table.id.extend(1..=kept as u64);
                w.table.path.resize(kept, MISSING_CODE);
                w.table.flags.resize(kept, 0);
                for (o, col) in w.table.outcomes.iter_mut().enumerate() {
                    if !self.eval_outcome[o] {
                        col.resize(kept, f64::NAN);
                    }
                }
            }
        }
        let n = w.table.arm.len();
        // Evaluated outcome columns start at their value for someone never in work; participants
        // then write only what differs.
        for (o, col) in w.table.outcomes.iter_mut().enumerate() {
            if self.eval_outcome[o] {
                // A wage is missing for someone never in work.
                let wage = matches!(self.model.outcomes[o].measure, Measure::Wage { .. });
                col.clear();
                col.resize(n, if wage { f64::NAN } else { 0.0 });
            }
        }
        self.draw_clusters(w, rng);
        w.entry.clear();
        if let Some(inflow) = &self.model.delivery.inflow {
            w.entry = entry_months(inflow, n);
            // Intake slots go to participants in a random order, so arms interleave.
            shuffle(&mut w.entry, rng);
        }
    }

    /// Cluster codes (arm by arm, `size` consecutive participants each) and each cluster's own
    /// hazards and direct probabilities, drawn from beta distributions with the stated means
    /// and the design's ICC.
    pub(super) fn draw_clusters<R: Rng + ?Sized>(&self, w: &mut Worker, rng: &mut R) {
        w.table.cluster.clear();
        w.cluster_c.clear();
        w.cluster_p.clear();
        let Some(cl) = &self.model.delivery.clusters else {
            return;
        };
        let size = cl.size.max(1) as usize;
        let n_out = self.model.outcomes.len();
        let mut code = 0u32;
        let mut start = 0usize;
        let n = w.table.arm.len();
        while start < n {
            let arm = w.table.arm[start];
            let mut end = start;
            while end < n && end - start < size && w.table.arm[end] == arm {
                end += 1;
            }
            w.table
                .cluster
                .extend(std::iter::repeat_n(code, end - start));
            let a = arm as usize;
            let plan = &self.arms[a];
            let model_arm = &self.model.arms[a];
            for p in 0..self.max_paths {
                let c = match (plan.paths.get(p), model_arm.paths.get(p)) {
                    (Some(pp), Some(sp)) => {
                        let q = beta_draw(sp.work.probability, cl.icc, rng);
                        calibrate(
                            &sp.work,
                            q,
                            sp.delay_months,
                            self.loss,
                            model_arm.baseline_employment,
                        )
                        .map_or(pp.c[0], rate_c)
                    }
                    _ => 0.0,
                };
                w.cluster_c.push(c);
            }
            for o in 0..n_out {
                let q = match plan.direct.get(o) {
                    Some(Some(DirectSampler::Binary(p))) => beta_draw(*p, cl.icc, rng),
                    _ => f64::NAN,
                };
                w.cluster_p.push(q);
            }
            code += 1;
            start = end;
        }
    }

    /// The cumulative path shares of `arm` for participant `i` (by their level, when the shares
    /// depend on one).
    #[inline]
    pub(super) fn path_cum(&self, w: &Worker, i: usize, arm: ArmId) -> &[f64] {
        let plan = &self.arms[arm];
        match &plan.path_by {
            Some(b) => b
                .cum
                .get(self.level(w, i, b.var) as usize)
                .unwrap_or(&plan.path_cum),
            None => &plan.path_cum,
        }
    }

    /// Draws the path of `r` when it names none.
    #[inline]
    pub(super) fn resolve<R: Rng + ?Sized>(
        &self,
        w: &Worker,
        i: usize,
        r: &ProcessRef,
        rng: &mut R,
    ) -> (ArmId, usize) {
        let target = &self.arms[r.arm];
        let p = match r.path {
            Some(p) => p.min(target.paths.len() - 1),
            None if target.paths.len() == 1 => 0,
            None => pick(self.path_cum(w, i, r.arm), u01(rng)),
        };
        (r.arm, p)
    }

    #[inline]
    pub(super) fn path_c(&self, w: &Worker, i: usize, arm: ArmId, path: usize) -> (u32, f64) {
        let p = &self.arms[arm].paths[path];
        let c = match p.by {
            Some(v) => p.c_for(self.level(w, i, v)),
            None => p.c[0],
        };
        (p.delay, c)
    }

    #[inline(always)]
    /// Participant `i`, who waits `wait` months for a caseload slot before the programme starts
    /// (0 without a queue). Returns whether they took up the programme (not a dropout) and the
    /// month their benefit ended (a job start from month 1, or a non-work exit; `u32::MAX` when
    /// it did not end within the horizon), which frees their slot.
    pub(super) fn participant<R: Rng + ?Sized>(
        &self,
        w: &mut Worker,
        i: usize,
        wait: u32,
        rng: &mut R,
    ) -> (bool, u32) {
        let a = w.table.arm[i] as usize;
        let arm = &self.arms[a];
        let h = self.horizon;
        // Months of follow-up by the analysis date, with an inflow.
        let follow = match (&self.model.delivery.inflow, w.entry.get(i)) {
            (Some(inflow), Some(&e)) => inflow.analysis_month.saturating_sub(e),
            _ => u32::MAX,
        };
        let cluster = w.table.cluster.get(i).map(|&c| c as usize);
        let base = self.layout.arm(a);
        let mut f = 0u8;
        w.flows[base + counter::N] += 1;
        w.lost_month = u32::MAX;

        // 1. Baseline employment.
        let baseline = arm.baseline > 0.0 && u01(rng) < arm.baseline;
        if baseline {
            f |= flags::EMPLOYED_AT_BASELINE;
            w.flows[base + counter::BASELINE] += 1;
        }
        // The hazard schedule: one segment (hazard seg.1 from month seg.0) for most
        // participants; a full schedule only once a crossover or an exit needs one.
        let mut seg = (1u32, 0.0f64);
        let mut sched: Option<Schedule> = None;
        let mut path_col = MISSING_CODE;
        // P(no job start at all) when the participant follows one path from intake, else NaN.
        let mut no_start = f64::NAN;
        // That path and its entry, while `no_start` holds.
        let mut single: Option<(&PathPlan, usize)> = None;
        // 2. Dropout.
        let dropped = match &arm.dropout {
            Some((share, to)) if *share > 0.0 && u01(rng) < *share => {
                let (ta, tp) = self.resolve(w, i, to, rng);
                let (d, c) = self.path_c(w, i, ta, tp);
                seg = (1 + d, c);
                f |= flags::DROPOUT;
                w.flows[base + counter::DROPOUT] += 1;
                true
            }
            _ => false,
        };
        if !dropped {
            // 3. Sub-path.
            let p = if arm.paths.len() == 1 {
                0
            } else {
                pick(self.path_cum(w, i, a), u01(rng))
            };
            path_col = p as u32;
            w.flows[self.layout.path(a, p)] += 1;
            // 4. Exemption.
            let pause = match arm.exemption {
                Some((share, max)) if share > 0.0 && u01(rng) < share => {
                    f |= flags::EXEMPT;
                    w.flows[base + counter::EXEMPT] += 1;
                    1 + below(rng, max)
                }
                _ => 0,
            };
            // The path's constants, with the participant's level read once.
            let pp = &arm.paths[p];
            let level = pp.by.map(|v| self.level(w, i, v));
            let mut c = level.map_or(pp.c[0], |l| pp.c_for(l));
            if let Some(k) = cluster {
                c = w.cluster_c[k * self.max_paths + p];
            }
            seg = (
                1u32.saturating_add(wait)
                    .saturating_add(pause)
                    .saturating_add(pp.delay),
                c,
            );
            if wait > 0
                && let Some(q) = &self.queue
                && let Some(waiting) = &q.waiting
            {
                // While waiting: the named process from month 1 (its own delay kept), then the
                // programme's pause and delay from the intake month.
                let (ta, tp) = self.resolve(w, i, waiting, rng);
                let (dw, cw) = self.path_c(w, i, ta, tp);
                let mut waiting = Schedule::starting((1 + dw, cw));
                waiting.push(1 + wait, 0.0);
                waiting.push(seg.0, seg.1);
                sched = Some(waiting);
            }
            if pause == 0 && wait == 0 && cluster.is_none() {
                no_start = level.map_or(pp.no_start[0], |l| pp.no_start_for(l));
                single = pp.entry(level).map(|e| (pp, e));
            }
            // 5. Crossover.
            if let Some((share, to, after)) = &arm.crossover
                && *share > 0.0
                && u01(rng) < *share
            {
                let (ta, tp) = self.resolve(w, i, to, rng);
                let (d, c) = self.path_c(w, i, ta, tp);
                let s = sched.get_or_insert_with(|| Schedule::starting(seg));
                s.push(wait + after + 1, 0.0);
                s.push(wait + after + 1 + d, c);
                no_start = f64::NAN;
                f |= flags::CROSSOVER;
                w.flows[base + counter::CROSSOVER] += 1;
            }
        }
        // 6. Non-work exit.
        let mut exit_month = u32::MAX;
        // X = ⌈E / c⌉ ≥ 1, as truncation + 1, for E = −ln U; a U below `exit_never` is an exit
        // after the horizon, known without the logarithm.
        let exit_u = if arm.exit_c > 0.0 {
            Some(bits53(rng.next_u64()) + 1)
        } else {
            None
        };
        if let Some(k) = exit_u.filter(|&k| k >= arm.exit_never) {
            let x = -(k as f64 / TWO_53).ln() / arm.exit_c;
            if x < f64::from(h) {
                exit_month = x as u32 + 1;
                sched
                    .get_or_insert_with(|| Schedule::starting(seg))
                    .push(exit_month, 0.0);
                no_start = f64::NAN;
                f |= flags::NON_WORK_EXIT;
                w.flows[base + counter::NON_WORK_EXIT] += 1;
            }
        }

        // 7. Competing exits: a destination and a month.
        let mut forced_start = None;
        let mut exit_dest = None;
        if let Some(ex) = &arm.exits
            && ex.total > 0.0
        {
            // The month ⌈E / total⌉ ≥ 1; a U below `never` is after the horizon (see above).
            let u = bits53(rng.next_u64()) + 1;
            let d = pick(&ex.cum, u01(rng));
            let k = if u < ex.never {
                f64::INFINITY
            } else {
                (-(u as f64 / TWO_53).ln() / ex.total).ceil().max(1.0)
            };
            if k <= f64::from(h) {
                let x = k as u32;
                exit_dest = Some((d, x));
                match ex.kinds[d] {
                    ExitKind::Work => forced_start = Some(x),
                    ExitKind::NonWork => {
                        sched
                            .get_or_insert_with(|| Schedule::starting(seg))
                            .push(x, 0.0);
                        no_start = f64::NAN;
                        if x < exit_month {
                            if exit_month == u32::MAX {
                                w.flows[base + counter::NON_WORK_EXIT] += 1;
                            }
                            exit_month = x;
                            f |= flags::NON_WORK_EXIT;
                        }
                    }
                    ExitKind::Provision => {
                        sched
                            .get_or_insert_with(|| Schedule::starting(seg))
                            .push(x, 0.0);
                        no_start = f64::NAN;
                    }
                }
            }
        }

        // Employment spells (none for someone who never works).
        w.spells.clear();
        let mut employed_from = if baseline {
            Some(0u32)
        } else {
            // The first start, from one uniform: none at all when U < P(no start); on one path
            // from intake, the month by table; otherwise E = −ln U. Either way no logarithm for
            // most participants.
            let k = bits53(rng.next_u64()) + 1;
            let u = k as f64 / TWO_53;
            if u < no_start {
                None
            } else if let (false, Some((pp, e))) = (no_start.is_nan(), single) {
                pp.first_start(e, k, h)
            } else {
                sched
                    .get_or_insert_with(|| Schedule::starting(seg))
                    .next_event(0, -u.ln(), h)
            }
        };
        // An exit to work starts a job in its month unless one starts earlier.
        match (employed_from, forced_start) {
            (Some(s), Some(x)) if x < s && !baseline => {
                employed_from = Some(x);
                forced_start = None;
            }
            (None, Some(x)) => {
                employed_from = Some(x);
                forced_start = None;
            }
            _ => {}
        }
        let extra = Extra {
            follow,
            exit_dest,
            cluster,
        };
        if employed_from.is_none() && !baseline {
            // Never in work (most participants): every employment measure stays 0; only
            // outcomes that do not depend on work are written. Kept inline: this path is hot.
            w.table.path[i] = path_col;
            w.table.flags[i] = f;
            let n_out = self.model.outcomes.len();
            for &o in &self.not_work_outcomes {
                w.table.outcomes[o][i] = match &self.model.outcomes[o].measure {
                    Measure::BenefitEnded { month } => {
                        bool_f(exit_month <= (*month).min(extra.follow))
                    }
                    Measure::ExitedTo { month, .. } => {
                        exited_value(&extra, arm.exit_outcome[o], *month)
                    }
                    _ => direct_in_cluster(&arm.direct[o], cluster, &w.cluster_p, o, n_out, rng),
                };
            }
            if arm.lost.is_some() {
                self.lose(w, i, a, follow, rng);
            }
            return (!dropped, exit_month);
        }
        let sched = sched.unwrap_or_else(|| Schedule::starting(seg));
        self.job_spells(&mut w.spells, employed_from, forced_start, &sched, rng);
        let benefit_ends = w
            .spells
            .iter()
            .find(|sp| sp.start >= 1)
            .map_or(exit_month, |sp| sp.start.min(exit_month));

        self.finish(w, i, a, f, path_col, exit_month, &extra, rng);
        if arm.lost.is_some() {
            self.lose(w, i, a, follow, rng);
        }
        (!dropped, benefit_ends)
    }
}
