"""pyzmq (libzmq 4.3.5) against the `sinew cat` command, from outside the Rust suite.

Run by `cargo test -p sinew-cli --test pyzmq` (which passes the binary's path in
SINEW_BIN), or by hand:

    SINEW_BIN=target/debug/sinew python3 interop-tests/python/cat_interop.py

Every combination of the PUSH/PULL and PAIR interop matrix: both roles, tcp and
ipc, multipart, empty frames, the 255/256-byte size boundary, 1 MiB frames,
100 000 messages in order, round-robin over two pyzmq PULLs, fair queuing of two
pyzmq PUSHes, and a pyzmq peer that leaves and comes back. For PUB/SUB, in both
roles over tcp and ipc: `sinew cat sub --subscribe wx.` prints only the wx.
messages of a pyzmq PUB, multipart intact; a pyzmq SUB gets only its prefix from
`sinew cat pub`; `sinew cat xpub --hex` prints a pyzmq XSUB's subscribe and cancel
as 01/00 followed by the topic. Nothing is skipped: a missing pyzmq or binary is a
failure.
"""

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import zmq

SINEW = os.environ.get("SINEW_BIN", "target/debug/sinew")
TIMEOUT_MS = 10_000
COUNTER = [0]


def free_tcp_endpoint():
    """A loopback endpoint on a port that was free a moment ago."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"tcp://127.0.0.1:{port}"


def endpoint(transport):
    COUNTER[0] += 1
    if transport == "tcp":
        return free_tcp_endpoint()
    path = os.path.join(tempfile.gettempdir(), f"sinew-py-{os.getpid()}-{COUNTER[0]}.ipc")
    return f"ipc://{path}"


def cat(*arguments, stdin=None):
    """Starts `sinew cat` with the given arguments.

    Its output goes to temporary files, not pipes: a pipe nobody reads until the
    end would fill and stall the command (and, through it, the sockets).
    """
    stdout = tempfile.TemporaryFile()
    stderr = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [SINEW, "cat", *arguments],
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
    )
    process.output_files = (stdout, stderr)
    return process


def finish(process, stdin=None, timeout=30):
    """Feeds stdin, waits, and returns (exit code, stdout bytes, stderr text)."""
    try:
        process.communicate(input=stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    stdout, stderr = process.output_files
    stdout.seek(0)
    stderr.seek(0)
    out, err = stdout.read(), stderr.read()
    stdout.close()
    stderr.close()
    return process.returncode, out, err.decode(errors="replace")


def printed(process):
    """What `process` (started by `cat`) has printed so far, read without moving
    the file offset it shares with the child."""
    return os.pread(process.output_files[0].fileno(), 1 << 20, 0)


def deadline_after(milliseconds=TIMEOUT_MS):
    return time.monotonic() + milliseconds / 1000


def left_ms(deadline):
    """Milliseconds until `deadline` (at least 1), for a poll that must end by it."""
    return max(1, int((deadline - time.monotonic()) * 1000))


def poll_any(sockets, timeout_ms):
    """Waits up to `timeout_ms` until one of `sockets` is readable."""
    poller = zmq.Poller()
    for sock in sockets:
        poller.register(sock, zmq.POLLIN)
    return bool(poller.poll(timeout_ms))


def feed(process, line):
    """Writes one line to the standard input of `process` (started by `cat`)."""
    process.stdin.write(line + b"\n")
    process.stdin.flush()


def pyzmq(context, kind):
    sock = context.socket(kind)
    sock.setsockopt(zmq.RCVTIMEO, TIMEOUT_MS)
    sock.setsockopt(zmq.SNDTIMEO, TIMEOUT_MS)
    sock.setsockopt(zmq.LINGER, 2000)
    return sock


# Frame shapes: (frames as sent by pyzmq, the line `sinew cat` prints).
SHAPES = [
    ([b"hello"], b"hello"),
    ([b""], b""),
    ([b"a", b"", b"c"], b"a||c"),
    ([b"x" * 255], b"x" * 255),
    ([b"y" * 256], b"y" * 256),
    ([b"x" * 255, b"y" * 256, b"tail"], b"x" * 255 + b"|" + b"y" * 256 + b"|tail"),
    ([b"z" * (1 << 20)], b"z" * (1 << 20)),
]


class PushPull(unittest.TestCase):
    def setUp(self):
        self.context = zmq.Context()

    def tearDown(self):
        self.context.destroy(linger=0)

    def test_sinew_pull_receives_every_shape_from_pyzmq(self):
        for transport in ("tcp", "ipc"):
            for sinew_binds in (True, False):
                with self.subTest(transport=transport, sinew_binds=sinew_binds):
                    ep = endpoint(transport)
                    push = pyzmq(self.context, zmq.PUSH)
                    if sinew_binds:
                        process = cat("pull", "--bind", ep, "--count", str(len(SHAPES)),
                                      "--timeout", str(TIMEOUT_MS))
                        push.connect(ep)
                    else:
                        push.bind(ep)
                        process = cat("pull", "--connect", ep, "--count", str(len(SHAPES)),
                                      "--timeout", str(TIMEOUT_MS))
                    for frames, _ in SHAPES:
                        push.send_multipart(frames)
                    code, out, err = finish(process)
                    push.close()
                    self.assertEqual(code, 0, err)
                    self.assertEqual(out.split(b"\n")[:-1], [line for _, line in SHAPES])

    def test_sinew_push_sends_every_shape_to_pyzmq(self):
        lines = b"".join(line + b"\n" for _, line in SHAPES)
        for transport in ("tcp", "ipc"):
            for sinew_binds in (True, False):
                with self.subTest(transport=transport, sinew_binds=sinew_binds):
                    ep = endpoint(transport)
                    pull = pyzmq(self.context, zmq.PULL)
                    if sinew_binds:
                        process = cat("push", "--bind", ep, "--stdin", "--timeout", str(TIMEOUT_MS),
                                      stdin=True)
                        pull.connect(ep)
                    else:
                        pull.bind(ep)
                        process = cat("push", "--connect", ep, "--stdin", stdin=True)
                    code, _, err = finish(process, stdin=lines)
                    self.assertEqual(code, 0, err)
                    for frames, _ in SHAPES:
                        self.assertEqual(pull.recv_multipart(), frames)
                    pull.close()

    def test_one_hundred_thousand_messages_in_order_both_ways(self):
        count = 100_000
        lines = b"".join(b"%d\n" % index for index in range(count))
        for transport in ("tcp", "ipc"):
            with self.subTest(transport=transport, direction="sinew to pyzmq"):
                ep = endpoint(transport)
                pull = pyzmq(self.context, zmq.PULL)
                pull.bind(ep)
                process = cat("push", "--connect", ep, "--stdin", stdin=True)
                # Receive while it sends: the marks and kernel buffers hold far
                # fewer than 100 000 messages.
                result = {}
                feeder = threading.Thread(
                    target=lambda: result.update(outcome=finish(process, stdin=lines, timeout=120)))
                feeder.start()
                for index in range(count):
                    self.assertEqual(pull.recv(), b"%d" % index)
                feeder.join()
                code, _, err = result["outcome"]
                self.assertEqual(code, 0, err)
                pull.close()
            with self.subTest(transport=transport, direction="pyzmq to sinew"):
                ep = endpoint(transport)
                process = cat("pull", "--bind", ep, "--count", str(count), "--timeout", str(TIMEOUT_MS))
                push = pyzmq(self.context, zmq.PUSH)
                push.connect(ep)
                for index in range(count):
                    push.send(b"%d" % index)
                code, out, err = finish(process, timeout=120)
                push.close()
                self.assertEqual(code, 0, err)
                self.assertEqual(out, lines)

    def test_sinew_push_round_robins_over_two_pyzmq_pulls(self):
        for transport in ("tcp", "ipc"):
            with self.subTest(transport=transport):
                ep = endpoint(transport)
                pulls = [pyzmq(self.context, zmq.PULL) for _ in range(2)]
                for pull in pulls:
                    pull.setsockopt(zmq.RECONNECT_IVL, 20)
                    pull.connect(ep)
                process = cat("push", "--bind", ep, "--stdin", stdin=True)
                # A PUSH round-robins over the peers attached when it sends: feed
                # probes until each pull has received one, so both are attached.
                deadline = deadline_after()
                joined = [False, False]
                while not all(joined):
                    self.assertLess(time.monotonic(), deadline, f"not both attached: {joined}")
                    self.assertIsNone(process.poll(), "sinew cat push ended early")
                    feed(process, b"probe")
                    # Paces the probes: waits for a pull that has none yet.
                    poll_any([pull for pull, done in zip(pulls, joined) if not done], 10)
                    for index, pull in enumerate(pulls):
                        while pull.poll(0):
                            self.assertEqual(pull.recv(), b"probe")
                            joined[index] = True
                code, _, err = finish(process, stdin=b"".join(b"%d\n" % i for i in range(100)))
                self.assertEqual(code, 0, err)
                # Each pull gets its share in order, behind any probe still on its
                # way: stop at the known count of 100.
                deadline = deadline_after()
                received = [[], []]
                while len(received[0]) + len(received[1]) < 100:
                    self.assertLess(time.monotonic(), deadline, f"only {received} of 100 arrived")
                    poll_any(pulls, left_ms(deadline))
                    for index, pull in enumerate(pulls):
                        while pull.poll(0):
                            message = pull.recv()
                            if message != b"probe":
                                received[index].append(int(message))
                for pull in pulls:
                    pull.close()
                # Both attached: strict alternation, each pull in order.
                received.sort()
                self.assertEqual(received, [list(range(0, 100, 2)), list(range(1, 100, 2))])

    def test_sinew_pull_fair_queues_two_pyzmq_pushes(self):
        for transport in ("tcp", "ipc"):
            with self.subTest(transport=transport):
                ep = endpoint(transport)
                process = cat("pull", "--bind", ep, "--count", "400", "--timeout", str(TIMEOUT_MS))
                pushes = [pyzmq(self.context, zmq.PUSH) for _ in range(2)]
                for name, push in enumerate(pushes):
                    push.connect(ep)
                for index in range(200):
                    for name, push in enumerate(pushes):
                        push.send(b"%d:%d" % (name, index))
                code, out, err = finish(process)
                for push in pushes:
                    push.close()
                self.assertEqual(code, 0, err)
                seen = {0: [], 1: []}
                for line in out.split(b"\n")[:-1]:
                    name, index = line.split(b":")
                    seen[int(name)].append(int(index))
                self.assertEqual(seen[0], list(range(200)))
                self.assertEqual(seen[1], list(range(200)))

    def test_a_pyzmq_peer_that_leaves_and_comes_back_is_served_again(self):
        for transport in ("tcp", "ipc"):
            with self.subTest(transport=transport, sinew="binds pull"):
                ep = endpoint(transport)
                process = cat("pull", "--bind", ep, "--count", "3", "--timeout", str(TIMEOUT_MS))
                for round_number in range(3):
                    push = pyzmq(self.context, zmq.PUSH)
                    push.connect(ep)
                    push.send(b"round %d" % round_number)
                    push.close()
                code, out, err = finish(process)
                self.assertEqual(code, 0, err)
                # Three peers, one after another; each closes at once, so their
                # messages may overtake each other: all three must arrive.
                self.assertEqual(sorted(out.split(b"\n")[:-1]), [b"round 0", b"round 1", b"round 2"])
            with self.subTest(transport=transport, sinew="connects push"):
                ep = endpoint(transport)
                process = cat("push", "--connect", ep, "--stdin", "--linger", "0", stdin=True)
                for round_number in range(3):
                    pull = pyzmq(self.context, zmq.PULL)
                    deadline = time.monotonic() + TIMEOUT_MS / 1000
                    while True:
                        try:
                            pull.bind(ep)
                            break
                        except zmq.ZMQError:
                            self.assertLess(time.monotonic(), deadline, "rebind")
                    # Lines written while the old peer was going can die with it, as
                    # with libzmq: keep sending until this peer has one.
                    while True:
                        self.assertLess(time.monotonic(), deadline, f"round {round_number}")
                        process.stdin.write(b"round %d\n" % round_number)
                        process.stdin.flush()
                        if pull.poll(100):
                            self.assertEqual(pull.recv(), b"round %d" % round_number)
                            break
                    pull.close()
                code, _, err = finish(process, stdin=b"")
                self.assertEqual(code, 0, err)


class Pair(unittest.TestCase):
    def setUp(self):
        self.context = zmq.Context()

    def tearDown(self):
        self.context.destroy(linger=0)

    def test_pair_echo_both_roles(self):
        for transport in ("tcp", "ipc"):
            for sinew_binds in (True, False):
                with self.subTest(transport=transport, sinew_binds=sinew_binds):
                    ep = endpoint(transport)
                    pair = pyzmq(self.context, zmq.PAIR)
                    arguments = ["--echo", "--count", str(len(SHAPES)), "--timeout", str(TIMEOUT_MS)]
                    if sinew_binds:
                        process = cat("pair", "--bind", ep, *arguments)
                        pair.connect(ep)
                    else:
                        pair.bind(ep)
                        process = cat("pair", "--connect", ep, *arguments)
                    for frames, _ in SHAPES:
                        pair.send_multipart(frames)
                        self.assertEqual(pair.recv_multipart(), frames)
                    code, out, err = finish(process)
                    pair.close()
                    self.assertEqual(code, 0, err)
                    self.assertEqual(out.split(b"\n")[:-1], [line for _, line in SHAPES])

    def test_sinew_pair_sends_and_prints_the_reply(self):
        for transport in ("tcp", "ipc"):
            with self.subTest(transport=transport):
                ep = endpoint(transport)
                pair = pyzmq(self.context, zmq.PAIR)
                pair.bind(ep)
                process = cat("pair", "--connect", ep, "--send", "ping|1", "--count", "1",
                              "--timeout", str(TIMEOUT_MS))
                self.assertEqual(pair.recv_multipart(), [b"ping", b"1"])
                pair.send_multipart([b"pong", b"2"])
                code, out, err = finish(process)
                pair.close()
                self.assertEqual(code, 0, err)
                self.assertEqual(out, b"pong|2\n")


class PubSub(unittest.TestCase):
    def setUp(self):
        self.context = zmq.Context()

    def tearDown(self):
        self.context.destroy(linger=0)

    def test_sinew_sub_prints_only_its_prefix_from_a_pyzmq_pub_multipart_intact(self):
        count = 5
        for transport in ("tcp", "ipc"):
            for sinew_binds in (True, False):
                with self.subTest(transport=transport, sinew_binds=sinew_binds):
                    ep = endpoint(transport)
                    pub = pyzmq(self.context, zmq.PUB)
                    arguments = ["--subscribe", "wx.", "--count", str(count), "--timeout", str(TIMEOUT_MS)]
                    if sinew_binds:
                        process = cat("sub", "--bind", ep, *arguments)
                        pub.connect(ep)
                    else:
                        pub.bind(ep)
                        process = cat("sub", "--connect", ep, *arguments)
                    # A slow joiner: publish rounds until the subscriber has seen enough.
                    deadline = time.monotonic() + TIMEOUT_MS / 1000
                    round_number = 0
                    while True:
                        pub.send_multipart([b"news.%d" % round_number, b"x"])
                        pub.send_multipart([b"wx.%d" % round_number, b"a", b""])
                        pub.send(b"wx")
                        pub.send(b"weather.%d" % round_number)
                        round_number += 1
                        try:
                            process.wait(timeout=0.01)
                            break
                        except subprocess.TimeoutExpired:
                            self.assertLess(time.monotonic(), deadline, "sinew cat sub never finished")
                    code, out, err = finish(process)
                    pub.close()
                    self.assertEqual(code, 0, err)
                    lines = out.split(b"\n")[:-1]
                    self.assertEqual(len(lines), count, out)
                    first = int(lines[0].split(b"|")[0][len(b"wx."):])
                    self.assertEqual(lines, [b"wx.%d|a|" % (first + index) for index in range(count)])

    def test_a_pyzmq_sub_receives_only_its_prefix_from_sinew_cat_pub(self):
        # The last line is an end marker: everything before it has arrived or was
        # filtered out by then.
        lines = b"news.1\nwx.1|x|y\nwx\nwx.2\nsports.1\nwx.end\n"
        for transport in ("tcp", "ipc"):
            for sinew_binds in (True, False):
                with self.subTest(transport=transport, sinew_binds=sinew_binds):
                    ep = endpoint(transport)
                    sub = pyzmq(self.context, zmq.SUB)
                    sub.setsockopt(zmq.SUBSCRIBE, b"wx.")
                    if sinew_binds:
                        process = cat("pub", "--bind", ep, "--stdin", stdin=True)
                        sub.setsockopt(zmq.RECONNECT_IVL, 20)
                        sub.connect(ep)
                    else:
                        sub.bind(ep)
                        process = cat("pub", "--connect", ep, "--stdin", stdin=True)
                    # A slow joiner: publish probes until the SUB receives one. The
                    # polls also make a bound libzmq SUB take in the connection (and
                    # send it the subscription), which it does only when called.
                    deadline = deadline_after()
                    while True:
                        self.assertLess(time.monotonic(), deadline, "the subscription never arrived")
                        self.assertIsNone(process.poll(), "sinew cat pub ended early")
                        feed(process, b"wx.probe")
                        if sub.poll(10):
                            self.assertEqual(sub.recv_multipart(), [b"wx.probe"])
                            break
                    # Drain the other probes up to a marker of our own.
                    feed(process, b"wx.synchronized")
                    while True:
                        self.assertTrue(sub.poll(left_ms(deadline)), "no synchronization marker")
                        message = sub.recv_multipart()
                        if message == [b"wx.synchronized"]:
                            break
                        self.assertEqual(message, [b"wx.probe"])
                    process.stdin.write(lines)
                    process.stdin.close()
                    process.stdin = None  # `finish` has nothing more to feed
                    received = []
                    deadline = deadline_after()
                    while True:
                        self.assertTrue(sub.poll(left_ms(deadline)), f"no end marker after {received}")
                        message = sub.recv_multipart()
                        if message == [b"wx.end"]:
                            break
                        received.append(message)
                    code, _, err = finish(process)
                    sub.close()
                    self.assertEqual(code, 0, err)
                    self.assertEqual(received, [[b"wx.1", b"x", b"y"], [b"wx.2"]])

    def test_sinew_cat_xpub_hex_prints_a_pyzmq_xsub_subscription(self):
        for transport in ("tcp", "ipc"):
            for sinew_binds in (True, False):
                with self.subTest(transport=transport, sinew_binds=sinew_binds):
                    ep = endpoint(transport)
                    xsub = pyzmq(self.context, zmq.XSUB)
                    arguments = ["--hex", "--count", "2", "--timeout", str(TIMEOUT_MS)]
                    if sinew_binds:
                        process = cat("xpub", "--bind", ep, *arguments)
                        xsub.connect(ep)
                    else:
                        xsub.bind(ep)
                        process = cat("xpub", "--connect", ep, *arguments)
                    # Repeats from one peer are not reported again: subscribe until
                    # the report is printed. The XSUB counts its subscriptions, so
                    # it sends the cancel upstream after as many cancels.
                    deadline = time.monotonic() + TIMEOUT_MS / 1000
                    subscribed = 0
                    while not printed(process):
                        self.assertLess(time.monotonic(), deadline, "no subscription report")
                        xsub.send(b"\x01wx.")
                        subscribed += 1
                        try:
                            process.wait(timeout=0.01)
                        except subprocess.TimeoutExpired:
                            pass
                    for _ in range(subscribed):
                        xsub.send(b"\x00wx.")
                    code, out, err = finish(process)
                    xsub.close()
                    self.assertEqual(code, 0, err)
                    self.assertEqual(out, b"0177782e\n0077782e\n")


class Arguments(unittest.TestCase):
    def test_bad_arguments_exit_1_with_one_line(self):
        for arguments in (["nosuchtype", "--bind", "tcp://127.0.0.1:1"],
                          ["pull", "--bind", "nonsense"],
                          ["pull", "--no-such-flag"],
                          ["pull"]):
            with self.subTest(arguments=arguments):
                code, out, err = finish(cat(*arguments))
                self.assertEqual(code, 1, err)
                self.assertEqual(out, b"")
                self.assertEqual(len(err.strip().splitlines()), 1, err)

    def test_timeout_exits_2(self):
        code, _, err = finish(cat("pull", "--bind", endpoint("tcp"), "--timeout", "100"))
        self.assertEqual(code, 2, err)


if __name__ == "__main__":
    print(f"pyzmq {zmq.pyzmq_version()}, libzmq {zmq.zmq_version()}, sinew at {SINEW}", file=sys.stderr)
    unittest.main(verbosity=2)
