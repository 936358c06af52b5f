//! One vocabulary for every output: the words the text, the Markdown, the JSON and the docs use
//! for a test, a sidedness, a multiplicity correction and a Monte Carlo error. A thing is called
//! what the spec calls it (`fisher`, `one_sided greater`, `holm`): the JSON writes the spec's
//! keyword, the text the same keyword or a reading of it (`one-sided (greater)`), so a reader can
//! go from any output back to the spec line that caused it.

use crate::model::{Correction, TestKind};
use crate::stats::Sides;

/// What every output calls the Monte Carlo standard error.
pub const MC_SE: &str = "MC SE";

/// The test as the spec names it (and as the JSON writes it): `pooled_z`, `unpooled_z`,
/// `fisher`, `welch_t`, `cluster_t`.
pub fn test(t: TestKind) -> &'static str {
    match t {
        TestKind::PooledZ => "pooled_z",
        TestKind::UnpooledZ => "unpooled_z",
        TestKind::FisherExact => "fisher",
        TestKind::WelchT => "welch_t",
        TestKind::StudentT => "student_t",
        TestKind::ClusterT => "cluster_t",
        TestKind::RobustT => "robust_t",
        TestKind::Cr2 => "cr2",
        TestKind::Randomisation => "randomisation",
    }
}

/// What the test is, in a sentence's words (the design report explains each keyword once).
pub fn test_explained(t: TestKind) -> &'static str {
    match t {
        TestKind::PooledZ => "two-proportion z test with pooled variance",
        TestKind::UnpooledZ => "two-proportion z test with unpooled variance",
        TestKind::FisherExact => "Fisher's exact test",
        TestKind::WelchT => "Welch's t test",
        TestKind::StudentT => "Student's t test (pooled variance)",
        TestKind::ClusterT => "Student's t test on cluster means",
        TestKind::RobustT => "t test of the regression coefficient with HC2 robust standard errors",
        TestKind::Cr2 => {
            "t test of the regression coefficient with CR2 cluster-robust standard errors \
             (Bell–McCaffrey degrees of freedom)"
        }
        TestKind::Randomisation => "the randomisation test of the difference in means",
    }
}

/// The alternative as the JSON writes it: `greater`, `less`, `two_sided`.
pub fn sides_keyword(s: Sides) -> &'static str {
    match s {
        Sides::Greater => "greater",
        Sides::Less => "less",
        Sides::TwoSided => "two_sided",
    }
}

/// The alternative in the text: `one-sided (greater)`, `one-sided (less)`, `two-sided` (the
/// spec's `one_sided greater` read aloud; "greater" is the treatment arm's mean over the
/// control's).
pub fn sides(s: Sides) -> &'static str {
    match s {
        Sides::Greater => "one-sided (greater)",
        Sides::Less => "one-sided (less)",
        Sides::TwoSided => "two-sided",
    }
}

/// The multiplicity correction as the spec names it: `none`, `holm`, `bonferroni`.
pub fn correction(c: Correction) -> &'static str {
    match c {
        Correction::None => "none",
        Correction::Holm => "holm",
        Correction::Bonferroni => "bonferroni",
    }
}

/// The header every output gives an analysis: `pooled_z, one-sided (greater), alpha 5.0%,
/// correction holm`. `alpha` is already formatted by the caller's own rule for percentages.
pub fn analysis_header(t: TestKind, s: Sides, alpha: &str, c: Correction) -> String {
    analysis_header_adjusted(t, "", s, alpha, c)
}

/// [`analysis_header`] with `adjusted` (", adjusted for age, educ (Lin)", or empty) after the
/// test, where a regression test states its covariates.
pub fn analysis_header_adjusted(
    t: TestKind,
    adjusted: &str,
    s: Sides,
    alpha: &str,
    c: Correction,
) -> String {
    format!(
        "{}{adjusted}, {}, alpha {alpha}, correction {}",
        test(t),
        sides(s),
        correction(c)
    )
}

