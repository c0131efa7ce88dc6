"""Hostile peers from raw TCP sockets against `sinew cat`, with libzmq beside it.

Run by `cargo test -p sinew-cli --test pyzmq` (which passes the binary's path in
SINEW_BIN), or by hand:

    SINEW_BIN=target/debug/sinew python3 interop-tests/python/hostile_memory.py

Each attack runs against a `sinew cat` process and, where libzmq has the same
path, against a pyzmq (libzmq 4.3.5) process serving the same socket type, so
each one's resident memory can be read from /proc on its own. After each attack
the target's resident memory must stay under a bound (`BOUND`, or as the case
says: well under 256 MiB), and the target must still serve a well-behaved pyzmq
peer. Both figures are printed (`hostile: ...` lines on stderr) for comparison;
only Sinew's are asserted. The attacks:

- a flood of SUBSCRIBE commands at a PUSH, and at an idle PUB (nothing calls it);
- a flood of PINGs from a peer that never reads;
- a flood of distinct subscriptions at a PUB that keeps publishing, and
  subscriptions spread out among 64 KiB messages (a stored prefix must not keep
  its receive buffer alive);
- a command frame announcing 1 GiB at a socket with a maximum message size;
- a 1 GiB frame trickled in (64 MiB of it), and 20 peers announcing 1 GiB frames.

And the `sinew cat` flags from outside the Rust suite: `--max-message-size`
drops a peer that sends too much while a later peer's message arrives,
`--handshake-ivl` and `--heartbeat-ivl`/`--heartbeat-timeout` close silent raw
peers, and `--timeout` is not held up by an idle raw peer at exit. Nothing is
skipped: a missing pyzmq or binary is a failure.
"""

import os
import select
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import zmq

SINEW = os.environ.get("SINEW_BIN", "target/debug/sinew")
TIMEOUT = 10.0
MIB = 1 << 20
# The resident-memory bound for every case that does not name its own.
BOUND = 64 * MIB


def free_endpoint():
    """A loopback endpoint on a port that was free a moment ago."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"tcp://127.0.0.1:{port}", ("127.0.0.1", port)


def resident(pid):
    """Resident memory of a process, in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


# The libzmq side: this same script, run as `--serve KIND ENDPOINT [MAXMSGSIZE]`,
# serves one pyzmq socket the way `sinew cat` does: a PULL prints each message on
# a line, a PUSH or PUB sends each line of stdin, and it prints "ready" once bound.
def serve(kind, endpoint, max_message_size):
    context = zmq.Context()
    sock = context.socket({"pull": zmq.PULL, "push": zmq.PUSH, "pub": zmq.PUB}[kind])
    if max_message_size:
        sock.setsockopt(zmq.MAXMSGSIZE, int(max_message_size))
    sock.setsockopt(zmq.LINGER, 0)
    sock.bind(endpoint)
    print("ready", file=sys.stderr, flush=True)
    if kind == "pull":
        while True:
            sys.stdout.buffer.write(b"|".join(sock.recv_multipart()) + b"\n")
            sys.stdout.flush()
    for line in sys.stdin.buffer:
        sock.send(line.rstrip(b"\n"))


class Target:
    """A served socket in its own process: `sinew cat` or pyzmq."""

    def __init__(self, side, kind, *flags, max_message_size=None):
        self.side = side
        self.kind = kind
        self.endpoint, self.address = free_endpoint()
        self.stdout = tempfile.TemporaryFile()
        self.stderr = tempfile.TemporaryFile()
        if side == "sinew":
            command = [SINEW, "cat", kind, "--bind", self.endpoint, *flags]
            if kind != "pull":
                command.append("--stdin")
            if max_message_size:
                command += ["--max-message-size", str(max_message_size)]
        else:
            command = [sys.executable, __file__, "--serve", kind, self.endpoint,
                       str(max_message_size or "")]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=self.stdout, stderr=self.stderr)
        self.wait_for_listener()

    def wait_for_listener(self):
        deadline = time.monotonic() + TIMEOUT
        while True:
            probe = socket.socket()
            try:
                probe.connect(self.address)
                return
            except OSError:
                assert self.process.poll() is None, self.errors()
                assert time.monotonic() < deadline, f"{self.side} never listened"
                time.sleep(0.01)
            finally:
                probe.close()

    def printed(self):
        return os.pread(self.stdout.fileno(), 64 * MIB, 0)

    def errors(self):
        return os.pread(self.stderr.fileno(), 1 << 16, 0).decode(errors="replace")

    def send_line(self, text):
        self.process.stdin.write(text + b"\n")
        self.process.stdin.flush()

    def resident(self):
        assert self.process.poll() is None, f"{self.side} died: {self.errors()}"
        return resident(self.process.pid)

    def close(self):
        self.process.kill()
        self.process.wait()
        self.stdout.close()
        self.stderr.close()


