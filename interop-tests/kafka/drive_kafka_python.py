"""Drives kafka-python (2.x or 3.x, whichever is importable) against a broker
on 127.0.0.1: admin (create and delete a topic), an idempotent producer, a
consumer that reads a partition from its beginning. capture.py calls it in its
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
