"""Drives sinew-broker's Kafka door with real Kafka clients nobody here wrote:
kafka-python (pure Python) and confluent-kafka (librdkafka). Run by
broker/tests/kafka_clients.rs, which starts the broker; every check that fails
raises, so the exit code says whether the client got what it should.

    clients.py codecs CLIENT BOOTSTRAP TOPIC
        Creates TOPIC (3 partitions) with CLIENT's admin API, produces records with
        keys, headers and explicit timestamps with acks=all under each codec
        (none, gzip, snappy, lz4, zstd), consumes every partition from the start
        and checks each record came back as sent. Prints one JSON line.
    clients.py produce CLIENT BOOTSTRAP TOPIC COUNT [--idempotent] [--stream]
        Produces COUNT records "value-<i>" (key "key-<i>") with acks=all; prints
        each acknowledged (partition, offset) as JSON: what the broker promised.
        With --stream (confluent only), prints each acknowledgement as its own
        JSON line the moment it arrives, for a test that kills the broker.
    clients.py consume CLIENT BOOTSTRAP TOPIC COUNT
        Reads COUNT records from every partition from the start; prints them as
        JSON (partition, offset, key, value), with each partition's end offset.

    clients.py member CLIENT BOOTSTRAP TOPIC GROUP
        A member of consumer group GROUP subscribed to TOPIC, committing each
        record's offset after processing it. Prints JSON lines as things happen,
        each with time.monotonic() (the clock Rust's Instant reads on Linux):
        {"event": "assigned"|"revoked", "partitions": [...], "at": t} and
        {"event": "record", "partition", "offset", "value", "at"}. Leaves the
        group (close) when its stdin closes, then prints {"event": "closed"}.

    clients.py admin CLIENT BOOTSTRAP TOPIC
        Creates TOPIC (2 partitions, compacted, retention.ms 3600000), grows it to 4,
        describes its settings and the cluster, produces 10 records to partition
        0, deletes the records before offset 5, lists topics; prints what it saw
        as JSON.

    clients.py commit CLIENT BOOTSTRAP TOPIC GROUP PARTITION=OFFSET...
        Commits those offsets for GROUP from outside the group (as an admin tool
        or a consumer with assigned partitions does).
    clients.py committed CLIENT BOOTSTRAP TOPIC GROUP PARTITIONS
        Prints GROUP's committed offset of partitions 0..PARTITIONS as JSON (-1:
        none).
    clients.py delete-group CLIENT BOOTSTRAP TOPIC GROUP
        Deletes GROUP (it must be empty).

CLIENT is kafka-python or confluent. Installed by interop-tests/requirements.txt.
"""

import json
import sys
import threading
import time

CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
PER_CODEC = 40
TIMEOUT = 30


def records_for(codec):
    """The records one codec's round sends: compressible values (a client sends a
    batch uncompressed when compression would not shrink it)."""
    base = 1_700_000_000_000 + CODECS.index(codec) * 1000
    return [(f'{codec}-key-{i}'.encode(),
             (f'{codec} value {i} ' * 8).encode(),
             [('codec', codec.encode()), ('index', str(i).encode())],
             base + i)
            for i in range(PER_CODEC)]


def kafka_python_codecs(bootstrap, topic):
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import NewTopic
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=TIMEOUT * 1000)
    admin.create_topics([NewTopic(topic, 3, 1)])
    admin.close()
    for codec in CODECS:
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all',
                                 compression_type=None if codec == 'none' else codec,
                                 linger_ms=5)
        for key, value, headers, timestamp in records_for(codec):
            producer.send(topic, key=key, value=value, headers=headers, timestamp_ms=timestamp)
        producer.flush(TIMEOUT)
        producer.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             auto_offset_reset='earliest')
    partitions = [TopicPartition(topic, p) for p in range(3)]
    consumer.assign(partitions)
    consumer.seek_to_beginning()
    got = []
    deadline = time.time() + TIMEOUT
    while len(got) < PER_CODEC * len(CODECS) and time.time() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            got.extend((r.key, r.value, [(k, v) for k, v in r.headers], r.timestamp)
                       for r in records)
    consumer.close()
    return got


