// Frame helpers: what the broker and client use on the common path. A frame is the bytes after
// the int32 size prefix (the network layer checks that size against its limit first).
import {
  ApiKey,
  apiDescriptors,
  type ConsumerProtocolAssignment,
  type ConsumerProtocolSubscription,
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  decodeRequestHeader,
  decodeResponseHeader,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
  encodeRequestHeader,
  encodeResponseHeader,
  type RequestHeader,
  type ResponseHeader,
} from './generated/index.js';
import type { ApiDescriptor } from './io/api-descriptor.js';
import { ProtocolDecodeError } from './io/protocol-decode-error.js';
import { Reader } from './io/reader.js';
import type { TaggedField } from './io/tagged-field.js';
import { Writer } from './io/writer.js';

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: ProtocolDecodeError };

export interface RequestHeaderPeek {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
}

/** Bytes every request header starts with: api key, api version, correlation id. */
const requestHeaderFixedBytes = 8;

/** The first three header fields, readable for any api key and version; null when too short. */
export function peekRequestHeader(frame: Buffer): RequestHeaderPeek | null {
  if (frame.length < requestHeaderFixedBytes) return null;
  return {
    apiKey: frame.readInt16BE(0),
    apiVersion: frame.readInt16BE(2),
    correlationId: frame.readInt32BE(4),
  };
}

/** Any failure of a decoder, including an unexpected exception, as a typed error. */
function asDecodeError(error: unknown, offset: number): ProtocolDecodeError {
  if (error instanceof ProtocolDecodeError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new ProtocolDecodeError('invalid-value', offset, detail);
}

/** Runs a decoder that must consume the whole frame (unless `trailingBytesIgnored`). */
function decodeSafely<T>(
  reader: Reader,
  decode: () => T,
  options: { trailingBytesIgnored?: boolean } = {},
): DecodeResult<T> {
  try {
    const value = decode();
    if (!options.trailingBytesIgnored) reader.expectEnd();
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error: asDecodeError(error, reader.offset) };
  }
}

function descriptorFor(
  apiKey: number,
  apiVersion: number,
): { ok: true; descriptor: ApiDescriptor } | { ok: false; error: ProtocolDecodeError } {
  const descriptor = apiDescriptors[apiKey];
  if (descriptor === undefined) {
    return { ok: false, error: new ProtocolDecodeError('unknown-api', 0, `api key ${apiKey}`) };
  }
  if (apiVersion < descriptor.minVersion || apiVersion > descriptor.maxVersion) {
    const detail = `${descriptor.name} v${apiVersion}`;
    return { ok: false, error: new ProtocolDecodeError('unsupported-version', 2, detail) };
  }
  return { ok: true, descriptor };
}

/** First flexible Metadata version (compact arrays). */
const metadataFlexibleVersionMin = 9;

/**
 * Requests whose bytes after the body are ignored, as Kafka ignores them (its request parser
 * never checks that the buffer was consumed), because a real client sends them: librdkafka
 * (seen with 2.16.0) asks for all topics with Metadata v9+ by leaving the 4-byte placeholder it
 * reserved for the topic count unshrunk: 00 (null compact array) then three more zero bytes,
 * which Kafka reads as allow_auto_topic_creation=false, include_topic_authorized_operations=false,
 * no tagged fields, and ignores the real fields that follow. Every other request stays exact.
 */
function trailingBytesIgnored(apiKey: number, apiVersion: number): boolean {
  return apiKey === ApiKey.Metadata && apiVersion >= metadataFlexibleVersionMin;
}

/**
 * Decodes a whole request frame: header (version chosen by the api) and body. Unknown api keys
 * and versions out of range are typed errors; every byte must be consumed (except where
 * `trailingBytesIgnored` says a real client needs Kafka's leniency).
 */
export function decodeRequestFrame(
  frame: Buffer,
): DecodeResult<{ header: RequestHeader; body: unknown }> {
  const peek = peekRequestHeader(frame);
  if (peek === null) {
    return {
      ok: false,
      error: new ProtocolDecodeError('truncated', frame.length, 'request header'),
    };
  }
  const found = descriptorFor(peek.apiKey, peek.apiVersion);
  if (!found.ok) return found;
  const { descriptor } = found;
  const reader = new Reader(frame);
  return decodeSafely(
    reader,
    () => {
      const header = decodeRequestHeader(reader, descriptor.requestHeaderVersion(peek.apiVersion));
      const body = descriptor.decodeRequest(reader, peek.apiVersion);
      return { header, body };
    },
    { trailingBytesIgnored: trailingBytesIgnored(peek.apiKey, peek.apiVersion) },
  );
}