/// A name from the spec (`team_zorg`) as words (`Team Zorg`): underscores become spaces and each
/// word starts with a capital.
fn title_case(name: &str) -> String {
    name.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A name from the spec in running text (`non_work_exit` → `non work exit`).
fn plain(name: &str) -> String {
    name.replace('_', " ")
}

/// A parameter path (`arm.experiment.team_zorg.share`, `n_per_arm`; see docs/language.md,
/// "Parameter paths") in the reader's words, for axis labels and legends: "share of experiment
/// referred to Team Zorg", "participants per arm". A path this table does not know is shown with
/// its dots and underscores as spaces.
pub fn parameter(path: &str) -> String {
    let parts: Vec<&str> = path.split('.').collect();
    let flows = |flow: &str| -> Option<&'static str> {
        Some(match flow {
            "baseline" => "employed at intake",
            "dropout" => "dropout",
            "exemption" => "exemption",
            "non_work_exit" => "non-work exit",
            "crossover" => "crossover",
            "lost_to_follow_up" => "lost to follow-up",
            _ => return None,
        })
    };
    match parts.as_slice() {
        ["n_per_arm"] => "participants per arm".into(),
        ["sample", arm] => format!("participants in {}", plain(arm)),
        ["population", "pool"] => "eligible pool".into(),
        ["eligibility", "screening"] => "loss at screening".into(),
        ["employment", "job_loss"] => "monthly chance a job ends".into(),
        ["arm", arm, path, "share"] => {
            format!("share of {} referred to {}", plain(arm), title_case(path))
        }
        ["arm", arm, path, "share", level] => format!(
            "share of {} referred to {} ({})",
            plain(arm),
            title_case(path),
            plain(level)
        ),
        ["arm", arm, "work"] => format!("work rate in {}", plain(arm)),
        ["arm", arm, path, "work"] if flows(path).is_none() => {
            format!("work rate of {} in {}", title_case(path), plain(arm))
        }
        ["arm", arm, path, "work", level] => format!(
            "work rate of {} in {} ({})",
            title_case(path),
            plain(arm),
            plain(level)
        ),
        ["arm", arm, path, "delay"] => {
            format!(
                "delay before {} work in {} (months)",
                title_case(path),
                plain(arm)
            )
        }
        ["arm", arm, "exits", dest] => format!("exits to {} in {}", plain(dest), plain(arm)),
        ["arm", arm, flow] if flows(flow).is_some() => {
            format!("{} in {}", flows(flow).unwrap_or_default(), plain(arm))
        }
        ["arm", arm, "lost_to_follow_up", "month"] => {
            format!("month of loss to follow-up in {}", plain(arm))
        }
        ["arm", arm, "lost_to_follow_up", "factor"] => {
            format!("hazard ratio of loss to follow-up in {}", plain(arm))
        }
        ["arm", arm, "lost_to_follow_up", level] => {
            format!("lost to follow-up in {} ({})", plain(arm), plain(level))
        }
        ["arm", arm, outcome, "mean"] => format!("mean {} in {}", plain(outcome), plain(arm)),
        ["arm", arm, outcome, "sd"] => format!("sd of {} in {}", plain(outcome), plain(arm)),
        ["arm", arm, outcome] => format!("{} in {}", plain(outcome), plain(arm)),
        ["capacity", "staff"] => "case managers".into(),
        ["capacity", "caseload"] => "caseload per case manager".into(),
        ["capacity", "intakes_per_month"] => "intakes per month".into(),
        ["capacity", "guidance"] => "longest guidance (months)".into(),
        ["clusters", "icc"] => "intra-cluster correlation".into(),
        ["clusters", "size"] => "participants per cluster".into(),
        ["clusters", "per_arm"] => "clusters per arm".into(),
        ["inflow", "period", k] => format!("intakes in period {k}"),
        ["inflow", "analysis_month"] => "analysis month".into(),
        ["outcome", name, "month"] => format!("month {} is read", plain(name)),
        ["analysis", name, "alpha"] => format!("alpha of {}", plain(name)),
        ["costs", "fixed"] => "fixed cost (euro)".into(),
        ["costs", "per_participant"] => "cost per participant (euro)".into(),
        ["costs", "saving_per_benefit_year"] => "saving per benefit year (euro)".into(),
        ["costs", "years_per_exit"] => "benefit years per exit".into(),
        _ => plain(&path.replace('.', " ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_read_as_words() {
        assert_eq!(
            parameter("arm.experiment.team_zorg.share"),
            "share of experiment referred to Team Zorg"
        );
        assert_eq!(parameter("n_per_arm"), "participants per arm");
        assert_eq!(parameter("arm.control.work"), "work rate in control");
        assert_eq!(
            parameter("arm.experiment.guided.work"),
            "work rate of Guided in experiment"
        );
        assert_eq!(parameter("arm.control.crossover"), "crossover in control");
        assert_eq!(parameter("arm.treatment.employed"), "employed in treatment");
        assert_eq!(parameter("clusters.icc"), "intra-cluster correlation");
        assert_eq!(parameter("something.new_here"), "something new here");
    }

    /// The JSON (serde) names are the words here, so text and JSON cannot drift apart.
    #[test]
    fn serde_names_are_the_vocabulary() {
        let name = |v: serde_json::Value| v.as_str().map(str::to_owned);
        for t in [
            TestKind::PooledZ,
            TestKind::UnpooledZ,
            TestKind::FisherExact,
            TestKind::WelchT,
            TestKind::StudentT,
            TestKind::ClusterT,
            TestKind::RobustT,
            TestKind::Cr2,
            TestKind::Randomisation,
        ] {
            assert_eq!(name(serde_json::json!(t)).as_deref(), Some(test(t)));
        }
        for s in [Sides::Greater, Sides::Less, Sides::TwoSided] {
            assert_eq!(
                name(serde_json::json!(s)).as_deref(),
                Some(sides_keyword(s))
            );
        }
        for c in [Correction::None, Correction::Holm, Correction::Bonferroni] {
            assert_eq!(name(serde_json::json!(c)).as_deref(), Some(correction(c)));
        }
    }
}
