import { fileURLToPath } from 'node:url';

/** Absolute paths the harness needs, resolved from this compiled file (packages/e2e/dist/harness/). */
const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

export const e2ePackageDirectory = packageRoot;
export const repositoryRoot = fileURLToPath(new URL('../../../../', import.meta.url));
/** The `gregor` command as users run it (its shim sizes libuv's thread pool before loading). */
export const cliMainPath = fileURLToPath(new URL('../../../cli/bin/gregor.cjs', import.meta.url));
export const pythonClientsDirectory = fileURLToPath(
  new URL('../../clients/python/', import.meta.url),
);
export const protocolFixturesDirectory = fileURLToPath(
  new URL('../../../protocol/fixtures/', import.meta.url),
);

/** Debian's python: the only interpreter that sees python3-confluent-kafka and python3-kafka. */
export const debianPythonPath = '/usr/bin/python3';
export const kcatPath = 'kcat';
