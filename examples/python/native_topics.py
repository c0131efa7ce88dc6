"""Produce to and fetch from a sinew-broker topic over its native door, in Python.

Written from broker/docs/protocol.md alone, with pyzmq and struct: a DEALER
connects to the broker (argument 1, default tcp://127.0.0.1:7420), creates a
one-partition topic (argument 2, default "python-demo"; an existing topic is
used as it is), produces three records with keys, values and headers in one
PRODUCE with durable acknowledgement, prints the acknowledged offsets, then
fetches partition 0 from the earliest offset in records mode and prints every
record up to the last one produced (a topic that existed may hold older ones).

It never hides a failure: any error response prints its code, details and
message and exits 1; so does a malformed response or a broker that does not
answer within 10 seconds. It never waits without a deadline.

    python3 -m pip install -r interop-tests/requirements.txt
    python3 examples/python/native_topics.py tcp://127.0.0.1:7420 python-demo
"""

import struct
import sys

import zmq

PREFIX = struct.Struct(">2sBBHHQ")  # magic, version, flags, command, error, correlation
CREATE_TOPIC = struct.Struct(">IBBBBqqII")  # partitions, flags, acks, visibility, reserved, ...
PRODUCE = struct.Struct(">IBBHqhHi")  # partition, acks, format, reserved, producer fields
PRODUCED = struct.Struct(">IBBHQQ")  # partition, acknowledged, flags, reserved, base, last
FETCH = struct.Struct(">IBBHQIIII")  # partition, start, mode, reserved, value, limits
FETCHED = struct.Struct(">IB3xQQQQ")  # partition, mode, next, end, durable, log start
DETAILS = struct.Struct(">QQ")  # an error response's two details
NOTHING = struct.Struct("")  # a response that is the prefix alone
PRODUCE_ENTRY = struct.Struct(">qB7x")  # timestamp, flags
FETCH_ENTRY = struct.Struct(">QqB7x")  # offset, timestamp, flags

CMD_PRODUCE, CMD_FETCH, CMD_CREATE_TOPIC = 0x0001, 0x0002, 0x0010
TOPIC_EXISTS = 22
KEY_NULL, VALUE_NULL = 0x01, 0x02
ACKS_DURABLE, FORMAT_RECORDS = 2, 1
START_EARLIEST, MODE_RECORDS = 1, 1
TIMEOUT_MS = 10_000

# (key, value, headers); None is a null key, value or header value.
RECORDS = [
    (b"user-1", b"hello", [("trace", b"ab")]),
    (b"user-2", b"", [("trace", b"cd"), ("origin", None)]),
    (None, b"no key", []),
]


class Failure(Exception):
    """Anything that makes the example exit 1."""


def encode_headers(headers):
    out = b""
    for name, value in headers:
        raw = name.encode()
        out += struct.pack(">H", len(raw)) + raw
        out += struct.pack(">i", -1) if value is None else struct.pack(">i", len(value)) + value
    return out


def decode_headers(frame):
    headers, at = [], 0
    while at < len(frame):
        if at + 2 > len(frame):
            raise Failure("a headers frame ends inside a name length")
        (name_length,) = struct.unpack_from(">H", frame, at)
        name = frame[at + 2 : at + 2 + name_length].decode()
        at += 2 + name_length
        if at + 4 > len(frame):
            raise Failure("a headers frame ends inside a value length")
        (value_length,) = struct.unpack_from(">i", frame, at)
        at += 4
        if value_length < 0:
            headers.append((name, None))
            continue
        if at + value_length > len(frame):
            raise Failure("a headers frame ends inside a value")
        headers.append((name, frame[at : at + value_length]))
        at += value_length
    return headers


