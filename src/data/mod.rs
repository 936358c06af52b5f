//! Real participant data: a CSV file, streamed into a [`ParticipantTable`] according to the
//! spec's [`DataMapping`], with a precise diagnostic for every kind of bad data.
//!
//! What the loader accepts:
//! - **Delimiter**: `,` or `;` (or tab), as declared in the mapping or else detected from the
//!   header line (the most frequent of the three outside quotes; `,` on a tie).
//! - **Decimal separator**: declared in the mapping, or else detected: a `;`-delimited file uses
//!   decimal commas (Dutch and German spreadsheet exports), any other file decimal points. A number
//!   with the other separator is rejected, never guessed: `12.500` in a decimal-comma file could
//!   mean twelve thousand five hundred.
//! - Quoted fields, a UTF-8 byte-order mark, LF or CRLF line ends, blank lines (skipped).
//! - **Missing values**: an empty field, `NA` or `.`.
//! - **Binary outcomes**: `0`/`1` (also `0.0`, `1,0`) and `true`/`false` (any case). Anything
//!   else — `2`, `yes` — is an error: a coding we would have to guess is not accepted.
//! - **IDs**: whole numbers; a repeated ID is always an error, with both lines shown.
//!
//! Rows are never dropped silently. A row with a missing ID or arm, an unknown arm, path or
//! level, or an unreadable value is *excluded*; a missing outcome value (or hours month that
//! leaves a measure undecided) keeps the participant but leaves that outcome missing. Both are
//! counted by reason in [`Loaded`], and both fail the load unless the mapping allows exclusions
//! — except missing outcomes in a spec that expects them (an arm `lost_to_follow_up`, or an
//! analysis that states `missing complete_cases`): they are kept as missing, like the outcomes
//! the engine loses to follow-up, analysed by complete cases and counted per arm in the report.
//! A missing covariate value is counted but always allowed.
//!
//! Memory: the loader holds the header, one record and the table's columns (plus one entry per
//! ID for the duplicate check); never the file.

// Errors are the cold path and carry the offending line; their size does not matter.
#![allow(clippy::result_large_err)]

pub mod error;
pub mod export;
pub mod measures;

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use csv::ByteRecord;

pub use error::{DataError, DataErrorKind, LineSource, did_you_mean};

use crate::model::{DataMapping, Distribution, Flow, Measure, OutcomeId, TrialModel, VarId};
use crate::table::{CovariateColumn, MISSING_CODE, ParticipantTable, flags};

/// Most monthly hours columns the loader reads (100 years).
pub const MAX_MONTHS: u32 = 1200;

/// A loaded data file.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The participants kept, aligned with the model.
    pub table: ParticipantTable,
    /// Data rows read (the header and blank lines not counted).
    pub rows: u64,
    /// Rows excluded, by reason (e.g. "unknown arm value in column `arm`").
    pub excluded: BTreeMap<String, u64>,
    /// Missing values kept, by column or computed outcome (participants stay in the table).
    pub missing: BTreeMap<String, u64>,
    /// The delimiter used.
    pub delimiter: u8,
    /// Whether numbers were read with a decimal comma.
    pub decimal_comma: bool,
    /// Outcomes computed from monthly hours rather than read from a column.
    pub computed_outcomes: Vec<OutcomeId>,
    /// Whether month-0 hours were read (then the baseline-employment flag is set from them).
    pub baseline_hours: bool,
    /// The [`flags`] bits read from flow columns (0 when the mapping has none).
    pub flow_bits: u8,
    /// Per participant, the flow bits whose value was missing (empty when no flow column is
    /// mapped); such a participant counts in no denominator of that flow.
    pub flow_unknown: Vec<u8>,
    /// Work rates of the spec that no outcome measures, computed from the monthly hours (for the
    /// audit): each measure (worked within / employed at month m, ≥ 1 hour) with its value per
    /// participant (NaN when the hours leave it undecided).
    pub rate_measures: Vec<(Measure, Vec<f64>)>,
}

/// The [`flags`] bit that records `flow`.
pub fn flag_bit(flow: Flow) -> u8 {
    match flow {
        Flow::Dropout => flags::DROPOUT,
        Flow::Exemption => flags::EXEMPT,
        Flow::Crossover => flags::CROSSOVER,
        Flow::NonWorkExit => flags::NON_WORK_EXIT,
        Flow::Received => flags::RECEIVED,
    }
}

/// What a participant table shows beyond its columns: which of its [`flags`] were observed.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Observed<'a> {
    /// Whether the baseline-employment flags were observed (month-0 hours in the data).
    pub baseline_hours: bool,
    /// The flow bits ([`flags::DROPOUT`], ...) read from flow columns.
    pub flow_bits: u8,
    /// Per participant, the flow bits whose value was missing (may be empty: none missing).
    pub flow_unknown: &'a [u8],
    /// Work rates no outcome measures, measured from monthly hours: (measure, value per
    /// participant), as [`Loaded::rate_measures`].
    pub rate_measures: &'a [(Measure, Vec<f64>)],
}

impl Observed<'_> {
    /// Whether flow `bit` of participant `i` was observed (read and not missing).
    pub fn known(&self, i: usize, bit: u8) -> bool {
        self.flow_bits & bit != 0 && self.flow_unknown.get(i).is_none_or(|u| u & bit == 0)
    }
}

impl Loaded {
    /// What the data show beyond the table's columns, for the audit.
    pub fn observed(&self) -> Observed<'_> {
        Observed {
            baseline_hours: self.baseline_hours,
            flow_bits: self.flow_bits,
            flow_unknown: &self.flow_unknown,
            rate_measures: &self.rate_measures,
        }
    }

    /// Rows excluded in total.
    pub fn excluded_total(&self) -> u64 {
        self.excluded.values().sum()
    }
}

/// Loads the CSV at `path`; `name` is the file name shown in diagnostics (the path as typed).
pub fn load_path(
    model: &TrialModel,
    mapping: &DataMapping,
    path: &Path,
    name: &str,
) -> Result<Loaded, DataError> {
    let file = File::open(path).map_err(|e| {
        DataError::new(
            DataErrorKind::Io,
            format!("cannot read data file `{name}`: {e}"),
        )
        .with_help("check the path given to --data")
    })?;
    load(model, mapping, name, file)
}

