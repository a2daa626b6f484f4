import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runJava } from './java.js';

/**
 * Apache Kafka's command-line tools, run as their main classes from the jars in java/lib (the
 * `bin/kafka-*.sh` scripts do the same): one JVM per invocation, small heap.
 */

export const kafkaTool = {
  topics: 'org.apache.kafka.tools.TopicCommand',
  consoleProducer: 'org.apache.kafka.tools.ConsoleProducer',
  consoleConsumer: 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  consumerGroups: 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  // Moved from kafka.admin (kafka_2.13) to kafka-tools in 4.4.
  configs: 'org.apache.kafka.tools.ConfigCommand',
  transactions: 'org.apache.kafka.tools.TransactionsCommand',
  getOffsets: 'org.apache.kafka.tools.GetOffsetShell',
  deleteRecords: 'org.apache.kafka.tools.DeleteRecordsCommand',
  producerPerformance: 'org.apache.kafka.tools.ProducerPerformance',
  consumerPerformance: 'org.apache.kafka.tools.ConsumerPerformance',
} as const;

/**
 * A JVM start costs ~3 s here, mostly loading and verifying the same few thousand classes of the
 * Kafka jars. The first tool run of a test process dumps the classes it loaded into a CDS archive
 * (JDK 13+ dynamic archive); later runs map it and start in well under a second. The archive is
 * tied to this JDK and class path, so it lives per process and is removed at exit.
 */
const classDataArchivePath = join(tmpdir(), `gregor-kafka-tools-${process.pid}.jsa`);
let classDataArchive: 'absent' | 'dumping' | 'ready' = 'absent';

function classDataSharingOptions(): { options: string[]; dumping: boolean } {
  // Unified JVM logging off: a CDS warning would land on stdout, inside the tool's output.
  const quiet = '-Xlog:disable';
  if (classDataArchive === 'ready' && existsSync(classDataArchivePath)) {
    return { options: [quiet, `-XX:SharedArchiveFile=${classDataArchivePath}`], dumping: false };
  }
  if (classDataArchive === 'absent') {
    classDataArchive = 'dumping';
    process.once('exit', () => rmSync(classDataArchivePath, { force: true }));
    return { options: [quiet, `-XX:ArchiveClassesAtExit=${classDataArchivePath}`], dumping: true };
  }
  return { options: [quiet], dumping: false };
}

export interface KafkaToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one tool to completion. Fails on a non-zero exit unless `expectFailure` (then fails on a
 * zero exit): the tools print their errors and exit 1.
 */
export async function runKafkaTool(options: {
  main: string;
  arguments: readonly string[];
  input?: string;
  timeoutMs?: number;
  expectFailure?: boolean;
}): Promise<KafkaToolResult> {
  const classDataSharing = classDataSharingOptions();
  const result = await runJava({
    main: options.main,
    arguments: options.arguments,
    input: options.input,
    heapMb: 128,
    jvmOptions: classDataSharing.options,
    timeoutMs: options.timeoutMs ?? 60_000,
  }).finally(() => {
    if (classDataSharing.dumping) classDataArchive = 'ready';
  });
  const failed = result.code !== 0;
  if (failed !== (options.expectFailure ?? false)) {
    throw new Error(
      `${options.main} ${options.arguments.join(' ')} exited with ${result.code ?? result.signal}` +
        `\nstdout: ${result.stdout.slice(-4000)}\nstderr: ${result.stderr.slice(-4000)}`,
    );
  }
  return { code: result.code, stdout: result.stdout, stderr: result.stderr };
}

/** The non-empty lines of a tool's output, trailing spaces removed. */
export function outputLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.length > 0);
}

/**
 * Rows of a table a tool prints (header row first) as column → cell. Columns are separated by
 * runs of spaces (ConsumerGroupCommand) or, with `tabs`, by tabs (TransactionsCommand, whose
 * cells may be empty); the table ends at the first line with another number of cells.
 */
export function tableRows(
  text: string,
  options: { firstColumn: string; tabs?: boolean },
): Record<string, string>[] {
  const split = (line: string) =>
    options.tabs ? line.split('\t').map((cell) => cell.trim()) : line.trim().split(/\s+/);
  // Tab-separated lines keep their trailing tabs: a last cell may be empty.
  const lines = options.tabs
    ? text.split('\n').filter((line) => line.trim().length > 0)
    : outputLines(text);
  const headerIndex = lines.findIndex((line) => split(line)[0] === options.firstColumn);
  if (headerIndex < 0) throw new Error(`no table with column ${options.firstColumn} in:\n${text}`);
  const header = split(lines[headerIndex]);
  const rows: Record<string, string>[] = [];
  for (const line of lines.slice(headerIndex + 1)) {
    const cells = split(line);
    if (cells.length !== header.length) break;
    rows.push(Object.fromEntries(header.map((name, index) => [name, cells[index]])));
  }
  return rows;
}
