//! Group-sequential boundaries and their operating characteristics against rpact 3.3.4.

// The constants are rpact's figures exactly as tests/reference/sequential.R prints them.
#![allow(clippy::excessive_precision)]

use trialsim::check::compile;
use trialsim::power::PowerSettings;
use trialsim::sequential::{SequentialReport, run_sequential};
use trialsim::source::SourceFile;
use trialsim::stats::sequential::{
    BetaSpending, Design, Efficacy, Spending, boundaries, crossing, drift_for_power,
};

/// One design and rpact's figures for it.
struct Ref {
    name: &'static str,
    efficacy: Efficacy,
    futility: Option<Spending>,
    beta: f64,
    binding: bool,
    two_sided: bool,
    alpha: f64,
    fractions: &'static [f64],
    critical: &'static [f64],
    futility_bounds: &'static [f64],
    alpha_spent: &'static [f64],
    stage_levels: &'static [f64],
    shift: f64,
    inflation: f64,
    rejection: &'static [f64],
    futility_probs: &'static [f64],
    /// averageSampleNumber1, averageSampleNumber01, averageSampleNumber0 (relative to the fixed n).
    asn: [f64; 3],
}

// Made by `Rscript tests/reference/sequential.R` (rpact 3.3.4; the script says how each design
// is built). rpact stops its own root search for the last boundary at 1e-8 (its alphaSpent ends
// 0.02499999), so a tolerance of 1e-6 tests agreement, not rpact's rounding.
const DESIGNS: &[Ref] = &[
    Ref {
        name: "OF, 3 equal looks",
        efficacy: Efficacy::Spending(Spending::OBrienFleming),
        futility: None,
        beta: 0.200,
        binding: false,
        two_sided: false,
        alpha: 0.025,
        fractions: &[
            3.333333333333333e-01,
            6.666666666666666e-01,
            1.000000000000000e+00,
        ],
        critical: &[
            3.710302873262500e+00,
            2.511427484452724e+00,
            1.993047483265400e+00,
        ],
        futility_bounds: &[],
        alpha_spent: &[
            1.035057181471011e-04,
            6.048389077275451e-03,
            2.499999000000000e-02,
        ],
        stage_levels: &[
            1.035057181471011e-04,
            6.012199376896121e-03,
            2.312812391689867e-02,
        ],
        shift: 7.949304680228566e+00,
        inflation: 1.012794812671163e+00,
        rejection: &[
            1.864877625849704e-02,
            3.988001681853510e-01,
            3.825510555561519e-01,
        ],
        futility_probs: &[],
        asn: [
            8.655689752272289e-01,
            9.827655999967440e-01,
            1.010717942629946e+00,
        ],
    },
    Ref {
        name: "Pocock, 4 equal looks",
        efficacy: Efficacy::Spending(Spending::Pocock),
        futility: None,
        beta: 0.200,
        binding: false,
        two_sided: false,
        alpha: 0.025,
        fractions: &[
            2.500000000000000e-01,
            5.000000000000000e-01,
            7.500000000000000e-01,
            1.000000000000000e+00,
        ],
        critical: &[
            2.368327703523905e+00,
            2.367524288594723e+00,
            2.358168311417103e+00,
            2.350035972893238e+00,
        ],
        futility_bounds: &[],
        alpha_spent: &[
            8.934350487719733e-03,
            1.550286282009272e-02,
            2.069972348364779e-02,
            2.499999000000000e-02,
        ],
        stage_levels: &[
            8.934350487719733e-03,
            8.953772287467854e-03,
            9.182681975843709e-03,
            9.385798400849521e-03,
        ],
        shift: 9.389657033679343e+00,
        inflation: 1.196305377516150e+00,
        rejection: &[
            2.015211036235095e-01,
            2.503554906686651e-01,
            2.059859279724238e-01,
            1.421374776744002e-01,
        ],
        futility_probs: &[],
        asn: [
            8.041384625861498e-01,
            1.084726836253770e+00,
            1.182805985715263e+00,
        ],
    },
    Ref {
        name: "HSD(-4), 3 unequal looks",
        efficacy: Efficacy::Spending(Spending::Hsd(-4.0)),
        futility: None,
        beta: 0.200,
        binding: false,
        two_sided: false,
        alpha: 0.050,
        fractions: &[
            3.000000000000000e-01,
            6.000000000000000e-01,
            1.000000000000000e+00,
        ],
        critical: &[
            2.853156795746858e+00,
            2.406524784862995e+00,
            1.673784770071507e+00,
        ],
        futility_bounds: &[],
        alpha_spent: &[
            2.164362875679338e-03,
            9.350300660636912e-03,
            4.999999000000000e-02,
        ],
        stage_levels: &[
            2.164362875679338e-03,
            8.052555586311683e-03,
            4.708645328472294e-02,
        ],
        shift: 6.264142832358261e+00,
        inflation: 1.013196093020531e+00,
        rejection: &[
            6.912997716134250e-02,
            2.589987561367353e-01,
            4.718712667019220e-01,
        ],
        futility_probs: &[],
        asn: [
            8.591999248600231e-01,
            9.761088947626220e-01,
            1.008748739483295e+00,
        ],
    },
    Ref {
        name: "HSD(-2), 5 equal looks",
        efficacy: Efficacy::Spending(Spending::Hsd(-2.0)),
        futility: None,
        beta: 0.200,
        binding: false,
        two_sided: false,
        alpha: 0.025,
        fractions: &[
            2.000000000000000e-01,
            4.000000000000000e-01,
            6.000000000000000e-01,
            8.000000000000000e-01,
            1.000000000000000e+00,
        ],
        critical: &[
            2.890282140112608e+00,
            2.708488248288631e+00,
            2.514076344668865e+00,
            2.314999081194401e+00,
            2.109954021871090e+00,
        ],
        futility_bounds: &[],
        alpha_spent: &[
            1.924481058022010e-03,
            4.795469447608003e-03,
            9.078480689917234e-03,
            1.546798292570695e-02,
            2.500000000000000e-02,
        ],
        stage_levels: &[
            1.924481058022010e-03,
            3.379525289035623e-03,
            5.967229779518468e-03,
            1.030649117634430e-02,
            1.743115819300245e-02,
        ],
        shift: 8.356192789608611e+00,
        inflation: 1.064635090921239e+00,
        rejection: &[
            5.507512000482362e-02,
            1.471889391846934e-01,
            2.124564144975033e-01,
            2.156824139657778e-01,
            1.695971123472018e-01,
        ],
        futility_probs: &[],
        asn: [
            7.873056238180234e-01,
            9.950895121520676e-01,
            1.057977624542489e+00,
        ],
    },
    Ref {
        name: "HSD(1), 2 looks",
        efficacy: Efficacy::Spending(Spending::Hsd(1.0)),
        futility: None,
        beta: 0.200,
        binding: false,
        two_sided: false,
        alpha: 0.025,
        fractions: &[5.000000000000000e-01, 1.000000000000000e+00],
        critical: &[2.155496956164023e+00, 2.202696599066257e+00],
        futility_bounds: &[],
        alpha_spent: &[1.556148328004636e-02, 2.499999000000000e-02],
        stage_levels: &[1.556148328004636e-02, 1.380807006924867e-02],
        shift: 8.817997947657560e+00,
        inflation: 1.123472170055978e+00,
        rejection: &[4.777763352455432e-01, 3.222236647544612e-01],
        futility_probs: &[],
        asn: [
            8.550879614219251e-01,
            1.047948802062883e+00,
            1.114730722806815e+00,
        ],
    },
    Ref {
        name: "OF, 2 unequal looks",
        efficacy: Efficacy::Spending(Spending::OBrienFleming),
        futility: None,
        beta: 0.200,
        binding: false,
        two_sided: false,
        alpha: 0.050,
        fractions: &[4.000000000000000e-01, 1.000000000000000e+00],
        critical: &[2.887446540371672e+00, 1.651022516191006e+00],
        futility_bounds: &[],
        alpha_spent: &[1.941912996740847e-03, 5.000000000000000e-02],
        stage_levels: &[1.941912996740847e-03, 4.936698867177380e-02],
        shift: 6.200833350544042e+00,
        inflation: 1.002956077532064e+00,
        rejection: &[9.466914554960382e-02, 7.053308544503960e-01],
        futility_probs: &[],
        asn: [
            9.459866800081161e-01,
            9.922055498387108e-01,
            1.001787484873090e+00,
        ],
    },
    Ref {
        name: "Haybittle-Peto, 3 looks",
        efficacy: Efficacy::HaybittlePeto,
        futility: None,
        beta: 0.200,
        binding: false,
        two_sided: false,
        alpha: 0.025,
        fractions: &[
            3.333333333333333e-01,
            6.666666666666666e-01,
            1.000000000000000e+00,
        ],
        critical: &[
            3.000000000000000e+00,
            3.000000000000000e+00,
            1.975097633383432e+00,
        ],
        futility_bounds: &[],
        alpha_spent: &[
            1.349898031630103e-03,
            2.461741611023416e-03,
            2.499999000000000e-02,
        ],
        stage_levels: &[
            1.349898031630103e-03,
            1.349898031630103e-03,
            2.412853468315967e-02,
        ],
        shift: 7.905763738634057e+00,
        inflation: 1.007247404242421e+00,
        rejection: &[
            8.430973515889684e-02,
            1.747666364839006e-01,
            5.409236283572026e-01,
        ],
        futility_probs: &[],
        asn: [
            8.919558150093188e-01,
            9.891318084647832e-01,
            1.005967648540301e+00,
        ],
    },
    Ref {
        name: "OF, beta-spending OF futility, binding",
        efficacy: Efficacy::Spending(Spending::OBrienFleming),
        futility: Some(Spending::OBrienFleming),
        beta: 0.200,
        binding: true,
        two_sided: false,
        alpha: 0.025,
        fractions: &[
            3.333333333333333e-01,
            6.666666666666666e-01,
            1.000000000000000e+00,
        ],
        critical: &[
            3.710302873262500e+00,
            2.511108435690403e+00,
            1.930915720760822e+00,
        ],
        futility_bounds: &[-2.700055638026857e-01, 1.122484607156366e+00],
        alpha_spent: &[
            1.035057181471011e-04,
            6.048389077275451e-03,
            2.499999000000000e-02,
        ],
        stage_levels: &[
            1.035057181471011e-04,
            6.017636075795418e-03,
            2.674673786565795e-02,
        ],
        shift: 8.325887012614944e+00,
        inflation: 1.060773931364795e+00,
        rejection: &[
            2.045796116354948e-02,
            4.180614216126953e-01,
            3.614806172237550e-01,
        ],
        futility_probs: &[2.643829472019828e-02, 9.007602450421352e-02],
        asn: [
            8.479367287543662e-01,
            8.073213505230862e-01,
            6.106953366263052e-01,
        ],
    },
    Ref {
        name: "OF, beta-spending Pocock futility, non-binding",
        efficacy: Efficacy::Spending(Spending::OBrienFleming),
        futility: Some(Spending::Pocock),
        beta: 0.100,
        binding: false,
        two_sided: false,
        alpha: 0.025,
        fractions: &[
            2.500000000000000e-01,
            5.000000000000000e-01,
            7.500000000000000e-01,
            1.000000000000000e+00,
        ],
        critical: &[
            4.332633646049564e+00,
            2.963131599128246e+00,
            2.359044276177883e+00,
            2.014090143144131e+00,
        ],
        futility_bounds: &[
            1.823176687273165e-02,
            8.291729954071343e-01,
            1.453700668644160e+00,
        ],
        alpha_spent: &[
            7.366808435937955e-06,
            1.525322757470637e-03,
            9.649325119183483e-03,
            2.500000000000000e-02,
        ],
        stage_levels: &[
            7.366808435937955e-06,
            1.522631722989942e-03,
            9.161034785909905e-03,
            2.200003510617199e-02,
        ],
        shift: 1.325951271417511e+01,
        inflation: 1.261918610932675e+00,
        rejection: &[
            6.003254670412739e-03,
            3.428237669581881e-01,
            4.279275276853430e-01,
            1.232454506860596e-01,
        ],
        futility_probs: &[
            3.573740186734946e-02,
            2.627404889273229e-02,
            2.078744304915883e-02,
        ],
        asn: [
            8.479674827625788e-01,
            8.412278116272107e-01,
            5.435166173892820e-01,
        ],
    },
    Ref {
        name: "HSD(-2), beta-spending HSD(-2) futility, binding",
        efficacy: Efficacy::Spending(Spending::Hsd(-2.0)),
        futility: Some(Spending::Hsd(-2.0)),
        beta: 0.200,
        binding: true,
        two_sided: false,
        alpha: 0.025,
        fractions: &[
            3.000000000000000e-01,
            7.000000000000000e-01,
            1.000000000000000e+00,
        ],
        critical: &[
            2.724812317291716e+00,
            2.333303429186344e+00,
            2.031960122287273e+00,
        ],
        futility_bounds: &[-3.552671625746089e-01, 1.058654535096139e+00],
        alpha_spent: &[
            3.216902417432665e-03,
            1.195481728257797e-02,
            2.500000000000000e-02,
        ],
        stage_levels: &[
            3.216902417432665e-03,
            9.816112799229004e-03,
            2.107884658011694e-02,
        ],
        shift: 8.451072974409325e+00,
        inflation: 1.076723463786158e+00,
        rejection: &[
            1.287031292013077e-01,
            4.191069636848286e-01,
            2.521899071138726e-01,
        ],
        futility_probs: &[2.573521943485333e-02, 6.990332092386756e-02],
        asn: [
            8.023636339654197e-01,
            8.199850974091576e-01,
            6.378667151290269e-01,
        ],
    },
    Ref {
        name: "HSD(-4), beta-spending HSD(1) futility, non-binding, 5 looks",
        efficacy: Efficacy::Spending(Spending::Hsd(-4.0)),
        futility: Some(Spending::Hsd(1.0)),
        beta: 0.200,
        binding: false,
        two_sided: false,
        alpha: 0.025,
        fractions: &[
            2.000000000000000e-01,
            4.000000000000000e-01,
            6.000000000000000e-01,
            8.000000000000000e-01,
            1.000000000000000e+00,
        ],
        critical: &[
            3.252668488440682e+00,
            2.986045949161053e+00,
            2.691657446324825e+00,
            2.373666994273663e+00,
            2.025321416556835e+00,
        ],
        futility_bounds: &[
            -1.358450323441480e-01,
            5.966985621489584e-01,
            1.148304976988584e+00,
            1.598939187359065e+00,
        ],
        alpha_spent: &[
            5.716339685859495e-04,
            1.843828732217112e-03,
            4.675150320301635e-03,
            1.097637232956772e-02,
            2.500000000000000e-02,
        ],
        stage_levels: &[
            5.716339685859495e-04,
            1.413050876416633e-03,
            3.554896504341487e-03,
            8.806213379705330e-03,
            2.141718539536697e-02,
        ],
        shift: 1.039027982421676e+01,
        inflation: 1.323791442331029e+00,
        rejection: &[
            3.506097595187807e-02,
            1.438807998148657e-01,
            2.538700110155914e-01,
            2.477654658571296e-01,
            1.194227473597375e-01,
        ],
        futility_probs: &[
            5.735274513441188e-02,
            4.695645563789838e-02,
            3.844469500591058e-02,
            3.147585426986918e-02,
        ],
        asn: [
            8.456280759354672e-01,
            7.831144437139336e-01,
            5.101207919580579e-01,
        ],
    },
    Ref {
        name: "OF, two-sided, 3 looks",
        efficacy: Efficacy::Spending(Spending::OBrienFleming),
        futility: None,
        beta: 0.200,
        binding: false,
        two_sided: true,
        alpha: 0.050,
        fractions: &[
            3.333333333333333e-01,
            6.666666666666666e-01,
            1.000000000000000e+00,
        ],
        critical: &[
            3.710302873262500e+00,
            2.511427484452724e+00,
            1.993047483265400e+00,
        ],
        futility_bounds: &[],
        alpha_spent: &[
            2.070114362942022e-04,
            1.209677815178997e-02,
            4.999999000000000e-02,
        ],
        stage_levels: &[
            1.035057181471011e-04,
            6.012199376896121e-03,
            2.312812391689867e-02,
        ],
        shift: 7.949304682605563e+00,
        inflation: 1.012794812974008e+00,
        rejection: &[
            1.864877626960071e-02,
            3.988001683231935e-01,
            3.825510554072059e-01,
        ],
        futility_probs: &[],
        asn: [
            8.655686959814726e-01,
            9.827217240889340e-01,
            1.008641074882429e+00,
        ],
    },
    Ref {
        name: "Pocock, two-sided, 5 unequal looks",
        efficacy: Efficacy::Spending(Spending::Pocock),
        futility: None,
        beta: 0.200,
        binding: false,
        two_sided: true,
        alpha: 0.050,
        fractions: &[
            2.000000000000000e-01,
            3.500000000000000e-01,
            6.000000000000000e-01,
            8.000000000000000e-01,
            1.000000000000000e+00,
        ],
        critical: &[
            2.437976688050012e+00,
            2.485439889132977e+00,
            2.377081535756588e+00,
            2.392444081604481e+00,
            2.384464420378208e+00,
        ],
        futility_bounds: &[],
        alpha_spent: &[
            1.476972645601737e-02,
            2.354386996384140e-02,
            3.542565318838362e-02,
            4.324198618590189e-02,
            4.999999000000000e-02,
        ],
        stage_levels: &[
            7.384863228008687e-03,
            6.469571863026213e-03,
            8.725115179387011e-03,
            8.368289107849480e-03,
            8.552000927275927e-03,
        ],
        shift: 9.508278150908511e+00,
        inflation: 1.211418504643076e+00,
        rejection: &[
            1.448064062606575e-01,
            1.438310406608955e-01,
            2.524298880184014e-01,
            1.491888844193718e-01,
            1.097437805982369e-01,
        ],
        futility_probs: &[],
        asn: [
            7.992900385748611e-01,
            1.092729979162092e+00,
            1.182544399905279e+00,
        ],
    },
];

