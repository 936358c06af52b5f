//! Writing a participant table as the CSV `trialsim analyze` reads: the export of one simulated
//! trial (`trialsim simulate --export`).
//!
//! Columns of the default shape ([`write_csv`]): `id`, `arm` (arm names), `path` (the path's
//! name as the spec writes it, `arm.path` only for a name two arms share; `NA` when unknown), one column per covariate (level names, or numbers), one per outcome (0/1
//! for binary, the value otherwise), each named as in the model; for a cluster design, a column
//! [`CLUSTER_COLUMN`] with each participant's cluster code; then one 0/1 column per flow some arm
//! declares (`dropout`, `exemption`, `crossover`, `non_work_exit`); `NA` for missing values.
//! [`write_mapped`] writes the shape of a spec's own data section instead, with monthly hours
//! columns. Numbers are written at the precision a register holds them ([`Precision`]): ages and
//! durations to 0.01 (years, months), wages to 0.01 euro, hours to 0.1 h (truncated, so that
//! every `hours >= H` with H a multiple of 0.1 reads back the same and with it every employment
//! measure), other numbers in Rust's shortest round-trip form. Reading the file back gives the
//! same table up to that precision.

use std::io::{self, Write};

use crate::model::{DataMapping, Flow, Measure, PathColumn, PathValue, TrialModel, Unit};
use crate::table::{CovariateColumn, MISSING_CODE, ParticipantTable};

/// Name of the exported cluster column.
pub const CLUSTER_COLUMN: &str = "cluster";

/// The mapping of an exported file (also what `analyze` uses for a spec without a data section):
/// every column named after the model's arm, variable or outcome.
pub fn default_mapping(model: &TrialModel) -> DataMapping {
    // A path is written as the spec names it (`coaching`); only a name that two arms share is
    // qualified by its arm (`experiment.guided`), so that every value means one path.
    let shared = |name: &str| {
        model
            .arms
            .iter()
            .filter(|arm| arm.paths.iter().any(|p| p.name == name))
            .count()
            > 1
    };
    let values: Vec<PathValue> = model
        .arms
        .iter()
        .enumerate()
        .flat_map(|(a, arm)| {
            arm.paths
                .iter()
                .enumerate()
                .map(move |(p, path)| PathValue {
                    value: if shared(&path.name) {
                        format!("{}.{}", arm.name, path.name)
                    } else {
                        path.name.clone()
                    },
                    arm: a,
                    path: p,
                })
        })
        .collect();
    DataMapping {
        id: "id".into(),
        arm: "arm".into(),
        arm_values: model
            .arms
            .iter()
            .enumerate()
            .map(|(a, arm)| (arm.name.clone(), a))
            .collect(),
        covariates: model
            .population
            .variables
            .iter()
            .enumerate()
            // Bins are computed from their source when the file is read back.
            .filter(|(_, var)| var.binned_from().is_none())
            .map(|(v, var)| (v, var.name.clone()))
            .collect(),
        outcomes: model
            .outcomes
            .iter()
            .enumerate()
            .map(|(o, out)| (o, out.name.clone()))
            .collect(),
        monthly_hours: None,
        path: Some(PathColumn {
            column: "path".into(),
            values,
        }),
        delimiter: Some(b','),
        decimal_comma: Some(false),
        allow_exclusions: false,
        flows: declared_flows(model)
            .into_iter()
            .map(|f| (f, f.name().to_owned()))
            .collect(),
    }
}

/// The flows some arm of `model` declares (the flow columns an export writes).
pub fn declared_flows(model: &TrialModel) -> Vec<Flow> {
    Flow::ALL
        .into_iter()
        .filter(|f| {
            model.arms.iter().any(|a| match f {
                Flow::Dropout => a.dropout.is_some(),
                Flow::Exemption => a.exemption.is_some(),
                Flow::Crossover => a.crossover.is_some(),
                Flow::NonWorkExit => a.non_work_exit.is_some(),
                Flow::Received => model.analyses.iter().any(|x| x.complier_effect),
            })
        })
        .collect()
}

pub use crate::table::MonthlyHours;

/// How fields are written: the delimiter and the decimal mark.
struct Style {
    delimiter: char,
    decimal_comma: bool,
}

