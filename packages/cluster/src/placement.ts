/**
 * Replica placement: Kafka's AdminUtils.assignReplicasToBrokers, ported to give the same
 * assignments (server-common admin/AdminUtils.java).
 *
 * Without racks: the first replica of each partition goes round robin over the brokers sorted by
 * id, from a random start; the followers sit at an increasing shift from it, and the shift grows
 * by one after every full round, so partition n+brokers does not repeat partition n's followers.
 * With racks: the same round robin over a rack-alternated broker list (racks sorted, brokers of a
 * rack sorted, one broker of each rack in turn), and a follower candidate is skipped while its
 * rack already holds a replica and some rack holds none, or while it holds a replica and some
 * broker holds none. Every broker must name a rack, or none may.
 */
import { ErrorCode } from '@gregor/protocol';

export interface PlacementBroker {
  readonly id: number;
  readonly rack?: string | null;
}

export interface PlacementOptions {
  /** The brokers replicas may go to (live and not shutting down). */
  brokers: readonly PlacementBroker[];
  partitionCount: number;
  replicationFactor: number;
  /** Partition id of the first partition placed (CreatePartitions starts after the existing ones). */
  startPartitionId?: number;
  /** Fixes both the start index and the initial shift (Kafka's fixedStartIndex); random if absent. */
  fixedStartIndex?: number;
  /** Uniform integer in [0, bound): the injected randomness for the start and the shift. */
  randomInt?: (bound: number) => number;
}

/** A placement that cannot be made, with the Kafka error a request gets for it. */
export class PlacementError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'PlacementError';
  }
}

const defaultRandomInt = (bound: number) => Math.floor(Math.random() * bound);

/** Replica lists in partition order: element i is partition startPartitionId + i. */
export function placeReplicas(options: PlacementOptions): number[][] {
  const { brokers, partitionCount, replicationFactor } = options;
  if (partitionCount <= 0) {
    throw new PlacementError(
      ErrorCode.INVALID_PARTITIONS,
      'Number of partitions must be larger than 0.',
    );
  }
  if (replicationFactor <= 0) {
    throw new PlacementError(
      ErrorCode.INVALID_REPLICATION_FACTOR,
      'Replication factor must be larger than 0.',
    );
  }
  if (replicationFactor > brokers.length) {
    throw new PlacementError(
      ErrorCode.INVALID_REPLICATION_FACTOR,
      `Replication factor: ${replicationFactor} larger than available brokers: ${brokers.length}.`,
    );
  }
  const withRack = brokers.filter((broker) => hasRack(broker));
  if (withRack.length === 0) {
    const sortedIds = brokers.map((broker) => broker.id).sort((left, right) => left - right);
    return placeRoundRobin(sortedIds, options);
  }
  if (withRack.length !== brokers.length) {
    throw new PlacementError(
      ErrorCode.INVALID_REQUEST,
      'Not all brokers have rack information for replica rack aware assignment.',
    );
  }
  return placeRackAware(brokers, options);
}

function hasRack(broker: PlacementBroker): boolean {
  return broker.rack !== undefined && broker.rack !== null;
}

interface Cursor {
  startIndex: number;
  shift: number;
}

function startCursor(brokerCount: number, options: PlacementOptions): Cursor {
  const randomInt = options.randomInt ?? defaultRandomInt;
  const fixed = options.fixedStartIndex;
  if (fixed !== undefined && fixed >= 0) return { startIndex: fixed, shift: fixed };
  // Two draws in this order, as Kafka makes them: the start index, then the initial shift.
  const startIndex = randomInt(brokerCount);
  const shift = randomInt(brokerCount);
  return { startIndex, shift };
}

/** Index of a follower: 1 + (shift + j) mod (n - 1) places after the first replica. */
function followerIndex(first: number, shift: number, replica: number, brokerCount: number): number {
  const offset = 1 + ((shift + replica) % (brokerCount - 1));
  return (first + offset) % brokerCount;
}

