//! The socket types of ZeroMQ, their wire names, and which may talk to which.
//!
//! The compatibility matrix is libzmq 4.3's (`mechanism_t::check_socket_type`), not
//! a looser reading of the RFCs: a peer libzmq would refuse, we refuse. Wire names
//! are upper case and matched exactly, as libzmq writes and compares them. This file
//! must never accept a draft socket type we do not implement.

use std::fmt;

/// A ZeroMQ socket type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocketType {
    /// Exclusive pair (RFC 31), `ZMQ_PAIR`.
    Pair,
    /// Publisher (RFC 29), `ZMQ_PUB`.
    Publish,
    /// Subscriber (RFC 29), `ZMQ_SUB`.
    Subscribe,
    /// Requester (RFC 28), `ZMQ_REQ`.
    Request,
    /// Replier (RFC 28), `ZMQ_REP`.
    Reply,
    /// Asynchronous requester (RFC 28), `ZMQ_DEALER`.
    Dealer,
    /// Asynchronous replier (RFC 28), `ZMQ_ROUTER`.
    Router,
    /// Pipeline consumer (RFC 30), `ZMQ_PULL`.
    Pull,
    /// Pipeline producer (RFC 30), `ZMQ_PUSH`.
    Push,
    /// Publisher that sees subscriptions (RFC 29), `ZMQ_XPUB`.
    ExtendedPublish,
    /// Subscriber that sends raw subscriptions (RFC 29), `ZMQ_XSUB`.
    ExtendedSubscribe,
    /// Raw TCP or IPC, no ZMTP at all, `ZMQ_STREAM`: it talks to plain byte
    /// streams and to no ZeroMQ socket type.
    Stream,
}

impl SocketType {
    /// Every socket type, in libzmq's numbering order.
    pub const ALL: [SocketType; 12] = [
        SocketType::Pair,
        SocketType::Publish,
        SocketType::Subscribe,
        SocketType::Request,
        SocketType::Reply,
        SocketType::Dealer,
        SocketType::Router,
        SocketType::Pull,
        SocketType::Push,
        SocketType::ExtendedPublish,
        SocketType::ExtendedSubscribe,
        SocketType::Stream,
    ];

    /// The name sent in the `Socket-Type` property of READY.
    pub fn wire_name(self) -> &'static str {
        match self {
            SocketType::Pair => "PAIR",
            SocketType::Publish => "PUB",
            SocketType::Subscribe => "SUB",
            SocketType::Request => "REQ",
            SocketType::Reply => "REP",
            SocketType::Dealer => "DEALER",
            SocketType::Router => "ROUTER",
            SocketType::Pull => "PULL",
            SocketType::Push => "PUSH",
            SocketType::ExtendedPublish => "XPUB",
            SocketType::ExtendedSubscribe => "XSUB",
            SocketType::Stream => "STREAM",
        }
    }

    /// Parses a wire name exactly as libzmq compares it (case-sensitive).
    pub fn from_wire_name(name: &[u8]) -> Option<SocketType> {
        SocketType::ALL
            .into_iter()
            .find(|kind| kind.wire_name().as_bytes() == name)
    }

    /// Whether a socket of this type accepts a peer of type `peer`.
    pub fn is_compatible(self, peer: SocketType) -> bool {
        use SocketType::*;
        match self {
            Pair => peer == Pair,
            Publish | ExtendedPublish => matches!(peer, Subscribe | ExtendedSubscribe),
            Subscribe | ExtendedSubscribe => matches!(peer, Publish | ExtendedPublish),
            Request => matches!(peer, Reply | Router),
            Reply => matches!(peer, Request | Dealer),
            Dealer => matches!(peer, Reply | Dealer | Router),
            Router => matches!(peer, Request | Dealer | Router),
            Pull => peer == Push,
            Push => peer == Pull,
            // A STREAM speaks no ZMTP; libzmq's check_socket_type knows no peer
            // for it either.
            Stream => false,
        }
    }

    /// Whether this type sends its routing id (`Identity`) in READY, as libzmq does
    /// (only REQ, DEALER and ROUTER).
    pub fn sends_routing_id(self) -> bool {
        matches!(
            self,
            SocketType::Request | SocketType::Dealer | SocketType::Router
        )
    }
}

impl fmt::Display for SocketType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.wire_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_and_are_case_sensitive() {
        for kind in SocketType::ALL {
            assert_eq!(
                SocketType::from_wire_name(kind.wire_name().as_bytes()),
                Some(kind)
            );
        }
        assert_eq!(SocketType::from_wire_name(b"pull"), None);
        assert_eq!(SocketType::from_wire_name(b"Pull"), None);
    }

    #[test]
    fn matrix_is_symmetric() {
        for ours in SocketType::ALL {
            for peer in SocketType::ALL {
                assert_eq!(
                    ours.is_compatible(peer),
                    peer.is_compatible(ours),
                    "{ours} and {peer}"
                );
            }
        }
    }

    #[test]
    fn matrix_matches_libzmq() {
        use SocketType::*;
        let pairs = [
            (Pair, Pair),
            (Publish, Subscribe),
            (Publish, ExtendedSubscribe),
            (ExtendedPublish, Subscribe),
            (ExtendedPublish, ExtendedSubscribe),
            (Request, Reply),
            (Request, Router),
            (Dealer, Reply),
            (Dealer, Router),
            (Dealer, Dealer),
            (Router, Router),
            (Push, Pull),
        ];
        let mut count = 0;
        for ours in SocketType::ALL {
            for peer in SocketType::ALL {
                let listed = pairs
                    .iter()
                    .any(|&(a, b)| (a, b) == (ours, peer) || (b, a) == (ours, peer));
                assert_eq!(ours.is_compatible(peer), listed, "{ours} and {peer}");
                count += usize::from(listed);
            }
        }
        // 12 unordered pairs, of which 3 pair a type with itself.
        assert_eq!(count, 21);
    }
}
