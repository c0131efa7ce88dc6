//! A ZAP handler's decisions, sans-IO, as czmq's zauth takes them: an
//! [`Authenticator`] holds the rules and [`Authenticator::decide`] turns a
//! [`ZapRequest`] into the [`ZapReply`] to send back.
//!
//! zauth's rules, in its order:
//! 1. Addresses first, for every mechanism: if the allow list is not empty, an
//!    address on it passes and any other is denied; otherwise, if the deny list is
//!    not empty, an address on it is denied and any other passes.
//! 2. Then, unless denied: NULL is admitted; PLAIN only with a user name and the
//!    password the table holds for it (even from an allowed address); CURVE only
//!    with a listed key, or any key once any is allowed ("*"); GSSAPI is admitted
//!    (zauth does not check it); any other mechanism only if its address passed.
//! 3. The reply is "200" "OK" with the user id (PLAIN: the user name; a listed
//!    CURVE key: the key in Z85, 40 characters; any key: none; GSSAPI: the
//!    principal), or "400" "No access" with none.
//!
//! Addresses are compared exactly, as text. This file must never do I/O, never
//! admit what zauth would deny, and never compare passwords in a time that
//! depends on where they differ.

use crate::zmtp::mechanism::{ZapReply, ZapRequest};
use bytes::Bytes;
use std::collections::{HashMap, HashSet};

/// Which CURVE clients' long-term public keys are admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CurveKeys {
    /// Only these keys (none at first: no CURVE client is admitted).
    Listed(HashSet<[u8; 32]>),
    /// Any key (zauth's `CURVE_ALLOW_ANY`, "*"); the user id is left empty.
    Any,
}

impl Default for CurveKeys {
    fn default() -> CurveKeys {
        CurveKeys::Listed(HashSet::new())
    }
}

/// zauth's `CURVE_ALLOW_ANY`: the location that admits any CURVE key.
pub const CURVE_ALLOW_ANY: &str = "*";

/// The rules a ZAP handler applies (czmq's zauth), with none at first: every
/// NULL client is admitted, every PLAIN and CURVE client refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Authenticator {
    /// Addresses admitted (zauth's ALLOW); when not empty, all others are denied.
    allowed: HashSet<Bytes>,
    /// Addresses denied (zauth's DENY); consulted only when `allowed` is empty.
    denied: HashSet<Bytes>,
    /// PLAIN's user names and their passwords (zauth's password file).
    passwords: HashMap<Bytes, Bytes>,
    /// The CURVE keys admitted.
    curve: CurveKeys,
}

impl Authenticator {
    /// An authenticator with no rules.
    pub fn new() -> Authenticator {
        Authenticator::default()
    }

    /// Admits clients from `address` (and, once any address is allowed, only the
    /// allowed ones).
    pub fn allow(&mut self, address: impl Into<Bytes>) -> &mut Authenticator {
        self.allowed.insert(address.into());
        self
    }

    /// Denies clients from `address` (ignored while any address is allowed, as in
    /// zauth).
    pub fn deny(&mut self, address: impl Into<Bytes>) -> &mut Authenticator {
        self.denied.insert(address.into());
        self
    }

    /// Sets PLAIN's password for `username`.
    pub fn set_password(
        &mut self,
        username: impl Into<Bytes>,
        password: impl Into<Bytes>,
    ) -> &mut Authenticator {
        self.passwords.insert(username.into(), password.into());
        self
    }

    /// Admits the CURVE client with this long-term public key.
    pub fn allow_curve_key(&mut self, key: [u8; 32]) -> &mut Authenticator {
        match &mut self.curve {
            CurveKeys::Listed(keys) => {
                keys.insert(key);
            }
            CurveKeys::Any => {}
        }
        self
    }

    /// Sets which CURVE keys are admitted ([`CurveKeys::Any`] for zauth's "*").
    pub fn set_curve_keys(&mut self, keys: CurveKeys) -> &mut Authenticator {
        self.curve = keys;
        self
    }

    /// The reply to `request`, by zauth's rules.
    pub fn decide(&self, request: &ZapRequest) -> ZapReply {
        let address = &request.address;
        let (passed, denied) = if !self.allowed.is_empty() {
            let passed = self.allowed.contains(address);
            (passed, !passed)
        } else if !self.denied.is_empty() {
            let denied = self.denied.contains(address);
            (!denied, denied)
        } else {
            (false, false)
        };
        if denied {
            return refuse();
        }
        let verdict = match request.mechanism.trimmed() {
            b"NULL" => Some(Bytes::new()),
            b"PLAIN" => self.check_plain(&request.credentials),
            b"CURVE" => self.check_curve(&request.credentials),
            b"GSSAPI" => Some(request.credentials.first().cloned().unwrap_or_default()),
            _ => passed.then(Bytes::new),
        };
        match verdict {
            Some(user_id) => ZapReply {
                user_id,
                ..ZapReply::allow()
            },
            None => refuse(),
        }
    }

