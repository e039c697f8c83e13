//! The cryptography of the audit log (R-AUDIT): a keyed hash that chains the entries and a
//! signature over checkpoints of every chain's head, both with keys kept outside the database.
//! Two suites, chosen once per deployment: HMAC-SHA256 with Ed25519 (the default), or the
//! commercial-cryptography suite of GB/T 39786 (密评), HMAC-SM3 with SM2.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sm2::dsa::signature::{Signer, Verifier};
use sm3::Sm3;
use zeroize::Zeroizing;

/// Which algorithms a deployment uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    /// HMAC-SHA256 and Ed25519.
    Standard,
    /// 国密: HMAC-SM3 and SM2 (with the default distinguishing identifier of GM/T 0009).
    Gm,
}

/// The SM2 distinguishing identifier every signer and verifier uses (GM/T 0009's default).
const SM2_DISTID: &str = "1234567812345678";

impl Suite {
    pub fn parse(s: &str) -> Option<Suite> {
        match s {
            "standard" => Some(Suite::Standard),
            "gm" => Some(Suite::Gm),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Suite::Standard => "standard",
            Suite::Gm => "gm",
        }
    }

    /// The keyed hash's name, as key files and checkpoints state it.
    pub fn mac_name(self) -> &'static str {
        match self {
            Suite::Standard => "hmac-sha256",
            Suite::Gm => "hmac-sm3",
        }
    }

    /// The signature's name, as key files and checkpoints state it.
    pub fn signature_name(self) -> &'static str {
        match self {
            Suite::Standard => "ed25519",
            Suite::Gm => "sm2",
        }
    }

    /// The suite a pair of algorithm names belongs to; `None` for a mixed or unknown pair.
    pub fn of(mac: &str, signature: &str) -> Option<Suite> {
        [Suite::Standard, Suite::Gm]
            .into_iter()
            .find(|s| s.mac_name() == mac && s.signature_name() == signature)
    }

    /// Checks `signature` over `message` with a public key of this suite.
    pub fn verify(self, public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
        match self {
            Suite::Standard => {
                let (Ok(key), Ok(sig)) = (
                    <[u8; 32]>::try_from(public_key),
                    <[u8; 64]>::try_from(signature),
                ) else {
                    return false;
                };
                ed25519_dalek::VerifyingKey::from_bytes(&key).is_ok_and(|k| {
                    k.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&sig))
                        .is_ok()
                })
            }
            Suite::Gm => {
                let (Ok(key), Ok(sig)) = (
                    sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DISTID, public_key),
                    sm2::dsa::Signature::from_slice(signature),
                ) else {
                    return false;
                };
                key.verify(message, &sig).is_ok()
            }
        }
    }
}

enum SigningKey {
    Ed25519(ed25519_dalek::SigningKey),
    Sm2(sm2::dsa::SigningKey),
}

/// The audit keys of a server: the chain's keyed-hash key and the checkpoint signing key.
pub struct AuditKeys {
    suite: Suite,
    mac_key: Zeroizing<[u8; 32]>,
    signing: SigningKey,
}

impl AuditKeys {
    /// From the two secrets; `None` when the signing secret is not a valid key of the suite
    /// (an SM2 scalar must be below the group order).
    pub fn new(suite: Suite, mac_key: [u8; 32], signing_secret: &[u8; 32]) -> Option<AuditKeys> {
        let signing = match suite {
            Suite::Standard => {
                SigningKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(signing_secret))
            }
            Suite::Gm => {
                SigningKey::Sm2(sm2::dsa::SigningKey::from_slice(SM2_DISTID, signing_secret).ok()?)
            }
        };
        Some(AuditKeys {
            suite,
            mac_key: Zeroizing::new(mac_key),
            signing,
        })
    }

    /// Whether `secret` is a valid signing secret of `suite` (key generation retries until so).
    pub fn valid_signing_secret(suite: Suite, secret: &[u8; 32]) -> bool {
        AuditKeys::new(suite, [0; 32], secret).is_some()
    }

    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The keyed hash of the concatenated `parts`.
    pub fn mac(&self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
            let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key)
                .expect("HMAC takes a key of any length");
            for p in parts {
                mac.update(p);
            }
            mac.finalize().into_bytes().to_vec()
        }
        match self.suite {
            Suite::Standard => run::<Hmac<Sha256>>(self.mac_key.as_ref(), parts),
            Suite::Gm => run::<Hmac<Sm3>>(self.mac_key.as_ref(), parts),
        }
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.signing {
            SigningKey::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
            SigningKey::Sm2(k) => {
                let sig: sm2::dsa::Signature = k.sign(message);
                sig.to_bytes().to_vec()
            }
        }
    }

    /// The public half of the signing key: 32 bytes (Ed25519) or SEC1 uncompressed (SM2).
    pub fn public_key(&self) -> Vec<u8> {
        match &self.signing {
            SigningKey::Ed25519(k) => k.verifying_key().to_bytes().to_vec(),
            SigningKey::Sm2(k) => k.verifying_key().to_sec1_bytes().to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(suite: Suite) -> AuditKeys {
        let mut secret = [7u8; 32];
        while !AuditKeys::valid_signing_secret(suite, &secret) {
            secret[0] += 1;
        }
        AuditKeys::new(suite, [9; 32], &secret).unwrap()
    }

    #[test]
    fn r_audit_each_suite_signs_and_verifies_and_refuses_a_changed_message() {
        for suite in [Suite::Standard, Suite::Gm] {
            let k = keys(suite);
            let sig = k.sign(b"checkpoint");
            assert!(
                suite.verify(&k.public_key(), b"checkpoint", &sig),
                "{suite:?}"
            );
            assert!(
                !suite.verify(&k.public_key(), b"checkpoinT", &sig),
                "{suite:?}"
            );
            let other = if suite == Suite::Gm {
                Suite::Standard
            } else {
                Suite::Gm
            };
            assert!(!other.verify(&k.public_key(), b"checkpoint", &sig));
        }
    }

    #[test]
    fn r_audit_the_keyed_hash_depends_on_the_key_and_the_suite() {
        let a = keys(Suite::Standard).mac(&[b"entry"]);
        let b = keys(Suite::Gm).mac(&[b"entry"]);
        assert_eq!(a.len(), 32);
        assert_eq!(b.len(), 32);
        assert_ne!(a, b);
        let mut other = keys(Suite::Standard);
        other.mac_key = Zeroizing::new([10; 32]);
        assert_ne!(a, other.mac(&[b"entry"]));
        // The parts are hashed as one message.
        assert_eq!(keys(Suite::Gm).mac(&[b"en", b"try"]), b);
    }

    /// SM3 itself: the example of GB/T 32905-2016, SM3("abc").
    #[test]
    fn sm3_matches_the_standards_example() {
        use sm3::Digest;
        assert_eq!(
            hex::encode(Sm3::digest(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    #[test]
    fn suites_are_named_by_their_algorithms() {
        assert_eq!(Suite::of("hmac-sm3", "sm2"), Some(Suite::Gm));
        assert_eq!(Suite::of("hmac-sha256", "ed25519"), Some(Suite::Standard));
        assert_eq!(Suite::of("hmac-sha256", "sm2"), None);
    }
}
