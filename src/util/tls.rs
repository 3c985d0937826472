//! The TLS crypto provider: rustls needs one per process, and ring is the one we build with.
//! Every HTTPS client of the console (the backend, tile servers) installs it first.

/// Installs ring as the process-wide rustls provider (a second call changes nothing).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
