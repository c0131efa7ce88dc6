//! The 64-byte ZMTP greeting: what we send, in libzmq's two paced steps, and how
//! the peer's greeting is checked.
//!
//! Layout (RFC 23): signature (0xFF, 8 padding bytes, 0x7F), major, minor, mechanism
//! (20 bytes, NUL-padded), as-server, filler (31 bytes). We send the first 11 bytes
//! at once and the other 53 once the peer's 11th byte has arrived, as libzmq does.
//! Only byte 0 and bit 0 of byte 9 of the peer's signature are checked: libzmq puts
//! its routing id length + 1 in the padding. This file must never validate padding
//! or filler, and never commit to version 3 before the peer's major byte is known.

use super::ProtocolError;
use super::error::printable;
use std::fmt;

/// Bytes in the signature: 0xFF, 8 padding bytes, 0x7F.
pub const SIGNATURE_LENGTH: usize = 10;
/// Bytes sent before waiting for the peer: the signature and the major version.
pub const FIRST_PART_LENGTH: usize = 11;
/// Bytes in a whole greeting.
pub const GREETING_LENGTH: usize = 64;
/// Bytes sent once the peer's major version is known.
pub const SECOND_PART_LENGTH: usize = GREETING_LENGTH - FIRST_PART_LENGTH;

/// The major version we announce.
pub const MAJOR_VERSION: u8 = 3;
/// The minor version we announce (ZMTP 3.1, RFC 37).
pub const MINOR_VERSION: u8 = 1;

/// A security mechanism's name as it appears in the greeting: 20 bytes, NUL-padded.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MechanismName([u8; 20]);

impl MechanismName {
    /// The NULL mechanism (RFC 23).
    pub const NULL: MechanismName = MechanismName::padded(b"NULL");
    /// The PLAIN mechanism (RFC 24).
    pub const PLAIN: MechanismName = MechanismName::padded(b"PLAIN");
    /// The CURVE mechanism (RFC 26).
    pub const CURVE: MechanismName = MechanismName::padded(b"CURVE");

    // Only ever evaluated at compile time on our own literal names; the loop bounds
    // keep both indexes in range.
    #[allow(clippy::indexing_slicing)]
    const fn padded(name: &[u8]) -> MechanismName {
        let mut bytes = [0u8; 20];
        let mut index = 0;
        while index < name.len() && index < 20 {
            bytes[index] = name[index];
            index += 1;
        }
        MechanismName(bytes)
    }

    /// A mechanism named `name` (1 to 20 bytes, no NUL), as a ZAP request names
    /// it; `None` for any other name.
    pub fn from_name(name: &[u8]) -> Option<MechanismName> {
        if name.is_empty() || name.len() > 20 || name.contains(&0) {
            return None;
        }
        let mut bytes = [0u8; 20];
        for (slot, &byte) in bytes.iter_mut().zip(name) {
            *slot = byte;
        }
        Some(MechanismName(bytes))
    }

    /// The 20 bytes as sent on the wire.
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// The name without its NUL padding (as RFC 27's mechanism frame carries it).
    pub fn trimmed(&self) -> &[u8] {
        let end = self.0.iter().position(|&byte| byte == 0).unwrap_or(20);
        self.0.get(..end).unwrap_or(&[])
    }

    /// The name without its NUL padding, as printable text.
    pub fn to_text(&self) -> String {
        printable(self.trimmed())
    }
}

impl fmt::Debug for MechanismName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "MechanismName({})", self.to_text())
    }
}

/// The ZMTP revision in use on a connection, from the peer's announced version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Revision {
    /// ZMTP 3.0 (RFC 23): subscriptions travel as data frames starting 0x01 / 0x00.
    V3_0,
    /// ZMTP 3.1 (RFC 37): SUBSCRIBE and CANCEL commands.
    V3_1,
}

impl Revision {
    /// The revision spoken with a peer that announced `major.minor` (major >= 3):
    /// minor >= 1 or a major above 3 is treated as 3.1, minor 0 as 3.0.
    pub fn from_version(major: u8, minor: u8) -> Revision {
        if major > MAJOR_VERSION || minor >= 1 {
            Revision::V3_1
        } else {
            Revision::V3_0
        }
    }
}

/// What we announce in our own greeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Greeting {
    /// Our security mechanism.
    pub mechanism: MechanismName,
    /// Whether we act as the mechanism's server.
    pub as_server: bool,
    /// Our routing id's length: libzmq writes it + 1 into the padding.
    pub routing_id_length: u8,
}

impl Greeting {
    /// The first 11 bytes: signature and major version, sent at once.
    pub fn first_part(&self) -> [u8; FIRST_PART_LENGTH] {
        let [p1, p2, p3, p4, p5, p6, p7, p8] =
            (u64::from(self.routing_id_length) + 1).to_be_bytes();
        [0xFF, p1, p2, p3, p4, p5, p6, p7, p8, 0x7F, MAJOR_VERSION]
    }

    /// The other 53 bytes: minor version, mechanism, as-server and filler, sent once
    /// the peer's 11th byte has arrived.
    pub fn second_part(&self) -> [u8; SECOND_PART_LENGTH] {
        let mut bytes = [0u8; SECOND_PART_LENGTH];
        let (minor, rest) = bytes.split_at_mut(1);
        let (mechanism, rest) = rest.split_at_mut(20);
        minor.copy_from_slice(&[MINOR_VERSION]);
        mechanism.copy_from_slice(self.mechanism.as_bytes());
        if let Some(as_server) = rest.first_mut() {
            *as_server = u8::from(self.as_server);
        }
        bytes
    }
}