def greeting():
    """A libzmq-style ZMTP 3.1 greeting for a NULL client."""
    return (b"\xff" + b"\x00" * 7 + b"\x01\x7f\x03\x01" + b"NULL").ljust(64, b"\x00")


def frame(body, command=False, more=False):
    flags = (0x04 if command else 0) | (0x01 if more else 0)
    if len(body) > 255:
        return bytes([flags | 0x02]) + len(body).to_bytes(8, "big") + body
    return bytes([flags, len(body)]) + body


def command(name, data=b""):
    return frame(bytes([len(name)]) + name + data, command=True)


def ready(socket_type):
    return command(b"READY", b"\x0bSocket-Type" + len(socket_type).to_bytes(4, "big")
                   + socket_type)


def receive_exactly(peer, count):
    data = b""
    while len(data) < count:
        chunk = peer.recv(count - len(data))
        assert chunk, "the target closed during the handshake"
        data += chunk
    return data


def raw_peer(target, socket_type):
    """A raw TCP connection that has finished a NULL handshake, paced as libzmq
    paces it (libzmq refuses traffic sent before its own READY went out)."""
    peer = socket.create_connection(target.address, timeout=TIMEOUT)
    peer.sendall(greeting())
    receive_exactly(peer, 64)
    peer.sendall(ready(socket_type))
    flags, size = receive_exactly(peer, 2)
    assert flags & 0x04, "READY is a command"
    if flags & 0x02:
        size = int.from_bytes(bytes([size]) + receive_exactly(peer, 7), "big")
    assert b"READY" in receive_exactly(peer, size)
    return peer


def flood(peer, chunks, limit):
    """Writes chunks (cycling) until `limit` bytes went out or the target stopped
    taking them for a second (it pushes back); returns the bytes sent."""
    peer.setblocking(False)
    sent = 0
    index = 0
    pending = memoryview(b"")
    stalled_since = None
    while sent < limit:
        if not pending:
            pending = memoryview(chunks[index % len(chunks)])
            index += 1
        _, writable, _ = select.select([], [peer], [], 0.1)
        if not writable:
            stalled_since = stalled_since or time.monotonic()
            if time.monotonic() - stalled_since > 1.0:
                break
            continue
        stalled_since = None
        try:
            count = peer.send(pending)
        except BlockingIOError:
            continue
        except OSError:
            break
        sent += count
        pending = pending[count:]
    peer.setblocking(True)
    return sent


def send_while_publishing(target, peer, chunks, limit):
    """Sends the chunks within `limit` seconds in all, while the PUB target keeps
    publishing (a PUB reads its subscriptions when it is used); returns the bytes
    sent."""
    peer.setblocking(False)
    sent = 0
    deadline = time.monotonic() + limit
    for chunk in chunks:
        view = memoryview(chunk)
        while view and time.monotonic() < deadline:
            target.send_line(b"tick")
            _, writable, _ = select.select([], [peer], [], 0.01)
            if not writable:
                continue
            try:
                count = peer.send(view)
            except BlockingIOError:
                continue
            view = view[count:]
            sent += count
    return sent


def closed_by_target(peer):
    """Reads until the target closes the connection, within the deadline."""
    peer.settimeout(TIMEOUT)
    while True:
        try:
            if not peer.recv(65536):
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False


def report(case, side, rss, detail=""):
    print(f"hostile: {case}: {side} resident {rss / MIB:.1f} MiB {detail}",
          file=sys.stderr, flush=True)


