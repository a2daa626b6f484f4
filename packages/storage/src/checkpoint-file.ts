// Kafka's per-log-dir offset checkpoint format (recovery-point-offset-checkpoint,
// log-start-offset-checkpoint, cleaner-offset-checkpoint): "0\n<count>\n<topic> <partition> <offset>\n…".

const checkpointVersion = '0';

export function serializeOffsetCheckpoint(entries: Map<string, bigint>): Buffer {
  const lines = [checkpointVersion, String(entries.size)];
  for (const [name, offset] of entries) {
    const split = name.lastIndexOf('-');
    lines.push(`${name.slice(0, split)} ${name.slice(split + 1)} ${offset}`);
  }
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

/** Keys are `<topic>-<partition>`; a malformed file yields an empty map (full recovery). */
export function parseOffsetCheckpoint(data: Buffer | null): Map<string, bigint> {
  const result = new Map<string, bigint>();
  if (!data) return result;
  const lines = data
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0);
  if (lines[0] !== checkpointVersion || Number(lines[1]) !== lines.length - 2) return result;
  for (const line of lines.slice(2)) {
    const match = /^(\S+) (\d+) (\d+)$/.exec(line);
    if (!match) return new Map();
    result.set(`${match[1]}-${match[2]}`, BigInt(match[3]));
  }
  return result;
}