/// Checks the peer's 10-byte signature: byte 0 must be 0xFF and bit 0 of byte 9 set.
pub fn check_signature(signature: &[u8; SIGNATURE_LENGTH]) -> Result<(), ProtocolError> {
    let [first, .., ninth] = *signature;
    if first == 0xFF && ninth & 0x01 == 0x01 {
        Ok(())
    } else {
        Err(ProtocolError::LegacySignature { first, ninth })
    }
}

/// Checks the peer's major version byte (byte 10): ZMTP 3 or later is required.
pub fn check_major(major: u8) -> Result<(), ProtocolError> {
    if major >= MAJOR_VERSION {
        Ok(())
    } else {
        Err(ProtocolError::UnsupportedVersion { major })
    }
}

/// The part of the peer's greeting after its major version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerGreeting {
    /// The revision spoken on this connection.
    pub revision: Revision,
    /// The peer's mechanism.
    pub mechanism: MechanismName,
    /// Whether the peer claims the server role.
    pub as_server: bool,
}

impl PeerGreeting {
    /// Parses the peer's last 53 greeting bytes, given its major version.
    pub fn parse(major: u8, rest: &[u8; SECOND_PART_LENGTH]) -> PeerGreeting {
        let [minor, ref tail @ ..] = *rest;
        let mut mechanism = [0u8; 20];
        for (slot, &byte) in mechanism.iter_mut().zip(tail) {
            *slot = byte;
        }
        let as_server = tail.get(20).is_some_and(|&byte| byte != 0);
        PeerGreeting {
            revision: Revision::from_version(major, minor),
            mechanism: MechanismName(mechanism),
            as_server,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zmtp::harness::hex;

    #[test]
    fn our_greeting_matches_rfc_23_layout() {
        let greeting = Greeting {
            mechanism: MechanismName::NULL,
            as_server: false,
            routing_id_length: 0,
        };
        let mut bytes = greeting.first_part().to_vec();
        bytes.extend_from_slice(&greeting.second_part());
        let expected = hex(concat!(
            "ff 00 00 00 00 00 00 00 01 7f", // signature: libzmq puts routing id length + 1 in the padding
            "03",                            // major
            "01",                            // minor
            "4e 55 4c 4c 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", // "NULL", padded to 20
            "00",                            // as-server
            "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
            "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", // 31 bytes of filler
        ));
        assert_eq!(bytes, expected);
        assert_eq!(bytes.len(), GREETING_LENGTH);
    }

    #[test]
    fn padding_carries_routing_id_length_plus_one_and_as_server_is_set() {
        let greeting = Greeting {
            mechanism: MechanismName::PLAIN,
            as_server: true,
            routing_id_length: 4,
        };
        assert_eq!(
            greeting.first_part(),
            [0xff, 0, 0, 0, 0, 0, 0, 0, 5, 0x7f, 3]
        );
        let second = greeting.second_part();
        assert_eq!(&second[1..6], b"PLAIN");
        assert_eq!(second[21], 1);
    }

    #[test]
    fn signature_checks_only_byte_zero_and_bit_zero_of_byte_nine() {
        assert!(check_signature(&[0xff, 1, 2, 3, 4, 5, 6, 7, 8, 0x7f]).is_ok());
        assert!(check_signature(&[0xff, 0xaa, 0, 0, 0, 0, 0, 0, 0xbb, 0x01]).is_ok());
        assert_eq!(
            check_signature(&[0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f]),
            Err(ProtocolError::LegacySignature {
                first: 0x01,
                ninth: 0x7f
            })
        );
        assert!(check_signature(&[0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7e]).is_err());
    }

    #[test]
    fn versions_map_to_revisions() {
        assert_eq!(
            check_major(0),
            Err(ProtocolError::UnsupportedVersion { major: 0 })
        );
        assert_eq!(
            check_major(1),
            Err(ProtocolError::UnsupportedVersion { major: 1 })
        );
        assert_eq!(
            check_major(2),
            Err(ProtocolError::UnsupportedVersion { major: 2 })
        );
        assert!(check_major(3).is_ok());
        assert!(check_major(4).is_ok());
        assert_eq!(Revision::from_version(3, 0), Revision::V3_0);
        assert_eq!(Revision::from_version(3, 1), Revision::V3_1);
        assert_eq!(Revision::from_version(3, 7), Revision::V3_1);
        assert_eq!(Revision::from_version(4, 0), Revision::V3_1);
    }

    #[test]
    fn peer_greeting_rest_parses_minor_mechanism_and_role_ignoring_filler() {
        let mut rest = [0xAAu8; SECOND_PART_LENGTH];
        rest[0] = 0;
        rest[1..21].copy_from_slice(MechanismName::CURVE.as_bytes());
        rest[21] = 1;
        let peer = PeerGreeting::parse(3, &rest);
        assert_eq!(peer.revision, Revision::V3_0);
        assert_eq!(peer.mechanism, MechanismName::CURVE);
        assert!(peer.as_server);
        assert_eq!(peer.mechanism.to_text(), "CURVE");
    }

    #[test]
    fn mechanism_names_from_bytes_round_trip_without_padding() {
        assert_eq!(
            MechanismName::from_name(b"PLAIN"),
            Some(MechanismName::PLAIN)
        );
        assert_eq!(MechanismName::PLAIN.trimmed(), b"PLAIN");
        let gssapi = MechanismName::from_name(b"GSSAPI").unwrap();
        assert_eq!(gssapi.trimmed(), b"GSSAPI");
        assert_eq!(&gssapi.as_bytes()[6..], &[0u8; 14]);
        assert_eq!(
            MechanismName::from_name(&[b'X'; 20]).unwrap().trimmed(),
            &[b'X'; 20]
        );
        for bad in [&b""[..], &[b'X'; 21], b"NU\0LL"] {
            assert_eq!(MechanismName::from_name(bad), None, "{bad:?}");
        }
    }
}
