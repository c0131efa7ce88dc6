//! The loopback ceiling for a one-thread fanout relay on this machine, for the
//! NATS door's benchmark: a publisher writes `COUNT` frames of `SIZE` bytes to a
//! relay thread, which copies every byte it reads to `SUBSCRIBERS` sockets in
//! large writes; each subscriber reads on a thread of its own and counts bytes.
//! No protocol, no parsing, no per-subscriber header: only what any broker must
//! do (read once, write once per subscriber), so no broker on one loop thread can
//! deliver more on this machine.
//!
//! `cargo run --release -p sinew-interop-tests --bin loopback_fanout -- SUBSCRIBERS SIZE COUNT`
//! (defaults 10, 1064 (a 1 KiB payload with its MSG line), 500000). It must never
//! report a run in which a subscriber did not receive every byte.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

fn argument(index: usize, default: usize) -> usize {
    std::env::args()
        .nth(index)
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
}

fn main() -> std::io::Result<()> {
    let subscribers = argument(1, 10).max(1);
    let size = argument(2, 1064).max(1);
    let count = argument(3, 500_000).max(1);
    let total = size * count;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    let mut readers = Vec::new();
    for _ in 0..subscribers {
        let mut stream = TcpStream::connect(address)?;
        readers.push(std::thread::spawn(move || -> std::io::Result<Instant> {
            let mut buffer = vec![0u8; 256 * 1024];
            let mut received = 0;
            while received < total {
                let read = stream.read(&mut buffer)?;
                if read == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                received += read;
            }
            Ok(Instant::now())
        }));
    }
    let mut outputs = Vec::new();
    for _ in 0..subscribers {
        outputs.push(listener.accept()?.0);
    }
    let mut publisher = TcpStream::connect(address)?;
    let (mut input, _) = listener.accept()?;
    let start = Instant::now();
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        let chunk = vec![b'x'; size * 64];
        let mut sent = 0;
        while sent < total {
            let length = (total - sent).min(chunk.len());
            publisher.write_all(&chunk[..length])?;
            sent += length;
        }
        Ok(())
    });
    let mut buffer = vec![0u8; 512 * 1024];
    let mut relayed = 0;
    while relayed < total {
        let read = input.read(&mut buffer)?;
        if read == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        for output in &mut outputs {
            output.write_all(&buffer[..read])?;
        }
        relayed += read;
    }
    writer
        .join()
        .map_err(|_| std::io::Error::other("the publisher panicked"))??;
    let mut last = start;
    for reader in readers {
        let done = reader
            .join()
            .map_err(|_| std::io::Error::other("a subscriber panicked"))??;
        last = last.max(done);
    }
    let seconds = (last - start).as_secs_f64();
    println!(
        "{subscribers} subscribers, {size}-byte frames, {count} each: {:.2} M deliveries/s, {:.2} GB/s written",
        (count * subscribers) as f64 / seconds / 1e6,
        (total * subscribers) as f64 / seconds / 1e9
    );
    Ok(())
}
