#!/usr/bin/env python3
"""NATS compatibility scenarios, nats-py side (scenarios.mjs is the nats.js twin).

Runs the same scenarios as scenarios.mjs against one server and prints ONE JSON
document of what was observed, so that two servers (nats-server and Sinew's broker)
or two clients can be compared for equality. The document is deterministic: lists
are sorted, nothing depends on timing, and every wait is on an event (a message, a
flush round trip, a barrier message that must arrive after the ones that matter)
with a deadline; a missed deadline is recorded as "timeout: <what>", never slept
through. Each scenario gives {"result": ..., "detail": ...}: "result" is what both
clients must agree on; "detail" is how this client reports it (exception names),
compared only between servers.

Besides the client API, some scenarios speak the protocol over a raw socket, where
a client would hide what the server did (a client drops messages past an
auto-unsubscribe limit itself; nats-py refuses an invalid subject before sending it).

Usage: scenarios.py --url nats://H:P --auth-url nats://H:P --token T --control H:P
(or NATS_URL, NATS_AUTH_URL, NATS_TOKEN, NATS_CONTROL). The auth server requires
token T; the control address is the runner's: "restart\\n" there restarts the server
at --url and is answered "restarted\\n". It must never print anything else on stdout.
"""

import argparse
import asyncio
import json
import os
import sys
import urllib.parse

import nats
import nats.aio.client
from nats import errors

# The longest any single wait may take.
DEADLINE = 10.0
BARRIER = b"barrier"


class ScenarioTimeout(Exception):
    """A wait passed its deadline; the message says what was awaited."""


async def until(event_or_future, what, seconds=DEADLINE):
    try:
        return await asyncio.wait_for(event_or_future, seconds)
    except asyncio.TimeoutError:
        raise ScenarioTimeout(what) from None


class Collector:
    """Messages of one or more subscriptions, and a way to wait for some."""

    def __init__(self):
        self.messages = []
        self.changed = asyncio.Event()

    async def callback(self, message):
        self.messages.append(message)
        self.changed.set()

    async def wait(self, predicate, what):
        deadline = asyncio.get_running_loop().time() + DEADLINE
        while not predicate(self.messages):
            self.changed.clear()
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise ScenarioTimeout(what)
            await until(self.changed.wait(), what, left)

    def payloads(self, include_barriers=False):
        return sorted(
            m.data.decode() for m in self.messages if include_barriers or m.data != BARRIER
        )


async def settle(client):
    """Returns once the server has processed everything this client sent before.

    nats-py 2.16.0's flush() writes its PING straight to the socket, ahead of the
    commands still waiting in its pending buffer for the flusher task (a SUB, a PUB),
    so one flush can return before the server has them (a subscription missed
    messages published just after it, about 1 run in 20). The first round trip
    lets the flusher write the buffer (its turn comes before any reply can be read);
    the second PING then follows those commands on the wire.
    """
    await client.flush()
    await client.flush()


async def ignore_errors(_error):
    """nats-py logs asynchronous errors unless given a callback."""


async def connect(url, **options):
    options.setdefault("allow_reconnect", False)
    options.setdefault("max_reconnect_attempts", 0)
    options.setdefault("connect_timeout", 5)
    options.setdefault("error_cb", ignore_errors)
    return await nats.connect(url, **options)


def parse_address(url):
    parsed = urllib.parse.urlsplit(url if "://" in url else "nats://" + url)
    return parsed.hostname, parsed.port or 4222