/**
 * The loop both placements share: partition by partition from startPartitionId, the first
 * replica round robin from the start index, the shift growing by one at each full round.
 */
function placeEach(
  brokerCount: number,
  options: PlacementOptions,
  replicasFor: (first: number, shift: number) => number[],
): number[][] {
  const cursor = startCursor(brokerCount, options);
  let partitionId = Math.max(0, options.startPartitionId ?? 0);
  const result: number[][] = [];
  for (let index = 0; index < options.partitionCount; index++) {
    if (partitionId > 0 && partitionId % brokerCount === 0) cursor.shift += 1;
    result.push(replicasFor((partitionId + cursor.startIndex) % brokerCount, cursor.shift));
    partitionId += 1;
  }
  return result;
}

function placeRoundRobin(brokerIds: readonly number[], options: PlacementOptions): number[][] {
  const count = brokerIds.length;
  return placeEach(count, options, (first, shift) => {
    const replicas = [brokerIds[first]!];
    for (let j = 0; j < options.replicationFactor - 1; j++) {
      replicas.push(brokerIds[followerIndex(first, shift, j, count)]!);
    }
    return replicas;
  });
}

function placeRackAware(
  brokers: readonly PlacementBroker[],
  options: PlacementOptions,
): number[][] {
  const rackOf = new Map<number, string>();
  for (const broker of brokers) rackOf.set(broker.id, broker.rack!);
  const rackCount = new Set(rackOf.values()).size;
  const arranged = rackAlternatedBrokerList(rackOf);
  const count = arranged.length;
  return placeEach(count, options, (first, shift) => {
    const leader = arranged[first]!;
    const replicas = [leader];
    const racksWithReplicas = new Set([rackOf.get(leader)!]);
    const brokersWithReplicas = new Set([leader]);
    let candidate = 0;
    for (let j = 0; j < options.replicationFactor - 1; j++) {
      for (;;) {
        const broker = arranged[followerIndex(first, shift * rackCount, candidate, count)]!;
        const rack = rackOf.get(broker)!;
        candidate += 1;
        const rackAllowed = !racksWithReplicas.has(rack) || racksWithReplicas.size === rackCount;
        const brokerAllowed =
          !brokersWithReplicas.has(broker) || brokersWithReplicas.size === count;
        if (rackAllowed && brokerAllowed) {
          replicas.push(broker);
          racksWithReplicas.add(rack);
          brokersWithReplicas.add(broker);
          break;
        }
      }
    }
    return replicas;
  });
}

/**
 * Brokers alternated by rack: racks in sorted order, each contributing its next broker (by id)
 * in turn. {rack1: 0,1,2; rack2: 3,4,5; rack3: 6,7,8} gives 0,3,6,1,4,7,2,5,8.
 */
export function rackAlternatedBrokerList(rackOf: ReadonlyMap<number, string>): number[] {
  const brokersByRack = new Map<string, number[]>();
  for (const [id, rack] of rackOf) {
    const list = brokersByRack.get(rack) ?? [];
    list.push(id);
    brokersByRack.set(rack, list);
  }
  const racks = [...brokersByRack.keys()].sort(compareJavaStrings);
  for (const list of brokersByRack.values()) list.sort((left, right) => left - right);
  const positions = new Map<string, number>(racks.map((rack) => [rack, 0]));
  const result: number[] = [];
  let rackIndex = 0;
  while (result.length < rackOf.size) {
    const rack = racks[rackIndex]!;
    const list = brokersByRack.get(rack)!;
    const position = positions.get(rack)!;
    if (position < list.length) {
      result.push(list[position]!);
      positions.set(rack, position + 1);
    }
    rackIndex = (rackIndex + 1) % racks.length;
  }
  return result;
}

/** Java's String.compareTo order (UTF-16 code units), which Arrays.sort uses for the racks. */
function compareJavaStrings(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}
