/**
 * Hands out producer ids that are never reused, also across restarts: ids come from blocks whose
 * end is made durable (`producer-id-block`, written atomically) before any id of the block is
 * given out, as Kafka's controller allocates blocks (KIP-730) — a crash skips the rest of a block.
 */
import { type FileSystem, joinPath } from '@gregor/storage';
import type { ProducerId } from '../producer/producer-state.js';

export const producerIdBlockFileName = 'producer-id-block';
/** Ids reserved per durable write. */
export const producerIdBlockSize = 1000n;

/** Reserves `blockSize` producer ids no one else gets (the store's allocateProducerIds). */
export type ProducerIdBlockSource = (
  blockSize: number,
) => Promise<{ firstProducerId: bigint; size: number }>;

export class ProducerIdManager {
  private next = -1n;
  private blockEnd = -1n;
  private allocation: Promise<void> | null = null;

  constructor(
    private readonly fileSystem: FileSystem,
    private readonly directory: string,
    /**
     * Cluster mode: blocks come from the metadata store (unique across brokers) instead of the
     * local file.
     */
    private readonly clusterBlocks?: ProducerIdBlockSource,
  ) {}

  async allocate(): Promise<ProducerId> {
    while (this.next < 0n || this.next >= this.blockEnd) {
      this.allocation ??= this.reserveBlock().finally(() => {
        this.allocation = null;
      });
      await this.allocation;
    }
    const id = this.next;
    this.next++;
    return id;
  }

  private async reserveBlock(): Promise<void> {
    if (this.clusterBlocks !== undefined) {
      const block = await this.clusterBlocks(Number(producerIdBlockSize));
      this.next = block.firstProducerId;
      this.blockEnd = block.firstProducerId + BigInt(block.size);
      return;
    }
    const path = joinPath(this.directory, producerIdBlockFileName);
    const stored = await this.fileSystem.readFile(path);
    let start = 0n;
    if (stored !== null) {
      const text = stored.toString('utf8').trim();
      if (/^\d{1,19}$/.test(text)) start = BigInt(text);
    }
    if (this.blockEnd > start) start = this.blockEnd;
    const end = start + producerIdBlockSize;
    await this.fileSystem.writeFileAtomic(path, Buffer.from(`${end}\n`));
    this.next = start;
    this.blockEnd = end;
  }
}
