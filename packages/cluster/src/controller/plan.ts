/**
 * What a controller event decides, before it is committed: ordered units of store operations and
 * a response built from how far the commits got. A unit is committed whole (it never spans two
 * store transactions); consecutive units are packed into transactions of at most
 * `commitOperationsMax` operations.
 *
 * Order: an ordinary unit is a barrier: it commits after every unit before it and before every
 * unit after it (a topic key after its partitions, a broker's state after its partitions'
 * changes). Consecutive `independent` units (one partition's record each) may commit in any
 * order, several transactions at once, which is what makes big changes fast on etcd.
 */
import { commitOperationsMax, type Operation } from '@gregor/metadata/store';

export interface Unit {
  readonly operations: readonly Operation[];
  /** Called once the transaction holding this unit committed. */
  readonly committed?: () => void;
  /** May commit before or with its independent neighbours (not a barrier). */
  readonly independent?: boolean;
}

/** A transaction's worth of units; independent when every unit in it is. */
export interface Batch {
  readonly units: Unit[];
  readonly independent: boolean;
}

export interface Plan<Response> {
  readonly units: readonly Unit[];
  /**
   * The answer once every unit committed (`allCommitted`) or the commits stopped because this
   * node stopped being the controller; units not committed answer NOT_CONTROLLER.
   */
  respond(allCommitted: boolean): Response;
}

/**
 * Groups consecutive units into transactions of at most `limit` operations, each key at most
 * once per transaction, keeping order; independent and ordered units never share one.
 */
export function packUnits(units: readonly Unit[], limit = commitOperationsMax): Batch[] {
  const batches: Batch[] = [];
  let current: Unit[] = [];
  let independent = false;
  let size = 0;
  // etcd refuses a transaction touching a key twice: a repeated key starts a new one.
  const keys = new Set<string>();
  for (const unit of units) {
    if (unit.operations.length > limit) {
      throw new RangeError(`a unit of ${unit.operations.length} operations exceeds ${limit}`);
    }
    const unitIndependent = unit.independent === true;
    const repeats = unit.operations.some((operation) => keys.has(operation.key));
    const full = size + unit.operations.length > limit;
    if ((full || repeats || unitIndependent !== independent) && current.length > 0) {
      batches.push({ units: current, independent });
      current = [];
      size = 0;
      keys.clear();
    }
    independent = unitIndependent;
    current.push(unit);
    size += unit.operations.length;
    for (const operation of unit.operations) keys.add(operation.key);
  }
  if (current.length > 0) batches.push({ units: current, independent });
  return batches;
}

/** A plan that writes nothing. */
export function answerOnly<Response>(response: Response): Plan<Response> {
  return { units: [], respond: () => response };
}

/** `unit`, also running `then` once it committed. */
export function onCommit(unit: Unit, then: () => void): Unit {
  return {
    operations: unit.operations,
    independent: unit.independent,
    committed: () => {
      unit.committed?.();
      then();
    },
  };
}
