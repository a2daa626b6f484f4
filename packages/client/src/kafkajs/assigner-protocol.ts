// kafkajs's AssignerProtocol: the consumer protocol's subscription ("member metadata") and
// assignment bytes as JoinGroup and SyncGroup carry them, with kafkajs's shapes
// (`assignment: { [topic]: partitions }`).

import {
  decodeConsumerProtocolAssignmentBytes,
  decodeConsumerProtocolSubscriptionBytes,
  encodeConsumerProtocolAssignmentBytes,
  encodeConsumerProtocolSubscriptionBytes,
} from '@gregor/protocol';

export interface MemberMetadataValue {
  version: number;
  topics: string[];
  userData?: Buffer | null;
}

export interface MemberAssignmentValue {
  version: number;
  assignment: Record<string, number[]>;
  userData?: Buffer | null;
}

export const AssignerProtocol = {
  MemberMetadata: {
    encode({ version, topics, userData }: MemberMetadataValue): Buffer {
      return encodeConsumerProtocolSubscriptionBytes(version, {
        topics,
        userData: userData ?? Buffer.alloc(0),
      });
    },
    decode(buffer: Buffer): MemberMetadataValue | null {
      const decoded = decodeConsumerProtocolSubscriptionBytes(buffer);
      if (!decoded.ok) return null;
      const { version, value } = decoded.value;
      return { version, topics: value.topics, userData: value.userData ?? Buffer.alloc(0) };
    },
  },
  MemberAssignment: {
    encode({ version, assignment, userData }: MemberAssignmentValue): Buffer {
      return encodeConsumerProtocolAssignmentBytes(version, {
        assignedPartitions: Object.entries(assignment).map(([topic, partitions]) => ({
          topic,
          partitions,
        })),
        userData: userData ?? Buffer.alloc(0),
      });
    },
    decode(buffer: Buffer): MemberAssignmentValue | null {
      if (buffer.length === 0) return null;
      const decoded = decodeConsumerProtocolAssignmentBytes(buffer);
      if (!decoded.ok) return null;
      const { version, value } = decoded.value;
      const assignment: Record<string, number[]> = {};
      for (const entry of value.assignedPartitions) assignment[entry.topic] = entry.partitions;
      return { version, assignment, userData: value.userData ?? Buffer.alloc(0) };
    },
  },
};
