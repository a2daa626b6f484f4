// Consumers of this process by group id, so that `transaction.sendOffsets({ consumerGroupId })`
// can send the live member id and generation (KIP-447 fencing of zombies) when the consuming
// member runs here; otherwise the offsets go without membership, as kafkajs sends them.

import { type ConsumerGroupMetadata, standaloneGroupMetadata } from '../group-metadata.js';

const providers = new Map<string, Set<() => ConsumerGroupMetadata | undefined>>();

export function registerGroupMember(
  groupId: string,
  metadata: () => ConsumerGroupMetadata | undefined,
): () => void {
  let set = providers.get(groupId);
  if (set === undefined) {
    set = new Set();
    providers.set(groupId, set);
  }
  set.add(metadata);
  return () => {
    set.delete(metadata);
    if (set.size === 0) providers.delete(groupId);
  };
}

export function groupMetadataFor(groupId: string): ConsumerGroupMetadata {
  for (const provider of providers.get(groupId) ?? []) {
    const metadata = provider();
    if (metadata !== undefined && metadata.generationId >= 0) return metadata;
  }
  return standaloneGroupMetadata(groupId);
}
