"""confluent-kafka (librdkafka) client for the e2e tests. Commands: create-topic, produce,
produce-through-faults, member, committed, offsets-for-times, read-all, admin-tour, versions.
Runs under Debian's python3-confluent-kafka (librdkafka 2.0.2) and under the newest from PyPI;
what only the newest has is imported where it is used. See common.py for the I/O conventions."""
import time

from common import deadline_after, emit, run, stop_requested
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def text(data):
    return None if data is None else data.decode("utf-8")


def emit_message(event, message):
    """Reports where a record is (partition, offset) and exactly what it holds."""
    emit(
        event,
        partition=message.partition(),
        offset=message.offset(),
        key=text(message.key()),
        value=text(message.value()),
        timestamp=message.timestamp()[1],
    )


def create_topic(parameters):
    admin = AdminClient(
        {
            "bootstrap.servers": parameters["bootstrap"],
            "client.id": parameters.get("clientId", "gregor-e2e-confluent-admin"),
        }
    )
    topic = NewTopic(
        parameters["topic"],
        num_partitions=parameters["partitions"],
        replication_factor=parameters.get("replicationFactor", 1),
    )
    futures = admin.create_topics([topic], operation_timeout=10, request_timeout=15)
    futures[parameters["topic"]].result(timeout=20)
    emit("created", topic=parameters["topic"])
    metadata = admin.list_topics(topic=parameters["topic"], timeout=10)
    described = metadata.topics[parameters["topic"]]
    emit(
        "metadata",
        topic=parameters["topic"],
        error=None if described.error is None else str(described.error),
        partitions=sorted(described.partitions.keys()),
        leaders=sorted({p.leader for p in described.partitions.values()}),
        brokers=[{"id": b.id, "host": b.host, "port": b.port} for b in metadata.brokers.values()],
    )


def produce(parameters):
    """Produces `count` records (or until "stop" when continuous) and reports each acknowledgement."""
    producer = Producer(
        {
            "bootstrap.servers": parameters["bootstrap"],
            "acks": str(parameters.get("acks", "all")),
            "linger.ms": parameters.get("lingerMs", 5),
            "message.timeout.ms": parameters.get("messageTimeoutMs", 30000),
            "enable.idempotence": parameters.get("idempotence", False),
            "client.id": parameters.get("clientId", "gregor-e2e-confluent-producer"),
            "compression.type": parameters.get("compression", "none"),
        }
    )
    counts = {"acked": 0, "failed": 0}

    def on_delivery(error, message):
        if error is not None:
            counts["failed"] += 1
            emit("failed", key=text(message.key()), error=str(error))
            return
        counts["acked"] += 1
        emit_message("ack", message)

    continuous = parameters.get("continuous", False)
    count = parameters.get("count", 0)
    prefix = parameters.get("prefix", "record")
    in_flight_max = parameters.get("inFlightMax", 1000)
    pause_s = parameters.get("pauseMs", 0) / 1000.0
    index = 0
    while (continuous and not stop_requested.is_set()) or (not continuous and index < count):
        key = "%s-key-%d" % (prefix, index % parameters.get("keySpace", 1000000))
        value = "%s-value-%d" % (prefix, index)
        kwargs = {"key": key.encode(), "value": value.encode(), "on_delivery": on_delivery}
        if "partition" in parameters:
            kwargs["partition"] = parameters["partition"]
        try:
            producer.produce(parameters["topic"], **kwargs)
            index += 1
        except BufferError:
            producer.poll(0.1)
            continue
        producer.poll(0)
        while len(producer) >= in_flight_max and not stop_requested.is_set():
            producer.poll(0.05)
        if pause_s:
            time.sleep(pause_s)
        if index == 1 or index % 500 == 0:
            emit("progress", produced=index)
    remaining = producer.flush(parameters.get("flushTimeoutS", 30))
    emit("done", produced=index, acked=counts["acked"], failed=counts["failed"], unflushed=remaining)


