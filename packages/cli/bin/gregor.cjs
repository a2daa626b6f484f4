#!/usr/bin/env node
// The `gregor` command: a committed, executable shim over the compiled entry point, so the
// workspace bin link works on a fresh clone (tsc does not mark its output executable).
//
// CommonJS on purpose: libuv sizes its thread pool (which runs every fsync, file open and read)
// once, at its first use, and Node's ES module loader already uses it to read the first module.
// Setting the size here, before any module is loaded asynchronously, is the only place it takes
// effect. 16 threads let a clean stop flush many logs' files in parallel (4 by default).
process.env.UV_THREADPOOL_SIZE ??= '16';
import('../dist/main.js');