/** Decodes a response frame for a request the caller sent (api key and version known). */
export function decodeResponseFrame(
  apiKey: number,
  apiVersion: number,
  frame: Buffer,
): DecodeResult<{ header: ResponseHeader; body: unknown }> {
  const found = descriptorFor(apiKey, apiVersion);
  if (!found.ok) return found;
  const { descriptor } = found;
  const reader = new Reader(frame);
  return decodeSafely(reader, () => {
    const header = decodeResponseHeader(reader, descriptor.responseHeaderVersion(apiVersion));
    const body = descriptor.decodeResponse(reader, apiVersion);
    return { header, body };
  });
}

function requireDescriptor(apiKey: number, apiVersion: number): ApiDescriptor {
  const found = descriptorFor(apiKey, apiVersion);
  if (!found.ok) throw new RangeError(found.error.message);
  return found.descriptor;
}

/** Encodes `[int32 size][response header][body]` as a buffer list (records not copied). */
export function encodeResponseFrame(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  body: unknown,
  taggedHeaderFields?: TaggedField[],
): Buffer[] {
  const descriptor = requireDescriptor(apiKey, apiVersion);
  const writer = new Writer({ sizePrefixed: true });
  const header: ResponseHeader = { correlationId };
  if (taggedHeaderFields !== undefined) header._unknownTaggedFields = taggedHeaderFields;
  encodeResponseHeader(writer, descriptor.responseHeaderVersion(apiVersion), header);
  descriptor.encodeResponse(writer, apiVersion, body);
  return writer.finish();
}

/** Encodes `[int32 size][request header][body]` as a buffer list (records not copied). */
export function encodeRequestFrame(header: RequestHeader, body: unknown): Buffer[] {
  const descriptor = requireDescriptor(header.requestApiKey, header.requestApiVersion);
  const writer = new Writer({ sizePrefixed: true });
  encodeRequestHeader(writer, descriptor.requestHeaderVersion(header.requestApiVersion), header);
  descriptor.encodeRequest(writer, header.requestApiVersion, body);
  return writer.finish();
}

/** Highest consumer protocol version these codecs know (ConsumerProtocolSubscription/Assignment). */
export const consumerProtocolVersionMax = 3;

/**
 * Decodes `[int16 version][struct]` as carried in JoinGroup protocol metadata and SyncGroup
 * assignments. Like Kafka's client, a newer version is read as the newest known one and its
 * trailing bytes are ignored (later versions only append fields); older versions must be exact.
 */
function decodeVersionedBytes<T>(
  bytes: Buffer,
  decode: (reader: Reader, version: number) => T,
): DecodeResult<{ version: number; value: T }> {
  const reader = new Reader(bytes);
  try {
    const version = reader.readInt16();
    if (version < 0) return { ok: false, error: new ProtocolDecodeError('unsupported-version', 0) };
    const value = decode(reader, Math.min(version, consumerProtocolVersionMax));
    if (version <= consumerProtocolVersionMax) reader.expectEnd();
    return { ok: true, value: { version, value } };
  } catch (error) {
    return { ok: false, error: asDecodeError(error, reader.offset) };
  }
}

function encodeVersionedBytes<T>(
  version: number,
  value: T,
  encode: (writer: Writer, version: number, value: T) => void,
): Buffer {
  const writer = new Writer();
  writer.writeInt16(version);
  encode(writer, version, value);
  return writer.toBuffer();
}

export function decodeConsumerProtocolSubscriptionBytes(
  bytes: Buffer,
): DecodeResult<{ version: number; value: ConsumerProtocolSubscription }> {
  return decodeVersionedBytes(bytes, decodeConsumerProtocolSubscription);
}

export function encodeConsumerProtocolSubscriptionBytes(
  version: number,
  value: ConsumerProtocolSubscription,
): Buffer {
  return encodeVersionedBytes(version, value, encodeConsumerProtocolSubscription);
}

export function decodeConsumerProtocolAssignmentBytes(
  bytes: Buffer,
): DecodeResult<{ version: number; value: ConsumerProtocolAssignment }> {
  return decodeVersionedBytes(bytes, decodeConsumerProtocolAssignment);
}

export function encodeConsumerProtocolAssignmentBytes(
  version: number,
  value: ConsumerProtocolAssignment,
): Buffer {
  return encodeVersionedBytes(version, value, encodeConsumerProtocolAssignment);
}
