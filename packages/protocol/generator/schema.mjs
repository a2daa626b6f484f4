// Reads Kafka's JSON message definitions into a model the emitter (and the round-trip tests) use.
// Facts about the format: /work/shared/kafka-protocol/README.md.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const generatorDirectory = path.dirname(fileURLToPath(import.meta.url));
export const packageDirectory = path.resolve(generatorDirectory, '..');
const repositoryDirectory = path.resolve(packageDirectory, '..', '..');

/** The schema folder: env GREGOR_KAFKA_PROTOCOL_DIR, else ../shared/kafka-protocol from the repo. */
export function schemaDirectory() {
  const override = process.env.GREGOR_KAFKA_PROTOCOL_DIR;
  if (override !== undefined && override !== '') return path.resolve(override);
  return path.resolve(repositoryDirectory, '..', 'shared', 'kafka-protocol');
}

export const primitiveTypes = new Set([
  'int8',
  'int16',
  'int32',
  'int64',
  'uint16',
  'uint32',
  'float64',
  'bool',
  'string',
  'bytes',
  'uuid',
  'records',
]);

/** Parses "0-11", "3+", "5" or "none" into { min, max } (max may be Infinity) or null. */
export function parseVersionRange(text) {
  if (text === undefined || text === 'none') return null;
  const trimmed = String(text).trim();
  if (trimmed.endsWith('+')) return { min: Number(trimmed.slice(0, -1)), max: Infinity };
  const dash = trimmed.indexOf('-');
  if (dash >= 0) {
    return { min: Number(trimmed.slice(0, dash)), max: Number(trimmed.slice(dash + 1)) };
  }
  return { min: Number(trimmed), max: Number(trimmed) };
}

export function inRange(range, version) {
  return range !== null && version >= range.min && version <= range.max;
}

