"""Captures the requests real Kafka clients send to a broker advertising the
Kafka door's version table, for the codec's tests.

A throwaway broker on 127.0.0.1 (one thread per connection) answers with
responses built by kafka-python's encoder (ApiVersions with the door's table,
one topic `orders` of one partition led by itself, every produce acknowledged,
every fetch empty) and records each request frame. Three clients are driven
against it: kafka-python (producer, consumer, admin), confluent-kafka (its
bundled librdkafka) and kcat (Debian's librdkafka), each within a bounded time.
The frames go to broker/src/doors/kafka/vectors/clients.txt as lines

    <client> <api key> <version> <hex of the frame, size prefix included>

and the Rust tests check that each decodes.

Each kafka-python prints the broker version it infers from ApiVersions.

Run: pip install -r interop-tests/requirements.txt; apt-get install kcat;
     pip install --target /tmp/kafka-python-2 kafka-python==2.3.3 (optional);
     KAFKA_PYTHON_2=/tmp/kafka-python-2 python3 interop-tests/kafka/capture.py
"""

import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid

import vectors  # the door's table and kafka-python's message classes
from drive_kafka_python import inferred_version, kafka_python
from kafka.protocol.admin.topics import CreateTopicsResponse, DeleteTopicsResponse
from kafka.protocol.consumer.fetch import FetchResponse
from kafka.protocol.consumer.offsets import ListOffsetsResponse
from kafka.protocol.metadata.api_versions import ApiVersionsResponse
from kafka.protocol.metadata.find_coordinator import FindCoordinatorResponse
from kafka.protocol.metadata.metadata import MetadataResponse
from kafka.protocol.producer.produce import ProduceResponse
from kafka.protocol.producer.transaction import InitProducerIdResponse
from kafka.protocol.admin.topics import CreateTopicsRequest, DeleteTopicsRequest
from kafka.protocol.consumer.fetch import FetchRequest
from kafka.protocol.consumer.offsets import ListOffsetsRequest
from kafka.protocol.metadata.find_coordinator import FindCoordinatorRequest
from kafka.protocol.metadata.metadata import MetadataRequest
from kafka.protocol.producer.produce import ProduceRequest
from kafka.protocol.producer.transaction import InitProducerIdRequest

HERE = os.path.dirname(os.path.abspath(__file__))
TOPIC = 'orders'
TOPIC_ID = uuid.UUID(bytes=bytes(range(16)))
REQUESTS = {0: ProduceRequest, 1: FetchRequest, 2: ListOffsetsRequest, 3: MetadataRequest,
            10: FindCoordinatorRequest, 19: CreateTopicsRequest, 20: DeleteTopicsRequest,
            22: InitProducerIdRequest}


