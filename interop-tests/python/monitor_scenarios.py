"""The monitor scenarios with a libzmq socket (pyzmq) as the monitored one; the
Rust test interop-tests/tests/monitor.rs runs the same scenarios with a Sinew
socket and compares the two event sequences.

    python3 monitor_scenarios.py

Prints one JSON object: scenario name -> the monitored socket's events, in
order, until MONITOR_STOPPED, each as its libzmq name without ZMQ_EVENT_ (and
the protocol error code after a colon for HANDSHAKE_FAILED_PROTOCOL). Every wait
is for a named event, with a deadline; the peers are monitor_peer.py processes,
the same ones the Rust side uses. This script must never wait on a silence.
"""

import json
import os
import socket
import struct
import subprocess
import sys

import zmq

HERE = os.path.dirname(os.path.abspath(__file__))
DEADLINE_MS = 10_000
NAMES = {
    getattr(zmq, name): name[len("EVENT_"):]
    for name in dir(zmq)
    if name.startswith("EVENT_") and not name.startswith("EVENT_ALL")
}


class Watch:
    """A monitored socket and the events seen so far."""

    def __init__(self, context, kind, scenario):
        self.socket = context.socket(kind)
        self.socket.linger = 0
        self.socket.reconnect_ivl = 100
        endpoint = "inproc://monitor-%s" % scenario
        self.socket.monitor(endpoint, zmq.EVENT_ALL)
        self.reader = context.socket(zmq.PAIR)
        self.reader.rcvtimeo = DEADLINE_MS
        self.reader.connect(endpoint)
        self.seen = []

    def until(self, name):
        """Reads events until `name` arrives (it is recorded too)."""
        while True:
            frames = self.reader.recv_multipart()
            number, value = struct.unpack("=HI", frames[0])
            event = NAMES.get(number, hex(number))
            if event == "HANDSHAKE_FAILED_PROTOCOL":
                event += ":0x%08x" % value
            self.seen.append(event)
            if event.split(":")[0] == name:
                return

    def close(self):
        self.socket.close()
        self.until("MONITOR_STOPPED")
        self.reader.close()
        return self.seen


def peer(mode, argument):
    child = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "monitor_peer.py"), mode, str(argument)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    line = child.stdout.readline().decode().strip()
    return child, line


def free_port():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def accept_then_peer_killed(context):
    watch = Watch(context, zmq.PULL, "killed")
    watch.socket.bind("tcp://127.0.0.1:0")
    watch.until("LISTENING")
    endpoint = watch.socket.getsockopt_string(zmq.LAST_ENDPOINT)
    child, _ = peer("push-connect", endpoint)
    watch.socket.rcvtimeo = DEADLINE_MS
    assert watch.socket.recv() == b"hello"
    watch.until("HANDSHAKE_SUCCEEDED")
    child.kill()
    child.wait()
    watch.until("DISCONNECTED")
    return watch.close()


def connect_retried_then_bound(context):
    port = free_port()
    watch = Watch(context, zmq.PUSH, "retried")
    watch.socket.connect("tcp://127.0.0.1:%d" % port)
    watch.until("CONNECT_RETRIED")
    child, _ = peer("pull-bind", port)
    watch.until("HANDSHAKE_SUCCEEDED")
    seen = watch.close()
    child.kill()
    child.wait()
    return seen


def peer_restarts(context):
    port = free_port()
    child, _ = peer("pull-bind", port)
    watch = Watch(context, zmq.PUSH, "restarts")
    watch.socket.connect("tcp://127.0.0.1:%d" % port)
    watch.until("HANDSHAKE_SUCCEEDED")
    child.kill()
    child.wait()
    watch.until("DISCONNECTED")
    watch.until("CONNECT_RETRIED")
    child, _ = peer("pull-bind", port)
    watch.until("HANDSHAKE_SUCCEEDED")
    seen = watch.close()
    child.kill()
    child.wait()
    return seen


def wrong_type_connecting(context):
    child, endpoint = peer("push-bind", "-")
    # A SUB may not talk to a PUSH.
    watch = Watch(context, zmq.SUB, "wrong-connecting")
    watch.socket.connect(endpoint)
    watch.until("DISCONNECTED")
    seen = watch.close()
    child.kill()
    child.wait()
    return seen


def wrong_type_accepting(context):
    watch = Watch(context, zmq.PULL, "wrong-accepting")
    watch.socket.bind("tcp://127.0.0.1:0")
    watch.until("LISTENING")
    endpoint = watch.socket.getsockopt_string(zmq.LAST_ENDPOINT)
    child, _ = peer("pub-connect", endpoint)
    watch.until("DISCONNECTED")
    seen = watch.close()
    child.kill()
    child.wait()
    return seen


def garbage_peer(context):
    watch = Watch(context, zmq.ROUTER, "garbage")
    watch.socket.bind("tcp://127.0.0.1:0")
    watch.until("LISTENING")
    port = int(watch.socket.getsockopt_string(zmq.LAST_ENDPOINT).rsplit(":", 1)[1])
    raw = socket.create_connection(("127.0.0.1", port))
    raw.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    watch.until("ACCEPTED")
    raw.close()
    watch.until("DISCONNECTED")
    return watch.close()


def mechanism_mismatch(context):
    watch = Watch(context, zmq.PULL, "mechanism")
    watch.socket.bind("tcp://127.0.0.1:0")
    watch.until("LISTENING")
    endpoint = watch.socket.getsockopt_string(zmq.LAST_ENDPOINT)
    child, _ = peer("plain-push", endpoint)
    watch.until("DISCONNECTED")
    seen = watch.close()
    child.kill()
    child.wait()
    return seen


def stream_peer_leaves(context):
    watch = Watch(context, zmq.STREAM, "stream")
    watch.socket.bind("tcp://127.0.0.1:0")
    watch.until("LISTENING")
    port = int(watch.socket.getsockopt_string(zmq.LAST_ENDPOINT).rsplit(":", 1)[1])
    raw = socket.create_connection(("127.0.0.1", port))
    raw.sendall(b"hi")
    watch.socket.rcvtimeo = DEADLINE_MS
    # The connect notification, then the bytes.
    assert watch.socket.recv_multipart()[1] == b""
    assert watch.socket.recv_multipart()[1] == b"hi"
    raw.close()
    watch.until("DISCONNECTED")
    return watch.close()


SCENARIOS = [
    accept_then_peer_killed,
    connect_retried_then_bound,
    peer_restarts,
    wrong_type_connecting,
    wrong_type_accepting,
    garbage_peer,
    mechanism_mismatch,
    stream_peer_leaves,
]


def main():
    context = zmq.Context()
    results = {scenario.__name__: scenario(context) for scenario in SCENARIOS}
    print(json.dumps(results))
    context.term()


if __name__ == "__main__":
    main()
