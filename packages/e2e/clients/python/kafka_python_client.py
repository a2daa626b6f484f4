"""kafka-python 2.0.2 (Debian's python3-kafka) client for the e2e tests. Commands: create-topic,
produce, consume-group. See common.py for the I/O conventions."""
import time

from common import deadline_after, emit, run, stop_requested
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic


def text(data):
    return None if data is None else data.decode("utf-8")


def create_topic(parameters):
    admin = KafkaAdminClient(
        bootstrap_servers=parameters["bootstrap"],
        client_id=parameters.get("clientId", "gregor-e2e-kafka-python-admin"),
    )
    admin.create_topics(
        [NewTopic(parameters["topic"], parameters["partitions"], parameters.get("replicationFactor", 1))],
        timeout_ms=15000,
    )
    emit("created", topic=parameters["topic"])
    admin.close()


def produce(parameters):
    producer = KafkaProducer(
        bootstrap_servers=parameters["bootstrap"],
        client_id=parameters.get("clientId", "gregor-e2e-kafka-python-producer"),
        acks=parameters.get("acks", "all"),
        linger_ms=5,
    )
    prefix = parameters.get("prefix", "record")
    futures = []
    for index in range(parameters["count"]):
        key = ("%s-key-%d" % (prefix, index)).encode()
        value = ("%s-value-%d" % (prefix, index)).encode()
        futures.append((key, value, producer.send(parameters["topic"], key=key, value=value)))
    producer.flush(timeout=30)
    for key, value, future in futures:
        metadata = future.get(timeout=30)
        emit(
            "ack",
            partition=metadata.partition,
            offset=metadata.offset,
            key=text(key),
            value=text(value),
        )
    producer.close(timeout=10)
    emit("done", produced=len(futures))


def consume_group(parameters):
    """Consumes in a group until `expected` records arrived (or the idle deadline), commits, closes."""
    consumer = KafkaConsumer(
        bootstrap_servers=parameters["bootstrap"],
        client_id=parameters.get("clientId", "gregor-e2e-kafka-python-consumer"),
        group_id=parameters["group"],
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=10000,
        heartbeat_interval_ms=1000,
    )
    consumer.subscribe([parameters["topic"]])
    received = 0
    deadline = deadline_after(parameters.get("timeoutS", 60))
    while received < parameters["expected"] and time.monotonic() < deadline:
        if stop_requested.is_set():
            break
        batches = consumer.poll(timeout_ms=500)
        for partition, messages in batches.items():
            for message in messages:
                received += 1
                emit(
                    "record",
                    partition=message.partition,
                    offset=message.offset,
                    key=text(message.key),
                    value=text(message.value),
                )
    consumer.commit()
    assignment = sorted(consumer.assignment(), key=lambda tp: tp.partition)
    emit(
        "committed",
        offsets=[{"partition": tp.partition, "offset": consumer.committed(tp)} for tp in assignment],
    )
    consumer.close()
    emit("closed", received=received)


def committed(parameters):
    """The group's committed offsets (OffsetFetch) without joining it."""
    consumer = KafkaConsumer(
        bootstrap_servers=parameters["bootstrap"],
        client_id=parameters.get("clientId", "gregor-e2e-kafka-python-consumer"),
        group_id=parameters["group"],
        enable_auto_commit=False,
    )
    offsets = []
    for partition in parameters["partitions"]:
        offset = consumer.committed(TopicPartition(parameters["topic"], partition))
        offsets.append({"partition": partition, "offset": -1 if offset is None else offset})
    emit("committed-offsets", offsets=offsets)
    consumer.close()


run(
    {
        "create-topic": create_topic,
        "produce": produce,
        "consume-group": consume_group,
        "committed": committed,
    }
)
