"""The confluent-kafka side of `sinew bench topics kafka`: a real Kafka client
(librdkafka, bundled with confluent-kafka) producing to and consuming from
sinew-broker's Kafka door, timed by the client itself. The bench (cli/src/
bench_topics/kafka.rs) starts the broker and runs this twice per run:

    bench.py produce BOOTSTRAP TOPIC COUNT SIZE
        Creates TOPIC (one partition) with the admin API, then one producer
        (acks=all, no idempotence, linger.ms 5, batch.size 1 MiB, no compression)
        sends COUNT records of SIZE bytes and waits for every delivery report.
        Prints one JSON line: {"records", "last_offset", "elapsed", "cpu"}, elapsed
        from the first produce to the last delivery report, cpu the seconds this
        process spent on a core in that time.
    bench.py consume BOOTSTRAP TOPIC COUNT
        One consumer assigned partition 0 at offset 0 (no group commit, fetches
        of 4 MiB, fetch.queue.backoff.ms 10: see CONSUMER) reads until COUNT
        records arrived, each at the next offset. Prints one JSON line:
        {"records", "elapsed", "cpu"}, elapsed from the assignment to the last
        record.

It must never print a figure for a run that did not deliver everything: any
delivery error, missing record, duplicate or timeout raises, and the exit code
says so. It never sleeps inside the timed part except in the client's own waits.
Installed by interop-tests/requirements.txt.
"""

import json
import os
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

# How long any step may take before the run is an error, in seconds.
TIMEOUT = 300
# Records between two polls for delivery reports while producing.
POLL_EVERY = 1000
# The producer's settings (what the bench's Markdown says it measured).
PRODUCER = {
    'acks': 'all',
    'enable.idempotence': False,
    'linger.ms': 5,
    'batch.size': 1 << 20,
    # batch.size is the limit, not the default 10000 records per batch.
    'batch.num.messages': 1_000_000,
    # A batch is capped by message.max.bytes too (default 1000000).
    'message.max.bytes': 2 << 20,
    'compression.type': 'none',
}
# The consumer's settings besides its address and group.
CONSUMER = {
    # The consumer's fetches: as large as the native door's FETCH of 4 MiB.
    'fetch.max.bytes': 4 << 20,
    'max.partition.fetch.bytes': 4 << 20,
    # When its local queue holds queued.min.messages (100000), librdkafka stops
    # fetching for fetch.queue.backoff.ms, 1000 by default: with 100-byte records
    # that is every third fetch, and the run would time that idle second (run
    # with CONSUMER_BACKOFF_MS=1000 to see it).
    'fetch.queue.backoff.ms': int(os.environ.get('CONSUMER_BACKOFF_MS', '10')),
}


def processor_seconds():
    return time.process_time()


def create(bootstrap, topic):
    admin = AdminClient({'bootstrap.servers': bootstrap})
    for future in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        future.result(TIMEOUT)


def produce(bootstrap, topic, count, size):
    create(bootstrap, topic)
    failures = []
    delivered = [0, -1]  # records acknowledged, highest offset

    def report(error, message):
        if error is not None:
            failures.append(str(error))
        else:
            delivered[0] += 1
            delivered[1] = max(delivered[1], message.offset())

    producer = Producer(dict(PRODUCER, **{'bootstrap.servers': bootstrap,
                                          'on_delivery': report}))
    # Connection and metadata before the clock starts, as a running service has.
    producer.list_topics(topic, timeout=TIMEOUT)
    value = b'x' * size
    send = producer.produce
    cpu = processor_seconds()
    start = time.perf_counter()
    for index in range(count):
        while True:
            try:
                send(topic, value, partition=0)
                break
            except BufferError:
                producer.poll(0.001)
        if index % POLL_EVERY == 0:
            producer.poll(0)
    left = producer.flush(TIMEOUT)
    elapsed = time.perf_counter() - start
    cpu = processor_seconds() - cpu
    if left:
        raise SystemExit(f'{left} records not acknowledged within {TIMEOUT} s')
    if failures:
        raise SystemExit(f'{len(failures)} delivery errors, first: {failures[0]}')
    if delivered[0] != count:
        raise SystemExit(f'{delivered[0]} of {count} records acknowledged')
    if delivered[1] != count - 1:
        raise SystemExit(f'the last offset is {delivered[1]}, expected {count - 1}')
    print(json.dumps({'records': delivered[0], 'last_offset': delivered[1],
                      'elapsed': elapsed, 'cpu': cpu}))


def consume(bootstrap, topic, count):
    consumer = Consumer(dict(CONSUMER, **{'bootstrap.servers': bootstrap,
                                          'group.id': 'sinew-bench',
                                          'enable.auto.commit': False,
                                          'enable.auto.offset.store': False}))
    consumer.list_topics(topic, timeout=TIMEOUT)
    expected = 0
    cpu = processor_seconds()
    start = time.perf_counter()
    deadline = start + TIMEOUT
    consumer.assign([TopicPartition(topic, 0, 0)])
    while expected < count:
        if time.perf_counter() > deadline:
            raise SystemExit(f'{expected} of {count} records within {TIMEOUT} s')
        # No more than are missing: a batch waits for all it asks for.
        wanted = min(10_000, count - expected)
        for message in consumer.consume(num_messages=wanted, timeout=1.0):
            if message.error() is not None:
                raise KafkaException(message.error())
            if message.offset() != expected:
                raise SystemExit(f'offset {message.offset()} where {expected} was next')
            expected += 1
    elapsed = time.perf_counter() - start
    cpu = processor_seconds() - cpu
    consumer.close()
    print(json.dumps({'records': expected, 'elapsed': elapsed, 'cpu': cpu}))


def main(arguments):
    if len(arguments) == 5 and arguments[0] == 'produce':
        produce(arguments[1], arguments[2], int(arguments[3]), int(arguments[4]))
    elif len(arguments) == 4 and arguments[0] == 'consume':
        consume(arguments[1], arguments[2], int(arguments[3]))
    else:
        raise SystemExit(__doc__)


if __name__ == '__main__':
    main(sys.argv[1:])
