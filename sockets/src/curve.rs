//! CURVE keys (RFC 26's long-term key pairs): 32-byte X25519 keys, written as
//! 40 characters of Z85 (RFC 32) the way libzmq's `zmq_curve_keypair` prints them.
//!
//! A secret key is generated from the operating system's random source, its public
//! key derived by X25519 base-point multiplication (libsodium's
//! `crypto_scalarmult_base`, as libzmq's `zmq_curve_public`). This file must never
//! print a secret key (its `Debug` shows none of it), must zero every copy it keeps
//! when dropped, and compares keys in constant time.

use crate::z85::{self, Z85Error};
use std::fmt;
use std::str::FromStr;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// A key's length in bytes.
pub const KEY_LENGTH: usize = 32;
/// A key's length in Z85 characters.
pub const KEY_TEXT_LENGTH: usize = 40;

/// Why a key could not be read or made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// A key in Z85 is exactly 40 characters.
    #[error("a CURVE key in Z85 is {KEY_TEXT_LENGTH} characters, not {length}")]
    TextLength {
        /// The text's length in bytes.
        length: usize,
    },
    /// The text is not Z85.
    #[error("a CURVE key is not valid Z85: {0}")]
    Z85(#[from] Z85Error),
    /// The operating system's random source failed.
    #[error("the system's random source failed: {reason}")]
    Random {
        /// What the operating system said.
        reason: String,
    },
}

/// A long-term or short-term public key (C, S, C' or S' in RFC 26).
#[derive(Clone, Copy, Eq)]
pub struct PublicKey([u8; KEY_LENGTH]);

impl PublicKey {
    /// The key with these bytes.
    pub const fn from_bytes(bytes: [u8; KEY_LENGTH]) -> PublicKey {
        PublicKey(bytes)
    }

    /// Reads a key from its 40 characters of Z85.
    pub fn from_z85(text: &str) -> Result<PublicKey, KeyError> {
        let bytes = decode_key(text)?;
        Ok(PublicKey(*bytes))
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_LENGTH] {
        &self.0
    }

    /// The key as 40 characters of Z85.
    pub fn to_z85(&self) -> String {
        z85::encode(&self.0).unwrap_or_default()
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &PublicKey) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "PublicKey({})", self.to_z85())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.to_z85())
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;

    fn from_str(text: &str) -> Result<PublicKey, KeyError> {
        PublicKey::from_z85(text)
    }
}

/// A secret key (c, s, c' or s' in RFC 26), zeroed when dropped.
#[derive(Clone)]
pub struct SecretKey(Zeroizing<[u8; KEY_LENGTH]>);

impl SecretKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<SecretKey, KeyError> {
        let mut bytes = Zeroizing::new([0u8; KEY_LENGTH]);
        fill_random(bytes.as_mut())?;
        Ok(SecretKey(bytes))
    }

    /// The key with these bytes (the caller should zero its own copy).
    pub fn from_bytes(bytes: [u8; KEY_LENGTH]) -> SecretKey {
        SecretKey(Zeroizing::new(bytes))
    }

    /// Reads a key from its 40 characters of Z85.
    pub fn from_z85(text: &str) -> Result<SecretKey, KeyError> {
        decode_key(text).map(SecretKey)
    }

    /// The key's bytes: secret material, to be handled with care.
    pub fn as_bytes(&self) -> &[u8; KEY_LENGTH] {
        &self.0
    }

    /// The key as 40 characters of Z85, zeroed when dropped.
    pub fn to_z85(&self) -> Zeroizing<String> {
        Zeroizing::new(z85::encode(self.0.as_ref()).unwrap_or_default())
    }

    /// The public key that goes with this one (X25519 base-point multiplication).
    pub fn public_key(&self) -> PublicKey {
        // crypto_box's key zeroes its scalar when dropped; it lives only here.
        let key = crypto_box::SecretKey::from_bytes(*self.0);
        PublicKey(key.public_key().to_bytes())
    }
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &SecretKey) -> bool {
        self.0.ct_eq(other.0.as_ref()).into()
    }
}

impl Eq for SecretKey {}

impl fmt::Debug for SecretKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("SecretKey(..)")
    }
}

