// CI guard: regenerating the codecs from the schemas must reproduce src/generated exactly.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadSchemaModule, packageDirectory, schemasAvailable } from './schema-model.js';

test('src/generated matches a fresh run of the generator', async (t) => {
  if (!schemasAvailable(await loadSchemaModule())) {
    t.skip('Kafka schema folder not available');
    return;
  }
  const outDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-generated-'));
  try {
    execFileSync(
      process.execPath,
      [path.join(packageDirectory, 'generator', 'generate.mjs'), '--out', outDirectory],
      {
        stdio: 'pipe',
      },
    );
    const committedDirectory = path.join(packageDirectory, 'src', 'generated');
    const fresh = fs.readdirSync(outDirectory).sort();
    const committed = fs
      .readdirSync(committedDirectory)
      .filter((file) => file.endsWith('.ts'))
      .sort();
    assert.deepEqual(
      committed,
      fresh,
      'same file list (run `npm run generate -w @gregor/protocol`)',
    );
    for (const file of fresh) {
      const expected = fs.readFileSync(path.join(outDirectory, file), 'utf8');
      const actual = fs.readFileSync(path.join(committedDirectory, file), 'utf8');
      assert.ok(
        actual === expected,
        `${file} differs from the generator output; run npm run generate`,
      );
    }
  } finally {
    fs.rmSync(outDirectory, { recursive: true, force: true });
  }
});
