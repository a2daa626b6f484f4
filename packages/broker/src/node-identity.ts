/**
 * `meta.properties` in every log dir, as Kafka (KRaft) writes it: the cluster id, this node's id
 * and the directory's own id. The first start generates the cluster id; later starts read it, and
 * refuse a log dir that belongs to another node or cluster (so two configs cannot mix data).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurably } from './durable-file.js';
import { randomTopicId } from './topics/topic-id.js';

export const metaPropertiesFileName = 'meta.properties';

export interface NodeIdentity {
  clusterId: string;
  nodeId: number;
}

export async function loadOrCreateNodeIdentity(options: {
  logDirs: readonly string[];
  nodeId: number;
  wallMs: number;
}): Promise<NodeIdentity> {
  let clusterId: string | undefined;
  const missing: string[] = [];
  for (const directory of options.logDirs) {
    await mkdir(directory, { recursive: true });
    const properties = await readProperties(join(directory, metaPropertiesFileName));
    if (properties === undefined) {
      missing.push(directory);
      continue;
    }
    const foundNodeId = Number(properties.get('node.id') ?? properties.get('broker.id'));
    if (foundNodeId !== options.nodeId) {
      throw new Error(
        `${join(directory, metaPropertiesFileName)} belongs to node ${foundNodeId}, but node.id is ${options.nodeId}`,
      );
    }
    const foundClusterId = properties.get('cluster.id');
    if (foundClusterId === undefined || foundClusterId === '') {
      throw new Error(`${join(directory, metaPropertiesFileName)} has no cluster.id`);
    }
    if (clusterId !== undefined && clusterId !== foundClusterId) {
      throw new Error(`log dirs belong to different clusters (${clusterId} and ${foundClusterId})`);
    }
    clusterId = foundClusterId;
  }
  clusterId ??= randomTopicId();
  for (const directory of missing) {
    const text = [
      '#',
      `#${new Date(options.wallMs).toUTCString()}`,
      `node.id=${options.nodeId}`,
      `directory.id=${randomTopicId()}`,
      'version=1',
      `cluster.id=${clusterId}`,
      '',
    ].join('\n');
    await writeFileDurably(join(directory, metaPropertiesFileName), text);
  }
  return { clusterId, nodeId: options.nodeId };
}

async function readProperties(path: string): Promise<Map<string, string> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const properties = new Map<string, string>();
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const equals = trimmed.indexOf('=');
    if (equals > 0)
      properties.set(trimmed.slice(0, equals).trim(), trimmed.slice(equals + 1).trim());
  }
  return properties;
}
