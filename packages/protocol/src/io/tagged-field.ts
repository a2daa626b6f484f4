/** A tagged field this code does not know, kept as raw bytes so it survives decode -> encode. */
export interface TaggedField {
  tag: number;
  data: Buffer;
}

/** The value of a `records` field when encoding: one buffer or a list, never concatenated. */
export type RecordsData = Buffer | readonly Buffer[] | null;

export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);

/** The all-zero uuid in Kafka's base64url form. */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** A records value as one Buffer (concatenating only when it was given as a list). */
export function recordsAsBuffer(records: RecordsData): Buffer | null {
  if (records === null || Buffer.isBuffer(records)) return records;
  return Buffer.concat(records);
}
