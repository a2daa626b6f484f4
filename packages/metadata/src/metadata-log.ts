/**
 * The local store's files: an append-only log of committed revisions and a snapshot.
 * Log record: [payload length u32][CRC-32 of the payload u32][payload: JSON of one revision].
 * A torn or corrupt tail (a crash mid-append) ends the log at the last whole record.
 * Snapshot: JSON of every key with its revisions (and a mark on leased ones), and the revision it stands at; written
 * atomically (temp, fsync, rename, directory fsync) by the FileSystem.
 */
import { crc32 } from 'node:zlib';
import { type Change, deadLeaseId, type SnapshotEntry } from './memory-state.js';
import type { Revision } from './store.js';

const headerBytes = 8;
/** A record longer than this is corruption (a revision holds at most 127 small operations). */
const recordBytesMax = 64 * 1024 * 1024;

export interface LogRecord {
  revision: Revision;
  changes: Change[];
}

interface EncodedChange {
  type: 'put' | 'delete';
  key: string;
  value?: string;
  leased?: boolean;
}

export function encodeRecord(record: LogRecord): Buffer {
  const changes: EncodedChange[] = record.changes.map((change) =>
    change.type === 'put'
      ? {
          type: 'put',
          key: change.key,
          value: change.value.toString('base64'),
          ...(change.leaseId !== 0 ? { leased: true } : {}),
        }
      : { type: 'delete', key: change.key },
  );
  const payload = Buffer.from(JSON.stringify({ revision: record.revision.toString(), changes }));
  const header = Buffer.alloc(headerBytes);
  header.writeUInt32BE(payload.length, 0);
  header.writeUInt32BE(crc32(payload), 4);
  return Buffer.concat([header, payload]);
}

/** Whole records from the start of `data`, and the byte length they cover. */
export function decodeRecords(data: Buffer): { records: LogRecord[]; validBytes: number } {
  const records: LogRecord[] = [];
  let offset = 0;
  while (offset + headerBytes <= data.length) {
    const length = data.readUInt32BE(offset);
    if (length > recordBytesMax || offset + headerBytes + length > data.length) break;
    const payload = data.subarray(offset + headerBytes, offset + headerBytes + length);
    if (crc32(payload) !== data.readUInt32BE(offset + 4)) break;
    const parsed = JSON.parse(payload.toString()) as { revision: string; changes: EncodedChange[] };
    records.push({
      revision: BigInt(parsed.revision),
      changes: parsed.changes.map((change) =>
        change.type === 'put'
          ? {
              type: 'put',
              key: change.key,
              value: Buffer.from(change.value ?? '', 'base64'),
              // The lease itself died with the process that held it; only the mark matters.
              leaseId: change.leased === true ? deadLeaseId : 0,
            }
          : { type: 'delete', key: change.key },
      ),
    });
    offset += headerBytes + length;
  }
  return { records, validBytes: offset };
}

export function encodeSnapshot(revision: Revision, entries: readonly SnapshotEntry[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      revision: revision.toString(),
      entries: entries.map((entry) => ({
        key: entry.key,
        value: entry.value.toString('base64'),
        createRevision: entry.createRevision.toString(),
        modRevision: entry.modRevision.toString(),
        ...(entry.leased ? { leased: true } : {}),
      })),
    }),
  );
}

export function decodeSnapshot(data: Buffer): { revision: Revision; entries: SnapshotEntry[] } {
  const parsed = JSON.parse(data.toString()) as {
    revision: string;
    entries: {
      key: string;
      value: string;
      createRevision: string;
      modRevision: string;
      leased?: boolean;
    }[];
  };
  return {
    revision: BigInt(parsed.revision),
    entries: parsed.entries.map((entry) => ({
      key: entry.key,
      value: Buffer.from(entry.value, 'base64'),
      createRevision: BigInt(entry.createRevision),
      modRevision: BigInt(entry.modRevision),
      leased: entry.leased === true,
    })),
  };
}
