"""kafka-python client for the e2e tests: Debian's python3-kafka 2.0.2, and the newest 2.x and 3.x
from PyPI. Commands: versions, create-topic, produce, consume-group, committed, read-all,
admin-tour, process. See common.py for the I/O conventions."""
import time

from common import deadline_after, emit, run, stop_requested
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic


def text(data):
    return None if data is None else data.decode("utf-8")


def poll_records(consumer, parameters):
    """Reports records until `expected` arrived, the `timeoutS` deadline or "stop"; returns the count."""
    received = 0
    deadline = deadline_after(parameters.get("timeoutS", 60))
    while received < parameters["expected"] and time.monotonic() < deadline and not stop_requested.is_set():
        for messages in consumer.poll(timeout_ms=500).values():
            for message in messages:
                received += 1
                emit(
                    "record",
                    partition=message.partition,
                    offset=message.offset,
                    key=text(message.key),
                    value=text(message.value),
                )
    return received


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
        compression_type=parameters.get("compression"),
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
    received = poll_records(consumer, parameters)
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


def versions(_parameters):
    import kafka

    emit("versions", version=kafka.__version__)


def read_all(parameters):
    """Reads the partitions from offset 0 without a group until `expected` records (or the deadline)."""
    consumer = KafkaConsumer(
        bootstrap_servers=parameters["bootstrap"],
        client_id=parameters.get("clientId", "gregor-e2e-kafka-python-reader"),
        enable_auto_commit=False,
        isolation_level=parameters.get("isolation", "read_uncommitted"),
    )
    partitions = [TopicPartition(parameters["topic"], p) for p in parameters["partitions"]]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    emit("end", received=poll_records(consumer, parameters))
    consumer.close()


def admin_tour(parameters):
    """The admin calls kafka-python has, on `topic` (3 partitions, records produced, group
    `group` committed and left) and a fresh `newTopic`. 3.x renamed the group calls and returns
    other shapes, so each step reports one event of the same form for both."""
    import kafka
    from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions

    newest = int(kafka.__version__.split(".")[0]) >= 3
    admin = KafkaAdminClient(bootstrap_servers=parameters["bootstrap"], client_id="gregor-e2e-kafka-python-admin")
    topic, new_topic, group = parameters["topic"], parameters["newTopic"], parameters["group"]

    cluster = admin.describe_cluster()
    emit(
        "cluster",
        clusterId=cluster["cluster_id"],
        controller=cluster["controller_id"],
        nodes=[
            {"id": b["broker_id" if newest else "node_id"], "host": b["host"], "port": b["port"]}
            for b in cluster["brokers"]
        ],
    )

    admin.create_topics([NewTopic(new_topic, 2, 1)], timeout_ms=15000)
    admin.create_partitions({new_topic: NewPartitions(4)}, timeout_ms=15000)
    emit("listed", present=sorted(name for name in admin.list_topics() if name in (topic, new_topic)))
    names = ("name", "partition_index", "leader_id", "replica_nodes", "isr_nodes") if newest else (
        "topic", "partition", "leader", "replicas", "isr")
    for description in sorted(admin.describe_topics([topic, new_topic]), key=lambda d: d[names[0]] != topic):
        emit(
            "topic",
            name=description[names[0]],
            error=description["error_code"],
            partitions=sorted(
                (
                    {"id": p[names[1]], "leader": p[names[2]], "replicas": p[names[3]], "isr": p[names[4]]}
                    for p in description["partitions"]
                ),
                key=lambda partition: partition["id"],
            ),
        )

    resource = ConfigResource(ConfigResourceType.TOPIC, new_topic, configs=None)

    def retention_ms():
        if newest:
            return admin.describe_configs([resource], config_filter="all")["topic"][new_topic]["retention.ms"]["value"]
        for _error, _message, _type, _name, entries in admin.describe_configs([resource])[0].resources:
            for entry in entries:
                if entry[0] == "retention.ms":
                    return entry[1]
        return None

    emit("configs", step="before", retentionMs=retention_ms())
    admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, new_topic, configs={"retention.ms": "3600000"})])
    emit("configs", step="after", retentionMs=retention_ms())

    deleted = admin.delete_records({TopicPartition(topic, 0): parameters["deleteBefore"]})
    emit("deleted-records", lowWatermarks=[value["low_watermark"] for value in deleted.values()])

    if newest:
        listed = [g for g in admin.list_groups() if g["group_id"] == group]
        emit("groups", groups=[{"id": g["group_id"], "state": g["group_state"], "type": g["group_type"]} for g in listed])
        emit("group", state=admin.describe_groups([group])[group]["group_state"])
        offsets = admin.list_group_offsets({group: None})[group]
    else:
        listed = [g for g in admin.list_consumer_groups() if g[0] == group]
        emit("groups", groups=[{"id": g[0], "protocolType": g[1]} for g in listed])
        emit("group", state=admin.describe_consumer_groups([group])[0].state)
        offsets = admin.list_consumer_group_offsets(group)
    emit("group-offsets", offsets={str(tp.partition): meta.offset for tp, meta in offsets.items() if tp.topic == topic})
    if newest:
        admin.delete_groups([group])
        remaining = [g for g in admin.list_groups() if g["group_id"] == group]
    else:
        admin.delete_consumer_groups([group])
        remaining = [g for g in admin.list_consumer_groups() if g[0] == group]
    emit("group-deleted", listed=len(remaining) > 0)

    admin.delete_topics([new_topic], timeout_ms=15000)
    deadline = deadline_after(20)
    while new_topic in admin.list_topics() and time.monotonic() < deadline:
        time.sleep(0.2)
    emit("topic-deleted", listed=new_topic in admin.list_topics())
    admin.close()


