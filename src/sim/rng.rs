//! Random streams: one independent generator per (seed, scenario, replicate).
//!
//! The generator is Xoshiro256++ (`rand::rngs::Xoshiro256PlusPlus`, a named, portable generator
//! whose output rand pins in its own reference tests). Its 256-bit state for replicate `r` is four
//! consecutive outputs of SplitMix64 started at a key that mixes the seed, the scenario and the
//! replicate index through the SplitMix64 finaliser, so neighbouring replicates get unrelated
//! states. Replicate `r` therefore never depends on the number of replicates or threads. The
//! scenario is 0 for an ordinary run; sweeps that want common random numbers across scenarios keep
//! it 0, sweeps that want independent scenarios give each its own key.
//!
//! ChaCha8 was measured against it (see `benches/engine.rs`): a ChaCha8 word costs about twice a
//! Xoshiro256++ word here, and the engine's time is dominated by its draws, so Xoshiro256++ is the
//! default.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

/// The generator every replicate uses.
pub type ReplicateRng = Xoshiro256PlusPlus;

/// Name of the generator, as reported in JSON.
pub const GENERATOR: &str = "xoshiro256++ (SplitMix64-seeded per replicate)";

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

pub use crate::stats::mix64;

/// The 32-byte seed of replicate `replicate` in `scenario` under `seed`.
pub fn stream_seed(seed: u64, scenario: u64, replicate: u64) -> [u8; 32] {
    let key = mix64(
        seed.wrapping_add(GOLDEN)
            ^ mix64(
                scenario.wrapping_add(GOLDEN.wrapping_mul(2))
                    ^ mix64(replicate.wrapping_add(GOLDEN.wrapping_mul(3))),
            ),
    );
    let mut state = key;
    let mut bytes = [0u8; 32];
    for word in bytes.chunks_exact_mut(8) {
        state = state.wrapping_add(GOLDEN);
        word.copy_from_slice(&mix64(state).to_le_bytes());
    }
    bytes
}

/// The generator of replicate `replicate` in `scenario` under `seed`.
pub fn replicate_rng(seed: u64, scenario: u64, replicate: u64) -> ReplicateRng {
    Xoshiro256PlusPlus::from_seed(stream_seed(seed, scenario, replicate))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    /// Pins the first words of two streams. A change of generator, mixer or rand version that
    /// alters any simulated number fails here first. The SplitMix64 values were checked against
    /// the published reference (`mix64(0x9e3779b97f4a7c15) == 0xe220a8397b1dcdaf`, the first output
    /// of SplitMix64 seeded with 0).
    #[test]
    fn value_stability() {
        assert_eq!(mix64(0x9e37_79b9_7f4a_7c15), 0xe220_a839_7b1d_cdaf);
        let mut a = replicate_rng(2017, 0, 0);
        let first: Vec<u64> = (0..3).map(|_| a.next_u64()).collect();
        let mut b = replicate_rng(2017, 0, 1);
        let second: Vec<u64> = (0..3).map(|_| b.next_u64()).collect();
        assert_eq!(first, PINNED_R0);
        assert_ne!(second, PINNED_R0);
        assert_eq!(second, PINNED_R1);
    }

    const PINNED_R0: [u64; 3] = [
        9148755811148611831,
        10398255509181018879,
        13404511311331519648,
    ];
    const PINNED_R1: [u64; 3] = [
        11412896787593582380,
        16260797369908898703,
        3972342121282344545,
    ];

    #[test]
    fn streams_differ_by_every_key_part() {
        let w = |s, c, r| replicate_rng(s, c, r).next_u64();
        let base = w(1, 0, 0);
        assert_ne!(base, w(2, 0, 0));
        assert_ne!(base, w(1, 1, 0));
        assert_ne!(base, w(1, 0, 1));
        assert_ne!(w(0, 1, 0), w(0, 0, 1));
    }
}
