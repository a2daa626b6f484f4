#!/usr/bin/env node
/**
 * `gregor`: the command line. `gregor broker` runs a single-node broker in the foreground, prints
 * one ready line on stdout once it accepts connections (logs go to stderr as JSON lines) and stops
 * cleanly on SIGTERM / SIGINT (exit 0). A second signal while stopping exits at once (code 1).
 */
import { runCommand } from './broker-command.js';

const exitCode = await runCommand(process.argv.slice(2));
if (exitCode !== undefined) process.exitCode = exitCode;
