//! `assume PATH ~ distribution`: beliefs about parameters, checked against the model they refer
//! to. The path must name a parameter of the spec (the paths of `trialsim sweep --list`, with a
//! did-you-mean), and the belief must stay within what the parameter admits. Probabilities may be
//! written as percentages; `uniform(low, high)`, `normal(mean, sd)` and `fixed(value)` are
//! accepted.

use crate::model::{Distribution, TrialModel, UncertainParameter};
use crate::params::{self, ParamError};
use crate::source::SourceFile;
use crate::syntax::ast::{self, UnitSpec};

use super::{CheckError, Kind};

/// The uncertain parameters the `assume` statements declare, and the diagnostics about them.
pub(super) fn uncertain(
    src: &SourceFile,
    assumes: &[&ast::Assume],
    model: &TrialModel,
) -> (Vec<UncertainParameter>, Vec<CheckError>) {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    for a in assumes {
        match one(src, a, model) {
            Ok(u) => {
                if out.iter().any(|o: &UncertainParameter| o.parameter == u.parameter) {
                    diags.push(
                        CheckError::new(
                            src,
                            Kind::Duplicate,
                            format!("`{}` is assumed twice", u.parameter),
                        )
                        .label(a.path.span, "again here")
                        .help("keep one belief per parameter"),
                    );
                } else {
                    out.push(u);
                }
            }
            Err(e) => diags.push(e),
        }
    }
    (out, diags)
}

fn one(
    src: &SourceFile,
    a: &ast::Assume,
    model: &TrialModel,
) -> Result<UncertainParameter, CheckError> {
    let path = a.path.name.as_str();
    let param = params::get(model, path).map_err(|e| {
        let help = match e {
            ParamError::Unknown {
                suggestion: Some(s),
                ..
            } => format!("did you mean `{s}`?"),
            _ => "`trialsim sweep FILE --list` shows every parameter of the spec".into(),
        };
        CheckError::new(src, Kind::UnknownPath, format!("no parameter `{path}` in this spec"))
            .label(a.path.span, "unknown parameter")
            .help(help)
    })?;
    let ast::Distribution::Call { name, args, span } = &a.distribution else {
        return Err(CheckError::new(
            src,
            Kind::InvalidDistribution,
            "a belief about a parameter is `uniform(low, high)`, `normal(mean, sd)` or `fixed(value)`",
        )
        .label(a.distribution_span(), "here"));
    };
    let bad = |message: String, help: &str| {
        CheckError::new(src, Kind::InvalidDistribution, message)
            .label(*span, "this belief")
            .help(help.to_string())
    };
    let mut values = Vec::new();
    for arg in args {
        let q = &arg.value;
        let v = match q.unit {
            UnitSpec::None => q.value,
            UnitSpec::Percent => q.value / 100.0,
            other => {
                return Err(CheckError::new(
                    src,
                    Kind::UnitMismatch,
                    format!("a belief about `{path}` takes no {}", other.describe()),
                )
                .label(q.span, "this value")
                .help("give probabilities as percentages (25%) and counts as plain numbers"));
            }
        };
        values.push(v);
    }
    let distribution = match (name.name.as_str(), values.as_slice()) {
        ("uniform", [low, high]) if low < high => Distribution::Uniform {
            low: *low,
            high: *high,
        },
        ("uniform", [_, _]) => return Err(bad("`uniform` needs low < high".into(), "swap the bounds")),
        ("normal", [mean, sd]) if *sd > 0.0 => Distribution::Normal {
            mean: *mean,
            sd: *sd,
        },
        ("normal", [_, _]) => {
            return Err(bad(
                "the sd of `normal` must be positive".into(),
                "give a positive standard deviation",
            ));
        }
        ("fixed", [value]) => Distribution::Fixed { value: *value },
        (other, _) => {
            return Err(bad(
                format!("`{other}` with {} arguments is not a supported belief", values.len()),
                "write `uniform(low, high)`, `normal(mean, sd)` or `fixed(value)`",
            ));
        }
    };
    // Both ends of a uniform, or the centre of the others, must be values the parameter takes.
    let probes: Vec<f64> = match &distribution {
        Distribution::Uniform { low, high } => vec![*low, *high],
        Distribution::Normal { mean, .. } => vec![*mean],
        Distribution::Fixed { value } => vec![*value],
        _ => Vec::new(),
    };
    for v in probes {
        let mut probe = model.clone();
        if let Err(e) = params::set(&mut probe, path, v) {
            let expected = match e {
                ParamError::OutOfRange { expected, .. } => expected.to_string(),
                other => other.to_string(),
            };
            return Err(CheckError::new(
                src,
                Kind::ProbabilityRange,
                format!(
                    "the belief about `{path}` reaches {}, which it cannot take",
                    if param.kind == params::ParamKind::Probability {
                        crate::design::pct(v)
                    } else {
                        v.to_string()
                    }
                ),
            )
            .label(*span, "this belief")
            .help(format!("its values must be {expected}")));
        }
    }
    Ok(UncertainParameter {
        parameter: path.to_string(),
        distribution,
    })
}

impl ast::Assume {
    /// Where the distribution is written.
    fn distribution_span(&self) -> crate::source::Span {
        match &self.distribution {
            ast::Distribution::Call { span, .. } | ast::Distribution::Categorical(_, span) => *span,
        }
    }
}
