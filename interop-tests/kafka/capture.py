"""Captures the requests real Kafka clients send to a broker advertising the
Kafka door's version table, for the codec's tests.

A throwaway broker on 127.0.0.1 (one thread per connection) answers with
responses built by kafka-python's encoder (ApiVersions with the door's table,
one topic `orders` of one partition led by itself, every produce acknowledged,
every fetch empty, every group joined by one member that leads it, every
admin request granted) and records each request frame. Three clients are
driven against it: kafka-python (producer, consumers, a consumer group, admin),
confluent-kafka (its bundled librdkafka) and kcat (Debian's librdkafka, its
balanced consumer included), each within a bounded time.
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
from kafka.protocol.admin.cluster import DescribeClusterRequest, DescribeClusterResponse
from kafka.protocol.admin.configs import DescribeConfigsRequest, DescribeConfigsResponse
from kafka.protocol.admin.groups import (DeleteGroupsRequest, DeleteGroupsResponse,
                                         DescribeGroupsRequest, DescribeGroupsResponse,
                                         ListGroupsRequest, ListGroupsResponse)
from kafka.protocol.admin.topics import (CreatePartitionsRequest, CreatePartitionsResponse,
                                         CreateTopicsResponse, DeleteRecordsRequest,
                                         DeleteRecordsResponse, DeleteTopicsResponse)
from kafka.protocol.consumer.fetch import FetchResponse
from kafka.protocol.consumer.group import (HeartbeatRequest, HeartbeatResponse, JoinGroupRequest,
                                           JoinGroupResponse, LeaveGroupRequest, LeaveGroupResponse,
                                           OffsetCommitRequest, OffsetCommitResponse,
                                           OffsetFetchRequest, OffsetFetchResponse,
                                           SyncGroupRequest, SyncGroupResponse)
from kafka.protocol.consumer.offsets import (ListOffsetsResponse, OffsetForLeaderEpochRequest,
                                             OffsetForLeaderEpochResponse)
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
            8: OffsetCommitRequest, 9: OffsetFetchRequest, 10: FindCoordinatorRequest,
            11: JoinGroupRequest, 12: HeartbeatRequest, 13: LeaveGroupRequest,
            14: SyncGroupRequest, 15: DescribeGroupsRequest, 16: ListGroupsRequest,
            19: CreateTopicsRequest, 20: DeleteTopicsRequest, 21: DeleteRecordsRequest,
            22: InitProducerIdRequest, 23: OffsetForLeaderEpochRequest,
            32: DescribeConfigsRequest, 37: CreatePartitionsRequest, 42: DeleteGroupsRequest,
            60: DescribeClusterRequest}
# The group's one member (each join is answered as if it were the only one).
MEMBER_ID = 'member-1'
# The operations a broker without an authorizer reports when asked (Kafka's
# AclOperation numbers): kafka-python 2.3.3 cannot read the "omitted" bit 31
# when it asked for them (ValueError: 31 is not a valid ACLOperation).
TOPIC_OPERATIONS = {3, 4, 5, 6, 7, 8, 10, 11}
GROUP_OPERATIONS = {3, 6, 8}
CLUSTER_OPERATIONS = {5, 7, 8, 9, 10, 11, 12}


def operations(asked, bits):
    """Authorized operations: the bits if asked, else None (the omitted bit 31)."""
    return set(bits) if asked else None


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
            request = self.request(key, version, frame)
            return MetadataResponse, {
                'throttle_time_ms': 0, 'cluster_id': 'sinew', 'controller_id': 1,
                'brokers': [{'node_id': 1, 'host': '127.0.0.1', 'port': self.port, 'rack': None}],
                'topics': [{'error_code': 0, 'name': TOPIC, 'topic_id': TOPIC_ID,
                            'is_internal': False, 'partitions': [partition],
                            # kafka-python 3 names both fields `authorized_operations`.
                            'authorized_operations': operations(
                                request.include_topic_authorized_operations,
                                TOPIC_OPERATIONS)}],
                'authorized_operations': operations(
                    request.include_cluster_authorized_operations, CLUSTER_OPERATIONS)}
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
        if key in GROUP_ANSWERS or key in ADMIN_ANSWERS:
            request = self.request(key, version, frame)
            answers = GROUP_ANSWERS if key in GROUP_ANSWERS else ADMIN_ANSWERS
            response_cls, answer = answers[key]
            return response_cls, answer(request, self.port)
        raise ValueError('no answer for api key %d' % key)


def committed(topics):
    """OffsetFetch's answer for some topics (null: `orders`): nothing committed."""
    if topics is None:
        topics = [OffsetFetchRequest.OffsetFetchRequestTopic(name=TOPIC, partition_indexes=[0])]
    return [{'name': topic.name, 'partitions': [
        {'partition_index': index, 'committed_offset': -1, 'committed_leader_epoch': -1,
         'metadata': '', 'error_code': 0} for index in topic.partition_indexes]}
        for topic in topics]