class Client:
    """A DEALER that sends one request at a time and checks its response."""

    def __init__(self, endpoint):
        self.socket = zmq.Context.instance().socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.RCVTIMEO, TIMEOUT_MS)
        self.socket.connect(endpoint)
        self.correlation = 0

    def call(self, command, fields, frames, layout, allowed_errors=()):
        """Sends a request; returns (error code, unpacked header fields, other frames)."""
        self.correlation += 1
        header = PREFIX.pack(b"SN", 1, 0, command, 0, self.correlation) + fields
        self.socket.send_multipart([header] + frames)
        try:
            reply = self.socket.recv_multipart()
        except zmq.Again:
            raise Failure(f"no response to command {command:#06x} within {TIMEOUT_MS} ms")
        head = reply[0]
        if len(head) < PREFIX.size:
            raise Failure(f"a response header of {len(head)} bytes")
        magic, version, flags, echoed, error, correlation = PREFIX.unpack_from(head)
        if magic != b"SN" or version != 1 or flags != 1 or echoed != command:
            raise Failure(f"an unexpected response prefix {head[:16].hex()}")
        if correlation != self.correlation:
            raise Failure(f"response to request {correlation}, expected {self.correlation}")
        if error:
            if len(head) != 32:
                raise Failure(f"an error response header of {len(head)} bytes")
            first, second = DETAILS.unpack_from(head, 16)
            message = reply[1].decode("utf-8", "replace") if len(reply) > 1 else ""
            if error in allowed_errors:
                return error, None, []
            raise Failure(f"error {error} (details {first}, {second}): {message}")
        if len(head) != PREFIX.size + layout.size:
            raise Failure(f"a response header of {len(head)} bytes for {command:#06x}")
        return 0, layout.unpack_from(head, PREFIX.size), reply[1:]


def run(endpoint, topic):
    client = Client(endpoint)
    name = topic.encode()
    # One partition, not compacted, ack policy 0, durable visibility, keep everything,
    # fsync after every batch of requests.
    settings = CREATE_TOPIC.pack(1, 0, 0, 0, 0, -1, -1, 0, 0)
    error, _, _ = client.call(CMD_CREATE_TOPIC, settings, [name], NOTHING, (TOPIC_EXISTS,))
    print(f"topic {topic}: {'exists, using it' if error else 'created'}")

    table, frames = b"", []
    for key, value, headers in RECORDS:
        flags = (KEY_NULL if key is None else 0) | (VALUE_NULL if value is None else 0)
        table += PRODUCE_ENTRY.pack(-1, flags)  # -1: the broker stamps the time
        frames += [key or b"", value or b"", encode_headers(headers)]
    fields = PRODUCE.pack(0, ACKS_DURABLE, FORMAT_RECORDS, 0, -1, -1, 0, -1)
    _, produced, _ = client.call(CMD_PRODUCE, fields, [name, table] + frames, PRODUCED)
    partition, acknowledged, _, _, base, last = produced
    if acknowledged != ACKS_DURABLE or last - base + 1 != len(RECORDS):
        raise Failure(f"acknowledged {acknowledged} for offsets {base}..{last}")
    print(f"produced partition {partition} offsets {base}..{last} acknowledged durable")

    start, position = START_EARLIEST, 0
    for _ in range(20):  # each FETCH waits at most a second for data
        fields = FETCH.pack(0, start, MODE_RECORDS, 0, position, 1 << 20, 0, 1000, 1)
        _, fetched, frames = client.call(CMD_FETCH, fields, [name], FETCHED)
        next_offset = fetched[2]
        entries = frames[0] if frames else b""
        count = len(entries) // FETCH_ENTRY.size
        if len(entries) % FETCH_ENTRY.size or len(frames) != 1 + 3 * count:
            raise Failure(f"a record table of {len(entries)} bytes with {len(frames)} frames")
        for index in range(count):
            offset, timestamp, flags = FETCH_ENTRY.unpack_from(entries, index * FETCH_ENTRY.size)
            key, value, headers = frames[1 + 3 * index : 4 + 3 * index]
            key = None if flags & KEY_NULL else key
            value = None if flags & VALUE_NULL else value
            print(f"record offset={offset} timestamp={timestamp} key={key!r} "
                  f"value={value!r} headers={decode_headers(headers)!r}")
        if next_offset > last:
            return
        start, position = 0, next_offset  # go on from an offset
    raise Failure(f"the records up to offset {last} never became visible")


def main():
    endpoint = sys.argv[1] if len(sys.argv) > 1 else "tcp://127.0.0.1:7420"
    topic = sys.argv[2] if len(sys.argv) > 2 else "python-demo"
    try:
        run(endpoint, topic)
    except Failure as failure:
        print(f"failed: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
