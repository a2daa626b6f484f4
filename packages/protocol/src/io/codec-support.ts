// Run-time support for the generated codecs in ../generated: element readers/writers for arrays
// of primitives and the errors the generated code raises.
import { ProtocolDecodeError } from './protocol-decode-error.js';
import type { Reader } from './reader.js';
import type { TaggedField } from './tagged-field.js';
import type { Writer } from './writer.js';

export { Reader } from './reader.js';
export { EMPTY_BUFFER, ZERO_UUID } from './tagged-field.js';
export { valueEquals } from './value-equals.js';
export { Writer } from './writer.js';

export const readInt8Element = (reader: Reader): number => reader.readInt8();
export const writeInt8Element = (writer: Writer, value: number): void => writer.writeInt8(value);
export const readInt16Element = (reader: Reader): number => reader.readInt16();
export const writeInt16Element = (writer: Writer, value: number): void => writer.writeInt16(value);
export const readInt32Element = (reader: Reader): number => reader.readInt32();
export const writeInt32Element = (writer: Writer, value: number): void => writer.writeInt32(value);
export const readInt64Element = (reader: Reader): bigint => reader.readInt64();
export const writeInt64Element = (writer: Writer, value: bigint): void => writer.writeInt64(value);
export const readUint16Element = (reader: Reader): number => reader.readUint16();
export const writeUint16Element = (writer: Writer, value: number): void =>
  writer.writeUint16(value);
export const readUint32Element = (reader: Reader): number => reader.readUint32();
export const writeUint32Element = (writer: Writer, value: number): void =>
  writer.writeUint32(value);
export const readFloat64Element = (reader: Reader): number => reader.readFloat64();
export const writeFloat64Element = (writer: Writer, value: number): void =>
  writer.writeFloat64(value);
export const readBoolElement = (reader: Reader): boolean => reader.readBool();
export const writeBoolElement = (writer: Writer, value: boolean): void => writer.writeBool(value);
export const readUuidElement = (reader: Reader): string => reader.readUuid();
export const writeUuidElement = (writer: Writer, value: string): void => writer.writeUuid(value);
export const readStringElement = (reader: Reader): string => reader.readString();
export const writeStringElement = (writer: Writer, value: string): void =>
  writer.writeString(value);
export const readCompactStringElement = (reader: Reader): string => reader.readCompactString();
export const writeCompactStringElement = (writer: Writer, value: string): void =>
  writer.writeCompactString(value);
export const readBytesElement = (reader: Reader): Buffer => reader.readBytes();
export const writeBytesElement = (writer: Writer, value: Buffer): void => writer.writeBytes(value);
export const readCompactBytesElement = (reader: Reader): Buffer => reader.readCompactBytes();
export const writeCompactBytesElement = (writer: Writer, value: Buffer): void =>
  writer.writeCompactBytes(value);

/** For flexible structs that define no tagged fields at a version: every tag is unknown. */
export const noKnownTags = (_tag: number, _reader: Reader): boolean => false;

export type TaggedFieldOwner = { _unknownTaggedFields?: TaggedField[] };

export function unsupportedVersionError(
  messageName: string,
  version: number,
  offset: number,
): ProtocolDecodeError {
  return new ProtocolDecodeError('unsupported-version', offset, `${messageName} v${version}`);
}

/** Like Kafka's UnsupportedVersionException: a non-default value the version cannot carry. */
export function unsupportedFieldError(typeName: string, property: string, version: number): Error {
  return new RangeError(
    `${typeName}.${property} has a non-default value but is absent from the encoding of version ${version}`,
  );
}
