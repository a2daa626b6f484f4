/**
 * BROKER_LOGGER config resources (Kafka's `kafka-configs.sh --entity-type broker-loggers`): every
 * named logger of this broker with its level, described by DescribeConfigs and changed by
 * IncrementalAlterConfigs (SET a level, DELETE to follow the root logger again). Kafka's rules:
 * only SET and DELETE, an unknown logger or level is INVALID_CONFIG, the root logger cannot be
 * deleted, and the change lives until the broker restarts. Levels are Gregor's (DEBUG, INFO,
 * WARN, ERROR, OFF); log4j's TRACE and FATAL are taken as DEBUG and ERROR.
 */
import { ErrorCode } from '@gregor/protocol';
import { ConfigSource, configTypeCode, type DescribedConfig } from '../config/index.js';
import { type LogLevels, rootLoggerName } from '../logging/log-levels.js';
import { type Logger, type LogLevel, parseLogLevel } from '../logging/logger.js';
import {
  ConfigOperation,
  type ResourceOutcome,
  resourceError,
  resourceOk,
} from './config-resources.js';

const levelNames = 'DEBUG, INFO, WARN, ERROR, OFF (TRACE is taken as DEBUG, FATAL as ERROR)';

/** Every logger and its level, as DescribeConfigs entries. */
export function describeBrokerLoggers(levels: LogLevels): DescribedConfig[] {
  return levels.names().map((name) => ({
    name,
    value: levels.levelOf(name).toUpperCase(),
    readOnly: false,
    isDefault: false,
    source: ConfigSource.DYNAMIC_BROKER_LOGGER_CONFIG,
    sensitive: false,
    synonyms: [],
    configType: configTypeCode.string,
    documentation: `Level of the ${name} logger: ${levelNames}.`,
  }));
}

export interface LoggerChange {
  name: string;
  configOperation: number;
  value: string | null;
}

/**
 * Checks every change first; applies them all (unless `validateOnly`) only when every one is
 * valid, so one bad entry changes nothing.
 */
export function alterBrokerLoggers(
  logger: Logger,
  changes: readonly LoggerChange[],
  options: { validateOnly: boolean },
): ResourceOutcome {
  const levels = logger.levels;
  const planned: { name: string; level: LogLevel | null }[] = [];
  for (const change of changes) {
    const { name } = change;
    if (!levels.has(name)) {
      return resourceError(ErrorCode.INVALID_CONFIG, `logger "${name}" does not exist`);
    }
    if (change.configOperation === ConfigOperation.SET) {
      const level = change.value === null ? null : parseLogLevel(change.value);
      if (level === null) {
        return resourceError(
          ErrorCode.INVALID_CONFIG,
          `cannot set logger "${name}" to ${change.value === null ? 'no level' : `"${change.value}"`}: the levels are ${levelNames}`,
        );
      }
      planned.push({ name, level });
    } else if (change.configOperation === ConfigOperation.DELETE) {
      if (name === rootLoggerName) {
        return resourceError(
          ErrorCode.INVALID_REQUEST,
          'the root logger cannot be deleted; SET its level instead',
        );
      }
      planned.push({ name, level: null });
    } else {
      return resourceError(
        ErrorCode.INVALID_REQUEST,
        `operation ${change.configOperation} on logger "${name}": a broker logger takes only SET and DELETE`,
      );
    }
  }
  if (options.validateOnly || planned.length === 0) return resourceOk;
  for (const { name, level } of planned) {
    if (level === null) levels.reset(name);
    else levels.set(name, level);
  }
  logger.info('logger levels changed', {
    changes: planned.map(({ name, level }) => `${name}=${level ?? 'root'}`),
  });
  return resourceOk;
}