def process(parameters):
    """Consume-transform-produce in transactions: every input record becomes one output record,
    its offsets committed in the same transaction (send_offsets_to_transaction with the group id,
    which 2.x and 3.x both take). Reports "idle" with the group's committed offsets when caught up."""
    from kafka.structs import OffsetAndMetadata

    group = parameters["group"]
    producer = KafkaProducer(
        bootstrap_servers=parameters["bootstrap"],
        client_id="gregor-e2e-kafka-python-processor",
        transactional_id=parameters["transactionalId"],
        transaction_timeout_ms=parameters.get("transactionTimeoutMs", 10000),
        linger_ms=5,
    )
    producer.init_transactions()
    emit("initialised")
    consumer = KafkaConsumer(
        bootstrap_servers=parameters["bootstrap"],
        client_id="gregor-e2e-kafka-python-processor",
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    assignment = [TopicPartition(parameters["input"], p) for p in parameters["partitions"]]
    consumer.assign(assignment)
    total = 0
    idle_since = None
    while not stop_requested.is_set():
        batches = consumer.poll(timeout_ms=200, max_records=parameters.get("batchSize", 10))
        messages = [message for batch in batches.values() for message in batch]
        if not messages:
            if idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > 1.0:
                committed = {str(tp.partition): consumer.committed(tp) for tp in assignment}
                emit("idle", total=total, committed=committed)
                idle_since = time.monotonic()
            continue
        idle_since = None
        producer.begin_transaction()
        for message in messages:
            producer.send(
                parameters["output"],
                key=message.key,
                value=text(message.value).replace("in-", "out-").encode(),
            )
        offsets = {}
        for message in messages:
            offsets[TopicPartition(message.topic, message.partition)] = message.offset + 1
        producer.send_offsets_to_transaction(
            {tp: OffsetAndMetadata(offset, "", -1) for tp, offset in offsets.items()}, group
        )
        producer.commit_transaction()
        total += len(messages)
        emit("committed", count=len(messages), total=total)


run(
    {
        "versions": versions,
        "read-all": read_all,
        "admin-tour": admin_tour,
        "process": process,
        "create-topic": create_topic,
        "produce": produce,
        "consume-group": consume_group,
        "committed": committed,
    }
)
