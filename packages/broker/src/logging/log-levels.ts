/**
 * The level of every named logger of one broker, changeable while it runs: Kafka's BROKER_LOGGER
 * config resource (`kafka-configs.sh --entity-type broker-loggers`). A logger is named by its
 * `component` field (server, topics, group-coordinator, ...); "root" is the level every logger
 * without a level of its own follows. Like Kafka's, the levels live in memory only: a restart
 * brings back the level given at start-up (`--log-level`).
 */
import type { LogLevel } from './logger.js';

export const rootLoggerName = 'root';

export class LogLevels {
  private rootLevel: LogLevel;
  /** Every logger name seen, with its own level when it has one. */
  private readonly levels = new Map<string, LogLevel | undefined>();

  constructor(rootLevel: LogLevel) {
    this.rootLevel = rootLevel;
  }

  /** Makes `name` known (a logger was made for it); its level follows root until set. */
  register(name: string): void {
    if (name !== rootLoggerName && !this.levels.has(name)) this.levels.set(name, undefined);
  }

  has(name: string): boolean {
    return name === rootLoggerName || this.levels.has(name);
  }

  /** The level a logger writes at: its own, else root's. Unknown names follow root. */
  levelOf(name: string): LogLevel {
    if (name === rootLoggerName) return this.rootLevel;
    return this.levels.get(name) ?? this.rootLevel;
  }

  /** Gives `name` (or root) its own level. */
  set(name: string, level: LogLevel): void {
    if (name === rootLoggerName) this.rootLevel = level;
    else this.levels.set(name, level);
  }

  /** `name` follows root again (Kafka's DELETE on a broker logger). Root itself cannot be reset. */
  reset(name: string): void {
    if (name !== rootLoggerName && this.levels.has(name)) this.levels.set(name, undefined);
  }

  /** Root first, then every other logger by name. */
  names(): string[] {
    return [rootLoggerName, ...[...this.levels.keys()].sort()];
  }
}
