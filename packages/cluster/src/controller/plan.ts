/**
 * What a controller event decides, before it is committed: ordered units of store operations and
 * a response built from how far the commits got. A unit is committed whole (it never spans two
 * store transactions); consecutive units are packed into transactions of at most
 * `commitOperationsMax` operations, in order, so a later unit is never visible before an earlier.
 */
import { commitOperationsMax, type Operation } from '@gregor/metadata';

export interface Unit {
  readonly operations: readonly Operation[];
  /** Called once the transaction holding this unit committed. */
  readonly committed?: () => void;
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
 * once per transaction, keeping order.
 */
export function packUnits(units: readonly Unit[], limit = commitOperationsMax): Unit[][] {
  const batches: Unit[][] = [];
  let current: Unit[] = [];
  let size = 0;
  // etcd refuses a transaction touching a key twice: a repeated key starts a new one.
  const keys = new Set<string>();
  for (const unit of units) {
    if (unit.operations.length > limit) {
      throw new RangeError(`a unit of ${unit.operations.length} operations exceeds ${limit}`);
    }
    const repeats = unit.operations.some((operation) => keys.has(operation.key));
    if ((size + unit.operations.length > limit || repeats) && current.length > 0) {
      batches.push(current);
      current = [];
      size = 0;
      keys.clear();
    }
    current.push(unit);
    size += unit.operations.length;
    for (const operation of unit.operations) keys.add(operation.key);
  }
  if (current.length > 0) batches.push(current);
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
    committed: () => {
      unit.committed?.();
      then();
    },
  };
}