def join(request, _port):
    protocol = request.protocols[0]
    return {'throttle_time_ms': 0, 'error_code': 0, 'generation_id': 1,
            'protocol_type': request.protocol_type, 'protocol_name': protocol.name,
            'leader': MEMBER_ID, 'member_id': MEMBER_ID, 'members': [
                {'member_id': MEMBER_ID, 'group_instance_id': request.group_instance_id,
                 'metadata': protocol.metadata}]}


def sync(request, _port):
    # The leader assigned the group: its own assignment goes back to it.
    assignment = next((a.assignment for a in request.assignments
                       if a.member_id == request.member_id), b'')
    return {'throttle_time_ms': 0, 'error_code': 0, 'protocol_type': request.protocol_type,
            'protocol_name': request.protocol_name, 'assignment': assignment}


GROUP_ANSWERS = {
    11: (JoinGroupResponse, join),
    14: (SyncGroupResponse, sync),
    12: (HeartbeatResponse, lambda request, _: {'throttle_time_ms': 0, 'error_code': 0}),
    13: (LeaveGroupResponse, lambda request, _: {
        'throttle_time_ms': 0, 'error_code': 0, 'members': [
            {'member_id': m.member_id, 'group_instance_id': m.group_instance_id,
             'error_code': 0} for m in (request.members or [])]}),
    8: (OffsetCommitResponse, lambda request, _: {'throttle_time_ms': 0, 'topics': [
        {'name': topic.name, 'partitions': [
            {'partition_index': p.partition_index, 'error_code': 0} for p in topic.partitions]}
        for topic in request.topics]}),
    9: (OffsetFetchResponse, lambda request, _: {
        'throttle_time_ms': 0, 'error_code': 0,
        'topics': committed(request.topics) if request.group_id is not None else [],
        'groups': [{'group_id': group.group_id, 'topics': committed(group.topics),
                    'error_code': 0} for group in (request.groups or [])]}),
    15: (DescribeGroupsResponse, lambda request, _: {'throttle_time_ms': 0, 'groups': [
        {'error_code': 0, 'error_message': None, 'group_id': group, 'group_state': 'Empty',
         'protocol_type': 'consumer', 'protocol_data': '', 'members': [],
         'authorized_operations': operations(request.include_authorized_operations,
                                             GROUP_OPERATIONS)}
        for group in request.groups]}),
    16: (ListGroupsResponse, lambda request, _: {'throttle_time_ms': 0, 'error_code': 0,
                                                 'groups': [{'group_id': 'group-1',
                                                             'protocol_type': 'consumer',
                                                             'group_state': 'Empty',
                                                             'group_type': 'classic'}]}),
    42: (DeleteGroupsResponse, lambda request, _: {'throttle_time_ms': 0, 'results': [
        {'group_id': group, 'error_code': 0} for group in request.groups_names]}),
}

