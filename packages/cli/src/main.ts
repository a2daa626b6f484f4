#!/usr/bin/env node
console.error('gregor: not implemented yet');
process.exit(1);
