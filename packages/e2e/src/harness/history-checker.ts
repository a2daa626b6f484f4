/**
 * A Jepsen-style checker for one topic's history (the checks of Jepsen's Kafka test): producers
 * record every send's outcome, readers record what they read, and the checker looks for lost
 * acknowledged records, duplicates, offsets holding two different values, readers seeing offsets
 * go backwards, and aborted transactional records read under read_committed. Values are unique
 * per send, so a value identifies one send.
 */

/**
 * What a producer knows about one send: acknowledged (at an offset, or without one when the client
 * learnt only that it is written: librdkafka after DUPLICATE_SEQUENCE_NUMBER), definitely failed,
 * or not known.
 */
export type SendOutcome =
  | { outcome: 'acked'; value: string; partition: number; offset: number | undefined }
  | { outcome: 'failed'; value: string; partition: number }
  | { outcome: 'unknown'; value: string; partition: number };

export interface ReadRecord {
  partition: number;
  offset: number;
  value: string;
}

/** One reader's records in the order it received them (an assign reader over whole partitions). */
export interface ReaderHistory {
  reader: string;
  records: readonly ReadRecord[];
}

export interface HistoryInput {
  sends: readonly SendOutcome[];
  readers: readonly ReaderHistory[];
  /** Values written in transactions that were aborted: a read_committed reader must never see them. */
  abortedValues?: ReadonlySet<string>;
}

export interface HistoryProblem {
  check:
    | 'lost-write'
    | 'duplicate'
    | 'inconsistent-offsets'
    | 'acked-offset-mismatch'
    | 'nonmonotonic-read'
    | 'aborted-read';
  detail: string;
}

export interface HistorySummary {
  sends: number;
  acked: number;
  failed: number;
  unknown: number;
  /** Distinct (partition, offset) positions read by any reader. */
  readPositions: number;
  /** Sends with an unknown outcome that were found written (the rest were not). */
  unknownWritten: number;
  /** Sends reported as failed that were written anyway (allowed: a failure may be a timeout). */
  failedWritten: number;
  problems: HistoryProblem[];
  /** Counts per check, zero for the ones that found nothing. */
  counts: Record<HistoryProblem['check'], number>;
  valid: boolean;
}

/** The counts of a history where no check found anything. */
export const noProblems: Readonly<HistorySummary['counts']> = {
  'lost-write': 0,
  duplicate: 0,
  'inconsistent-offsets': 0,
  'acked-offset-mismatch': 0,
  'nonmonotonic-read': 0,
  'aborted-read': 0,
};

const positionKey = (partition: number, offset: number) => `${partition}:${offset}`;

function addTo(sets: Map<string, Set<string>>, key: string, member: string): void {
  const set = sets.get(key);
  if (set === undefined) sets.set(key, new Set([member]));
  else set.add(member);
}

export function checkHistory(input: HistoryInput): HistorySummary {
  const problems: HistoryProblem[] = [];
  // Every value seen at each position, and every position each value was seen at.
  const valuesAt = new Map<string, Set<string>>();
  const positionsOf = new Map<string, Set<string>>();
  for (const reader of input.readers) {
    const lastOffset = new Map<number, number>();
    for (const record of reader.records) {
      const key = positionKey(record.partition, record.offset);
      addTo(valuesAt, key, record.value);
      addTo(positionsOf, record.value, key);
      const previous = lastOffset.get(record.partition);
      if (previous !== undefined && record.offset <= previous) {
        problems.push({
          check: 'nonmonotonic-read',
          detail: `${reader.reader}: partition ${record.partition} offset ${record.offset} after ${previous}`,
        });
      }
      lastOffset.set(record.partition, record.offset);
      if (input.abortedValues?.has(record.value)) {
        problems.push({
          check: 'aborted-read',
          detail: `${reader.reader}: aborted value ${record.value} at ${key}`,
        });
      }
    }
  }
  for (const [key, values] of valuesAt) {
    if (values.size > 1) {
      problems.push({
        check: 'inconsistent-offsets',
        detail: `${key} holds ${[...values].join(', ')}`,
      });
    }
  }
  for (const [value, positions] of positionsOf) {
    if (positions.size > 1) {
      problems.push({ check: 'duplicate', detail: `${value} at ${[...positions].join(', ')}` });
    }
  }
  let acked = 0;
  let failed = 0;
  let unknown = 0;
  let unknownWritten = 0;
  let failedWritten = 0;
  for (const send of input.sends) {
    const positions = positionsOf.get(send.value);
    if (send.outcome === 'acked') {
      acked++;
      const key =
        send.offset === undefined
          ? `${send.partition}:?`
          : positionKey(send.partition, send.offset);
      if (positions === undefined) {
        problems.push({ check: 'lost-write', detail: `${send.value} acked at ${key}, never read` });
      } else if (send.offset !== undefined && !positions.has(key)) {
        problems.push({
          check: 'acked-offset-mismatch',
          detail: `${send.value} acked at ${key}, read at ${[...positions].join(', ')}`,
        });
      }
    } else if (send.outcome === 'failed') {
      failed++;
      if (positions !== undefined) failedWritten++;
    } else {
      unknown++;
      if (positions !== undefined) unknownWritten++;
    }
  }
  const counts: HistorySummary['counts'] = { ...noProblems };
  for (const problem of problems) counts[problem.check]++;
  return {
    sends: input.sends.length,
    acked,
    failed,
    unknown,
    readPositions: valuesAt.size,
    unknownWritten,
    failedWritten,
    problems,
    counts,
    valid: problems.length === 0,
  };
}

/** One line for logs and reports: the counts, then at most `limit` problems. */
export function describeHistory(summary: HistorySummary, limit = 10): string {
  const head = `sends ${summary.sends} (acked ${summary.acked}, failed ${summary.failed}, unknown ${summary.unknown}; unknown written ${summary.unknownWritten}, failed written ${summary.failedWritten}), positions read ${summary.readPositions}; ${Object.entries(
    summary.counts,
  )
    .map(([check, count]) => `${check} ${count}`)
    .join(', ')}`;
  const shown = summary.problems
    .slice(0, limit)
    .map((problem) => `  ${problem.check}: ${problem.detail}`);
  return [head, ...shown].join('\n');
}
