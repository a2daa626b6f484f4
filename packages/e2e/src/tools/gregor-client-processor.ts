/**
 * A consume-transform-produce processor written with @gregor/client, run as its own process so a
 * test can SIGKILL it: a read_committed consumer and a transactional producer. Each poll becomes
 * one transaction holding the transformed records (same key, same partition number, value
 * `out-<value>`) and the consumed offsets (sendOffsetsToTransaction, KIP-447).
 * `membership: 'group'`: the consumer is a static member (KIP-345) of the classic group, so a
 * restarted instance takes the killed one's place at once, and the offsets carry its member id
 * and generation (a zombie's commit is fenced). `'assign'`: every input partition assigned, from
 * the committed offsets, group metadata with generation -1. Prints JSON lines; exits with `done`
 * once its positions reach the input's end.
 *
 *   node gregor-client-processor.js '{"bootstrap":..,"input":..,"output":..,"partitions":3,"group":..,"transactionalId":..}'
 */
import {
  Consumer,
  Producer,
  type RecordMetadata,
  standaloneGroupMetadata,
  TransactionAbortableError,
} from '@gregor/client';

interface Parameters {
  bootstrap: string;
  input: string;
  output: string;
  partitions: number;
  group: string;
  transactionalId: string;
  /** Bytes per partition and fetch: small fetches make many small transactions. */
  maxPartitionBytes?: number;
  /** Pause after each commit, so a run lasts long enough to be killed many times. */
  pauseMs?: number;
  membership?: 'group' | 'assign';
}

function emit(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ ...fields, event })}\n`);
}

async function main(): Promise<void> {
  const parameters = JSON.parse(process.argv[2] ?? '{}') as Parameters;
  const common = {
    bootstrapServers: [parameters.bootstrap],
    clientId: 'gregor-client-processor',
    requestTimeoutMs: 10_000,
  };
  const producer = new Producer({
    ...common,
    transactionalId: parameters.transactionalId,
    transactionTimeoutMs: 10_000,
    lingerMs: 0,
  });
  const consumer = new Consumer({
    ...common,
    groupId: parameters.group,
    isolationLevel: 'read_committed',
    autoOffsetReset: 'earliest',
    maxWaitMs: 100,
    maxPartitionBytes: parameters.maxPartitionBytes ?? 2048,
    enableAutoCommit: false,
    groupProtocol: 'classic',
    groupInstanceId: `${parameters.transactionalId}-member`,
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 500,
  });
  const inGroup = parameters.membership === 'group';
  const partitions = Array.from({ length: parameters.partitions }, (_, partition) => ({
    topic: parameters.input,
    partition,
  }));
  // Fences the previous instance and aborts its open transaction, so the committed offsets
  // read next are final.
  await producer.initTransactions();
  const { producerId, producerEpoch } = producer.producerIdAndEpoch;
  emit('initialised', { producerId: String(producerId), producerEpoch });
  const ends = await consumer.offsetsFor(partitions, 'latest');
  if (inGroup) consumer.subscribe([parameters.input]);
  else consumer.assign(partitions.map((entry) => ({ ...entry, offset: 'committed' as const })));
  const pauseMs = parameters.pauseMs ?? 0;
  for (;;) {
    const records = await consumer.poll();
    if (records.length === 0) {
      const done = ends.every((end) => (consumer.position(end) ?? -1n) >= end.offset);
      if (done) break;
      continue;
    }
    const groupMetadata = inGroup
      ? consumer.groupMetadata()
      : standaloneGroupMetadata(parameters.group);
    producer.beginTransaction();
    try {
      const sends: Promise<RecordMetadata>[] = records.map((record) =>
        producer.send({
          topic: parameters.output,
          partition: record.partition,
          key: record.key,
          value: `out-${record.value?.toString() ?? ''}`,
        }),
      );
      const next = new Map<number, bigint>();
      for (const record of records) next.set(record.partition, record.offset + 1n);
      await producer.sendOffsetsToTransaction(
        [...next].map(([partition, offset]) => ({ topic: parameters.input, partition, offset })),
        groupMetadata,
      );
      await Promise.all(sends);
      await producer.commitTransaction();
      const { generationId, memberId } = groupMetadata;
      emit('committed', { count: records.length, generationId, memberId });
    } catch (error) {
      // A failed transaction is aborted and its input read again from the committed offsets.
      if (
        !(error instanceof TransactionAbortableError) &&
        producer.transactionState !== 'abortable-error'
      )
        throw error;
      emit('aborted', { message: (error as Error).message });
      await producer.abortTransaction();
      for (const entry of consumer.assignment()) consumer.seek(entry, 'committed');
    }
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  emit('done');
  consumer.close();
  await producer.close();
}

main().catch((error: unknown) => {
  emit('error', { message: error instanceof Error ? error.stack : String(error) });
  process.exit(2);
});
