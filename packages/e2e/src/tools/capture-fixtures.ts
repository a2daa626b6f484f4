import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BrokerProcess } from '../harness/broker-process.js';
import { kafkajsCreateTopic, newKafkajs } from '../harness/kafkajs-client.js';
import { protocolFixturesDirectory } from '../harness/paths.js';
import { withDeadline } from '../harness/wait.js';
import {
  type CaptureClientName,
  captureClientNames,
  captureNamesFor,
  capturePartitionCount,
  captureWorkloads,
} from './capture-workloads.js';
import { RecordProxy } from './record-proxy.js';

/**
 * `npm run capture-fixtures -w @gregor/e2e [-- --first-contact] [--client kafkajs ...]`
 *
 * Runs each third-party client through the recording proxy and stores the recorded frames under
 * packages/protocol/fixtures/<client>/ with a capture.json manifest that the golden test reads.
 * With --first-contact no broker runs: the proxy records each connection's first request
 * (ApiVersions) and closes it.
 */

const framesPerVersionMax = 2;
const workloadTimeoutMs = 180_000;

async function apiNameResolver(): Promise<(apiKey: number) => string> {
  const protocol = (await import('@gregor/protocol')) as Record<string, unknown>;
  const lookup = protocol.getApiDescriptor;
  return (apiKey) => {
    if (typeof lookup === 'function') {
      const descriptor = lookup(apiKey) as { name?: string } | undefined;
      if (descriptor?.name) return descriptor.name;
    }
    return `ApiKey${apiKey}`;
  };
}

/** Broker environment that makes it advertise the proxy instead of itself. */
function advertiseEnvironment(address: { host: string; port: number }): Record<string, string> {
  return { GREGOR_ADVERTISED_LISTENERS: `PLAINTEXT://${address.host}:${address.port}` };
}

async function captureClient(
  client: CaptureClientName,
  options: { firstContactOnly: boolean; apiName: (apiKey: number) => string },
): Promise<void> {
  const workload = captureWorkloads[client];
  const names = captureNamesFor(client);
  // Recorded into a staging folder that replaces the client's fixtures only when the run succeeds.
  const finalDirectory = join(protocolFixturesDirectory, client);
  const outputDirectory = join(protocolFixturesDirectory, `.staging-${client}`);
  await rm(outputDirectory, { recursive: true, force: true });
  await mkdir(outputDirectory, { recursive: true });
  let succeeded = false;
  const proxy = await RecordProxy.start({
    outputDirectory,
    recordResponses: !options.firstContactOnly,
    framesPerVersionMax,
    apiName: options.apiName,
  });
  let broker: BrokerProcess | undefined;
  try {
    if (options.firstContactOnly) {
      await withDeadline(workload.firstContact(proxy.address, names), {
        timeoutMs: 30_000,
        what: `${client} first contact`,
      });
    } else {
      broker = await BrokerProcess.start({
        environment: advertiseEnvironment({ host: '127.0.0.1', port: proxy.port }),
        label: `broker for ${client}`,
      });
      proxy.setUpstream({ host: broker.host, port: broker.port });
      if (workload.needsTopic) {
        proxy.recording = false;
        // Set-up traffic (it reaches the proxy too, as the broker advertises it) is not recorded.
        await kafkajsCreateTopic(
          newKafkajs({ bootstrap: broker.bootstrap, clientId: 'capture-setup' }),
          {
            topic: names.topic,
            partitions: capturePartitionCount,
          },
        );
        proxy.recording = true;
      }
      await withDeadline(workload.run(proxy.address, names), {
        timeoutMs: workloadTimeoutMs,
        what: `${client} workload`,
      });
    }
    succeeded = true;
  } finally {
    const frames = await proxy.close();
    await broker?.dispose();
    const manifest = {
      client,
      clientVersion: workload.describe(),
      mode: options.firstContactOnly ? 'first-contact' : 'full',
      clientId: names.clientId,
      topics: [names.topic],
      groups: [names.group, ...workload.internalGroups],
      frames: frames.sort(
        (a, b) =>
          a.apiKey - b.apiKey ||
          a.apiVersion - b.apiVersion ||
          a.requestFile.localeCompare(b.requestFile),
      ),
    };
    await writeFile(
      join(outputDirectory, 'capture.json'),
      `${JSON.stringify(manifest, null, 2)}\n`,
    );
    if (succeeded) {
      await rm(finalDirectory, { recursive: true, force: true });
      await rename(outputDirectory, finalDirectory);
    } else {
      await rm(outputDirectory, { recursive: true, force: true });
    }
    const mode = options.firstContactOnly ? 'first contact' : 'full';
    console.log(`${client}: ${frames.length} frames (${mode})${succeeded ? '' : ', discarded'}`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'first-contact': { type: 'boolean', default: false },
      client: { type: 'string', multiple: true },
    },
  });
  const clients = (values.client ?? [...captureClientNames]) as CaptureClientName[];
  const apiName = await apiNameResolver();
  let failures = 0;
  for (const client of clients) {
    if (!captureClientNames.includes(client)) throw new Error(`unknown client ${client}`);
    try {
      await captureClient(client, { firstContactOnly: values['first-contact'] ?? false, apiName });
    } catch (error) {
      failures += 1;
      console.error(`${client}: capture failed: ${error instanceof Error ? error.message : error}`);
    }
  }
  process.exit(failures > 0 ? 1 : 0);
}

await main();