class Broker:
    def __init__(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.client = None
        self.frames = []
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(connection,), daemon=True).start()

    def serve(self, connection):
        connection.settimeout(20)
        try:
            while True:
                prefix = self.read(connection, 4)
                if prefix is None:
                    return
                size = struct.unpack('>i', prefix)[0]
                if not 0 <= size <= 1 << 20:
                    return
                frame = self.read(connection, size)
                if frame is None:
                    return
                key, version, correlation_id = struct.unpack('>hhi', frame[:8])
                with self.lock:
                    self.frames.append((self.client, key, version, prefix + frame))
                answer = self.answer(key, version, correlation_id, prefix + frame)
                if answer is None:
                    continue
                connection.sendall(answer)
        except (OSError, ValueError):
            return
        finally:
            connection.close()

    @staticmethod
    def read(connection, count):
        data = b''
        while len(data) < count:
            chunk = connection.recv(count - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def answer(self, key, version, correlation_id, frame):
        low_high = vectors.SUPPORTED.get(key)
        if low_high is None or not low_high[0] <= version <= low_high[1]:
            if key == 18:
                message = ApiVersionsResponse[0](error_code=35, api_keys=[
                    ApiVersionsResponse.ApiVersion(api_key=18, min_version=0, max_version=4)])
                message.with_header(correlation_id=correlation_id)
                return message.encode(header=True, framed=True)
            raise ValueError('closing: api key %d v%d' % (key, version))
        response_cls, values = self.response(key, version, frame)
        if response_cls is None:
            return None
        message = vectors.build(response_cls[version], values, version)
        message.with_header(correlation_id=correlation_id)
        return message.encode(header=True, framed=True)

    def request(self, key, version, frame):
        return REQUESTS[key].decode(frame, version=version, header=True, framed=True)

    def response(self, key, version, frame):
        if key == 18:
            return ApiVersionsResponse, vectors.api_versions_response()
        partition = {'error_code': 0, 'partition_index': 0, 'leader_id': 1, 'leader_epoch': 0,
                     'replica_nodes': [1], 'isr_nodes': [1], 'offline_replicas': []}
        if key == 3:
            return MetadataResponse, {
                'throttle_time_ms': 0, 'cluster_id': 'sinew', 'controller_id': 1,
                'brokers': [{'node_id': 1, 'host': '127.0.0.1', 'port': self.port, 'rack': None}],
                'topics': [{'error_code': 0, 'name': TOPIC, 'topic_id': TOPIC_ID,
                            'is_internal': False, 'partitions': [partition],
                            'topic_authorized_operations': vectors.OMITTED}],
                'cluster_authorized_operations': vectors.OMITTED}
        if key == 0:
            request = self.request(key, version, frame)
            if request.acks == 0:
                return None, None
            return ProduceResponse, {'throttle_time_ms': 0, 'responses': [
                {'name': topic.name, 'partition_responses': [
                    {'index': p.index, 'error_code': 0, 'base_offset': 0, 'log_append_time_ms': -1,
                     'log_start_offset': 0, 'record_errors': [], 'error_message': None}
                    for p in topic.partition_data]} for topic in request.topic_data]}
        if key == 1:
            time.sleep(0.2)  # a long poll that found nothing
            request = self.request(key, version, frame)
            return FetchResponse, {'throttle_time_ms': 0, 'error_code': 0, 'session_id': 0,
                                   'responses': [{'topic': topic.topic, 'partitions': [
                                       {'partition_index': p.partition, 'error_code': 0,
                                        'high_watermark': 0, 'last_stable_offset': 0,
                                        'log_start_offset': 0, 'aborted_transactions': None,
                                        'preferred_read_replica': -1, 'records': b''}
                                       for p in topic.partitions]} for topic in request.topics]}
        if key == 2:
            request = self.request(key, version, frame)
            return ListOffsetsResponse, {'throttle_time_ms': 0, 'topics': [
                {'name': topic.name, 'partitions': [
                    {'partition_index': p.partition_index, 'error_code': 0, 'timestamp': -1,
                     'offset': 0, 'leader_epoch': 0} for p in topic.partitions]}
                for topic in request.topics]}
        if key == 22:
            return InitProducerIdResponse, {'throttle_time_ms': 0, 'error_code': 0,
                                            'producer_id': 1000, 'producer_epoch': 0}
        if key == 10:
            return FindCoordinatorResponse, {'throttle_time_ms': 0, 'error_code': 0,
                                             'error_message': None, 'node_id': 1,
                                             'host': '127.0.0.1', 'port': self.port}
        if key == 19:
            request = self.request(key, version, frame)
            return CreateTopicsResponse, {'throttle_time_ms': 0, 'topics': [
                {'name': topic.name, 'error_code': 0, 'error_message': None}
                for topic in request.topics]}
        if key == 20:
            request = self.request(key, version, frame)
            return DeleteTopicsResponse, {'throttle_time_ms': 0, 'responses': [
                {'name': name, 'error_code': 0} for name in request.topic_names]}
        raise ValueError('no answer for api key %d' % key)


def kafka_python_2(port):
    """kafka-python 2.x, from the directory in $KAFKA_PYTHON_2 (pip install
    --target DIR kafka-python==2.3.3), in a process of its own."""
    env = dict(os.environ, PYTHONPATH=os.environ['KAFKA_PYTHON_2'])
    subprocess.run([sys.executable, os.path.join(HERE, 'drive_kafka_python.py'), str(port)],
                   env=env, check=True, timeout=120)


def confluent(port):
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic
    bootstrap = '127.0.0.1:%d' % port
    admin = AdminClient({'bootstrap.servers': bootstrap})
    for future in admin.create_topics([NewTopic('created', 3, 1)]).values():
        future.result(timeout=10)
    for future in admin.delete_topics(['created']).values():
        future.result(timeout=10)
    producer = Producer({'bootstrap.servers': bootstrap, 'enable.idempotence': True,
                         'compression.type': 'zstd'})
    producer.produce(TOPIC, key=b'k', value=b'hello ' * 100)
    assert producer.flush(10) == 0, 'the produce was not acknowledged'
    consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'unused',
                         'enable.auto.commit': False, 'fetch.wait.max.ms': 100})
    consumer.assign([TopicPartition(TOPIC, 0, -2)])
    consumer.poll(1.0)
    consumer.close()


def kcat(port):
    bootstrap = '127.0.0.1:%d' % port
    subprocess.run(['kcat', '-b', bootstrap, '-L'], check=True, timeout=20,
                   stdout=subprocess.DEVNULL)
    subprocess.run(['kcat', '-b', bootstrap, '-P', '-t', TOPIC, '-p', '0', '-z', 'zstd'],
                   input=b'hello ' * 100 + b'\n', check=True, timeout=20)
    subprocess.run(['kcat', '-b', bootstrap, '-C', '-t', TOPIC, '-p', '0', '-o', 'beginning',
                    '-e'], check=True, timeout=20, stdout=subprocess.DEVNULL)


def main():
    broker = Broker()
    clients = [('kafka-python', kafka_python), ('confluent-kafka', confluent)]
    if os.environ.get('KAFKA_PYTHON_2'):
        clients.append(('kafka-python-2', kafka_python_2))
    if shutil.which('kcat'):
        clients.append(('kcat', kcat))
    for name, drive in clients:
        broker.client = name
        if name == 'kafka-python':
            print('kafka-python %s infers broker version %s'
                  % (vectors.kafka.__version__, inferred_version(broker.port)))
        drive(broker.port)
        time.sleep(0.5)  # let the last connection's requests be recorded
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'broker', 'src',
                       'doors', 'kafka', 'vectors', 'clients.txt')
    seen = set()
    lines = ['# Written by interop-tests/kafka/capture.py; do not edit. Clients: '
             + ', '.join(name for name, _ in clients)]
    with broker.lock:
        for client, key, version, frame in broker.frames:
            if (client, key, version) in seen:
                continue
            seen.add((client, key, version))
            lines.append('%s %d %d %s' % (client, key, version, frame.hex()))
    with open(out, 'w') as file:
        file.write('\n'.join(lines) + '\n')
    for line in lines[1:]:
        print(line[:60])
    print('wrote %d frames to %s' % (len(lines) - 1, os.path.normpath(out)))


if __name__ == '__main__':
    sys.exit(main())
