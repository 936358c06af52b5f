//! Baseline balance (docs/balance.md) on the NSW data against base R, and the audit's chance
//! imbalances.

// The constants are R's 17-significant-digit output, as printed.
#![allow(clippy::excessive_precision)]

use trialsim::analysis::balance;
use trialsim::audit::{AuditStatus, audit};
use trialsim::model::TrialModel;
use trialsim::table::ParticipantTable;

use crate::common;

#[track_caller]
fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= 1e-8 * expected.abs(),
        "got {actual}, expected {expected}"
    );
}

fn nsw() -> (TrialModel, ParticipantTable) {
    nsw_mapping(|spec| spec)
}

/// The NSW example with its spec text changed by `edit` first.
fn nsw_mapping(edit: impl Fn(String) -> String) -> (TrialModel, ParticipantTable) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("examples/nsw/nsw.trial")).expect("the spec");
    let source = trialsim::source::SourceFile::new("nsw.trial", edit(text));
    let model = trialsim::check::compile(&source)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .model;
    let mapping = model.data.clone().expect("a data mapping");
    let loaded = trialsim::data::load_path(
        &model,
        &mapping,
        &root.join("examples/nsw/data.csv"),
        "examples/nsw/data.csv",
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    (model, loaded.table)
}

/// Reference values: `Rscript tests/reference/balance.R` (base R 4.x: `chisq.test(correct =
/// FALSE)`, `t.test` (Welch), `summary(lm(treat ~ ...))$fstatistic`), printed to 17 digits.
#[test]
fn nsw_balance_matches_r() {
    let (model, table) = nsw();
    let b = balance(&model, &table);
    let test = |variable: &str, kind: &str, binned: bool| {
        b.tests
            .iter()
            .find(|t| t.variable == variable && t.test == kind && t.bins.is_some() == binned)
            .unwrap_or_else(|| panic!("no {kind} test of {variable}"))
    };
    let chi2 = [
        (
            "ethnicity",
            false,
            4.3033670379098519,
            2.0,
            0.1162882194651427,
        ),
        (
            "married",
            false,
            0.96349572025247832,
            1.0,
            0.32630770228981326,
        ),
        (
            "nodegree",
            false,
            10.148108958653744,
            1.0,
            0.0014444934393213094,
        ),
        ("educ", true, 12.169431272754338, 3.0, 0.0068247331586236875),
    ];
    for (v, binned, statistic, df, p) in chi2 {
        let t = test(v, "pearson_chi2", binned);
        close(t.statistic, statistic);
        assert_eq!(t.df, df, "{v}");
        close(t.p_value, p);
        assert_eq!(t.imbalanced, p < 0.05, "{v}");
    }
    let welch = [
        (
            "age",
            1.1140361438290065,
            393.1088294681399,
            0.26594434698850122,
        ),
        (
            "educ",
            1.4421840361658129,
            340.59741792592718,
            0.15016935264950168,
        ),
        (
            "re74",
            -0.022746598198576357,
            427.50711777377342,
            0.98186301844831747,
        ),
        (
            "re75",
            0.86920608179922076,
            387.40765902690691,
            0.38527260304565281,
        ),
    ];
    for (v, statistic, df, p) in welch {
        let t = test(v, "welch_t", false);
        close(t.statistic, statistic);
        close(t.df, df);
        close(t.p_value, p);
        assert!(!t.imbalanced, "{v}");
    }
    let o = &b.omnibus;
    close(o.f.statistic, 2.1402071451255216);
    assert_eq!((o.f.df1, o.f.df2, o.f.aliased, o.n), (8, 436, 0, 445));
    close(o.f.p_value, 0.031070840651988011);
    assert!(o.imbalanced);
    // The SMD flag at the plan's 0.1: nodegree's levels (±0.305) are flagged, married's not.
    let flagged = |v: &str, level: &str| {
        b.rows
            .iter()
            .find(|r| r.variable == v && r.level.as_deref() == Some(level))
            .map(|r| r.flagged)
    };
    assert_eq!(flagged("nodegree", "1"), Some(true));
    assert_eq!(flagged("married", "1"), Some(false));
    assert_eq!(flagged("educ", "[12, 16)"), Some(true));
}

/// A covariate the spec declares but the data block does not map has no value in either arm:
/// it is named as left out, and the omnibus test runs on the others (R's figures: the last
/// line of `Rscript tests/reference/balance.R`), not on no one.
#[test]
fn an_unmapped_covariate_is_left_out_not_undefined() {
    let (model, table) = nsw_mapping(|spec| spec.replace("    covariate re74 \"re74\"\n", ""));
    let b = balance(&model, &table);
    assert_eq!(b.without_values, ["re74"]);
    assert!(b.rows.iter().all(|r| r.variable != "re74"));
    assert!(b.tests.iter().all(|t| t.variable != "re74"));
    let o = &b.omnibus;
    assert!(
        !o.covariates.iter().any(|c| c == "re74"),
        "{:?}",
        o.covariates
    );
    close(o.f.statistic, 2.2247432936681095);
    assert_eq!((o.f.df1, o.f.df2, o.n), (7, 437, 445));
    close(o.f.p_value, 0.031320940367715412);
    // The full mapping leaves nothing out.
    let (full, full_table) = nsw();
    assert!(balance(&full, &full_table).without_values.is_empty());
}

#[test]
fn the_audit_flags_nsw_chance_imbalances() {
    let (model, table) = nsw();
    let flagged: Vec<String> = audit(&model, &table, false)
        .into_iter()
        .filter(|a| a.status == AuditStatus::Imbalanced)
        .map(|a| a.assumption)
        .collect();
    assert_eq!(
        flagged,
        [
            "balance of educ (Pearson chi-square on 4 bins)",
            "balance of nodegree (Pearson chi-square)"
        ]
    );
}

#[test]
fn analyze_shows_the_balance_tests_and_the_omnibus_test() {
    let output = common::run(common::trialsim().args([
        "analyze",
        "examples/nsw/nsw.trial",
        "--data",
        "examples/nsw/data.csv",
        "--replicates",
        "0",
    ]));
    assert_eq!(output.status, Some(0), "{output}");
    for line in [
        "educ in bins [0, 9, 12, 16, 99): Pearson chi-square = 12.169 on 3 df, p = 0.0068",
        "nodegree: Pearson chi-square = 10.148 on 1 df, p = 0.0014  IMBALANCED (p < 5.0%)",
        "omnibus (arm on all covariates): F = 2.140 on 8 and 436 df, p = 0.0311, n = 445",
        "2 chance imbalance(s) between the arms at baseline",
    ] {
        assert!(
            output.stdout.contains(line),
            "missing `{line}` in\n{output}"
        );
    }
}
