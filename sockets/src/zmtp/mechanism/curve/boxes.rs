//! CurveZMQ's boxes and nonces (RFC 26), the pieces every CURVE command is made
//! of.
//!
//! A box is NaCl's `crypto_box` (X25519 + XSalsa20-Poly1305) or, for the cookie,
//! `crypto_secretbox` (XSalsa20-Poly1305 under a symmetric key). On the wire a box
//! is its 16-byte Poly1305 tag followed by the ciphertext: libsodium's layout once
//! its 16 leading zero bytes are dropped, as libzmq sends it. A nonce is 24 bytes:
//! a 16-byte prefix and an 8-byte big-endian counter (a "short nonce"), or an
//! 8-byte prefix and 16 random bytes (a "long nonce"). Boxes are sealed and opened
//! in place, so a frame's bytes are never copied for it. This file must never
//! hand out plaintext from a box whose tag did not verify, and never keep a secret
//! key longer than one call.

use crate::curve::{KEY_LENGTH, KeyError, PublicKey, SecretKey, fill_random};
use crate::zmtp::ProtocolError;
use crypto_box::SalsaBox;
use crypto_box::aead::AeadInPlace;
use crypto_box::aead::consts::{U16, U24};
use crypto_secretbox::XSalsa20Poly1305;
use crypto_secretbox::aead::KeyInit;
use zeroize::Zeroizing;

/// A box's Poly1305 tag, in front of its ciphertext.
pub(crate) const TAG_LENGTH: usize = 16;
/// A whole nonce.
pub(crate) const NONCE_LENGTH: usize = 24;
/// The random part of a long nonce (WELCOME, cookie, vouch).
pub(crate) const LONG_NONCE_LENGTH: usize = 16;

/// A 24-byte nonce.
pub(crate) type Nonce = [u8; NONCE_LENGTH];

/// A NaCl box: `crypto_box` precomputed, or `crypto_secretbox`.
pub(crate) trait NaclBox: AeadInPlace<NonceSize = U24, TagSize = U16> {}

impl<Cipher: AeadInPlace<NonceSize = U24, TagSize = U16>> NaclBox for Cipher {}

/// A short nonce: a 16-byte prefix ("CurveZMQHELLO---"...) and a counter.
pub(crate) fn short_nonce(prefix: &[u8; 16], counter: u64) -> Nonce {
    let mut nonce = [0u8; NONCE_LENGTH];
    let (head, tail) = nonce.split_at_mut(16);
    head.copy_from_slice(prefix);
    tail.copy_from_slice(&counter.to_be_bytes());
    nonce
}

/// A long nonce: an 8-byte prefix ("WELCOME-", "COOKIE--", "VOUCH---") and 16
/// bytes that are random when we make them.
pub(crate) fn long_nonce(prefix: &[u8; 8], random: &[u8; LONG_NONCE_LENGTH]) -> Nonce {
    let mut nonce = [0u8; NONCE_LENGTH];
    let (head, tail) = nonce.split_at_mut(8);
    head.copy_from_slice(prefix);
    tail.copy_from_slice(random);
    nonce
}

/// 16 random bytes for a long nonce.
pub(crate) fn random_nonce() -> Result<[u8; LONG_NONCE_LENGTH], ProtocolError> {
    let mut random = [0u8; LONG_NONCE_LENGTH];
    fill_random(&mut random).map_err(no_randomness)?;
    Ok(random)
}

/// A fresh 32-byte symmetric key (the server's cookie key), zeroed when dropped.
pub(crate) fn random_key() -> Result<Zeroizing<[u8; KEY_LENGTH]>, ProtocolError> {
    let mut key = Zeroizing::new([0u8; KEY_LENGTH]);
    fill_random(key.as_mut()).map_err(no_randomness)?;
    Ok(key)
}

/// Maps a failed random source to the connection's error.
pub(crate) fn no_randomness(error: KeyError) -> ProtocolError {
    ProtocolError::NoRandomness {
        reason: error.to_string(),
    }
}

/// The box between `ours` and `peer`, precomputed once (libsodium's
/// `crypto_box_beforenm`); its key is zeroed when it is dropped.
pub(crate) fn precompute(peer: &PublicKey, ours: &SecretKey) -> SalsaBox {
    // crypto_box's secret key zeroes its scalar when dropped; it lives only here.
    let secret = crypto_box::SecretKey::from_bytes(*ours.as_bytes());
    SalsaBox::new(
        &crypto_box::PublicKey::from_bytes(*peer.as_bytes()),
        &secret,
    )
}

/// The secret box under a symmetric key (the cookie's).
pub(crate) fn secret_box(key: &[u8; KEY_LENGTH]) -> XSalsa20Poly1305 {
    XSalsa20Poly1305::new(key.into())
}

