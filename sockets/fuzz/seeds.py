"""Writes the seed corpus of the ZMTP fuzz targets (corpus/TARGET/seed-*).

Run from this directory with `python3 seeds.py`; the files it writes are
committed, so `cargo fuzz run TARGET corpus/TARGET` starts from well-formed
greetings, handshakes, frames and commands instead of from nothing.
"""

import os

HERE = os.path.dirname(os.path.abspath(__file__))


def greeting(minor=1, mechanism=b"NULL"):
    return (b"\xff" + b"\x00" * 7 + b"\x01\x7f\x03" + bytes([minor]) + mechanism).ljust(64, b"\x00")


def frame(body, command=False, more=False):
    flags = (0x04 if command else 0) | (0x01 if more else 0)
    if len(body) > 255:
        return bytes([flags | 0x02]) + len(body).to_bytes(8, "big") + body
    return bytes([flags, len(body)]) + body


def command(name, data=b""):
    return frame(bytes([len(name)]) + name + data, command=True)


def ready(socket_type, identity=None):
    body = b"\x0bSocket-Type" + len(socket_type).to_bytes(4, "big") + socket_type
    if identity is not None:
        body += b"\x08Identity" + len(identity).to_bytes(4, "big") + identity
    return command(b"READY", body)


TRAFFIC = (
    frame(b"hello")
    + frame(b"a", more=True) + frame(b"") + frame(b"c" * 300)
    + command(b"SUBSCRIBE", b"weather.")
    + command(b"CANCEL", b"weather.")
    + frame(b"\x01legacy-subscribe")
    + command(b"PING", b"\x00\x0acontext")
    + command(b"PONG", b"context")
    + command(b"UNKNOWN", b"ignored")
)

SEEDS = {
    "frame_decoder": [
        b"\x10" + frame(b"hello") + frame(b"x" * 300, more=True) + frame(b"y"),
        b"\x01" + command(b"PING", b"\x00\x00") + frame(b"z" * 2000),
        b"\x40" + bytes([0x02]) + (1 << 40).to_bytes(8, "big") + b"partial",
    ],
    "greeting": [
        greeting(),
        b"\x01" + greeting(),
        greeting(0),
        greeting() + ready(b"PUSH") + TRAFFIC,
        b"\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f\x01\x05",
    ],
    "null_handshake": [
        bytes([1]) + ready(b"PULL") + TRAFFIC,  # PUSH: the peer is a PULL
        bytes([2]) + ready(b"PUSH") + TRAFFIC,  # PULL
        bytes([0x80 | 7]) + ready(b"SUB") + command(b"PING", b"\x00\x00") * 200,
        bytes([3]) + ready(b"DEALER", b"peer-1") + TRAFFIC,
    ],
    "session": [
        bytes([0, 0x21]) + TRAFFIC + command(b"SUBSCRIBE", b"x" * 40) * 20,
        bytes([1, 0x43]) + TRAFFIC * 4,
        bytes([2, 0x10]) + frame(b"m" * 100) * 50,
        bytes([0x80, 0xff]) + command(b"PING", b"\x00\x01") * 300,
        bytes([3, 0x07]) + frame(b"id", more=True) + frame(b"") + frame(b"body"),
    ],
}

for target, seeds in SEEDS.items():
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    for index, seed in enumerate(seeds):
        with open(os.path.join(directory, f"seed-{index}"), "wb") as out:
            out.write(seed)
