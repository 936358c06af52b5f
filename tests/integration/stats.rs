//! The statistics module against independent references.
//!
//! Unless said otherwise, every constant below was computed with scipy 1.17.1 / statsmodels
//! 0.15.0 (NumPy 2.4) by the Python call written beside it (the scripts are
//! `tests/reference/stats.py` and `tests/reference/power.py`), with
//! `from statsmodels.stats.proportion import proportions_ztest, test_proportions_2indep,
//! confint_proportions_2indep, proportion_confint`,
//! `from statsmodels.stats.contingency_tables import Table2x2`,
//! `from statsmodels.stats.multitest import multipletests` and `from scipy import stats`.
//! Tables are written (x_t, n_t, x_c, n_c): x successes of n, treatment first.

use trialsim::model::Sides;
use trialsim::stats::dist::{chi2_sf, t_quantile};
use trialsim::stats::intervals::{
    newcombe_difference, risk_ratio, t_mean, wald_difference_proportions, welch_difference_means,
    wilson,
};
use trialsim::stats::multiplicity::{bonferroni, holm};
use trialsim::stats::power::{
    fisher_exact_power, two_mean_mde, two_mean_normal_n, two_mean_normal_power,
    two_proportion_exact_power, two_proportion_mde, two_proportion_normal_n,
    two_proportion_normal_power,
};
use trialsim::stats::tests::{fisher_exact, heterogeneity, two_proportion_z, welch_df, welch_t};

const TOL: f64 = 1e-6;

#[track_caller]
fn close(actual: f64, expected: f64) {
    assert!(
        // 1e-6 absolute, and 1e-6 relative for small values such as tiny p-values.
        (actual - expected).abs() <= TOL * expected.abs().clamp(1e-3, 1.0)
            || (actual - expected).abs() <= TOL * expected.abs(),
        "got {actual}, expected {expected}"
    );
}

#[track_caller]
fn close_pair(actual: (f64, f64), expected: (f64, f64)) {
    close(actual.0, expected.0);
    close(actual.1, expected.1);
}

const SIDES: [Sides; 3] = [Sides::Greater, Sides::Less, Sides::TwoSided];

/// One table with its references, per side in the order Greater, Less, TwoSided.
struct Case {
    table: (u64, u64, u64, u64),
    /// proportions_ztest([x_t, x_c], [n_t, n_c], alternative=...) → (z, p per side)
    pooled: (f64, [f64; 3]),
    /// test_proportions_2indep(x_t, n_t, x_c, n_c, method='wald', compare='diff',
    /// alternative=...) → (z, p per side)
    unpooled: (f64, [f64; 3]),
    /// stats.fisher_exact([[x_t, n_t-x_t], [x_c, n_c-x_c]], alternative=...) → (odds ratio, p)
    fisher: (f64, [f64; 3]),
    /// confint_proportions_2indep(x_t, n_t, x_c, n_c, method='newcomb', compare='diff')
    newcombe: (f64, f64),
    /// confint_proportions_2indep(x_t, n_t, x_c, n_c, method='wald', compare='diff')
    wald: (f64, f64),
    /// proportion_confint(x_t, n_t, method='wilson'), then for x_c, n_c
    wilson: [(f64, f64); 2],
    /// cells = np.array([[x_t, n_t-x_t], [x_c, n_c-x_c]], float), plus 0.5 when an arm has no
    /// events (x_t or x_c is 0: only then is the log ratio or its SE undefined);
    /// t = Table2x2(cells, shift_zeros=False); (t.riskratio, t.riskratio_confint())
    /// (statsmodels' own shift_zeros replaces only the zero cells, a different convention)
    risk_ratio: (f64, (f64, f64)),
}