class Raw:
    """A protocol-level connection: write commands, read what the server answers."""

    @classmethod
    async def open(cls, url, connect=None):
        raw = cls()
        host, port = parse_address(url)
        raw.reader, raw.writer = await until(asyncio.open_connection(host, port), "raw connect")
        line = await until(raw.reader.readline(), "INFO")
        if not line.startswith(b"INFO "):
            raise ScenarioTimeout(f"no INFO: {line!r}")
        raw.info = json.loads(line[5:])
        if connect is not None:
            options = {"verbose": False, "pedantic": False, "headers": True, "no_responders": True}
            options.update(connect)
            raw.writer.write(b"CONNECT " + json.dumps(options).encode() + b"\r\n")
        return raw

    async def exchange(self, data=b""):
        """Sends data and a PING; returns what came before the PONG (or the close)."""
        self.writer.write(data + b"PING\r\n")
        ops = []
        deadline = asyncio.get_running_loop().time() + DEADLINE
        try:
            while True:
                left = deadline - asyncio.get_running_loop().time()
                line = await until(self.reader.readline(), "PONG", max(left, 0.001))
                if not line:
                    return {"ops": ops, "closed": True}
                text = line.decode().rstrip("\r\n")
                verb = text.split(" ", 1)[0].upper()
                if verb == "PONG":
                    return {"ops": ops, "closed": False}
                if verb == "PING":
                    self.writer.write(b"PONG\r\n")
                    continue
                if verb in ("MSG", "HMSG"):
                    fields = text.split()
                    total = int(fields[-1])
                    header_size = int(fields[-2]) if verb == "HMSG" else 0
                    body = await until(self.reader.readexactly(total + 2), "payload")
                    op = [text]
                    if verb == "HMSG":
                        op.append(body[:header_size].decode())
                    op.append(body[header_size:total].decode())
                    ops.append(op)
                    continue
                ops.append([text])
        except (ConnectionError, asyncio.IncompleteReadError):
            return {"ops": ops, "closed": True}

    async def close(self):
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except ConnectionError:
            pass


def describe(error):
    """An exception as a stable string: its class, and its text when it has one."""
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# ---------------------------------------------------------------------------------
# Scenarios. Each takes the context and returns {"result": ..., "detail": ...}.


async def wildcards(context):
    patterns = ["wild.*", "wild.>", "wild.a.*", "wild.*.b", "wild.a.b", "wild.*.*"]
    published = ["wild", "wild.a", "wild.b", "wild.a.b", "wild.a.c", "wild.x.b", "wild.a.b.c", "wildcard.a"]
    subscriber = await connect(context.url)
    publisher = await connect(context.url)
    collectors = {}
    for pattern in patterns:
        collectors[pattern] = Collector()
        await subscriber.subscribe(pattern, cb=collectors[pattern].callback)
    await settle(subscriber)
    for subject in published:
        await publisher.publish(subject, subject.encode())
    # One barrier per pattern, on a subject it matches, after every test message:
    # from one publisher, NATS keeps order, so a pattern that has its barrier has
    # everything it was going to get.
    barriers = sorted({p.replace("*", "a").replace(">", "a") for p in patterns})
    for subject in barriers:
        await publisher.publish(subject, BARRIER)
    await settle(publisher)
    received = {}
    for pattern, collector in collectors.items():
        await collector.wait(lambda ms: any(m.data == BARRIER for m in ms), f"barrier on {pattern}")
        received[pattern] = collector.payloads()
    await subscriber.close()
    await publisher.close()
    return {"result": received, "detail": {}}


async def queue_groups(context):
    count = 30
    subject = "queue.work"
    groups = {"q1": Collector(), "q2": Collector(), "plain": Collector()}
    members = []
    for group in ("q1", "q2"):
        for _ in range(3):
            member = await connect(context.url)
            await member.subscribe(subject, queue=group, cb=groups[group].callback)
            await settle(member)
            members.append(member)
    plain = await connect(context.url)
    await plain.subscribe(subject, cb=groups["plain"].callback)
    await settle(plain)
    members.append(plain)
    publisher = await connect(context.url)
    for index in range(count):
        await publisher.publish(subject, str(index).encode())
    await settle(publisher)
    for name, collector in groups.items():
        await collector.wait(lambda ms: len(ms) >= count, f"{count} messages in {name}")
    # Anything extra (a duplicate) was sent before each member's PONG.
    for member in members:
        await settle(member)
    result = {}
    for name, collector in groups.items():
        payloads = collector.payloads()
        result[name] = {"delivered": len(payloads), "distinct": len(set(payloads))}
    for connection in members + [publisher]:
        await connection.close()
    return {"result": result, "detail": {}}


