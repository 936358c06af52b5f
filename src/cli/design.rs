//! The design commands: `size`, `mde`, `sweep`, `explain`, `feasibility` and `report`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use super::common::{DEFAULT_SEED, Format};
use crate::design::assurance::{parse_assume, run_assurance};
use crate::design::explain::explain;
use crate::design::feasibility::feasibility;
use crate::design::mde::{MdeQuestion, mde_for_model};
use crate::design::size::{SizeQuestion, size_for_model};
use crate::design::sweep::{Axis, parse_vary, run_sweep};
use crate::design::{DesignError, analysis_index};
use crate::model::{TrialModel, UncertainParameter};
use crate::report::design as render;

/// Flags every design command shares.
#[derive(Debug, Args)]
pub struct Common {
    /// The trial spec (.trial).
    pub file: PathBuf,
    /// The analysis to design for (default: the first, primary one).
    #[arg(long, value_name = "NAME")]
    pub analysis: Option<String>,
    /// Master seed; every point and step uses it (common random numbers).
    #[arg(long, value_name = "S", default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
    /// No progress on stderr (it is shown only on a terminal anyway).
    #[arg(long)]
    pub quiet: bool,
}

/// Flags of `trialsim size`.
#[derive(Debug, Args)]
pub struct SizeArgs {
    #[command(flatten)]
    common: Common,
    /// The power to reach, as a fraction or a percentage (0.8 or 80%).
    #[arg(long = "target-power", value_name = "P", default_value = "0.8")]
    target_power: String,
    /// Allocation ratio, one whole weight per arm in declaration order (2:1 puts twice as many
    /// in the first arm); the answer counts participants per weight unit.
    #[arg(long, value_name = "A:B", default_value = "1:1")]
    ratio: String,
    /// Replicates of each confirming evaluation (bracketing and bisection use a tenth).
    #[arg(long, value_name = "R", default_value_t = 20_000)]
    reps: u64,
    /// Largest n per arm searched, in participants (a cluster design searches whole clusters up
    /// to it).
    #[arg(long = "max-n", value_name = "N", default_value_t = crate::design::size::DEFAULT_MAX_N)]
    max_n: u32,
    /// With an inflow: let the analysis date move with the intake (to the last intake plus the
    /// follow-up) instead of keeping the spec's date, and report the analysis month needed.
    #[arg(long = "move-analysis")]
    move_analysis: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    shard: super::shard::NoShard,
}

/// Flags of `trialsim mde`.
#[derive(Debug, Args)]
pub struct MdeArgs {
    #[command(flatten)]
    common: Common,
    /// The parameter to vary, a path as `trialsim sweep FILE --list` shows it (e.g.
    /// arm.coaching.work): a rate, share or mean of the treatment or control arm.
    #[arg(long, value_name = "PATH")]
    vary: String,
    /// The power to reach, as a fraction or a percentage (0.8 or 80%).
    #[arg(long = "target-power", value_name = "P", default_value = "0.8")]
    target_power: String,
    /// Replicates of each confirming evaluation (bracketing and bisection use a tenth).
    #[arg(long, value_name = "R", default_value_t = 20_000)]
    reps: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    shard: super::shard::NoShard,
}

/// Flags of `trialsim sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub(super) common: Common,
    /// A parameter and its values: PATH=FROM..TO[:STEP] (11 points without a step), PATH=A,B,C
    /// or PATH=V; probabilities may be percentages (20%..35%:5%). Repeat for a grid.
    #[arg(long, value_name = "PATH=RANGE")]
    vary: Vec<String>,
    /// List every parameter path with its value in the spec, and stop.
    #[arg(long)]
    list: bool,
    /// Replicates per point.
    #[arg(long, value_name = "R", default_value_t = 10_000)]
    reps: u64,
    /// Also write sweep.csv, sweep.json and sweep.svg (power curve) into this directory.
    #[arg(long, value_name = "DIR")]
    pub(super) out: Option<PathBuf>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    pub(super) shard: super::shard::ShardArgs,
}