def confluent_codecs(bootstrap, topic):
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({'bootstrap.servers': bootstrap})
    for future in admin.create_topics([NewTopic(topic, 3, 1)]).values():
        future.result(TIMEOUT)
    for codec in CODECS:
        producer = Producer({'bootstrap.servers': bootstrap, 'acks': 'all',
                             'compression.type': codec, 'linger.ms': 5})
        failures = []
        for key, value, headers, timestamp in records_for(codec):
            producer.produce(topic, key=key, value=value, headers=headers, timestamp=timestamp,
                             on_delivery=lambda error, _: error and failures.append(error))
        assert producer.flush(TIMEOUT) == 0, 'unacknowledged records'
        assert not failures, failures
    consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'unused',
                         'enable.auto.commit': False})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(3)])
    got = []
    deadline = time.time() + TIMEOUT
    while len(got) < PER_CODEC * len(CODECS) and time.time() < deadline:
        message = consumer.poll(0.5)
        if message is None:
            continue
        assert not message.error(), message.error()
        got.append((message.key(), message.value(), list(message.headers() or []),
                    message.timestamp()[1]))
    consumer.close()
    return got


def codecs(client, bootstrap, topic):
    got = (kafka_python_codecs if client == 'kafka-python' else confluent_codecs)(bootstrap, topic)
    sent = [record for codec in CODECS for record in records_for(codec)]
    normalize = lambda records: sorted((k, v, [(h, bytes(x)) for h, x in hs], t)
                                       for k, v, hs, t in records)
    assert len(got) == len(sent), f'consumed {len(got)} of {len(sent)}'
    assert normalize(got) == normalize(sent), 'records differ from what was sent'
    print(json.dumps({'client': client, 'codecs': CODECS, 'records': len(got)}))


def stream(bootstrap, topic, count):
    from confluent_kafka import Producer
    producer = Producer({'bootstrap.servers': bootstrap, 'acks': 'all', 'linger.ms': 1})

    def delivered(index):
        def report(error, message):
            if not error:
                print(json.dumps({'index': index, 'partition': message.partition(),
                                  'offset': message.offset()}), flush=True)
        return report
    for i in range(count):
        while True:
            try:
                producer.produce(topic, key=f'key-{i}'.encode(), value=f'value-{i}'.encode(),
                                 on_delivery=delivered(i))
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(TIMEOUT)


def produce(client, bootstrap, topic, count, idempotent):
    acknowledged = []
    if client == 'kafka-python':
        from kafka import KafkaProducer
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all',
                                 enable_idempotence=idempotent, retries=10)
        futures = [producer.send(topic, key=f'key-{i}'.encode(), value=f'value-{i}'.encode())
                   for i in range(count)]
        producer.flush(TIMEOUT)
        for future in futures:
            metadata = future.get(TIMEOUT)
            acknowledged.append((metadata.partition, metadata.offset))
        producer.close()
    else:
        from confluent_kafka import Producer
        producer = Producer({'bootstrap.servers': bootstrap, 'acks': 'all',
                             'enable.idempotence': idempotent, 'linger.ms': 2})
        failures = []

        def delivered(error, message):
            if error:
                failures.append(str(error))
            else:
                acknowledged.append((message.partition(), message.offset()))
        for i in range(count):
            producer.produce(topic, key=f'key-{i}'.encode(), value=f'value-{i}'.encode(),
                             on_delivery=delivered)
            producer.poll(0)
        assert producer.flush(TIMEOUT) == 0, 'unacknowledged records'
        assert not failures, failures
    assert len(acknowledged) == count, f'{len(acknowledged)} of {count} acknowledged'
    print(json.dumps({'acknowledged': acknowledged}))


def consume(client, bootstrap, topic, count):
    got = []
    deadline = time.time() + TIMEOUT
    if client == 'kafka-python':
        from kafka import KafkaConsumer, TopicPartition
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        partitions = [TopicPartition(topic, p)
                      for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        while len(got) < count and time.time() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                got.extend((r.partition, r.offset, r.key.decode(), r.value.decode())
                           for r in records)
        ends = {p.partition: end for p, end in consumer.end_offsets(partitions).items()}
        consumer.close()
    else:
        from confluent_kafka import Consumer, TopicPartition
        consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'unused',
                             'enable.auto.commit': False})
        metadata = consumer.list_topics(topic, timeout=TIMEOUT)
        partitions = sorted(metadata.topics[topic].partitions)
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        while len(got) < count and time.time() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            assert not message.error(), message.error()
            got.append((message.partition(), message.offset(), message.key().decode(),
                        message.value().decode()))
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=TIMEOUT)[1]
                for p in partitions}
        consumer.close()
    assert len(got) >= count, f'consumed {len(got)} of {count}'
    print(json.dumps({'records': got, 'ends': ends}))


