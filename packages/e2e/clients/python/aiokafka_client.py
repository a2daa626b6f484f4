"""aiokafka (asyncio) client for the e2e tests, from the newest clients' virtualenv. Commands:
versions, create-topic, produce, read-all, consume-group, committed, admin-tour, process. Each
runs one coroutine; see common.py for the I/O conventions (JSON lines out, "stop" in)."""
import asyncio
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from common import deadline_after, emit, run, stop_requested


def text(data):
    return None if data is None else data.decode("utf-8")


def emit_record(message):
    emit(
        "record",
        partition=message.partition,
        offset=message.offset,
        key=text(message.key),
        value=text(message.value),
    )


async def poll_records(consumer, parameters):
    """Reports records until `expected` arrived, the `timeoutS` deadline or "stop"; returns the count."""
    received = 0
    deadline = deadline_after(parameters.get("timeoutS", 60))
    while received < parameters["expected"] and time.monotonic() < deadline and not stop_requested.is_set():
        for messages in (await consumer.getmany(timeout_ms=500)).values():
            for message in messages:
                received += 1
                emit_record(message)
    return received


async def started_admin(parameters):
    admin = AIOKafkaAdminClient(bootstrap_servers=parameters["bootstrap"], client_id="gregor-e2e-aiokafka-admin")
    await admin.start()
    return admin


def versions(_parameters):
    import aiokafka

    emit("versions", version=aiokafka.__version__)


async def create_topic_async(parameters):
    admin = await started_admin(parameters)
    try:
        await admin.create_topics([NewTopic(parameters["topic"], parameters["partitions"], 1)])
        emit("created", topic=parameters["topic"])
    finally:
        await admin.close()


async def produce_async(parameters):
    producer = AIOKafkaProducer(
        bootstrap_servers=parameters["bootstrap"],
        client_id="gregor-e2e-aiokafka-producer",
        acks=parameters.get("acks", "all"),
        linger_ms=5,
        compression_type=parameters.get("compression"),
    )
    await producer.start()
    try:
        prefix = parameters.get("prefix", "record")
        sends = []
        for index in range(parameters["count"]):
            key = ("%s-key-%d" % (prefix, index)).encode()
            value = ("%s-value-%d" % (prefix, index)).encode()
            sends.append((key, value, await producer.send(parameters["topic"], key=key, value=value)))
        for key, value, future in sends:
            metadata = await future
            emit("ack", partition=metadata.partition, offset=metadata.offset, key=text(key), value=text(value))
        emit("done", produced=len(sends))
    finally:
        await producer.stop()


async def read_all_async(parameters):
    """Reads the partitions from offset 0 without a group until `expected` records (or the deadline)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=parameters["bootstrap"],
        client_id="gregor-e2e-aiokafka-reader",
        enable_auto_commit=False,
        isolation_level=parameters.get("isolation", "read_uncommitted"),
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(parameters["topic"], p) for p in parameters["partitions"]]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        received = await poll_records(consumer, parameters)
        emit("end", received=received)
    finally:
        await consumer.stop()


async def consume_group_async(parameters):
    """Consumes in a group until `expected` records arrived (or the deadline), commits, leaves."""
    consumer = AIOKafkaConsumer(
        parameters["topic"],
        bootstrap_servers=parameters["bootstrap"],
        client_id="gregor-e2e-aiokafka-consumer",
        group_id=parameters["group"],
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=10000,
        heartbeat_interval_ms=1000,
    )
    await consumer.start()
    try:
        received = await poll_records(consumer, parameters)
        await consumer.commit()
        assignment = sorted(consumer.assignment(), key=lambda tp: tp.partition)
        emit(
            "committed",
            offsets=[{"partition": tp.partition, "offset": await consumer.committed(tp)} for tp in assignment],
        )
    finally:
        await consumer.stop()
    emit("closed", received=received)


async def committed_async(parameters):
    """The group's committed offsets (OffsetFetch) without joining it."""
    admin = await started_admin(parameters)
    try:
        partitions = [TopicPartition(parameters["topic"], p) for p in parameters["partitions"]]
        offsets = await admin.list_consumer_group_offsets(parameters["group"], partitions=partitions)
        emit(
            "committed-offsets",
            offsets=[
                {"partition": tp.partition, "offset": offsets[tp].offset if tp in offsets else -1}
                for tp in partitions
            ],
        )
    finally:
        await admin.close()


