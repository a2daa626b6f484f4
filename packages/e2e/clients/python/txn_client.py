"""confluent-kafka (librdkafka) transactional and idempotent clients for the transaction e2e tests.

Commands: commit-abort, read, open-transaction, fence, process, idempotent-produce.
See common.py for the I/O conventions (JSON lines out, "stop" in).
"""
import random
import time

from common import deadline_after, emit, run, stop_requested
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition


def text(data):
    return None if data is None else data.decode("utf-8")


def transactional_producer(parameters, transactional_id, **extra):
    config = {
        "bootstrap.servers": parameters["bootstrap"],
        "transactional.id": transactional_id,
        "client.id": parameters.get("clientId", "gregor-e2e-txn"),
        "linger.ms": parameters.get("lingerMs", 5),
    }
    if parameters.get("debug"):
        config["debug"] = parameters["debug"]
    config.update(extra)
    return Producer(config)


def delivery_errors():
    errors = []

    def on_delivery(error, message):
        if error is not None:
            errors.append(str(error))

    return errors, on_delivery


def commit_abort(parameters):
    """One committed, one aborted, one committed transaction on the topic."""
    producer = transactional_producer(parameters, parameters["transactionalId"])
    producer.init_transactions(30)
    for prefix, commit in (("c", True), ("a", False), ("d", True)):
        producer.begin_transaction()
        for index in range(parameters.get("count", 5)):
            producer.produce(
                parameters["topic"], key=b"k%d" % index, value=("%s-%d" % (prefix, index)).encode()
            )
        producer.flush(30)
        if commit:
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)
        emit("transaction", prefix=prefix, committed=commit)
    emit("done")


def read(parameters):
    """Reads every partition from the start until `expect` records or `idleMs` without any."""
    consumer = Consumer(
        {
            "bootstrap.servers": parameters["bootstrap"],
            "group.id": parameters.get("group", "gregor-e2e-txn-reader"),
            "isolation.level": parameters["isolation"],
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": False,
        }
    )
    partitions = [TopicPartition(parameters["topic"], p, 0) for p in parameters["partitions"]]
    consumer.assign(partitions)
    records = []
    expect = parameters.get("expect")
    idle_seconds = parameters.get("idleMs", 3000) / 1000.0
    last_progress = time.monotonic()
    deadline = deadline_after(parameters.get("timeoutMs", 60000) / 1000.0)
    while time.monotonic() < deadline and not stop_requested.is_set():
        if expect is not None and len(records) >= expect:
            break
        if expect is None and time.monotonic() - last_progress > idle_seconds:
            break
        message = consumer.poll(0.2)
        if message is None:
            continue
        if message.error():
            emit("consume-error", error=str(message.error()))
            continue
        last_progress = time.monotonic()
        records.append(
            {
                "partition": message.partition(),
                "offset": message.offset(),
                "key": text(message.key()),
                "value": text(message.value()),
            }
        )
    positions = consumer.position(partitions)
    emit(
        "records",
        records=records,
        positions={str(p.partition): p.offset for p in positions},
    )
    consumer.close()


def open_transaction(parameters):
    """Begins a transaction, writes records, then waits (the test kills this process)."""
    producer = transactional_producer(
        parameters,
        parameters["transactionalId"],
        **{"transaction.timeout.ms": parameters["transactionTimeoutMs"]},
    )
    producer.init_transactions(30)
    producer.begin_transaction()
    for index in range(parameters.get("count", 10)):
        producer.produce(parameters["topic"], value=("%s-%d" % (parameters["prefix"], index)).encode())
    producer.flush(30)
    emit("produced", count=parameters.get("count", 10))
    while not stop_requested.is_set():
        time.sleep(0.1)


def fence(parameters):
    """A second producer with the same transactional.id fences the first (a zombie)."""
    topic = parameters["topic"]
    zombie = transactional_producer(parameters, parameters["transactionalId"], **{"client.id": "zombie"})
    zombie.init_transactions(30)
    zombie.begin_transaction()
    zombie.produce(topic, value=b"zombie-0")
    zombie.flush(30)
    emit("zombie-produced")
    successor = transactional_producer(parameters, parameters["transactionalId"], **{"client.id": "successor"})
    successor.init_transactions(30)
    emit("successor-initialised")
    successor.begin_transaction()
    successor.produce(topic, value=b"successor-0")
    successor.commit_transaction(30)
    emit("successor-committed")
    outcome = {"committed": False}
    try:
        zombie.produce(topic, value=b"zombie-1")
        zombie.flush(10)
        zombie.commit_transaction(10)
        outcome["committed"] = True
    except KafkaException as exception:
        error = exception.args[0]
        outcome.update(
            error=error.name(),
            code=error.code(),
            fatal=error.fatal(),
            abortable=error.txn_requires_abort(),
        )
    emit("zombie-outcome", **outcome)
    emit("done")


