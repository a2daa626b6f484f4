// Every limit of the storage engine in one place (units last).

/** Largest gap between a segment's base offset and an offset it holds: offset index entries are 4 bytes. */
export const segmentRelativeOffsetMax = 0x7fff_ffff;
/** Largest segment file: index positions are 4-byte unsigned. */
export const segmentSizeBytesMax = 0x7fff_ffff;
/** Bytes read at once while walking batch headers (index lookups, recovery, loading). */
export const headerScanChunkBytes = 64 * 1024;
/** Bytes read at once while recovering a segment (CRC check of every batch). */
export const recoveryChunkBytes = 4 * 1024 * 1024;
/** Recent batch positions kept for the active segment so tail reads skip the index. */
export const tailPositionCacheEntries = 256;
/** Most appends that one group commit writes with one writev. */
export const appendGroupEntriesMax = 4096;
/** Most bytes that one group commit writes with one writev. */
export const appendGroupBytesMax = 16 * 1024 * 1024;
/** Memory for the cleaner's key → latest offset map, counted as key bytes + 64 per entry. */
export const cleanerOffsetMapBytesDefault = 32 * 1024 * 1024;
/** Per-entry overhead charged against the cleaner's offset map budget. */
export const cleanerOffsetMapEntryOverheadBytes = 64;
/** Bytes the cleaner reads at once. */
export const cleanerReadChunkBytes = 1024 * 1024;