ADMIN_ANSWERS = {
    37: (CreatePartitionsResponse, lambda request, _: {'throttle_time_ms': 0, 'results': [
        {'name': topic.name, 'error_code': 0, 'error_message': None}
        for topic in request.topics]}),
    32: (DescribeConfigsResponse, lambda request, _: {'throttle_time_ms': 0, 'results': [
        {'error_code': 0, 'error_message': None, 'resource_type': resource.resource_type,
         'resource_name': resource.resource_name, 'configs': [
             {'name': 'retention.ms', 'value': '604800000', 'read_only': False,
              'config_source': 5, 'is_default': True, 'is_sensitive': False,
              'synonyms': []}]} for resource in request.resources]}),
    60: (DescribeClusterResponse, lambda request, port: {
        'throttle_time_ms': 0, 'error_code': 0, 'error_message': None, 'endpoint_type': 1,
        'cluster_id': 'sinew', 'controller_id': 1, 'brokers': [
            {'broker_id': 1, 'host': '127.0.0.1', 'port': port, 'rack': None}],
        'authorized_operations': operations(request.include_cluster_authorized_operations,
                                            CLUSTER_OPERATIONS)}),
    23: (OffsetForLeaderEpochResponse, lambda request, _: {'throttle_time_ms': 0, 'topics': [
        {'topic': topic.topic, 'partitions': [
            {'error_code': 0, 'partition': p.partition, 'leader_epoch': 0, 'end_offset': 0}
            for p in topic.partitions]} for topic in request.topics]}),
    21: (DeleteRecordsResponse, lambda request, _: {'throttle_time_ms': 0, 'topics': [
        {'name': topic.name, 'partitions': [
            {'partition_index': p.partition_index, 'low_watermark': max(p.offset, 0),
             'error_code': 0} for p in topic.partitions]} for topic in request.topics]}),
}


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
    confluent_group(bootstrap)
    confluent_admin(bootstrap)


def confluent_group(bootstrap):
    """A member of group-1 on `orders`: joins, commits and leaves."""
    from confluent_kafka import Consumer, TopicPartition
    assigned = []
    consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'group-1',
                         'enable.auto.commit': False, 'fetch.wait.max.ms': 100,
                         'auto.offset.reset': 'earliest'})
    consumer.subscribe([TOPIC], on_assign=lambda _, partitions: assigned.extend(partitions))
    deadline = time.time() + 15
    while not assigned and time.time() < deadline:
        consumer.poll(0.2)
    assert assigned, 'confluent-kafka joined no group'
    consumer.commit(offsets=[TopicPartition(TOPIC, 0, 1)], asynchronous=False)
    consumer.close()


def confluent_admin(bootstrap):
    """The group and partition admin calls (librdkafka describes the cluster
    with Metadata, not DescribeCluster)."""
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions
    admin = AdminClient({'bootstrap.servers': bootstrap})
    admin.list_consumer_groups().result(timeout=10)
    for future in admin.describe_consumer_groups(['group-1']).values():
        future.result(timeout=10)
    for future in admin.delete_consumer_groups(['group-1']).values():
        future.result(timeout=10)
    for future in admin.describe_configs([ConfigResource('topic', TOPIC)]).values():
        future.result(timeout=10)
    for future in admin.create_partitions([NewPartitions(TOPIC, 2)]).values():
        future.result(timeout=10)
    for future in admin.delete_records([TopicPartition(TOPIC, 0, 0)]).values():
        future.result(timeout=10)


def kcat(port):
    bootstrap = '127.0.0.1:%d' % port
    subprocess.run(['kcat', '-b', bootstrap, '-L'], check=True, timeout=20,
                   stdout=subprocess.DEVNULL)
    subprocess.run(['kcat', '-b', bootstrap, '-P', '-t', TOPIC, '-p', '0', '-z', 'zstd'],
                   input=b'hello ' * 100 + b'\n', check=True, timeout=20)
    subprocess.run(['kcat', '-b', bootstrap, '-C', '-t', TOPIC, '-p', '0', '-o', 'beginning',
                    '-e'], check=True, timeout=20, stdout=subprocess.DEVNULL)
    # The balanced consumer, which librdkafka 2.0.2 enables only if JoinGroup
    # includes v0 (docs/kafka.md): joins group-1, reads to the end, leaves.
    subprocess.run(['kcat', '-b', bootstrap, '-G', 'group-1', '-o', 'beginning', '-e', TOPIC],
                   check=True, timeout=30, stdout=subprocess.DEVNULL)


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
