/**
 * Command-line parsing for `gregor`. Flag values stay text: their meaning and validation belong to
 * the broker config catalog (`loadBrokerConfig`), which reports bad values with their origin.
 */
import type { BrokerConfigFlags } from '@gregor/broker';

export interface BrokerCommand {
  command: 'broker';
  /** server.properties-style file, if given with --config. */
  configFile: string | undefined;
  flags: BrokerConfigFlags & { overrides: string[] };
  /** --log-level, when given (otherwise GREGOR_LOG_LEVEL, else info). */
  logLevel: string | undefined;
  /** --metadata etcd://HOST:PORT[,HOST:PORT...][/NAMESPACE]: join that cluster (else a single node). */
  metadata: string | undefined;
}

export type ParsedCommand =
  | BrokerCommand
  | { command: 'help'; text: string }
  | { command: 'version' }
  | { command: 'error'; message: string };

export const usageText = `Usage: gregor <command> [options]

Commands:
  broker     run a broker in the foreground (a single node, or a cluster member with --metadata)

Options for broker:
  --config FILE          server.properties-style configuration file
  --listen HOST:PORT     address to listen on (default :9092, every interface, advertised as
                         localhost; port 0 picks a free port)
  --data-dir DIR         where partition logs live (default ./data; sets log.dirs)
  --node-id N            this broker's id (default 1)
  --override NAME=VALUE  any broker config by its Kafka name (repeatable)
  --log-level LEVEL      debug, info, warn or error (default info; env GREGOR_LOG_LEVEL)
  --metadata URL         join the cluster whose metadata is in etcd:
                         etcd://HOST:PORT[,HOST:PORT...][/NAMESPACE] (default namespace gregor/);
                         every broker needs a distinct --node-id; --override broker.rack=R sets
                         its rack. Without it the broker is a single node.

Configuration precedence, lowest first: defaults, --config file, environment (KAFKA_<NAME> then
GREGOR_<NAME>, the name upper-cased with dots as underscores: GREGOR_NUM_PARTITIONS=3), flags.
The broker prints one line on stdout when it accepts connections, logs JSON lines on stderr, and
stops cleanly on SIGTERM or SIGINT.
`;

export function parseArguments(argv: readonly string[]): ParsedCommand {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    return { command: 'help', text: usageText };
  }
  if (command === '--version' || command === 'version') return { command: 'version' };
  if (command !== 'broker') return { command: 'error', message: `unknown command "${command}"` };
  const result: BrokerCommand = {
    command: 'broker',
    configFile: undefined,
    flags: { overrides: [] },
    logLevel: undefined,
    metadata: undefined,
  };
  for (let index = 0; index < rest.length; index++) {
    const argument = rest[index]!;
    if (argument === '--help' || argument === '-h') return { command: 'help', text: usageText };
    const equals = argument.indexOf('=');
    const inline = argument.startsWith('--') && equals > 0;
    const flag = inline ? argument.slice(0, equals) : argument;
    let value: string | undefined;
    if (inline) {
      value = argument.slice(equals + 1);
    } else {
      index++;
      value = rest[index];
    }
    if (value === undefined) return { command: 'error', message: `${flag} needs a value` };
    const problem = applyFlag(result, flag, value);
    if (problem !== undefined) return { command: 'error', message: problem };
  }
  return result;
}

function applyFlag(result: BrokerCommand, flag: string, value: string): string | undefined {
  switch (flag) {
    case '--config':
      result.configFile = value;
      return undefined;
    case '--listen':
      result.flags.listen = value;
      return undefined;
    case '--data-dir':
      result.flags.dataDir = value;
      return undefined;
    case '--node-id':
      result.flags.nodeId = value;
      return undefined;
    case '--override':
      if (value.indexOf('=') <= 0) return `--override expects NAME=VALUE, got "${value}"`;
      result.flags.overrides.push(value);
      return undefined;
    case '--log-level':
      result.logLevel = value;
      return undefined;
    case '--metadata':
      result.metadata = value;
      return undefined;
    default:
      return `unknown option "${flag}" (see gregor --help)`;
  }
}
