//! The pub-sub forwarder, as in the ZeroMQ guide: a publisher, a forwarder that
//! joins an XSUB (facing the publisher) to an XPUB (facing subscribers), and
//! subscribers with different prefixes. Subscriptions travel up through the
//! forwarder, so the publisher sends each subscriber only what it asked for.
//!
//! One command runs the whole topology in one process, over tcp on loopback:
//!
//! ```text
//! cargo run -p sinew-examples --bin forwarder
//! cargo run -p sinew-examples --bin forwarder -- --messages 1000
//! ```
//!
//! Each subscriber receives `--messages` updates and checks every one carries its
//! prefix; the program exits 0 when all of them have. It must stay one clear
//! pattern: the forwarder is `sinew_patterns::proxy` between XSUB and XPUB and
//! nothing else.

use sinew::{Context, Error, SocketType};
use sinew_examples::number_option;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The topics the publisher cycles through, and who listens to what.
const TOPICS: [&str; 4] = [
    "weather.paris",
    "weather.oslo",
    "sports.tennis",
    "news.world",
];
const SUBSCRIBERS: [&str; 3] = ["weather.", "sports.", "news."];

fn fail(message: &str) -> ! {
    eprintln!("forwarder: {message}");
    std::process::exit(1);
}

fn main() -> sinew::Result<()> {
    let messages = number_option("--messages", 100);
    let context = Context::new();

    // The publisher: an endless feed of updates on every topic. A PUB never
    // waits: updates nobody subscribed to are never sent anywhere.
    let publisher = context.socket(SocketType::Publish)?;
    publisher.bind("tcp://127.0.0.1:0")?;
    let upstream = publisher.last_endpoint().unwrap_or_default();
    let stop = Arc::new(AtomicBool::new(false));
    let feed = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || -> sinew::Result<u64> {
            let mut sequence = 0u64;
            while !stop.load(Ordering::Relaxed) {
                for topic in TOPICS {
                    publisher.send(format!("{topic} update {sequence}"))?;
                    sequence += 1;
                }
                // A gentle feed: a few thousand updates a second.
                std::thread::sleep(Duration::from_millis(1));
            }
            Ok(sequence)
        })
    };

    // The forwarder: XSUB subscribes upstream on behalf of the XPUB's subscribers.
    let xsub = context.socket(SocketType::ExtendedSubscribe)?;
    xsub.connect(&upstream)?;
    let xpub = context.socket(SocketType::ExtendedPublish)?;
    xpub.bind("tcp://127.0.0.1:0")?;
    let downstream = xpub.last_endpoint().unwrap_or_default();
    let forwarder = std::thread::spawn(move || sinew_patterns::proxy(&xsub, &xpub));

    // Subscribers: each takes its prefix only.
    let started = Instant::now();
    let subscribers: Vec<_> = SUBSCRIBERS
        .iter()
        .map(|&prefix| {
            let context = context.clone();
            let endpoint = downstream.clone();
            std::thread::spawn(move || -> sinew::Result<String> {
                let sub = context.socket(SocketType::Subscribe)?;
                sub.set_receive_timeout(Some(Duration::from_secs(10)))?;
                sub.subscribe(prefix)?;
                sub.connect(&endpoint)?;
                let mut last = String::new();
                for _ in 0..messages {
                    let update = sub.recv()?;
                    let text = update
                        .first()
                        .map(|frame| String::from_utf8_lossy(frame).into_owned())
                        .unwrap_or_default();
                    if !text.starts_with(prefix) {
                        fail(&format!("the {prefix} subscriber got {text:?}"));
                    }
                    last = text;
                }
                Ok(last)
            })
        })
        .collect();
    for (prefix, subscriber) in SUBSCRIBERS.iter().zip(subscribers) {
        match subscriber.join() {
            Ok(Ok(last)) => println!("{prefix:<9} {messages} updates, the last: {last}"),
            Ok(Err(Error::TimedOut)) => fail(&format!("the {prefix} subscriber timed out")),
            Ok(Err(error)) => fail(&format!("the {prefix} subscriber failed: {error}")),
            Err(_) => fail(&format!("the {prefix} subscriber panicked")),
        }
    }
    let elapsed = started.elapsed();

    // Everyone is served: stop the feed and the forwarder.
    stop.store(true, Ordering::Relaxed);
    let published = feed
        .join()
        .unwrap_or_else(|_| fail("the publisher panicked"))?;
    context.shutdown();
    let _ = forwarder.join();
    println!(
        "forwarder: {} subscribers served in {elapsed:.2?}; {published} updates published",
        SUBSCRIBERS.len()
    );
    Ok(())
}
