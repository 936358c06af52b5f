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
        TestKind::ClusterT => "cluster_t",
    }
}

/// What the test is, in a sentence's words (the design report explains each keyword once).
pub fn test_explained(t: TestKind) -> &'static str {
    match t {
        TestKind::PooledZ => "two-proportion z test with pooled variance",
        TestKind::UnpooledZ => "two-proportion z test with unpooled variance",
        TestKind::FisherExact => "Fisher's exact test",
        TestKind::WelchT => "Welch's t test",
        TestKind::ClusterT => "Student's t test on cluster means",
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
    format!(
        "{}, {}, alpha {alpha}, correction {}",
        test(t),
        sides(s),
        correction(c)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON (serde) names are the words here, so text and JSON cannot drift apart.
    #[test]
    fn serde_names_are_the_vocabulary() {
        let name = |v: serde_json::Value| v.as_str().map(str::to_owned);
        for t in [
            TestKind::PooledZ,
            TestKind::UnpooledZ,
            TestKind::FisherExact,
            TestKind::WelchT,
            TestKind::ClusterT,
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