/// Flags of `trialsim explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub(super) common: Common,
    /// Replicates per step for the power at each step.
    #[arg(long, value_name = "R", default_value_t = 10_000)]
    reps: u64,
    /// Participants per arm at which power is computed (default: the spec's sample).
    #[arg(long = "n-per-arm", value_name = "N")]
    n_per_arm: Option<u32>,
    /// Also write waterfall.svg and waterfall.json into this directory.
    #[arg(long, value_name = "DIR")]
    pub(super) out: Option<PathBuf>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    pub(super) shard: super::shard::ShardArgs,
}

/// Flags of `trialsim feasibility`.
#[derive(Debug, Args)]
pub struct FeasibilityArgs {
    /// The trial spec (.trial).
    file: PathBuf,
    /// Participants required per arm (default: the spec's sample).
    #[arg(long = "n-per-arm", value_name = "N")]
    n_per_arm: Option<u32>,
    /// The analysis whose treatment arm takes the caseload (default: the arm the spec's
    /// `capacity ..., for ARM` names, else the first analysis' treatment arm).
    #[arg(long, value_name = "NAME")]
    analysis: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Flags of `trialsim report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    common: Common,
    /// Directory for design-report.md and its SVG figures (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Replicates per simulated figure (size confirmation, curve points, waterfall steps,
    /// assurance).
    #[arg(long, value_name = "R", default_value_t = 10_000)]
    reps: u64,
    /// The power to size the trial for (fraction or percentage).
    #[arg(long = "target-power", value_name = "P", default_value = "0.8")]
    target_power: String,
    /// A belief about a parameter for assurance, added to the spec's own `assume` statements:
    /// PATH~uniform(LOW,HIGH), PATH~normal(MEAN,SD) or PATH~fixed(V). Repeatable.
    #[arg(long, value_name = "PATH~DIST")]
    assume: Vec<String>,
    #[command(flatten)]
    shard: super::shard::NoShard,
}

use super::output::emit;

fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(super::EXIT_USAGE)
}

fn design_error(e: DesignError) -> ExitCode {
    let code = if e.no_answer {
        super::EXIT_SPEC_ERROR
    } else {
        super::EXIT_USAGE
    };
    eprintln!("{:?}", miette::Report::new(e));
    ExitCode::from(code)
}

fn load(path: &Path) -> Result<TrialModel, ExitCode> {
    match super::load_model(path) {
        Ok(checked) => {
            super::print_warnings(&checked);
            Ok(checked.model)
        }
        Err(report) => {
            eprintln!("{report:?}");
            Err(ExitCode::from(super::EXIT_SPEC_ERROR))
        }
    }
}

fn check_reps(reps: u64) -> Result<(), ExitCode> {
    super::common::check_reps(reps, 1)
}

fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool, ExitCode> {
    super::common::thread_pool(threads)
}

/// Ctrl-C stops the design run after its current batch of replicates (see
/// [`crate::design::stop_on`]).
fn stop_on_interrupt() {
    crate::design::stop_on(super::interrupt::flag());
}

/// The exit for a design run stopped by Ctrl-C: what it had on stdout (for a search, the
/// evaluations so far in the error's help), a line on stderr, exit 130 (143 for SIGTERM).
fn interrupted(e: &DesignError, what: &str) -> ExitCode {
    if let Some(partial) = &e.help
        && e.message == "interrupted"
    {
        emit(partial);
    }
    eprintln!("interrupted: {what}");
    ExitCode::from(super::interrupt::exit_code())
}

/// Parses a probability given as a fraction (0.8) or percentage (80%).
pub fn parse_probability(text: &str) -> Option<f64> {
    let t = text.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().ok()? / 100.0,
        None => t.parse::<f64>().ok()?,
    };
    (v > 0.0 && v < 1.0).then_some(v)
}

fn parse_ratio(text: &str, arms: usize) -> Option<Vec<u32>> {
    let weights: Vec<u32> = text
        .split(':')
        .map(|w| w.trim().parse::<u32>().ok().filter(|&w| w > 0 && w <= 1000))
        .collect::<Option<_>>()?;
    (weights.len() == arms).then_some(weights)
}

/// Writes `contents` to `dir/name` atomically (a temporary file renamed into place).
fn write_file(dir: &Path, name: &str, contents: &str) -> Result<(), ExitCode> {
    super::output::write_text(&dir.join(name), contents).map_err(|e| e.report())
}

/// Checks an output directory before any work (`..` resolved without creating anything; no
/// file written over an input) and returns it resolved; [`make_dir`] creates it.
fn out_dir(dir: &Path, names: &[&str], inputs: &[&Path]) -> Result<PathBuf, ExitCode> {
    super::output::check_dir("--out", dir, names, inputs).map_err(|e| e.report())
}

fn make_dir(dir: &Path, shown: &Path) -> Result<(), ExitCode> {
    super::output::make_dir(dir, shown).map_err(|e| e.report())
}

/// Files `sweep --out` writes.
const SWEEP_FILES: &[&str] = &["sweep.csv", "sweep.json", "sweep.svg"];
/// Files `explain --out` writes.
const EXPLAIN_FILES: &[&str] = &["waterfall.svg", "waterfall.json"];
/// Files `report --out` writes.
const REPORT_FILES: &[&str] = &[
    "design-report.md",
    "power-curve.svg",
    "waterfall.svg",
    "design-report.json",
];

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(code) => return code,
        }
    };
}

/// Runs `trialsim size`.
pub fn run_size(args: SizeArgs) -> ExitCode {
    if let Some(code) = args.shard.refuse("size") {
        return code;
    }
    tri!(check_reps(args.reps));
    let Some(target) = parse_probability(&args.target_power) else {
        return usage(format!(
            "--target-power must be a fraction or percentage between 0 and 1 (0.8 or 80%), not `{}`",
            args.target_power
        ));
    };
    let model = tri!(load(&args.common.file));
    let Some(ratio) = parse_ratio(&args.ratio, model.arms.len()) else {
        return usage(format!(
            "--ratio `{}` must give one whole weight (1 to 1000) per arm, {} in all, e.g. {}",
            args.ratio,
            model.arms.len(),
            vec!["1"; model.arms.len()].join(":")
        ));
    };
    let analysis = match analysis_index(&model, args.common.analysis.as_deref()) {
        Ok(a) => a,
        Err(e) => return design_error(e),
    };
    if args.move_analysis && model.delivery.inflow.is_none() {
        return usage(
            "--move-analysis moves the analysis date of an inflow, and this spec has no `inflow`",
        );
    }
    let pool = tri!(pool(args.common.threads));
    let question = SizeQuestion {
        analysis,
        target,
        ratio,
        seed: args.common.seed,
        replicates: args.reps,
        max_n: args.max_n.max(2),
        move_analysis: args.move_analysis,
    };
    stop_on_interrupt();
    let spinner = spinner(args.common.quiet, "searching for the sample size");
    let result = pool.install(|| size_for_model(&model, &question));
    spinner.finish_and_clear();
    let report = match result {
        Ok(r) => r,
        Err(e) if crate::design::stopped() => {
            return interrupted(&e, "sample-size search stopped; no answer");
        }
        Err(e) => return design_error(e),
    };
    emit(&match args.format {
        Format::Text => render::size_text(&report),
        Format::Json => render::json(&report),
    });
    ExitCode::SUCCESS
}

/// A spinner while a search runs, showing its latest evaluation.
fn spinner(quiet: bool, message: &'static str) -> indicatif::ProgressBar {
    let bar = super::common::spinner(quiet, message);
    let shown = bar.clone();
    crate::design::report_progress(Box::new(move |line| {
        shown.set_message(format!("{message}: {line}"));
    }));
    bar
}

/// Runs `trialsim mde`.
pub fn run_mde(args: MdeArgs) -> ExitCode {
    if let Some(code) = args.shard.refuse("mde") {
        return code;
    }
    tri!(check_reps(args.reps));
    let Some(target) = parse_probability(&args.target_power) else {
        return usage(format!(
            "--target-power must be a fraction or percentage between 0 and 1 (0.8 or 80%), not `{}`",
            args.target_power
        ));
    };
    if let Some((path, _)) = args.vary.split_once('=') {
        return usage(format!(
            "--vary takes only a path here (`--vary {}`): `mde` finds the value itself; \
             PATH=VALUES is for `trialsim sweep`",
            path.trim()
        ));
    }
    let model = tri!(load(&args.common.file));
    let analysis = match analysis_index(&model, args.common.analysis.as_deref()) {
        Ok(a) => a,
        Err(e) => return design_error(e),
    };
    let pool = tri!(pool(args.common.threads));
    let question = MdeQuestion {
        analysis,
        path: args.vary.trim().to_string(),
        target,
        seed: args.common.seed,
        replicates: args.reps,
    };
    stop_on_interrupt();
    let spinner = spinner(
        args.common.quiet,
        "searching for the minimum detectable effect",
    );
    let result = pool.install(|| mde_for_model(&model, &question));
    spinner.finish_and_clear();
    let report = match result {
        Ok(r) => r,
        Err(e) if crate::design::stopped() => {
            return interrupted(&e, "search stopped; no answer");
        }
        Err(e) => return design_error(e),
    };
    emit(&match args.format {
        Format::Text => render::mde_text(&report),
        Format::Json => render::json(&report),
    });
    ExitCode::SUCCESS
}

/// Prints every parameter path with its value.
fn list_parameters(model: &TrialModel) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    for p in crate::params::list(model) {
        let value = match p.kind {
            _ if p.value.is_nan() => "(not fixed by the spec)".to_string(),
            kind if kind.is_percent() => crate::design::pct(p.value),
            _ => format!("{}", p.value),
        };
        let _ = writeln!(s, "{:<44} {value}", p.path);
    }
    s
}

/// Runs `trialsim sweep`.
pub fn run_sweep_command(args: SweepArgs) -> ExitCode {
    tri!(check_reps(args.reps));
    let out = match &args.out {
        Some(o) => Some(tri!(out_dir(o, SWEEP_FILES, &[&args.common.file]))),
        None => None,
    };
    let model = tri!(load(&args.common.file));
    if args.list {
        emit(&list_parameters(&model));
        // Values the spec states without effect are not offered; say why on stderr, so that the
        // list itself stays one parameter per line.
        for e in crate::params::overridden(&model) {
            eprintln!("note: not listed: {e}");
        }
        return ExitCode::SUCCESS;
    }
    if args.vary.is_empty() {
        return usage(
            "give at least one --vary PATH=FROM..TO[:STEP] (or --list to see the parameters)",
        );
    }
    let mut axes: Vec<Axis> = Vec::new();
    for v in &args.vary {
        match parse_vary(&model, v) {
            Ok(a) => {
                if axes.iter().any(|b| b.path == a.path) {
                    return usage(format!("`{}` is varied twice", a.path));
                }
                axes.push(a);
            }
            Err(e) => {
                eprintln!("{:?}", miette::Report::new(*e));
                return ExitCode::from(super::EXIT_USAGE);
            }
        }
    }
    let analysis = match analysis_index(&model, args.common.analysis.as_deref()) {
        Ok(a) => a,
        Err(e) => return design_error(e),
    };
    let pool = tri!(pool(args.common.threads));
    stop_on_interrupt();
    let total: usize = axes.iter().map(|a| a.values.len()).product();
    let bar = super::common::progress_bar(args.common.quiet, total as u64, "sweeping: point");
    let result = pool.install(|| {
        run_sweep(
            &model,
            analysis,
            &axes,
            args.common.seed,
            args.reps,
            &|done, _| bar.set_position(done as u64),
        )
    });
    bar.finish_and_clear();
    let report = match result {
        Ok(r) => r,
        Err(e) => return design_error(e),
    };
    if crate::design::stopped() {
        // The points done so far, labelled; no files.
        emit(&format!(
            "interrupted: {} of {total} points done; the table below has only those\n",
            report.points.len()
        ));
        emit(&match args.format {
            Format::Text => render::sweep_text(&report),
            Format::Json => render::json(&report),
        });
        eprintln!(
            "interrupted: sweep stopped after {} of {total} points; no files written",
            report.points.len()
        );
        return ExitCode::from(super::interrupt::exit_code());
    }
    emit(&match args.format {
        Format::Text => render::sweep_text(&report),
        Format::Json => render::json(&report),
    });
    if let (Some(out), Some(dir)) = (&args.out, &out) {
        tri!(make_dir(dir, out));
        let dir = dir.as_path();
        tri!(write_file(dir, "sweep.csv", &render::sweep_csv(&report)));
        tri!(write_file(dir, "sweep.json", &render::json(&report)));
        tri!(write_file(dir, "sweep.svg", &render::sweep_svg(&report)));
    }
    ExitCode::SUCCESS
}

/// Runs `trialsim explain`.
pub fn run_explain(args: ExplainArgs) -> ExitCode {
    tri!(check_reps(args.reps));
    if args.n_per_arm == Some(0) {
        return usage("--n-per-arm must be at least 1");
    }
    let out = match &args.out {
        Some(o) => Some(tri!(out_dir(o, EXPLAIN_FILES, &[&args.common.file]))),
        None => None,
    };
    let model = tri!(load(&args.common.file));
    let model = match args.n_per_arm {
        Some(n) => crate::design::with_sizes(&model, n, &[]),
        None => model,
    };
    let analysis = match analysis_index(&model, args.common.analysis.as_deref()) {
        Ok(a) => a,
        Err(e) => return design_error(e),
    };
    let pool = tri!(pool(args.common.threads));
    stop_on_interrupt();
    let spinner = spinner(args.common.quiet, "simulating the waterfall");
    let result = pool.install(|| explain(&model, analysis, args.common.seed, args.reps));
    spinner.finish_and_clear();
    let w = match result {
        Ok(w) => w,
        Err(e) if crate::design::stopped() => {
            return interrupted(&e, "explain stopped; nothing printed or written");
        }
        Err(e) => return design_error(e),
    };
    let f = feasibility(&model, None, model.capacity_arm());
    match args.format {
        Format::Text => {
            emit(&render::waterfall_text(&w));
            emit("\n");
            emit(&render::feasibility_text(&f));
        }
        Format::Json => emit(&render::json(
            &serde_json::json!({ "waterfall": w, "feasibility": f }),
        )),
    }
    if let (Some(out), Some(dir)) = (&args.out, &out) {
        tri!(make_dir(dir, out));
        let dir = dir.as_path();
        tri!(write_file(dir, "waterfall.svg", &render::waterfall_svg(&w)));
        tri!(write_file(dir, "waterfall.json", &render::json(&w)));
    }
    ExitCode::SUCCESS
}

/// Runs `trialsim feasibility`.
pub fn run_feasibility(args: FeasibilityArgs) -> ExitCode {
    if args.n_per_arm == Some(0) {
        return usage("--n-per-arm must be at least 1");
    }
    let model = tri!(load(&args.file));
    let analysis = match analysis_index(&model, args.analysis.as_deref()) {
        Ok(a) => a,
        Err(e) => return design_error(e),
    };
    let required = args.n_per_arm.map(|n| vec![n; model.arms.len()]);
    // The spec's capacity arm, unless `--analysis` names the analysis whose treatment takes it.
    let arm = if args.analysis.is_some() {
        model.analyses[analysis].treatment
    } else {
        model.capacity_arm()
    };
    let f = feasibility(&model, required, arm);
    emit(&match args.format {
        Format::Text => render::feasibility_text(&f),
        Format::Json => render::json(&f),
    });
    if f.flags.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Parses `--assume` flags against `model`.
pub fn parse_assumptions(
    model: &TrialModel,
    flags: &[String],
) -> Result<Vec<UncertainParameter>, DesignError> {
    flags.iter().map(|f| parse_assume(model, f)).collect()
}

/// Runs `trialsim report`.
pub fn run_report(args: ReportArgs) -> ExitCode {
    if let Some(code) = args.shard.refuse("report") {
        return code;
    }
    tri!(check_reps(args.reps));
    let Some(target) = parse_probability(&args.target_power) else {
        return usage(format!(
            "--target-power must be a fraction or percentage between 0 and 1, not `{}`",
            args.target_power
        ));
    };
    let source = match crate::source::SourceFile::read(&args.common.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{:?}", miette::Report::new(e));
            return ExitCode::from(super::EXIT_SPEC_ERROR);
        }
    };
    let dir = tri!(out_dir(&args.out, REPORT_FILES, &[&args.common.file]));
    let model = tri!(load(&args.common.file));
    let analysis = match analysis_index(&model, args.common.analysis.as_deref()) {
        Ok(a) => a,
        Err(e) => return design_error(e),
    };
    let mut uncertain = model.uncertain.clone();
    match parse_assumptions(&model, &args.assume) {
        Ok(u) => uncertain.extend(u),
        Err(e) => return design_error(e),
    }
    let pool = tri!(pool(args.common.threads));
    let inputs = crate::design::report::ReportSettings {
        analysis,
        seed: args.common.seed,
        replicates: args.reps,
        target,
        uncertain,
    };
    stop_on_interrupt();
    let spinner = spinner(args.common.quiet, "simulating the report's figures");
    let result = pool.install(|| crate::design::report::build(&model, &inputs));
    spinner.finish_and_clear();
    let mut built = match result {
        Ok(b) => b,
        Err(e) if crate::design::stopped() => {
            return interrupted(&e, "report stopped; no files written");
        }
        Err(e) => return design_error(e),
    };
    // The report names its spec by the sha256 of the file's exact bytes, as registered.
    let bytes = match std::fs::read(&args.common.file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", args.common.file.display());
            return ExitCode::from(super::EXIT_SPEC_ERROR);
        }
    };
    built.spec = crate::design::report::SpecRecord {
        file: crate::fingerprint::name_relative_to_spec(&args.common.file, &args.common.file),
        sha256: crate::fingerprint::sha256_hex(&bytes),
        trialsim_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    tri!(make_dir(&dir, &args.out));
    let markdown = render::design_markdown(&model, &source.text, &built);
    tri!(write_file(&dir, "design-report.md", &markdown));
    tri!(write_file(
        &dir,
        "power-curve.svg",
        &render::sweep_svg(&built.curve)
    ));
    if let Some(w) = &built.waterfall {
        tri!(write_file(&dir, "waterfall.svg", &render::waterfall_svg(w)));
    }
    tri!(write_file(
        &dir,
        "design-report.json",
        &render::json(&built)
    ));
    emit(&format!(
        "wrote {} (with power-curve.svg, {}design-report.json)\n",
        args.out.join("design-report.md").display(),
        if built.waterfall.is_some() {
            "waterfall.svg, "
        } else {
            ""
        }
    ));
    ExitCode::SUCCESS
}

/// Assurance for `trialsim power`, when the spec or `--assume` declares uncertain parameters.
pub fn assurance_for_power(
    model: &TrialModel,
    assume: &[String],
    n_per_arm: Option<u32>,
    seed: u64,
    reps: u64,
) -> Result<Option<crate::design::assurance::AssuranceReport>, ExitCode> {
    let mut uncertain = model.uncertain.clone();
    match parse_assumptions(model, assume) {
        Ok(u) => uncertain.extend(u),
        Err(e) => return Err(design_error(e)),
    }
    if uncertain.is_empty() {
        return Ok(None);
    }
    let sized = match n_per_arm {
        Some(n) => crate::design::with_sizes(model, n, &[]),
        None => model.clone(),
    };
    run_assurance(&sized, 0, &uncertain, seed, reps)
        .map(Some)
        .map_err(design_error)
}
