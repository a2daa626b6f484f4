// Emits TypeScript for one message: interfaces, then one decoder and one encoder per group of
// versions that share a byte layout, then the version-indexed entry points. The emitted code is
// straight-line: no schema is walked at run time.
import {
  defaultValue,
  fieldIsCompact,
  fieldIsNullable,
  fieldIsTagged,
  inRange,
  isFlexible,
} from './schema.mjs';

const primitiveTsTypes = {
  int8: 'number',
  int16: 'number',
  int32: 'number',
  int64: 'bigint',
  uint16: 'number',
  uint32: 'number',
  float64: 'number',
  bool: 'boolean',
  string: 'string',
  bytes: 'Buffer',
  uuid: 'string',
  records: 'RecordsData',
};

const primitiveMethodNames = {
  int8: 'Int8',
  int16: 'Int16',
  int32: 'Int32',
  int64: 'Int64',
  uint16: 'Uint16',
  uint32: 'Uint32',
  float64: 'Float64',
  bool: 'Bool',
  uuid: 'Uuid',
};

/** Smallest encoding of each primitive, used to bound array counts by the bytes left. */
const primitiveBytesMin = {
  int8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  uint16: 2,
  uint32: 4,
  float64: 8,
  bool: 1,
  uuid: 16,
};

export class MessageEmitter {
  constructor(message, imports) {
    this.message = message;
    this.imports = imports;
    this.signatures = new Map();
    this.lines = [];
    this.defaultFactories = new Set();
  }

  use(name) {
    this.imports.add(name);
    return name;
  }

  orderedStructs() {
    return [...this.message.structs.values()].filter((struct) => struct.versions.size > 0);
  }

  structVersions(struct) {
    return [...struct.versions].sort((left, right) => left - right);
  }

  /** A string that is equal for two versions exactly when their byte layouts are equal. */
  signature(struct, version) {
    const key = `${struct.name}@${version}`;
    const cached = this.signatures.get(key);
    if (cached !== undefined) return cached;
    const parts = [isFlexible(this.message, version) ? 'F' : 'N'];
    for (const field of struct.fields) {
      if (!inRange(field.versions, version)) {
        parts.push('-');
        continue;
      }
      const elementType = field.type.kind === 'array' ? field.type.element : field.type;
      const child =
        elementType.kind === 'struct' ? this.signature(elementType.struct, version) : '';
      parts.push(
        [
          fieldIsNullable(field, version) ? 'n' : '',
          fieldIsTagged(field, version) ? `t${field.tag}` : '',
          fieldIsCompact(this.message, field, version) ? 'c' : '',
          `{${child}}`,
        ].join(''),
      );
    }
    const signature = parts.join('|');
    this.signatures.set(key, signature);
    return signature;
  }

  /** The first version whose layout equals that of `version`: names the shared function. */
  groupVersion(struct, version) {
    const signature = this.signature(struct, version);
    for (const candidate of this.structVersions(struct)) {
      if (this.signature(struct, candidate) === signature) return candidate;
    }
    throw new Error('unreachable');
  }

  groups(struct) {
    const result = [];
    for (const version of this.structVersions(struct)) {
      if (this.groupVersion(struct, version) === version) result.push(version);
    }
    return result;
  }

  decoderName(struct, version) {
    return `decode${struct.typeName}V${this.groupVersion(struct, version)}`;
  }

  encoderName(struct, version) {
    return `encode${struct.typeName}V${this.groupVersion(struct, version)}`;
  }

  // ---------------------------------------------------------------- types

  tsElementType(type) {
    if (type.kind === 'struct') return type.struct.typeName;
    return primitiveTsTypes[type.name];
  }

  tsType(field) {
    const nullable = field.nullableVersions !== null;
    let base;
    if (field.type.kind === 'array') {
      const element = this.tsElementType(field.type.element);
      base = `${element}[]`;
    } else {
      base = this.tsElementType(field.type);
    }
    if (base === 'RecordsData') this.use('RecordsData');
    if (nullable && base !== 'RecordsData') return `${base} | null`;
    return base;
  }

  isOptional(struct, field) {
    if (field.tag !== undefined) return true;
    for (const version of struct.versions) {
      if (!inRange(field.versions, version)) return true;
    }
    return false;
  }

  structIsEverFlexible(struct) {
    for (const version of struct.versions) if (isFlexible(this.message, version)) return true;
    return false;
  }

