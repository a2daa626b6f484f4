// `npm run bench -- records`: record batch validate (the broker's produce path: framing + CRC, no
// record decoding), assignOffsets, encode and decode, uncompressed and per codec, next to a
// plain Buffer.copy of the same bytes.

import {
  assignOffsets,
  CompressionType,
  type CompressionType as CompressionTypeValue,
  compressionNames,
  decodeRecordBatch,
  decodeRecordBatchAsync,
  encodeRecordBatch,
  encodeRecordBatchAsync,
  type RecordInput,
  resetCrc32cImplementation,
  validateRecordBatches,
  validateRecords,
} from '@gregor/protocol';
import { installNativeCrc32c } from '../crc32c-native.js';
import { defaultCompressionCodecs } from '../index.js';
import { measure, measureAsync, sampleEvents } from '../measure.js';

function sampleRecords(count: number, valueSizeBytes: number): RecordInput[] {
  const values = sampleEvents(count * valueSizeBytes);
  return Array.from({ length: count }, (_, index) => ({
    key: Buffer.from(`key-${index % 100}`),
    value: values.subarray(index * valueSizeBytes, (index + 1) * valueSizeBytes),
    headers: index % 10 === 0 ? [{ key: 'trace', value: Buffer.from('abc') }] : [],
    timestamp: 1_700_000_000_000n + BigInt(index),
  }));
}

async function run(): Promise<void> {
  for (const [count, valueSizeBytes] of [
    [100, 100],
    [1000, 1000],
  ]) {
    const records = sampleRecords(count, valueSizeBytes);
    const batch = encodeRecordBatch({ records });
    const sizeBytes = batch.length;
    const copyTarget = Buffer.allocUnsafe(sizeBytes);
    process.stdout.write(`-- ${count} records x ${valueSizeBytes} B (batch ${sizeBytes} bytes)\n`);
    measure('Buffer.copy (memory copy reference)', sizeBytes, () => batch.copy(copyTarget));
    for (const crc of ['js', 'native'] as const) {
      resetCrc32cImplementation();
      if (crc === 'native') installNativeCrc32c();
      measure(`validateRecordBatches (CRC ${crc})`, sizeBytes, () => validateRecordBatches(batch));
      const validation = validateRecordBatches(batch);
      if (!validation.ok) throw new Error(validation.message);
      if (crc === 'native') {
        measure('validateRecords (decodes every record)', sizeBytes, () =>
          validateRecords(batch, validation, { requireKeys: true }),
        );
      }
      measure(`assignOffsets`, sizeBytes, () =>
        assignOffsets(batch, validation, 0n, { leaderEpoch: 1 }),
      );
      measure(`assignOffsets + LogAppendTime re-CRC (${crc})`, sizeBytes, () =>
        assignOffsets(batch, validation, 0n, { leaderEpoch: 1, logAppendTimeMs: 1n }),
      );
    }
    for (const compression of Object.values(CompressionType) as CompressionTypeValue[]) {
      const name = compressionNames[compression];
      const options = { records, compression, codecs: defaultCompressionCodecs };
      const encoded = await encodeRecordBatchAsync(options);
      const ratio = (sizeBytes / encoded.length).toFixed(1);
      process.stdout.write(`   ${name}: ${encoded.length} bytes on the wire (ratio ${ratio})\n`);
      const syncBytes = encodeRecordBatch(options).length;
      const syncNote = syncBytes === encoded.length ? '' : ` (sync output ${syncBytes} bytes)`;
      measure(`encodeRecordBatch ${name}${syncNote}`, sizeBytes, () => encodeRecordBatch(options));
      if (compression !== 0) {
        await measureAsync(`encodeRecordBatchAsync ${name}`, sizeBytes, () =>
          encodeRecordBatchAsync(options),
        );
      }
      measure(`decodeRecordBatch ${name}`, sizeBytes, () =>
        decodeRecordBatch(encoded, defaultCompressionCodecs),
      );
      if (compression !== 0) {
        await measureAsync(`decodeRecordBatchAsync ${name}`, sizeBytes, () =>
          decodeRecordBatchAsync(encoded, defaultCompressionCodecs),
        );
      }
    }
    resetCrc32cImplementation();
  }
}

await run();
