"""Writes the seed corpus of the native codec fuzz target (corpus/native_codec/seed-*).

Run from this directory with `python3 native_seeds.py`; the files it writes are
committed. The seeds are the hex examples of ../docs/protocol.md (every command,
request and response), each under the default and the small limits, plus a few
inputs the codec refuses.

A seed is the target's control byte (bit 0: small limits), then each frame as a
length byte (255: a big-endian u16 length follows) and its bytes.
"""

import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))


def examples():
    """Yields (name, frames) for every example block of protocol.md."""
    text = open(os.path.join(HERE, "..", "docs", "protocol.md")).read()
    for match in re.finditer(r"<!-- example: ([a-z-]+) -->\n```text\n(.*?)```", text, re.S):
        frames = []
        for line in match.group(2).splitlines():
            if line.startswith("frame "):
                frames.append(b"")
                continue
            data = line.split("#")[0].split()
            frames[-1] += bytes(int(token, 16) for token in data)
        yield match.group(1), frames


def encode(control, frames):
    out = bytes([control])
    for frame in frames:
        if len(frame) < 255:
            out += bytes([len(frame)])
        else:
            out += b"\xff" + len(frame).to_bytes(2, "big")
        out += frame
    return out


def main():
    seeds = []
    for _, frames in examples():
        seeds.append(encode(0, frames))
        seeds.append(encode(1, frames))
        # The same message with its header cut short, and with version 2.
        seeds.append(encode(0, [frames[0][:20]] + frames[1:]))
        seeds.append(encode(0, [frames[0][:2] + b"\x02" + frames[0][3:]] + frames[1:]))
    seeds.append(encode(0, []))
    seeds.append(encode(0, [b"SN\x01\x00\x00\x99" + bytes(10)]))
    folder = os.path.join(HERE, "corpus", "native_codec")
    os.makedirs(folder, exist_ok=True)
    for index, seed in enumerate(seeds):
        with open(os.path.join(folder, f"seed-{index}"), "wb") as out:
            out.write(seed)
    print(f"{len(seeds)} seeds")


if __name__ == "__main__":
    main()
