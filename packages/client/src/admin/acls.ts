// ACLs (KIP-140): create, describe and delete by filter. A broker without an authorizer answers
// SECURITY_DISABLED; one that does not implement the APIs is refused by version negotiation
// (UnsupportedVersionError).

import {
  type CreateAclsResponse,
  createAclsApi,
  type DeleteAclsResponse,
  type DescribeAclsResponse,
  deleteAclsApi,
  describeAclsApi,
  ErrorCode,
} from '@gregor/protocol';
import { KafkaError } from '../errors.js';
import type { Cluster } from '../network/cluster.js';
import { CodeNames } from './shared.js';

export type AclResourceType =
  | 'any'
  | 'topic'
  | 'group'
  | 'cluster'
  | 'transactional-id'
  | 'delegation-token'
  | 'user';
export type AclPatternType = 'any' | 'match' | 'literal' | 'prefixed';
export type AclOperation =
  | 'any'
  | 'all'
  | 'read'
  | 'write'
  | 'create'
  | 'delete'
  | 'alter'
  | 'describe'
  | 'cluster-action'
  | 'describe-configs'
  | 'alter-configs'
  | 'idempotent-write'
  | 'create-tokens'
  | 'describe-tokens';
export type AclPermission = 'any' | 'deny' | 'allow';

export interface AclBinding {
  resourceType: Exclude<AclResourceType, 'any'>;
  resourceName: string;
  patternType: Exclude<AclPatternType, 'any' | 'match'>;
  /** e.g. `User:alice`. */
  principal: string;
  /** `*` for every host. */
  host: string;
  operation: Exclude<AclOperation, 'any'>;
  permission: Exclude<AclPermission, 'any'>;
}

/** Null fields match anything. */
export interface AclFilter {
  resourceType?: AclResourceType;
  resourceName?: string | null;
  patternType?: AclPatternType;
  principal?: string | null;
  host?: string | null;
  operation?: AclOperation;
  permission?: AclPermission;
}

const resourceTypes = new CodeNames<AclResourceType>({
  any: 1,
  topic: 2,
  group: 3,
  cluster: 4,
  'transactional-id': 5,
  'delegation-token': 6,
  user: 7,
});
const patternTypes = new CodeNames<AclPatternType>({ any: 1, match: 2, literal: 3, prefixed: 4 });
const operations = new CodeNames<AclOperation>({
  any: 1,
  all: 2,
  read: 3,
  write: 4,
  create: 5,
  delete: 6,
  alter: 7,
  describe: 8,
  'cluster-action': 9,
  'describe-configs': 10,
  'alter-configs': 11,
  'idempotent-write': 12,
  'create-tokens': 13,
  'describe-tokens': 14,
});
const permissions = new CodeNames<AclPermission>({ any: 1, deny: 2, allow: 3 });

function filterFields(filter: AclFilter) {
  return {
    resourceTypeFilter: resourceTypes.code(filter.resourceType ?? 'any'),
    resourceNameFilter: filter.resourceName ?? null,
    patternTypeFilter: patternTypes.code(filter.patternType ?? 'any'),
    principalFilter: filter.principal ?? null,
    hostFilter: filter.host ?? null,
    operation: operations.code(filter.operation ?? 'any'),
    permissionType: permissions.code(filter.permission ?? 'any'),
  };
}

function toBinding(entry: {
  resourceType: number;
  resourceName: string;
  patternType?: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}): AclBinding {
  return {
    resourceType: resourceTypes.name(entry.resourceType) as AclBinding['resourceType'],
    resourceName: entry.resourceName,
    patternType: patternTypes.name(entry.patternType ?? 3) as AclBinding['patternType'],
    principal: entry.principal,
    host: entry.host,
    operation: operations.name(entry.operation) as AclBinding['operation'],
    permission: permissions.name(entry.permissionType) as AclBinding['permission'],
  };
}

/** Stable order for results: resource, principal, operation. */
function compareBindings(left: AclBinding, right: AclBinding): number {
  return (
    left.resourceType.localeCompare(right.resourceType) ||
    left.resourceName.localeCompare(right.resourceName) ||
    left.principal.localeCompare(right.principal) ||
    left.operation.localeCompare(right.operation) ||
    left.permission.localeCompare(right.permission)
  );
}

export async function createAcls(cluster: Cluster, bindings: readonly AclBinding[]): Promise<void> {
  const connection = await cluster.anyConnection();
  const response = await connection.request<CreateAclsResponse>(createAclsApi, {
    creations: bindings.map((binding) => ({
      resourceType: resourceTypes.code(binding.resourceType),
      resourceName: binding.resourceName,
      resourcePatternType: patternTypes.code(binding.patternType),
      principal: binding.principal,
      host: binding.host,
      operation: operations.code(binding.operation),
      permissionType: permissions.code(binding.permission),
    })),
  });
  for (const result of response.results) {
    if (result.errorCode !== ErrorCode.NONE) {
      throw new KafkaError(result.errorCode, `CreateAcls: ${result.errorMessage ?? ''}`);
    }
  }
}

export async function describeAcls(cluster: Cluster, filter: AclFilter): Promise<AclBinding[]> {
  const connection = await cluster.anyConnection();
  const response = await connection.request<DescribeAclsResponse>(
    describeAclsApi,
    filterFields(filter),
  );
  if (response.errorCode !== ErrorCode.NONE) {
    throw new KafkaError(response.errorCode, `DescribeAcls: ${response.errorMessage ?? ''}`);
  }
  return response.resources
    .flatMap((resource) =>
      resource.acls.map((acl) =>
        toBinding({
          resourceType: resource.resourceType,
          resourceName: resource.resourceName,
          patternType: resource.patternType,
          ...acl,
        }),
      ),
    )
    .sort(compareBindings);
}

/** Deletes every ACL matching any of the filters; returns the deleted ones. */
export async function deleteAcls(
  cluster: Cluster,
  filters: readonly AclFilter[],
): Promise<AclBinding[]> {
  const connection = await cluster.anyConnection();
  const response = await connection.request<DeleteAclsResponse>(deleteAclsApi, {
    filters: filters.map(filterFields),
  });
  const deleted: AclBinding[] = [];
  for (const result of response.filterResults) {
    if (result.errorCode !== ErrorCode.NONE) {
      throw new KafkaError(result.errorCode, `DeleteAcls: ${result.errorMessage ?? ''}`);
    }
    for (const acl of result.matchingAcls) {
      if (acl.errorCode !== ErrorCode.NONE) {
        throw new KafkaError(acl.errorCode, `DeleteAcls: ${acl.errorMessage ?? ''}`);
      }
      deleted.push(toBinding(acl));
    }
  }
  return deleted.sort(compareBindings);
}
