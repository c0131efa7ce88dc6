//! PUB (RFC 29): sends each message to the peers subscribed to a prefix of it, and
//! never receives.
//!
//! PUB is XPUB's publishing core with the application side switched off, as in
//! libzmq: subscriptions from peers (SUBSCRIBE/CANCEL commands, or data messages
//! starting with 1 or 0) are applied silently, anything else a peer sends is
//! dropped, and a subscriber at its high-water mark loses messages while the
//! others carry on. It accepts XPUB_NODROP and INVERT_MATCHING as libzmq's PUB
//! does. This file must never make a send wait for a subscriber (unless
//! XPUB_NODROP is set).

use super::xpub::{ExtendedPublish, Flavor};

/// The PUB socket type.
pub(crate) fn new() -> ExtendedPublish {
    ExtendedPublish::new(Flavor::Publish)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::message::Message;
    use crate::pipe::{Item, PipeEvent, Read, pipe_pair};
    use crate::socket::Routing;
    use bytes::Bytes;

    #[test]
    fn sends_only_to_matching_subscribers_and_never_receives() {
        let mut publish = new();
        let (ours, mut theirs) = pipe_pair(10, 10);
        publish.attach(ours, None);
        publish.send(Message::from("before")).unwrap();
        theirs
            .write(Item::Subscribe(Bytes::from_static(b"wx")))
            .unwrap();
        theirs
            .write(Item::Message(Message::from("not a subscription")))
            .unwrap();
        publish.pipe_event(theirs.id(), PipeEvent::Readable);
        publish.send(Message::from("wx.1")).unwrap();
        publish.send(Message::from("news")).unwrap();
        let Read::Item(item) = theirs.read() else {
            panic!("one message")
        };
        assert_eq!(item, Item::Message(Message::from("wx.1")));
        assert!(matches!(theirs.read(), Read::Empty));
        assert!(!publish.has_input());
        assert!(matches!(publish.receive(), Err(Error::NotSupported)));
    }
}
