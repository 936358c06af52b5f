//! The participant table: the one shape produced by the simulator and by the CSV loader, and
//! consumed by the analysis plan. Columnar, so that the engine can refill it replicate after
//! replicate without allocating (`clear` keeps the capacity).

use serde::Serialize;

/// Bit flags recording what happened to a participant along the flows.
pub mod flags {
    /// Left before intake (analysed by intention to treat).
    pub const DROPOUT: u8 = 1;
    /// Temporarily exempted from participation.
    pub const EXEMPT: u8 = 1 << 1;
    /// Crossed over into another arm's process.
    pub const CROSSOVER: u8 = 1 << 2;
    /// Left benefit for a non-work reason.
    pub const NON_WORK_EXIT: u8 = 1 << 3;
    /// In work at intake (month 0).
    pub const EMPLOYED_AT_BASELINE: u8 = 1 << 4;
    /// Lost to follow-up by the month the spec's share refers to (outcomes measured from the
    /// month of loss on are missing).
    pub const LOST_TO_FOLLOW_UP: u8 = 1 << 5;
    /// Received the programme (set by the engine when some analysis estimates a complier
    /// effect; read from a `received` column in data).
    pub const RECEIVED: u8 = 1 << 6;
}

/// Marks a missing categorical value or unknown path.
pub const MISSING_CODE: u32 = u32::MAX;

/// One covariate column, aligned with [`crate::model::Population::variables`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "values", rename_all = "snake_case")]
pub enum CovariateColumn {
    /// Level index per participant ([`MISSING_CODE`] when missing).
    Categorical(Vec<u32>),
    /// Value per participant (NaN when missing).
    Numeric(Vec<f64>),
}

impl CovariateColumn {
    /// Makes the column `n` missing values.
    pub(crate) fn fill_missing(&mut self, n: usize) {
        self.clear();
        match self {
            Self::Categorical(v) => v.resize(n, MISSING_CODE),
            Self::Numeric(v) => v.resize(n, f64::NAN),
        }
    }

    pub(crate) fn clear(&mut self) {
        match self {
            Self::Categorical(v) => v.clear(),
            Self::Numeric(v) => v.clear(),
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Categorical(v) => v.len(),
            Self::Numeric(v) => v.len(),
        }
    }
}

/// Participants in rows, stored by column.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ParticipantTable {
    /// Participant ID (the simulator numbers them; real data keeps its own IDs as given).
    pub id: Vec<u64>,
    /// Assigned arm (index into the model's arms): the intention-to-treat grouping.
    pub arm: Vec<u32>,
    /// Sub-path taken within the assigned arm ([`MISSING_CODE`] when unknown).
    pub path: Vec<u32>,
    /// [`flags`] per participant.
    pub flags: Vec<u8>,
    /// Covariates, aligned with the model's population variables.
    pub covariates: Vec<CovariateColumn>,
    /// Outcomes, aligned with the model's outcomes: 0/1 for binary, the value for continuous,
    /// NaN when missing.
    pub outcomes: Vec<Vec<f64>>,
    /// Cluster (group, cohort) per participant, for cluster-randomised designs; empty when the
    /// design has no clusters. A simulated cluster is in one arm; in real data a cluster can
    /// hold participants of several arms (see [`ParticipantTable::clusters_in_two_arms`]).
    pub cluster: Vec<u32>,
}

impl ParticipantTable {
    /// Number of participants.
    pub fn len(&self) -> usize {
        self.arm.len()
    }

    /// Whether the table has no participants.
    pub fn is_empty(&self) -> bool {
        self.arm.is_empty()
    }

    /// The end of the run of participants in the same arm that starts at row `start`
    /// (`start` itself when it is past the end). A simulated table keeps each arm together, so
    /// the arm column is scanned sixteen rows at a time while they match, then row by row.
    pub fn arm_run_end(&self, start: usize) -> usize {
        let Some(&arm) = self.arm.get(start) else {
            return start;
        };
        let mut end = start;
        while let Some(block) = self.arm.get(end..end + 16) {
            if !block.iter().fold(true, |same, &x| same & (x == arm)) {
                break;
            }
            end += 16;
        }
        while self.arm.get(end) == Some(&arm) {
            end += 1;
        }
        end
    }

    /// How many clusters hold participants of more than one arm, and how many clusters there
    /// are. `(0, 0)` without a cluster column. A cluster-randomised design puts each cluster in
    /// one arm, so a mixed cluster contradicts it.
    pub fn clusters_in_two_arms(&self) -> (u64, u64) {
        if self.cluster.len() != self.arm.len() {
            return (0, 0);
        }
        // Per cluster code: its first arm, and whether another arm was seen.
        let mut seen: std::collections::HashMap<u32, (u32, bool)> = Default::default();
        for (&cluster, &arm) in self.cluster.iter().zip(&self.arm) {
            let entry = seen.entry(cluster).or_insert((arm, false));
            entry.1 |= entry.0 != arm;
        }
        let mixed = seen.values().filter(|(_, mixed)| *mixed).count();
        (mixed as u64, seen.len() as u64)
    }

    /// Empties every column, keeping the allocations for the next replicate.
    pub fn clear(&mut self) {
        self.id.clear();
        self.arm.clear();
        self.path.clear();
        self.flags.clear();
        self.covariates.iter_mut().for_each(CovariateColumn::clear);
        self.outcomes.iter_mut().for_each(Vec::clear);
        self.cluster.clear();
    }

    /// Whether all columns have the same length.
    pub fn is_consistent(&self) -> bool {
        let n = self.len();
        self.id.len() == n
            && self.path.len() == n
            && self.flags.len() == n
            && self.covariates.iter().all(|c| c.len() == n)
            && self.outcomes.iter().all(|c| c.len() == n)
            && (self.cluster.is_empty() || self.cluster.len() == n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_arms(arm: Vec<u32>) -> ParticipantTable {
        ParticipantTable {
            arm,
            ..ParticipantTable::default()
        }
    }

    /// Runs of every length around the block of sixteen, checked against a row-by-row scan.
    #[test]
    fn arm_runs_end_where_the_arm_changes() {
        let lengths = [1usize, 2, 15, 16, 17, 31, 32, 33, 180];
        let mut arm = Vec::new();
        for (k, &len) in lengths.iter().enumerate() {
            arm.extend(std::iter::repeat_n((k % 3) as u32, len));
        }
        let t = with_arms(arm.clone());
        for start in 0..arm.len() {
            let expected = start
                + arm[start..]
                    .iter()
                    .take_while(|&&a| a == arm[start])
                    .count();
            assert_eq!(t.arm_run_end(start), expected, "start {start}");
        }
        assert_eq!(t.arm_run_end(arm.len()), arm.len());
        assert_eq!(t.arm_run_end(arm.len() + 5), arm.len() + 5);
        assert_eq!(with_arms(Vec::new()).arm_run_end(0), 0);
    }
}

/// Monthly hours per participant, `months + 1` values (months 0..=months) per row, row-major.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MonthlyHours {
    /// The last month written (the follow-up).
    pub months: u32,
    /// Hours, participant after participant.
    pub hours: Vec<f64>,
}

impl MonthlyHours {
    /// The hours of participant `i`, months 0..=months.
    pub fn row(&self, i: usize) -> &[f64] {
        let w = self.months as usize + 1;
        self.hours.get(i * w..(i + 1) * w).unwrap_or(&[])
    }
}
