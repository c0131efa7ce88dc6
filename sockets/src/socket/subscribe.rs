//! SUB (RFC 29): receives the messages that match its subscriptions, from every
//! publisher in turn, and never sends.
//!
//! SUB is XSUB's subscribing core with filtering switched on, as in libzmq:
//! `subscribe`/`unsubscribe` (ZMQ_SUBSCRIBE/ZMQ_UNSUBSCRIBE) go upstream, counted
//! per prefix; a SUB with no subscription receives nothing; messages are filtered
//! again on arrival (INVERT_MATCHING: only those matching no subscription). A full
//! SUB stops taking input, so its connections stop reading and TCP pushes back on
//! the publisher (which then drops). CONFLATE keeps only the newest message. This
//! file must never deliver a message that matches no subscription.

use super::xsub::{ExtendedSubscribe, Flavor};

/// The SUB socket type.
pub(crate) fn new() -> ExtendedSubscribe {
    ExtendedSubscribe::new(Flavor::Subscribe)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::message::Message;
    use crate::options::TypeOption;
    use crate::pipe::{Item, pipe_pair};
    use crate::socket::Routing;
    use bytes::Bytes;

    #[test]
    fn receives_only_what_it_subscribed_to() {
        let mut subscribe = new();
        let (ours, mut theirs) = pipe_pair(10, 10);
        subscribe.attach(ours, None);
        for text in ["wx.1", "news"] {
            theirs.write(Item::Message(Message::from(text))).unwrap();
        }
        assert!(!subscribe.has_input(), "no subscription, nothing received");
        subscribe
            .set_option(TypeOption::Subscribe(Bytes::from_static(b"news")))
            .unwrap();
        theirs
            .write(Item::Message(Message::from("news.2")))
            .unwrap();
        subscribe.pipe_event(theirs.id(), crate::pipe::PipeEvent::Readable);
        assert_eq!(subscribe.receive().unwrap(), Message::from("news.2"));
        assert!(matches!(subscribe.receive(), Err(Error::WouldBlock)));
        assert!(!subscribe.has_room());
    }
}
