//! Reference values from an independent implementation, for the p-value and exact-figure checks
//! of [`super`]. Every number below was printed by `python3 tests/reference/validation.py`
//! (scipy 1.17.1, statsmodels 0.15.0) and pasted here; they extend the small tables of
//! `tests/reference/stats.py` with large, unbalanced and far-tail cases.

use crate::model::Sides;

/// A 2×2 table `(x_t, n_t, x_c, n_c)`, the direction, and the p-values of the pooled z test
/// (`statsmodels.stats.proportion.proportions_ztest`), the unpooled z test
/// (`test_proportions_2indep(method="wald", compare="diff")`) and Fisher's exact test
/// (`scipy.stats.fisher_exact`).
pub(crate) type TableCase = (u64, u64, u64, u64, Sides, f64, f64, f64);

pub(crate) const TABLES: [TableCase; 18] = [
    (
        412,
        1000,
        355,
        1000,
        Sides::Greater,
        0.004380229723891911,
        0.004322564889790264,
        0.0049972419541842025,
    ),
    (
        412,
        1000,
        355,
        1000,
        Sides::Less,
        0.995619770276108,
        0.9956774351102098,
        0.9961857740192257,
    ),
    (
        412,
        1000,
        355,
        1000,
        Sides::TwoSided,
        0.008760459447783822,
        0.008645129779580528,
        0.009994483908368405,
    ),
    (
        3,
        250,
        12,
        260,
        Sides::Greater,
        0.9887580464223226,
        0.9898261343372199,
        0.9958756799182588,
    ),
    (
        3,
        250,
        12,
        260,
        Sides::Less,
        0.011241953577677478,
        0.010173865662780147,
        0.019651655287562735,
    ),
    (
        3,
        250,
        12,
        260,
        Sides::TwoSided,
        0.022483907155354955,
        0.020347731325560295,
        0.033070352911202736,
    ),
    (
        45,
        50,
        30,
        50,
        Sides::Greater,
        0.00026600275256962385,
        0.00011092334033160549,
        0.0004834216015314489,
    ),
    (
        45,
        50,
        30,
        50,
        Sides::Less,
        0.9997339972474304,
        0.9998890766596684,
        0.9999283208956695,
    ),
    (
        45,
        50,
        30,
        50,
        Sides::TwoSided,
        0.0005320055051392477,
        0.00022184668066321098,
        0.0009668432030628979,
    ),
    (
        120,
        300,
        80,
        150,
        Sides::Greater,
        0.9963548209542322,
        0.9964130737543342,
        0.9972890784970663,
    ),
    (
        120,
        300,
        80,
        150,
        Sides::Less,
        0.0036451790457678215,
        0.0035869262456658607,
        0.00494337541374737,
    ),
    (
        120,
        300,
        80,
        150,
        Sides::TwoSided,
        0.007290358091535643,
        0.0071738524913317215,
        0.008826340624557744,
    ),
    (
        260,
        500,
        240,
        500,
        Sides::Greater,
        0.10295160536603393,
        0.1027701091113093,
        0.11473809423750515,
    ),
    (
        260,
        500,
        240,
        500,
        Sides::Less,
        0.897048394633966,
        0.8972298908886907,
        0.9079506543045865,
    ),
    (
        260,
        500,
        240,
        500,
        Sides::TwoSided,
        0.20590321073206785,
        0.2055402182226186,
        0.2294761884750103,
    ),
    (
        1,
        400,
        9,
        380,
        Sides::Greater,
        0.9957140210772327,
        0.9951510874663165,
        0.9992917540171676,
    ),
    (
        1,
        400,
        9,
        380,
        Sides::Less,
        0.004285978922767328,
        0.004848912533683461,
        0.008344321269434298,
    ),
    (
        1,
        400,
        9,
        380,
        Sides::TwoSided,
        0.008571957845534656,
        0.009697825067366921,
        0.009534362781552556,
    ),
];

/// Welch's t test from summaries `(mean_t, sd_t, n_t, mean_c, sd_c, n_c)`, the direction and the
/// p-value of `scipy.stats.ttest_ind_from_stats(..., equal_var=False, alternative=...)`.
pub(crate) type WelchCase = (f64, f64, u64, f64, f64, u64, Sides, f64);

