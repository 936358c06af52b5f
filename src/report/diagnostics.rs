//! Diagnostics as JSON, for commands run with `--format json`: the same errors the terminal shows
//! (code, severity, message, help, every labelled place with its file, line and column, and the
//! related diagnostics), as one document on standard output, so that a program reading the JSON
//! never has to parse a drawing. Schema `trialsim.diagnostics/1`, described in `docs/outputs.md`.

use miette::{Diagnostic, Severity};
use serde_json::{Map, Value, json};

/// The JSON form of one diagnostic (and, nested under `related`, of those attached to it).
pub fn diagnostic_json(d: &dyn Diagnostic) -> Value {
    let mut obj = Map::new();
    obj.insert(
        "code".into(),
        d.code()
            .map_or(Value::Null, |c| Value::String(c.to_string())),
    );
    let severity = match d.severity() {
        Some(Severity::Advice) => "advice",
        Some(Severity::Warning) => "warning",
        Some(Severity::Error) | None => "error",
    };
    obj.insert("severity".into(), json!(severity));
    obj.insert("message".into(), json!(d.to_string()));
    obj.insert(
        "help".into(),
        d.help()
            .map_or(Value::Null, |h| Value::String(h.to_string())),
    );
    let mut labels = Vec::new();
    if let Some(iter) = d.labels() {
        for l in iter {
            let mut label = Map::new();
            label.insert("label".into(), json!(l.label()));
            if let Some(src) = d.source_code()
                && let Ok(contents) = src.read_span(l.inner(), 0, 0)
            {
                label.insert("file".into(), json!(contents.name()));
                label.insert("line".into(), json!(contents.line() + 1));
                label.insert("column".into(), json!(contents.column() + 1));
            }
            label.insert("length".into(), json!(l.len()));
            labels.push(Value::Object(label));
        }
    }
    obj.insert("labels".into(), Value::Array(labels));
    let related: Vec<Value> = d
        .related()
        .map(|r| r.map(diagnostic_json).collect())
        .unwrap_or_default();
    obj.insert("related".into(), Value::Array(related));
    Value::Object(obj)
}

/// The whole JSON error document for `diagnostics` (pretty, with a final newline).
pub fn render_json(diagnostics: &[&dyn Diagnostic]) -> String {
    let v = json!({
        "schema": "trialsim.diagnostics/1",
        "diagnostics": diagnostics.iter().map(|d| diagnostic_json(*d)).collect::<Vec<_>>(),
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}
