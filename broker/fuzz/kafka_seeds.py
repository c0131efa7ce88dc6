"""Writes the seed corpus of the Kafka codec fuzz target (corpus/kafka_codec/seed-*).

Run from this directory with `python3 kafka_seeds.py`; each seed is one framed
request of broker/src/doors/kafka/vectors/kafka_python.txt (every advertised
version of every API, as kafka-python encodes it), so `cargo fuzz run
kafka_codec corpus/kafka_codec` starts from well-formed requests.
"""

import os

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, '..', 'src', 'doors', 'kafka', 'vectors', 'kafka_python.txt')


def main():
    out = os.path.join(HERE, 'corpus', 'kafka_codec')
    os.makedirs(out, exist_ok=True)
    count = 0
    with open(VECTORS) as file:
        for line in file:
            fields = line.split()
            if len(fields) != 4 or fields[0] != 'request':
                continue
            with open(os.path.join(out, 'seed-%s-v%s' % (fields[1], fields[2])), 'wb') as seed:
                seed.write(bytes.fromhex(fields[3]))
            count += 1
    print('wrote %d seeds to %s' % (count, out))


if __name__ == '__main__':
    main()
