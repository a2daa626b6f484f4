/**
 * Topic ids are random 128-bit uuids in Kafka's base64url form (22 characters, no padding).
 * Like Kafka's Uuid.randomUuid, the all-zero id and ids whose text starts with '-' (awkward on
 * command lines) are never produced.
 */
import { randomBytes } from 'node:crypto';

export const zeroTopicId = 'AAAAAAAAAAAAAAAAAAAAAA';

export function randomTopicId(random: (size: number) => Buffer = randomBytes): string {
  for (;;) {
    const bytes = random(16);
    // RFC 4122 version 4 / variant bits, as Java's UUID.randomUUID sets them.
    bytes[6] = (bytes[6]! & 0x0f) | 0x40;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const text = bytes.toString('base64url');
    if (text !== zeroTopicId && !text.startsWith('-')) return text;
  }
}