/// A secret key and the public key derived from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPair {
    public: PublicKey,
    secret: SecretKey,
}

impl KeyPair {
    /// A fresh key pair from the operating system's random source.
    pub fn generate() -> Result<KeyPair, KeyError> {
        SecretKey::generate().map(KeyPair::from_secret)
    }

    /// The pair whose secret key is `secret`.
    pub fn from_secret(secret: SecretKey) -> KeyPair {
        KeyPair {
            public: secret.public_key(),
            secret,
        }
    }

    /// The public key.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// The secret key.
    pub fn secret(&self) -> &SecretKey {
        &self.secret
    }
}

/// Fills `bytes` from the operating system's random source.
pub(crate) fn fill_random(bytes: &mut [u8]) -> Result<(), KeyError> {
    getrandom::fill(bytes).map_err(|error| KeyError::Random {
        reason: error.to_string(),
    })
}

fn decode_key(text: &str) -> Result<Zeroizing<[u8; KEY_LENGTH]>, KeyError> {
    if text.len() != KEY_TEXT_LENGTH {
        return Err(KeyError::TextLength { length: text.len() });
    }
    let decoded = Zeroizing::new(z85::decode(text)?);
    let mut bytes = Zeroizing::new([0u8; KEY_LENGTH]);
    if decoded.len() == KEY_LENGTH {
        bytes.copy_from_slice(&decoded);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Secret keys and their public keys as libzmq 4.3.5 (with libsodium) derives
    /// them: `zmq.curve_public(secret)` from pyzmq 27.1.0.
    const LIBZMQ_PAIRS: [(&str, &str); 5] = [
        (
            "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs",
            "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID",
        ),
        (
            "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6",
            "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7",
        ),
        (
            "0000000000000000000000000000000000000000",
            "fxERSn6LHg6!4!qu+m-(f-Q<1UF!=7)u0-ysJ-^F",
        ),
        (
            "xIosLl1-zjv}e(JAoR5-HTSf0!{]1OS>^6/SZB!5",
            "s1LZ-<NjwxC+XBhaq}Cs}A#nGQtG0Hd)4Q0QIdHB",
        ),
        (
            "v+tp.}3m&&9#U>i}FkSxtrMQu>4s/I+KZrR:r4x)",
            "me)Yu2lN0lEB2zrou4=Dg4G^PVZiX<NjbhhDHu$o",
        ),
    ];

    #[test]
    fn public_keys_match_libzmq() {
        for (secret, public) in LIBZMQ_PAIRS {
            let pair = KeyPair::from_secret(SecretKey::from_z85(secret).unwrap());
            assert_eq!(pair.public().to_z85(), public, "secret {secret}");
            assert_eq!(pair.secret().to_z85().as_str(), secret);
            assert_eq!(PublicKey::from_z85(public).unwrap(), *pair.public());
        }
    }

    #[test]
    fn generated_pairs_are_distinct_and_consistent() {
        let first = KeyPair::generate().unwrap();
        let second = KeyPair::generate().unwrap();
        assert_ne!(first, second);
        assert_eq!(first.secret().public_key(), *first.public());
        let text = first.public().to_z85();
        assert_eq!(text.len(), KEY_TEXT_LENGTH);
        assert_eq!(text.parse::<PublicKey>().unwrap(), *first.public());
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let pair = KeyPair::from_secret(SecretKey::from_z85(LIBZMQ_PAIRS[0].0).unwrap());
        let shown = format!("{pair:?} {:?}", pair.secret());
        assert!(!shown.contains(LIBZMQ_PAIRS[0].0), "{shown}");
        assert!(shown.contains("SecretKey(..)"));
        assert!(shown.contains(LIBZMQ_PAIRS[0].1), "the public key is shown");
    }

    #[test]
    fn bad_key_text_is_an_error() {
        assert_eq!(
            PublicKey::from_z85("HelloWorld"),
            Err(KeyError::TextLength { length: 10 })
        );
        assert!(matches!(
            SecretKey::from_z85("D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%c "),
            Err(KeyError::Z85(Z85Error::Character { position: 39, .. }))
        ));
    }
}
