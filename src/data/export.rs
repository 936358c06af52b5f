//! Writing a participant table as the CSV `trialsim analyze` reads: the export of one simulated
//! trial (`trialsim simulate --export`).
//!
//! Columns: `id`, `arm` (arm names), `path` (`arm.path`, `NA` when unknown), one column per
//! covariate (level names, or numbers), one per outcome (0/1 for binary, the value otherwise),
//! each named as in the model; `NA` for missing values; for a cluster design, a last column
//! [`CLUSTER_COLUMN`] with each participant's cluster code. Numbers are written in Rust's shortest
//! round-trip form, so reading the file back gives the very same table.

use std::io::{self, Write};

use crate::model::{DataMapping, PathColumn, PathValue, TrialModel};
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
    }
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn number(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        "NA".to_owned()
    }
}

/// Writes `table` (produced for `model`) as CSV.
pub fn write_csv<W: Write>(model: &TrialModel, table: &ParticipantTable, out: W) -> io::Result<()> {
    let mut w = io::BufWriter::new(out);
    let mut head = vec!["id".to_owned(), "arm".to_owned(), "path".to_owned()];
    head.extend(model.population.variables.iter().map(|v| quote(&v.name)));
    head.extend(model.outcomes.iter().map(|o| quote(&o.name)));
    let clustered = model.delivery.clusters.is_some() && table.cluster.len() == table.len();
    if clustered {
        head.push(CLUSTER_COLUMN.to_owned());
    }
    writeln!(w, "{}", head.join(","))?;
    let mut line = String::new();
    for i in 0..table.len() {
        line.clear();
        let arm = model.arms.get(table.arm[i] as usize);
        let arm_name = arm.map_or("NA", |a| a.name.as_str());
        let path = table.path.get(i).copied().unwrap_or(MISSING_CODE);
        let path_name = match arm.and_then(|a| a.paths.get(path as usize)) {
            Some(p) if path != MISSING_CODE => format!("{arm_name}.{}", p.name),
            _ => "NA".to_owned(),
        };
        line.push_str(&format!(
            "{},{},{}",
            table.id[i],
            quote(arm_name),
            quote(&path_name)
        ));
        for (v, col) in table.covariates.iter().enumerate() {
            line.push(',');
            match col {
                CovariateColumn::Categorical(codes) => {
                    let name = model
                        .population
                        .variables
                        .get(v)
                        .and_then(|var| var.levels())
                        .and_then(|l| l.get(codes[i] as usize));
                    line.push_str(&name.map_or("NA".to_owned(), |l| quote(&l.name)));
                }
                CovariateColumn::Numeric(values) => line.push_str(&number(values[i])),
            }
        }
        for col in &table.outcomes {
            line.push(',');
            line.push_str(&number(col[i]));
        }
        if clustered {
            line.push_str(&format!(",{}", table.cluster[i]));
        }
        writeln!(w, "{line}")?;
    }
    w.flush()
}
