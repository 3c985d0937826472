//! A stable hash.

/// FNV-1a, 64 bits: a stable, cheap hash (cache folder names, a stable order of incidents).
pub fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