/** Kafka's JSON files carry `//` line comments; drop them before JSON.parse. */
export function stripComments(text) {
  return text
    .split('\n')
    .map((line) => (/^\s*\/\//.test(line) ? '' : line))
    .join('\n');
}

/**
 * camelCase of a schema name: lowercase the leading capital run, keeping its last capital when a
 * lowercase letter follows (ThrottleTimeMs -> throttleTimeMs, ISRNodes -> isrNodes, ID -> id).
 */
export function camelCase(name) {
  const run = /^[A-Z]+/.exec(name);
  if (run === null) return name;
  const length = run[0].length;
  if (length === name.length) return name.toLowerCase();
  if (length === 1) return name[0].toLowerCase() + name.slice(1);
  const next = name[length];
  if (next >= 'a' && next <= 'z') {
    return name.slice(0, length - 1).toLowerCase() + name.slice(length - 1);
  }
  return name.slice(0, length).toLowerCase() + name.slice(length);
}

function parseType(typeText) {
  if (typeText.startsWith('[]')) return { kind: 'array', element: parseType(typeText.slice(2)) };
  if (primitiveTypes.has(typeText)) return { kind: 'primitive', name: typeText };
  return { kind: 'struct', name: typeText };
}

/**
 * One message: its structs (the message itself first), each with normalized fields and the set
 * of message versions in which it is reachable.
 */
export function buildMessage(json) {
  const validVersions = parseVersionRange(json.validVersions);
  const flexibleVersions = parseVersionRange(json.flexibleVersions);
  const structs = new Map();

  function defineStruct(structName, rawFields) {
    if (structs.has(structName)) {
      throw new Error(`${json.name}: struct ${structName} defined twice`);
    }
    const struct = {
      name: structName,
      typeName: structName === json.name ? json.name : json.name + structName,
      fields: [],
      versions: new Set(),
    };
    structs.set(structName, struct);
    for (const raw of rawFields) struct.fields.push(normalizeField(raw));
    return struct;
  }

  function normalizeField(raw) {
    const type = parseType(raw.type);
    const elementType = type.kind === 'array' ? type.element : type;
    if (raw.fields !== undefined) {
      if (elementType.kind !== 'struct')
        throw new Error(`${json.name}.${raw.name}: fields on ${raw.type}`);
      defineStruct(elementType.name, raw.fields);
    }
    const field = {
      name: raw.name,
      property: camelCase(raw.name),
      type,
      versions: parseVersionRange(raw.versions),
      nullableVersions: parseVersionRange(raw.nullableVersions),
      taggedVersions: parseVersionRange(raw.taggedVersions),
      tag: raw.tag,
      ignorable: raw.ignorable === true,
      defaultText: raw.default,
      flexibleVersions:
        raw.flexibleVersions === undefined ? undefined : parseVersionRange(raw.flexibleVersions),
    };
    if (field.versions === null) throw new Error(`${json.name}.${raw.name}: no versions`);
    return field;
  }

  const root = defineStruct(json.name, json.fields ?? []);
  for (const common of json.commonStructs ?? []) defineStruct(common.name, common.fields);

  // Resolve struct references (a type may name a struct defined elsewhere in the file).
  for (const struct of structs.values()) {
    for (const field of struct.fields) {
      const elementType = field.type.kind === 'array' ? field.type.element : field.type;
      if (elementType.kind === 'struct') {
        const target = structs.get(elementType.name);
        if (target === undefined)
          throw new Error(`${json.name}.${field.name}: unknown struct ${elementType.name}`);
        elementType.struct = target;
      }
    }
  }

  const message = {
    name: json.name,
    messageType: json.type,
    apiKey: json.apiKey,
    validVersions,
    flexibleVersions,
    root,
    structs,
    versions: [],
  };
  for (let version = validVersions.min; version <= validVersions.max; version++) {
    message.versions.push(version);
    markReachable(root, version);
  }
  return message;
}

function markReachable(struct, version) {
  struct.versions.add(version);
  for (const field of struct.fields) {
    if (!inRange(field.versions, version)) continue;
    const elementType = field.type.kind === 'array' ? field.type.element : field.type;
    if (elementType.kind === 'struct') markReachable(elementType.struct, version);
  }
}

export function isFlexible(message, version) {
  return inRange(message.flexibleVersions, version);
}

/** Whether strings/bytes/arrays of this field use the compact (flexible) encoding at `version`. */
export function fieldIsCompact(message, field, version) {
  if (field.flexibleVersions !== undefined) return inRange(field.flexibleVersions, version);
  return isFlexible(message, version);
}

export function fieldIsTagged(field, version) {
  return field.tag !== undefined && inRange(field.taggedVersions, version);
}

export function fieldIsNullable(field, version) {
  return inRange(field.nullableVersions, version);
}

/** Loads every message of the given kinds from the schema folder, sorted by file name. */
export function loadMessages(directory = schemaDirectory()) {
  const files = fs
    .readdirSync(directory)
    .filter((file) => file.endsWith('.json'))
    .sort();
  const messages = [];
  for (const file of files) {
    const json = JSON.parse(stripComments(fs.readFileSync(path.join(directory, file), 'utf8')));
    messages.push({ file, json });
  }
  return messages;
}

/** Data messages generated as versioned codecs besides requests, responses and headers. */
export const generatedDataMessages = new Set([
  'ConsumerProtocolSubscription',
  'ConsumerProtocolAssignment',
]);

/** The schema default of a field as a JS value (bigint for int64, null, booleans, hex). */
export function defaultValue(field) {
  const text = field.defaultText;
  const { type } = field;
  if (type.kind === 'array') return text === 'null' ? null : [];
  if (type.kind === 'struct') return text === 'null' ? null : { struct: type.struct };
  switch (type.name) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'uint16':
    case 'uint32':
      return text === undefined ? 0 : parseInteger(text);
    case 'int64':
      return text === undefined ? 0n : parseBigInteger(text);
    case 'float64':
      return text === undefined ? 0 : Number(text);
    case 'bool':
      return text === 'true';
    case 'string':
      if (text === 'null') return null;
      return text === undefined ? '' : String(text);
    case 'bytes':
      return text === 'null' ? null : Buffer.alloc(0);
    case 'records':
      return null;
    case 'uuid':
      return 'AAAAAAAAAAAAAAAAAAAAAA';
    default:
      throw new Error(`no default for ${type.name}`);
  }
}

function parseInteger(text) {
  const trimmed = String(text).trim();
  const negative = trimmed.startsWith('-');
  const magnitude = Number(negative ? trimmed.slice(1) : trimmed);
  if (!Number.isFinite(magnitude)) throw new Error(`bad integer default ${text}`);
  return negative ? -magnitude : magnitude;
}

function parseBigInteger(text) {
  const trimmed = String(text).trim();
  const negative = trimmed.startsWith('-');
  const magnitude = BigInt(negative ? trimmed.slice(1) : trimmed);
  return negative ? -magnitude : magnitude;
}