const TOL: f64 = 1e-6;

fn close(failures: &mut Vec<String>, what: &str, name: &str, ours: f64, theirs: f64) {
    if (ours - theirs).abs() >= TOL || ours.is_nan() {
        failures.push(format!("{name}: {what} {ours} against rpact {theirs}"));
    }
}

#[test]
fn boundaries_and_operating_characteristics_match_rpact() {
    assert!(DESIGNS.len() >= 10);
    let mut failures = Vec::new();
    for r in DESIGNS {
        let design = Design {
            fractions: r.fractions.to_vec(),
            alpha: r.alpha,
            two_sided: r.two_sided,
            efficacy: r.efficacy,
            futility: r.futility.map(|spending| BetaSpending {
                spending,
                beta: r.beta,
                binding: r.binding,
            }),
        };
        let b = boundaries(&design).unwrap_or_else(|e| panic!("{}: {e}", r.name));
        let k = r.fractions.len();
        for i in 0..k {
            close(
                &mut failures,
                "critical value",
                r.name,
                b.efficacy[i],
                r.critical[i],
            );
            close(
                &mut failures,
                "alpha spent",
                r.name,
                b.cumulative_alpha[i],
                r.alpha_spent[i],
            );
            let level = if r.two_sided {
                b.nominal_alpha[i] / 2.0
            } else {
                b.nominal_alpha[i]
            };
            close(
                &mut failures,
                "stage level",
                r.name,
                level,
                r.stage_levels[i],
            );
        }
        for (i, f) in r.futility_bounds.iter().enumerate() {
            close(&mut failures, "futility bound", r.name, b.futility[i], *f);
        }
        let drift = match b.drift {
            Some(d) => d,
            None => drift_for_power(&b, 1.0 - r.beta),
        };
        close(&mut failures, "shift", r.name, drift * drift, r.shift);
        let z = trialsim::stats::dist::norm_quantile(
            1.0 - r.alpha / if r.two_sided { 2.0 } else { 1.0 },
        ) + trialsim::stats::dist::norm_quantile(1.0 - r.beta);
        let inflation = drift * drift / (z * z);
        close(
            &mut failures,
            "inflation factor",
            r.name,
            inflation,
            r.inflation,
        );
        let c = crossing(&b, drift);
        for i in 0..k {
            close(
                &mut failures,
                "rejection probability",
                r.name,
                c.efficacy[i],
                r.rejection[i],
            );
        }
        for (i, f) in r.futility_probs.iter().enumerate() {
            close(
                &mut failures,
                "futility probability",
                r.name,
                c.futility[i],
                *f,
            );
        }
        for (j, d) in [drift, drift / 2.0, 0.0].into_iter().enumerate() {
            let asn = crossing(&b, d).expected_fraction(&b.fractions) * inflation;
            close(
                &mut failures,
                "average sample number",
                r.name,
                asn,
                r.asn[j],
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn five_looks_with_binding_futility_meet_at_the_last_look() {
    // The largest design the benchmark times, with binding beta-spending futility: binding
    // futility closes the gap at the last look, where the two boundaries meet.
    let design = Design {
        fractions: vec![0.2, 0.4, 0.6, 0.8, 1.0],
        alpha: 0.025,
        two_sided: false,
        efficacy: Efficacy::Spending(Spending::OBrienFleming),
        futility: Some(BetaSpending {
            spending: Spending::Pocock,
            beta: 0.2,
            binding: true,
        }),
    };
    let b = boundaries(&design).unwrap();
    assert_eq!(b.efficacy.len(), 5);
    assert!((b.futility[4] - b.efficacy[4]).abs() < 1e-12);
}

// Made by the second part of `Rscript tests/reference/sequential.R` (rpact 3.3.4,
// getPowerMeans with normalApproximation = TRUE).
const CONTINUOUS_POWER: f64 = 8.063840643722008e-01;
const CONTINUOUS_STAGES: [f64; 3] = [
    5.975075315689060e-02,
    4.161750833981968e-01,
    3.304582278171134e-01,
];
const CONTINUOUS_EXPECTED_N: f64 = 8.392970222049535e+02;

/// A continuous outcome with looks at 40 %, 70 % and 100 % of the information: 500 per arm
/// entering 50 a month, the outcome due 6 months after intake, so the looks see exactly 400,
/// 700 and 1000 participants.
fn continuous(effect: f64, per_arm: u32) -> trialsim::model::TrialModel {
    let per_month = per_arm / 10;
    let text = format!(
        r#"trial "continuous, sequential" {{
  follow_up 6 months
  assignment {{ randomise 1:1 }}
  sample {per_arm} per arm
  inflow {per_month} per month, analysis at month 30
  arm treatment {{ score ~ normal({effect}, 1) }}
  arm control {{ score ~ normal(0, 1) }}
  outcome score = continuous
  analysis primary {{
    compare score: treatment vs control
    test welch_t, one_sided greater, alpha 2.5%
    looks at 40%, 70%, 100% information
    efficacy obrien_fleming
  }}
}}"#
    );
    compile(&SourceFile::new("continuous.trial", text))
        .unwrap_or_else(|e| panic!("{e:?}"))
        .model
}

fn simulate(model: &trialsim::model::TrialModel, reps: u64, seed: u64) -> SequentialReport {
    let settings = PowerSettings {
        seed,
        replicates: reps,
        n_per_arm: None,
        scenario: 0,
    };
    run_sequential(model, 0, &settings).expect("simulates")
}

#[test]
fn each_look_sees_exactly_the_outcomes_due_by_then() {
    let r = simulate(&continuous(0.2, 50), 64, 7);
    for (l, want) in r.looks.iter().zip([0.4, 0.7, 1.0]) {
        // A mean over replicates of the same fraction: equal up to rounding.
        assert!(
            (l.observed_fraction - want).abs() < 1e-12,
            "{}",
            l.observed_fraction
        );
    }
    // 5 a month, due 6 months after intake: the 40th outcome is due in month 7 + 6.
    let months: Vec<f64> = r.looks.iter().map(|l| l.month).collect();
    assert_eq!(months, vec![13.0, 19.0, 25.0]);
    let stops: f64 = r
        .looks
        .iter()
        .map(|l| l.stop_efficacy.value + l.stop_futility.value)
        .sum();
    assert!(stops <= 1.0 + 1e-12);
    assert_eq!(r.boundary_sets, 1);
}

#[test]
fn the_same_seed_gives_the_same_report_on_any_thread_count() {
    let model = continuous(0.3, 40);
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| simulate(&model, 300, 11))
    };
    assert_eq!(run(1), run(3));
}

