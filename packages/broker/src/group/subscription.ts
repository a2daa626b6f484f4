/**
 * The topic list in a classic consumer's JoinGroup metadata (ConsumerProtocolSubscription: int16
 * version, then `[]string` topics in every version; never flexible). OffsetDelete and offset
 * retention need it to know which topics an active group still consumes.
 */
import { Reader } from '@gregor/protocol';

/** Returns null when the bytes are not a ConsumerProtocolSubscription. */
export function decodeSubscribedTopics(metadata: Buffer): string[] | null {
  try {
    const reader = new Reader(metadata);
    const version = reader.readInt16();
    if (version < 0) return null;
    const count = reader.readInt32();
    // A string takes at least two bytes: reject counts the remaining bytes cannot hold.
    if (count < 0 || count > reader.remaining / 2) return null;
    const topics: string[] = [];
    for (let index = 0; index < count; index++) topics.push(reader.readString());
    return topics;
  } catch {
    return null;
  }
}
