//! Intake: the queue for caseload slots.
//!
//! With `capacity S staff x C caseload[, N intakes per month]` and `clock from randomisation`,
//! the capacity arm's participants (those who do not drop out) are taken in one by one in their
//! order of randomisation (rows are in a random order): participant k may not start before month
//! ⌊k / N⌋ (the intake rate), and not before a slot is free: S × C slots, each held from the
//! holder's intake until their benefit ends (a job start from month 1, or a non-work exit), for
//! at most `guidance N months` when the spec says so, else for the rest of the follow-up.
//! Someone whose intake month would be at or after the horizon is never taken in: they wait
//! through the whole follow-up (counted as such in the report). The months of waiting delay the
//! programme: while waiting, a participant follows the process `, waiting follows ARM[.PATH]`
//! names, by default the comparison arm's (the first analysis' control arm: business as usual),
//! until the intake month. Someone whose benefit ends while waiting never takes the slot.
//!
//! With the clock at intake (the default) a wait moves calendar dates only, which the checker
//! says (`capacity_calendar`); the engine then runs no queue.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::SimError;
use crate::model::{ArmId, Clock, ProcessRef, TrialModel};

/// The queue of a model, prepared once.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuePlan {
    /// The arm that takes the slots.
    pub arm: ArmId,
    /// Staff × caseload.
    pub slots: usize,
    /// Intakes per month, if limited.
    pub rate: Option<f64>,
    /// The longest a slot is held, if limited.
    pub guidance: Option<u32>,
    /// The engine's horizon: an intake at or after it never happens.
    pub horizon: u32,
    /// The process while waiting, if any.
    pub waiting: Option<ProcessRef>,
}

impl QueuePlan {
    /// The queue `model` asks for, if any.
    pub(crate) fn of(model: &TrialModel, horizon: u32) -> Result<Option<Self>, SimError> {
        let Some(c) = &model.assignment.capacity else {
            return Ok(None);
        };
        if model.assignment.clock != Clock::Randomisation {
            return Ok(None);
        }
        if model.delivery.inflow.is_some() || model.delivery.clusters.is_some() {
            return Err(SimError(
                "a queue for caseload slots is not simulated together with an inflow or clusters"
                    .into(),
            ));
        }
        let arm = model.capacity_arm();
        if arm >= model.arms.len()
            || c.waiting
                .as_ref()
                .is_some_and(|w| w.arm >= model.arms.len())
        {
            return Err(SimError("the capacity refers to an unknown arm".into()));
        }
        let slots = (c.staff as usize).saturating_mul(c.caseload as usize);
        if slots == 0 {
            return Err(SimError("the capacity has no slots".into()));
        }
        Ok(Some(Self {
            arm,
            slots,
            rate: c.intakes_per_month.filter(|r| *r > 0.0 && r.is_finite()),
            guidance: c.guidance_months.filter(|&g| g > 0),
            horizon,
            waiting: c.waiting.clone().or_else(|| {
                model
                    .analyses
                    .first()
                    .filter(|a| a.control != arm)
                    .map(|a| ProcessRef {
                        arm: a.control,
                        path: None,
                    })
            }),
        }))
    }
}

/// The queue's state in one replicate, kept in the worker.
#[derive(Debug, Clone, Default)]
pub struct QueueState {
    /// Months at which the held slots come free.
    free_at: BinaryHeap<Reverse<u32>>,
    /// The slot taken from `free_at` for the participant being simulated, if any.
    popped: Option<u32>,
    /// Participants taken in so far.
    taken: u64,
    /// Of them, how many waited, and their months of waiting (up to the horizon).
    pub(crate) waited: u64,
    pub(crate) wait_months: u64,
    /// Of them, how many waited through the whole follow-up.
    pub(crate) never: u64,
    /// The latest intake month within the follow-up.
    pub(crate) last_intake: u32,
}

impl QueueState {
    pub(crate) fn reset(&mut self) {
        self.free_at.clear();
        self.popped = None;
        self.taken = 0;
        self.waited = 0;
        self.wait_months = 0;
        self.never = 0;
        self.last_intake = 0;
    }

    /// Participants taken in during the replicate.
    pub(crate) fn taken(&self) -> u64 {
        self.taken
    }

    /// The intake month of the next participant of the capacity arm.
    pub(crate) fn intake(&mut self, plan: &QueuePlan) -> u32 {
        let by_rate = plan.rate.map_or(0, |r| {
            (self.taken as f64 / r).floor().min(f64::from(u32::MAX)) as u32
        });
        if self.free_at.len() < plan.slots {
            self.popped = None;
            by_rate
        } else {
            let Reverse(free) = self.free_at.pop().unwrap_or(Reverse(0));
            self.popped = Some(free);
            by_rate.max(free)
        }
    }

    /// After the participant taken in at `intake`: `took` whether they took up the programme,
    /// `benefit_ends` the month their benefit ended.
    pub(crate) fn release(&mut self, plan: &QueuePlan, intake: u32, took: bool, benefit_ends: u32) {
        if !took || benefit_ends < intake || intake >= plan.horizon {
            // The slot stays free for the next one.
            if let Some(free) = self.popped.take() {
                self.free_at.push(Reverse(free));
            }
            if took {
                self.taken += 1;
                self.waited += 1;
                self.wait_months += u64::from(intake.min(plan.horizon));
                self.never += u64::from(intake >= plan.horizon);
            }
            return;
        }
        self.popped = None;
        let held_to = plan.guidance.map_or(u32::MAX, |g| intake.saturating_add(g));
        self.free_at
            .push(Reverse(benefit_ends.max(intake).min(held_to)));
        self.taken += 1;
        if intake > 0 {
            self.waited += 1;
            self.wait_months += u64::from(intake);
        }
        self.last_intake = self.last_intake.max(intake);
    }
}
