// Test-side access to the generator's schema model (generator/schema.mjs), and a seeded generator
// of random message values that follow a schema at one version.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** packages/protocol (tests run from packages/protocol/dist/codec-tests). */
export const packageDirectory = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
);

export interface VersionRange {
  min: number;
  max: number;
}

export interface FieldType {
  kind: 'primitive' | 'struct' | 'array';
  name?: string;
  element?: FieldType;
  struct?: StructModel;
}

export interface FieldModel {
  name: string;
  property: string;
  type: FieldType;
  versions: VersionRange;
  nullableVersions: VersionRange | null;
  taggedVersions: VersionRange | null;
  tag?: number;
  ignorable: boolean;
  defaultText?: string;
}

export interface StructModel {
  name: string;
  typeName: string;
  fields: FieldModel[];
  versions: Set<number>;
}

export interface MessageModel {
  name: string;
  messageType: string;
  apiKey?: number;
  validVersions: VersionRange;
  flexibleVersions: VersionRange | null;
  root: StructModel;
  versions: number[];
}

export interface SchemaModule {
  schemaDirectory(): string;
  loadMessages(): { file: string; json: { name: string; type: string } }[];
  buildMessage(json: unknown): MessageModel;
  inRange(range: VersionRange | null, version: number): boolean;
  isFlexible(message: MessageModel, version: number): boolean;
  fieldIsTagged(field: FieldModel, version: number): boolean;
  fieldIsNullable(field: FieldModel, version: number): boolean;
  defaultValue(field: FieldModel): unknown;
  generatedDataMessages: Set<string>;
}

export async function loadSchemaModule(): Promise<SchemaModule> {
  const url = pathToFileURL(path.join(packageDirectory, 'generator', 'schema.mjs')).href;
  return (await import(url)) as SchemaModule;
}

/** Whether Kafka's schema folder is present (tests that need it skip otherwise). */
export function schemasAvailable(schema: SchemaModule): boolean {
  return fs.existsSync(schema.schemaDirectory());
}

/** Every generated message model: requests, responses, headers and selected data messages. */
export async function loadMessageModels(): Promise<{
  schema: SchemaModule;
  messages: MessageModel[];
}> {
  const schema = await loadSchemaModule();
  if (!schemasAvailable(schema)) return { schema, messages: [] };
  const messages = schema
    .loadMessages()
    .map(({ json }) => json)
    .filter(
      (json) =>
        json.type === 'request' ||
        json.type === 'response' ||
        json.type === 'header' ||
        schema.generatedDataMessages.has(json.name),
    )
    .map((json) => schema.buildMessage(json));
  return { schema, messages };
}

/** A small deterministic PRNG (mulberry32) so failures replay from the seed. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let value = this.state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  }

  integer(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  bytes(length: number): Buffer {
    const buffer = Buffer.alloc(length);
    for (let index = 0; index < length; index++) buffer[index] = this.integer(0, 255);
    return buffer;
  }
}

const stringAlphabet = ['a', 'b', 'z', 'A', '0', '-', '.', '_', 'é', '€', '😀'];

/** Builds random values for one message at one version, with schema defaults where absent. */
export class ValueGenerator {
  constructor(
    private readonly schema: SchemaModule,
    private readonly message: MessageModel,
    private readonly random: Random,
  ) {}

  private flexible(version: number): boolean {
    return this.schema.isFlexible(this.message, version);
  }

  private reachable(struct: StructModel, field: FieldModel): boolean {
    for (const version of struct.versions)
      if (this.schema.inRange(field.versions, version)) return true;
    return false;
  }

  defaultFor(field: FieldModel): unknown {
    const value = this.schema.defaultValue(field);
    if (
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      !Buffer.isBuffer(value)
    ) {
      return this.defaultStruct((value as { struct: StructModel }).struct);
    }
    return value;
  }

  defaultStruct(struct: StructModel): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    for (const field of struct.fields) {
      if (this.reachable(struct, field)) result[field.property] = this.defaultFor(field);
    }
    return result;
  }

  struct(struct: StructModel, version: number, depth = 0): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    const knownTags = new Set<number>();
    for (const field of struct.fields) {
      if (!this.reachable(struct, field)) continue;
      if (!this.schema.inRange(field.versions, version)) {
        result[field.property] = this.defaultFor(field);
        continue;
      }
      if (this.schema.fieldIsTagged(field, version)) {
        knownTags.add(field.tag as number);
        result[field.property] = this.random.chance(0.4)
          ? this.defaultFor(field)
          : this.fieldValue(field, version, depth);
        continue;
      }
      result[field.property] = this.fieldValue(field, version, depth);
    }
    if (this.flexible(version) && this.random.chance(0.15)) {
      const tags = new Set<number>();
      const count = this.random.integer(1, 3);
      while (tags.size < count) {
        const tag = this.random.integer(0, 40);
        if (!knownTags.has(tag)) tags.add(tag);
      }
      result._unknownTaggedFields = [...tags]
        .sort((left, right) => left - right)
        .map((tag) => ({ tag, data: this.random.bytes(this.random.integer(0, 5)) }));
    }
    return result;
  }

  private fieldValue(field: FieldModel, version: number, depth: number): unknown {
    const nullable = this.schema.fieldIsNullable(field, version);
    if (nullable && this.random.chance(0.2)) return null;
    const { type } = field;
    if (type.kind === 'array') {
      const count = depth > 3 ? 0 : this.random.integer(0, 3);
      const elements: unknown[] = [];
      for (let index = 0; index < count; index++) {
        elements.push(this.elementValue(type.element as FieldType, version, depth + 1));
      }
      return elements;
    }
    return this.elementValue(type, version, depth + 1);
  }

  private elementValue(type: FieldType, version: number, depth: number): unknown {
    if (type.kind === 'struct') return this.struct(type.struct as StructModel, version, depth);
    return this.primitive(type.name as string);
  }

  primitive(name: string): unknown {
    const random = this.random;
    switch (name) {
      case 'int8':
        return random.integer(-128, 127);
      case 'int16':
        return random.integer(-32768, 32767);
      case 'int32':
        return random.integer(-2147483648, 2147483647);
      case 'uint16':
        return random.integer(0, 65535);
      case 'uint32':
        return random.integer(0, 4294967295);
      case 'int64':
        return random.bytes(8).readBigInt64BE(0);
      case 'float64':
        return random.chance(0.5)
          ? random.integer(-1000, 1000)
          : random.bytes(8).readDoubleBE(0) || 0.5;
      case 'bool':
        return random.chance(0.5);
      case 'string': {
        let text = '';
        const length = random.integer(0, 8);
        for (let index = 0; index < length; index++) {
          text += stringAlphabet[random.integer(0, stringAlphabet.length - 1)];
        }
        return text;
      }
      case 'bytes':
      case 'records':
        return random.bytes(random.integer(0, 12));
      case 'uuid':
        return random.bytes(16).toString('base64url');
      default:
        throw new Error(`no random value for ${name}`);
    }
  }
}
