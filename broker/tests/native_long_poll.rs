//! The native door's waits end to end: long polls parked until data arrives or
//! their wait ends (no thread per waiter), woken by a write on a topic that shows
//! written records, the per-connection bound on pending
//! requests, a connection's waiting fetches answered when it sends an empty
//! message (as a disconnection does), and waiting fetches answered on SIGTERM.
//!
//! Every reply is awaited with a deadline, and waits are long (minutes), so an
//! answer inside the deadline can only come from the event under test. That a
//! fetch is still waiting is shown by a later request on the same connection
//! being answered first, never by a silence.

mod native_client;
mod util;

use bytes::Bytes;
use native_client::*;
use sinew_broker::doors::native::*;
use util::{TIMEOUT, sinew_broker};

#[test]
fn a_long_poll_waits_for_data_and_wakes_when_it_arrives() {
    let server = sinew_broker(&[]);
    let mut consumer = Client::connect(&server);
    let mut producer = Client::connect(&server);
    assert_eq!(producer.call(create("waits", 1)), ResponseBody::CreateTopic);

    // A wait of ten minutes: an answer within the receive deadline can only
    // come from the data.
    let id = consumer.send(long_poll("waits", 0, 600_000));
    still_waiting(&mut consumer);

    producer.call(produce("waits", Acks::Durable, &["late"]));
    let response = consumer.receive();
    assert_eq!(response.correlation_id, id);
    assert_eq!(values(response.body), [(0, "late".to_owned())]);
}

#[test]
fn a_long_poll_answers_with_nothing_when_its_wait_ends() {
    let server = sinew_broker(&[]);
    let mut client = Client::connect(&server);
    assert_eq!(client.call(create("quiet", 1)), ResponseBody::CreateTopic);
    let id = client.send(long_poll("quiet", 0, 2_000));
    // Not answered at once: a later request's answer comes first.
    still_waiting(&mut client);
    let response = client.receive();
    assert_eq!(response.correlation_id, id);
    assert!(values(response.body).is_empty());
}

/// Shows that the connection's earlier fetch is still waiting: a LIST_TOPICS sent
/// after it is answered first (a fetch answered at once would have come first).
fn still_waiting(client: &mut Client) {
    let probe = client.send(RequestBody::ListTopics);
    let first = client.receive();
    assert_eq!(
        first.correlation_id, probe,
        "the fetch was answered early: {first:?}"
    );
}

#[test]
fn a_connection_over_its_pending_bound_gets_too_many_pending_and_others_are_served() {
    // The door's bound on one connection's pending requests (protocol.md,
    // "Limits"; parked fetches count).
    const BOUND: usize = 64;
    let server = sinew_broker(&[]);
    let mut greedy = Client::connect(&server);
    let mut other = Client::connect(&server);
    assert_eq!(other.call(create("busy", 1)), ResponseBody::CreateTopic);

    for _ in 0..BOUND + 5 {
        greedy.send(long_poll("busy", 0, 20_000));
    }
    // The five over the bound are refused at once; the rest wait for data.
    for _ in 0..5 {
        let refused = error_of(greedy.receive().body);
        assert_eq!(refused.code, ErrorCode::TooManyPending);
        assert_eq!(refused.details[0], BOUND as u64);
    }
    // Another connection is not held up by the first one's waiting requests.
    assert!(matches!(
        other.call(RequestBody::ListTopics),
        ResponseBody::ListTopics(_)
    ));
    other.call(produce("busy", Acks::Durable, &["now"]));
    for _ in 0..BOUND {
        assert_eq!(values(greedy.receive().body), [(0, "now".to_owned())]);
    }
    // Answered, they no longer count.
    assert_eq!(values(greedy.call(long_poll("busy", 0, 0))).len(), 1);
}

#[test]
fn an_empty_message_is_malformed_and_answers_the_connections_waiting_fetches() {
    let server = sinew_broker(&[]);
    let mut client = Client::connect(&server);
    assert_eq!(client.call(create("idle", 1)), ResponseBody::CreateTopic);
    let waiting = client.send(long_poll("idle", 0, 600_000));
    still_waiting(&mut client);
    client.send_frames(vec![Bytes::new()]);
    let mut answers = vec![client.receive(), client.receive()];
    answers.sort_by_key(|response| response.correlation_id);
    assert_eq!(answers[0].correlation_id, 0, "the empty message's error");
    let malformed = error_of(answers.remove(0).body);
    assert_eq!(malformed.code, ErrorCode::Malformed);
    assert_eq!(answers[0].correlation_id, waiting);
    assert!(values(answers.remove(0).body).is_empty());
}

#[test]
fn on_sigterm_waiting_fetches_are_answered_and_the_broker_exits_0() {
    let mut server = sinew_broker(&[]);
    let mut client = Client::connect(&server);
    assert_eq!(client.call(create("ending", 1)), ResponseBody::CreateTopic);
    client.call(produce("ending", Acks::Durable, &["kept"]));
    let waiting = client.send(long_poll("ending", 1, 20_000));
    // The fetch is known to the broker once a later request is answered.
    assert!(matches!(
        client.call(RequestBody::ListTopics),
        ResponseBody::ListTopics(_)
    ));
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let response = client.receive();
    assert_eq!(response.correlation_id, waiting);
    assert!(values(response.body).is_empty());
    let deadline = std::time::Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no exit after SIGTERM"
        );
        std::thread::park_timeout(std::time::Duration::from_millis(5));
    };
    assert_eq!(status.code(), Some(0));
}

#[test]
fn on_a_topic_that_shows_written_records_a_long_poll_wakes_before_the_flush() {
    let server = sinew_broker(&[]);
    let mut consumer = Client::connect(&server);
    let mut producer = Client::connect(&server);
    let mut written = create("flushed", 1);
    if let RequestBody::CreateTopic(create) = &mut written {
        create.config.visibility = Visibility::Written;
        create.config.flush_interval_ms = 60_000;
    }
    assert_eq!(producer.call(written), ResponseBody::CreateTopic);
    // Waits of ten minutes and a flush a minute away: an answer within the
    // receive deadline comes from the write itself.
    let id = consumer.send(long_poll("flushed", 0, 600_000));
    still_waiting(&mut consumer);
    let ResponseBody::Produce(produced) = producer.call(produce("flushed", Acks::Written, &["w"]))
    else {
        panic!("expected a produce result");
    };
    assert_eq!(produced.acknowledged, Acknowledged::Written);
    let response = consumer.receive();
    assert_eq!(response.correlation_id, id);
    let ResponseBody::Fetch(result) = response.body else {
        panic!("expected a fetch result");
    };
    assert_eq!(result.next_offset, 1);
    assert_eq!(
        (result.end_offset, result.durable_offset),
        (1, 0),
        "seen when written, fsynced later"
    );
}
