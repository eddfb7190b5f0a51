/** Process-level helpers shared by the long-running entry points (`partrm serve`, the ROS node). */

/**
 * Resolves on the first SIGINT or SIGTERM and removes its own handlers, so a second Ctrl-C falls
 * through to Node's default (exit) while shutdown is in progress. Handlers other code installed
 * (rclnodejs adds one) are left alone.
 */
export function untilShutdownSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
