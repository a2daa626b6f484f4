/**
 * The child side of WorkerProcess (connection-load.ts): answers each IPC command with the reply
 * `run` resolves with, or `{ type: 'error', message }`; exits when the parent goes away.
 */
export function serveWorkerCommands<Command>(
  run: (command: Command) => Promise<{ type: string }>,
): void {
  process.on('message', (message: Command) => {
    run(message).then(
      (reply) => process.send?.(reply),
      (error: unknown) =>
        process.send?.({
          type: 'error',
          message: error instanceof Error ? error.message : String(error),
        }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
