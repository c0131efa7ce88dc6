"""Writes the Kafka door's codec test vectors with kafka-python's own encoder.

kafka-python 3.x generates its codec from Kafka's JSON message definitions (it
ships them), so it is an encoder written by others, from the same authority the
door's codec was written from. For every API and every version the door
advertises, this encodes one request (size prefix, request header v1 or v2, body)
and one response (size prefix, response header v0 or v1, body) with the fixed
values below, and writes them as hex lines to
broker/src/doors/kafka/vectors/kafka_python.txt:

    request <api key> <version> <hex>
    response <api key> <version> <hex>

The Rust tests (broker/src/doors/kafka/vector_tests.rs) decode every request
into the same values and encode the same responses byte for byte.

Run: pip install -r interop-tests/requirements.txt;
     python3 interop-tests/kafka/vectors.py
"""

import os
import uuid
import sys

import kafka
from kafka.protocol.admin.cluster import DescribeClusterRequest, DescribeClusterResponse
from kafka.protocol.admin.configs import DescribeConfigsRequest, DescribeConfigsResponse
from kafka.protocol.admin.groups import (DeleteGroupsRequest, DeleteGroupsResponse,
                                         DescribeGroupsRequest, DescribeGroupsResponse,
                                         ListGroupsRequest, ListGroupsResponse)
from kafka.protocol.admin.topics import (CreatePartitionsRequest, CreatePartitionsResponse,
                                         CreateTopicsRequest, CreateTopicsResponse,
                                         DeleteRecordsRequest, DeleteRecordsResponse,
                                         DeleteTopicsRequest, DeleteTopicsResponse)
from kafka.protocol.consumer.fetch import FetchRequest, FetchResponse
from kafka.protocol.consumer.group import (HeartbeatRequest, HeartbeatResponse, JoinGroupRequest,
                                           JoinGroupResponse, LeaveGroupRequest, LeaveGroupResponse,
                                           OffsetCommitRequest, OffsetCommitResponse,
                                           OffsetFetchRequest, OffsetFetchResponse,
                                           SyncGroupRequest, SyncGroupResponse)
from kafka.protocol.consumer.offsets import (ListOffsetsRequest, ListOffsetsResponse,
                                             OffsetForLeaderEpochRequest,
                                             OffsetForLeaderEpochResponse)
from kafka.protocol.metadata.api_versions import ApiVersionsRequest, ApiVersionsResponse
from kafka.protocol.metadata.find_coordinator import (FindCoordinatorRequest,
                                                      FindCoordinatorResponse)
from kafka.protocol.metadata.metadata import MetadataRequest, MetadataResponse
from kafka.protocol.producer.produce import ProduceRequest, ProduceResponse
from kafka.protocol.producer.transaction import InitProducerIdRequest, InitProducerIdResponse

# The door's table (broker/src/doors/kafka/api.rs): api key -> (min, max).
SUPPORTED = {0: (3, 10), 1: (4, 12), 2: (1, 7), 3: (0, 13), 8: (2, 9), 9: (1, 9), 10: (0, 2),
             11: (0, 5), 12: (0, 3), 13: (0, 3), 14: (0, 3), 15: (0, 5), 16: (0, 5),
             18: (0, 4), 19: (2, 4), 20: (1, 4), 21: (0, 2), 22: (0, 4), 23: (2, 2),
             32: (1, 1), 37: (0, 2), 42: (0, 2), 60: (0, 1)}

CORRELATION_ID = 7
CLIENT_ID = 'vectors'
# Stand-ins for a consumer's subscription and assignment: opaque to the codec.
SUBSCRIPTION = bytes(range(10))
ASSIGNMENT = bytes(range(20, 32))
# Stand-ins for RecordBatch bytes: opaque to the codec, longer than 64 bytes so
# the response writer keeps them as a chunk of their own.
RECORDS = bytes(range(70))
TOPIC_ID = uuid.UUID(bytes=bytes(range(16)))
OMITTED = -2147483648


def build(cls, values, version):
    """A kafka-python data object of `cls` from nested dicts."""
    fields = {}
    for field in cls._struct._fields:
        if field.name not in values:
            continue
        value = values[field.name]
        if value is None:
            pass
        elif field.is_struct_array():
            item = getattr(cls, field.type_str)
            value = [build(item, element, version) for element in value]
        elif field.is_struct():
            value = build(getattr(cls, field.type_str), value, version)
        fields[field.name] = value
    return cls(**fields)


def api_versions_response():
    return {'error_code': 0, 'throttle_time_ms': 0,
            'api_keys': [{'api_key': key, 'min_version': low, 'max_version': high}
                         for key, (low, high) in sorted(SUPPORTED.items())]}


