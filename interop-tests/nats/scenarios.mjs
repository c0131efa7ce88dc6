#!/usr/bin/env node
// NATS compatibility scenarios, nats.js (v2) side (scenarios.py is the nats-py twin).
//
// Runs the same scenarios as scenarios.py against one server and prints ONE JSON
// document of what was observed, so that two servers (nats-server and Sinew's
// broker) or two clients can be compared for equality. The document is
// deterministic: lists are sorted, nothing depends on timing, and every wait is on an
// event (a message, a flush round trip, a barrier message that must arrive after the
// ones that matter) with a deadline; a missed deadline is recorded as
// "timeout: <what>", never slept through. Each scenario gives {result, detail}:
// "result" is what both clients must agree on; "detail" is how this client reports
// it (error codes), compared only between servers.
//
// Besides the client API, some scenarios speak the protocol over a raw socket, where
// a client would hide what the server did.
//
// Usage: node scenarios.mjs --url nats://H:P --auth-url nats://H:P --token T
// --control H:P (or NATS_URL, NATS_AUTH_URL, NATS_TOKEN, NATS_CONTROL). The control
// address is the runner's: "restart\n" there restarts the server at --url and is
// answered "restarted\n". It must never print anything else on stdout.

import { connect, headers as newHeaders, Events } from "nats";
import { createRequire } from "node:module";
import net from "node:net";
import { parseArgs } from "node:util";

// The longest any single wait may take, in milliseconds.
const DEADLINE = 10_000;
const BARRIER = "barrier";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

class ScenarioTimeout extends Error {}

// Waits for `promise`, or throws ScenarioTimeout(what) after `ms`.
function until(promise, what, ms = DEADLINE) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new ScenarioTimeout(what)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Messages of one or more subscriptions, and a way to wait for some.
class Collector {
  constructor() {
    this.messages = [];
    this.waiters = [];
    this.callback = (error, message) => {
      if (error) return;
      this.messages.push(message);
      for (const wake of this.waiters.splice(0)) wake();
    };
  }

  async wait(predicate, what) {
    const deadline = Date.now() + DEADLINE;
    while (!predicate(this.messages)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new ScenarioTimeout(what);
      await until(new Promise((resolve) => this.waiters.push(resolve)), what, left);
    }
  }

  payloads(includeBarriers = false) {
    return this.messages
      .map((m) => decoder.decode(m.data))
      .filter((p) => includeBarriers || p !== BARRIER)
      .sort();
  }
}

function open(url, options = {}) {
  return connect({ servers: url, reconnect: false, timeout: 5000, ...options });
}

function parseAddress(url) {
  const parsed = new URL(url.includes("://") ? url : `nats://${url}`);
  return { host: parsed.hostname.replace(/^\[|\]$/g, ""), port: Number(parsed.port || 4222) };
}

// An error as a stable string: its name, its code when it has one, and its text.
function describe(error) {
  const code = error.code ? `[${error.code}]` : "";
  return error.message ? `${error.name}${code}: ${error.message}` : `${error.name}${code}`;
}

// A protocol-level connection: write commands, read what the server answers.
class Raw {
  static async open(url, connectOptions) {
    const raw = new Raw();
    const { host, port } = parseAddress(url);
    raw.socket = net.createConnection({ host, port });
    raw.buffer = Buffer.alloc(0);
    raw.closed = false;
    raw.waiters = [];
    const wake = () => {
      for (const resolve of raw.waiters.splice(0)) resolve();
    };
    raw.socket.on("data", (chunk) => {
      raw.buffer = Buffer.concat([raw.buffer, chunk]);
      wake();
    });
    raw.socket.on("close", () => {
      raw.closed = true;
      wake();
    });
    raw.socket.on("error", () => {});
    const line = await raw.readLine("INFO");
    if (line === null || !line.startsWith("INFO ")) throw new ScenarioTimeout(`no INFO: ${line}`);
    raw.info = JSON.parse(line.slice(5));
    if (connectOptions !== undefined) {
      const options = { verbose: false, pedantic: false, headers: true, no_responders: true, ...connectOptions };
      raw.socket.write(`CONNECT ${JSON.stringify(options)}\r\n`);
    }
    return raw;
  }

  async more(what, deadline) {
    const left = deadline - Date.now();
    if (left <= 0) throw new ScenarioTimeout(what);
    await until(new Promise((resolve) => this.waiters.push(resolve)), what, left);
  }