/// Loads CSV text from any seekable source (a file, or bytes in memory). Seeking is used only to
/// show the offending line(s) in a diagnostic.
pub fn load<R: Read + Seek>(
    model: &TrialModel,
    mapping: &DataMapping,
    name: &str,
    source: R,
) -> Result<Loaded, DataError> {
    let io_err = |e: std::io::Error| {
        DataError::new(
            DataErrorKind::Io,
            format!("cannot read data file `{name}`: {e}"),
        )
    };
    let mut buffered = BufReader::with_capacity(1 << 16, source);
    let bom = {
        let head = buffered.fill_buf().map_err(io_err)?;
        if head.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        }
    };
    buffered.consume(bom);
    let mut header_raw = Vec::new();
    buffered
        .read_until(b'\n', &mut header_raw)
        .map_err(io_err)?;
    let header_text = trim_line_end(&header_raw);
    if header_text.iter().all(u8::is_ascii_whitespace) {
        return Err(DataError::new(
            DataErrorKind::EmptyFile,
            format!("data file `{name}` is empty"),
        )
        .with_help(
            "a participant CSV starts with a header line naming its columns, then one row per participant",
        ));
    }
    let header_line = String::from_utf8_lossy(header_text).into_owned();
    let delimiter = mapping
        .delimiter
        .unwrap_or_else(|| detect_delimiter(header_text));
    let decimal_comma = mapping.decimal_comma.unwrap_or(delimiter == b';');

    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .buffer_capacity(1 << 16)
        // Records end at `\n` only: with the default (`\r`, `\n` or `\r\n`) a CRLF file's
        // records were placed at the previous line's `\n`, one line too early and with an
        // empty snippet. The `\r` left at the end of a last field is trimmed like any blank.
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(Cursor::new(header_raw).chain(buffered));
    let ctx = Ctx {
        name,
        header_line: &header_line,
        delimiter,
    };
    let headers = match reader.byte_headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(ctx.header_error(
                DataErrorKind::Malformed,
                format!("cannot read the header: {e}"),
                None,
            ));
        }
    };
    let mut names = Vec::with_capacity(headers.len());
    for (i, field) in headers.iter().enumerate() {
        match std::str::from_utf8(field) {
            Ok(s) => names.push(s.trim().to_owned()),
            Err(_) => {
                return Err(ctx
                    .header_error(
                        DataErrorKind::InvalidUtf8,
                        "the header is not valid UTF-8".into(),
                        Some((i, "not UTF-8".into())),
                    )
                    .with_help("save the file as UTF-8 (in a spreadsheet: \"CSV UTF-8\")"));
            }
        }
    }
    if let Some(dup) = (1..names.len()).find(|&i| names[..i].contains(&names[i])) {
        return Err(ctx
            .header_error(
                DataErrorKind::DuplicateColumn,
                format!("column `{}` appears twice in the header", names[dup]),
                Some((dup, "second column with this name".into())),
            )
            .with_help("rename one of the two columns so that each name is unique"));
    }
    let plan = Plan::new(model, mapping, &names, &ctx, decimal_comma)?;
    let mut state = State::new(model, &plan);
    let scanned = state.read_rows(&mut reader, &plan, mapping.allow_exclusions);
    // IDs are checked for duplicates after the scan, by sorting row indices (4 bytes a row)
    // rather than keeping a hash set beside the table; the lines are found again only on error.
    let (problem, more) = match scanned {
        Err(mut problems) => {
            let first = problems.remove(0);
            (Some(first), problems)
        }
        Ok(()) => (
            first_duplicate(&state.table.id).map(|id| Problem {
                kind: DataErrorKind::DuplicateId,
                line: 0,
                byte: 0,
                field: Some(plan.id),
                message: String::new(),
                label: "used again here".into(),
                help: Some(
                    "each participant must appear once; remove the repeated row or correct its ID"
                        .into(),
                ),
                first: Some((id, 0)),
            }),
            Vec::new(),
        ),
    };
    if let Some(mut problem) = problem {
        let chain = reader.into_inner();
        let (_, buffered) = chain.into_inner();
        let mut source = buffered.into_inner();
        if problem.kind == DataErrorKind::DuplicateId
            && let Some((id, _)) = problem.first
        {
            let found = find_id_lines(&mut source, bom as u64, delimiter, plan.id, id);
            let [(first_line, first_byte), (line, byte)] = found;
            problem.line = line;
            problem.byte = byte;
            problem.first = Some((first_line, first_byte));
            problem.message =
                format!("ID {id} appears on line {first_line} and again on line {line}");
        }
        let mut err = problem.into_error(&ctx, &mut source, bom as u64);
        if !more.is_empty() {
            let shown = more.len() + 1;
            // The scan stops at MAX_PROBLEMS, so a full list may not be all of them.
            err.message = if shown >= MAX_PROBLEMS {
                format!(
                    "{} (the first {MAX_PROBLEMS} bad values; the reader stopped there, there may be more)",
                    err.message
                )
            } else {
                format!("{} ({shown} bad values)", err.message)
            };
            for p in more {
                err = err.with_related(p.into_error(&ctx, &mut source, bom as u64));
            }
        }
        return Err(err);
    }
    if state.rows == 0 {
        return Err(ctx
            .header_error(
                DataErrorKind::HeaderOnly,
                format!("data file `{name}` has a header but no participants"),
                None,
            )
            .with_help("export the participant rows too, one per line under the header"));
    }
    // An analysis needs both its arms: data from one arm only is an export gone wrong, and its
    // "analysis" would compare with nobody.
    let mut present = vec![0u64; model.arms.len()];
    for &a in &state.table.arm {
        if let Some(n) = present.get_mut(a as usize) {
            *n += 1;
        }
    }
    for analysis in &model.analyses {
        for arm in [analysis.treatment, analysis.control] {
            if present.get(arm).is_some_and(|&n| n == 0) {
                let name = &model.arms[arm].name;
                let column = &plan.columns[plan.arm];
                return Err(DataError::new(
                    DataErrorKind::MissingArm,
                    format!(
                        "data file `{name_file}` has no participant in arm `{name}` (column \
                         `{column}`), which analysis `{analysis}` compares",
                        name_file = ctx.name,
                        analysis = analysis.name
                    ),
                )
                .with_help(format!(
                    "check that the file holds both arms and that the values in `{column}` are \
                     the ones the spec's data section maps to `{name}`"
                )));
            }
        }
    }
    if !mapping.allow_exclusions {
        // read_rows already fails on the first excludable problem; this is a guard.
        if let Some((reason, n)) = state.excluded.iter().next() {
            return Err(DataError::new(
                DataErrorKind::ExclusionsNotAllowed,
                format!("{n} row(s) would be excluded ({reason})"),
            ));
        }
    }
    Ok(Loaded {
        table: state.table,
        rows: state.rows,
        excluded: state.excluded,
        missing: state.missing,
        delimiter,
        decimal_comma,
        computed_outcomes: plan.computed.iter().map(|c| c.0).collect(),
        baseline_hours: plan.hours.first().is_some_and(Option::is_some),
        flow_bits: plan.flows.iter().fold(0, |b, f| b | f.0),
        flow_unknown: if plan.flows.is_empty() {
            Vec::new()
        } else {
            state.flow_unknown
        },
        rate_measures: plan
            .rate_measures
            .into_iter()
            .zip(state.rate_values)
            .collect(),
    })
}

