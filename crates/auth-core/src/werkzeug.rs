//! Password hashes made by Werkzeug's `generate_password_hash`, the Flask
//! app's hasher, verified so that imported accounts keep their passwords
//! until their first login replaces the hash.
//!
//! The stored form is `method$salt$hex`: `pbkdf2:sha256:ITERATIONS` (or
//! `sha512`) and `scrypt:N:r:p`. The salt is text, hashed as its UTF-8
//! bytes; the password is hashed as typed (Werkzeug does not normalise it).

use sha2::{Sha256, Sha512};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use crate::HashError;

/// PBKDF2 rounds beyond which a hash is refused rather than verified: ten
/// times Werkzeug 3.1's default of 1,000,000. A stored hash with a huge
/// count would otherwise keep a core busy for minutes at each login.
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

/// The most memory one scrypt verification may take (128·N·r bytes): four
/// times Werkzeug's default `scrypt:32768:8:1`.
const MAX_SCRYPT_MEMORY: u64 = 128 << 20;

/// The longest `p` accepted: each step repeats the whole computation.
const MAX_SCRYPT_P: u32 = 16;

/// A parsed Werkzeug hash whose parameters are within the limits above.
pub(crate) struct WerkzeugHash<'a> {
    function: Function,
    salt: &'a str,
    /// Lower-case hex, as Werkzeug writes it.
    hex: &'a str,
}

enum Function {
    Pbkdf2Sha256 { iterations: u32 },
    Pbkdf2Sha512 { iterations: u32 },
    Scrypt { log_n: u8, r: u32, p: u32 },
}

impl Function {
    /// Bytes of output Werkzeug keeps: the digest's size for PBKDF2, 64 for
    /// scrypt.
    fn output_len(&self) -> usize {
        match self {
            Self::Pbkdf2Sha256 { .. } => 32,
            Self::Pbkdf2Sha512 { .. } | Self::Scrypt { .. } => 64,
        }
    }
}

impl<'a> WerkzeugHash<'a> {
    /// Reads `encoded` if it is a Werkzeug PBKDF2 or scrypt hash this module
    /// can verify within its limits.
    pub(crate) fn parse(encoded: &'a str) -> Option<Self> {
        let mut parts = encoded.splitn(3, '$');
        let (method, salt, hex) = (parts.next()?, parts.next()?, parts.next()?);
        let mut args = method.split(':');
        let function = match (args.next()?, args.next(), args.next(), args.next()) {
            ("pbkdf2", digest, iterations, None) => {
                // Werkzeug's defaults when the method names no arguments.
                let iterations = match iterations {
                    Some(n) => n.parse().ok()?,
                    None => 1_000_000,
                };
                if !(1..=MAX_PBKDF2_ITERATIONS).contains(&iterations) {
                    return None;
                }
                match digest.unwrap_or("sha256") {
                    "sha256" => Function::Pbkdf2Sha256 { iterations },
                    "sha512" => Function::Pbkdf2Sha512 { iterations },
                    _ => return None,
                }
            }
            ("scrypt", n, r, p) if args.next().is_none() => {
                let number = |arg: Option<&str>, default: u32| match arg {
                    Some(text) => text.parse::<u32>().ok(),
                    None => Some(default),
                };
                let (n, r, p) = (number(n, 32768)?, number(r, 8)?, number(p, 1)?);
                let memory = 128 * u64::from(n) * u64::from(r);
                if !n.is_power_of_two() || n < 2 || r == 0 || p == 0 || p > MAX_SCRYPT_P {
                    return None;
                }
                if memory > MAX_SCRYPT_MEMORY {
                    return None;
                }
                Function::Scrypt {
                    log_n: u8::try_from(n.trailing_zeros()).ok()?,
                    r,
                    p,
                }
            }
            _ => return None,
        };
        let well_formed = !salt.is_empty()
            && hex.len() == 2 * function.output_len()
            && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        well_formed.then_some(Self {
            function,
            salt,
            hex,
        })
    }

