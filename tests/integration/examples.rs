//! The real examples under `examples/`: the spec compiles, the data load, and the plan's figures
//! agree with an independent computation to 1e-6.
//!
//! Reference numbers were produced with Python 3, pandas, scipy 1.17.1 and statsmodels 0.14 from
//! the example CSVs, by this script (abridged to the calls that made each constant):
//!
//! ```python
//! import pandas as pd
//! from scipy import stats
//! from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
//! d = pd.read_csv("examples/nsw/data.csv")            # or examples/resume-names/data.csv
//! t, c = d[d.arm == "treatment"], d[d.arm == "control"]
//! xt, nt, xc, nc = t.employed78.sum(), len(t), c.employed78.sum(), len(c)   # callback for résumés
//! xt / nt - xc / nc                                                          # difference
//! confint_proportions_2indep(xt, nt, xc, nc, method="newcomb", compare="diff")  # Newcombe CI
//! proportions_ztest([xt, xc], [nt, nc], alternative="two-sided")             # pooled z, p
//! stats.fisher_exact([[xt, nt - xt], [xc, nc - xc]], alternative="two-sided")[1]
//! stats.ttest_ind(t.re78, c.re78, equal_var=False)                           # Welch t, p, df
//! ```
//! Subgroup rows apply the same calls to `d[d.nodegree == v]`, `d[d.female == v]`.

use std::path::Path;

use trialsim::analysis::{ContrastResult, PlanResult};
use trialsim::check;
use trialsim::data;
use trialsim::model::TrialModel;
use trialsim::source::SourceFile;

fn plan_of(spec: &str, csv: &str) -> (TrialModel, PlanResult) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = SourceFile::read(root.join(spec)).expect("example spec is readable");
    let model = match check::compile(&source) {
        Ok(c) => c.model,
        Err(e) => panic!("{spec} does not check: {:?}", miette::Report::new(e)),
    };
    let mapping = model.data.clone().expect("the example maps its data");
    let loaded =
        data::load_path(&model, &mapping, &root.join(csv), csv).expect("example data load");
    assert_eq!(loaded.excluded_total(), 0);
    let plan = trialsim::analysis::run_plan(&model, &loaded.table);
    (model, plan)
}

fn contrast<'a>(
    plan: &'a PlanResult,
    analysis: &str,
    label: Option<(&str, &str)>,
) -> &'a ContrastResult {
    let a = plan
        .analyses
        .iter()
        .find(|a| a.name == analysis)
        .expect("analysis exists");
    a.contrasts
        .iter()
        .find(|c| c.subgroup.as_ref().map(|(v, l)| (v.as_str(), l.as_str())) == label)
        .expect("contrast exists")
}

#[track_caller]
fn close(got: f64, want: f64) {
    assert!((got - want).abs() <= 1e-6, "got {got}, reference {want}");
}

#[test]
fn nsw_employment_matches_statsmodels() {
    let (_, plan) = plan_of("examples/nsw/nsw.trial", "examples/nsw/data.csv");
    let c = contrast(&plan, "primary", None);
    assert_eq!((c.treatment.n, c.control.n), (185, 260));
    close(c.treatment.mean, 0.7567567567567568);
    close(c.control.mean, 0.6461538461538462);
    close(c.difference, 0.11060291060291061);
    close(c.ci.0, 0.02381075976849871);
    close(c.ci.1, 0.19270792738668552);
    close(c.statistic, 2.4910558107104666);
    close(c.p_value, 0.012736411146287267);
    // Risk ratio with the log (Katz) interval: statsmodels
    // confint_proportions_2indep(140, 185, 168, 260, method="log", compare="ratio").
    let rr = c
        .risk_ratio
        .as_ref()
        .expect("binary contrast has a risk ratio");
    close(rr.estimate, 1.1711711711711712);
    close(rr.ci.0, 1.0371655487025624);
    close(rr.ci.1, 1.322490815374944);
    let f = contrast(&plan, "primary_exact", None);
    close(f.p_value, 0.016387053757930276);
    // Subgroup nodegree = 1 (no high-school degree).
    let s = contrast(&plan, "by_degree", Some(("nodegree", "1")));
    close(s.difference, 0.09529672494459496);
    close(s.ci.0, -0.006008967237063845);
    close(s.ci.1, 0.18944838003529418);
    close(s.statistic, 1.8479807793444978);
    close(s.p_value, 0.06460512341530285);
}

#[test]
fn nsw_earnings_welch_matches_scipy() {
    let (_, plan) = plan_of("examples/nsw/nsw.trial", "examples/nsw/data.csv");
    let c = contrast(&plan, "earnings", None);
    close(c.treatment.mean, 6349.1453675675675);
    close(c.control.mean, 4554.802282692308);
    close(c.difference, 1794.3430848752596);
    close(c.statistic, 2.674145797682563);
    close(c.p_value, 0.007892971233998755);
    close(c.df.expect("Welch df"), 307.13245780736014);
    // Welch interval: d ± t_{0.975, df} · se with scipy's stats.t.ppf and the Welch se.
    close(c.ci.0, 474.0107891848977);
    close(c.ci.1, 3114.6753805656217);
}

#[test]
fn resume_callbacks_match_statsmodels() {
    let (_, plan) = plan_of(
        "examples/resume-names/resume-names.trial",
        "examples/resume-names/data.csv",
    );
    let c = contrast(&plan, "primary", None);
    assert_eq!((c.treatment.n, c.control.n), (2435, 2435));
    close(c.difference, -0.032032854209445585);
    close(c.ci.0, -0.047382550272708546);
    close(c.ci.1, -0.01678196874970448);
    close(c.statistic, -4.108412152434346);
    close(c.p_value, 3.983886837585077e-05);
    close(
        contrast(&plan, "primary_exact", None).p_value,
        4.758747107909523e-05,
    );
    let s = contrast(&plan, "by_sex", Some(("female", "0")));
    close(s.difference, -0.03040785618119901);
    close(s.ci.0, -0.06135179299056298);
    close(s.ci.1, 0.0003429117652545867);
    close(s.p_value, 0.05134216992873251);
    let s = contrast(&plan, "by_city", Some(("city", "boston")));
    close(s.difference, -0.03878116343490305);
    close(s.p_value, 0.0022892376069696347);
}