const CASES: [Case; 5] = [
    Case {
        table: (7, 20, 3, 20),
        pooled: (
            1.4605934866804426,
            [0.07206351740800766, 0.9279364825919924, 0.14412703481601533],
        ),
        unpooled: (
            1.5011732500816029,
            [0.06665537840784348, 0.9333446215921565, 0.13331075681568696],
        ),
        fisher: (
            3.051282051282051,
            [0.136671523768298, 0.9675834191963224, 0.273343047536596],
        ),
        newcombe: (-0.06976341280668327, 0.4380842853524135),
        wald: (-0.06112428854344584, 0.4611242885434458),
        wilson: [
            (0.18119182410108203, 0.5671457233147638),
            (0.052368745896216595, 0.36041886474075696),
        ],
        risk_ratio: (2.3333333333333335, (0.7012900771410208, 7.763469956169984)),
    },
    // A zero cell: 0 % in the treatment arm.
    Case {
        table: (0, 10, 4, 12),
        pooled: (
            -2.0184335693983275,
            [
                0.9782269369058675,
                0.021773063094132496,
                0.04354612618826499,
            ],
        ),
        unpooled: (
            -2.449489742783178,
            [
                0.9928470607822851,
                0.007152939217714824,
                0.014305878435429648,
            ],
        ),
        fisher: (0.0, [1.0, 0.06766917293233082, 0.09637730690362269]),
        newcombe: (-0.6093779111272004, 0.005978713235036015),
        wald: (-0.6000506486864061, -0.06661601798026051),
        wilson: [
            (0.0, 0.27753279986288926),
            (0.1381200910912131, 0.6093779111272004),
        ],
        risk_ratio: (
            0.13131313131313133,
            (0.007911680899619175, 2.1794532254314833),
        ),
    },
    // 100 % in the treatment arm.
    Case {
        table: (10, 10, 3, 9),
        pooled: (
            3.121472367904247,
            [
                0.0008997456727127581,
                0.9991002543272872,
                0.0017994913454255162,
            ],
        ),
        unpooled: (
            4.242640687119285,
            [
                1.1045248499292722e-05,
                0.9999889547515007,
                2.2090496998585445e-05,
            ],
        ),
        fisher: (
            f64::INFINITY,
            [0.003095975232198142, 1.0, 0.0030959752321981426],
        ),
        newcombe: (0.24874497760674547, 0.8794161816130892),
        wald: (0.3586880390334049, 0.9746452942999286),
        wilson: [
            (0.7224672001371106, 1.0),
            (0.1205838183869109, 0.6457978644196039),
        ],
        // Everyone in treatment had the event: the ratio is defined, so no correction.
        risk_ratio: (3.0, (1.1908607985710475, 7.557558373572625)),
    },
    // A sample the size of the Almere plan.
    Case {
        table: (38, 180, 21, 180),
        pooled: (
            2.4204210326121385,
            [
                0.007751272989798585,
                0.9922487270102014,
                0.01550254597959717,
            ],
        ),
        unpooled: (
            2.4403589965525465,
            [
                0.007336336341206945,
                0.9926636636587931,
                0.01467267268241389,
            ],
        ),
        fisher: (
            2.0261569416498992,
            [0.011076240671821532, 0.99502319135855, 0.022152481343643064],
        ),
        newcombe: (0.017808508015370803, 0.17057674357537905),
        wald: (0.018591789194744024, 0.17029709969414486),
        wilson: [
            (0.15784799003901068, 0.2764471865379213),
            (0.07758567104495456, 0.17176754402828212),
        ],
        risk_ratio: (1.8095238095238095, (1.107167976281542, 2.957434181063161)),
    },
    // Tiny arms with a zero cell; the Wald interval leaves [-1, 1], Newcombe does not.
    Case {
        table: (1, 2, 0, 3),
        pooled: (
            1.369306393762915,
            [0.08545176011539873, 0.9145482398846012, 0.17090352023079747],
        ),
        unpooled: (
            std::f64::consts::SQRT_2, // statsmodels: 1.414213562373095
            [0.07864960352514258, 0.9213503964748574, 0.15729920705028516],
        ),
        fisher: (f64::INFINITY, [0.4000000000000001, 1.0, 0.4000000000000001]),
        newcombe: (-0.19259213090610794, 0.9054687942657693),
        wald: (-0.1929519121748391, 1.192951912174839),
        wilson: [
            (0.09453120573423068, 0.9054687942657693),
            (0.0, 0.5614970317550455),
        ],
        risk_ratio: (4.0, (0.2362960114594991, 67.71168036724303)),
    },
];