    /// The user id if the user name and password match the table.
    fn check_plain(&self, credentials: &[Bytes]) -> Option<Bytes> {
        let [username, password] = credentials else {
            return None;
        };
        let expected = self.passwords.get(username)?;
        same_secret(expected, password).then(|| username.clone())
    }

    /// The user id if the key is admitted.
    fn check_curve(&self, credentials: &[Bytes]) -> Option<Bytes> {
        let [key] = credentials else {
            return None;
        };
        let key = <[u8; 32]>::try_from(key.as_ref()).ok()?;
        match &self.curve {
            CurveKeys::Any => Some(Bytes::new()),
            CurveKeys::Listed(keys) => keys
                .contains(&key)
                .then(|| Bytes::from(z85_encode_key(&key))),
        }
    }
}

/// zauth's refusal.
fn refuse() -> ZapReply {
    ZapReply {
        status_code: Bytes::from_static(b"400"),
        status_text: Bytes::from_static(b"No access"),
        ..ZapReply::allow()
    }
}

/// Whether two secrets are equal, looking at every byte of the shorter one
/// whatever their contents.
fn same_secret(expected: &[u8], given: &[u8]) -> bool {
    let differences = expected
        .iter()
        .zip(given)
        .fold(0u8, |acc, (left, right)| acc | (left ^ right));
    differences == 0 && expected.len() == given.len()
}