  emitInterfaces() {
    for (const struct of this.orderedStructs()) {
      this.lines.push(`export interface ${struct.typeName} {`);
      for (const field of struct.fields) {
        const reachable = [...struct.versions].some((version) => inRange(field.versions, version));
        if (!reachable) continue;
        const optional = this.isOptional(struct, field) ? '?' : '';
        this.lines.push(`  ${field.property}${optional}: ${this.tsType(field)};`);
      }
      if (this.structIsEverFlexible(struct)) {
        this.use('TaggedField');
        this.lines.push('  _unknownTaggedFields?: TaggedField[];');
      }
      this.lines.push('}', '');
    }
  }

  // ---------------------------------------------------------------- defaults

  defaultLiteral(field) {
    const value = defaultValue(field);
    if (value === null) return 'null';
    if (Array.isArray(value)) return '[]';
    if (Buffer.isBuffer(value)) return this.use('EMPTY_BUFFER');
    if (typeof value === 'bigint') return `${value}n`;
    if (typeof value === 'object') return `${this.defaultFactoryName(value.struct)}()`;
    if (field.type.kind === 'primitive' && field.type.name === 'uuid') return this.use('ZERO_UUID');
    if (typeof value === 'string') return JSON.stringify(value);
    return String(value);
  }

  defaultFactoryName(struct) {
    this.defaultFactories.add(struct);
    return `default${struct.typeName}`;
  }

  /** A JS condition true when `expression` (not undefined) differs from the field default. */
  nonDefaultCondition(field, expression) {
    const value = defaultValue(field);
    const { type } = field;
    if (type.kind === 'array' || (type.kind === 'primitive' && type.name === 'bytes')) {
      if (value === null) return `${expression} !== null`;
      return `(${expression} === null || ${expression}.length > 0)`;
    }
    if (type.kind === 'struct') {
      if (value === null) return `${expression} !== null`;
      this.use('valueEquals');
      return `(${expression} === null || !valueEquals(${expression}, ${this.defaultLiteral(field)}))`;
    }
    return `${expression} !== ${this.defaultLiteral(field)}`;
  }

  emitDefaultFactories() {
    // Factories may reference further factories; emit until closed.
    const emitted = new Set();
    let pending = [...this.defaultFactories];
    while (pending.length > 0) {
      for (const struct of pending) {
        emitted.add(struct);
        const entries = struct.fields
          .filter((field) =>
            [...struct.versions].some((version) => inRange(field.versions, version)),
          )
          .map((field) => `${field.property}: ${this.defaultLiteral(field)}`);
        this.lines.push(
          `function ${this.defaultFactoryName(struct)}(): ${struct.typeName} {`,
          `  return { ${entries.join(', ')} };`,
          '}',
          '',
        );
      }
      pending = [...this.defaultFactories].filter((struct) => !emitted.has(struct));
    }
  }

  // ---------------------------------------------------------------- decode

  elementBytesMin(type, version, compact) {
    if (type.kind === 'struct') return this.structBytesMin(type.struct, version);
    if (type.name === 'string') return compact ? 1 : 2;
    if (type.name === 'bytes' || type.name === 'records') return compact ? 1 : 4;
    return primitiveBytesMin[type.name];
  }

  structBytesMin(struct, version) {
    let total = isFlexible(this.message, version) ? 1 : 0;
    for (const field of struct.fields) {
      if (!inRange(field.versions, version) || fieldIsTagged(field, version)) continue;
      const compact = fieldIsCompact(this.message, field, version);
      if (field.type.kind === 'array') total += compact ? 1 : 4;
      else if (field.type.kind === 'struct' && fieldIsNullable(field, version)) total += 1;
      else total += this.elementBytesMin(field.type, version, compact);
    }
    return Math.max(total, 1);
  }

  primitiveReadCall(name, compact, nullable, reader) {
    if (name === 'string' || name === 'bytes') {
      const kind = name === 'string' ? 'String' : 'Bytes';
      return `${reader}.read${compact ? 'Compact' : ''}${nullable ? 'Nullable' : ''}${kind}()`;
    }
    if (name === 'records') return `${reader}.read${compact ? 'Compact' : ''}Records()`;
    return `${reader}.read${primitiveMethodNames[name]}()`;
  }

  primitiveElementReader(name, compact) {
    if (name === 'string' || name === 'bytes') {
      const kind = name === 'string' ? 'String' : 'Bytes';
      return this.use(`read${compact ? 'Compact' : ''}${kind}Element`);
    }
    return this.use(`read${primitiveMethodNames[name]}Element`);
  }