async def request_reply(context):
    responder = await connect(context.url)
    reply_subjects = []

    async def answer(message):
        reply_subjects.append(message.reply)
        await message.respond(b"echo:" + message.data)

    await responder.subscribe("service.echo", cb=answer)
    await settle(responder)
    requester = await connect(context.url)
    replies = []
    for payload in ("a", "b", "c"):
        reply = await requester.request("service.echo", payload.encode(), timeout=DEADLINE)
        replies.append(reply.data.decode())
    await requester.close()
    await responder.close()
    return {
        "result": {
            "replies": sorted(replies),
            "reply_subjects_are_inboxes": all(s.startswith("_INBOX.") for s in reply_subjects),
        },
        "detail": {},
    }


async def no_responders(context):
    client = await connect(context.url)
    try:
        await client.request("nobody.home", b"anyone?", timeout=DEADLINE)
        outcome, detail = "reply", None
    except errors.NoRespondersError as error:
        outcome, detail = "no_responders", describe(error)
    except errors.TimeoutError as error:
        outcome, detail = "timeout", describe(error)
    await client.close()
    raw = await Raw.open(context.url, connect={})
    seen = await raw.exchange(b"SUB _INBOX.raw.reply 1\r\nPUB nobody.home _INBOX.raw.reply 7\r\nanyone?\r\n")
    await raw.close()
    return {"result": {"client": outcome, "raw": seen}, "detail": {"client": detail}}


async def headers(context):
    subscriber = await connect(context.url)
    collector = Collector()
    await subscriber.subscribe("headers.test", cb=collector.callback)
    await settle(subscriber)
    raw = await Raw.open(context.url, connect={})
    await raw.exchange(b"SUB headers.test 1\r\n")
    publisher = await connect(context.url)
    sent = {"X-Single": "one", "X-Spaces": "a b c", "X-Colon": "k: v", "lower-case": "kept"}
    await publisher.publish("headers.test", b"body", headers=sent)
    await publisher.publish("headers.test", b"", headers={"X-Empty-Payload": "yes"})
    await settle(publisher)
    await collector.wait(lambda ms: len(ms) >= 2, "2 messages with headers")
    raw_seen = await raw.exchange()
    received = sorted(
        [{"headers": dict(sorted((m.headers or {}).items())), "payload": m.data.decode()} for m in collector.messages],
        key=lambda m: json.dumps(m, sort_keys=True),
    )
    for connection in (subscriber, publisher):
        await connection.close()
    await raw.close()
    # The raw view shows this client's own header encoding: compared between servers.
    return {"result": {"received": received}, "detail": {"raw": raw_seen}}


async def echo_off(context):
    subject = "echo.test"
    quiet = await connect(context.url, no_echo=True)
    loud = await connect(context.url)
    other = await connect(context.url)
    collectors = {"echo_off": Collector(), "echo_on": Collector()}
    await quiet.subscribe(subject, cb=collectors["echo_off"].callback)
    await loud.subscribe(subject, cb=collectors["echo_on"].callback)
    for connection in (quiet, loud):
        await settle(connection)
    await quiet.publish(subject, b"from-echo-off")
    await settle(quiet)
    await loud.publish(subject, b"from-echo-on")
    await settle(loud)
    # The barrier: published after both, so it arrives after any echo would have.
    await other.publish(subject, b"from-other")
    await settle(other)
    result = {}
    for name, collector in collectors.items():
        await collector.wait(lambda ms: any(m.data == b"from-other" for m in ms), f"barrier in {name}")
        result[name] = collector.payloads()
    for connection in (quiet, loud, other):
        await connection.close()
    return {"result": result, "detail": {}}


