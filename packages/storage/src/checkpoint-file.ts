// Kafka's per-log-dir offset checkpoint format (recovery-point-offset-checkpoint,
// log-start-offset-checkpoint, cleaner-offset-checkpoint): "0\n<count>\n<topic> <partition> <offset>\n…".

const checkpointVersion = '0';

/**
 * Kafka's checkpoint envelope, shared by the offset checkpoints and `leader-epoch-checkpoint`:
 * a version line, a count line, then that many entry lines.
 */
export function serializeCheckpointLines(entries: readonly string[]): Buffer {
  return Buffer.from(`${[checkpointVersion, String(entries.length), ...entries].join('\n')}\n`);
}

/** The entry lines of a checkpoint, or null when the envelope is malformed. */
export function parseCheckpointLines(data: Buffer): string[] | null {
  const lines = data
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0);
  if (lines.length < 2 || lines[0] !== checkpointVersion) return null;
  const count = Number(lines[1]);
  if (!Number.isInteger(count) || count !== lines.length - 2) return null;
  return lines.slice(2);
}

export function serializeOffsetCheckpoint(entries: Map<string, bigint>): Buffer {
  const lines: string[] = [];
  for (const [name, offset] of entries) {
    const split = name.lastIndexOf('-');
    lines.push(`${name.slice(0, split)} ${name.slice(split + 1)} ${offset}`);
  }
  return serializeCheckpointLines(lines);
}

/** Keys are `<topic>-<partition>`; a malformed file yields an empty map (full recovery). */
export function parseOffsetCheckpoint(data: Buffer | null): Map<string, bigint> {
  const result = new Map<string, bigint>();
  const lines = data ? parseCheckpointLines(data) : null;
  if (!lines) return result;
  for (const line of lines) {
    const match = /^(\S+) (\d+) (\d+)$/.exec(line);
    if (!match) return new Map();
    result.set(`${match[1]}-${match[2]}`, BigInt(match[3]));
  }
  return result;
}
