/**
 * Parsing config text into typed values, following Kafka's ConfigDef.parseType: values are
 * trimmed, booleans are case-insensitive, lists are comma-separated with surrounding blanks removed,
 * integers must fit their Java width. Longs become JS numbers (exact up to 2^53, which covers every
 * duration and size a broker acts on); their canonical text keeps all digits for display.
 */
import type { ConfigDefinition, ConfigType, ConfigValue } from './config-types.js';

const integerPattern = /^[+-]?\d+$/;
const doublePattern = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

const integerBounds: Readonly<Record<'short' | 'int' | 'long', readonly [bigint, bigint]>> = {
  short: [-(2n ** 15n), 2n ** 15n - 1n],
  int: [-(2n ** 31n), 2n ** 31n - 1n],
  long: [-(2n ** 63n), 2n ** 63n - 1n],
};

const typeDescriptions: Readonly<Record<ConfigType, string>> = {
  boolean: 'true or false',
  string: 'a string',
  int: 'a 32-bit integer',
  short: 'a 16-bit integer',
  long: 'a 64-bit integer',
  double: 'a number',
  list: 'a comma-separated list',
  class: 'a class name',
  password: 'a string',
};

/** Java's Long.MAX_VALUE as text, the "no limit" default of many Kafka configs. */
export const longMaxText = '9223372036854775807';
/** Java's Integer.MAX_VALUE. */
export const intMax = 2 ** 31 - 1;

export type ParsedConfigValue =
  | { ok: true; value: ConfigValue; text: string }
  | { ok: false; reason: string };

export function parseConfigText(definition: ConfigDefinition, rawText: string): ParsedConfigValue {
  const parsed = parseByType(definition.type, rawText);
  if (!parsed.ok) return parsed;
  const complaint = definition.validator?.check(parsed.value);
  if (complaint !== undefined) {
    return { ok: false, reason: `expected ${withTypeNoun(definition.type, complaint)}` };
  }
  return parsed;
}

/** "a value >= 1" reads better as "an integer >= 1" for integer configs. */
function withTypeNoun(type: ConfigType, complaint: string): string {
  if (!complaint.startsWith('a value ')) return complaint;
  const noun =
    type === 'double'
      ? 'a number'
      : type === 'int' || type === 'short' || type === 'long'
        ? 'an integer'
        : 'a value';
  return `${noun}${complaint.slice('a value'.length)}`;
}

function parseByType(type: ConfigType, rawText: string): ParsedConfigValue {
  const text = rawText.trim();
  const expected = { ok: false as const, reason: `expected ${typeDescriptions[type]}` };
  switch (type) {
    case 'boolean': {
      const lower = text.toLowerCase();
      if (lower !== 'true' && lower !== 'false') return expected;
      return { ok: true, value: lower === 'true', text: lower };
    }
    case 'short':
    case 'int':
    case 'long': {
      if (!integerPattern.test(text)) return expected;
      const big = BigInt(text);
      const [min, max] = integerBounds[type];
      if (big < min || big > max) return expected;
      return { ok: true, value: Number(big), text: big.toString() };
    }
    case 'double': {
      if (!doublePattern.test(text)) return expected;
      const value = Number(text);
      if (!Number.isFinite(value)) return expected;
      return { ok: true, value, text: String(value) };
    }
    case 'list': {
      const elements = text === '' ? [] : text.split(',').map((element) => element.trim());
      if (elements.some((element) => element === '')) {
        return { ok: false, reason: 'expected a comma-separated list without empty elements' };
      }
      return { ok: true, value: elements, text: elements.join(',') };
    }
    case 'string':
    case 'class':
      return { ok: true, value: text, text };
    case 'password':
      // Passwords are not trimmed: a secret may legitimately start or end with a blank.
      return { ok: true, value: rawText, text: rawText };
  }
}

/** Parses a catalog default; an invalid default is a programming error in the catalog. */
export function parseDefault(definition: ConfigDefinition): ConfigValue | null {
  if (definition.defaultText === null) return null;
  const parsed = parseConfigText(definition, definition.defaultText);
  if (!parsed.ok) {
    throw new Error(
      `catalog default "${definition.defaultText}" of ${definition.name} is invalid: ${parsed.reason}`,
    );
  }
  return parsed.value;
}
