"""Writes the seed corpus of the NATS parser fuzz target (corpus/nats_parser/seed-*).

Run from this directory with `python3 seeds.py`; the files it writes are committed,
so `cargo fuzz run nats_parser corpus/nats_parser` starts from real client sessions
and from the inputs nats-server refuses, instead of from nothing.

Each seed's first byte is the target's control byte: bits 0-5 the chunk size (0: all
at once), bit 6 nats-server's default limits (else 64-byte control lines and 128-byte
payloads), bit 7 CONNECT required first.
"""

import os

HERE = os.path.dirname(os.path.abspath(__file__))

CONNECT = (
    b'CONNECT {"verbose":false,"pedantic":false,"tls_required":false,'
    b'"name":"","lang":"go","version":"1.2.2","protocol":1,"headers":true,'
    b'"no_responders":true}\r\n'
)

SESSION = (
    CONNECT
    + b"PING\r\n"
    + b"SUB FOO 1\r\nSUB BAR G1 44\r\n"
    + b"PUB FOO 11\r\nHello NATS!\r\n"
    + b"PUB FRONT.DOOR JOKE.22 11\r\nKnock Knock\r\n"
    + b"HPUB FOO 22 33\r\nNATS/1.0\r\nBar: Baz\r\n\r\nHello NATS!\r\n"
    + b"HPUB NOTIFY 22 22\r\nNATS/1.0\r\nBar: Baz\r\n\r\n\r\n"
    + b"PUB NOTIFY 0\r\n\r\n"
    + b"UNSUB 1 5\r\nUNSUB 44\r\nPONG\r\n"
)

QUIRKS = (
    b"sub\tfoo.*  \t7\npub foo.bar 5\nhello\r\n"
    + b"+OK\r\nINFO {}\r\nHMSG x\r\n\r\n"
    + b"PINGs are ignored to the line feed\n"
    + b"CONNECT\n{\"Echo\":false,\"echo\":true}\r\n"
    + b"PUB F\rOO 1\r\nx\r\n"
    + b"PUB foo.* 1\r\nx\r\n"
    + b"SUB foo..bar 2\r\nPING\r\n"
)

SEEDS = [
    b"\x40" + SESSION,
    b"\x41" + SESSION,
    b"\x07" + SESSION,
    b"\xc3" + SESSION,
    b"\x40" + QUIRKS,
    b"\x05" + QUIRKS,
    b"\x80PING\r\n",
    b"\x00PUB foo 129\r\n",
    b"\x00SUB " + b"a" * 70 + b" 1",
    b"\x40PUB foo bar\r\n",
    b"\x40CONNECT {\"protocol\":2}\r\n",
    b"\x40CONNECT {\"no_responders\":true}\r\n",
    b"\x40CONNECT {\"verbose\":tru}\r\n",
    b"\x40HPUB foo 1 2\r\nab\r\n",
    b"\x40PUB foo 3\r\nabcX",
    b"\x40-ERR 'oops'\r\n",
    b"\x40MSG foo 1 1\r\n",
]


def main():
    folder = os.path.join(HERE, "corpus", "nats_parser")
    os.makedirs(folder, exist_ok=True)
    for index, seed in enumerate(SEEDS):
        with open(os.path.join(folder, f"seed-{index}"), "wb") as out:
            out.write(seed)


if __name__ == "__main__":
    main()
