/**
 * Structured logger: one JSON object per line on a sink (stderr by default).
 * Levels mean something: DEBUG for tracing, INFO for lifecycle (start, ready, stop, topic created),
 * WARN for anomalies the broker survived (a malformed frame closed a connection), ERROR for
 * failures (a disk write failed, a handler threw).
 */
import { LogLevels, rootLoggerName } from './log-levels.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off';

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  /** The level this logger writes at now (its name's level in `levels`). */
  readonly level: LogLevel;
  /** The levels of this logger and of every logger made from it (children, `withLevels`). */
  readonly levels: LogLevels;
  isEnabled(level: LogLevel): boolean;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /**
   * A logger that adds `fields` to every line. A string `component` field also names the child
   * logger: it is registered in `levels` and writes at that name's level.
   */
  child(fields: LogFields): Logger;
  /** The same sink and fields, with levels read from `levels` (a broker's own registry). */
  withLevels(levels: LogLevels): Logger;
}

const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, off: 100 };

/**
 * A level from its name, any case; null for anything else (names inherited by plain objects, such
 * as "constructor", included: the name may come from the network, through BROKER_LOGGER). log4j's
 * TRACE and FATAL, which Kafka tools may send, map to the nearest level Gregor has.
 */
export function parseLogLevel(text: string): LogLevel | null {
  const lower = text.trim().toLowerCase();
  return levelNames.get(lower) ?? null;
}

const levelNames: ReadonlyMap<string, LogLevel> = new Map([
  ['debug', 'debug'],
  ['trace', 'debug'],
  ['info', 'info'],
  ['warn', 'warn'],
  ['warning', 'warn'],
  ['error', 'error'],
  ['fatal', 'error'],
  ['off', 'off'],
]);

export interface JsonLoggerOptions {
  level: LogLevel;
  /** Receives one complete line including the trailing newline. */
  write?: (line: string) => void;
  wallMs?: () => number;
  fields?: LogFields;
}

export function createJsonLogger(options: JsonLoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const wallMs = options.wallMs ?? Date.now;
  return buildLogger({
    levels: new LogLevels(options.level),
    name: rootLoggerName,
    write,
    wallMs,
    baseFields: options.fields ?? {},
  });
}

interface LoggerParts {
  levels: LogLevels;
  /** The logger's name in `levels`. */
  name: string;
  write: (line: string) => void;
  wallMs: () => number;
  baseFields: LogFields;
}

function buildLogger(parts: LoggerParts): Logger {
  const { levels, name, write, wallMs, baseFields } = parts;
  // Read at each call: the level may change while the broker runs (BROKER_LOGGER).
  const threshold = () => levelRank[levels.levelOf(name)];
  const emit = (lineLevel: LogLevel, message: string, fields?: LogFields) => {
    if (levelRank[lineLevel] < threshold()) return;
    const entry = {
      time: new Date(wallMs()).toISOString(),
      level: lineLevel.toUpperCase(),
      message,
      ...baseFields,
      ...fields,
    };
    write(`${JSON.stringify(entry, jsonReplacer)}\n`);
  };
  return {
    get level() {
      return levels.levelOf(name);
    },
    levels,
    isEnabled: (candidate) => candidate !== 'off' && levelRank[candidate] >= threshold(),
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    child: (fields) => {
      const component = fields.component;
      const childName = typeof component === 'string' ? component : name;
      levels.register(childName);
      return buildLogger({ ...parts, name: childName, baseFields: { ...baseFields, ...fields } });
    },
    withLevels: (replacement) => {
      replacement.register(name);
      return buildLogger({ ...parts, levels: replacement });
    },
  };
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error)
    return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

export const silentLogger: Logger = createJsonLogger({ level: 'off', write: () => {} });
