// Serializers and deserializers: typed keys and values over the bytes Kafka stores. The number
// serdes write big-endian fixed-width values exactly as Java's IntegerSerializer, LongSerializer,
// DoubleSerializer... do, so records interoperate with Java producers and consumers. Null stays
// null both ways (a tombstone value, a null key).

import type { RecordHeader } from '@gregor/protocol';
import { ClientError } from './errors.js';

export interface SerdeContext {
  topic: string;
  headers: readonly RecordHeader[];
}

export interface Serializer<T> {
  serialize(value: T, context: SerdeContext): Buffer | null;
}

export interface Deserializer<T> {
  deserialize(data: Buffer | null, context: SerdeContext): T;
}

export interface Serde<T> extends Serializer<T>, Deserializer<T> {}

/** Failed to turn bytes into a value (wrong size, invalid JSON): the record is not what the reader expects. */
export class SerializationError extends ClientError {
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: false, cause });
    this.name = 'SerializationError';
  }
}

function fixedWidth<T>(
  name: string,
  sizeBytes: number,
  write: (buffer: Buffer, value: T) => void,
  read: (buffer: Buffer) => T,
): Serde<T | null> {
  return {
    serialize(value) {
      if (value === null || value === undefined) return null;
      const buffer = Buffer.allocUnsafe(sizeBytes);
      write(buffer, value);
      return buffer;
    },
    deserialize(data, context) {
      if (data === null) return null;
      if (data.length !== sizeBytes) {
        throw new SerializationError(
          `${name}: ${data.length} bytes in ${context.topic}, expected ${sizeBytes}`,
        );
      }
      return read(data);
    },
  };
}

function jsonSerde<T>(): Serde<T | null> {
  return {
    serialize(value) {
      return value === null || value === undefined ? null : Buffer.from(JSON.stringify(value));
    },
    deserialize(data, context) {
      if (data === null) return null;
      try {
        return JSON.parse(data.toString('utf8')) as T;
      } catch (error) {
        throw new SerializationError(`invalid JSON in ${context.topic}`, error);
      }
    },
  };
}

/** UTF-8 text (Java's StringSerializer). */
const stringSerde: Serde<string | null> = {
  serialize: (value) => (value === null || value === undefined ? null : Buffer.from(value)),
  deserialize: (data) => (data === null ? null : data.toString('utf8')),
};

/** Bytes as they are (Java's ByteArraySerializer). */
const bytesSerde: Serde<Buffer | null> = {
  serialize: (value) => value ?? null,
  deserialize: (data) => data,
};

export const serdes = {
  string: stringSerde,
  bytes: bytesSerde,
  /** JSON text, UTF-8. */
  json: jsonSerde,
  int16: fixedWidth<number>(
    'int16',
    2,
    (buffer, value) => buffer.writeInt16BE(value),
    (buffer) => buffer.readInt16BE(0),
  ),
  int32: fixedWidth<number>(
    'int32',
    4,
    (buffer, value) => buffer.writeInt32BE(value),
    (buffer) => buffer.readInt32BE(0),
  ),
  int64: fixedWidth<bigint>(
    'int64',
    8,
    (buffer, value) => buffer.writeBigInt64BE(value),
    (buffer) => buffer.readBigInt64BE(0),
  ),
  float32: fixedWidth<number>(
    'float32',
    4,
    (buffer, value) => buffer.writeFloatBE(value),
    (buffer) => buffer.readFloatBE(0),
  ),
  float64: fixedWidth<number>(
    'float64',
    8,
    (buffer, value) => buffer.writeDoubleBE(value),
    (buffer) => buffer.readDoubleBE(0),
  ),
} as const;

/** A consumed record's key and value through deserializers (the consumer hands out bytes). */
export function deserializeRecord<K, V>(
  record: {
    topic: string;
    key: Buffer | null;
    value: Buffer | null;
    headers: RecordHeader[];
  },
  keyDeserializer: Deserializer<K>,
  valueDeserializer: Deserializer<V>,
): { key: K; value: V } {
  const context = { topic: record.topic, headers: record.headers };
  return {
    key: keyDeserializer.deserialize(record.key, context),
    value: valueDeserializer.deserialize(record.value, context),
  };
}
