//! Small utilities with no knowledge of the IOC: a seeded random generator, a stable hash,
//! credentials out of URLs, the TLS provider, systemd notifications, PIN hashes.

pub mod csv;
pub mod hash;
pub mod pin;
pub mod redact;
pub mod rng;
pub mod sd_notify;
pub mod tls;