  // The next line without its CRLF, or null once the server has closed.
  async readLine(what, deadline = Date.now() + DEADLINE) {
    for (;;) {
      const end = this.buffer.indexOf("\r\n");
      if (end >= 0) {
        const line = this.buffer.subarray(0, end).toString();
        this.buffer = this.buffer.subarray(end + 2);
        return line;
      }
      if (this.closed) return null;
      await this.more(what, deadline);
    }
  }

  async readExactly(size, what, deadline) {
    while (this.buffer.length < size) {
      if (this.closed) return null;
      await this.more(what, deadline);
    }
    const bytes = this.buffer.subarray(0, size);
    this.buffer = this.buffer.subarray(size);
    return bytes;
  }

  // Sends data and a PING; returns what came before the PONG (or the close).
  async exchange(data = "") {
    if (!this.closed) this.socket.write(Buffer.concat([Buffer.from(data), Buffer.from("PING\r\n")]));
    const ops = [];
    const deadline = Date.now() + DEADLINE;
    for (;;) {
      const text = await this.readLine("PONG", deadline);
      if (text === null) return { ops, closed: true };
      const verb = text.split(" ", 1)[0].toUpperCase();
      if (verb === "PONG") return { ops, closed: false };
      if (verb === "PING") {
        this.socket.write("PONG\r\n");
        continue;
      }
      if (verb === "MSG" || verb === "HMSG") {
        const fields = text.split(/\s+/);
        const total = Number(fields[fields.length - 1]);
        const headerSize = verb === "HMSG" ? Number(fields[fields.length - 2]) : 0;
        const body = await this.readExactly(total + 2, "payload", deadline);
        if (body === null) return { ops, closed: true };
        const op = [text];
        if (verb === "HMSG") op.push(body.subarray(0, headerSize).toString());
        op.push(body.subarray(headerSize, total).toString());
        ops.push(op);
        continue;
      }
      ops.push([text]);
    }
  }

  close() {
    this.socket.destroy();
  }
}

// ---------------------------------------------------------------------------------
// Scenarios. Each takes the context and returns { result, detail }.

async function wildcards(context) {
  const patterns = ["wild.*", "wild.>", "wild.a.*", "wild.*.b", "wild.a.b", "wild.*.*"];
  const published = ["wild", "wild.a", "wild.b", "wild.a.b", "wild.a.c", "wild.x.b", "wild.a.b.c", "wildcard.a"];
  const subscriber = await open(context.url);
  const publisher = await open(context.url);
  const collectors = {};
  for (const pattern of patterns) {
    collectors[pattern] = new Collector();
    subscriber.subscribe(pattern, { callback: collectors[pattern].callback });
  }
  await subscriber.flush();
  for (const subject of published) publisher.publish(subject, encoder.encode(subject));
  // One barrier per pattern, on a subject it matches, after every test message:
  // from one publisher, NATS keeps order, so a pattern that has its barrier has
  // everything it was going to get.
  const barriers = [...new Set(patterns.map((p) => p.replaceAll("*", "a").replaceAll(">", "a")))].sort();
  for (const subject of barriers) publisher.publish(subject, encoder.encode(BARRIER));
  await publisher.flush();
  const received = {};
  for (const [pattern, collector] of Object.entries(collectors)) {
    await collector.wait((ms) => ms.some((m) => decoder.decode(m.data) === BARRIER), `barrier on ${pattern}`);
    received[pattern] = collector.payloads();
  }
  await subscriber.close();
  await publisher.close();
  return { result: received, detail: {} };
}

async function queueGroups(context) {
  const count = 30;
  const subject = "queue.work";
  const groups = { q1: new Collector(), q2: new Collector(), plain: new Collector() };
  const members = [];
  for (const group of ["q1", "q2"]) {
    for (let i = 0; i < 3; i++) {
      const member = await open(context.url);
      member.subscribe(subject, { queue: group, callback: groups[group].callback });
      await member.flush();
      members.push(member);
    }
  }
  const plain = await open(context.url);
  plain.subscribe(subject, { callback: groups.plain.callback });
  await plain.flush();
  members.push(plain);
  const publisher = await open(context.url);
  for (let index = 0; index < count; index++) publisher.publish(subject, encoder.encode(String(index)));
  await publisher.flush();
  for (const [name, collector] of Object.entries(groups)) {
    await collector.wait((ms) => ms.length >= count, `${count} messages in ${name}`);
  }
  // Anything extra (a duplicate) was sent before each member's PONG.
  for (const member of members) await member.flush();
  const result = {};
  for (const [name, collector] of Object.entries(groups)) {
    const payloads = collector.payloads();
    result[name] = { delivered: payloads.length, distinct: new Set(payloads).size };
  }
  for (const connection of [...members, publisher]) await connection.close();
  return { result, detail: {} };
}

