"""A libzmq (pyzmq) peer for the monitor scenarios, run as its own process so a
scenario can kill it with SIGKILL.

    python3 monitor_peer.py MODE ARG

Modes:
  push-connect ENDPOINT   a PUSH connects, sends b"hello"
  pub-connect ENDPOINT    a PUB connects (a socket type a PULL/PUSH refuses)
  plain-push ENDPOINT     a PUSH with the PLAIN mechanism connects, sends
  pull-bind PORT          a PULL binds 127.0.0.1:PORT
  push-bind -             a PUSH binds 127.0.0.1 on a free port

Each prints one line when set up ("ready", or the bound endpoint) and then
waits, reading stdin, until stdin closes or it is killed. It never decides
anything about the monitored socket; it only stands on the other end.
"""

import sys

import zmq


def main():
    mode, arg = sys.argv[1], sys.argv[2]
    context = zmq.Context()
    if mode in ("push-connect", "plain-push"):
        socket = context.socket(zmq.PUSH)
        if mode == "plain-push":
            socket.plain_username = b"user"
            socket.plain_password = b"password"
        socket.connect(arg)
        socket.send(b"hello", zmq.NOBLOCK if mode == "plain-push" else 0)
        print("ready", flush=True)
    elif mode == "pub-connect":
        socket = context.socket(zmq.PUB)
        socket.connect(arg)
        print("ready", flush=True)
    elif mode == "pull-bind":
        socket = context.socket(zmq.PULL)
        socket.bind("tcp://127.0.0.1:%s" % arg)
        print("ready", flush=True)
    elif mode == "push-bind":
        socket = context.socket(zmq.PUSH)
        socket.bind("tcp://127.0.0.1:*")
        print(socket.getsockopt_string(zmq.LAST_ENDPOINT), flush=True)
    else:
        raise SystemExit("unknown mode %r" % mode)
    sys.stdin.read()
    socket.close(linger=0)
    context.term()


if __name__ == "__main__":
    try:
        main()
    except zmq.Again:
        # plain-push: the handshake fails, so the message never goes; that is
        # the point of the scenario.
        print("ready", flush=True)
        sys.stdin.read()
