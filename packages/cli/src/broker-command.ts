import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  Broker,
  type BrokerOptions,
  createJsonLogger,
  loadBrokerConfig,
  parseLogLevel,
} from '@gregor/broker';
import { type BrokerCommand, parseArguments } from './arguments.js';

/** Runs a command; resolves with an exit code, or undefined while a broker keeps running. */
export async function runCommand(argv: readonly string[]): Promise<number | undefined> {
  const parsed = parseArguments(argv);
  switch (parsed.command) {
    case 'help':
      process.stdout.write(parsed.text);
      return 0;
    case 'version':
      process.stdout.write(`gregor ${packageVersion()}\n`);
      return 0;
    case 'error':
      process.stderr.write(`gregor: ${parsed.message}\n`);
      return 2;
    case 'broker':
      return runBroker(parsed);
  }
}

async function runBroker(command: BrokerCommand): Promise<number | undefined> {
  const levelText = command.logLevel ?? process.env.GREGOR_LOG_LEVEL ?? 'info';
  const level = parseLogLevel(levelText);
  if (level === null) {
    process.stderr.write(`gregor: invalid log level "${levelText}" (debug, info, warn, error)\n`);
    return 2;
  }
  const logger = createJsonLogger({ level });
  let broker: Broker;
  try {
    const config = await loadBrokerConfig({
      file: command.configFile,
      flags: command.flags,
      env: process.env,
    });
    let metadata: BrokerOptions['metadata'];
    if (command.metadata !== undefined) {
      // Cluster mode: the broker registers with and follows the cluster's metadata in etcd. The
      // etcd client (gRPC, protobuf: about 0.35 s of CPU to load) is loaded only then.
      const { EtcdMetadataStore, etcdOptionsFromUrl } = await import('@gregor/metadata/etcd-store');
      const etcdOptions = etcdOptionsFromUrl(command.metadata);
      const store = new EtcdMetadataStore(etcdOptions);
      metadata = {
        store,
        sessionTtlMs: config.get('broker.session.timeout.ms'),
        clusterId: clusterIdOf(etcdOptions.namespace ?? ''),
      };
    }
    try {
      broker = await Broker.start({ config, logger, metadata });
    } catch (error) {
      await metadata?.store.close().catch(() => undefined);
      throw error;
    }
  } catch (error) {
    process.stderr.write(`gregor: ${(error as Error).message}\n`);
    return 1;
  }
  const startupMs = Math.round(performance.now());
  // The bound address first (what a local script connects to), then the advertised one if it differs.
  const advertised =
    broker.bootstrapAddress === broker.boundAddress
      ? ''
      : ` (advertised ${broker.bootstrapAddress})`;
  process.stdout.write(
    `gregor: broker ${broker.nodeId} ready on ${broker.boundAddress}${advertised} (data ${broker.logDirs.join(',')}) in ${startupMs} ms\n`,
  );
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn('second signal while stopping; exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('signal received; stopping', { signal });
    broker.stop().then(
      () => {
        process.exitCode = 0;
        // Anything still holding the loop open (a stuck socket) must not keep us alive.
        setTimeout(() => process.exit(0), 2000).unref();
      },
      (error: unknown) => {
        logger.error('stop failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return undefined;
}

/**
 * One cluster id for every broker of a cluster: derived from its etcd namespace, which names the
 * cluster (Kafka's 22-character base64url form).
 */
function clusterIdOf(namespace: string): string {
  return createHash('sha256')
    .update(`gregor-cluster:${namespace}`)
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

function packageVersion(): string {
  try {
    const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
    return (JSON.parse(text) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
