// The clean-stop summary of a log dir (`clean-shutdown-log-summary`): for each log, its leader
// epochs and each segment's size, next offset and newest timestamp, written by a clean stop just
// before the clean-shutdown marker. With the marker present the next start builds every log
// from it without opening a file: a partition nobody touches costs no I/O (DESIGN.md "Start-up").
// Kafka's checkpoint envelope; one line per log:
//   <topic> <partition> <epoch>@<startOffset>,… | - <base>/<size>/<next>/<maxTimestamp>/<offsetOfMaxTimestamp>,…

import { parseCheckpointLines, serializeCheckpointLines } from './checkpoint-file.js';
import type { LeaderEpochEntry } from './leader-epoch-cache.js';
import type { SegmentSummary } from './segment.js';

export const logSummaryFile = 'clean-shutdown-log-summary';

export interface LogSummary {
  epochs: LeaderEpochEntry[];
  /** Oldest first; never empty. */
  segments: SegmentSummary[];
}

/** Keys are `<topic>-<partition>` (the log's directory name). */
export function serializeLogSummaries(logs: Map<string, LogSummary>): Buffer {
  const lines: string[] = [];
  for (const [name, log] of logs) {
    const split = name.lastIndexOf('-');
    const epochs =
      log.epochs.length === 0
        ? '-'
        : log.epochs.map((entry) => `${entry.epoch}@${entry.startOffset}`).join(',');
    const segments = log.segments
      .map(
        (segment) =>
          `${segment.baseOffset}/${segment.sizeBytes}/${segment.nextOffset}/${segment.maxTimestamp}/${segment.offsetOfMaxTimestamp}`,
      )
      .join(',');
    lines.push(`${name.slice(0, split)} ${name.slice(split + 1)} ${epochs} ${segments}`);
  }
  return serializeCheckpointLines(lines);
}

/** Null when the file is missing or malformed (then every log is loaded from its files). */
export function parseLogSummaries(data: Buffer | null): Map<string, LogSummary> | null {
  const lines = data ? parseCheckpointLines(data) : null;
  if (!lines) return null;
  const result = new Map<string, LogSummary>();
  for (const line of lines) {
    const fields = line.split(' ');
    if (fields.length !== 4 || !/^\d+$/.test(fields[1])) return null;
    const epochs = fields[2] === '-' ? [] : fields[2].split(',').map(parseEpoch);
    const segments = fields[3].split(',').map(parseSegment);
    if (epochs.includes(null) || segments.includes(null) || segments.length === 0) return null;
    result.set(`${fields[0]}-${fields[1]}`, {
      epochs: epochs.filter((entry) => entry !== null),
      segments: segments.filter((segment) => segment !== null),
    });
  }
  return result;
}

function parseEpoch(text: string): LeaderEpochEntry | null {
  const match = /^(\d+)@(\d+)$/.exec(text);
  return match ? { epoch: Number(match[1]), startOffset: BigInt(match[2]) } : null;
}

function parseSegment(text: string): SegmentSummary | null {
  const match = /^(\d+)\/(\d+)\/(\d+)\/(-?\d+)\/(\d+)$/.exec(text);
  if (!match) return null;
  return {
    baseOffset: BigInt(match[1]),
    sizeBytes: Number(match[2]),
    nextOffset: BigInt(match[3]),
    maxTimestamp: BigInt(match[4]),
    offsetOfMaxTimestamp: BigInt(match[5]),
  };
}
