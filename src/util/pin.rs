//! The technician's PIN, kept only as an Argon2id hash in the PHC string format
//! (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`): `ioc-console kiosk hash-pin` makes one for the
//! configuration, and a kiosk checks what is typed against it.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// A PIN's hash as read from the configuration (checked to be a PHC string Argon2 can verify).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinHash(String);

/// Why a PIN or its hash cannot be used.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    #[error("a PIN has 4 to 32 characters, digits or letters, without spaces")]
    BadPin,
    #[error(
        "not an Argon2 hash in the PHC format ($argon2id$v=19$m=...,t=...,p=...$salt$hash): {0}"
    )]
    BadHash(String),
}

/// Whether `pin` is one a technician can type on a wall's keyboard: 4 to 32 printable characters
/// without spaces.
pub fn acceptable(pin: &str) -> bool {
    let n = pin.chars().count();
    (4..=32).contains(&n) && pin.chars().all(|c| !c.is_whitespace() && !c.is_control())
}

impl PinHash {
    /// Reads a hash from the configuration.
    pub fn parse(text: &str) -> Result<PinHash, PinError> {
        let parsed = PasswordHash::new(text).map_err(|e| PinError::BadHash(e.to_string()))?;
        if !parsed.algorithm.as_str().starts_with("argon2") {
            return Err(PinError::BadHash(format!(
                "the algorithm is {}, not argon2id",
                parsed.algorithm
            )));
        }
        if parsed.hash.is_none() {
            return Err(PinError::BadHash("the hash part is missing".into()));
        }
        Ok(PinHash(text.to_owned()))
    }

    /// Hashes a new PIN with a random salt (Argon2id, the crate's default parameters).
    pub fn new(pin: &str) -> Result<PinHash, PinError> {
        if !acceptable(pin) {
            return Err(PinError::BadPin);
        }
        let salt = SaltString::generate(&mut OsRng);
        let hash = Argon2::default()
            .hash_password(pin.as_bytes(), &salt)
            .map_err(|e| PinError::BadHash(e.to_string()))?;
        Ok(PinHash(hash.to_string()))
    }

    /// Whether `pin` is the PIN this hash was made from (constant-time in the hash compare).
    pub fn verify(&self, pin: &str) -> bool {
        match PasswordHash::new(&self.0) {
            Ok(parsed) => Argon2::default()
                .verify_password(pin.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }

    /// The PHC string, as written in the configuration.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> serde::Deserialize<'de> for PinHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<PinHash, D::Error> {
        let text = String::deserialize(d)?;
        PinHash::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_pin_only_and_never_holds_it() {
        let h = PinHash::new("2468").unwrap();
        assert!(h.as_str().starts_with("$argon2id$"), "{}", h.as_str());
        assert!(!h.as_str().contains("2468"));
        assert!(h.verify("2468"));
        assert!(!h.verify("2469"));
        assert!(!h.verify(""));
        // Read back from its text, as from the configuration.
        let again = PinHash::parse(h.as_str()).unwrap();
        assert!(again.verify("2468"));
        // Two hashes of one PIN differ (salted).
        assert_ne!(PinHash::new("2468").unwrap(), h);
    }

    #[test]
    fn bad_pins_and_hashes_are_refused_with_a_reason() {
        assert_eq!(PinHash::new("12"), Err(PinError::BadPin));
        assert_eq!(PinHash::new("12 34"), Err(PinError::BadPin));
        assert!(PinHash::new(&"9".repeat(33)).is_err());
        assert!(matches!(PinHash::parse("2468"), Err(PinError::BadHash(_))));
        assert!(matches!(
            PinHash::parse("$5$rounds=5000$salt$abc"),
            Err(PinError::BadHash(_))
        ));
        assert!(matches!(
            PinHash::parse("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ"),
            Err(PinError::BadHash(_))
        ));
    }
}
