// Client quotas (KIP-546): describe by entity filter, set or remove values per entity. An entity
// is a map of entity type (`user`, `client-id`, `ip`) to name (null: the default entity).

import {
  type AlterClientQuotasResponse,
  alterClientQuotasApi,
  type DescribeClientQuotasResponse,
  describeClientQuotasApi,
  ErrorCode,
} from '@gregor/protocol';
import { KafkaError } from '../errors.js';
import type { Cluster } from '../network/cluster.js';

export type QuotaEntity = Record<string, string | null>;

export interface QuotaEntry {
  entity: QuotaEntity;
  /** e.g. `producer_byte_rate` → 1024. */
  values: Record<string, number>;
}

/** Per entity type: a name, the default entity (null), or any entity of the type (undefined). */
export interface QuotaFilterComponent {
  entityType: string;
  match?: string | null;
}

function entityKey(entity: QuotaEntity): string {
  return JSON.stringify(
    Object.entries(entity).sort(([left], [right]) => left.localeCompare(right)),
  );
}

export async function describeClientQuotas(
  cluster: Cluster,
  components: readonly QuotaFilterComponent[],
  options: { strict?: boolean } = {},
): Promise<QuotaEntry[]> {
  const connection = await cluster.anyConnection();
  const response = await connection.request<DescribeClientQuotasResponse>(describeClientQuotasApi, {
    strict: options.strict ?? false,
    components: components.map((component) => ({
      entityType: component.entityType,
      // 0: exact name, 1: the default entity, 2: any entity of the type.
      matchType: component.match === undefined ? 2 : component.match === null ? 1 : 0,
      match: component.match ?? null,
    })),
  });
  if (response.errorCode !== ErrorCode.NONE) {
    throw new KafkaError(
      response.errorCode,
      `DescribeClientQuotas: ${response.errorMessage ?? ''}`,
    );
  }
  return (response.entries ?? [])
    .map((entry) => ({
      entity: Object.fromEntries(entry.entity.map((part) => [part.entityType, part.entityName])),
      values: Object.fromEntries(
        [...entry.values]
          .sort((left, right) => left.key.localeCompare(right.key))
          .map((value) => [value.key, value.value]),
      ),
    }))
    .sort((left, right) => entityKey(left.entity).localeCompare(entityKey(right.entity)));
}

/** Sets quota values (a number) or removes them (null) per entity. */
export async function alterClientQuotas(
  cluster: Cluster,
  alterations: ReadonlyArray<{ entity: QuotaEntity; values: Record<string, number | null> }>,
  options: { validateOnly?: boolean } = {},
): Promise<void> {
  const connection = await cluster.anyConnection();
  const response = await connection.request<AlterClientQuotasResponse>(alterClientQuotasApi, {
    validateOnly: options.validateOnly ?? false,
    entries: alterations.map((alteration) => ({
      entity: Object.entries(alteration.entity).map(([entityType, entityName]) => ({
        entityType,
        entityName,
      })),
      ops: Object.entries(alteration.values).map(([key, value]) => ({
        key,
        value: value ?? 0,
        remove: value === null,
      })),
    })),
  });
  for (const entry of response.entries) {
    if (entry.errorCode !== ErrorCode.NONE) {
      throw new KafkaError(entry.errorCode, `AlterClientQuotas: ${entry.errorMessage ?? ''}`);
    }
  }
}