def process(parameters):
    """Consume-transform-produce: every input record becomes one output record, exactly once."""
    group = parameters["group"]
    producer = transactional_producer(
        parameters,
        parameters["transactionalId"],
        **{"transaction.timeout.ms": parameters.get("transactionTimeoutMs", 10000)},
    )
    producer.init_transactions(60)
    emit("initialised")
    consumer = Consumer(
        {
            "bootstrap.servers": parameters["bootstrap"],
            "group.id": group,
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": False,
        }
    )
    assignment = [TopicPartition(parameters["input"], p) for p in parameters["partitions"]]
    consumer.assign(assignment)
    batch_size = parameters.get("batchSize", 50)
    total = 0
    idle_since = None
    while not stop_requested.is_set():
        messages = consumer.consume(batch_size, 0.2)
        messages = [m for m in messages if not m.error()]
        if not messages:
            if idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > 1.0:
                # Positions stay unset (-1001) on partitions with nothing left to read: report the
                # group's committed offsets instead.
                committed = consumer.committed(assignment, 30)
                emit("idle", total=total, committed={str(p.partition): p.offset for p in committed})
                idle_since = time.monotonic()
            continue
        idle_since = None
        try:
            producer.begin_transaction()
            for message in messages:
                producer.produce(
                    parameters["output"],
                    key=message.key(),
                    value=text(message.value()).replace("in-", "out-").encode(),
                )
            producer.send_offsets_to_transaction(
                consumer.position(assignment), consumer.consumer_group_metadata(), 30
            )
            producer.commit_transaction(30)
        except KafkaException as exception:
            error = exception.args[0]
            if error.txn_requires_abort():
                producer.abort_transaction(30)
                rewind(consumer, assignment)
                emit("aborted", error=error.name())
                continue
            raise
        total += len(messages)
        emit("committed", count=len(messages), total=total)


def rewind(consumer, assignment):
    committed = consumer.committed(assignment, 30)
    for partition in committed:
        offset = partition.offset if partition.offset >= 0 else 0
        consumer.seek(TopicPartition(partition.topic, partition.partition, offset))


def idempotent_produce(parameters):
    """Sends value n = 0..count-1 in order with enable.idempotence while the broker is killed."""
    producer = Producer(
        {
            "bootstrap.servers": parameters["bootstrap"],
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": parameters.get("lingerMs", 2),
            "message.timeout.ms": parameters.get("messageTimeoutMs", 120000),
            "retry.backoff.ms": 50,
            "reconnect.backoff.ms": 50,
            "reconnect.backoff.max.ms": 500,
        }
    )
    state = {"acked": 0, "failed": 0, "errors": []}

    def on_delivery(error, message):
        if error is None:
            state["acked"] += 1
        else:
            state["failed"] += 1
            if len(state["errors"]) < 5:
                state["errors"].append(str(error))

    count = parameters["count"]
    pause = parameters.get("pauseMs", 2) / 1000.0
    for index in range(count):
        while True:
            try:
                producer.produce(parameters["topic"], value=str(index).encode(), on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
        if index % 200 == 0:
            emit("progress", sent=index + 1, acked=state["acked"])
        if pause > 0:
            time.sleep(pause)
    remaining = producer.flush(parameters.get("flushTimeoutS", 120))
    emit("done", acked=state["acked"], failed=state["failed"], unflushed=remaining, errors=state["errors"])


def bench_produce(parameters):
    """Produces `valueBytes`-byte records for `durationMs`: plain (idempotent, acks=all) or in
    transactions committed every `commitIntervalMs`. Reports records/s over the whole run."""
    config = {
        "bootstrap.servers": parameters["bootstrap"],
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": parameters.get("lingerMs", 5),
        "batch.size": parameters.get("batchBytes", 262144),
        "queue.buffering.max.kbytes": 262144,
    }
    interval = parameters.get("commitIntervalMs")
    if interval is not None:
        config["transactional.id"] = parameters["transactionalId"]
    producer = Producer(config)
    if interval is not None:
        producer.init_transactions(30)
    value = b"x" * parameters.get("valueBytes", 100)
    topic = parameters["topic"]
    partitions = parameters.get("partitions", 1)
    started = time.monotonic()
    end = started + parameters["durationMs"] / 1000.0
    sent = 0
    transactions = 0
    commit_seconds = 0.0
    while time.monotonic() < end:
        if interval is not None:
            producer.begin_transaction()
            window_end = min(end, time.monotonic() + interval / 1000.0)
        else:
            window_end = end
        per_transaction = parameters.get("recordsPerTransaction")
        if per_transaction is not None:
            for _ in range(per_transaction):
                producer.produce(topic, value=value, partition=sent % partitions)
                sent += 1
            window_end = 0
        while time.monotonic() < window_end:
            for _ in range(1000):
                try:
                    producer.produce(topic, value=value, partition=sent % partitions)
                    sent += 1
                except BufferError:
                    producer.poll(0.001)
            producer.poll(0)
        if interval is not None:
            commit_started = time.monotonic()
            producer.commit_transaction(30)
            commit_seconds += time.monotonic() - commit_started
            transactions += 1
    producer.flush(60)
    elapsed = time.monotonic() - started
    emit(
        "bench",
        records=sent,
        seconds=elapsed,
        recordsPerSecond=sent / elapsed,
        megabytesPerSecond=sent * len(value) / elapsed / 1e6,
        transactions=transactions,
        commitMsAverage=(commit_seconds * 1000.0 / transactions) if transactions else 0,
    )


if __name__ == "__main__":
    run(
        {
            "commit-abort": commit_abort,
            "read": read,
            "open-transaction": open_transaction,
            "fence": fence,
            "process": process,
            "idempotent-produce": idempotent_produce,
            "bench-produce": bench_produce,
        }
    )