/// Seals `boxed` in place: on entry its first 16 bytes are room for the tag and
/// the rest is plaintext; on return it is the box as sent. Sealing cannot fail:
/// XSalsa20-Poly1305 refuses only associated data, which CurveZMQ never passes;
/// were it to, the text is zeroed, so nothing leaves in the clear and the peer
/// refuses the box.
pub(crate) fn seal(cipher: &impl NaclBox, nonce: &Nonce, boxed: &mut [u8]) {
    let Some((tag, text)) = boxed.split_first_chunk_mut::<TAG_LENGTH>() else {
        return;
    };
    match cipher.encrypt_in_place_detached(nonce.as_slice().into(), &[], text) {
        Ok(sealed) => tag.copy_from_slice(&sealed),
        Err(_) => text.fill(0),
    }
}

/// Opens `boxed` in place (tag then ciphertext); on success the plaintext is
/// `boxed[16..]`. On failure `what` names the box in the error.
pub(crate) fn open(
    cipher: &impl NaclBox,
    nonce: &Nonce,
    boxed: &mut [u8],
    what: &'static str,
) -> Result<(), ProtocolError> {
    let rejected = ProtocolError::CurveBadBox { what };
    let (tag, text) = boxed
        .split_first_chunk_mut::<TAG_LENGTH>()
        .ok_or(rejected.clone())?;
    let tag = *tag;
    cipher
        .decrypt_in_place_detached(nonce.as_slice().into(), &[], text, tag.as_slice().into())
        .map_err(|_| rejected)
}

/// Opens a copy of `boxed` and returns its plaintext, zeroed when dropped (for the
/// handshake's small boxes).
pub(crate) fn open_copy(
    cipher: &impl NaclBox,
    nonce: &Nonce,
    boxed: &[u8],
    what: &'static str,
) -> Result<Zeroizing<Vec<u8>>, ProtocolError> {
    let mut copy = Zeroizing::new(boxed.to_vec());
    open(cipher, nonce, &mut copy, what)?;
    let tag = TAG_LENGTH.min(copy.len());
    copy.drain(..tag);
    Ok(copy)
}

/// Seals the concatenation of `parts` and returns the box (tag then ciphertext).
pub(crate) fn seal_parts(cipher: &impl NaclBox, nonce: &Nonce, parts: &[&[u8]]) -> Vec<u8> {
    let length = parts.iter().map(|part| part.len()).sum::<usize>();
    let mut boxed = Vec::with_capacity(TAG_LENGTH + length);
    boxed.resize(TAG_LENGTH, 0);
    for part in parts {
        boxed.extend_from_slice(part);
    }
    seal(cipher, nonce, &mut boxed);
    boxed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curve::KeyPair;

    #[test]
    fn nonces_are_prefix_then_counter_or_random() {
        let nonce = short_nonce(b"CurveZMQMESSAGEC", 0x0102);
        assert_eq!(&nonce[..16], b"CurveZMQMESSAGEC");
        assert_eq!(&nonce[16..], &[0, 0, 0, 0, 0, 0, 1, 2]);
        let nonce = long_nonce(b"COOKIE--", &[7; 16]);
        assert_eq!(&nonce[..8], b"COOKIE--");
        assert_eq!(&nonce[8..], &[7; 16]);
        assert_ne!(random_nonce().unwrap(), random_nonce().unwrap());
    }

    #[test]
    fn a_box_opens_only_with_the_other_sides_keys_and_its_nonce() {
        let alice = KeyPair::generate().unwrap();
        let bob = KeyPair::generate().unwrap();
        let eve = KeyPair::generate().unwrap();
        let nonce = short_nonce(b"CurveZMQREADY---", 1);
        let sealed = seal_parts(
            &precompute(bob.public(), alice.secret()),
            &nonce,
            &[b"hello ", b"bob"],
        );
        assert_eq!(sealed.len(), TAG_LENGTH + 9);
        let at_bob = precompute(alice.public(), bob.secret());
        let opened = open_copy(&at_bob, &nonce, &sealed, "test box").unwrap();
        assert_eq!(opened.as_slice(), b"hello bob");
        let at_eve = precompute(alice.public(), eve.secret());
        assert_eq!(
            open_copy(&at_eve, &nonce, &sealed, "test box"),
            Err(ProtocolError::CurveBadBox { what: "test box" })
        );
        let other_nonce = short_nonce(b"CurveZMQREADY---", 2);
        assert!(open_copy(&at_bob, &other_nonce, &sealed, "test box").is_err());
        assert!(open_copy(&at_bob, &nonce, &sealed[..10], "test box").is_err());
    }

    #[test]
    fn secret_boxes_open_with_their_key() {
        let key = random_key().unwrap();
        let nonce = long_nonce(b"COOKIE--", &random_nonce().unwrap());
        let sealed = seal_parts(&secret_box(&key), &nonce, &[&[9; 64]]);
        assert_eq!(sealed.len(), 80, "the cookie's box is 80 bytes");
        let opened = open_copy(&secret_box(&key), &nonce, &sealed, "cookie").unwrap();
        assert_eq!(opened.as_slice(), &[9; 64]);
        let other = random_key().unwrap();
        assert!(open_copy(&secret_box(&other), &nonce, &sealed, "cookie").is_err());
    }
}