class Hostile(unittest.TestCase):
    def setUp(self):
        self.context = zmq.Context()
        self.targets = []

    def tearDown(self):
        for target in self.targets:
            target.close()
        self.context.destroy(linger=0)

    def target(self, side, kind, *flags, **options):
        target = Target(side, kind, *flags, **options)
        self.targets.append(target)
        return target

    def good_peer(self, kind, target):
        sock = self.context.socket(kind)
        sock.setsockopt(zmq.RCVTIMEO, int(TIMEOUT * 1000))
        sock.setsockopt(zmq.SNDTIMEO, int(TIMEOUT * 1000))
        sock.setsockopt(zmq.LINGER, 0)
        if kind == zmq.SUB:
            sock.setsockopt(zmq.SUBSCRIBE, b"")
        sock.connect(target.endpoint)
        return sock

    def assert_serves(self, target, label):
        """A well-behaved pyzmq peer still gets through to `target`."""
        if target.kind == "pull":
            push = self.good_peer(zmq.PUSH, target)
            push.send(label)
            deadline = time.monotonic() + TIMEOUT
            while label + b"\n" not in target.printed():
                self.assertLess(time.monotonic(), deadline,
                                f"{target.side} stopped serving after {label}")
                time.sleep(0.01)
            push.close()
            return
        kind = zmq.PULL if target.kind == "push" else zmq.SUB
        peer = self.good_peer(kind, target)
        deadline = time.monotonic() + TIMEOUT
        while True:
            # A SUB's subscription, or a PUSH's choice of peer, takes a moment:
            # send until one arrives (a PUSH may give some to the raw peer).
            target.send_line(label)
            try:
                if peer.poll(100) and peer.recv() == label:
                    break
            except zmq.Again:
                pass
            self.assertLess(time.monotonic(), deadline,
                            f"{target.side} stopped serving after {label}")
        peer.close()

    def attack_both(self, case, kind, attack, bound=BOUND, **options):
        for side in ("sinew", "libzmq"):
            target = self.target(side, kind, **options)
            self.assert_serves(target, b"before")
            detail = attack(target)
            rss = target.resident()
            report(case, side, rss, detail)
            if side == "sinew" and "--verbose" in sys.argv:
                print(target.errors(), file=sys.stderr)
            if side == "sinew":
                self.assertLess(rss, bound, f"{case}: {rss / MIB:.1f} MiB")
                self.assert_serves(target, case.encode())
            target.close()
            self.targets.remove(target)

    def test_subscribe_flood_at_a_push(self):
        chunk = b"".join(command(b"SUBSCRIBE", b"topic-%08d" % index)
                         for index in range(40_000))

        def attack(target):
            peer = raw_peer(target, b"PULL")
            sent = flood(peer, [chunk], 256 * MIB)
            peer.close()
            return f"after {sent / MIB:.0f} MiB sent"

        self.attack_both("SUBSCRIBE flood at PUSH", "push", attack)

    def test_subscribe_flood_at_an_idle_pub(self):
        chunk = b"".join(command(b"SUBSCRIBE", b"topic-%08d" % index)
                         for index in range(40_000))

        def attack(target):
            peer = raw_peer(target, b"SUB")
            sent = flood(peer, [chunk], 256 * MIB)
            rss = target.resident()
            peer.close()
            return f"after {sent / MIB:.0f} MiB sent (while connected: {rss / MIB:.1f} MiB)"

        self.attack_both("SUBSCRIBE flood at idle PUB", "pub", attack)

    def test_ping_flood_from_a_peer_that_never_reads(self):
        chunk = command(b"PING", b"\x00\x00") * 100_000

        def attack(target):
            # (A tiny receive buffer here would make the kernel drop the segments
            # that carry the target's acknowledgements, and stall the flood.)
            peer = raw_peer(target, b"PUSH")
            sent = flood(peer, [chunk], 64 * MIB)
            rss = target.resident()
            peer.close()
            return f"after {sent / MIB:.0f} MiB of PINGs (while connected: {rss / MIB:.1f} MiB)"

        # Tighter: a PONG per PING would queue about 5 MiB of output per 8 MiB sent.
        self.attack_both("PING flood, never reading", "pull", attack, bound=32 * MIB)

    def test_distinct_subscriptions_at_a_publishing_pub(self):
        chunks = [b"".join(command(b"SUBSCRIBE", b"%02d-" % round + b"x" * 56 + b"%08d" % index)
                           for index in range(20_000)) for round in range(20)]

        def attack(target):
            peer = raw_peer(target, b"SUB")
            sent = send_while_publishing(target, peer, chunks, TIMEOUT)
            rss = target.resident()
            peer.close()
            return f"after {sent / MIB:.0f} MiB of 400 000 subscriptions (connected: {rss / MIB:.1f} MiB)"

        self.attack_both("distinct subscriptions at PUB", "pub", attack)

    def test_subscriptions_spread_over_many_reads(self):
        # Each subscription arrives next to 64 KiB of messages a PUB ignores: a
        # stored prefix that kept its receive buffer alive would hold 64 KiB.
        junk = frame(b"\x02" + b"j" * (64 * 1024 - 1))
        chunks = [command(b"SUBSCRIBE", b"spread-%08d" % index) + junk for index in range(1500)]

        def attack(target):
            peer = raw_peer(target, b"SUB")
            sent = send_while_publishing(target, peer, chunks, 3 * TIMEOUT)
            rss = target.resident()
            peer.close()
            return f"after {sent / MIB:.0f} MiB, 1500 subscriptions (connected: {rss / MIB:.1f} MiB)"

        self.attack_both("subscriptions spread over reads", "pub", attack)

    def test_oversized_command_is_refused(self):
        def attack(target):
            peer = raw_peer(target, b"PUSH")
            announce = bytes([0x06]) + (1 << 30).to_bytes(8, "big") + b"\x09SUBSCRIBE"
            peer.sendall(announce + b"x" * 65536)
            self.assertTrue(closed_by_target(peer), f"{target.side} kept the connection")
            peer.close()
            return "connection closed"

        self.attack_both("1 GiB command frame", "pull", attack, max_message_size=1000)

    def test_a_1_gib_frame_trickled_in(self):
        body = b"y" * (64 * 1024)

        def attack(target):
            peer = raw_peer(target, b"PUSH")
            peer.sendall(bytes([0x02]) + (1 << 30).to_bytes(8, "big"))
            for _ in range(1024):
                peer.sendall(body)
            rss = target.resident()
            self.assert_serves(target, b"during the trickle")
            peer.close()
            return f"with 64 MiB of the frame in (connected: {rss / MIB:.1f} MiB)"

        self.attack_both("1 GiB frame trickled in", "pull", attack, bound=160 * MIB)

    def test_twenty_peers_announcing_1_gib_frames(self):
        def attack(target):
            peers = []
            for _ in range(20):
                peer = raw_peer(target, b"PUSH")
                peer.sendall(bytes([0x02]) + (1 << 30).to_bytes(8, "big") + b"z" * MIB)
                peers.append(peer)
            rss = target.resident()
            self.assert_serves(target, b"with twenty announcements")
            for peer in peers:
                peer.close()
            return f"with 20 peers, 1 MiB each in (connected: {rss / MIB:.1f} MiB)"

        self.attack_both("20 peers announcing 1 GiB", "pull", attack)