pub(crate) const WELCH: [WelchCase; 12] = [
    (
        5.1,
        2.3,
        200,
        4.6,
        1.1,
        350,
        Sides::Greater,
        0.0020861335201105544,
    ),
    (
        5.1,
        2.3,
        200,
        4.6,
        1.1,
        350,
        Sides::Less,
        0.9979138664798894,
    ),
    (
        5.1,
        2.3,
        200,
        4.6,
        1.1,
        350,
        Sides::TwoSided,
        0.004172267040221109,
    ),
    (
        102.5,
        15.0,
        12,
        95.0,
        30.0,
        9,
        Sides::Greater,
        0.25277618569746874,
    ),
    (
        102.5,
        15.0,
        12,
        95.0,
        30.0,
        9,
        Sides::Less,
        0.7472238143025313,
    ),
    (
        102.5,
        15.0,
        12,
        95.0,
        30.0,
        9,
        Sides::TwoSided,
        0.5055523713949375,
    ),
    (
        0.2,
        1.0,
        1000,
        0.0,
        1.0,
        1000,
        Sides::Greater,
        4.089443940765006e-06,
    ),
    (
        0.2,
        1.0,
        1000,
        0.0,
        1.0,
        1000,
        Sides::Less,
        0.9999959105560592,
    ),
    (
        0.2,
        1.0,
        1000,
        0.0,
        1.0,
        1000,
        Sides::TwoSided,
        8.178887881530012e-06,
    ),
    (
        3.0,
        0.5,
        5,
        2.0,
        4.0,
        40,
        Sides::Greater,
        0.07168253896500348,
    ),
    (3.0, 0.5, 5, 2.0, 4.0, 40, Sides::Less, 0.9283174610349965),
    (
        3.0,
        0.5,
        5,
        2.0,
        4.0,
        40,
        Sides::TwoSided,
        0.14336507793000697,
    ),
];

/// Exact coverage of the 95 % Newcombe interval `(p_c, p_t, n_c, n_t, coverage)`: the sum of
/// `binom.pmf(x_t) · binom.pmf(x_c)` over the tables whose
/// `confint_proportions_2indep(..., method="newcomb", compare="diff")` contains `p_t − p_c`.
pub(crate) const NEWCOMBE_COVERAGE: [(f64, f64, u64, u64, f64); 2] = [
    (0.05, 0.15, 80, 120, 0.9588366421778739),
    (0.3, 0.3, 80, 120, 0.9492673886893099),
];

/// Exact power of Fisher's test `(p_c, p_t, n_c, n_t, alpha, sides, power)`: the sum of
/// `binom.pmf(x_t) · binom.pmf(x_c)` over the tables where `scipy.stats.fisher_exact` gives
/// p ≤ alpha.
pub(crate) const FISHER_POWER: [(f64, f64, u64, u64, f64, Sides, f64); 2] = [
    (0.2, 0.5, 40, 40, 0.05, Sides::TwoSided, 0.7494251203673746),
    (0.1, 0.3, 50, 100, 0.05, Sides::Greater, 0.8651028892076297),
];

/// Power and 95 % interval coverage of Welch's t test on normal data
/// `(mean_t, sd_t, n_t, mean_c, sd_c, n_c, alpha, sides, power, coverage)`, by
/// `scipy.integrate.dblquad` over both sample variances (see the script).
pub(crate) type WelchExactCase = (f64, f64, u64, f64, f64, u64, f64, Sides, f64, f64);

pub(crate) const WELCH_EXACT: [WelchExactCase; 2] = [
    (
        0.0,
        1.0,
        30,
        0.0,
        2.0,
        60,
        0.05,
        Sides::TwoSided,
        0.049929905700056926,
        0.9500700942999355,
    ),
    (
        10.0,
        6.0,
        40,
        8.0,
        3.0,
        80,
        0.05,
        Sides::Greater,
        0.6237049497048233,
        0.9499305304871631,
    ),
];
