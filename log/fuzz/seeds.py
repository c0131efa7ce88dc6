"""Writes the seed corpus of the log's fuzz targets (corpus/TARGET/seed-*).

`batch` starts from real record batches, as `sinew log append` writes them (a
short one and one of 300 bytes, with keys); `recovery` from a few damage steps
(each names a file, a position and an action). Run from this directory with the
binary built: `SINEW_BIN=../../target/debug/sinew python3 seeds.py`. The files it
writes are committed.
"""

import glob
import os
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SINEW = os.environ.get("SINEW_BIN", os.path.join(HERE, "..", "..", "target", "debug", "sinew"))

with tempfile.TemporaryDirectory() as directory:
    lines = b"k1=hello\nk2=world\nk3=" + b"x" * 300 + b"\n"
    subprocess.run([SINEW, "log", "append", "--dir", directory, "--key-delimiter", "="],
                   input=lines, stdout=subprocess.DEVNULL, check=True)
    data = open(sorted(glob.glob(os.path.join(directory, "*.log")))[0], "rb").read()

batches = []
position = 0
while position + 12 <= len(data):
    length = int.from_bytes(data[position + 8:position + 12], "big")
    batches.append(data[position:position + 12 + length])
    position += 12 + length

# The first byte is the target's control byte: fix-ups and compaction on or off.
SEEDS = {
    "batch": [bytes([control]) + batch for control in range(4) for batch in batches],
    "recovery": [b"\x00\x10\x00\xff\xff", b"\x01\x00\x40\x02",
                 b"\x02\x05\x00\x00\x03\x00\x20\x01\x7f", b"\x04\x00\x00\x03"],
}

for target, seeds in SEEDS.items():
    out = os.path.join(HERE, "corpus", target)
    os.makedirs(out, exist_ok=True)
    for index, seed in enumerate(seeds):
        with open(os.path.join(out, f"seed-{index}"), "wb") as file:
            file.write(seed)