async def auto_unsubscribe(context):
    subscriber = await connect(context.url)
    collector = Collector()
    subscription = await subscriber.subscribe("auto.test", cb=collector.callback)
    await subscription.unsubscribe(limit=3)
    await settle(subscriber)
    publisher = await connect(context.url)
    for index in range(10):
        await publisher.publish("auto.test", str(index).encode())
    await settle(publisher)
    await collector.wait(lambda ms: len(ms) >= 3, "3 messages")
    await settle(subscriber)
    delivered = len(collector.messages)
    await subscriber.close()
    await publisher.close()
    # The client drops extras itself; the raw connection shows what the server sent.
    raw = await Raw.open(context.url, connect={})
    ten = b"".join(b"PUB auto.raw 1\r\n%d\r\n" % index for index in range(10))
    first = await raw.exchange(b"SUB auto.raw 1\r\nUNSUB 1 3\r\n" + ten)
    after = await raw.exchange(b"PUB auto.raw 1\r\nx\r\n")
    await raw.close()
    return {"result": {"client_delivered": delivered, "raw": first, "raw_after_limit": after}, "detail": {}}


async def max_payload(context):
    subscriber = await connect(context.url)
    collector = Collector()
    await subscriber.subscribe("payload.test", cb=collector.callback)
    await settle(subscriber)
    client = await connect(context.url)
    limit = client.max_payload
    await client.publish("payload.test", b"x" * limit)
    await settle(client)
    await collector.wait(lambda ms: len(ms) >= 1, "the largest allowed message")
    try:
        await client.publish("payload.test", b"x" * (limit + 1))
        await settle(client)
        over, detail = "sent", None
    except errors.MaxPayloadError as error:
        over, detail = "refused_by_client", describe(error)
    await client.close()
    await subscriber.close()
    raw = await Raw.open(context.url, connect={})
    seen = await raw.exchange(b"PUB payload.raw %d\r\n%s\r\n" % (limit + 1, b"x" * (limit + 1)))
    await raw.close()
    return {
        "result": {
            "max_payload": limit,
            "largest_allowed_delivered": len(collector.messages[0].data),
            "over_limit": over,
            "raw_over_limit": seen,
        },
        "detail": {"over_limit": detail},
    }


INVALID_SUBJECTS = ["foo..bar", "foo.", ".foo", "foo.>.bar", "foo.*bar", "foo.>", "*.*", ">"]


async def invalid_subjects(context):
    raw_results = {}
    for subject in INVALID_SUBJECTS:
        raw = await Raw.open(context.url, connect={})
        raw_results[subject] = await raw.exchange(b"SUB %s 1\r\n" % subject.encode())
        await raw.close()
    client = await connect(context.url)
    client_error = None
    try:
        await client.subscribe("foo..bar")
        await settle(client)
    except Exception as error:  # noqa: BLE001 - whatever the client raises is the observation
        client_error = describe(error)
    connected = client.is_connected
    await client.close()
    # Without its own check, nats-py sends the SUB; on the server's -ERR it closes the
    # connection (other clients stay connected). On a server that sends no -ERR this
    # waits out the deadline and records that the connection stayed open.
    closed = asyncio.Event()

    async def on_closed():
        closed.set()

    unchecked = await connect(context.url, skip_subject_validation=True, closed_cb=on_closed)
    await unchecked.subscribe("foo..bar")
    try:
        await until(closed.wait(), "the connection to close")
        closed_by_error = True
    except ScenarioTimeout:
        closed_by_error = False
        await unchecked.close()
    last_error = unchecked.last_error
    return {
        "result": {"raw": raw_results},
        "detail": {
            "client_subscribe_foo..bar": client_error,
            "client_still_connected": connected,
            "unvalidated_subscribe_closed_the_connection": closed_by_error,
            "unvalidated_subscribe_last_error": describe(last_error) if last_error else None,
        },
    }


