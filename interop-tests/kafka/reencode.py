"""Reads Kafka responses (hex lines `<api key> <version> <hex of the framed
response>`) on stdin, decodes each with kafka-python's decoder and encodes it
again with kafka-python's encoder, and prints `ok` if the bytes are the same,
else `mismatch` or `error` with the reason: one output line per input line.

broker/tests/kafka_python_responses.rs feeds it responses of random values
written by the Kafka door's encoder: a field kafka-python reads differently
(missing, extra, another width or order) shows as an error or a mismatch.
Needs kafka-python 3 (pip install -r interop-tests/requirements.txt).
"""

import sys

from kafka.protocol.admin.cluster import DescribeClusterResponse
from kafka.protocol.admin.configs import DescribeConfigsResponse
from kafka.protocol.admin.groups import (DeleteGroupsResponse, DescribeGroupsResponse,
                                         ListGroupsResponse)
from kafka.protocol.admin.topics import (CreatePartitionsResponse, CreateTopicsResponse,
                                         DeleteRecordsResponse, DeleteTopicsResponse)
from kafka.protocol.consumer.fetch import FetchResponse
from kafka.protocol.consumer.group import (HeartbeatResponse, JoinGroupResponse, LeaveGroupResponse,
                                           OffsetCommitResponse, OffsetFetchResponse,
                                           SyncGroupResponse)
from kafka.protocol.consumer.offsets import ListOffsetsResponse, OffsetForLeaderEpochResponse
from kafka.protocol.metadata.api_versions import ApiVersionsResponse
from kafka.protocol.metadata.find_coordinator import FindCoordinatorResponse
from kafka.protocol.metadata.metadata import MetadataResponse
from kafka.protocol.producer.produce import ProduceResponse
from kafka.protocol.producer.transaction import InitProducerIdResponse

RESPONSES = {0: ProduceResponse, 1: FetchResponse, 2: ListOffsetsResponse, 3: MetadataResponse,
             8: OffsetCommitResponse, 9: OffsetFetchResponse, 10: FindCoordinatorResponse,
             11: JoinGroupResponse, 12: HeartbeatResponse, 13: LeaveGroupResponse,
             14: SyncGroupResponse, 15: DescribeGroupsResponse, 16: ListGroupsResponse,
             18: ApiVersionsResponse, 19: CreateTopicsResponse, 20: DeleteTopicsResponse,
             21: DeleteRecordsResponse, 22: InitProducerIdResponse,
             23: OffsetForLeaderEpochResponse, 32: DescribeConfigsResponse,
             37: CreatePartitionsResponse, 42: DeleteGroupsResponse, 60: DescribeClusterResponse}


def check(key, version, data):
    cls = RESPONSES[key][version]
    message = cls.decode(data, header=True, framed=True)
    again = message.encode(header=True, framed=True)
    if bytes(again) != data:
        return 'mismatch: kafka-python re-encodes %s' % bytes(again).hex()
    return 'ok'


def main():
    for line in sys.stdin:
        key, version, data = line.split()
        try:
            print(check(int(key), int(version), bytes.fromhex(data)), flush=True)
        except Exception as error:  # report, never stop: one answer per line
            print('error: %s: %s' % (type(error).__name__, error), flush=True)


if __name__ == '__main__':
    main()
