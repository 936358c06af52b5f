//! Engine throughput on the shipped Almere plan (specs/almere-45plus.trial: 18 months, 2 × 180;
//! its primary analysis alone and the whole plan) and on its observed flows
//! (specs/almere-45plus-flows.trial, the general kernel), each beside the bare cost of the random
//! draws it makes, so the ratio to the generator's limit is visible.
//!
//! `cargo bench --bench engine`. Criterion reports elements/s: replicates/s for the `replicate`
//! benches, participant-months/s for `participant_months`, and draws/s for the `bare_draws`
//! benches (one element = the draws of one replicate, so their rate is directly comparable with
//! replicates/s). `almere_primary/replicate/minimal_kernel` is a hand-written kernel for that one
//! model that draws the engine's words and reaches its counts (checked before it is timed): the
//! floor between the bare draws and the engine.

use std::convert::Infallible;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::rngs::ChaCha8Rng;
use rand::{Rng, SeedableRng, TryRng};
use trialsim::analysis::{Detail, PlanResult, run_plan_into_with};
use trialsim::model::TrialModel;
use trialsim::power::{PowerSettings, run_power};
use trialsim::sim::rng::replicate_rng;
use trialsim::sim::{SimOptions, Simulator};

/// Counts the words an engine replicate draws.
#[derive(Clone)]
struct Counting<R> {
    inner: R,
    words: u64,
}

impl<R: Rng> TryRng for Counting<R> {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        self.words += 1;
        Ok(self.inner.next_u32())
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.words += 1;
        Ok(self.inner.next_u64())
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.words += dst.len().div_ceil(8) as u64;
        self.inner.fill_bytes(dst);
        Ok(())
    }
}

/// `words` uniform f64 draws summed, the least work any engine drawing that many numbers does.
fn bare<R: Rng>(rng: &mut R, words: u64) -> f64 {
    let mut acc = 0.0;
    for _ in 0..words {
        acc += (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    }
    acc
}

/// The Almere plan's primary analysis written by hand for this one model, doing only what any
/// participant-level engine of it must: the same words from the same streams, the same decisions
/// (arm by the ID's parity, path, whether and when work starts, hours), each decided on the word's 53 bits against an
/// integer bound as the engine does, and the events counted per arm, nothing else (no table, no
/// flow counters, no test). Its time over the bare draws is what the branch on "does this
/// participant start work" and the start month cost by themselves.
struct MinimalAlmere {
    /// Per path (Team Zorg, guided, control): delay, the bound below which no work starts by
    /// month 18, and the bounds of the start month's thresholds exp(−c·j), j = 1..=17 − delay
    /// (c = −ln(1 − h)): U ≤ t exactly when k < the bound, for U = k·2⁻⁵³.
    paths: [(u32, u64, Vec<u64>); 3],
    /// U < 25 % (Team Zorg) exactly when k < this.
    team_zorg: u64,
}

impl MinimalAlmere {
    fn new() -> Self {
        const TWO_53: f64 = (1u64 << 53) as f64;
        // specs/almere-45plus.trial: work within 12 months, hazard from the end of the delay.
        let path = |p: f64, delay: u32| {
            let h = 1.0 - (1.0 - p).powf(1.0 / f64::from(12 - delay));
            let c = -(1.0 - h).ln();
            let thresholds = (1..=17 - delay)
                .map(|j| ((-c * f64::from(j)).exp() * TWO_53).floor() as u64 + 1)
                .collect();
            let no_start = ((-c * f64::from(18 - delay)).exp() * TWO_53).ceil() as u64;
            (delay, no_start, thresholds)
        };
        Self {
            paths: [path(0.10, 3), path(0.25, 0), path(0.1167, 0)],
            team_zorg: (0.25 * TWO_53) as u64,
        }
    }

    #[inline]
    fn replicate<R: Rng>(&self, rng: &mut R) -> [u64; 2] {
        // 2 × 180 randomised by the BSN's parity: a fair coin per person (360 bits of six
        // words), the even arm (experiment) gets the heads.
        let mut heads = 0u32;
        for word in 0..6 {
            let bits = rng.next_u64();
            heads += if word == 5 {
                (bits & ((1 << 40) - 1)).count_ones()
            } else {
                bits.count_ones()
            };
        }
        let sizes = [heads, 360 - heads];
        let mut events = [0u64; 2];
        for (arm, count) in events.iter_mut().enumerate() {
            for _ in 0..sizes[arm] {
                let p = if arm == 0 {
                    usize::from(rng.next_u64() >> 11 >= self.team_zorg)
                } else {
                    2
                };
                let (delay, no_start, thresholds) = &self.paths[p];
                let k = (rng.next_u64() >> 11) + 1;
                if k < *no_start {
                    continue;
                }
                let n: u32 = thresholds.iter().map(|&t| u32::from(k < t)).sum();
                let start = 1 + delay + n;
                let hours = 8.0 + 152.0 * ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64);
                *count += u64::from(start <= 12 && hours >= 1.0);
            }
        }
        events
    }
}