async function requestReply(context) {
  const responder = await open(context.url);
  const replySubjects = [];
  responder.subscribe("service.echo", {
    callback: (error, message) => {
      if (error) return;
      replySubjects.push(message.reply);
      message.respond(encoder.encode(`echo:${decoder.decode(message.data)}`));
    },
  });
  await responder.flush();
  const requester = await open(context.url);
  const replies = [];
  for (const payload of ["a", "b", "c"]) {
    const reply = await requester.request("service.echo", encoder.encode(payload), { timeout: DEADLINE });
    replies.push(decoder.decode(reply.data));
  }
  await requester.close();
  await responder.close();
  return {
    result: {
      replies: replies.sort(),
      reply_subjects_are_inboxes: replySubjects.every((s) => s.startsWith("_INBOX.")),
    },
    detail: {},
  };
}

async function noResponders(context) {
  const client = await open(context.url);
  let outcome;
  let detail;
  try {
    await client.request("nobody.home", encoder.encode("anyone?"), { timeout: DEADLINE });
    outcome = "reply";
    detail = null;
  } catch (error) {
    outcome = error.code === "503" ? "no_responders" : error.code === "TIMEOUT" ? "timeout" : "other";
    detail = describe(error);
  }
  await client.close();
  const raw = await Raw.open(context.url, {});
  const seen = await raw.exchange("SUB _INBOX.raw.reply 1\r\nPUB nobody.home _INBOX.raw.reply 7\r\nanyone?\r\n");
  raw.close();
  return { result: { client: outcome, raw: seen }, detail: { client: detail } };
}

