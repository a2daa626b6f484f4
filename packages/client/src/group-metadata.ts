// What a transactional producer needs to know about the consumer whose offsets it commits
// (KIP-447): the group coordinator fences a zombie whose generation or member id is stale.
// The group consumer returns it; a consumer without membership uses `standaloneGroupMetadata`.

export interface ConsumerGroupMetadata {
  groupId: string;
  /** Empty when the consumer is not a member (manual assignment). */
  memberId: string;
  /** The classic generation or, under KIP-848, the member epoch; -1 without membership. */
  generationId: number;
  /** Static membership (KIP-345); null or absent when dynamic. */
  groupInstanceId?: string | null;
}

/** Group metadata of a consumer that commits to `groupId` without being a member (generation -1). */
export function standaloneGroupMetadata(groupId: string): ConsumerGroupMetadata {
  return { groupId, memberId: '', generationId: -1, groupInstanceId: null };
}
