//! Who is at the console: sign-in through the province's identity server (OpenID Connect),
//! the person's roles from the token, their tokens kept in the desktop's secret store or in
//! memory only, and the session that keeps them fresh.
//!
//! - `config`: `[identity]`.
//! - `oidc`: discovery, the code flow with PKCE, the device flow, refresh, revocation, the ID
//!   token's validation (with the `openidconnect` crate).
//! - `loopback`: the native app's redirect on 127.0.0.1 (RFC 8252).
//! - `http`: the HTTP client `openidconnect` uses (the project's reqwest).
//! - `roles`: the token's claim values to the console's roles.
//! - `secrets`: refresh tokens in the Secret Service (`keyring`), else in memory.
//! - `session`: the sessions of the people signed in here, tokens refreshed, the rule for
//!   actions queued across a sign-out.

pub mod config;
pub mod http;
pub mod loopback;
pub mod oidc;
pub mod roles;
pub mod secrets;
pub mod session;

pub use config::IdentityConfig;
pub use oidc::{AuthError, Person, Provider, Secret, SignedIn, Tokens};