function headersAsObject(message) {
  const out = {};
  if (!message.headers) return out;
  for (const [name, values] of message.headers) out[name] = values.join(",");
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

// Python's json.dumps(sort_keys=True) order, so both clients sort lists alike.
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(", ")}]`;
  if (value && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}: ${canonical(value[k])}`).join(", ")}}`;
  }
  return JSON.stringify(value);
}

async function headers(context) {
  const subscriber = await open(context.url);
  const collector = new Collector();
  subscriber.subscribe("headers.test", { callback: collector.callback });
  await subscriber.flush();
  const raw = await Raw.open(context.url, {});
  await raw.exchange("SUB headers.test 1\r\n");
  const publisher = await open(context.url);
  const sent = newHeaders();
  for (const [name, value] of [
    ["X-Single", "one"],
    ["X-Spaces", "a b c"],
    ["X-Colon", "k: v"],
    ["lower-case", "kept"],
  ]) {
    sent.set(name, value);
  }
  publisher.publish("headers.test", encoder.encode("body"), { headers: sent });
  const second = newHeaders();
  second.set("X-Empty-Payload", "yes");
  publisher.publish("headers.test", new Uint8Array(0), { headers: second });
  await publisher.flush();
  await collector.wait((ms) => ms.length >= 2, "2 messages with headers");
  const rawSeen = await raw.exchange();
  const received = collector.messages
    .map((m) => ({ headers: headersAsObject(m), payload: decoder.decode(m.data) }))
    .sort((a, b) => (canonical(a) < canonical(b) ? -1 : canonical(a) > canonical(b) ? 1 : 0));
  await subscriber.close();
  await publisher.close();
  raw.close();
  // The raw view shows this client's own header encoding: compared between servers.
  return { result: { received }, detail: { raw: rawSeen } };
}

async function echoOff(context) {
  const subject = "echo.test";
  const quiet = await open(context.url, { noEcho: true });
  const loud = await open(context.url);
  const other = await open(context.url);
  const collectors = { echo_off: new Collector(), echo_on: new Collector() };
  quiet.subscribe(subject, { callback: collectors.echo_off.callback });
  loud.subscribe(subject, { callback: collectors.echo_on.callback });
  await quiet.flush();
  await loud.flush();
  quiet.publish(subject, encoder.encode("from-echo-off"));
  await quiet.flush();
  loud.publish(subject, encoder.encode("from-echo-on"));
  await loud.flush();
  // The barrier: published after both, so it arrives after any echo would have.
  other.publish(subject, encoder.encode("from-other"));
  await other.flush();
  const result = {};
  for (const [name, collector] of Object.entries(collectors)) {
    await collector.wait((ms) => ms.some((m) => decoder.decode(m.data) === "from-other"), `barrier in ${name}`);
    result[name] = collector.payloads();
  }
  for (const connection of [quiet, loud, other]) await connection.close();
  return { result, detail: {} };
}

async function autoUnsubscribe(context) {
  const subscriber = await open(context.url);
  const collector = new Collector();
  subscriber.subscribe("auto.test", { max: 3, callback: collector.callback });
  await subscriber.flush();
  const publisher = await open(context.url);
  for (let index = 0; index < 10; index++) publisher.publish("auto.test", encoder.encode(String(index)));
  await publisher.flush();
  await collector.wait((ms) => ms.length >= 3, "3 messages");
  await subscriber.flush();
  const delivered = collector.messages.length;
  await subscriber.close();
  await publisher.close();
  // The client drops extras itself; the raw connection shows what the server sent.
  const raw = await Raw.open(context.url, {});
  let ten = "";
  for (let index = 0; index < 10; index++) ten += `PUB auto.raw 1\r\n${index}\r\n`;
  const first = await raw.exchange(`SUB auto.raw 1\r\nUNSUB 1 3\r\n${ten}`);
  const after = await raw.exchange("PUB auto.raw 1\r\nx\r\n");
  raw.close();
  return { result: { client_delivered: delivered, raw: first, raw_after_limit: after }, detail: {} };
}

async function maxPayload(context) {
  const subscriber = await open(context.url);
  const collector = new Collector();
  subscriber.subscribe("payload.test", { callback: collector.callback });
  await subscriber.flush();
  const client = await open(context.url);
  const limit = client.info.max_payload;
  client.publish("payload.test", new Uint8Array(limit).fill(120));
  await client.flush();
  await collector.wait((ms) => ms.length >= 1, "the largest allowed message");
  let over;
  let detail;
  try {
    client.publish("payload.test", new Uint8Array(limit + 1).fill(120));
    await client.flush();
    over = "sent";
    detail = null;
  } catch (error) {
    over = error.code === "MAX_PAYLOAD_EXCEEDED" ? "refused_by_client" : "other";
    detail = describe(error);
  }
  await client.close();
  await subscriber.close();
  const raw = await Raw.open(context.url, {});
  const seen = await raw.exchange(`PUB payload.raw ${limit + 1}\r\n${"x".repeat(limit + 1)}\r\n`);
  raw.close();
  return {
    result: {
      max_payload: limit,
      largest_allowed_delivered: collector.messages[0].data.length,
      over_limit: over,
      raw_over_limit: seen,
    },
    detail: { over_limit: detail },
  };
}

const INVALID_SUBJECTS = ["foo..bar", "foo.", ".foo", "foo.>.bar", "foo.*bar", "foo.>", "*.*", ">"];

async function invalidSubjects(context) {
  const rawResults = {};
  for (const subject of INVALID_SUBJECTS) {
    const raw = await Raw.open(context.url, {});
    rawResults[subject] = await raw.exchange(`SUB ${subject} 1\r\n`);
    raw.close();
  }
  const client = await open(context.url);
  // The status iterator never ends, so wait for its first error event instead (on
  // a server that sends no -ERR this waits out the deadline and records none).
  const statuses = [];
  let markError;
  const errorSeen = new Promise((resolve) => (markError = resolve));
  (async () => {
    for await (const status of client.status()) {
      if (status.type === Events.Error) {
        statuses.push(status.data);
        markError();
      }
    }
  })();
  let clientError = null;
  try {
    client.subscribe("foo..bar");
    await client.flush();
  } catch (error) {
    clientError = describe(error);
  }
  try {
    await until(errorSeen, "an error event");
  } catch (error) {
    if (!(error instanceof ScenarioTimeout)) throw error;
  }
  const connected = !client.isClosed();
  await client.close();
  return {
    result: { raw: rawResults },
    detail: {
      "client_subscribe_foo..bar": clientError,
      client_still_connected: connected,
      client_error_events: statuses.sort(),
    },
  };
}

async function authentication(context) {
  const outcomes = {};
  const details = {};
  for (const [name, token] of [
    ["no_token", undefined],
    ["wrong_token", "wrong"],
    ["right_token", context.token],
  ]) {
    try {
      const client = await open(context.authUrl, token === undefined ? {} : { token });
      await client.flush();
      await client.close();
      outcomes[name] = "accepted";
      details[name] = null;
    } catch (error) {
      outcomes[name] = "refused";
      details[name] = describe(error);
    }
  }
  const raw = await Raw.open(context.authUrl, { auth_token: "wrong" });
  const seen = await raw.exchange();
  const authRequired = raw.info.auth_required ?? false;
  raw.close();
  return {
    result: { client: outcomes, raw_wrong_token: seen, auth_required: authRequired },
    detail: details,
  };
}

async function serverInfo(context) {
  const raw = await Raw.open(context.url);
  // A flag the server leaves out is false.
  const info = {};
  for (const key of ["headers", "auth_required", "tls_required"]) info[key] = raw.info[key] ?? false;
  for (const key of ["proto", "max_payload"]) info[key] = raw.info[key] ?? null;
  const seen = await raw.exchange(); // a PING before CONNECT
  raw.close();
  return { result: { info, ping_before_connect: seen }, detail: {} };
}

async function restartServer(control) {
  const { host, port } = parseAddress(control);
  const socket = net.createConnection({ host, port });
  let answer = "";
  const done = new Promise((resolve, reject) => {
    socket.on("data", (chunk) => {
      answer += chunk.toString();
      if (answer.includes("\n")) resolve(answer.trim());
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(answer.trim()));
  });
  socket.write("restart\n");
  const reply = await until(done, "the restart", 60_000);
  socket.destroy();
  if (reply !== "restarted") throw new ScenarioTimeout(`restart failed: ${reply}`);
}

async function reconnect(context) {
  if (!context.control) throw new ScenarioTimeout("no --control address to restart the server with");
  const client = await open(context.url, {
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 50,
    reconnectJitter: 0,
  });
  let markDisconnected;
  let markReconnected;
  const disconnected = new Promise((resolve) => (markDisconnected = resolve));
  const reconnected = new Promise((resolve) => (markReconnected = resolve));
  (async () => {
    for await (const status of client.status()) {
      if (status.type === Events.Disconnect) markDisconnected();
      if (status.type === Events.Reconnect) markReconnected();
    }
  })();
  const collector = new Collector();
  client.subscribe("restart.test", { callback: collector.callback });
  client.publish("restart.test", encoder.encode("before"));
  await client.flush();
  await collector.wait((ms) => ms.length >= 1, "the message before the restart");
  await restartServer(context.control);
  await until(disconnected, "the disconnect event");
  await until(reconnected, "the reconnect event");
  await client.flush();
  const fresh = await open(context.url);
  fresh.publish("restart.test", encoder.encode("after-from-fresh-client"));
  await fresh.flush();
  client.publish("restart.test", encoder.encode("after-from-reconnected-client"));
  await client.flush();
  await collector.wait((ms) => ms.length >= 3, "both messages after the restart");
  await client.flush();
  await fresh.close();
  await client.close();
  return { result: { disconnected: true, reconnected: true, received: collector.payloads() }, detail: {} };
}

const SCENARIOS = [
  ["server_info", serverInfo],
  ["wildcards", wildcards],
  ["queue_groups", queueGroups],
  ["request_reply", requestReply],
  ["no_responders", noResponders],
  ["headers", headers],
  ["echo_off", echoOff],
  ["auto_unsubscribe", autoUnsubscribe],
  ["max_payload", maxPayload],
  ["invalid_subjects", invalidSubjects],
  ["authentication", authentication],
  // Last: it restarts the server.
  ["reconnect", reconnect],
];

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: process.env.NATS_URL ?? "nats://127.0.0.1:4222" },
      "auth-url": { type: "string", default: process.env.NATS_AUTH_URL },
      token: { type: "string", default: process.env.NATS_TOKEN },
      control: { type: "string", default: process.env.NATS_CONTROL },
      only: { type: "string", multiple: true },
    },
  });
  const context = { url: values.url, authUrl: values["auth-url"], token: values.token, control: values.control };
  const scenarios = {};
  for (const [name, scenario] of SCENARIOS) {
    if (values.only && !values.only.includes(name)) continue;
    try {
      scenarios[name] = await until(scenario(context), `the whole scenario ${name}`, 4 * DEADLINE);
    } catch (error) {
      scenarios[name] = {
        failed: error instanceof ScenarioTimeout ? `timeout: ${error.message}` : describe(error),
      };
    }
  }
  const version = createRequire(import.meta.url)("nats/package.json").version;
  const document = { client: "nats.js", client_version: version, scenarios };
  // Exit once written: connections a failed scenario left open must not keep the
  // process alive.
  process.stdout.write(`${sortedJson(document)}\n`, () => process.exit(0));
}

// JSON with keys sorted at every level and 2-space indentation, like scenarios.py.
function sortedJson(value) {
  const sort = (v) => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sort(v[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sort(value), null, 2);
}

await main();
