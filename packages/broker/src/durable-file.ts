/**
 * Small metadata files (topics, meta.properties, dynamic configs) replaced so that a crash leaves
 * the old or the new content, never a mix: write a temporary file, fsync it, rename it over the
 * old one, fsync the directory so the rename itself is durable.
 */
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function writeFileDurably(path: string, text: string): Promise<void> {
  const temporaryPath = `${path}.tmp`;
  const file = await open(temporaryPath, 'w');
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporaryPath, path);
  const directory = await open(dirname(path), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