  readExpression(field, version, reader) {
    const nullable = fieldIsNullable(field, version);
    const compact = fieldIsCompact(this.message, field, version) || fieldIsTagged(field, version);
    const { type } = field;
    if (type.kind === 'primitive')
      return this.primitiveReadCall(type.name, compact, nullable, reader);
    if (type.kind === 'struct') {
      const decoder = this.decoderName(type.struct, version);
      return nullable ? `${reader}.readNullableStruct(${decoder})` : `${decoder}(${reader})`;
    }
    const element = type.element;
    const elementReader =
      element.kind === 'struct'
        ? this.decoderName(element.struct, version)
        : this.primitiveElementReader(element.name, compact);
    const method = `read${compact ? 'Compact' : ''}${nullable ? 'Nullable' : ''}Array`;
    return `${reader}.${method}(${elementReader}, ${this.elementBytesMin(element, version, compact)})`;
  }

  emitDecoder(struct, version) {
    const name = this.decoderName(struct, version);
    const flexible = isFlexible(this.message, version);
    const entries = [];
    const taggedCases = [];
    for (const field of struct.fields) {
      const reachable = [...struct.versions].some((candidate) =>
        inRange(field.versions, candidate),
      );
      if (!reachable) continue;
      if (!inRange(field.versions, version)) {
        entries.push(`${field.property}: ${this.defaultLiteral(field)}`);
      } else if (fieldIsTagged(field, version)) {
        entries.push(`${field.property}: ${this.defaultLiteral(field)}`);
        taggedCases.push(
          `      case ${field.tag}:`,
          `        value.${field.property} = ${this.readExpression(field, version, 'tagReader')};`,
          '        return true;',
        );
      } else {
        entries.push(`${field.property}: ${this.readExpression(field, version, 'reader')}`);
      }
    }
    this.use('Reader');
    const body = entries.map((entry) => `    ${entry},`);
    if (!flexible) {
      this.lines.push(`function ${name}(reader: Reader): ${struct.typeName} {`);
      this.lines.push('  return {', ...body, '  };', '}', '');
      return;
    }
    this.lines.push(`function ${name}(reader: Reader): ${struct.typeName} {`);
    this.lines.push(`  const value: ${struct.typeName} = {`, ...body, '  };');
    if (taggedCases.length === 0) {
      this.lines.push(`  reader.readTaggedFields(value, ${this.use('noKnownTags')});`);
    } else {
      this.lines.push(
        '  reader.readTaggedFields(value, (tag, tagReader) => {',
        '    switch (tag) {',
      );
      this.lines.push(...taggedCases, '      default:', '        return false;', '    }', '  });');
    }
    this.lines.push('  return value;', '}', '');
  }

  // ---------------------------------------------------------------- encode

  primitiveWriteStatement(name, compact, nullable, writer, expression) {
    if (name === 'string' || name === 'bytes') {
      const kind = name === 'string' ? 'String' : 'Bytes';
      return `${writer}.write${compact ? 'Compact' : ''}${nullable ? 'Nullable' : ''}${kind}(${expression});`;
    }
    if (name === 'records')
      return `${writer}.write${compact ? 'Compact' : ''}Records(${expression});`;
    return `${writer}.write${primitiveMethodNames[name]}(${expression});`;
  }

  primitiveElementWriter(name, compact) {
    if (name === 'string' || name === 'bytes') {
      const kind = name === 'string' ? 'String' : 'Bytes';
      return this.use(`write${compact ? 'Compact' : ''}${kind}Element`);
    }
    return this.use(`write${primitiveMethodNames[name]}Element`);
  }

  writeStatement(field, version, writer, expression) {
    const nullable = fieldIsNullable(field, version);
    const compact = fieldIsCompact(this.message, field, version) || fieldIsTagged(field, version);
    const { type } = field;
    if (type.kind === 'primitive') {
      return this.primitiveWriteStatement(type.name, compact, nullable, writer, expression);
    }
    if (type.kind === 'struct') {
      const encoder = this.encoderName(type.struct, version);
      if (nullable) return `${writer}.writeNullableStruct(${expression}, ${encoder});`;
      return `${encoder}(${writer}, ${expression});`;
    }
    const element = type.element;
    const elementWriter =
      element.kind === 'struct'
        ? this.encoderName(element.struct, version)
        : this.primitiveElementWriter(element.name, compact);
    const method = `write${compact ? 'Compact' : ''}${nullable ? 'Nullable' : ''}Array`;
    return `${writer}.${method}(${expression}, ${elementWriter});`;
  }

