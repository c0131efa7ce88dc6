"""pyzmq (libzmq 4.3.5) against `sinew cat` for REQ, REP, DEALER and ROUTER.

Run by `cargo test -p sinew-cli --test pyzmq`, or by hand:

    SINEW_BIN=target/debug/sinew python3 interop-tests/python/cat_request_reply.py

The checks of issue 4 from outside the Rust suite: a pyzmq REQ gets its replies
from `sinew cat rep --echo`; `sinew cat req` gets replies from a pyzmq REP; a
pyzmq DEALER's routing id is printed first by `sinew cat router`; `sinew cat router
--echo` answers each of several pyzmq DEALERs; `sinew cat dealer --identity me
--send '|hello'` reaches a pyzmq ROUTER as [me, "", hello].
"""

import sys
import unittest

import zmq

from cat_interop import SINEW, TIMEOUT_MS, cat, endpoint, finish, pyzmq


class RequestReply(unittest.TestCase):
    def setUp(self):
        self.context = zmq.Context()

    def tearDown(self):
        self.context.destroy(linger=0)

    def test_pyzmq_req_gets_replies_from_sinew_rep_echo(self):
        for transport in ("tcp", "ipc"):
            with self.subTest(transport=transport):
                ep = endpoint(transport)
                process = cat("rep", "--bind", ep, "--echo", "--count", "3", "--timeout", str(TIMEOUT_MS))
                req = pyzmq(self.context, zmq.REQ)
                req.connect(ep)
                for index in range(3):
                    req.send_multipart([b"question", b"%d" % index])
                    self.assertEqual(req.recv_multipart(), [b"question", b"%d" % index])
                code, out, err = finish(process)
                req.close()
                self.assertEqual(code, 0, err)
                self.assertEqual(out, b"question|0\nquestion|1\nquestion|2\n")

    def test_sinew_req_gets_replies_from_pyzmq_rep(self):
        for transport in ("tcp", "ipc"):
            with self.subTest(transport=transport):
                ep = endpoint(transport)
                rep = pyzmq(self.context, zmq.REP)
                rep.bind(ep)
                process = cat("req", "--connect", ep, "--send", "one", "--send", "two|parts",
                              "--timeout", str(TIMEOUT_MS))
                for expected in ([b"one"], [b"two", b"parts"]):
                    self.assertEqual(rep.recv_multipart(), expected)
                    rep.send_multipart([b"re:"] + expected)
                code, out, err = finish(process)
                rep.close()
                self.assertEqual(code, 0, err)
                self.assertEqual(out, b"re:|one\nre:|two|parts\n")

    def test_sinew_router_prints_the_dealer_routing_id_first(self):
        for transport in ("tcp", "ipc"):
            with self.subTest(transport=transport):
                ep = endpoint(transport)
                process = cat("router", "--bind", ep, "--count", "1", "--timeout", str(TIMEOUT_MS))
                dealer = pyzmq(self.context, zmq.DEALER)
                dealer.setsockopt(zmq.ROUTING_ID, b"dealer-7")
                dealer.connect(ep)
                dealer.send_multipart([b"", b"hello"])
                code, out, err = finish(process)
                dealer.close()
                self.assertEqual(code, 0, err)
                self.assertEqual(out, b"dealer-7||hello\n")

    def test_sinew_router_echo_answers_each_of_several_dealers(self):
        for transport in ("tcp", "ipc"):
            with self.subTest(transport=transport):
                ep = endpoint(transport)
                names = [b"alpha", b"beta", b"gamma"]
                process = cat("router", "--bind", ep, "--echo", "--count", str(2 * len(names)),
                              "--timeout", str(TIMEOUT_MS))
                dealers = []
                for name in names:
                    dealer = pyzmq(self.context, zmq.DEALER)
                    dealer.setsockopt(zmq.ROUTING_ID, name)
                    dealer.connect(ep)
                    dealers.append(dealer)
                for round_number in range(2):
                    for name, dealer in zip(names, dealers):
                        dealer.send_multipart([name, b"%d" % round_number])
                    for name, dealer in zip(names, dealers):
                        self.assertEqual(dealer.recv_multipart(), [name, b"%d" % round_number])
                code, out, err = finish(process)
                for dealer in dealers:
                    dealer.close()
                self.assertEqual(code, 0, err)
                for line in out.split(b"\n")[:-1]:
                    routing_id, name, _ = line.split(b"|")
                    self.assertEqual(routing_id, name, "each message is printed after its sender's id")

    def test_sinew_dealer_identity_reaches_pyzmq_router(self):
        for transport in ("tcp", "ipc"):
            with self.subTest(transport=transport):
                ep = endpoint(transport)
                router = pyzmq(self.context, zmq.ROUTER)
                router.bind(ep)
                process = cat("dealer", "--connect", ep, "--identity", "me", "--send", "|hello")
                self.assertEqual(router.recv_multipart(), [b"me", b"", b"hello"])
                code, _, err = finish(process)
                router.close()
                self.assertEqual(code, 0, err)


if __name__ == "__main__":
    print(f"pyzmq {zmq.pyzmq_version()}, libzmq {zmq.zmq_version()}, sinew at {SINEW}", file=sys.stderr)
    unittest.main(verbosity=2)