/// Power and stopping probabilities of a continuous outcome against rpact's closed form, within
/// 4 Monte Carlo standard errors (Welch's t at 200+ per arm is the z of the closed form to well
/// under that). `cargo test --release --test integration sequential -- --ignored`.
#[test]
#[ignore = "slow: 40,000 replicates of 1000 participants"]
fn continuous_power_matches_rpact_within_mc_error() {
    let r = simulate(&continuous(0.18, 500), 40_000, 2017);
    let tol = |p: f64| 4.0 * (p * (1.0 - p) / 40_000.0).sqrt();
    assert!(
        (r.power.value - CONTINUOUS_POWER).abs() < tol(CONTINUOUS_POWER),
        "power {} against rpact {CONTINUOUS_POWER}",
        r.power.value
    );
    for (l, p) in r.looks.iter().zip(CONTINUOUS_STAGES) {
        assert!(
            (l.stop_efficacy.value - p).abs() < tol(p),
            "stage {} against rpact {p}",
            l.stop_efficacy.value
        );
    }
    assert!(
        (r.expected_analysed.value - CONTINUOUS_EXPECTED_N).abs() < 4.0 * r.expected_analysed.mc_se,
        "expected N {} against rpact {CONTINUOUS_EXPECTED_N}",
        r.expected_analysed.value
    );
}