async def admin_tour_async(parameters):
    """The admin calls aiokafka has, on `topic` (3 partitions, records produced, group `group`
    committed and left) and a fresh `newTopic`; each step reports one event."""
    from aiokafka.admin import NewPartitions, RecordsToDelete
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    admin = await started_admin(parameters)
    topic, new_topic, group = parameters["topic"], parameters["newTopic"], parameters["group"]
    try:
        cluster = await admin.describe_cluster()
        emit(
            "cluster",
            clusterId=cluster["cluster_id"],
            controller=cluster["controller_id"],
            nodes=[{"id": b["node_id"], "host": b["host"], "port": b["port"]} for b in cluster["brokers"]],
        )
        await admin.create_topics([NewTopic(new_topic, 2, 1)])
        await admin.create_partitions({new_topic: NewPartitions(4)})
        emit("listed", present=sorted(name for name in await admin.list_topics() if name in (topic, new_topic)))
        for description in sorted(await admin.describe_topics([topic, new_topic]), key=lambda d: d["topic"] != topic):
            emit(
                "topic",
                name=description["topic"],
                error=description["error_code"],
                partitions=sorted(
                    (
                        {"id": p["partition"], "leader": p["leader"], "replicas": p["replicas"], "isr": p["isr"]}
                        for p in description["partitions"]
                    ),
                    key=lambda partition: partition["id"],
                ),
            )

        async def retention_ms():
            resource = ConfigResource(ConfigResourceType.TOPIC, new_topic, configs=None)
            for response in await admin.describe_configs([resource]):
                for _error, _message, _type, _name, entries in response.resources:
                    for entry in entries:
                        if entry[0] == "retention.ms":
                            return entry[1]
            return None

        emit("configs", step="before", retentionMs=await retention_ms())
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, new_topic, configs={"retention.ms": "3600000"})]
        )
        emit("configs", step="after", retentionMs=await retention_ms())

        deleted = await admin.delete_records({TopicPartition(topic, 0): RecordsToDelete(parameters["deleteBefore"])})
        emit("deleted-records", lowWatermarks=list(deleted.values()))

        listed = [g for g in await admin.list_consumer_groups() if g[0] == group]
        emit("groups", groups=[{"id": g[0], "protocolType": g[1]} for g in listed])
        described = await admin.describe_consumer_groups([group])
        emit("group", state=described[0].groups[0][2])
        offsets = await admin.list_consumer_group_offsets(group)
        emit("group-offsets", offsets={str(tp.partition): meta.offset for tp, meta in offsets.items() if tp.topic == topic})

        await admin.delete_topics([new_topic])
        deadline = deadline_after(20)
        while new_topic in await admin.list_topics() and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        emit("topic-deleted", listed=new_topic in await admin.list_topics())
    finally:
        await admin.close()


async def process_async(parameters):
    """Consume-transform-produce in transactions (aiokafka's transactional producer): every input
    record becomes one output record, its offsets sent in the same transaction. Reports "idle"
    with the group's committed offsets when caught up."""
    group = parameters["group"]
    producer = AIOKafkaProducer(
        bootstrap_servers=parameters["bootstrap"],
        client_id="gregor-e2e-aiokafka-processor",
        transactional_id=parameters["transactionalId"],
        transaction_timeout_ms=parameters.get("transactionTimeoutMs", 10000),
        linger_ms=5,
    )
    await producer.start()  # initialises the transactional producer (InitProducerId)
    emit("initialised")
    consumer = AIOKafkaConsumer(
        bootstrap_servers=parameters["bootstrap"],
        client_id="gregor-e2e-aiokafka-processor",
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    assignment = [TopicPartition(parameters["input"], p) for p in parameters["partitions"]]
    consumer.assign(assignment)
    total = 0
    idle_since = None
    try:
        while not stop_requested.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=parameters.get("batchSize", 10))
            messages = [message for batch in batches.values() for message in batch]
            if not messages:
                if idle_since is None:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since > 1.0:
                    committed = {str(tp.partition): await consumer.committed(tp) for tp in assignment}
                    emit("idle", total=total, committed=committed)
                    idle_since = time.monotonic()
                continue
            idle_since = None
            offsets = {}
            async with producer.transaction():
                for message in messages:
                    await producer.send(
                        parameters["output"],
                        key=message.key,
                        value=text(message.value).replace("in-", "out-").encode(),
                    )
                    offsets[TopicPartition(message.topic, message.partition)] = message.offset + 1
                await producer.send_offsets_to_transaction(offsets, group)
            total += len(messages)
            emit("committed", count=len(messages), total=total)
    finally:
        await consumer.stop()
        await producer.stop()


def coroutine_command(coroutine_function):
    return lambda parameters: asyncio.run(coroutine_function(parameters))


run(
    {
        "versions": versions,
        "create-topic": coroutine_command(create_topic_async),
        "produce": coroutine_command(produce_async),
        "read-all": coroutine_command(read_all_async),
        "consume-group": coroutine_command(consume_group_async),
        "committed": coroutine_command(committed_async),
        "admin-tour": coroutine_command(admin_tour_async),
        "process": coroutine_command(process_async),
    }
)
