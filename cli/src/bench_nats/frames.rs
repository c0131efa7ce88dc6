//! A streaming reader of what a NATS server sends, for the load generator: it is
//! fed whatever each `read` returned and reports each whole frame (a MSG once its
//! payload and line end have all arrived, PING, PONG, INFO, +OK), wherever the
//! reads happened to split the stream.
//!
//! Payloads are passed over by their announced length, never scanned or copied;
//! only a control line split across two reads is carried (in a buffer kept for the
//! connection's life), and a MSG's reply subject is kept in another, so counting
//! messages allocates nothing per message. Anything that is not the protocol (a
//! payload not followed by `\r\n`, an unknown line, `-ERR`) is an error, so a
//! miscount cannot pass silently. This file must never allocate per message.

/// The longest control line accepted (INFO lines are the longest a server sends).
const MAX_LINE: usize = 64 * 1024;

/// One whole frame from the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A MSG or HMSG, reported once its payload and line end arrived: its reply
    /// subject (empty if none) and its size (headers and body for HMSG).
    Message { reply: &'a [u8], size: usize },
    /// The server's keep-alive; it wants a PONG.
    Ping,
    /// The answer to one of our PINGs.
    Pong,
    /// The server's INFO.
    Info,
    /// `+OK` (only verbose clients get it).
    Ok,
}

/// Where the reader is in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a control line.
    Line,
    /// Passing over a payload: this many bytes are left.
    Payload(usize),
    /// Expecting the `\r\n` after a payload: this many of its bytes were seen.
    LineEnd(usize),
}

/// Reads frames out of a byte stream fed in pieces of any size.
#[derive(Debug)]
pub struct Frames {
    state: State,
    /// A control line begun in an earlier piece.
    carried: Vec<u8>,
    /// The reply subject of the MSG whose payload is being passed over.
    reply: Vec<u8>,
    /// The size of that MSG.
    size: usize,
}

impl Default for Frames {
    fn default() -> Frames {
        Frames::new()
    }
}

impl Frames {
    /// A reader at the start of a stream.
    pub fn new() -> Frames {
        Frames {
            state: State::Line,
            carried: Vec::with_capacity(1024),
            reply: Vec::with_capacity(256),
            size: 0,
        }
    }

