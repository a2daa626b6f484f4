// Control records (KIP-98): transaction markers written by the broker on EndTxn / WriteTxnMarkers.
// Key: version int16 (0) + type int16. Value of commit/abort: version int16 (0) + coordinatorEpoch int32.

import { encodeRecordBatch } from './encode.js';
import { RecordBatchError, recordErrorCode } from './errors.js';

export const controlRecordTypeId = {
  abort: 0,
  commit: 1,
  leaderChange: 2,
  snapshotHeader: 3,
  snapshotFooter: 4,
} as const;

export type TransactionMarkerType = 'commit' | 'abort';

export interface EncodeControlBatchOptions {
  type: TransactionMarkerType;
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  timestamp: bigint;
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
}

const controlKeySizeBytes = 4;
const markerValueSizeBytes = 6;

export function encodeControlRecordKey(typeId: number): Buffer {
  const key = Buffer.alloc(controlKeySizeBytes);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(typeId, 2);
  return key;
}

export function encodeTransactionMarkerValue(coordinatorEpoch: number): Buffer {
  const value = Buffer.alloc(markerValueSizeBytes);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(coordinatorEpoch, 2);
  return value;
}

/** A transactional control batch holding one commit or abort marker. */
export function encodeControlBatch(options: EncodeControlBatchOptions): Buffer {
  return encodeRecordBatch({
    records: [
      {
        key: encodeControlRecordKey(controlRecordTypeId[options.type]),
        value: encodeTransactionMarkerValue(options.coordinatorEpoch),
        timestamp: options.timestamp,
      },
    ],
    baseOffset: options.baseOffset,
    producerId: options.producerId,
    producerEpoch: options.producerEpoch,
    baseSequence: -1,
    transactional: true,
    control: true,
    partitionLeaderEpoch: options.partitionLeaderEpoch,
  });
}

export interface ControlRecord {
  type: TransactionMarkerType | 'leader-change' | 'snapshot-header' | 'snapshot-footer' | 'unknown';
  typeId: number;
  /** Present for commit/abort markers. */
  coordinatorEpoch: number | null;
}

const typeNames: readonly ControlRecord['type'][] = [
  'abort',
  'commit',
  'leader-change',
  'snapshot-header',
  'snapshot-footer',
];

function invalidControl(message: string): never {
  throw new RecordBatchError('bad-length', recordErrorCode.invalidRecord, message);
}

/** Decodes a control record's key (and marker value). Newer key versions are read as v0. */
export function decodeControlRecord(key: Buffer | null, value: Buffer | null): ControlRecord {
  if (key === null || key.length < controlKeySizeBytes)
    invalidControl('control record key too short');
  const keyVersion = key.readInt16BE(0);
  if (keyVersion < 0) invalidControl(`negative control key version ${keyVersion}`);
  const typeId = key.readInt16BE(2);
  const type = typeNames[typeId] ?? 'unknown';
  if (type !== 'commit' && type !== 'abort') return { type, typeId, coordinatorEpoch: null };
  if (value === null || value.length < markerValueSizeBytes) {
    invalidControl('transaction marker value too short');
  }
  const valueVersion = value.readInt16BE(0);
  if (valueVersion < 0) invalidControl(`negative marker value version ${valueVersion}`);
  return { type, typeId, coordinatorEpoch: value.readInt32BE(2) };
}