def emit(event, **fields):
    print(json.dumps(dict(event=event, at=time.monotonic(), **fields)), flush=True)


def member(client, bootstrap, topic, group):
    done = threading.Event()

    def watch_stdin():
        sys.stdin.read()
        done.set()
    threading.Thread(target=watch_stdin, daemon=True).start()
    if client == 'kafka-python':
        from kafka import KafkaConsumer
        from kafka.consumer.subscription_state import ConsumerRebalanceListener

        class Listener(ConsumerRebalanceListener):
            def on_partitions_revoked(self, revoked):
                emit('revoked', partitions=sorted(p.partition for p in revoked))

            def on_partitions_assigned(self, assigned):
                emit('assigned', partitions=sorted(p.partition for p in assigned))
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                 enable_auto_commit=False, auto_offset_reset='earliest',
                                 session_timeout_ms=6000, heartbeat_interval_ms=1000,
                                 max_poll_interval_ms=10000)
        consumer.subscribe([topic], listener=Listener())
        while not done.is_set():
            for records in consumer.poll(timeout_ms=200).values():
                for r in records:
                    emit('record', partition=r.partition, offset=r.offset, value=r.value.decode())
                consumer.commit()
        consumer.close()
    else:
        from confluent_kafka import Consumer

        def assigned(_, partitions):
            emit('assigned', partitions=sorted(p.partition for p in partitions))

        def revoked(_, partitions):
            emit('revoked', partitions=sorted(p.partition for p in partitions))
        consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': group,
                             'enable.auto.commit': False, 'auto.offset.reset': 'earliest',
                             'session.timeout.ms': 6000, 'heartbeat.interval.ms': 1000,
                             'max.poll.interval.ms': 10000})
        consumer.subscribe([topic], on_assign=assigned, on_revoke=revoked)
        while not done.is_set():
            message = consumer.poll(0.2)
            if message is None or message.error():
                continue
            emit('record', partition=message.partition(), offset=message.offset(),
                 value=message.value().decode())
            consumer.commit(message, asynchronous=False)
        consumer.close()
    emit('closed')


def admin(client, bootstrap, topic):
    seen = {}
    if client == 'kafka-python':
        from kafka import KafkaAdminClient, KafkaProducer
        from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic
        from kafka.structs import TopicPartition
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=TIMEOUT * 1000)
        admin.create_topics([NewTopic(topic, 2, 1, topic_configs={
            'cleanup.policy': 'compact', 'retention.ms': '3600000'})])
        admin.create_partitions({topic: NewPartitions(4)})
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        seen['configs'] = {name: entry['value']
                           for name, entry in described['topic'][topic].items()}
        cluster = admin.describe_cluster()
        seen['brokers'] = [broker['broker_id'] for broker in cluster['brokers']]
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all')
        for i in range(10):
            producer.send(topic, key=f'k{i}'.encode(), value=b'v', partition=0)
        producer.flush(TIMEOUT)
        producer.close()
        deleted = admin.delete_records({TopicPartition(topic, 0): 5})
        seen['low_watermark'] = list(deleted.values())[0]['low_watermark']
        seen['partitions'] = len(admin.describe_topics([topic])[0]['partitions'])
        admin.close()
    else:
        from confluent_kafka import Producer, TopicPartition
        from confluent_kafka.admin import (AdminClient, ConfigResource, NewPartitions, NewTopic,
                                           ResourceType)
        admin = AdminClient({'bootstrap.servers': bootstrap})
        for future in admin.create_topics([NewTopic(topic, 2, 1, config={
                'cleanup.policy': 'compact', 'retention.ms': '3600000'})]).values():
            future.result(TIMEOUT)
        for future in admin.create_partitions([NewPartitions(topic, 4)]).values():
            future.result(TIMEOUT)
        for future in admin.describe_configs([ConfigResource(ResourceType.TOPIC, topic)]).values():
            seen['configs'] = {name: entry.value for name, entry in future.result(TIMEOUT).items()
                               if name in ('cleanup.policy', 'retention.ms')}
        seen['brokers'] = [node.id for node in admin.describe_cluster().result(TIMEOUT).nodes]
        producer = Producer({'bootstrap.servers': bootstrap, 'acks': 'all'})
        for i in range(10):
            producer.produce(topic, key=f'k{i}'.encode(), value=b'v', partition=0)
        assert producer.flush(TIMEOUT) == 0
        for future in admin.delete_records([TopicPartition(topic, 0, 5)]).values():
            seen['low_watermark'] = future.result(TIMEOUT).low_watermark
        seen['partitions'] = len(admin.list_topics(timeout=TIMEOUT).topics[topic].partitions)
    print(json.dumps(seen))


