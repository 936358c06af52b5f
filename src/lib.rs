//! trialsim: write a randomised pilot down in one readable spec file, get diagnostics on it,
//! simulate it participant by participant to learn its power, and run the same analysis plan on
//! the real participant data.
//!
//! The crate follows the pipeline, one module per stage:
//!
//! ```text
//! spec text ─syntax─▶ tree ─check─▶ model ─┬─▶ sim (seeded, parallel) ─┐
//!                                            │                          ├─▶ table ─▶ analysis ─▶ report
//!                               real CSV ─data──────────────────────────┘
//! ```
//!
//! The library has no semantic-version guarantees; the command line and the JSON report are the
//! stable interfaces.

#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]

pub mod analysis;
pub mod audit;
pub mod bounds;
pub mod cace;
pub mod check;
pub mod cli;
pub mod data;
pub mod design;
pub mod economics;
pub mod fingerprint;
pub mod gallery;
pub mod imbalance;
pub mod lsp;
pub mod model;
pub mod params;
pub mod power;
pub mod report;
pub mod sequential;
pub mod shard;
pub mod sim;
pub mod source;
pub mod stats;
pub mod syntax;
pub mod table;
pub mod validate;