def produce_through_faults(parameters):
    """The fault run's librdkafka producer: idempotent, acks=all, values `<prefix>-<n>` to one
    partition until "stop", about `ratePerSecond` sends a second with at most `inFlightMax`
    undelivered. Every delivery report is one event ("ack" with its offset, or "failed") carrying
    `at`, the machine's monotonic clock (acks also `sentAt`, when the record was handed over), so
    the run can time a fault to the ack of the first record sent after it. A fatal
    error (librdkafka can no longer keep idempotence) ends that producer: its undelivered records
    are purged (reported failed: their outcome is unknown) and a new producer, with a new producer
    id, carries on."""
    from confluent_kafka import KafkaException

    config = {
        "bootstrap.servers": parameters["bootstrap"],
        "client.id": parameters.get("clientId", "gregor-e2e-fault-run"),
        "acks": "all",
        "enable.idempotence": True,
        "linger.ms": 5,
        "message.timeout.ms": parameters.get("messageTimeoutMs", 60000),
        "request.timeout.ms": parameters.get("requestTimeoutMs", 10000),
        "retry.backoff.ms": 100,
        "reconnect.backoff.ms": 100,
        "reconnect.backoff.max.ms": 1000,
        "topic.metadata.refresh.interval.ms": 2000,
    }
    fatal = {"error": None}

    def on_error(error):
        emit("client-error", error=str(error), fatal=error.fatal(), at=time.monotonic())
        if error.fatal():
            fatal["error"] = error

    # Value -> when it was handed to librdkafka, for the time from a fault to the ack of the
    # first record sent after it.
    undelivered = {}

    def on_delivery(error, message):
        value = text(message.value())
        sent_at = undelivered.pop(value, None)
        if error is not None:
            emit("failed", value=value, error=str(error), at=time.monotonic())
        else:
            # The offset is None when librdkafka knows the record is written but not where (a
            # retry the broker answered DUPLICATE_SEQUENCE_NUMBER).
            emit(
                "ack",
                partition=message.partition(),
                offset=message.offset(),
                value=value,
                at=time.monotonic(),
                sentAt=sent_at,
            )

    def new_producer():
        return Producer(dict(config, error_cb=on_error))

    producer = new_producer()
    topic = parameters["topic"]
    partition = parameters.get("partition", 0)
    prefix = parameters["prefix"]
    in_flight_max = parameters.get("inFlightMax", 50)
    interval_s = 1.0 / parameters.get("ratePerSecond", 200)
    index = 0
    next_send = time.monotonic()
    while not stop_requested.is_set():
        if fatal["error"] is not None:
            fatal["error"] = None
            try:
                producer.purge()
                producer.flush(5)
            except KafkaException as error:
                emit("purge-error", error=str(error))
            # Records the purge did not report are reported here: their outcome is unknown too.
            for value in list(undelivered):
                emit("failed", value=value, error="producer replaced", at=time.monotonic())
            undelivered.clear()
            producer = new_producer()
            emit("new-producer", at=time.monotonic())
        now = time.monotonic()
        if now < next_send or len(producer) >= in_flight_max:
            producer.poll(min(0.05, max(0.0, next_send - now)))
            continue
        next_send = max(next_send + interval_s, now - 1.0)
        value = "%s-%d" % (prefix, index)
        try:
            producer.produce(
                topic, value=value.encode(), partition=partition, on_delivery=on_delivery
            )
            undelivered[value] = time.monotonic()
            index += 1
        except (BufferError, KafkaException) as error:
            emit("produce-error", value=value, error=str(error))
            producer.poll(0.1)
        producer.poll(0)
    remaining = producer.flush(parameters.get("flushTimeoutS", 30))
    for value in list(undelivered):
        emit("failed", value=value, error="not delivered before the end", at=time.monotonic())
    emit("done", produced=index, unflushed=remaining)


def new_consumer(parameters, extra=None):
    config = {
        "bootstrap.servers": parameters["bootstrap"],
        "group.id": parameters.get("group", "gregor-e2e-unused-group"),
        "client.id": parameters.get("clientId", "gregor-e2e-confluent-consumer"),
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "topic.metadata.refresh.interval.ms": 2000,
    }
    if parameters.get("groupProtocol", "classic") == "consumer":
        # KIP-848: the broker assigns and sets the timeouts; librdkafka refuses the classic knobs.
        config["group.protocol"] = "consumer"
    else:
        config["session.timeout.ms"] = parameters.get("sessionTimeoutMs", 10000)
        config["heartbeat.interval.ms"] = parameters.get("heartbeatIntervalMs", 1000)
        config["partition.assignment.strategy"] = parameters.get("assignmentStrategy", "range")
    config.update(extra or {})
    return Consumer(config)