    /// Reads `data` (the next bytes of the stream) and calls `on` for each frame it
    /// completes, in order. An error means the stream is not what a NATS server
    /// sends (or is its -ERR); the reader should not be fed again after one.
    pub fn feed(&mut self, data: &[u8], mut on: impl FnMut(Frame<'_>)) -> Result<(), String> {
        let mut position = 0;
        while position < data.len() {
            let rest = data.get(position..).unwrap_or(&[]);
            match self.state {
                State::Payload(left) => {
                    let step = left.min(rest.len());
                    position += step;
                    self.state = if step == left {
                        State::LineEnd(0)
                    } else {
                        State::Payload(left - step)
                    };
                }
                State::LineEnd(seen) => {
                    let expected = if seen == 0 { b'\r' } else { b'\n' };
                    if rest.first() != Some(&expected) {
                        return Err(format!(
                            "a payload of {} bytes is not followed by a line end",
                            self.size
                        ));
                    }
                    position += 1;
                    if seen == 0 {
                        self.state = State::LineEnd(1);
                    } else {
                        self.state = State::Line;
                        on(Frame::Message {
                            reply: &self.reply,
                            size: self.size,
                        });
                    }
                }
                State::Line => match rest.iter().position(|&byte| byte == b'\n') {
                    Some(end) => {
                        let piece = rest.get(..end).unwrap_or(&[]);
                        position += end + 1;
                        if self.carried.is_empty() {
                            self.line(piece, &mut on)?;
                        } else {
                            // The line began in an earlier piece: join it (the
                            // buffer is put back, so its capacity is reused).
                            let mut carried = std::mem::take(&mut self.carried);
                            carried.extend_from_slice(piece);
                            let outcome = self.line(&carried, &mut on);
                            carried.clear();
                            self.carried = carried;
                            outcome?;
                        }
                    }
                    None => {
                        if self.carried.len() + rest.len() > MAX_LINE {
                            return Err(format!("a line longer than {MAX_LINE} bytes"));
                        }
                        self.carried.extend_from_slice(rest);
                        position = data.len();
                    }
                },
            }
        }
        Ok(())
    }

    /// Handles one control line (without its `\n`).
    fn line(&mut self, line: &[u8], on: &mut impl FnMut(Frame<'_>)) -> Result<(), String> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let (verb, arguments) = match line.iter().position(|&byte| byte == b' ') {
            Some(space) => (
                line.get(..space).unwrap_or(&[]),
                line.get(space + 1..).unwrap_or(&[]),
            ),
            None => (line, &[][..]),
        };
        match verb {
            b"MSG" | b"HMSG" => {
                // MSG subject sid [reply] size; HMSG subject sid [reply] hsize size.
                let mut fields: [&[u8]; 5] = [&[]; 5];
                let mut count = 0;
                for field in arguments
                    .split(|&byte| byte == b' ' || byte == b'\t')
                    .filter(|field| !field.is_empty())
                {
                    let slot = fields
                        .get_mut(count)
                        .ok_or_else(|| bad_line("too many fields", line))?;
                    *slot = field;
                    count += 1;
                }
                let headers = usize::from(verb == b"HMSG");
                let reply = match count.checked_sub(headers) {
                    Some(3) => &[][..],
                    Some(4) => fields.get(2).copied().unwrap_or(&[]),
                    _ => return Err(bad_line("the wrong number of fields", line)),
                };
                let size = fields
                    .get(count - 1)
                    .and_then(|field| decimal(field))
                    .ok_or_else(|| bad_line("a bad size", line))?;
                self.reply.clear();
                self.reply.extend_from_slice(reply);
                self.size = size;
                self.state = if size == 0 {
                    State::LineEnd(0)
                } else {
                    State::Payload(size)
                };
            }
            b"PING" => on(Frame::Ping),
            b"PONG" => on(Frame::Pong),
            b"INFO" => on(Frame::Info),
            b"+OK" => on(Frame::Ok),
            b"-ERR" => {
                return Err(format!(
                    "the server said -ERR {}",
                    String::from_utf8_lossy(arguments)
                ));
            }
            _ => return Err(bad_line("an unknown line", line)),
        }
        Ok(())
    }
}

fn bad_line(what: &str, line: &[u8]) -> String {
    let shown = line.get(..line.len().min(80)).unwrap_or(&[]);
    format!(
        "the server sent {what}: {:?}",
        String::from_utf8_lossy(shown)
    )
}

/// An unsigned decimal number of ASCII digits (no sign, no overflow).
fn decimal(text: &[u8]) -> Option<usize> {
    if text.is_empty() {
        return None;
    }
    text.iter().try_fold(0usize, |value, &byte| {
        let digit = byte.checked_sub(b'0').filter(|digit| *digit < 10)?;
        value.checked_mul(10)?.checked_add(usize::from(digit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a server might send: every kind of frame, payloads that look like
    /// protocol, an empty payload, a reply subject, and a header message.
    fn stream() -> (Vec<u8>, Vec<String>) {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(b"INFO {\"server_id\":\"x\",\"max_payload\":1048576}\r\n");
        bytes.extend_from_slice(b"PONG\r\n");
        bytes.extend_from_slice(b"MSG bench.fanout 1 16\r\n0123456789abcdef\r\n");
        // A payload holding a whole fake frame: it must be passed over, not read.
        bytes.extend_from_slice(b"MSG bench.fanout 1 22\r\nMSG x 1 3\r\nabc\r\nPING\r\n\r\n");
        bytes.extend_from_slice(b"PING\r\n");
        bytes.extend_from_slice(b"MSG bench.request 7 _INBOX.a.1 0\r\n\r\n");
        bytes.extend_from_slice(b"+OK\r\n");
        bytes.extend_from_slice(b"HMSG a.b 2 _INBOX.b.2 12 17\r\nNATS/1.0\r\n\r\nhello\r\n");
        let large = vec![b'\n'; 1500];
        bytes.extend_from_slice(b"MSG  bench.fanout\t9   1500\r\n");
        bytes.extend_from_slice(&large);
        bytes.extend_from_slice(b"\r\n");
        let expected = [
            "info",
            "pong",
            "msg  16",
            "msg  22",
            "ping",
            "msg _INBOX.a.1 0",
            "ok",
            "msg _INBOX.b.2 17",
            "msg  1500",
        ]
        .map(str::to_owned)
        .to_vec();
        (bytes, expected)
    }

    fn describe(frame: Frame<'_>) -> String {
        match frame {
            Frame::Message { reply, size } => {
                format!("msg {} {size}", String::from_utf8_lossy(reply))
            }
            Frame::Ping => "ping".to_owned(),
            Frame::Pong => "pong".to_owned(),
            Frame::Info => "info".to_owned(),
            Frame::Ok => "ok".to_owned(),
        }
    }

    fn read_in_pieces(bytes: &[u8], cuts: &[usize]) -> Vec<String> {
        let mut frames = Frames::new();
        let mut seen = Vec::new();
        let mut start = 0;
        for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
            frames
                .feed(&bytes[start..cut], |frame| seen.push(describe(frame)))
                .expect("a valid stream");
            start = cut;
        }
        seen
    }

    #[test]
    fn every_frame_is_reported_once_however_the_reads_split_the_stream() {
        let (bytes, expected) = stream();
        assert_eq!(read_in_pieces(&bytes, &[]), expected);
        // Every single cut point, and every pair of cut points 1..=40 bytes apart.
        for cut in 0..=bytes.len() {
            assert_eq!(read_in_pieces(&bytes, &[cut]), expected, "cut at {cut}");
        }
        for first in 0..bytes.len() {
            for gap in 1..=40 {
                let second = (first + gap).min(bytes.len());
                assert_eq!(read_in_pieces(&bytes, &[first, second]), expected);
            }
        }
        // One byte at a time.
        let cuts: Vec<usize> = (1..bytes.len()).collect();
        assert_eq!(read_in_pieces(&bytes, &cuts), expected);
    }

    #[test]
    fn a_long_run_of_messages_split_at_odd_sizes_counts_exactly() {
        let mut bytes = Vec::new();
        for index in 0..10_000 {
            let size = index % 50;
            bytes.extend_from_slice(format!("MSG s {index} {size}\r\n").as_bytes());
            bytes.extend(std::iter::repeat_n(b'x', size));
            bytes.extend_from_slice(b"\r\n");
        }
        for piece in [1, 7, 33, 4096, 65_536] {
            let mut frames = Frames::new();
            let mut count = 0u64;
            let mut total = 0;
            for chunk in bytes.chunks(piece) {
                frames
                    .feed(chunk, |frame| {
                        if let Frame::Message { size, .. } = frame {
                            count += 1;
                            total += size;
                        }
                    })
                    .expect("valid");
            }
            assert_eq!(count, 10_000, "pieces of {piece} bytes");
            assert_eq!(total, (0..10_000).map(|index| index % 50).sum::<usize>());
        }
    }

    #[test]
    fn a_message_is_not_counted_before_its_line_end() {
        let mut frames = Frames::new();
        let mut count = 0;
        frames
            .feed(b"MSG s 1 3\r\nabc\r", |_| count += 1)
            .expect("valid so far");
        assert_eq!(count, 0);
        frames.feed(b"\n", |_| count += 1).expect("valid");
        assert_eq!(count, 1);
    }

    #[test]
    fn what_is_not_the_protocol_is_an_error() {
        for bad in [
            &b"MSG s 1 3\r\nabcd\r\n"[..], // a payload longer than announced
            b"MSG s 1\r\n",                // no size
            b"MSG s 1 r 2 3\r\n",          // too many fields
            b"MSG s 1 -3\r\n",             // not a size
            b"MSG s 1 99999999999999999999999\r\n",
            b"HELLO\r\n",
            b"-ERR 'Slow Consumer'\r\n",
        ] {
            let mut frames = Frames::new();
            assert!(
                frames.feed(bad, |_| {}).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let mut frames = Frames::new();
        let endless = vec![b'a'; MAX_LINE + 1];
        assert!(frames.feed(&endless, |_| {}).is_err());
    }
}