async def authentication(context):
    outcomes = {}
    details = {}
    for name, token in (("no_token", None), ("wrong_token", "wrong"), ("right_token", context.token)):
        try:
            client = await connect(context.auth_url, token=token)
            await settle(client)
            await client.close()
            outcomes[name], details[name] = "accepted", None
        except Exception as error:  # noqa: BLE001 - whatever the client raises is the observation
            outcomes[name], details[name] = "refused", describe(error)
    raw = await Raw.open(context.auth_url, connect={"auth_token": "wrong"})
    seen = await raw.exchange()
    auth_required = raw.info.get("auth_required", False)
    await raw.close()
    return {
        "result": {"client": outcomes, "raw_wrong_token": seen, "auth_required": auth_required},
        "detail": details,
    }


async def server_info(context):
    raw = await Raw.open(context.url)
    # A flag the server leaves out is false.
    info = {key: raw.info.get(key, False) for key in ("headers", "auth_required", "tls_required")}
    info.update({key: raw.info.get(key) for key in ("proto", "max_payload")})
    seen = await raw.exchange()  # a PING before CONNECT
    await raw.close()
    return {"result": {"info": info, "ping_before_connect": seen}, "detail": {}}


async def reconnect(context):
    if not context.control:
        raise ScenarioTimeout("no --control address to restart the server with")
    disconnected = asyncio.Event()
    reconnected = asyncio.Event()

    async def on_disconnect():
        disconnected.set()

    async def on_reconnect():
        reconnected.set()

    client = await connect(
        context.url,
        allow_reconnect=True,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.05,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
    )
    collector = Collector()
    await client.subscribe("restart.test", cb=collector.callback)
    await client.publish("restart.test", b"before")
    await settle(client)
    await collector.wait(lambda ms: len(ms) >= 1, "the message before the restart")
    host, port = parse_address(context.control)
    reader, writer = await until(asyncio.open_connection(host, port), "control connection")
    writer.write(b"restart\n")
    answer = await until(reader.readline(), "the restart", 60)
    writer.close()
    if answer.strip() != b"restarted":
        raise ScenarioTimeout(f"restart failed: {answer!r}")
    await until(disconnected.wait(), "the disconnect event")
    await until(reconnected.wait(), "the reconnect event")
    await settle(client)
    fresh = await connect(context.url)
    await fresh.publish("restart.test", b"after-from-fresh-client")
    await settle(fresh)
    await client.publish("restart.test", b"after-from-reconnected-client")
    await settle(client)
    await collector.wait(lambda ms: len(ms) >= 3, "both messages after the restart")
    await settle(client)
    await fresh.close()
    await client.close()
    return {
        "result": {"disconnected": True, "reconnected": True, "received": collector.payloads()},
        "detail": {},
    }


SCENARIOS = [
    ("server_info", server_info),
    ("wildcards", wildcards),
    ("queue_groups", queue_groups),
    ("request_reply", request_reply),
    ("no_responders", no_responders),
    ("headers", headers),
    ("echo_off", echo_off),
    ("auto_unsubscribe", auto_unsubscribe),
    ("max_payload", max_payload),
    ("invalid_subjects", invalid_subjects),
    ("authentication", authentication),
    # Last: it restarts the server.
    ("reconnect", reconnect),
]


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("NATS_URL", "nats://127.0.0.1:4222"))
    parser.add_argument("--auth-url", default=os.environ.get("NATS_AUTH_URL"))
    parser.add_argument("--token", default=os.environ.get("NATS_TOKEN"))
    parser.add_argument("--control", default=os.environ.get("NATS_CONTROL"))
    parser.add_argument("--only", action="append", help="run only this scenario (repeatable)")
    context = parser.parse_args()
    scenarios = {}
    for name, scenario in SCENARIOS:
        if context.only and name not in context.only:
            continue
        try:
            scenarios[name] = await asyncio.wait_for(scenario(context), 4 * DEADLINE)
        except ScenarioTimeout as error:
            scenarios[name] = {"failed": f"timeout: {error}"}
        except Exception as error:  # noqa: BLE001 - recorded, so the document still prints
            scenarios[name] = {"failed": describe(error)}
    document = {"client": "nats-py", "client_version": nats.aio.client.__version__, "scenarios": scenarios}
    print(json.dumps(document, sort_keys=True, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