/// Under H0 the sequential design rejects with probability alpha (2.5 %), within 4 Monte Carlo
/// standard errors.
#[test]
#[ignore = "slow: 40,000 replicates of 1000 participants"]
fn type_one_error_is_alpha_under_the_null() {
    let r = simulate(&continuous(0.0, 500), 40_000, 2018);
    let se = (0.025f64 * 0.975 / 40_000.0).sqrt();
    assert!(
        (r.power.value - 0.025).abs() < 4.0 * se,
        "type-I error {} (MC SE {se})",
        r.power.value
    );
}

/// `size` powers an analysis with interim looks as the group-sequential design: the power it
/// reports at its answer is `power`'s sequential figure there (same seed and replicates), below
/// the one-look power of the same replicates, and the answer is where that power reaches the
/// target.
#[test]
fn size_answers_with_the_power_of_the_sequential_design() {
    let text = include_str!("../../specs/almere-45plus-sequential.trial").replace(
        "looks at 18, 27, 36 months",
        "looks at 33%, 67%, 100% information",
    );
    assert!(
        text.contains("100% information"),
        "the shipped spec changed"
    );
    let checked = compile(&SourceFile::new("seq.trial", text)).expect("the spec checks");
    let model = &checked.model;
    let analysis = model
        .analyses
        .iter()
        .position(|a| a.sequential.is_some())
        .expect("an analysis with looks");
    let question = trialsim::design::size::SizeQuestion {
        analysis,
        target: 0.8,
        ratio: vec![1, 1],
        seed: 11,
        replicates: 2000,
        max_n: 100_000,
        move_analysis: false,
    };
    let answer = trialsim::design::size::size_for_model(model, &question).expect("an answer");
    assert_eq!(answer.looks, Some(3));
    let settings = PowerSettings {
        seed: 11,
        replicates: 2000,
        n_per_arm: Some(answer.n_per_arm),
        scenario: 0,
    };
    let seq = run_sequential(model, analysis, &settings).expect("simulates");
    assert_eq!(answer.power, seq.power.value);
    assert!(answer.power >= 0.8 - 2.0 * answer.mc_se, "{}", answer.power);
    // Looks cost power: the fixed design on the same replicates has more, by far more than the
    // Monte Carlo error of a difference on common replicates.
    assert!(
        seq.fixed_power.value > seq.power.value + 2.0 * seq.power.mc_se,
        "{} vs {}",
        seq.fixed_power.value,
        seq.power.value
    );
}
