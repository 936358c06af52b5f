//! Design exploration on top of the engine: sample-size search, parameter sweeps, the dilution
//! waterfall, feasibility of the eligible pool, and the design report.

pub mod size;