fn load_spec(name: &str) -> TrialModel {
    let path = format!("{}/specs/{name}", env!("CARGO_MANIFEST_DIR"));
    let src = trialsim::source::SourceFile::read(&path).expect("the shipped spec reads");
    trialsim::check::compile(&src)
        .expect("the shipped spec checks")
        .model
}

/// Replicates/s, participant-months/s and the bare draws of one model, all in one group.
fn bench_model(c: &mut Criterion, label: &str, model: &TrialModel) {
    // As `power` runs it: only what the plan reads is drawn.
    let sim = Simulator::new(
        model,
        SimOptions {
            lean: true,
            ..SimOptions::default()
        },
    )
    .expect("the model simulates");
    let months = u64::from(model.follow_up_months);
    let participants: u64 = sim
        .fixed_sample()
        .map_or(0, |v| v.iter().map(|&n| u64::from(n)).sum());

    // Words drawn per replicate, averaged over 1000 replicates.
    let mut w = sim.worker();
    let mut words = 0;
    for r in 0..1000 {
        let mut rng = Counting {
            inner: replicate_rng(2017, 0, r),
            words: 0,
        };
        sim.simulate(&mut w, &mut rng);
        words += rng.words;
    }
    let words = words / 1000;
    eprintln!(
        "{label}: {participants} participants x {months} months; the engine draws {words} random words per replicate ({:.2} per participant)",
        words as f64 / participants.max(1) as f64
    );

    let mut g = c.benchmark_group(label);
    g.throughput(Throughput::Elements(1));
    g.bench_function("replicate/simulate+analyse", |b| {
        let mut w = sim.worker();
        let mut plan = PlanResult::default();
        let mut r = 0u64;
        b.iter(|| {
            sim.simulate(&mut w, &mut replicate_rng(2017, 0, r));
            run_plan_into_with(model, &w.table, &mut plan, Detail::Decisions);
            r += 1;
            black_box(&plan);
        });
    });
    g.bench_function("replicate/simulate", |b| {
        let mut w = sim.worker();
        let mut r = 0u64;
        b.iter(|| {
            sim.simulate(&mut w, &mut replicate_rng(2017, 0, r));
            r += 1;
            black_box(&w.table);
        });
    });
    if label == "almere_primary" {
        // The minimal kernel draws the engine's words and reaches its counts (checked here).
        let minimal = MinimalAlmere::new();
        let mut w = sim.worker();
        let mut plan = PlanResult::default();
        for r in 0..200 {
            let mut rng = Counting {
                inner: replicate_rng(2017, 0, r),
                words: 0,
            };
            let counts = minimal.replicate(&mut rng);
            sim.simulate(&mut w, &mut replicate_rng(2017, 0, r));
            run_plan_into_with(model, &w.table, &mut plan, Detail::Decisions);
            let c = &plan.analyses[0].contrasts[0];
            assert_eq!(
                (c.treatment.events, c.control.events),
                (Some(counts[0]), Some(counts[1])),
                "replicate {r}: the minimal kernel is the engine's work"
            );
            let mut engine_words = Counting {
                inner: replicate_rng(2017, 0, r),
                words: 0,
            };
            sim.simulate(&mut w, &mut engine_words);
            assert_eq!(rng.words, engine_words.words, "replicate {r}: words");
        }
        g.bench_function("replicate/minimal_kernel", |b| {
            let mut r = 0u64;
            b.iter(|| {
                let counts = minimal.replicate(&mut replicate_rng(2017, 0, r));
                r += 1;
                black_box(counts)
            });
        });
    }
    g.bench_function("bare_draws/xoshiro256pp", |b| {
        let mut r = 0u64;
        b.iter(|| {
            let mut rng = replicate_rng(2017, 0, r);
            r += 1;
            black_box(bare(&mut rng, words))
        });
    });
    g.bench_function("bare_draws/chacha8", |b| {
        let mut r = 0u64;
        b.iter(|| {
            let mut rng = ChaCha8Rng::seed_from_u64(r);
            r += 1;
            black_box(bare(&mut rng, words))
        });
    });
    g.throughput(Throughput::Elements(participants * months));
    g.bench_function("participant_months/simulate+analyse", |b| {
        let mut w = sim.worker();
        let mut plan = PlanResult::default();
        let mut r = 0u64;
        b.iter(|| {
            sim.simulate(&mut w, &mut replicate_rng(2017, 0, r));
            run_plan_into_with(model, &w.table, &mut plan, Detail::Decisions);
            r += 1;
            black_box(&plan);
        });
    });
    g.finish();
}

