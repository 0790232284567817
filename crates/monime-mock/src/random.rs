//! A small seeded generator (SplitMix64): fault injection must be reproducible from a seed,
//! and it needs nothing more than uniform numbers.

#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number in [0, 1).
    pub fn next_unit(&mut self) -> f64 {
        // 53 random bits make every representable step of [0, 1) reachable.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
