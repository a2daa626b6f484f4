/**
 * Structured logger: one JSON object per line on a sink (stderr by default).
 * Levels mean something: DEBUG for tracing, INFO for lifecycle (start, ready, stop, topic created),
 * WARN for anomalies the broker survived (a malformed frame closed a connection), ERROR for
 * failures (a disk write failed, a handler threw).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off';

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  readonly level: LogLevel;
  isEnabled(level: LogLevel): boolean;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` (e.g. `{ component: 'server' }`) to every line. */
  child(fields: LogFields): Logger;
}

const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, off: 100 };

export function parseLogLevel(text: string): LogLevel | null {
  const lower = text.trim().toLowerCase();
  if (lower === 'warning') return 'warn';
  return lower in levelRank ? (lower as LogLevel) : null;
}

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
  return buildLogger(options.level, write, wallMs, options.fields ?? {});
}

function buildLogger(
  level: LogLevel,
  write: (line: string) => void,
  wallMs: () => number,
  baseFields: LogFields,
): Logger {
  const threshold = levelRank[level];
  const emit = (lineLevel: LogLevel, message: string, fields?: LogFields) => {
    if (levelRank[lineLevel] < threshold) return;
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
    level,
    isEnabled: (candidate) => levelRank[candidate] >= threshold && candidate !== 'off',
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    child: (fields) => buildLogger(level, write, wallMs, { ...baseFields, ...fields }),
  };
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error)
    return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

export const silentLogger: Logger = buildLogger('off', () => {}, Date.now, {});
