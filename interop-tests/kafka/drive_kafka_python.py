"""Drives kafka-python (2.x or 3.x, whichever is importable) against a broker
on 127.0.0.1: admin (create and delete a topic), an idempotent producer, a
consumer that reads a partition from its beginning, a consumer group member
that joins, commits and leaves, and the group and partition admin calls
(list, describe and delete groups, describe configs, the cluster, add
partitions, delete records). capture.py calls it in its
own process, or runs it as `python3 drive_kafka_python.py PORT` with another
kafka-python on PYTHONPATH; either way it prints the broker version that
kafka-python infers from the broker's ApiVersions answer.
"""

import sys

TOPIC = 'orders'


def kafka_python(port):
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import NewTopic
    bootstrap = '127.0.0.1:%d' % port
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    admin.create_topics([NewTopic('created', 3, 1, topic_configs={'retention.ms': '60000'})])
    admin.delete_topics(['created'])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all', enable_idempotence=True,
                             compression_type='zstd' if has_zstd() else None,
                             request_timeout_ms=5000)
    producer.send(TOPIC, key=b'k', value=b'hello ' * 100).get(timeout=10)
    producer.close(timeout=5)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, request_timeout_ms=5000,
                             fetch_max_wait_ms=100)
    partition = TopicPartition(TOPIC, 0)
    consumer.assign([partition])
    consumer.seek_to_beginning(partition)
    consumer.poll(timeout_ms=1000)
    consumer.close()
    group_member(bootstrap)
    group_admin(bootstrap)


def group_member(bootstrap):
    """Joins group-1 on `orders`, waits for its assignment, commits and leaves."""
    import time
    from kafka import KafkaConsumer, TopicPartition
    from kafka.structs import OffsetAndMetadata
    # kafka-python 2.x wants the request timeout above the session timeout.
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id='group-1',
                             session_timeout_ms=6000, request_timeout_ms=10000,
                             fetch_max_wait_ms=100,
                             enable_auto_commit=False, auto_offset_reset='earliest')
    consumer.subscribe([TOPIC])
    deadline = time.time() + 10
    while not consumer.assignment() and time.time() < deadline:
        consumer.poll(timeout_ms=200)
    assert consumer.assignment(), 'kafka-python joined no group'
    partition = TopicPartition(TOPIC, 0)
    try:
        consumer.commit({partition: OffsetAndMetadata(1, '', -1)})
    except TypeError:  # kafka-python 2.x: OffsetAndMetadata(offset, metadata)
        consumer.commit({partition: OffsetAndMetadata(1, '')})
    consumer.close()


def group_admin(bootstrap):
    """The admin calls of the group and partition APIs, with 2.x's or 3.x's names."""
    from kafka import KafkaAdminClient, TopicPartition
    from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    calls = [
        ('list groups', lambda: call(admin, ['list_groups', 'list_consumer_groups'])),
        ('describe groups', lambda: call(admin, ['describe_groups', 'describe_consumer_groups'],
                                         ['group-1'])),
        ('delete groups', lambda: call(admin, ['delete_groups', 'delete_consumer_groups'],
                                       ['group-1'])),
        ('describe configs', lambda: admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, TOPIC)])),
        ('create partitions', lambda: admin.create_partitions({TOPIC: NewPartitions(2)})),
        ('delete records', lambda: admin.delete_records({TopicPartition(TOPIC, 0): 0})),
        ('describe cluster', admin.describe_cluster),
    ]
    failures = []
    for name, run in calls:
        try:
            run()
        except Exception as error:  # report every call's failure, then fail
            failures.append('%s: %s: %s' % (name, type(error).__name__, error))
    admin.close()
    assert not failures, 'kafka-python admin calls failed:\n' + '\n'.join(failures)


def call(admin, names, *args):
    """The first of `names` the admin client has, called with `args`."""
    for name in names:
        if hasattr(admin, name):
            return getattr(admin, name)(*args)
    raise AttributeError(names[0])


def inferred_version(port):
    """The broker version the kafka-python in use infers from ApiVersions: 2.x
    asks the broker; 3.x's inference is a function of the advertised table."""
    try:
        from kafka.client_async import KafkaClient
    except ImportError:
        from kafka.protocol.broker_version_data import infer_broker_version_from_api_versions
        import vectors
        return infer_broker_version_from_api_versions(vectors.SUPPORTED)
    client = KafkaClient(bootstrap_servers='127.0.0.1:%d' % port)
    try:
        return client.check_version(timeout=5)
    finally:
        client.close()


def has_zstd():
    try:
        import zstandard  # noqa: F401
        return True
    except ImportError:
        return False


def main():
    import kafka
    port = int(sys.argv[1])
    print('kafka-python %s infers broker version %s' % (kafka.__version__, inferred_version(port)))
    kafka_python(port)


if __name__ == '__main__':
    sys.exit(main())
