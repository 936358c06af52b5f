//! Renderers: pure functions from results to text, JSON, Markdown and SVG.

pub mod analysis;
pub mod check;
pub mod design;
pub mod diagnostics;
pub mod power;
pub mod sequential;
pub mod svg;
pub mod words;