def member(parameters):
    """One consumer group member: reports assignments, records and synchronous commits.

    Assignment events carry `at`, the machine's monotonic clock (shared by all processes), so a
    test can check that no two members owned a partition at once. With eager classic assignors
    each "assigned" is the whole assignment; with cooperative ones and KIP-848 it is the increment.
    """
    consumer = new_consumer(parameters)

    def on_assign(_consumer, partitions):
        emit("assigned", partitions=sorted(p.partition for p in partitions), at=time.monotonic())

    def on_revoke(_consumer, partitions):
        emit("revoked", partitions=sorted(p.partition for p in partitions), at=time.monotonic())

    def on_lost(_consumer, partitions):
        emit("lost", partitions=sorted(p.partition for p in partitions), at=time.monotonic())

    consumer.subscribe(
        [parameters["topic"]], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost
    )
    commit = parameters.get("commit", True)
    while not stop_requested.is_set():
        messages = consumer.consume(num_messages=parameters.get("batch", 200), timeout=0.2)
        next_offsets = {}
        for message in messages:
            if message.error() is not None:
                if message.error().code() != KafkaError._PARTITION_EOF:
                    emit("consume-error", error=str(message.error()))
                continue
            emit_message("record", message)
            next_offsets[message.partition()] = message.offset() + 1
        if commit and next_offsets:
            offsets = [TopicPartition(parameters["topic"], p, o) for p, o in sorted(next_offsets.items())]
            try:
                result = consumer.commit(offsets=offsets, asynchronous=False)
                emit(
                    "committed",
                    offsets=[
                        {"partition": tp.partition, "offset": tp.offset}
                        for tp in result
                        if tp.error is None
                    ],
                    errors=[str(tp.error) for tp in result if tp.error is not None],
                )
            except Exception as error:
                emit("commit-error", error=str(error))
    consumer.close()
    emit("closed", at=time.monotonic())


def offsets_payload(partitions):
    return [
        {
            "partition": tp.partition,
            "offset": tp.offset,
            "error": None if tp.error is None else str(tp.error),
        }
        for tp in partitions
    ]


def committed(parameters):
    consumer = new_consumer(parameters)
    partitions = [TopicPartition(parameters["topic"], p) for p in parameters["partitions"]]
    emit("committed-offsets", offsets=offsets_payload(consumer.committed(partitions, timeout=15)))
    consumer.close()


def offsets_for_times(parameters):
    consumer = new_consumer(parameters)
    queries = [
        TopicPartition(parameters["topic"], q["partition"], q["timestamp"])
        for q in parameters["queries"]
    ]
    emit("offsets", offsets=offsets_payload(consumer.offsets_for_times(queries, timeout=15)))
    consumer.close()


def read_all(parameters):
    """Reads every partition from the beginning to its high watermark, without a group."""
    consumer = new_consumer(parameters)
    topic = parameters["topic"]
    ends = {}
    assignments = []
    for partition in parameters["partitions"]:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=15)
        ends[partition] = high
        emit("watermarks", partition=partition, low=low, high=high)
        if high > low:
            assignments.append(TopicPartition(topic, partition, low))
    consumer.assign(assignments)
    positions = {tp.partition: tp.offset for tp in assignments}
    deadline = deadline_after(parameters.get("timeoutS", 60))
    while any(positions[p] < ends[p] for p in positions) and time.monotonic() < deadline:
        for message in consumer.consume(num_messages=500, timeout=0.5):
            if message.error() is not None:
                continue
            emit_message("record", message)
            positions[message.partition()] = message.offset() + 1
    emit("end", positions={str(p): o for p, o in positions.items()})
    consumer.close()


