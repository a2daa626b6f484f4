/**
 * What the group API handlers share: the coordinator (or the error to answer while there is
 * none), the client identity Kafka shows in DescribeGroups, and the authorized-operations bits.
 */
import { ErrorCode } from '@gregor/protocol';
import type { GroupCoordinator } from '../group/index.js';
import type { RequestContext } from './types.js';

/** Kafka's AclOperation codes a group supports: READ 3, DELETE 6, DESCRIBE 8 (no ACLs yet: all allowed). */
export const groupAuthorizedOperations = (1 << 3) | (1 << 6) | (1 << 8);
/** INT32_MIN: "authorized operations not requested". */
export const authorizedOperationsOmitted = -2147483648;

export type CoordinatorLookup =
  | { ok: true; coordinator: GroupCoordinator }
  | { ok: false; errorCode: number };

export function groupCoordinator(context: RequestContext): CoordinatorLookup {
  const coordinator = context.services.groups;
  if (coordinator === undefined)
    return { ok: false, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
  return { ok: true, coordinator };
}

/** `127.0.0.1:5555` -> `127.0.0.1`, `[::1]:5555` -> `::1`. */
function hostOf(address: string): string {
  const withoutPort = address.replace(/:\d+$/, '');
  return withoutPort.startsWith('[') && withoutPort.endsWith(']')
    ? withoutPort.slice(1, -1)
    : withoutPort;
}

/** Client id and host as Kafka reports them (`/` + address, like Java's InetAddress.toString). */
export function clientIdentity(context: RequestContext): { clientId: string; clientHost: string } {
  return {
    clientId: context.header.clientId ?? '',
    clientHost: `/${hostOf(context.connection.remoteAddress)}`,
  };
}
