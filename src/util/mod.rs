//! Small utilities with no knowledge of the IOC: a seeded random generator, a stable hash,
//! credentials out of URLs, the TLS provider.

pub mod hash;
pub mod redact;
pub mod rng;
pub mod tls;
