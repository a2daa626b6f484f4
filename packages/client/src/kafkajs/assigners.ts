// kafkajs's round-robin assigner as a core partition assignor under kafkajs's protocol name
// ("RoundRobinAssigner"), so facade consumers and kafkajs consumers can share a group during a
// migration: members sorted by id, every subscribed topic's partitions dealt out in turn.

import type { AssignorMember, PartitionAssignor } from '../consumer/assignors.js';
import type { TopicPartition } from '../consumer/list-offsets.js';

export type PartitionAssigner = (context: { cluster: unknown }) => unknown;

const roundRobin: PartitionAssigner = () => ({ name: 'RoundRobinAssigner', version: 0 });

export const PartitionAssigners = { roundRobin };

export const kafkajsRoundRobinAssignor: PartitionAssignor = {
  name: 'RoundRobinAssigner',
  rebalanceProtocol: 'eager',
  assign(members: readonly AssignorMember[], partitionCounts: ReadonlyMap<string, number>) {
    const memberIds = members.map((member) => member.memberId).sort();
    const assignment = new Map<string, TopicPartition[]>(memberIds.map((id) => [id, []]));
    let index = 0;
    for (const topic of [...partitionCounts.keys()].sort()) {
      const count = partitionCounts.get(topic) ?? 0;
      for (let partition = 0; partition < count; partition++) {
        assignment.get(memberIds[index % memberIds.length])?.push({ topic, partition });
        index++;
      }
    }
    return assignment;
  },
  subscriptionUserData: () => null,
};