#[test]
fn two_proportion_tests_intervals_and_risk_ratio_match_references() {
    for case in &CASES {
        let (x_t, n_t, x_c, n_c) = case.table;
        for (k, sides) in SIDES.into_iter().enumerate() {
            let z = two_proportion_z(x_t, n_t, x_c, n_c, true, sides);
            close(z.statistic, case.pooled.0);
            close(z.p_value, case.pooled.1[k]);
            let z = two_proportion_z(x_t, n_t, x_c, n_c, false, sides);
            close(z.statistic, case.unpooled.0);
            close(z.p_value, case.unpooled.1[k]);
            let f = fisher_exact(x_t, n_t, x_c, n_c, sides);
            if case.fisher.0.is_finite() {
                close(f.statistic, case.fisher.0);
            } else {
                assert_eq!(f.statistic, case.fisher.0);
            }
            close(f.p_value, case.fisher.1[k]);
        }
        close_pair(newcombe_difference(x_t, n_t, x_c, n_c, 0.95), case.newcombe);
        close_pair(
            wald_difference_proportions(x_t, n_t, x_c, n_c, 0.95),
            case.wald,
        );
        close_pair(wilson(x_t, n_t, 0.95), case.wilson[0]);
        close_pair(wilson(x_c, n_c, 0.95), case.wilson[1]);
        let rr = risk_ratio(x_t, n_t, x_c, n_c, 0.95);
        close(rr.estimate, case.risk_ratio.0);
        close_pair(rr.ci, case.risk_ratio.1);
        assert_eq!(rr.zero_cell_corrected, x_t == 0 || x_c == 0);
    }
}

#[test]
fn fisher_two_sided_counts_tied_tables() {
    // Symmetric margins make the mirrored table exactly as likely as the observed one; both must
    // count (R's relative tolerance 1e-7). stats.fisher_exact([[x_t, n_t-x_t], [x_c, n_c-x_c]],
    // alternative=...) for greater, less, two-sided; the last table is résumé-study sized.
    let cases = [
        (
            (3, 10, 7, 10),
            [0.9884929312173895, 0.0894477039987876, 0.1788954079975752],
        ),
        (
            (5, 10, 5, 10),
            [0.6718591006516703, 0.6718591006516703, 1.0],
        ),
        (
            (2, 8, 6, 8),
            [0.9949494949494949, 0.06596736596736597, 0.13193473193473193],
        ),
        (
            (120, 2435, 157, 2435),
            [0.9907113457350283, 0.01288453457570434, 0.02576906915140868],
        ),
        // A million participants.
        (
            (4000, 500_000, 4200, 500_000),
            [0.9870903563291462, 0.013666162031814002, 0.027332324063628],
        ),
        (
            (30_000, 400_000, 29_500, 380_000),
            [
                0.9999940695675991,
                6.167032705590672e-06,
                1.2216927203692911e-05,
            ],
        ),
    ];
    for ((x_t, n_t, x_c, n_c), p) in cases {
        for (k, sides) in SIDES.into_iter().enumerate() {
            close(fisher_exact(x_t, n_t, x_c, n_c, sides).p_value, p[k]);
        }
    }
}