def admin_tour(parameters):
    """The AdminClient calls of confluent-kafka 2.x, in an order whose results the test knows:
    on `topic` (3 partitions, records produced, group `group` committed and left) and a fresh
    `newTopic`. Each step reports one event."""
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicCollection
    from confluent_kafka.admin import (
        AlterConfigOpType,
        ConfigEntry,
        ConfigResource,
        NewPartitions,
        OffsetSpec,
        ResourceType,
    )

    admin = AdminClient({"bootstrap.servers": parameters["bootstrap"], "client.id": "gregor-e2e-admin"})
    topic, new_topic, group = parameters["topic"], parameters["newTopic"], parameters["group"]
    timeout = 20

    cluster = admin.describe_cluster(request_timeout=timeout).result(timeout)
    emit(
        "cluster",
        clusterId=cluster.cluster_id,
        controller=cluster.controller.id,
        nodes=[{"id": n.id, "host": n.host, "port": n.port} for n in cluster.nodes],
    )

    admin.create_topics([NewTopic(new_topic, num_partitions=2, replication_factor=1)])[new_topic].result(timeout)
    admin.create_partitions([NewPartitions(new_topic, 4)])[new_topic].result(timeout)
    descriptions = admin.describe_topics(TopicCollection([topic, new_topic]), request_timeout=timeout)
    for name in (topic, new_topic):
        description = descriptions[name].result(timeout)
        emit(
            "topic",
            name=description.name,
            topicId=str(description.topic_id),
            internal=description.is_internal,
            partitions=[
                {"id": p.id, "leader": p.leader.id, "replicas": [r.id for r in p.replicas], "isr": [r.id for r in p.isr]}
                for p in description.partitions
            ],
        )

    resource = ConfigResource(ResourceType.TOPIC, new_topic)
    before = admin.describe_configs([resource])[resource].result(timeout)
    emit("configs", step="before", retentionMs=before["retention.ms"].value, cleanupPolicy=before["cleanup.policy"].value)
    change = ConfigResource(
        ResourceType.TOPIC,
        new_topic,
        incremental_configs=[
            ConfigEntry("retention.ms", "3600000", incremental_operation=AlterConfigOpType.SET)
        ],
    )
    admin.incremental_alter_configs([change])[change].result(timeout)
    after = admin.describe_configs([resource])[resource].result(timeout)
    emit("configs", step="after", retentionMs=after["retention.ms"].value, source=str(after["retention.ms"].source))

    partitions = parameters["partitions"]

    def list_offsets(spec):
        requests = {TopicPartition(topic, p): spec for p in partitions}
        answers = admin.list_offsets(requests, request_timeout=timeout)
        return {str(tp.partition): future.result(timeout).offset for tp, future in answers.items()}

    emit("offsets", spec="earliest", offsets=list_offsets(OffsetSpec.earliest()))
    emit("offsets", spec="latest", offsets=list_offsets(OffsetSpec.latest()))
    deleted = admin.delete_records([TopicPartition(topic, 0, parameters["deleteBefore"])], request_timeout=timeout)
    emit("deleted-records", lowWatermarks=[future.result(timeout).low_watermark for future in deleted.values()])
    emit("offsets", spec="earliest-after-delete", offsets=list_offsets(OffsetSpec.earliest()))

    groups = admin.list_consumer_groups(request_timeout=timeout).result(timeout)
    emit(
        "groups",
        groups=[
            {"id": g.group_id, "state": str(g.state), "type": str(g.type)}
            for g in groups.valid
            if g.group_id == group
        ],
        errors=[str(e) for e in groups.errors],
    )
    described = admin.describe_consumer_groups([group], request_timeout=timeout)[group].result(timeout)
    emit(
        "group",
        id=described.group_id,
        state=str(described.state),
        type=str(described.type),
        members=len(described.members),
        coordinator=described.coordinator.id,
    )

    def group_offsets():
        request = [ConsumerGroupTopicPartitions(group)]
        result = admin.list_consumer_group_offsets(request, request_timeout=timeout)[group].result(timeout)
        return {str(tp.partition): tp.offset for tp in result.topic_partitions if tp.topic == topic}

    emit("group-offsets", step="before", offsets=group_offsets())
    rewind = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p, 1) for p in partitions])
    admin.alter_consumer_group_offsets([rewind], request_timeout=timeout)[group].result(timeout)
    emit("group-offsets", step="after", offsets=group_offsets())
    admin.delete_consumer_groups([group], request_timeout=timeout)[group].result(timeout)
    remaining = admin.list_consumer_groups(request_timeout=timeout).result(timeout)
    emit("group-deleted", listed=any(g.group_id == group for g in remaining.valid))

    admin.delete_topics([new_topic], operation_timeout=timeout)[new_topic].result(timeout)
    deadline = deadline_after(timeout)
    while new_topic in admin.list_topics(timeout=timeout).topics and time.monotonic() < deadline:
        time.sleep(0.2)
    emit("topic-deleted", listed=new_topic in admin.list_topics(timeout=timeout).topics)


def versions(_parameters):
    import confluent_kafka

    emit("versions", version=confluent_kafka.__version__, librdkafka=confluent_kafka.libversion()[0])


run(
    {
        "versions": versions,
        "create-topic": create_topic,
        "produce": produce,
        "produce-through-faults": produce_through_faults,
        "member": member,
        "committed": committed,
        "offsets-for-times": offsets_for_times,
        "read-all": read_all,
        "admin-tour": admin_tour,
    }
)
