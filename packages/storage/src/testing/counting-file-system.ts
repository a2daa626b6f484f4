// A FileSystem wrapper that counts descriptors: opened in all, open now, and the most open at
// once (handle cache tests).

import type { FileHandle, FileSystem } from '../file-system.js';

export interface DescriptorCounts {
  opened: number;
  openNow: number;
  openMax: number;
}

export function countingFileSystem(inner: FileSystem): {
  fileSystem: FileSystem;
  counts: DescriptorCounts;
} {
  const counts: DescriptorCounts = { opened: 0, openNow: 0, openMax: 0 };
  const wrap = (handle: FileHandle): FileHandle => {
    let closed = false;
    return {
      read: (buffer, bufferOffset, length, position, hint) =>
        handle.read(buffer, bufferOffset, length, position, hint),
      writev: (buffers, position) => handle.writev(buffers, position),
      datasync: () => handle.datasync(),
      truncate: (sizeBytes) => handle.truncate(sizeBytes),
      sizeBytes: () => handle.sizeBytes(),
      async close() {
        if (!closed) {
          closed = true;
          counts.openNow--;
        }
        await handle.close();
      },
    };
  };
  const fileSystem: FileSystem = {
    ...inner,
    async openFile(path, options) {
      const handle = await inner.openFile(path, options);
      counts.opened++;
      counts.openNow++;
      counts.openMax = Math.max(counts.openMax, counts.openNow);
      return wrap(handle);
    },
  };
  return { fileSystem, counts };
}