/// Context for building diagnostics.
struct Ctx<'a> {
    name: &'a str,
    header_line: &'a str,
    delimiter: u8,
}

impl Ctx<'_> {
    /// An error located in the header line, optionally labelling one column.
    fn header_error(
        &self,
        kind: DataErrorKind,
        message: String,
        column: Option<(usize, String)>,
    ) -> DataError {
        let mut err = DataError::new(kind, message).with_source(LineSource::new(
            self.name,
            1,
            self.header_line.to_owned(),
        ));
        match column {
            Some((i, label)) => {
                if let Some(&(start, len)) = field_spans(self.header_line, self.delimiter).get(i) {
                    err = err.with_label(label, start, len);
                }
            }
            None => err = err.with_label("header", 0, self.header_line.len()),
        }
        err
    }
}

/// The ID whose second occurrence comes first in the table, if any ID repeats.
fn first_duplicate(ids: &[u64]) -> Option<u64> {
    let mut order: Vec<u32> = (0..ids.len() as u32).collect();
    order.sort_unstable_by_key(|&i| (ids[i as usize], i));
    order
        .windows(2)
        .filter(|w| ids[w[0] as usize] == ids[w[1] as usize])
        .min_by_key(|w| w[1])
        .map(|w| ids[w[0] as usize])
}

/// (line, byte) of the first two records whose ID column reads `id` (error path: one more pass).
fn find_id_lines<R: Read + Seek>(
    source: &mut R,
    base: u64,
    delimiter: u8,
    column: usize,
    id: u64,
) -> [(u64, u64); 2] {
    let mut found = [(0, 0); 2];
    if source.seek(SeekFrom::Start(base)).is_err() {
        return found;
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .from_reader(BufReader::new(source));
    let mut record = ByteRecord::new();
    let mut n = 0;
    while n < 2 && matches!(reader.read_byte_record(&mut record), Ok(true)) {
        let matches = record
            .get(column)
            .and_then(|f| std::str::from_utf8(trim(f)).ok())
            .and_then(|t| t.parse::<u64>().ok())
            == Some(id);
        if matches && let Some(p) = record.position() {
            found[n] = (p.line(), p.byte());
            n += 1;
        }
    }
    found
}

/// Picks the delimiter occurring most often outside quotes in the header line.
fn detect_delimiter(header: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in header {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3)
        .max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))
        .unwrap_or(0);
    [b',', b';', b'\t'][best]
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    &line[..end]
}

/// Byte span (start, length) of each field in one raw CSV line, aware of quotes.
fn field_spans(line: &str, delimiter: u8) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, &b) in line.as_bytes().iter().enumerate() {
        if b == b'"' {
            quoted = !quoted;
        } else if b == delimiter && !quoted {
            spans.push((start, i - start));
            start = i + 1;
        }
    }
    spans.push((start, line.len() - start));
    spans
}

/// Where each mapped thing is in the header, and how to read it.
struct Plan {
    columns: Vec<String>,
    id: usize,
    arm: usize,
    arm_values: HashMap<Vec<u8>, u32>,
    arm_names: Vec<String>,
    path: Option<PathPlan>,
    /// Column with each participant's cluster, for a cluster-randomised design.
    cluster: Option<usize>,
    single_path: Vec<bool>,
    covariates: Vec<CovPlan>,
    outcomes: Vec<(OutcomeId, usize, bool)>,
    /// Column per month `0..=max` (None: not read).
    hours: Vec<Option<usize>>,
    computed: Vec<(OutcomeId, Measure, String)>,
    /// Population variables without a column (filled with missing values).
    unmapped_vars: Vec<VarId>,
    /// Derived variables (`within educ bins [...)`): (variable, its numeric source, the edges),
    /// computed from the source's column.
    binned: Vec<(VarId, VarId, Vec<f64>)>,
    decimal_comma: bool,
    /// Flow columns: (flag bit, column).
    flows: Vec<(u8, usize)>,
    /// Work rates measured from the hours for the audit (no outcome measures them).
    rate_measures: Vec<Measure>,
    /// The spec expects missing outcomes ([`TrialModel::plans_missing_outcomes`]): a row
    /// without an outcome value is then kept with that outcome missing, as without exclusions
    /// it would fail the load.
    missing_outcomes_planned: bool,
}

/// Path column, value → (arm, path), and the values for did-you-mean.
type PathPlan = (usize, HashMap<Vec<u8>, (u32, u32)>, Vec<String>);
/// Level name → index, and (name, numeric value) per level.
type LevelPlan = (HashMap<Vec<u8>, u32>, Vec<(String, Option<f64>)>);

struct CovPlan {
    var: VarId,
    column: usize,
    name: String,
    /// Level names and numeric values, for a categorical variable.
    levels: Option<LevelPlan>,
}