    /// Whether `password` (the bytes as typed) is the one this hash was made
    /// from. The comparison takes the same time wherever the first
    /// difference is.
    pub(crate) fn verify(&self, password: &[u8]) -> Result<bool, HashError> {
        let mut output = Zeroizing::new(vec![0u8; self.function.output_len()]);
        let salt = self.salt.as_bytes();
        match self.function {
            Function::Pbkdf2Sha256 { iterations } => {
                pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut output);
            }
            Function::Pbkdf2Sha512 { iterations } => {
                pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, iterations, &mut output);
            }
            Function::Scrypt { log_n, r, p } => {
                let params = scrypt::Params::new(log_n, r, p, output.len())
                    .map_err(|_| HashError::new("scrypt parameters out of range"))?;
                scrypt::scrypt(password, salt, &params, &mut output)
                    .map_err(|_| HashError::new("scrypt output length out of range"))?;
            }
        }
        let computed = Zeroizing::new(lower_hex(&output));
        Ok(bool::from(computed.as_bytes().ct_eq(self.hex.as_bytes())))
    }
}

fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWORD: &[u8] = b"correct horse battery staple";

    /// Vectors made with Python's hashlib and checked by Werkzeug 3.1.8's
    /// `check_password_hash`.
    #[test]
    fn verifies_werkzeug_vectors() {
        let pbkdf2 = "pbkdf2:sha256:1000000$abcdefgh12345678$2ddfd3920981cdcd2f2e0c242f8b8617fcf0cc5d318cea70312731630f399b09";
        let scrypt = "scrypt:32768:8:1$abcdefgh12345678$f901e466024a00c2b8d69b6a821bc3698240fd3cae2868e2fabbb4ce1ecad6145693879af1206911808e1164293b622a739734753247164b84f8a50db2ede65a";
        let seed = "pbkdf2:sha256:1000000$zJKeT4v6$8d9a3b98cda1a49b0c55dec7f67b6ba26e489b7e6978dd41d21ca571008f2616";
        for hash in [pbkdf2, scrypt, seed] {
            let parsed = WerkzeugHash::parse(hash).expect(hash);
            assert!(parsed.verify(PASSWORD).unwrap(), "{hash}");
            assert!(!parsed.verify(b"correct horse battery stapler").unwrap());
        }
    }

    #[test]
    fn refuses_what_it_cannot_verify_safely() {
        let hex64 = "0".repeat(64);
        let hex128 = "0".repeat(128);
        for hash in [
            format!("md5$${}", "0".repeat(32)),
            format!("sha256$salt${hex64}"),
            "plain$$password".to_owned(),
            format!("pbkdf2:sha1:1000$salt${}", "0".repeat(40)),
            format!("pbkdf2:sha256:0$salt${hex64}"),
            format!("pbkdf2:sha256:99999999$salt${hex64}"),
            format!("pbkdf2:sha256:1000$$${hex64}"),
            format!("pbkdf2:sha256:1000$salt${}", "0".repeat(63)),
            format!("pbkdf2:sha256:1000$salt${}", "A".repeat(64)),
            format!("scrypt:1048576:8:1$salt${hex128}"),
            format!("scrypt:1000:8:1$salt${hex128}"),
            format!("scrypt:16384:8:100$salt${hex128}"),
            format!("scrypt:16384:8:1:9$salt${hex128}"),
            "pbkdf2:sha256:1000".to_owned(),
            String::new(),
        ] {
            assert!(WerkzeugHash::parse(&hash).is_none(), "{hash}");
        }
    }

    #[test]
    fn method_defaults_are_werkzeugs() {
        // "pbkdf2" alone is sha256 at Werkzeug's current default count; the
        // hash below is the seed vector's output under that reading.
        let bare =
            "pbkdf2$zJKeT4v6$8d9a3b98cda1a49b0c55dec7f67b6ba26e489b7e6978dd41d21ca571008f2616";
        assert!(WerkzeugHash::parse(bare).unwrap().verify(PASSWORD).unwrap());
    }
}