/// The primary analysis adjusted for age and background by Lin's estimator with HC2 errors.
fn adjusted(primary: &TrialModel) -> TrialModel {
    let mut m = primary.clone();
    let var = |name: &str| {
        m.population
            .variables
            .iter()
            .position(|v| v.name == name)
            .expect("the Almere spec has the covariate")
    };
    let covariates = vec![var("age"), var("background")];
    let a = &mut m.analyses[0];
    a.adjust = Some(trialsim::model::Adjustment {
        covariates,
        method: trialsim::model::AdjustMethod::Lin,
    });
    a.test = trialsim::model::TestKind::RobustT;
    m
}

fn engine(c: &mut Criterion) {
    let spec = load_spec("almere-45plus.trial");
    // The primary analysis alone: the engine with the lightest plan.
    let mut primary = spec.clone();
    primary.analyses.truncate(1);
    primary.expectations.clear();
    bench_model(c, "almere_primary", &primary);
    // The same analysis adjusted for age and background (Lin, HC2): a regression per replicate.
    let adjusted = adjusted(&primary);
    bench_model(c, "almere_adjusted", &adjusted);
    bench_model(c, "almere_spec", &spec);
    // The observed flows (dropout, exemption, crossover, exits): the general kernel.
    bench_model(c, "almere_flows", &load_spec("almere-45plus-flows.trial"));

    // The whole `power` pipeline on every core: replicates/s of a 20,000-replicate run.
    let mut g = c.benchmark_group("power");
    g.sample_size(10);
    let reps = 20_000;
    g.throughput(Throughput::Elements(reps));
    for (label, model) in [
        ("almere_primary", &primary),
        ("almere_adjusted", &adjusted),
        ("almere_spec", &spec),
    ] {
        g.bench_with_input(BenchmarkId::new(label, reps), &reps, |b, &reps| {
            b.iter(|| {
                let s = PowerSettings {
                    seed: 2017,
                    replicates: reps,
                    n_per_arm: None,
                    scenario: 0,
                };
                black_box(run_power(model, &s, &|_| {}).expect("runs"))
            });
        });
    }
    g.finish();
}

