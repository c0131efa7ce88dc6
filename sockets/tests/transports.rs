//! Transport details: IPv6 and host names, the `*` wildcard bind and the chosen
//! port read back as the last endpoint, unbind and disconnect, and bad endpoints.

mod util;

use sinew::{Context, Error, SocketType};
use std::time::Duration;
use util::{TIMEOUT, recv_text};

fn pull(context: &Context) -> sinew::Socket {
    let pull = context.socket(SocketType::Pull).unwrap();
    pull.set_receive_timeout(Some(TIMEOUT)).unwrap();
    pull
}

#[test]
fn ipv6_loopback_and_host_names_connect() {
    let context = Context::new();
    let receiver = pull(&context);
    receiver.set_ipv6(true).unwrap();
    receiver.bind("tcp://[::1]:0").unwrap();
    let endpoint = receiver.last_endpoint().unwrap();
    assert!(endpoint.starts_with("tcp://[::1]:"), "{endpoint}");
    let push = context.socket(SocketType::Push).unwrap();
    push.set_ipv6(true).unwrap();
    push.connect(&endpoint).unwrap();
    push.send("over ipv6").unwrap();
    assert_eq!(recv_text(&receiver), "over ipv6");

    let named = pull(&context);
    named.bind("tcp://127.0.0.1:0").unwrap();
    let port = named
        .last_endpoint()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let push = context.socket(SocketType::Push).unwrap();
    push.connect(&format!("tcp://localhost:{port}")).unwrap();
    push.send("by name").unwrap();
    assert_eq!(recv_text(&named), "by name");
}

#[test]
fn wildcard_bind_reports_the_chosen_port() {
    let context = Context::new();
    let receiver = pull(&context);
    receiver.bind("tcp://*:*").unwrap();
    let endpoint = receiver.last_endpoint().unwrap();
    assert!(endpoint.starts_with("tcp://0.0.0.0:"), "{endpoint}");
    let port: u16 = endpoint.rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(port, 0);
    let push = context.socket(SocketType::Push).unwrap();
    push.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
    push.send("any interface").unwrap();
    assert_eq!(recv_text(&receiver), "any interface");
}

#[test]
fn unbind_stops_accepting_and_disconnect_stops_sending() {
    let context = Context::new();
    let receiver = pull(&context);
    receiver.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = receiver.last_endpoint().unwrap();
    let push = context.socket(SocketType::Push).unwrap();
    push.set_linger(Some(Duration::ZERO)).unwrap();
    push.connect(&endpoint).unwrap();
    push.send("before").unwrap();
    assert_eq!(recv_text(&receiver), "before");

    // disconnect: the pipe goes at once, so a PUSH with no other peer would block.
    push.disconnect(&endpoint).unwrap();
    assert!(push.try_send("after disconnect").is_err());
    assert!(matches!(
        push.disconnect(&endpoint),
        Err(Error::EndpointNotFound(_))
    ));

    // unbind: the port is free again, and a new bind on it works.
    receiver.unbind(&endpoint).unwrap();
    assert!(matches!(
        receiver.unbind(&endpoint),
        Err(Error::EndpointNotFound(_))
    ));
    let again = pull(&context);
    util::bind_retrying(&again, &endpoint);
    let fresh = context.socket(SocketType::Push).unwrap();
    fresh.connect(&endpoint).unwrap();
    fresh.send("to the new listener").unwrap();
    assert_eq!(recv_text(&again), "to the new listener");
}

#[test]
fn bad_endpoints_are_refused_with_a_clear_error() {
    let context = Context::new();
    let socket = context.socket(SocketType::Pull).unwrap();
    for endpoint in ["tcp://127.0.0.1", "udp://x:1", "nonsense", "tcp://*:70000"] {
        assert!(
            matches!(socket.bind(endpoint), Err(Error::InvalidEndpoint { .. })),
            "{endpoint}"
        );
    }
    assert!(matches!(
        socket.connect("tcp://*:5555"),
        Err(Error::InvalidEndpoint { .. })
    ));
    let first = context.socket(SocketType::Pull).unwrap();
    first.bind("tcp://127.0.0.1:0").unwrap();
    let taken = first.last_endpoint().unwrap();
    assert!(matches!(socket.bind(&taken), Err(Error::AddressInUse(_))));
    socket.bind("inproc://once").unwrap();
    let other = context.socket(SocketType::Pull).unwrap();
    assert!(matches!(
        other.bind("inproc://once"),
        Err(Error::AddressInUse(_))
    ));
}