def commit(client, bootstrap, topic, group, pairs):
    offsets = {int(p): int(o) for p, o in (pair.split('=') for pair in pairs)}
    if client == 'kafka-python':
        from kafka import KafkaConsumer, TopicPartition
        from kafka.structs import OffsetAndMetadata
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                 enable_auto_commit=False)
        consumer.assign([TopicPartition(topic, p) for p in offsets])
        consumer.commit({TopicPartition(topic, p): OffsetAndMetadata(o, '', -1)
                         for p, o in offsets.items()})
        consumer.close(autocommit=False)
    else:
        from confluent_kafka import Consumer, TopicPartition
        consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': group,
                             'enable.auto.commit': False})
        result = consumer.commit(offsets=[TopicPartition(topic, p, o) for p, o in offsets.items()],
                                 asynchronous=False)
        assert all(tp.error is None for tp in result), result
        consumer.close()
    print(json.dumps({'committed': offsets}))


def committed(client, bootstrap, topic, group, partitions):
    if client == 'kafka-python':
        from kafka import KafkaConsumer, TopicPartition
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                 enable_auto_commit=False)
        found = {p: consumer.committed(TopicPartition(topic, p)) for p in range(partitions)}
        found = {p: -1 if o is None else o for p, o in found.items()}
        consumer.close(autocommit=False)
    else:
        from confluent_kafka import Consumer, TopicPartition
        consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': group,
                             'enable.auto.commit': False})
        listed = consumer.committed([TopicPartition(topic, p) for p in range(partitions)],
                                    timeout=TIMEOUT)
        found = {tp.partition: tp.offset if tp.offset >= 0 else -1 for tp in listed}
        consumer.close()
    print(json.dumps({'offsets': found}))


def delete_group(client, bootstrap, group):
    if client == 'kafka-python':
        from kafka import KafkaAdminClient
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        results = admin.delete_consumer_groups([group])
        assert all(error.errno == 0 for _, error in results), results
        admin.close()
    else:
        from confluent_kafka.admin import AdminClient
        admin = AdminClient({'bootstrap.servers': bootstrap})
        for future in admin.delete_consumer_groups([group]).values():
            future.result(TIMEOUT)
    print(json.dumps({'deleted': group}))


def main(arguments):
    command, client, bootstrap, topic = arguments[:4]
    assert client in ('kafka-python', 'confluent'), client
    if command == 'codecs':
        codecs(client, bootstrap, topic)
    elif command == 'produce' and '--stream' in arguments:
        assert client == 'confluent', '--stream is for confluent'
        stream(bootstrap, topic, int(arguments[4]))
    elif command == 'produce':
        produce(client, bootstrap, topic, int(arguments[4]), '--idempotent' in arguments)
    elif command == 'consume':
        consume(client, bootstrap, topic, int(arguments[4]))
    elif command == 'commit':
        commit(client, bootstrap, topic, arguments[4], arguments[5:])
    elif command == 'committed':
        committed(client, bootstrap, topic, arguments[4], int(arguments[5]))
    elif command == 'delete-group':
        delete_group(client, bootstrap, arguments[4])
    elif command == 'admin':
        admin(client, bootstrap, topic)
    elif command == 'member':
        member(client, bootstrap, topic, arguments[4])
    else:
        raise SystemExit(f'unknown command {command}')


if __name__ == '__main__':
    main(sys.argv[1:])
