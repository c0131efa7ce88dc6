"""A libzmq (pyzmq) peer for interop-tests/tests/security.rs: Sinew's sockets
with CURVE and PLAIN options against libzmq's, over TCP.

    security_peer.py curve-pull PUBLIC SECRET COUNT
        A CURVE server PULL socket bound to a free port (printed first); prints
        each multipart message it receives as "got <n frames> <sizes>", COUNT
        of them, then "done".
    security_peer.py curve-push PUBLIC SECRET SERVER_KEY PORT
        A CURVE client PUSH socket: sends a three-frame message, then one of
        1 MiB, then waits for them to leave (linger) and prints "sent".
    security_peer.py curve-pull-watch PUBLIC SECRET
        A CURVE server PULL socket with a monitor: prints the port, then the
        first handshake event it sees as "event <NAME> <value>".
    security_peer.py plain-push USER PASSWORD PORT
        A PLAIN client PUSH socket with a monitor: sends "hello", then prints
        the first handshake event it sees as "event <NAME> <value>".
    security_peer.py curve-push-watch PUBLIC SECRET SERVER_KEY PORT
        A CURVE client PUSH socket with a monitor: sends "hello", then prints
        the first handshake event it sees as "event <NAME> <value>".
    security_peer.py curve-push-count PUBLIC SECRET SERVER_KEY PORT COUNT
        A CURVE client PUSH socket: sends COUNT one-frame messages "0", "1"...,
        then waits for them to leave (linger) and prints "sent".
    security_peer.py null-push-watch PORT
        A PUSH socket with no security and a monitor: sends "hello", then
        prints the first handshake event it sees as "event <NAME> <value>".
    security_peer.py plain-pull USER PASSWORD
        A PLAIN server PULL socket whose ZAP handler (pyzmq's ThreadAuthenticator)
        admits USER with PASSWORD; prints the port, then "got <frames>" for one
        message, or "event <NAME> <value>" for a refused handshake.

pyzmq bundles libzmq 4.3.5 with CURVE; installed by interop-tests/requirements.txt.
"""
import sys
import zmq
import zmq.auth.thread
from zmq.utils.monitor import recv_monitor_message

HANDSHAKE_EVENTS = {
    zmq.EVENT_HANDSHAKE_SUCCEEDED: 'HANDSHAKE_SUCCEEDED',
    zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL: 'HANDSHAKE_FAILED_PROTOCOL',
    zmq.EVENT_HANDSHAKE_FAILED_AUTH: 'HANDSHAKE_FAILED_AUTH',
    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL: 'HANDSHAKE_FAILED_NO_DETAIL',
}


def first_handshake_event(monitor):
    while True:
        event = recv_monitor_message(monitor)
        name = HANDSHAKE_EVENTS.get(event['event'])
        if name:
            return name, event['value']


def main(arguments):
    context = zmq.Context()
    role = arguments[0]
    if role in ('curve-pull', 'curve-pull-watch'):
        public, secret = arguments[1:3]
        socket = context.socket(zmq.PULL)
        socket.curve_server = True
        socket.curve_publickey = public.encode()
        socket.curve_secretkey = secret.encode()
        socket.rcvtimeo = 10000
        monitor = socket.get_monitor_socket() if role == 'curve-pull-watch' else None
        print(socket.bind_to_random_port('tcp://127.0.0.1'), flush=True)
        if monitor is not None:
            name, value = first_handshake_event(monitor)
            print('event', name, value, flush=True)
            return
        for _ in range(int(arguments[3])):
            parts = socket.recv_multipart()
            print('got', len(parts), ','.join(str(len(part)) for part in parts), flush=True)
        print('done', flush=True)
    elif role == 'curve-push':
        public, secret, server_key, port = arguments[1:5]
        socket = context.socket(zmq.PUSH)
        socket.curve_publickey = public.encode()
        socket.curve_secretkey = secret.encode()
        socket.curve_serverkey = server_key.encode()
        socket.linger = 10000
        socket.connect('tcp://127.0.0.1:' + port)
        socket.send_multipart([b'one', b'', b'three'])
        socket.send(b'x' * (1 << 20))
        socket.close()
        print('sent', flush=True)
    elif role == 'curve-push-count':
        public, secret, server_key, port, count = arguments[1:6]
        socket = context.socket(zmq.PUSH)
        socket.curve_publickey = public.encode()
        socket.curve_secretkey = secret.encode()
        socket.curve_serverkey = server_key.encode()
        socket.linger = 2000
        socket.connect('tcp://127.0.0.1:' + port)
        for index in range(int(count)):
            socket.send(str(index).encode())
        socket.close()
        print('sent', flush=True)
    elif role in ('plain-push', 'curve-push-watch', 'null-push-watch'):
        socket = context.socket(zmq.PUSH)
        if role == 'null-push-watch':
            port = arguments[1]
        elif role == 'plain-push':
            user, password, port = arguments[1:4]
            socket.plain_username = user.encode()
            socket.plain_password = password.encode()
        else:
            public, secret, server_key, port = arguments[1:5]
            socket.curve_publickey = public.encode()
            socket.curve_secretkey = secret.encode()
            socket.curve_serverkey = server_key.encode()
        socket.linger = 10000
        monitor = socket.get_monitor_socket()
        socket.connect('tcp://127.0.0.1:' + port)
        socket.send(b'hello')
        name, value = first_handshake_event(monitor)
        print('event', name, value, flush=True)
        if name == 'HANDSHAKE_SUCCEEDED':
            socket.close()
    elif role == 'plain-pull':
        user, password = arguments[1:3]
        authenticator = zmq.auth.thread.ThreadAuthenticator(context)
        authenticator.start()
        authenticator.configure_plain(domain='*', passwords={user: password})
        socket = context.socket(zmq.PULL)
        socket.plain_server = True
        monitor = socket.get_monitor_socket()
        print(socket.bind_to_random_port('tcp://127.0.0.1'), flush=True)
        name, value = first_handshake_event(monitor)
        if name != 'HANDSHAKE_SUCCEEDED':
            print('event', name, value, flush=True)
        else:
            socket.rcvtimeo = 10000
            print('got', len(socket.recv_multipart()), flush=True)
        authenticator.stop()
    else:
        raise SystemExit('unknown role ' + role)
    context.destroy(linger=0)


if __name__ == '__main__':
    main(sys.argv[1:])
