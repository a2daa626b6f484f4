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
/**
 * Writes up to this size, and reads up to this size of recently written ranges, copy to or from
 * the page cache synchronously on the event loop (a few µs) instead of going through libuv's
 * thread pool (a thread hand-off each way, about 10-20 µs of main-thread CPU and a wake-up of
 * latency on this kind of machine). Larger transfers keep the thread pool, so the event loop goes
 * on parsing requests while they are copied.
 */
export const syncIoBytesMax = 64 * 1024;
/**
 * Reads within this many bytes of the active segment's end were written moments ago and are in
 * the page cache: reads of up to syncIoBytesMax there are synchronous. Older data may need the
 * disk and is read through the thread pool, which never blocks the event loop.
 */
export const recentlyWrittenBytes = 4 * 1024 * 1024;
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