OFFSET_FETCH_TOPICS = [{'name': 'orders', 'partition_indexes': [0, 1]}]
COMMITTED = [{'name': 'orders', 'partitions': [
    {'partition_index': 0, 'committed_offset': 42, 'committed_leader_epoch': 5,
     'metadata': 'note', 'error_code': 0},
    {'partition_index': 1, 'committed_offset': -1, 'committed_leader_epoch': -1,
     'metadata': None, 'error_code': 0}]}]

MESSAGES = {
    18: (ApiVersionsRequest, {'client_software_name': 'kafka-python',
                              'client_software_version': '3.0.12'},
         ApiVersionsResponse, api_versions_response()),
    3: (MetadataRequest, {'topics': [{'name': 'orders'}], 'allow_auto_topic_creation': False,
                          'include_cluster_authorized_operations': False,
                          'include_topic_authorized_operations': False},
        MetadataResponse, {
            'throttle_time_ms': 0,
            'brokers': [{'node_id': 1, 'host': '127.0.0.1', 'port': 9092, 'rack': None}],
            'cluster_id': 'sinew', 'controller_id': 1,
            'topics': [{'error_code': 0, 'name': 'orders', 'topic_id': TOPIC_ID,
                        'is_internal': False, 'topic_authorized_operations': OMITTED,
                        'partitions': [{'error_code': 0, 'partition_index': 0, 'leader_id': 1,
                                        'leader_epoch': 0, 'replica_nodes': [1],
                                        'isr_nodes': [1], 'offline_replicas': []}]}],
            'cluster_authorized_operations': OMITTED, 'error_code': 0}),
    0: (ProduceRequest, {'transactional_id': None, 'acks': -1, 'timeout_ms': 30000,
                         'topic_data': [{'name': 'orders', 'partition_data': [
                             {'index': 0, 'records': RECORDS}]}]},
        ProduceResponse, {'throttle_time_ms': 0, 'responses': [{'name': 'orders', 'partition_responses': [
            {'index': 0, 'error_code': 0, 'base_offset': 42, 'log_append_time_ms': -1,
             'log_start_offset': 0, 'record_errors': [], 'error_message': None}]}]}),
    1: (FetchRequest, {'replica_id': -1, 'max_wait_ms': 500, 'min_bytes': 1,
                       'max_bytes': 52428800, 'isolation_level': 0, 'session_id': 0,
                       'session_epoch': -1, 'rack_id': '', 'forgotten_topics_data': [],
                       'topics': [{'topic': 'orders', 'partitions': [
                           {'partition': 0, 'current_leader_epoch': -1, 'fetch_offset': 42,
                            'last_fetched_epoch': -1, 'log_start_offset': -1,
                            'partition_max_bytes': 1048576}]}]},
        FetchResponse, {'throttle_time_ms': 0, 'error_code': 0, 'session_id': 0, 'responses': [
            {'topic': 'orders', 'partitions': [
                {'partition_index': 0, 'error_code': 0, 'high_watermark': 43,
                 'last_stable_offset': 43, 'log_start_offset': 0, 'aborted_transactions': None,
                 'preferred_read_replica': -1, 'records': RECORDS}]}]}),
    2: (ListOffsetsRequest, {'replica_id': -1, 'isolation_level': 0, 'topics': [
            {'name': 'orders', 'partitions': [
                {'partition_index': 0, 'current_leader_epoch': -1, 'timestamp': -2}]}]},
        ListOffsetsResponse, {'throttle_time_ms': 0, 'topics': [{'name': 'orders', 'partitions': [
            {'partition_index': 0, 'error_code': 0, 'timestamp': -1, 'offset': 0,
             'leader_epoch': 0}]}]}),
    22: (InitProducerIdRequest, {'transactional_id': None, 'transaction_timeout_ms': 60000,
                                 'producer_id': -1, 'producer_epoch': -1},
         InitProducerIdResponse, {'throttle_time_ms': 0, 'error_code': 0,
                                  'producer_id': 1000, 'producer_epoch': 0}),
    10: (FindCoordinatorRequest, {'key': 'group-1', 'key_type': 0},
         FindCoordinatorResponse, {'throttle_time_ms': 0, 'error_code': 0, 'error_message': None,
                                   'node_id': 1, 'host': '127.0.0.1', 'port': 9092}),
    19: (CreateTopicsRequest, {'timeout_ms': 30000, 'validate_only': False, 'topics': [
            {'name': 'orders', 'num_partitions': 3, 'replication_factor': -1, 'assignments': [],
             'configs': [{'name': 'retention.ms', 'value': '60000'}]}]},
         CreateTopicsResponse, {'throttle_time_ms': 0, 'topics': [
             {'name': 'orders', 'error_code': 0, 'error_message': None}]}),
    20: (DeleteTopicsRequest, {'topic_names': ['orders'], 'timeout_ms': 30000},
         DeleteTopicsResponse, {'throttle_time_ms': 0, 'responses': [
             {'name': 'orders', 'error_code': 0}]}),
    # v0 has no rebalance timeout (the decoder takes the session timeout).
    11: (JoinGroupRequest, {'group_id': 'group-1', 'session_timeout_ms': 10000,
                            'rebalance_timeout_ms': 300000, 'member_id': 'member-1',
                            'group_instance_id': 'instance-1', 'protocol_type': 'consumer',
                            'protocols': [{'name': 'range', 'metadata': SUBSCRIPTION}]},
         JoinGroupResponse, {'throttle_time_ms': 0, 'error_code': 0, 'generation_id': 3,
                             'protocol_name': 'range', 'leader': 'member-1',
                             'member_id': 'member-1', 'members': [
                                 {'member_id': 'member-1', 'group_instance_id': 'instance-1',
                                  'metadata': SUBSCRIPTION}]}),
    12: (HeartbeatRequest, {'group_id': 'group-1', 'generation_id': 3, 'member_id': 'member-1',
                            'group_instance_id': 'instance-1'},
         HeartbeatResponse, {'throttle_time_ms': 0, 'error_code': 27}),
    # v0 to v2 name one member, v3 a list.
    13: (LeaveGroupRequest, {'group_id': 'group-1', 'member_id': 'member-1', 'members': [
            {'member_id': 'member-1', 'group_instance_id': 'instance-1'}]},
         LeaveGroupResponse, {'throttle_time_ms': 0, 'error_code': 0, 'members': [
             {'member_id': 'member-1', 'group_instance_id': 'instance-1', 'error_code': 0}]}),
    14: (SyncGroupRequest, {'group_id': 'group-1', 'generation_id': 3, 'member_id': 'member-1',
                            'group_instance_id': 'instance-1', 'assignments': [
                                {'member_id': 'member-1', 'assignment': ASSIGNMENT}]},
         SyncGroupResponse, {'throttle_time_ms': 0, 'error_code': 0, 'assignment': ASSIGNMENT}),
    8: (OffsetCommitRequest, {'group_id': 'group-1', 'generation_id_or_member_epoch': 3,
                              'member_id': 'member-1', 'group_instance_id': 'instance-1',
                              'retention_time_ms': 86400000, 'topics': [
                                  {'name': 'orders', 'partitions': [
                                      {'partition_index': 0, 'committed_offset': 42,
                                       'committed_leader_epoch': 5,
                                       'committed_metadata': 'note'}]}]},
        OffsetCommitResponse, {'throttle_time_ms': 0, 'topics': [
            {'name': 'orders', 'partitions': [{'partition_index': 0, 'error_code': 0}]}]}),
    # v1 to v7 ask for one group, v8+ for a list of groups.
    9: (OffsetFetchRequest, {'group_id': 'group-1', 'topics': OFFSET_FETCH_TOPICS,
                             'groups': [{'group_id': 'group-1', 'member_id': 'member-1',
                                         'member_epoch': 5, 'topics': OFFSET_FETCH_TOPICS}],
                             'require_stable': True},
        OffsetFetchResponse, {'throttle_time_ms': 0, 'topics': COMMITTED, 'error_code': 0,
                              'groups': [{'group_id': 'group-1', 'topics': COMMITTED,
                                          'error_code': 0}]}),
    # authorized_operations None is kafka-python's way to write the "omitted" bit 31.
    15: (DescribeGroupsRequest, {'groups': ['group-1'], 'include_authorized_operations': True},
         DescribeGroupsResponse, {'throttle_time_ms': 0, 'groups': [
             {'error_code': 0, 'group_id': 'group-1', 'group_state': 'Stable',
              'protocol_type': 'consumer', 'protocol_data': 'range', 'members': [
                  {'member_id': 'member-1', 'group_instance_id': 'instance-1',
                   'client_id': 'client-1', 'client_host': '/127.0.0.1',
                   'member_metadata': SUBSCRIPTION, 'member_assignment': ASSIGNMENT}],
              'authorized_operations': None}]}),
    16: (ListGroupsRequest, {'states_filter': ['Stable'], 'types_filter': ['classic']},
         ListGroupsResponse, {'throttle_time_ms': 0, 'error_code': 0, 'groups': [
             {'group_id': 'group-1', 'protocol_type': 'consumer', 'group_state': 'Stable',
              'group_type': 'classic'}]}),
    42: (DeleteGroupsRequest, {'groups_names': ['group-1']},
         DeleteGroupsResponse, {'throttle_time_ms': 0, 'results': [
             {'group_id': 'group-1', 'error_code': 68}]}),
    37: (CreatePartitionsRequest, {'timeout_ms': 30000, 'validate_only': False, 'topics': [
            {'name': 'orders', 'count': 6, 'assignments': None},
            {'name': 'audit', 'count': 2, 'assignments': [{'broker_ids': [1]}]}]},
         CreatePartitionsResponse, {'throttle_time_ms': 0, 'results': [
             {'name': 'orders', 'error_code': 0, 'error_message': None},
             {'name': 'audit', 'error_code': 37, 'error_message': 'one broker'}]}),
    32: (DescribeConfigsRequest, {'include_synonyms': True, 'resources': [
            {'resource_type': 2, 'resource_name': 'orders',
             'configuration_keys': ['retention.ms']},
            {'resource_type': 4, 'resource_name': '1', 'configuration_keys': None}]},
         DescribeConfigsResponse, {'throttle_time_ms': 0, 'results': [
             {'error_code': 0, 'error_message': None, 'resource_type': 2,
              'resource_name': 'orders', 'configs': [
                  {'name': 'retention.ms', 'value': '60000', 'read_only': False,
                   'config_source': 1, 'is_sensitive': False, 'synonyms': [
                       {'name': 'retention.ms', 'value': '60000', 'source': 1},
                       {'name': 'log.retention.ms', 'value': None, 'source': 5}]}]}]}),
    # authorized_operations None is kafka-python's way to write the "omitted" bit 31.
    60: (DescribeClusterRequest, {'include_cluster_authorized_operations': False,
                                  'endpoint_type': 1},
         DescribeClusterResponse, {'throttle_time_ms': 0, 'error_code': 0, 'error_message': None,
                                   'endpoint_type': 1, 'cluster_id': 'sinew', 'controller_id': 1, 'brokers': [
                                       {'broker_id': 1, 'host': '127.0.0.1', 'port': 9092,
                                        'rack': None}],
                                   'authorized_operations': None}),
    23: (OffsetForLeaderEpochRequest, {'topics': [{'topic': 'orders', 'partitions': [
            {'partition': 0, 'current_leader_epoch': 0, 'leader_epoch': 0}]}]},
         OffsetForLeaderEpochResponse, {'throttle_time_ms': 0, 'topics': [
             {'topic': 'orders', 'partitions': [
                 {'error_code': 0, 'partition': 0, 'leader_epoch': 0, 'end_offset': 43}]}]}),
    21: (DeleteRecordsRequest, {'timeout_ms': 30000, 'topics': [{'name': 'orders', 'partitions': [
            {'partition_index': 0, 'offset': 10}, {'partition_index': 1, 'offset': -1}]}]},
         DeleteRecordsResponse, {'throttle_time_ms': 0, 'topics': [{'name': 'orders', 'partitions': [
             {'partition_index': 0, 'low_watermark': 10, 'error_code': 0},
             {'partition_index': 1, 'low_watermark': -1, 'error_code': 1}]}]}),
}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'broker', 'src',
                       'doors', 'kafka', 'vectors', 'kafka_python.txt')
    lines = ['# Written by interop-tests/kafka/vectors.py with kafka-python %s; do not edit.'
             % kafka.__version__]
    for key, (low, high) in sorted(SUPPORTED.items()):
        request_cls, request, response_cls, response = MESSAGES[key]
        for version in range(low, high + 1):
            message = build(request_cls[version], request, version)
            message.with_header(correlation_id=CORRELATION_ID, client_id=CLIENT_ID)
            lines.append('request %d %d %s' % (key, version,
                                               message.encode(header=True, framed=True).hex()))
            message = build(response_cls[version], response, version)
            message.with_header(correlation_id=CORRELATION_ID)
            lines.append('response %d %d %s' % (key, version,
                                                message.encode(header=True, framed=True).hex()))
    # Kafka's answer to an ApiVersions version it does not know: v0, error 35,
    # ApiVersions' own range.
    message = ApiVersionsResponse[0](error_code=35, api_keys=[
        ApiVersionsResponse.ApiVersion(api_key=18, min_version=0, max_version=4)])
    message.with_header(correlation_id=CORRELATION_ID)
    lines.append('unsupported 18 0 %s' % message.encode(header=True, framed=True).hex())
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, 'w') as file:
        file.write('\n'.join(lines) + '\n')
    print('wrote %d vectors to %s' % (len(lines) - 1, os.path.normpath(out)))


if __name__ == '__main__':
    sys.exit(main())
