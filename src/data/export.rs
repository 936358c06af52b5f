//! Writing a participant table as the CSV `trialsim analyze` reads: the export of one simulated
//! trial (`trialsim simulate --export`).
//!
//! Columns of the default shape ([`write_csv`]): `id`, `arm` (arm names), `path` (`arm.path`,
//! `NA` when unknown), one column per covariate (level names, or numbers), one per outcome (0/1
//! for binary, the value otherwise), each named as in the model; for a cluster design, a column
//! [`CLUSTER_COLUMN`] with each participant's cluster code; then one 0/1 column per flow some arm
//! declares (`dropout`, `exemption`, `crossover`, `non_work_exit`); `NA` for missing values.
//! [`write_mapped`] writes the shape of a spec's own data section instead, with monthly hours
//! columns. Numbers are written in Rust's shortest round-trip form, so reading the file back
//! gives the very same table.

use std::io::{self, Write};

use crate::model::{DataMapping, Flow, PathColumn, PathValue, TrialModel};
use crate::table::{CovariateColumn, MISSING_CODE, ParticipantTable};

/// Name of the exported cluster column.
pub const CLUSTER_COLUMN: &str = "cluster";

/// The mapping of an exported file (also what `analyze` uses for a spec without a data section):
/// every column named after the model's arm, variable or outcome.
pub fn default_mapping(model: &TrialModel) -> DataMapping {
    let values: Vec<PathValue> = model
        .arms
        .iter()
        .enumerate()
        .flat_map(|(a, arm)| {
            arm.paths
                .iter()
                .enumerate()
                .map(move |(p, path)| PathValue {
                    value: format!("{}.{}", arm.name, path.name),
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

    fn number(&self, x: f64) -> String {
        if !x.is_finite() {
            return "NA".to_owned();
        }
        let s = format!("{x}");
        if self.decimal_comma {
            self.quote(&s.replace('.', ","))
        } else {
            s
        }
    }
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
                Some(CovariateColumn::Numeric(values)) => line.push_str(&style.number(values[i])),
                None => line.push_str("NA"),
            }
        }
        for (o, _) in &mapping.outcomes {
            line.push_str(&sep);
            let v = table.outcomes.get(*o).map_or(f64::NAN, |c| c[i]);
            line.push_str(&style.number(v));
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
                line.push_str(&style.number(*x));
            }
        }
        writeln!(w, "{line}")?;
    }
    w.flush()
}
