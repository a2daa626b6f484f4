#!/usr/bin/env node
// The `gregor` command: a committed, executable shim over the compiled entry point, so the
// workspace bin link works on a fresh clone (tsc does not mark its output executable).
import '../dist/main.js';
