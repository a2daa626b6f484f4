// kafkajs's logging contract: numeric levels, a `logCreator(level)` returning the function every
// entry goes to, namespaced loggers, `KAFKAJS_LOG_LEVEL` overriding the configured level.

export const logLevel = {
  NOTHING: 0,
  ERROR: 1,
  WARN: 2,
  INFO: 4,
  DEBUG: 5,
} as const;

export type LogLevel = (typeof logLevel)[keyof typeof logLevel];

export interface LogEntry {
  namespace: string;
  level: LogLevel;
  label: string;
  log: { timestamp: string; logger: 'kafkajs'; message: string; [key: string]: unknown };
}

export type LogCreator = (level: LogLevel) => (entry: LogEntry) => void;

export interface Logger {
  info(message: string, extra?: object): void;
  error(message: string, extra?: object): void;
  warn(message: string, extra?: object): void;
  debug(message: string, extra?: object): void;
  namespace(namespace: string, level?: LogLevel): Logger;
  setLogLevel(level: LogLevel): void;
}

function levelFromEnvironment(level: LogLevel): LogLevel {
  const name = (process.env.KAFKAJS_LOG_LEVEL ?? '').toUpperCase();
  return name in logLevel ? logLevel[name as keyof typeof logLevel] : level;
}

/** kafkajs's default: one JSON line per entry on the console, at the entry's level. */
export const defaultLogCreator: LogCreator = () => (entry) => {
  const line = JSON.stringify({ level: entry.label, ...entry.log });
  if (entry.level === logLevel.ERROR) console.error(line);
  else if (entry.level === logLevel.WARN) console.warn(line);
  else console.log(line);
};

export function createLogger(options: { level?: LogLevel; logCreator?: LogCreator }): Logger {
  let rootLevel = levelFromEnvironment(options.level ?? logLevel.INFO);
  const write = (options.logCreator ?? defaultLogCreator)(rootLevel);
  const make = (namespace: string, ownLevel: LogLevel | null): Logger => {
    const current = () => ownLevel ?? rootLevel;
    const at =
      (label: string, level: LogLevel) =>
      (message: string, extra: object = {}) => {
        if (level > current()) return;
        write({
          namespace,
          level,
          label,
          log: { timestamp: new Date().toISOString(), logger: 'kafkajs', message, ...extra },
        });
      };
    return {
      info: at('INFO', logLevel.INFO),
      error: at('ERROR', logLevel.ERROR),
      warn: at('WARN', logLevel.WARN),
      debug: at('DEBUG', logLevel.DEBUG),
      namespace: (child, level) =>
        make(child, level === undefined ? null : levelFromEnvironment(level)),
      setLogLevel: (level) => {
        rootLevel = level;
      },
    };
  };
  return make('', null);
}