#[test]
fn degenerate_tables_give_limits_not_nan() {
    // 0 % in both arms (0/15 vs 0/15) and 100 % in both (12/12 vs 12/12): statsmodels returns
    // NaN for the z tests; trialsim returns the limit "no evidence": z = 0, p = 1.
    for (x, n) in [(0, 15), (12, 12)] {
        for sides in SIDES {
            for pooled in [true, false] {
                let z = two_proportion_z(x, n, x, n, pooled, sides);
                assert_eq!((z.statistic, z.p_value), (0.0, 1.0));
                assert!(!z.rejects(0.05));
            }
            // stats.fisher_exact(...) → p = 1.0 for every alternative.
            assert_eq!(fisher_exact(x, n, x, n, sides).p_value, 1.0);
        }
        // Wald collapses to the point 0 (statsmodels: (0.0, 0.0)).
        assert_eq!(wald_difference_proportions(x, n, x, n, 0.95), (0.0, 0.0));
    }
    // confint_proportions_2indep(0, 15, 0, 15, method='newcomb', compare='diff')
    close_pair(
        newcombe_difference(0, 15, 0, 15, 0.95),
        (-0.20388330103584867, 0.20388330103584867),
    );
    // confint_proportions_2indep(12, 12, 12, 12, method='newcomb', compare='diff')
    close_pair(
        newcombe_difference(12, 12, 12, 12, 0.95),
        (-0.24249400665524112, 0.24249400665524112),
    );
    // Table2x2(np.array([[0, 15], [0, 15]], float) + 0.5, shift_zeros=False)
    let rr = risk_ratio(0, 15, 0, 15, 0.95);
    close(rr.estimate, 1.0);
    close_pair(rr.ci, (0.021106104622094515, 47.379657113666035));
    // Table2x2(np.array([[12, 0], [12, 0]], float), shift_zeros=False): both arms at 100 %,
    // no correction (the ratio is defined), and the Katz SE is exactly 0.
    close_pair(risk_ratio(12, 12, 12, 12, 0.95).ci, (1.0, 1.0));

    // 100 % vs 0 % (10/10 vs 0/10).
    for (k, sides) in SIDES.into_iter().enumerate() {
        // proportions_ztest([10, 0], [10, 10]): z = 4.47213595499958
        let z = two_proportion_z(10, 10, 0, 10, true, sides);
        close(z.statistic, 4.47213595499958);
        close(
            z.p_value,
            [
                3.872108215522035e-06,
                0.9999961278917845,
                7.74421643104407e-06,
            ][k],
        );
        // test_proportions_2indep(10, 10, 0, 10, method='wald'): z = inf, p = 0, 1, 0
        let z = two_proportion_z(10, 10, 0, 10, false, sides);
        assert_eq!(z.statistic, f64::INFINITY);
        assert_eq!(z.p_value, [0.0, 1.0, 0.0][k]);
        // stats.fisher_exact([[10, 0], [0, 10]], alternative=...)
        let f = fisher_exact(10, 10, 0, 10, sides);
        close(
            f.p_value,
            [5.412544112234515e-06, 1.0, 1.082508822446903e-05][k],
        );
    }
    // confint_proportions_2indep(10, 10, 0, 10, method='newcomb')
    close_pair(
        newcombe_difference(10, 10, 0, 10, 0.95),
        (0.6075093504305241, 1.0),
    );
    // Table2x2(np.array([[10, 0], [0, 10]], float) + 0.5, shift_zeros=False)
    let rr = risk_ratio(10, 10, 0, 10, 0.95);
    close(rr.estimate, 21.0);
    close_pair(rr.ci, (1.3956697081018725, 315.97733864967614));

    // One participant per arm (1/1 vs 0/1).
    // proportions_ztest([1, 0], [1, 1], alternative='larger'): z = 1.414213562373095
    let z = two_proportion_z(1, 1, 0, 1, true, Sides::Greater);
    close(z.statistic, std::f64::consts::SQRT_2);
    close(z.p_value, 0.07864960352514258);
    // stats.fisher_exact([[1, 0], [0, 1]], alternative='greater') → 0.5; two-sided → 1.0
    close(fisher_exact(1, 1, 0, 1, Sides::Greater).p_value, 0.5);
    close(fisher_exact(1, 1, 0, 1, Sides::TwoSided).p_value, 1.0);
    // confint_proportions_2indep(1, 1, 0, 1, method='newcomb')
    close_pair(
        newcombe_difference(1, 1, 0, 1, 0.95),
        (-0.12210872068194178, 1.0),
    );

    // An empty arm: the contrast is undefined, the p-value NaN (never a rejection).
    let z = two_proportion_z(0, 0, 3, 10, true, Sides::TwoSided);
    assert!(z.p_value.is_nan() && !z.rejects(0.05));
    assert!(newcombe_difference(0, 0, 3, 10, 0.95).0.is_nan());
    assert_eq!(wilson(0, 0, 0.95), (0.0, 1.0));
    assert_eq!(fisher_exact(0, 0, 3, 10, Sides::TwoSided).p_value, 1.0);
}

// Welch's t: a = [12.5, 0, 30, 41.2, 8, 0, 55.5, 20], b = [0, 5, 0, 12, 18.5, 0, 7];
// r = stats.ttest_ind(a, b, equal_var=False, alternative=...) → r.statistic, r.pvalue, r.df,
// r.confidence_interval(0.95) (two-sided); mean and sd from np.mean, np.std(ddof=1).
const A: [f64; 8] = [12.5, 0.0, 30.0, 41.2, 8.0, 0.0, 55.5, 20.0];
const B: [f64; 7] = [0.0, 5.0, 0.0, 12.0, 18.5, 0.0, 7.0];

