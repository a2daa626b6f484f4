/**
 * A reader for Java `.properties` text (the format of Kafka's server.properties): `#`/`!`
 * comments, `key=value`, `key: value` or `key value`, backslash line continuation and escapes
 * (`\t`, `\n`, `\uXXXX`, ...). Later keys win, as with java.util.Properties. Each entry keeps its
 * line number so an invalid value can be reported as `server.properties:12`.
 */

export interface PropertyEntry {
  readonly key: string;
  readonly value: string;
  /** 1-based line on which the entry starts. */
  readonly line: number;
}

/** Largest file we agree to parse, in bytes; a server.properties is a few kilobytes. */
export const propertiesFileBytesMax = 4 * 1024 * 1024;

export function parseProperties(text: string): PropertyEntry[] {
  const physicalLines = text.split(/\r\n|\r|\n/);
  const entries: PropertyEntry[] = [];
  let index = 0;
  while (index < physicalLines.length) {
    const startLine = index + 1;
    let logical = physicalLines[index].replace(/^[ \t\f]+/, '');
    index += 1;
    if (logical === '' || logical.startsWith('#') || logical.startsWith('!')) continue;
    while (endsWithContinuation(logical) && index < physicalLines.length) {
      logical = logical.slice(0, -1) + physicalLines[index].replace(/^[ \t\f]+/, '');
      index += 1;
    }
    if (endsWithContinuation(logical)) logical = logical.slice(0, -1);
    entries.push({ ...splitKeyValue(logical), line: startLine });
  }
  return entries;
}

/** A line continues when it ends in an odd number of backslashes. */
function endsWithContinuation(line: string): boolean {
  let backslashes = 0;
  for (let position = line.length - 1; position >= 0 && line[position] === '\\'; position -= 1) {
    backslashes += 1;
  }
  return backslashes % 2 === 1;
}

function splitKeyValue(line: string): { key: string; value: string } {
  let keyEnd = 0;
  while (keyEnd < line.length) {
    const character = line[keyEnd];
    if (character === '\\') {
      keyEnd += 2;
      continue;
    }
    if (character === '=' || character === ':' || isBlank(character)) break;
    keyEnd += 1;
  }
  const rawKey = line.slice(0, Math.min(keyEnd, line.length));
  let valueStart = keyEnd;
  while (valueStart < line.length && isBlank(line[valueStart])) valueStart += 1;
  if (valueStart < line.length && (line[valueStart] === '=' || line[valueStart] === ':')) {
    valueStart += 1;
    while (valueStart < line.length && isBlank(line[valueStart])) valueStart += 1;
  }
  return { key: unescapeProperty(rawKey), value: unescapeProperty(line.slice(valueStart)) };
}

function isBlank(character: string): boolean {
  return character === ' ' || character === '\t' || character === '\f';
}

const simpleEscapes: Readonly<Record<string, string>> = { t: '\t', n: '\n', r: '\r', f: '\f' };

function unescapeProperty(text: string): string {
  if (!text.includes('\\')) return text;
  let result = '';
  for (let position = 0; position < text.length; position += 1) {
    const character = text[position];
    if (character !== '\\' || position === text.length - 1) {
      result += character;
      continue;
    }
    const next = text[position + 1];
    position += 1;
    const hex = text.slice(position + 1, position + 5);
    if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(hex)) {
      result += String.fromCharCode(Number.parseInt(hex, 16));
      position += 4;
    } else {
      result += simpleEscapes[next] ?? next;
    }
  }
  return result;
}
