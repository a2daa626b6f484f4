#!/usr/bin/env node
// Benchmark dispatcher: `npm run bench -- <name>` runs every compiled bench file
// packages/<package>/dist/**/bench/*.js whose "<package>/<file>" contains <name>
// (e.g. `protocol` runs all protocol benches); no name runs them all. Build first (npm run build).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repositoryDirectory = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const packagesDirectory = path.join(repositoryDirectory, 'packages');
const filter = process.argv[2] ?? '';

function findBenchFiles(directory, insideBench) {
  const files = [];
  for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
    const entryPath = path.join(directory, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules')
        files.push(...findBenchFiles(entryPath, entry.name === 'bench'));
    } else if (insideBench && entry.name.endsWith('.js') && !entry.name.endsWith('.test.js')) {
      files.push(entryPath);
    }
  }
  return files;
}

const selected = [];
for (const packageName of fs.readdirSync(packagesDirectory).sort()) {
  const distDirectory = path.join(packagesDirectory, packageName, 'dist');
  if (!fs.existsSync(distDirectory)) continue;
  for (const file of findBenchFiles(distDirectory, false).sort()) {
    if (`${packageName}/${path.basename(file)}`.includes(filter)) selected.push(file);
  }
}

if (selected.length === 0) {
  process.stderr.write(`bench: no compiled bench matches "${filter}" (run npm run build first)\n`);
  process.exit(1);
}
let failed = false;
for (const file of selected) {
  process.stdout.write(`\n== ${path.relative(repositoryDirectory, file)}\n`);
  const result = spawnSync(process.execPath, [file, ...process.argv.slice(3)], {
    stdio: 'inherit',
  });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