/// Z85's alphabet (RFC 32).
const Z85: &[u8; 85] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/// A 32-byte key in Z85 text (RFC 32): 40 characters, as zauth names CURVE users.
fn z85_encode_key(key: &[u8; 32]) -> String {
    let mut text = String::with_capacity(40);
    for chunk in key.chunks_exact(4) {
        let mut value = chunk
            .iter()
            .fold(0u32, |acc, &byte| (acc << 8) | u32::from(byte));
        let mut digits = [0u8; 5];
        for digit in digits.iter_mut().rev() {
            *digit = Z85.get((value % 85) as usize).copied().unwrap_or(b'0');
            value /= 85;
        }
        text.extend(digits.iter().map(|&digit| char::from(digit)));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zmtp::MechanismName;

    fn request(
        mechanism: MechanismName,
        address: &'static str,
        credentials: &[&[u8]],
    ) -> ZapRequest {
        ZapRequest {
            domain: Bytes::new(),
            address: Bytes::from_static(address.as_bytes()),
            identity: Bytes::new(),
            mechanism,
            credentials: credentials
                .iter()
                .map(|c| Bytes::copy_from_slice(c))
                .collect(),
        }
    }

    fn null(address: &'static str) -> ZapRequest {
        request(MechanismName::NULL, address, &[])
    }

    fn plain(username: &'static str, password: &'static str) -> ZapRequest {
        request(
            MechanismName::PLAIN,
            "10.0.0.1",
            &[username.as_bytes(), password.as_bytes()],
        )
    }

    fn admitted(reply: &ZapReply) -> bool {
        match reply.status_code.as_ref() {
            b"200" => {
                assert_eq!(reply.status_text, "OK");
                true
            }
            b"400" => {
                assert_eq!(reply.status_text, "No access");
                assert_eq!(reply.user_id, "");
                false
            }
            other => panic!("zauth answers 200 or 400, not {other:?}"),
        }
    }

    #[test]
    fn with_no_rules_null_is_admitted_and_plain_and_curve_refused() {
        let auth = Authenticator::new();
        assert!(admitted(&auth.decide(&null("10.0.0.1"))));
        assert_eq!(auth.decide(&null("10.0.0.1")).user_id, "");
        assert!(!admitted(&auth.decide(&plain("admin", "secret"))));
        assert!(!admitted(&auth.decide(&request(
            MechanismName::CURVE,
            "10.0.0.1",
            &[&[1; 32]]
        ))));
    }

    #[test]
    fn the_allow_list_admits_only_its_addresses_for_every_mechanism() {
        let mut auth = Authenticator::new();
        auth.allow("127.0.0.1").set_password("admin", "secret");
        assert!(admitted(&auth.decide(&null("127.0.0.1"))));
        assert!(!admitted(&auth.decide(&null("10.0.0.2"))));
        let mut from_elsewhere = plain("admin", "secret");
        from_elsewhere.address = Bytes::from_static(b"10.0.0.2");
        assert!(
            !admitted(&auth.decide(&from_elsewhere)),
            "denied before the password"
        );
        let mut from_allowed = plain("admin", "wrong");
        from_allowed.address = Bytes::from_static(b"127.0.0.1");
        assert!(
            !admitted(&auth.decide(&from_allowed)),
            "PLAIN must still authenticate"
        );
        assert!(
            !admitted(&auth.decide(&null("127.0.0.1 "))),
            "compared exactly"
        );
    }

    #[test]
    fn the_deny_list_blocks_its_addresses_and_is_ignored_beside_an_allow_list() {
        let mut auth = Authenticator::new();
        auth.deny("10.0.0.9");
        assert!(!admitted(&auth.decide(&null("10.0.0.9"))));
        assert!(admitted(&auth.decide(&null("10.0.0.1"))));
        auth.allow("10.0.0.9");
        assert!(
            admitted(&auth.decide(&null("10.0.0.9"))),
            "as zauth: the allow list decides"
        );
        assert!(!admitted(&auth.decide(&null("10.0.0.1"))));
    }

    #[test]
    fn plain_is_checked_against_the_password_table() {
        let mut auth = Authenticator::new();
        auth.set_password("admin", "secret")
            .set_password("guest", "");
        let reply = auth.decide(&plain("admin", "secret"));
        assert!(admitted(&reply));
        assert_eq!(reply.user_id, "admin", "the user name is the user id");
        assert!(admitted(&auth.decide(&plain("guest", ""))));
        for (username, password) in [
            ("admin", "wrong"),
            ("admin", "secret "),
            ("admin", "secre"),
            ("admin", ""),
            ("nobody", "secret"),
            ("Admin", "secret"),
        ] {
            assert!(
                !admitted(&auth.decide(&plain(username, password))),
                "{username}/{password}"
            );
        }
        let missing = request(MechanismName::PLAIN, "10.0.0.1", &[b"admin"]);
        assert!(!admitted(&auth.decide(&missing)));
        let mut blocked = plain("admin", "secret");
        auth.deny("10.0.0.1");
        blocked.address = Bytes::from_static(b"10.0.0.1");
        assert!(!admitted(&auth.decide(&blocked)));
    }

    #[test]
    fn curve_is_checked_against_the_key_list_or_any_key() {
        let key = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B].repeat(4);
        let key: [u8; 32] = key.try_into().unwrap();
        let mut auth = Authenticator::new();
        auth.allow_curve_key(key);
        let reply = auth.decide(&request(MechanismName::CURVE, "10.0.0.1", &[&key]));
        assert!(admitted(&reply));
        assert_eq!(reply.user_id, "HelloWorld".repeat(4), "the key in Z85");
        assert!(!admitted(&auth.decide(&request(
            MechanismName::CURVE,
            "10.0.0.1",
            &[&[0; 32]]
        ))));
        assert!(!admitted(&auth.decide(&request(
            MechanismName::CURVE,
            "10.0.0.1",
            &[&key[..31]]
        ))));
        auth.set_curve_keys(CurveKeys::Any);
        let reply = auth.decide(&request(MechanismName::CURVE, "10.0.0.1", &[&[0; 32]]));
        assert!(admitted(&reply));
        assert_eq!(reply.user_id, "", "zauth names no user for any key");
        auth.deny("10.0.0.1");
        assert!(!admitted(&auth.decide(&request(
            MechanismName::CURVE,
            "10.0.0.1",
            &[&key]
        ))));
        assert_eq!(CURVE_ALLOW_ANY, "*");
    }

    #[test]
    fn other_mechanisms_follow_zauth() {
        let gssapi = MechanismName::from_name(b"GSSAPI").unwrap();
        let other = MechanismName::from_name(b"X-CUSTOM").unwrap();
        let mut auth = Authenticator::new();
        let reply = auth.decide(&request(gssapi, "10.0.0.1", &[b"alice@REALM"]));
        assert!(admitted(&reply), "zauth admits GSSAPI unchecked");
        assert_eq!(reply.user_id, "alice@REALM");
        assert!(!admitted(&auth.decide(&request(other, "10.0.0.1", &[]))));
        auth.allow("10.0.0.1");
        assert!(
            admitted(&auth.decide(&request(other, "10.0.0.1", &[]))),
            "its address passed"
        );
        assert!(!admitted(&auth.decide(&request(
            gssapi,
            "10.0.0.2",
            &[b"alice"]
        ))));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(same_secret(b"", b""));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"ab"));
        assert!(!same_secret(b"ab", b"abc"));
    }
}