impl Plan {
    fn new(
        model: &TrialModel,
        mapping: &DataMapping,
        names: &[String],
        ctx: &Ctx<'_>,
        decimal_comma: bool,
    ) -> Result<Plan, DataError> {
        let mut missing: Vec<(String, String)> = Vec::new(); // (column, what it is for)
        let mut find = |column: &str, what: &str| -> usize {
            match names.iter().position(|n| n == column) {
                Some(i) => i,
                None => {
                    missing.push((column.to_owned(), what.to_owned()));
                    usize::MAX
                }
            }
        };
        let id = find(&mapping.id, "the participant ID");
        let arm = find(&mapping.arm, "the assigned arm");
        let path_col = mapping
            .path
            .as_ref()
            .map(|pc| find(&pc.column, "the sub-path"));
        let cluster = model
            .delivery
            .clusters
            .as_ref()
            .and_then(|c| c.data_column.as_deref())
            .map(|c| find(c, "the cluster"));
        let mut covariates = Vec::new();
        for (k, (var, column)) in mapping.covariates.iter().enumerate() {
            let Some(variable) = model.population.variables.get(*var) else {
                continue;
            };
            // One column per variable: a repeated mapping keeps the first.
            if mapping.covariates[..k].iter().any(|(v, _)| v == var) {
                continue;
            }
            let i = find(column, &format!("covariate `{}`", variable.name));
            let levels = variable.levels().map(|levels| {
                let map = levels
                    .iter()
                    .enumerate()
                    .map(|(k, l)| (l.name.as_bytes().to_vec(), k as u32))
                    .collect();
                let list = levels.iter().map(|l| (l.name.clone(), l.value)).collect();
                (map, list)
            });
            covariates.push(CovPlan {
                var: *var,
                column: i,
                name: column.clone(),
                levels,
            });
        }
        let mut flows = Vec::new();
        for (k, (flow, column)) in mapping.flows.iter().enumerate() {
            // One column per flow: a repeated mapping keeps the first.
            if mapping.flows[..k].iter().any(|(f, _)| f == flow) {
                continue;
            }
            let i = find(column, &format!("the {} flow", flow.name()));
            flows.push((flag_bit(*flow), i));
        }
        let mut outcomes = Vec::new();
        for (o, column) in &mapping.outcomes {
            let Some(outcome) = model.outcomes.get(*o) else {
                continue;
            };
            let i = find(column, &format!("outcome `{}`", outcome.name));
            outcomes.push((*o, i, outcome.is_binary()));
        }
        let mut computed = Vec::new();
        let mut months_needed: Vec<u32> = Vec::new();
        let mut unmapped = Vec::new();
        for (o, outcome) in model.outcomes.iter().enumerate() {
            if mapping.outcomes.iter().any(|(m, _)| *m == o) {
                continue;
            }
            match (
                &mapping.monthly_hours,
                measures::last_month(&outcome.measure),
            ) {
                (Some(_), Some(_)) => {
                    months_needed.extend(months_read(&outcome.measure));
                    computed.push((o, outcome.measure.clone(), outcome.name.clone()));
                }
                _ => unmapped.push(outcome.name.clone()),
            }
        }
        // Bins of a covariate are computed from its column, which the mapping must give.
        let mut binned = Vec::new();
        for (v, var) in model.population.variables.iter().enumerate() {
            let Distribution::Binned { source, edges, .. } = &var.distribution else {
                continue;
            };
            if !mapping.covariates.iter().any(|(m, _)| m == source) {
                let name = model
                    .population
                    .variables
                    .get(*source)
                    .map_or("?", |s| s.name.as_str());
                let analysis = model
                    .analyses
                    .iter()
                    .find(|a| a.within == Some(v))
                    .map_or("an analysis", |a| a.name.as_str());
                return Err(DataError::new(
                    DataErrorKind::UnmappedCovariate,
                    format!(
                        "analysis `{analysis}` compares within bins of `{name}`, but the data \
                         mapping has no column for `{name}`"
                    ),
                )
                .with_help(format!(
                    "map it to a column in the spec's data section, e.g. `covariate {name} \"column\"`"
                )));
            }
            binned.push((v, *source, edges.clone()));
        }
        if let Some(name) = unmapped.first() {
            let why = if mapping.monthly_hours.is_some() {
                "it cannot be computed from monthly hours"
            } else {
                "the mapping has no column for it and no monthly hours columns"
            };
            return Err(DataError::new(
                DataErrorKind::UnmappedOutcome,
                format!("outcome `{name}` has no data: {why}"),
            )
            .with_help(format!(
                "map it to a column in the spec's data section, e.g. `outcome {name} \"column\"`"
            )));
        }
        let mut hours: Vec<Option<usize>> = Vec::new();
        let mut rate_measures = Vec::new();
        if let Some(pattern) = &mapping.monthly_hours {
            let max = months_needed.iter().copied().max().unwrap_or(0);
            if max > MAX_MONTHS {
                return Err(DataError::new(
                    DataErrorKind::UnmappedOutcome,
                    format!("an outcome needs hours for month {max}; the loader reads at most {MAX_MONTHS} months"),
                )
                .with_help("measure the outcome within the follow-up, or map it to a column"));
            }
            hours = vec![None; max as usize + 1];
            months_needed.sort_unstable();
            months_needed.dedup();
            for m in months_needed {
                let column = pattern.replace("{m}", &m.to_string());
                hours[m as usize] = Some(find(&column, &format!("hours worked in month {m}")));
            }
            // Month 0 gives baseline employment when present; never required.
            if hours[0].is_none() {
                let column = pattern.replace("{m}", "0");
                hours[0] = names.iter().position(|n| *n == column);
            }
            // Rates that no outcome measures, measured from the hours when all their months are
            // in the file (for the audit; never required).
            for rate in model
                .arms
                .iter()
                .flat_map(|a| a.paths.iter().map(|p| &p.work))
            {
                let measure = rate.measure();
                if model.outcome_for_rate(rate).is_some()
                    || rate_measures.contains(&measure)
                    || rate.months > MAX_MONTHS
                {
                    continue;
                }
                let months = months_read(&measure);
                let columns: Option<Vec<usize>> = months
                    .iter()
                    .map(|m| {
                        let column = pattern.replace("{m}", &m.to_string());
                        names.iter().position(|n| *n == column)
                    })
                    .collect();
                if let Some(columns) = columns {
                    for (m, c) in months.iter().zip(columns) {
                        let m = *m as usize;
                        if hours.len() <= m {
                            hours.resize(m + 1, None);
                        }
                        hours[m] = Some(c);
                    }
                    rate_measures.push(measure);
                }
            }
        }
        if !missing.is_empty() {
            let make = |(column, what): &(String, String)| {
                let mut err = ctx.header_error(
                    DataErrorKind::MissingColumn,
                    format!("column `{column}` ({what}) is not in the header"),
                    None,
                );
                err.help = Some(
                    match did_you_mean(column, names.iter().map(String::as_str)) {
                        Some(s) => format!(
                            "the header has `{s}`: did you mean that? Rename the column or change the spec's data mapping"
                        ),
                        None => format!(
                            "the header has: {}; add the column or change the spec's data mapping",
                            names
                                .iter()
                                .map(|n| format!("`{n}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    },
                );
                err
            };
            let mut first = make(&missing[0]);
            for other in &missing[1..] {
                first = first.with_related(make(other));
            }
            return Err(first);
        }
        let mut arm_values = HashMap::new();
        for (value, a) in &mapping.arm_values {
            arm_values.insert(value.trim().as_bytes().to_vec(), *a as u32);
        }
        let path = match (&mapping.path, path_col) {
            (Some(pc), Some(i)) => {
                let map = pc
                    .values
                    .iter()
                    .map(|v| {
                        (
                            v.value.trim().as_bytes().to_vec(),
                            (v.arm as u32, v.path as u32),
                        )
                    })
                    .collect();
                Some((i, map, pc.values.iter().map(|v| v.value.clone()).collect()))
            }
            _ => None,
        };
        Ok(Plan {
            columns: names.to_vec(),
            id,
            arm,
            arm_values,
            arm_names: mapping.arm_values.iter().map(|v| v.0.clone()).collect(),
            path,
            cluster,
            single_path: model.arms.iter().map(|a| a.paths.len() <= 1).collect(),
            covariates,
            outcomes,
            hours,
            computed,
            unmapped_vars: (0..model.population.variables.len())
                .filter(|v| !mapping.covariates.iter().any(|(m, _)| m == v))
                .filter(|v| !binned.iter().any(|(b, ..)| b == v))
                .collect(),
            binned,
            decimal_comma,
            flows,
            rate_measures,
            missing_outcomes_planned: model.plans_missing_outcomes(),
        })
    }
}

/// Months a measure reads.
fn months_read(measure: &Measure) -> Vec<u32> {
    match *measure {
        Measure::EmployedAt { month, .. } | Measure::Hours { month } => vec![month],
        Measure::WorkedWithin { within, .. } => (1..=within).collect(),
        Measure::Durable {
            month, consecutive, ..
        } => ((month + 1).saturating_sub(consecutive)..=month).collect(),
        _ => Vec::new(),
    }
}

/// A problem found while streaming, located by byte offset; turned into a [`DataError`] once the
/// source can be re-read.
struct Problem {
    kind: DataErrorKind,
    line: u64,
    byte: u64,
    /// Field index to label (None: the whole line).
    field: Option<usize>,
    message: String,
    label: String,
    help: Option<String>,
    /// The earlier line of a duplicate: (line, byte).
    first: Option<(u64, u64)>,
}

impl Problem {
    fn into_error<R: Read + Seek>(self, ctx: &Ctx<'_>, source: &mut R, base: u64) -> DataError {
        let located = |line: u64, byte: u64, field: Option<usize>, label: String, src: &mut R| {
            let text = raw_record(src, base + byte);
            let spans = field_spans(&text, ctx.delimiter);
            let (start, len) = match field {
                Some(i) => spans.get(i).copied().unwrap_or((text.len(), 0)),
                None => (0, text.len()),
            };
            (LineSource::new(ctx.name, line, text), label, start, len)
        };
        let (src, label, start, len) =
            located(self.line, self.byte, self.field, self.label, source);
        let mut err = DataError::new(self.kind, self.message)
            .with_source(src)
            .with_label(label, start, len);
        err.help = self.help;
        if let Some((line, byte)) = self.first {
            let (src, label, start, len) =
                located(line, byte, self.field, "first used here".into(), source);
            let mut note = DataError::new(
                self.kind,
                format!("the same ID first appears on line {line}"),
            )
            .with_source(src)
            .with_label(label, start, len);
            note.advice = true;
            err = err.with_related(note);
        }
        err
    }
}

/// The raw text of the record starting at `byte` (up to 64 KiB, up to the first line end outside
/// quotes), for diagnostics.
fn raw_record<R: Read + Seek>(source: &mut R, byte: u64) -> String {
    let mut buf = Vec::new();
    if source.seek(SeekFrom::Start(byte)).is_ok() {
        let _ = source.take(1 << 16).read_to_end(&mut buf);
    }
    let mut quoted = false;
    let mut end = buf.len();
    for (i, &b) in buf.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

fn trim(field: &[u8]) -> &[u8] {
    field.trim_ascii()
}

fn is_missing(field: &[u8]) -> bool {
    matches!(trim(field), b"" | b"NA" | b".")
}

/// Why a field is not a number.
enum NumError {
    NotANumber,
    WrongSeparator,
    /// Both `.` and `,`: thousands grouped (`9.930,05`, `9,930.05`).
    Grouped,
    /// Beyond what an analysis can carry: see [`MAX_MAGNITUDE`].
    OutOfRange,
}

/// Largest magnitude read (and smallest non-zero one is its inverse): squares and sums of
/// values beyond it overflow (or underflow) a double in the analyses, which would report an
/// infinite or zero standard deviation as if it were a result.
pub const MAX_MAGNITUDE: f64 = 1e100;

fn parse_number(field: &[u8], decimal_comma: bool) -> Result<f64, NumError> {
    let t = trim(field);
    let s = std::str::from_utf8(t).map_err(|_| NumError::NotANumber)?;
    let (wrong, right) = if decimal_comma {
        ('.', ',')
    } else {
        (',', '.')
    };
    if s.contains(wrong) {
        return Err(if s.contains(right) {
            NumError::Grouped
        } else {
            NumError::WrongSeparator
        });
    }
    let owned;
    let s = if decimal_comma && s.contains(right) {
        owned = s.replace(',', ".");
        owned.as_str()
    } else {
        s
    };
    // Rust also parses "inf" and "NaN"; only digits, sign, point and exponent are numbers here.
    if !s
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
    {
        return Err(NumError::NotANumber);
    }
    let v = s.parse::<f64>().map_err(|_| NumError::NotANumber)?;
    // Non-zero digits before the exponent that parse to 0 underflowed (`1e-400`).
    let mantissa = s.split(['e', 'E']).next().unwrap_or_default();
    let nonzero = mantissa.bytes().any(|b| matches!(b, b'1'..=b'9'));
    if !v.is_finite() || v.abs() > MAX_MAGNITUDE || (nonzero && v.abs() < 1.0 / MAX_MAGNITUDE) {
        return Err(NumError::OutOfRange);
    }
    Ok(v)
}

/// A binary value written exactly: `0` or `1` (with a decimal mark and zeros after it, `1.0`,
/// `1,00`) or `true`/`false` in any case. A number that only rounds to 0 or 1 (`1e-400`,
/// `0.99999999999999999999`) is not one.
fn parse_binary(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        return Some(true);
    }
    if text.eq_ignore_ascii_case("false") {
        return Some(false);
    }
    let t = text.strip_prefix('+').unwrap_or(text);
    let (digit, rest) = t.split_at_checked(1)?;
    let zeros = match rest.strip_prefix(['.', ',']) {
        Some(z) => z,
        None if rest.is_empty() => "",
        None => return None,
    };
    if !zeros.bytes().all(|b| b == b'0') {
        return None;
    }
    match digit {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    }
}

/// `text` read as a grouped number (`9.930,05`, `9,930.05`): the last of `.` and `,` is its
/// decimal mark, the other groups thousands. Written back without grouping, with the file's
/// decimal mark.
fn ungrouped(text: &str, decimal_comma: bool) -> String {
    let decimal = text
        .rfind(['.', ','])
        .map_or('.', |i| char::from(text.as_bytes()[i]));
    let mark = if decimal_comma { ',' } else { '.' };
    text.chars()
        .filter(|&c| c == decimal || !matches!(c, '.' | ','))
        .map(|c| if c == decimal { mark } else { c })
        .collect()
}

/// Most bad values reported from one file.
pub const MAX_PROBLEMS: usize = 20;

/// The streaming state: the table being filled and the counts.
struct State {
    table: ParticipantTable,
    rows: u64,
    excluded: BTreeMap<String, u64>,
    missing: BTreeMap<String, u64>,
    hours: Vec<f64>,
    cov: Vec<(usize, Cov)>,
    out: Vec<f64>,
    /// Cluster value → code, in order of first appearance.
    cluster_codes: HashMap<Vec<u8>, u32>,
    /// The current row's flow bits, and those missing in it.
    row_flags: (u8, u8),
    /// Per participant kept, the flow bits whose value was missing.
    flow_unknown: Vec<u8>,
    /// The current row's rate measures, and their columns.
    rate_row: Vec<f64>,
    rate_values: Vec<Vec<f64>>,
}

#[derive(Clone, Copy)]
enum Cov {
    Level(u32),
    Number(f64),
}

/// The outcome of reading one row.
enum RowError {
    /// The row is excluded for this reason (or fails the load when exclusions are not allowed).
    Exclude(String, Problem),
    /// The load fails.
    Fatal(Problem),
}

impl State {
    fn new(model: &TrialModel, plan: &Plan) -> Self {
        let covariates = model
            .population
            .variables
            .iter()
            .map(|v| match v.distribution {
                Distribution::Categorical { .. } | Distribution::Binned { .. } => {
                    CovariateColumn::Categorical(Vec::new())
                }
                _ => CovariateColumn::Numeric(Vec::new()),
            })
            .collect();
        State {
            table: ParticipantTable {
                covariates,
                outcomes: vec![Vec::new(); model.outcomes.len()],
                ..ParticipantTable::default()
            },
            rows: 0,
            excluded: BTreeMap::new(),
            missing: BTreeMap::new(),
            hours: vec![f64::NAN; plan.hours.len()],
            cov: Vec::with_capacity(plan.covariates.len()),
            out: vec![f64::NAN; model.outcomes.len()],
            cluster_codes: HashMap::new(),
            row_flags: (0, 0),
            flow_unknown: Vec::new(),
            rate_row: vec![f64::NAN; plan.rate_measures.len()],
            rate_values: vec![Vec::new(); plan.rate_measures.len()],
        }
    }

    /// Reads every row. A bad value (one that `allow exclusions` would exclude) does not stop
    /// the scan: up to [`MAX_PROBLEMS`] of them are collected and reported together; a problem
    /// with the file's shape stops it at once.
    fn read_rows<R: Read>(
        &mut self,
        reader: &mut csv::Reader<R>,
        plan: &Plan,
        allow_exclusions: bool,
    ) -> Result<(), Vec<Problem>> {
        let mut problems = Vec::new();
        let result = self.scan_rows(reader, plan, allow_exclusions, &mut problems);
        if let Err(p) = result {
            problems.push(p);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    fn scan_rows<R: Read>(
        &mut self,
        reader: &mut csv::Reader<R>,
        plan: &Plan,
        allow_exclusions: bool,
        problems: &mut Vec<Problem>,
    ) -> Result<(), Problem> {
        let mut record = ByteRecord::new();
        let mut pending_missing: Vec<String> = Vec::new();
        loop {
            if problems.len() >= MAX_PROBLEMS {
                return Ok(());
            }
            match reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(e) => {
                    let (line, byte) = e
                        .position()
                        .map_or((self.rows + 2, 0), |p| (p.line(), p.byte()));
                    return Err(Problem {
                        kind: DataErrorKind::Malformed,
                        line,
                        byte,
                        field: None,
                        message: format!("cannot read line {line}: {e}"),
                        label: "here".into(),
                        help: None,
                        first: None,
                    });
                }
            }
            self.rows += 1;
            let (line, byte) = record.position().map_or((0, 0), |p| (p.line(), p.byte()));
            if record.len() != plan.columns.len() {
                return Err(Problem {
                    kind: DataErrorKind::RaggedRow,
                    line,
                    byte,
                    field: (record.len() > plan.columns.len()).then_some(plan.columns.len()),
                    message: format!(
                        "line {line} has {} fields, the header has {}",
                        record.len(),
                        plan.columns.len()
                    ),
                    label: if record.len() > plan.columns.len() {
                        "first extra field".into()
                    } else {
                        format!("{} fields", record.len())
                    },
                    help: Some(
                        "every row needs one value per header column; quote values that contain the delimiter, and write missing values as an empty field or NA"
                            .into(),
                    ),
                    first: None,
                });
            }
            pending_missing.clear();
            match self.read_row(
                &record,
                plan,
                line,
                byte,
                &mut pending_missing,
                allow_exclusions,
            ) {
                Ok(()) => {
                    for key in pending_missing.drain(..) {
                        *self.missing.entry(key).or_insert(0) += 1;
                    }
                }
                Err(RowError::Fatal(p)) => {
                    problems.push(p);
                    continue;
                }
                Err(RowError::Exclude(reason, p)) => {
                    if !allow_exclusions {
                        problems.push(p);
                        continue;
                    }
                    *self.excluded.entry(reason).or_insert(0) += 1;
                }
            }
        }
    }

    /// Reads one row into the table, or leaves the table untouched and says why not.
    fn read_row(
        &mut self,
        record: &ByteRecord,
        plan: &Plan,
        line: u64,
        byte: u64,
        missing: &mut Vec<String>,
        allow_exclusions: bool,
    ) -> Result<(), RowError> {
        let col = |i: usize| plan.columns[i].as_str();
        let problem =
            |kind, field: usize, message: String, label: &str, help: Option<String>| Problem {
                kind,
                line,
                byte,
                field: Some(field),
                message,
                label: label.to_owned(),
                help,
                first: None,
            };
        let field = |i: usize| record.get(i).unwrap_or_default();
        let text = |i: usize| -> Result<&str, RowError> {
            std::str::from_utf8(trim(field(i))).map_err(|_| {
                RowError::Exclude(
                    format!("invalid UTF-8 in column `{}`", col(i)),
                    problem(
                        DataErrorKind::InvalidUtf8,
                        i,
                        format!(
                            "line {line}, column {} (`{}`) is not valid UTF-8",
                            i + 1,
                            col(i)
                        ),
                        "not UTF-8",
                        Some("save the file as UTF-8 (in a spreadsheet: \"CSV UTF-8\")".into()),
                    ),
                )
            })
        };
        let missing_value = |i: usize, what: &str| {
            RowError::Exclude(
                format!("missing {what} in column `{}`", col(i)),
                problem(
                    DataErrorKind::MissingValue,
                    i,
                    format!("line {line} has no {what} (column `{}`)", col(i)),
                    "missing",
                    Some(
                        if what.ends_with("outcome value") || what.ends_with("hours value") {
                            format!(
                                "fill in the {what}; if outcomes are missing by design (lost to follow-up), state `missing complete_cases` in the analysis plan, or `allow exclusions` in the spec's data section: the row is kept and left out of that outcome's contrasts (complete cases; the missing values are counted per arm in the report)"
                            )
                        } else {
                            format!(
                                "fill in the {what}, or allow exclusions in the spec's data section to exclude such rows (they are counted in the report)"
                            )
                        },
                    ),
                ),
            )
        };
        let number = |i: usize, what: &str| -> Result<Option<f64>, RowError> {
            if is_missing(field(i)) {
                return Ok(None);
            }
            let t = text(i)?;
            parse_number(field(i), plan.decimal_comma).map(Some).map_err(|e| {
                let help = match e {
                    NumError::WrongSeparator if plan.decimal_comma => {
                        "this file is read with decimal commas (`;`-delimited files are); write `1,5`, or declare `decimal point` in the spec's data section".to_owned()
                    }
                    NumError::WrongSeparator => {
                        "this file is read with decimal points; write `1.5`, or declare `decimal comma` in the spec's data section (and quote such fields in a `,`-delimited file)".to_owned()
                    }
                    NumError::Grouped => {
                        format!("`{}` groups thousands; write numbers without a thousands separator and with this file's decimal mark ({}): `{}`", t.escape_debug(), if plan.decimal_comma { "a comma" } else { "a point" }, ungrouped(t, plan.decimal_comma))
                    }
                    NumError::OutOfRange => {
                        format!("values beyond ±{MAX_MAGNITUDE:e}, or non-zero values closer to 0 than {:e}, overflow the analysis; rescale the column (e.g. thousands of euro) or correct the value", 1.0 / MAX_MAGNITUDE)
                    }
                    NumError::NotANumber => {
                        "write a number, or leave the field empty (or NA) if the value is missing".to_owned()
                    }
                };
                let (reason, verdict, label) = match e {
                    NumError::OutOfRange => (
                        "out-of-range value",
                        "is out of range",
                        "out of range",
                    ),
                    _ => ("non-numeric value", "is not a number", "not a number"),
                };
                RowError::Exclude(
                    format!("{reason} in column `{}`", col(i)),
                    problem(
                        DataErrorKind::NotANumber,
                        i,
                        format!("line {line}, column {} (`{}`): `{}` {verdict} ({what})", i + 1, col(i), t.escape_debug()),
                        label,
                        Some(help),
                    ),
                )
            })
        };

        // ID
        if is_missing(field(plan.id)) {
            return Err(missing_value(plan.id, "participant ID"));
        }
        let id_text = text(plan.id)?;
        let id: u64 = id_text.parse().map_err(|_| {
            RowError::Exclude(
                format!("invalid ID in column `{}`", col(plan.id)),
                problem(
                    DataErrorKind::BadId,
                    plan.id,
                    format!("line {line}: ID `{}` is not a whole number", id_text.escape_debug()),
                    "not a whole number",
                    Some("participant IDs must be whole numbers ≥ 0 (replace text IDs by a numbering and keep the key elsewhere)".into()),
                ),
            )
        })?;

        // Arm
        if is_missing(field(plan.arm)) {
            return Err(missing_value(plan.arm, "arm"));
        }
        let arm_text = text(plan.arm)?;
        let Some(&arm) = plan.arm_values.get(arm_text.as_bytes()) else {
            let known = plan
                .arm_names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let help = match did_you_mean(arm_text, plan.arm_names.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`? The mapping knows {known}"),
                None => format!(
                    "the mapping knows {known}; add `{arm_text}` to the spec's data section if it names an arm"
                ),
            };
            return Err(RowError::Exclude(
                format!("unknown arm value in column `{}`", col(plan.arm)),
                problem(
                    DataErrorKind::UnknownArm,
                    plan.arm,
                    format!(
                        "line {line}: unknown arm value `{}`",
                        arm_text.escape_debug()
                    ),
                    "not an arm value of the mapping",
                    Some(help),
                ),
            ));
        };

        // Path
        let path = match &plan.path {
            Some((i, values, names)) => {
                if is_missing(field(*i)) {
                    missing.push(col(*i).to_owned());
                    MISSING_CODE
                } else {
                    let t = text(*i)?;
                    match values.get(t.as_bytes()) {
                        Some(&(a, p)) if a == arm => p,
                        found => {
                            let help = match (found, did_you_mean(t, names.iter().map(String::as_str))) {
                                (Some(_), _) => "a sub-path belongs to one arm; check the arm and path columns of this row".to_owned(),
                                (None, Some(s)) => format!("did you mean `{s}`?"),
                                (None, None) => format!(
                                    "the mapping knows {}",
                                    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                                ),
                            };
                            let message = if found.is_some() {
                                format!(
                                    "line {line}: sub-path `{t}` is not a path of arm `{arm_text}`"
                                )
                            } else {
                                format!(
                                    "line {line}: unknown sub-path value `{}`",
                                    t.escape_debug()
                                )
                            };
                            return Err(RowError::Exclude(
                                format!("unknown sub-path value in column `{}`", col(*i)),
                                problem(
                                    DataErrorKind::UnknownPath,
                                    *i,
                                    message,
                                    "not a path of this arm",
                                    Some(help),
                                ),
                            ));
                        }
                    }
                }
            }
            None if plan.single_path.get(arm as usize).copied().unwrap_or(false) => 0,
            None => MISSING_CODE,
        };

        // Cluster
        let cluster = match plan.cluster {
            Some(i) => {
                if is_missing(field(i)) {
                    return Err(missing_value(i, "cluster"));
                }
                let key = text(i)?.as_bytes().to_vec();
                let next = self.cluster_codes.len() as u32;
                Some(*self.cluster_codes.entry(key).or_insert(next))
            }
            None => None,
        };

        // Covariates
        self.cov.clear();
        for c in &plan.covariates {
            let i = c.column;
            let value = match &c.levels {
                None => match number(i, "a numeric covariate")? {
                    Some(v) => Cov::Number(v),
                    None => {
                        missing.push(c.name.clone());
                        Cov::Number(f64::NAN)
                    }
                },
                Some((map, list)) => {
                    if is_missing(field(i)) {
                        missing.push(c.name.clone());
                        Cov::Level(MISSING_CODE)
                    } else {
                        let t = text(i)?;
                        let found = map.get(t.as_bytes()).copied().or_else(|| {
                            let v = parse_number(field(i), plan.decimal_comma).ok()?;
                            list.iter()
                                .position(|(_, lv)| *lv == Some(v))
                                .map(|k| k as u32)
                        });
                        match found {
                            Some(k) => Cov::Level(k),
                            None => {
                                let names = list
                                    .iter()
                                    .map(|l| format!("`{}`", l.0))
                                    .collect::<Vec<_>>()
                                    .join(", ");
                                let help = match did_you_mean(t, list.iter().map(|l| l.0.as_str()))
                                {
                                    Some(s) => {
                                        format!("did you mean `{s}`? The spec's levels are {names}")
                                    }
                                    None => format!(
                                        "the spec's levels are {names}; add the level to the spec or recode the column"
                                    ),
                                };
                                return Err(RowError::Exclude(
                                    format!("unknown level in column `{}`", col(i)),
                                    problem(
                                        DataErrorKind::UnknownLevel,
                                        i,
                                        format!(
                                            "line {line}: `{}` is not a level of covariate `{}`",
                                            t.escape_debug(),
                                            col(i)
                                        ),
                                        "unknown level",
                                        Some(help),
                                    ),
                                ));
                            }
                        }
                    }
                }
            };
            self.cov.push((c.var, value));
        }

        // Outcome columns
        self.out.iter_mut().for_each(|v| *v = f64::NAN);
        for &(o, i, binary) in &plan.outcomes {
            if is_missing(field(i)) {
                missing.push(col(i).to_owned());
                continue;
            }
            let v = if binary {
                let t = text(i)?;
                let v = parse_binary(t).map(|b| if b { 1.0 } else { 0.0 });
                v.ok_or_else(|| {
                    RowError::Exclude(
                        format!("non-binary value in column `{}`", col(i)),
                        problem(
                            DataErrorKind::NotBinary,
                            i,
                            format!("line {line}, column {} (`{}`): `{}` is not 0 or 1", i + 1, col(i), t.escape_debug()),
                            "binary outcome",
                            Some("a binary outcome is written 0 or 1 (or false/true); recode the column, or declare the outcome continuous".into()),
                        ),
                    )
                })?
            } else {
                number(i, "a continuous outcome")?.unwrap_or(f64::NAN)
            };
            self.out[o] = v;
        }

        // Flow columns
        self.row_flags = (0, 0);
        for &(bit, i) in &plan.flows {
            if is_missing(field(i)) {
                missing.push(col(i).to_owned());
                self.row_flags.1 |= bit;
                continue;
            }
            let t = text(i)?;
            let v = parse_binary(t);
            match v {
                Some(true) => self.row_flags.0 |= bit,
                Some(false) => {}
                None => {
                    return Err(RowError::Exclude(
                        format!("non-binary value in column `{}`", col(i)),
                        problem(
                            DataErrorKind::NotBinary,
                            i,
                            format!(
                                "line {line}, column {} (`{}`): `{}` is not 0 or 1",
                                i + 1,
                                col(i),
                                t.escape_debug()
                            ),
                            "flow column",
                            Some("a flow column says 1 (or true) for a participant who went through the flow and 0 (or false) for one who did not; leave it empty or NA when unknown".into()),
                        ),
                    ));
                }
            }
        }

        // Monthly hours and the measures computed from them
        let mut first_missing_hours = None;
        for (m, c) in plan.hours.iter().enumerate() {
            self.hours[m] = match c {
                Some(i) => match number(*i, "hours worked")? {
                    Some(v) if v < 0.0 => {
                        return Err(RowError::Exclude(
                            format!("negative hours in column `{}`", col(*i)),
                            problem(
                                DataErrorKind::NotANumber,
                                *i,
                                format!(
                                    "line {line}: negative hours `{v}` in column `{}`",
                                    col(*i)
                                ),
                                "negative",
                                Some("hours worked in a month are 0 or more".into()),
                            ),
                        ));
                    }
                    Some(v) => v,
                    None => {
                        first_missing_hours.get_or_insert(*i);
                        f64::NAN
                    }
                },
                None => f64::NAN,
            };
        }
        for (o, measure, name) in &plan.computed {
            match measures::from_hours(measure, &self.hours) {
                Some(v) => self.out[*o] = v,
                None => missing.push(format!("{name} (from monthly hours)")),
            }
        }
        for (k, measure) in plan.rate_measures.iter().enumerate() {
            self.rate_row[k] = measures::from_hours(measure, &self.hours).unwrap_or(f64::NAN);
        }
        if !allow_exclusions && !plan.missing_outcomes_planned {
            // A missing outcome drops the participant from that outcome's analysis; unless the
            // spec expects missing outcomes, it is taken for a gap in the export.
            if let Some(&(_, i, _)) = plan.outcomes.iter().find(|(o, _, _)| self.out[*o].is_nan())
                && let RowError::Exclude(_, p) = missing_value(i, "outcome value")
            {
                return Err(RowError::Fatal(p));
            }
            if plan.computed.iter().any(|(o, _, _)| self.out[*o].is_nan())
                && let Some(i) = first_missing_hours
                && let RowError::Exclude(_, p) = missing_value(i, "hours value")
            {
                return Err(RowError::Fatal(p));
            }
        }

        self.push(plan, id, arm, path);
        if let Some(c) = cluster {
            self.table.cluster.push(c);
        }
        Ok(())
    }

    fn push(&mut self, plan: &Plan, id: u64, arm: u32, path: u32) {
        let t = &mut self.table;
        t.id.push(id);
        t.arm.push(arm);
        t.path.push(path);
        let baseline = self.hours.first().is_some_and(|h| *h >= 1.0);
        t.flags.push(
            self.row_flags.0
                | if baseline {
                    flags::EMPLOYED_AT_BASELINE
                } else {
                    0
                },
        );
        if !plan.flows.is_empty() {
            self.flow_unknown.push(self.row_flags.1);
        }
        for (col, v) in self.rate_values.iter_mut().zip(&self.rate_row) {
            col.push(*v);
        }
        for &(var, value) in &self.cov {
            match (&mut t.covariates[var], value) {
                (CovariateColumn::Categorical(c), Cov::Level(k)) => c.push(k),
                (CovariateColumn::Numeric(c), Cov::Number(v)) => c.push(v),
                (CovariateColumn::Categorical(c), Cov::Number(_)) => c.push(MISSING_CODE),
                (CovariateColumn::Numeric(c), Cov::Level(_)) => c.push(f64::NAN),
            }
        }
        for &var in &plan.unmapped_vars {
            match &mut t.covariates[var] {
                CovariateColumn::Categorical(c) => c.push(MISSING_CODE),
                CovariateColumn::Numeric(c) => c.push(f64::NAN),
            }
        }
        // Bins of this row's value (missing when it is missing or outside all bins).
        for (var, source, edges) in &plan.binned {
            let x = match t.covariates.get(*source) {
                Some(CovariateColumn::Numeric(c)) => c.last().copied().unwrap_or(f64::NAN),
                _ => f64::NAN,
            };
            if let Some(CovariateColumn::Categorical(c)) = t.covariates.get_mut(*var) {
                c.push(Distribution::bin_of(edges, x).map_or(MISSING_CODE, |b| b as u32));
            }
        }
        for (o, col) in t.outcomes.iter_mut().enumerate() {
            col.push(self.out[o]);
        }
    }
}
