// Small helpers the admin modules share.

import type { TopicPartition } from '../consumer/list-offsets.js';

export function groupByTopic<T extends TopicPartition>(entries: Iterable<T>): Map<string, T[]> {
  const topics = new Map<string, T[]>();
  for (const entry of entries) {
    const list = topics.get(entry.topic) ?? [];
    list.push(entry);
    topics.set(entry.topic, list);
  }
  return topics;
}

/** Two-way mapping between Kafka's numeric codes and readable names. */
export class CodeNames<Name extends string> {
  private readonly byName: ReadonlyMap<Name, number>;
  private readonly byCode: ReadonlyMap<number, Name>;
  constructor(entries: Record<Name, number>) {
    const pairs = Object.entries(entries) as [Name, number][];
    this.byName = new Map(pairs);
    this.byCode = new Map(pairs.map(([name, code]) => [code, name]));
  }
  code(name: Name): number {
    const code = this.byName.get(name);
    if (code === undefined) throw new RangeError(`unknown name ${name}`);
    return code;
  }
  name(code: number): Name | 'unknown' {
    return this.byCode.get(code) ?? 'unknown';
  }
}
