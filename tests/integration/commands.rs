//! The command line as one tool: the full `--help` of every command (snapshotted, so a changed
//! flag or word is reviewed), and `trialsim new`, whose every template writes a spec that checks
//! and simulates.

use crate::common::{run, trialsim};

/// The subcommands `trialsim --help` lists, in its order.
fn subcommands() -> Vec<String> {
    let out = run(trialsim().arg("--help"));
    assert_eq!(out.status, Some(0), "{out}");
    out.stdout
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn help_of_every_command() {
    let top = run(trialsim().arg("--help"));
    insta::assert_snapshot!("help", top.to_string());
    let commands = subcommands();
    assert!(commands.len() >= 12, "{commands:?}");
    for command in commands {
        let out = run(trialsim().args([command.as_str(), "--help"]));
        assert_eq!(out.status, Some(0), "{out}");
        insta::assert_snapshot!(format!("help_{command}"), out.to_string());
    }
}

#[test]
fn every_template_writes_a_spec_that_checks_and_simulates() {
    let dir = std::env::temp_dir().join(format!("trialsim-new-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for template in ["two-arm", "almere", "cluster", "inflow"] {
        let name = format!("my-{template}");
        let out = run(trialsim()
            .current_dir(&dir)
            .args(["new", &name, "--template", template]));
        assert_eq!(out.status, Some(0), "{out}");
        let file = format!("{name}.trial");
        assert!(out.stdout.contains(&format!("wrote {file}")), "{out}");
        let check = run(trialsim().current_dir(&dir).args(["check", &file]));
        assert_eq!(check.status, Some(0), "{check}");
        assert!(check.stderr.is_empty(), "{template}: {check}");
        let power = run(trialsim()
            .current_dir(&dir)
            .args(["power", &file, "--reps", "200"]));
        assert!(power.status == Some(0), "{template}: {power}");
        assert!(power.stdout.contains("power, simulated"), "{power}");
    }
    // An existing file is not overwritten without --force.
    let again = run(trialsim().current_dir(&dir).args(["new", "my-two-arm"]));
    assert_eq!(again.status, Some(1), "{again}");
    assert!(again.stderr.contains("--force"), "{again}");
    let forced = run(trialsim().current_dir(&dir).args([
        "new",
        "my-two-arm",
        "--template",
        "cluster",
        "--force",
    ]));
    assert_eq!(forced.status, Some(0), "{forced}");
    let text = std::fs::read_to_string(dir.join("my-two-arm.trial")).expect("written");
    assert!(text.contains("cluster_t"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