fn mean_sd(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

#[test]
fn welch_t_matches_scipy() {
    let (ma, sa) = mean_sd(&A);
    let (mb, sb) = mean_sd(&B);
    close(ma, 20.9);
    close(sa, 20.012353327739486);
    close(sb, 7.097115443548006);
    let p = [
        0.040948882844551136,
        0.9590511171554489,
        0.08189776568910227,
    ];
    for (k, sides) in SIDES.into_iter().enumerate() {
        let t = welch_t(ma, sa, 8, mb, sb, 7, sides);
        close(t.statistic, 1.959673133397123);
        close(t.p_value, p[k]);
    }
    close(welch_df(sa, 8, sb, 7), 8.941380134001054);
    close_pair(
        welch_difference_means(ma, sa, 8, mb, sb, 7, 0.95),
        (-2.3059761046349276, 31.96311896177778),
    );
    // stats.t.interval(0.95, 7, loc=np.mean(a), scale=np.std(a, ddof=1)/np.sqrt(8))
    close_pair(
        t_mean(ma, sa, 8, 0.95),
        (4.169253926963815, 37.63074607303618),
    );

    // One standard deviation zero: c = [5, 5, 5], d = [1, 2, 4]; ttest_ind(c, d,
    // equal_var=False) → t 3.023715784073818, p 0.09417837268432339, df 2.0,
    // CI (-1.1279163669300925, 6.4612497002634255).
    let (md, sd) = mean_sd(&[1.0, 2.0, 4.0]);
    let t = welch_t(5.0, 0.0, 3, md, sd, 3, Sides::TwoSided);
    close(t.statistic, 3.023715784073818);
    close(t.p_value, 0.09417837268432339);
    close(welch_df(0.0, 3, sd, 3), 2.0);
    close_pair(
        welch_difference_means(5.0, 0.0, 3, md, sd, 3, 0.95),
        (-1.1279163669300925, 6.4612497002634255),
    );

    // Both standard deviations zero (scipy: NaN): the limits.
    let t = welch_t(5.0, 0.0, 3, 5.0, 0.0, 2, Sides::TwoSided);
    assert_eq!((t.statistic, t.p_value), (0.0, 1.0));
    let t = welch_t(5.0, 0.0, 3, 3.0, 0.0, 2, Sides::Greater);
    assert_eq!((t.statistic, t.p_value), (f64::INFINITY, 0.0));
    assert_eq!(
        welch_difference_means(5.0, 0.0, 3, 3.0, 0.0, 2, 0.95),
        (2.0, 2.0)
    );
    // One observation in an arm: no standard deviation, so undefined.
    assert!(
        welch_t(5.0, f64::NAN, 1, 3.0, 1.0, 4, Sides::TwoSided)
            .p_value
            .is_nan()
    );
    assert!(
        welch_t(5.0, 0.0, 1, 3.0, 1.0, 4, Sides::TwoSided)
            .p_value
            .is_nan()
    );
}

#[test]
fn distributions_match_scipy() {
    // stats.t.ppf(p, df)
    for (p, df, q) in [
        (0.975, 3.7, 2.8675207071911895),
        (0.975, 10.0, 2.228138851986274),
        (0.975, 150.5, 1.9758519492008906),
        (0.9, 2.2, 1.8123849217763532),
        (0.025, 1000.0, -1.9623390808264085),
        (0.995, 3.0, 5.840909309733355),
        (0.6, 25.5, 0.25600619097061245),
        (0.975, 4.0, 2.7764451051977934),
        (0.975, 37.0, 2.0261924630291093),
    ] {
        // Twice: the second answer comes from the per-thread memo.
        close(t_quantile(p, df), q);
        close(t_quantile(p, df), q);
    }
    // stats.chi2.sf(x, df)
    close(chi2_sf(3.2, 1.0), 0.07363827012030258);
    close(chi2_sf(10.5, 4.0), 0.03279698999488366);
}

#[test]
fn multiplicity_matches_statsmodels() {
    // multipletests(p, method='holm')[1], multipletests(p, method='bonferroni')[1]
    let cases: [(&[f64], &[f64], &[f64]); 3] = [
        (
            &[0.01, 0.04, 0.03, 0.005, 0.5],
            &[0.04, 0.09, 0.09, 0.025, 0.5],
            &[0.05, 0.2, 0.15, 0.025, 1.0],
        ),
        (
            &[0.02, 0.02, 0.04],
            &[0.06, 0.06, 0.06],
            &[0.06, 0.06, 0.12],
        ),
        (&[0.3, 0.2, 0.6], &[0.6, 0.6, 0.6], &[0.9, 0.6, 1.0]),
    ];
    for (p, h, b) in cases {
        for (got, want) in holm(p).into_iter().zip(h) {
            close(got, *want);
        }
        for (got, want) in bonferroni(p).into_iter().zip(b) {
            close(got, *want);
        }
    }
    // A NaN p-value counts in the family and stays NaN (never rejected).
    let adjusted = holm(&[0.01, f64::NAN, 0.02]);
    close(adjusted[0], 0.03);
    assert!(adjusted[1].is_nan());
    close(adjusted[2], 0.04);
    let adjusted = bonferroni(&[0.01, f64::NAN, 0.02]);
    close(adjusted[0], 0.03);
    assert!(adjusted[1].is_nan());
    close(adjusted[2], 0.06);
}

#[test]
fn heterogeneity_matches_hand_computation() {
    // d = np.array([0.1, 0.25, -0.05]); v = np.array([0.004, 0.006, 0.01]); w = 1/v;
    // m = (w*d).sum()/w.sum(); Q = (w*(d-m)**2).sum(); stats.chi2.sf(Q, 2)
    let (test, df) = heterogeneity(&[0.1, 0.25, -0.05], &[0.004, 0.006, 0.01]);
    close(test.statistic, 5.806451612903226);
    close(test.p_value, 0.054846011771641424);
    assert_eq!(df, 2);
    // Levels without a usable variance are left out; fewer than two: undefined.
    let (test, df) = heterogeneity(&[0.1, 0.3, 0.2], &[0.004, 0.0, f64::NAN]);
    assert!(test.p_value.is_nan());
    assert_eq!(df, 0);
}

// Power. References from an independent NumPy enumeration (exact_power in the script below) and
// the normal formula written out in SciPy:
//   def normal_power(pc, pt, nc, nt, alpha, sides):
//       pbar = (nt*pt + nc*pc)/(nt + nc); se0 = sqrt(pbar*(1-pbar)*(1/nt + 1/nc))
//       se1 = sqrt(pt*(1-pt)/nt + pc*(1-pc)/nc); d = pt - pc
//       greater: norm.cdf((d - norm.ppf(1-alpha)*se0)/se1); less: mirror;
//       two-sided: both tails with norm.ppf(1-alpha/2)
//   def exact_power(pc, pt, nc, nt, alpha, sides, pooled=True):
//       all (x_t, x_c) on a grid, z as proportions_ztest (pooled) or Wald (unpooled), z = 0 where
//       d = 0 and ±inf where the variance is 0; reject z >= norm.ppf(1-alpha) (greater),
//       z <= -norm.ppf(1-alpha) (less), |z| >= norm.ppf(1-alpha/2) (two-sided); weights
//       binom.pmf(x_t, nt, pt) * binom.pmf(x_c, nc, pc); power = sum of weights rejected.
// Sample sizes: scipy.optimize.brentq on normal_power(...) - target, xtol=1e-12.

#[test]
fn normal_and_exact_power_match_independent_enumeration() {
    // (p_c, p_t, n_c, n_t, alpha, sides, normal, exact pooled, exact unpooled)
    let designs = [
        (
            0.3,
            0.45,
            60,
            80,
            0.05,
            Sides::TwoSided,
            0.4367854500926332,
            0.43893020928283066,
            0.4608976158094879,
        ),
        (
            0.5,
            0.35,
            40,
            40,
            0.025,
            Sides::Less,
            0.27092034956622124,
            0.285380849828595,
            0.2864014748991728,
        ),
        (
            0.0,
            0.1,
            50,
            50,
            0.05,
            Sides::Greater,
            0.7476446400266119,
            0.8882712436536533,
            0.8882712436536533,
        ),
        (
            0.2,
            0.2,
            30,
            30,
            0.05,
            Sides::TwoSided,
            0.05,
            0.04896747114987608,
            0.06037216465947056,
        ),
    ];
    for (p_c, p_t, n_c, n_t, alpha, sides, normal, pooled, unpooled) in designs {
        let got = two_proportion_normal_power(p_c, p_t, n_c as f64, n_t as f64, alpha, sides);
        close(got, normal);
        close(
            two_proportion_exact_power(p_c, p_t, n_c, n_t, alpha, sides, true),
            pooled,
        );
        close(
            two_proportion_exact_power(p_c, p_t, n_c, n_t, alpha, sides, false),
            unpooled,
        );
    }
    // Two-sided n (both tails) for 90 %; one-sided with twice as many treated for 80 %.
    close(
        two_proportion_normal_n(0.3, 0.45, 0.05, Sides::TwoSided, 0.9, 1.0),
        216.81987752212973,
    );
    close(
        two_proportion_normal_n(0.3, 0.45, 0.05, Sides::Greater, 0.8, 2.0),
        96.44890105392079,
    );
    // Less, half as many treated: brentq(lambda n: normal_power(0.5, 0.35, n, 0.5*n, 0.025,
    // 'less') - 0.9, 2, 5000, xtol=1e-12)
    close(
        two_proportion_normal_n(0.5, 0.35, 0.025, Sides::Less, 0.9, 0.5),
        339.76710937328096,
    );
    // Minimum detectable effect at 180 per arm, Almere's control rate, one-sided 5 %, 80 %.
    let mde = two_proportion_mde(0.1167, 180.0, 180.0, 0.05, Sides::Greater, 0.8);
    close(mde.unwrap_or(f64::NAN), 0.09705701288884805);
    // Means: se = sqrt(30**2/60 + 25**2/50); norm.cdf(10/se - c) + norm.cdf(-10/se - c),
    // c = norm.ppf(0.975); one-sided n: (norm.ppf(0.95) + norm.ppf(0.8))**2 * (30**2 + 25**2) / 10**2
    close(
        two_mean_normal_power(10.0, 30.0, 25.0, 50.0, 60.0, 0.05, Sides::TwoSided),
        0.4789056104764023,
    );
    close(
        two_mean_normal_n(10.0, 30.0, 25.0, 0.05, Sides::Greater, 0.8, 1.0),
        94.28399778830143,
    );
}

#[test]
fn fisher_exact_power_matches_scipy_enumeration() {
    // Sum of binom.pmf(x_t, n_t, p_t) * binom.pmf(x_c, n_c, p_c) over every table (x_t, x_c)
    // with stats.fisher_exact([[x_t, n_t-x_t], [x_c, n_c-x_c]], alternative=...).pvalue <= alpha
    // (tables of probability < 1e-17 skipped), tests/reference/power.py.
    let designs = [
        (
            0.3,
            0.45,
            60,
            80,
            0.05,
            Sides::TwoSided,
            0.40391739824125533,
        ),
        (0.5, 0.35, 40, 40, 0.025, Sides::Less, 0.21282932518375738),
        (
            0.1167,
            0.2125,
            180,
            180,
            0.05,
            Sides::Greater,
            0.7566092103981218,
        ),
    ];
    for (p_c, p_t, n_c, n_t, alpha, sides, power) in designs {
        close(fisher_exact_power(p_c, p_t, n_c, n_t, alpha, sides), power);
    }
}

#[test]
fn mean_mde_matches_formula() {
    // se = np.sqrt(30**2/60 + 25**2/50); one-sided 5 %, 80 %: (norm.ppf(0.95) + norm.ppf(0.8)) * se;
    // two-sided 5 %, 90 %: brentq(lambda d: norm.cdf(d/se - c) + norm.cdf(-d/se - c) - 0.9,
    // 1e-9, 100, xtol=1e-13) with c = norm.ppf(0.975)
    let one = two_mean_mde(30.0, 25.0, 50.0, 60.0, 0.05, Sides::Greater, 0.8);
    close(one.unwrap_or(f64::NAN), 13.0391841723531);
    let less = two_mean_mde(30.0, 25.0, 50.0, 60.0, 0.05, Sides::Less, 0.8);
    close(less.unwrap_or(f64::NAN), -13.0391841723531);
    let two = two_mean_mde(30.0, 25.0, 50.0, 60.0, 0.05, Sides::TwoSided, 0.9);
    close(two.unwrap_or(f64::NAN), 16.998647998193736);
}

#[test]
fn power_edge_cases_are_defined() {
    // No effect: the target is unreachable; an effect against the direction likewise.
    assert_eq!(
        two_proportion_normal_n(0.2, 0.2, 0.05, Sides::TwoSided, 0.8, 1.0),
        f64::INFINITY
    );
    assert_eq!(
        two_proportion_normal_n(0.3, 0.2, 0.05, Sides::Greater, 0.8, 1.0),
        f64::INFINITY
    );
    // 0 % vs 100 %: every test of any size rejects.
    close(
        two_proportion_normal_power(0.0, 1.0, 5.0, 5.0, 0.05, Sides::Greater),
        1.0,
    );
    close(
        two_proportion_exact_power(0.0, 1.0, 5, 5, 0.05, Sides::Greater, true),
        1.0,
    );
    // 0 % in both arms: nothing ever rejects.
    assert_eq!(
        two_proportion_normal_power(0.0, 0.0, 50.0, 50.0, 0.05, Sides::TwoSided),
        0.0
    );
    assert_eq!(
        two_proportion_exact_power(0.0, 0.0, 50, 50, 0.05, Sides::TwoSided, true),
        0.0
    );
    // Invalid input: NaN, not a panic.
    assert!(two_proportion_exact_power(0.1, 0.2, 0, 10, 0.05, Sides::Greater, true).is_nan());
    assert!(two_proportion_normal_power(1.2, 0.2, 10.0, 10.0, 0.05, Sides::Greater).is_nan());
    assert!(two_proportion_mde(0.5, 3.0, 3.0, 0.05, Sides::Greater, 0.99).is_none());
}

mod properties {
    use proptest::prelude::*;

    use super::SIDES;
    use trialsim::stats::intervals::{newcombe_difference, risk_ratio, wilson};
    use trialsim::stats::tests::{fisher_exact, two_proportion_z};

    fn table() -> impl Strategy<Value = (u64, u64, u64, u64)> {
        (1u64..60, 1u64..60).prop_flat_map(|(n_t, n_c)| (0..=n_t, Just(n_t), 0..=n_c, Just(n_c)))
    }

    proptest! {
        /// On every table with both arms non-empty: p-values in [0, 1], never NaN; intervals
        /// ordered, finite, inside their ranges, and containing the estimate.
        #[test]
        fn two_by_two_results_are_defined((x_t, n_t, x_c, n_c) in table()) {
            for sides in SIDES {
                for pooled in [true, false] {
                    let z = two_proportion_z(x_t, n_t, x_c, n_c, pooled, sides);
                    prop_assert!((0.0..=1.0).contains(&z.p_value), "{z:?}");
                }
                let f = fisher_exact(x_t, n_t, x_c, n_c, sides);
                prop_assert!((0.0..=1.0).contains(&f.p_value), "{f:?}");
            }
            let d = x_t as f64 / n_t as f64 - x_c as f64 / n_c as f64;
            let (lo, hi) = newcombe_difference(x_t, n_t, x_c, n_c, 0.95);
            prop_assert!(-1.0 <= lo && lo <= d && d <= hi && hi <= 1.0, "({lo}, {hi}) around {d}");
            let (lo, hi) = wilson(x_t, n_t, 0.95);
            let p = x_t as f64 / n_t as f64;
            prop_assert!(0.0 <= lo && lo <= p && p <= hi && hi <= 1.0);
            let rr = risk_ratio(x_t, n_t, x_c, n_c, 0.95);
            prop_assert!(rr.estimate.is_finite() && rr.estimate >= 0.0);
            prop_assert!(0.0 <= rr.ci.0 && rr.ci.0 <= rr.estimate && rr.estimate <= rr.ci.1);
            prop_assert!(rr.ci.1.is_finite());
        }

        /// One-sided p-values of the two directions of Fisher's test add up to 1 + P(observed).
        #[test]
        fn fisher_one_sided_tails_overlap_in_the_observed_table((x_t, n_t, x_c, n_c) in table()) {
            let g = fisher_exact(x_t, n_t, x_c, n_c, trialsim::model::Sides::Greater).p_value;
            let l = fisher_exact(x_t, n_t, x_c, n_c, trialsim::model::Sides::Less).p_value;
            let t = fisher_exact(x_t, n_t, x_c, n_c, trialsim::model::Sides::TwoSided).p_value;
            prop_assert!(g + l >= 1.0 - 1e-12);
            prop_assert!(t >= g.min(l) - 1e-12);
        }
    }
}