class CatFlags(unittest.TestCase):
    def setUp(self):
        self.context = zmq.Context()

    def tearDown(self):
        self.context.destroy(linger=0)

    def test_max_message_size_drops_the_peer_that_sends_too_much(self):
        target = Target("sinew", "pull", "--count", "1", max_message_size=1000)
        try:
            big = self.context.socket(zmq.PUSH)
            big.setsockopt(zmq.LINGER, 0)
            big.connect(target.endpoint)
            big.send(b"b" * 5000)
            small = self.context.socket(zmq.PUSH)
            small.setsockopt(zmq.LINGER, 0)
            small.connect(target.endpoint)
            small.send(b"small")
            code = target.process.wait(timeout=TIMEOUT)
            self.assertEqual(code, 0, target.errors())
            self.assertEqual(target.printed(), b"small\n")
        finally:
            target.close()

    def test_handshake_ivl_closes_a_silent_peer(self):
        target = Target("sinew", "pull", "--handshake-ivl", "300")
        try:
            peer = socket.create_connection(target.address, timeout=TIMEOUT)
            self.assertTrue(closed_by_target(peer))
        finally:
            target.close()

    def test_heartbeats_close_a_peer_that_never_answers(self):
        target = Target("sinew", "pull", "--heartbeat-ivl", "100", "--heartbeat-timeout", "300")
        try:
            peer = raw_peer(target, b"PUSH")
            received = b""
            peer.settimeout(TIMEOUT)
            while True:
                data = peer.recv(65536)
                if not data:
                    break
                received += data
            self.assertIn(b"\x04PING", received, "PINGs came before the close")
        finally:
            target.close()

    def test_timeout_exit_is_not_held_by_an_idle_peer(self):
        endpoint, address = free_endpoint()
        started = time.monotonic()
        process = subprocess.Popen([SINEW, "cat", "pull", "--bind", endpoint, "--timeout", "2000"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                idle = socket.create_connection(address, timeout=TIMEOUT)
                break
            except OSError:
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.01)
        try:
            # 30 s (the old wait for the idle peer) would miss this deadline.
            code = process.wait(timeout=2.0 + 8.0)
            elapsed = time.monotonic() - started
            print(f"hostile: cat pull --timeout 2000 with an idle peer exited after {elapsed:.2f} s",
                  file=sys.stderr, flush=True)
            self.assertEqual(code, 2, "exit 2: the timeout passed")
        finally:
            idle.close()
            if process.poll() is None:
                process.kill()
                process.wait()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "")
    else:
        unittest.main(verbosity=2)