impl Style {
    fn quote(&self, s: &str) -> String {
        if s.contains([self.delimiter, '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    }

    fn number_at(&self, x: f64, precision: Precision) -> String {
        if !x.is_finite() {
            return "NA".to_owned();
        }
        let s = precision.format(x);
        if self.decimal_comma {
            self.quote(&s.replace('.', ","))
        } else {
            s
        }
    }
}

/// How many decimals an exported number carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// Rust's shortest round-trip form (plain numbers, whose precision the spec does not say).
    Full,
    /// Rounded to 0.01 (ages in years, durations in months, wages in euro).
    Hundredths,
    /// Truncated to 0.1 (hours per month): a value at or above a threshold on the 0.1 grid stays
    /// at or above it, and one below stays below.
    TenthsDown,
}

impl Precision {
    /// The precision of a covariate with unit `unit`.
    pub fn of_unit(unit: Unit) -> Self {
        match unit {
            Unit::Years | Unit::Months => Self::Hundredths,
            Unit::HoursPerMonth => Self::TenthsDown,
            Unit::None => Self::Full,
        }
    }

    /// The precision of an outcome measured by `measure`.
    pub fn of_measure(measure: &Measure) -> Self {
        match measure {
            Measure::Hours { .. } => Self::TenthsDown,
            Measure::Wage { .. } => Self::Hundredths,
            _ => Self::Full,
        }
    }

    /// `x` as text at this precision, without trailing zeros (`86.7`, `0`, `53.93`).
    pub fn format(self, x: f64) -> String {
        let fixed = match self {
            Self::Full => return format!("{x}"),
            Self::Hundredths => format!("{x:.2}"),
            // The tiny offset keeps a value on the grid (2.3, stored as 2.2999…) on it.
            Self::TenthsDown => format!("{:.1}", ((x * 10.0) + 1e-9).floor() / 10.0),
        };
        let trimmed = fixed.trim_end_matches('0').trim_end_matches('.');
        match trimmed {
            "" | "-" | "-0" => "0".to_owned(),
            t => t.to_owned(),
        }
    }
}

/// `table` as the export writes it: every number at its [`Precision`], as reading the file back
/// gives it. (What a round trip through the CSV must reproduce, value for value.)
pub fn at_export_precision(model: &TrialModel, table: &ParticipantTable) -> ParticipantTable {
    let round = |x: f64, p: Precision| -> f64 {
        if x.is_finite() {
            p.format(x).parse().unwrap_or(x)
        } else {
            x
        }
    };
    let mut out = table.clone();
    for (v, column) in out.covariates.iter_mut().enumerate() {
        if let CovariateColumn::Numeric(values) = column {
            let unit = model
                .population
                .variables
                .get(v)
                .map_or(Unit::None, |x| x.unit);
            let p = Precision::of_unit(unit);
            values.iter_mut().for_each(|x| *x = round(*x, p));
        }
    }
    for (o, values) in out.outcomes.iter_mut().enumerate() {
        let p = model
            .outcomes
            .get(o)
            .map_or(Precision::Full, |x| Precision::of_measure(&x.measure));
        values.iter_mut().for_each(|x| *x = round(*x, p));
    }
    out
}

/// Writes `table` (produced for `model`) as CSV.
pub fn write_csv<W: Write>(model: &TrialModel, table: &ParticipantTable, out: W) -> io::Result<()> {
    write_mapped(model, &default_mapping(model), table, None, out)
}

/// Writes `table` in the shape `mapping` describes, so that loading the file with `mapping`
/// gives the table back: its column names, its arm and path values (the first value that means
/// each arm or path), its delimiter and decimal mark; flow columns as 0/1; and, when the
/// mapping has a `monthly_hours` pattern and `hours` are given, one hours column per month
/// 0..=`hours.months`. Outcomes are written only where the mapping has a column for them
/// (with monthly hours, the loader computes the others). A participant whose arm or path has no
/// value in the mapping gets `NA`.
pub fn write_mapped<W: Write>(
    model: &TrialModel,
    mapping: &DataMapping,
    table: &ParticipantTable,
    hours: Option<&MonthlyHours>,
    out: W,
) -> io::Result<()> {
    let delimiter = mapping.delimiter.unwrap_or(b',');
    let style = Style {
        delimiter: char::from(delimiter),
        decimal_comma: mapping.decimal_comma.unwrap_or(delimiter == b';'),
    };
    let sep = style.delimiter.to_string();
    let hours = match (&mapping.monthly_hours, hours) {
        (Some(pattern), Some(h)) => Some((pattern, h)),
        _ => None,
    };
    let mut w = io::BufWriter::new(out);
    let mut head = vec![style.quote(&mapping.id), style.quote(&mapping.arm)];
    if let Some(pc) = &mapping.path {
        head.push(style.quote(&pc.column));
    }
    head.extend(mapping.covariates.iter().map(|(_, c)| style.quote(c)));
    head.extend(mapping.outcomes.iter().map(|(_, c)| style.quote(c)));
    // A cluster design's cluster codes, under the spec's cluster column (or `cluster`).
    let cluster_column = model.delivery.clusters.as_ref().and_then(|c| {
        (table.cluster.len() == table.len()).then(|| {
            c.data_column
                .clone()
                .unwrap_or_else(|| CLUSTER_COLUMN.to_owned())
        })
    });
    if let Some(c) = &cluster_column {
        head.push(style.quote(c));
    }
    head.extend(mapping.flows.iter().map(|(_, c)| style.quote(c)));
    if let Some((pattern, h)) = hours {
        head.extend((0..=h.months).map(|m| style.quote(&pattern.replace("{m}", &m.to_string()))));
    }
    writeln!(w, "{}", head.join(&sep))?;
    let arm_value = |a: u32| {
        mapping
            .arm_values
            .iter()
            .find(|(_, x)| *x == a as usize)
            .map_or("NA", |(v, _)| v.as_str())
    };
    let path_value = |a: u32, p: u32| {
        mapping
            .path
            .as_ref()
            .and_then(|pc| {
                pc.values
                    .iter()
                    .find(|v| v.arm == a as usize && v.path == p as usize)
            })
            .map_or("NA", |v| v.value.as_str())
    };
    let mut line = String::new();
    for i in 0..table.len() {
        line.clear();
        let a = table.arm[i];
        line.push_str(&table.id[i].to_string());
        line.push_str(&sep);
        line.push_str(&style.quote(arm_value(a)));
        if mapping.path.is_some() {
            let p = table.path.get(i).copied().unwrap_or(MISSING_CODE);
            line.push_str(&sep);
            line.push_str(&style.quote(path_value(a, p)));
        }
        for (v, _) in &mapping.covariates {
            line.push_str(&sep);
            match table.covariates.get(*v) {
                Some(CovariateColumn::Categorical(codes)) => {
                    let name = model
                        .population
                        .variables
                        .get(*v)
                        .and_then(|var| var.levels())
                        .and_then(|l| l.get(codes[i] as usize));
                    line.push_str(&name.map_or("NA".to_owned(), |l| style.quote(&l.name)));
                }
                Some(CovariateColumn::Numeric(values)) => {
                    let unit = model
                        .population
                        .variables
                        .get(*v)
                        .map_or(Unit::None, |x| x.unit);
                    line.push_str(&style.number_at(values[i], Precision::of_unit(unit)));
                }
                None => line.push_str("NA"),
            }
        }
        for (o, _) in &mapping.outcomes {
            line.push_str(&sep);
            let v = table.outcomes.get(*o).map_or(f64::NAN, |c| c[i]);
            let precision = model
                .outcomes
                .get(*o)
                .map_or(Precision::Full, |x| Precision::of_measure(&x.measure));
            line.push_str(&style.number_at(v, precision));
        }
        if cluster_column.is_some() {
            line.push_str(&sep);
            line.push_str(&table.cluster[i].to_string());
        }
        for (flow, _) in &mapping.flows {
            line.push_str(&sep);
            let f = table.flags.get(i).copied().unwrap_or(0);
            line.push(if f & crate::data::flag_bit(*flow) != 0 {
                '1'
            } else {
                '0'
            });
        }
        if let Some((_, h)) = hours {
            for x in h.row(i) {
                line.push_str(&sep);
                line.push_str(&style.number_at(*x, Precision::TenthsDown));
            }
        }
        writeln!(w, "{line}")?;
    }
    w.flush()
}

#[cfg(test)]
mod precision_tests {
    use super::Precision;

    #[test]
    fn numbers_carry_their_precision() {
        assert_eq!(Precision::Hundredths.format(53.927_190_833_388_04), "53.93");
        assert_eq!(Precision::Hundredths.format(45.0), "45");
        assert_eq!(Precision::Full.format(0.1 + 0.2), "0.30000000000000004");
        // Hours are truncated, so a threshold on the 0.1 grid reads the same on either side.
        assert_eq!(Precision::TenthsDown.format(47.99), "47.9");
        assert_eq!(Precision::TenthsDown.format(48.0), "48");
        assert_eq!(Precision::TenthsDown.format(2.3), "2.3");
        assert_eq!(Precision::TenthsDown.format(0.04), "0");
        for x in [0.95, 1.0, 47.95, 47.999_999, 48.0, 48.04, 159.99] {
            let back: f64 = Precision::TenthsDown.format(x).parse().expect("a number");
            for threshold in [1.0, 48.0] {
                assert_eq!(back >= threshold, x >= threshold, "{x} at {threshold}");
            }
        }
    }
}

#[cfg(test)]
mod path_value_tests {
    /// Paths are written as the spec names them; a name two arms share is qualified by its arm.
    #[test]
    fn path_values_are_the_spec_names() {
        let path = format!("{}/specs/almere-45plus.trial", env!("CARGO_MANIFEST_DIR"));
        let source = crate::source::SourceFile::read(path).expect("spec");
        let model = crate::check::compile(&source).expect("checks").model;
        let mapping = super::default_mapping(&model);
        let values: Vec<&str> = mapping
            .path
            .as_ref()
            .map(|p| p.values.iter().map(|v| v.value.as_str()).collect())
            .unwrap_or_default();
        assert!(values.contains(&"team_zorg"), "{values:?}");
        assert!(values.contains(&"guided"), "{values:?}");
        assert!(
            values.iter().all(|v| !v.starts_with("experiment.")),
            "{values:?}"
        );
        // The control arm's single implicit path shares no name with another arm's.
        let unique: std::collections::BTreeSet<&str> = values.iter().copied().collect();
        assert_eq!(unique.len(), values.len(), "{values:?}");
    }
}
