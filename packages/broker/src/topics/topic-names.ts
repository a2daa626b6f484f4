/**
 * Topic name rules (Kafka's Topic.validate): 1..249 characters of [a-zA-Z0-9._-], not "." or "..".
 * Names differing only by '.' vs '_' collide in metric names, so creating one when the other
 * exists is refused.
 */
export const topicNameLengthMax = 249;
const legalTopicName = /^[a-zA-Z0-9._-]+$/;

export const internalTopicNames = {
  consumerOffsets: '__consumer_offsets',
  transactionState: '__transaction_state',
} as const;

/** Undefined when valid, otherwise why not. */
export function topicNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'topic name is empty';
  if (name === '.' || name === '..') return `topic name cannot be "${name}"`;
  if (name.length > topicNameLengthMax) {
    return `topic name is ${name.length} characters long; the maximum is ${topicNameLengthMax}`;
  }
  if (!legalTopicName.test(name)) {
    return `topic name "${name}" contains characters other than ASCII alphanumerics, '.', '_' and '-'`;
  }
  return undefined;
}

/** The form two names share when they collide ('.' and '_' are the same in metric names). */
export function topicCollisionKey(name: string): string {
  return name.replaceAll('.', '_');
}

export function isInternalTopic(name: string): boolean {
  return (
    name === internalTopicNames.consumerOffsets || name === internalTopicNames.transactionState
  );
}
