//! Parameter paths on a real spec: shares that differ by level follow the path's share, the
//! rest path follows at every level, and a refused change leaves the model untouched.

use trialsim::params;

fn observed() -> trialsim::model::TrialModel {
    trialsim::cli::load_model("specs/almere-45plus-observed.trial")
        .expect("the observed spec checks")
        .model
}

#[test]
fn a_zero_share_removes_the_path_at_every_level() {
    let mut model = observed();
    params::set(&mut model, "arm.experiment.team_zorg.share", 0.0).expect("settable");
    let arm = &model.arms[0];
    let zorg = arm
        .paths
        .iter()
        .find(|p| p.name == "team_zorg")
        .expect("path");
    let guided = arm.paths.iter().find(|p| p.rest).expect("rest path");
    assert_eq!(zorg.share, 0.0);
    for level in zorg
        .share_by
        .iter()
        .flat_map(|b| b.probabilities.iter().flatten())
    {
        assert_eq!(*level, 0.0);
    }
    assert_eq!(guided.share, 1.0);
    for level in guided
        .share_by
        .iter()
        .flat_map(|b| b.probabilities.iter().flatten())
    {
        assert!((level - 1.0).abs() < 1e-12, "rest share by level {level}");
    }
}

#[test]
fn level_shares_keep_their_proportion_to_the_path_share() {
    let mut model = observed();
    let before = model.arms[0]
        .paths
        .iter()
        .find(|p| p.name == "team_zorg")
        .expect("path")
        .clone();
    let by = before
        .share_by
        .clone()
        .expect("the observed spec varies Team Zorg by background");
    params::set(
        &mut model,
        "arm.experiment.team_zorg.share",
        before.share / 2.0,
    )
    .expect("settable");
    let after = model.arms[0]
        .paths
        .iter()
        .find(|p| p.name == "team_zorg")
        .expect("path");
    let after_by = after.share_by.as_ref().expect("still by level");
    for (old, new) in by.probabilities.iter().zip(&after_by.probabilities) {
        match (old, new) {
            (Some(old), Some(new)) => assert!((new - old / 2.0).abs() < 1e-12),
            (None, None) => {}
            other => panic!("level changed kind: {other:?}"),
        }
    }
}

#[test]
fn a_refused_change_leaves_the_model_as_it_was() {
    let mut model = observed();
    let before = model.clone();
    assert!(params::set(&mut model, "arm.experiment.team_zorg.share", 0.99).is_err());
    assert_eq!(model, before);
    let err = params::set(&mut model, "arm.experiment.team_zorg.shar", 0.2).expect_err("unknown");
    assert!(
        err.to_string()
            .contains("did you mean `arm.experiment.team_zorg.share`"),
        "{err}"
    );
}