/// The sequential Almere plan (specs/almere-45plus-sequential.trial): one replicate analysed
/// once at the end (the fixed design) against the same replicate taken through its three looks
/// (boundaries re-spent on the observed fractions, from the cache after the first replicate);
/// and the boundaries of 5-look designs computed from scratch.
fn sequential(c: &mut Criterion) {
    use trialsim::sequential::{BoundaryCache, run_looks};
    use trialsim::stats::sequential::{BetaSpending, Design, Efficacy, Spending, boundaries};
    let model = load_spec("almere-45plus-sequential.trial");
    let sim = Simulator::new(
        &model,
        SimOptions {
            lean: true,
            ..SimOptions::default()
        },
    )
    .expect("the model simulates");
    let a = &model.analyses[0];
    let plan = a.sequential.as_ref().expect("the spec has looks");
    let mut g = c.benchmark_group("almere_sequential");
    g.throughput(Throughput::Elements(1));
    g.bench_function("replicate/fixed", |b| {
        let mut w = sim.worker();
        let mut result = PlanResult::default();
        let mut r = 0u64;
        b.iter(|| {
            sim.simulate(&mut w, &mut replicate_rng(2017, 0, r));
            run_plan_into_with(&model, &w.table, &mut result, Detail::Decisions);
            r += 1;
            black_box(&result);
        });
    });
    g.bench_function("replicate/looks", |b| {
        let mut w = sim.worker();
        let cache = BoundaryCache::default();
        let mut r = 0u64;
        b.iter(|| {
            sim.simulate(&mut w, &mut replicate_rng(2017, 0, r));
            let p = run_looks(&model, a, plan, &w.table, w.entry_months(), &cache);
            r += 1;
            black_box(p);
        });
    });
    g.finish();
    let mut g = c.benchmark_group("boundaries");
    let design = |futility| Design {
        fractions: vec![0.2, 0.4, 0.6, 0.8, 1.0],
        alpha: 0.025,
        two_sided: false,
        efficacy: Efficacy::Spending(Spending::OBrienFleming),
        futility,
    };
    g.bench_function("5_looks/efficacy", |b| {
        b.iter(|| black_box(boundaries(&design(None)).expect("boundaries")));
    });
    g.bench_function("5_looks/binding_beta_spending", |b| {
        let d = design(Some(BetaSpending {
            spending: Spending::Pocock,
            beta: 0.2,
            binding: true,
        }));
        b.iter(|| black_box(boundaries(&d).expect("boundaries")));
    });
    g.finish();
}

/// The observed Almere flows' primary contrast (dropout before intake, control crossovers) with
/// its complier effect: per replicate, simulate and analyse the ITT plan, then the two-stage
/// least squares of `estimate complier_effect` (two HC2 regressions), against the ITT plan
/// alone.
fn complier(c: &mut Criterion) {
    let mut model = load_spec("almere-45plus-flows.trial");
    model.analyses.truncate(1);
    model.expectations.clear();
    model.analyses[0].complier_effect = true;
    let sim = Simulator::new(&model, SimOptions::default()).expect("simulates");
    let mut g = c.benchmark_group("complier");
    g.throughput(Throughput::Elements(1));
    let mut w = sim.worker();
    let mut plan = PlanResult::default();
    let mut scratch = trialsim::analysis::complier::ComplierScratch::default();
    let mut r = 0u64;
    g.bench_function("almere_flows/itt", |b| {
        b.iter(|| {
            sim.simulate(&mut w, &mut replicate_rng(2017, 0, r));
            run_plan_into_with(&model, &w.table, &mut plan, Detail::Decisions);
            r += 1;
            black_box(&plan);
        });
    });
    g.bench_function("almere_flows/itt+complier", |b| {
        b.iter(|| {
            sim.simulate(&mut w, &mut replicate_rng(2017, 0, r));
            run_plan_into_with(&model, &w.table, &mut plan, Detail::Decisions);
            let effects = trialsim::analysis::complier::complier_effects(
                &model,
                &model.analyses[0],
                &w.table,
                &|_| true,
                0.95,
                &mut scratch,
            );
            r += 1;
            black_box((&plan, effects));
        });
    });
    g.finish();
}

criterion_group!(benches, engine, sequential, complier);
criterion_main!(benches);