  emitEncoder(struct, version) {
    const name = this.encoderName(struct, version);
    const flexible = isFlexible(this.message, version);
    const lines = [];
    const tagged = [];
    for (const field of struct.fields) {
      const reachable = [...struct.versions].some((candidate) =>
        inRange(field.versions, candidate),
      );
      if (!reachable) continue;
      const access = `value.${field.property}`;
      const optional = this.isOptional(struct, field);
      if (!inRange(field.versions, version)) {
        if (field.ignorable) continue;
        this.use('unsupportedFieldError');
        lines.push(
          `  if (${access} !== undefined && ${this.nonDefaultCondition(field, access)}) {`,
          `    throw unsupportedFieldError('${struct.typeName}', '${field.property}', ${version});`,
          '  }',
        );
      } else if (fieldIsTagged(field, version)) {
        const local = `tagged${field.tag}`;
        tagged.push(
          `  const ${local} = ${access};`,
          `  if (${local} !== undefined && ${this.nonDefaultCondition(field, local)}) {`,
          `    (taggedFields ??= []).push({ tag: ${field.tag}, data: Writer.encodeToBuffer((tagWriter) => {`,
          `      ${this.writeStatement(field, version, 'tagWriter', local)}`,
          '    }) });',
          '  }',
        );
      } else {
        let expression = optional
          ? `(${access} === undefined ? ${this.defaultLiteral(field)} : ${access})`
          : access;
        // Nullable in another version only: null is rejected at run time by the writer.
        const nullableElsewhere =
          field.nullableVersions !== null && !fieldIsNullable(field, version);
        if (
          nullableElsewhere &&
          !(field.type.kind === 'primitive' && field.type.name === 'records')
        ) {
          expression = `${expression}!`;
        }
        lines.push(`  ${this.writeStatement(field, version, 'writer', expression)}`);
      }
    }
    this.use('Writer');
    this.lines.push(
      `function ${name}(writer: Writer, value: ${struct.typeName}): void {`,
      ...lines,
    );
    if (flexible) {
      if (tagged.length > 0) {
        this.use('TaggedField');
        this.lines.push('  let taggedFields: TaggedField[] | undefined;', ...tagged);
        this.lines.push('  writer.writeTaggedFields(taggedFields, value._unknownTaggedFields);');
      } else {
        this.lines.push('  writer.writeTaggedFields(undefined, value._unknownTaggedFields);');
      }
    }
    this.lines.push('}', '');
  }

  // ---------------------------------------------------------------- entry points

  emitEntryPoints() {
    const { root, name, versions } = this.message;
    const tableName = name[0].toLowerCase() + name.slice(1);
    const decoders = [];
    const encoders = [];
    for (let version = 0; version <= versions[versions.length - 1]; version++) {
      const valid = versions.includes(version);
      decoders.push(valid ? this.decoderName(root, version) : 'undefined');
      encoders.push(valid ? this.encoderName(root, version) : 'undefined');
    }
    this.use('unsupportedVersionError');
    this.lines.push(
      `const ${tableName}Decoders: ReadonlyArray<((reader: Reader) => ${name}) | undefined> = [`,
      `  ${decoders.join(', ')},`,
      '];',
      '',
      `const ${tableName}Encoders: ReadonlyArray<((writer: Writer, value: ${name}) => void) | undefined> = [`,
      `  ${encoders.join(', ')},`,
      '];',
      '',
      `export function decode${name}(reader: Reader, version: number): ${name} {`,
      `  const decode = ${tableName}Decoders[version];`,
      `  if (decode === undefined) throw unsupportedVersionError('${name}', version, reader.offset);`,
      '  return decode(reader);',
      '}',
      '',
      `export function encode${name}(writer: Writer, version: number, value: ${name}): void {`,
      `  const encode = ${tableName}Encoders[version];`,
      `  if (encode === undefined) throw new RangeError(\`${name} has no version \${version}\`);`,
      '  encode(writer, value);',
      '}',
      '',
    );
  }

  emit() {
    this.emitInterfaces();
    const structs = this.orderedStructs();
    for (const struct of structs)
      for (const version of this.groups(struct)) this.emitDecoder(struct, version);
    for (const struct of structs)
      for (const version of this.groups(struct)) this.emitEncoder(struct, version);
    this.emitEntryPoints();
    const body = this.lines;
    this.lines = [];
    this.emitDefaultFactories();
    return [...body, ...this.lines];
  }
}
