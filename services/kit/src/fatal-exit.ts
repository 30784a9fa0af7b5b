import type { Logger } from "./observability/logger.js";

/**
 * The last line of defence. An exception nothing caught (a bug, or a library throwing from a
 * timer, as postgres.js did on a connection reset) leaves the process in a state no one
 * knows, so it must not go on serving. Instead of dying mid-write with a bare stack on stderr, it
 * logs one fatal JSON line, closes what it can within `graceMs`, and exits 1 for its supervisor
 * to start it again.
 */
export function exitOnUncaughtException(log: Logger, close: () => Promise<unknown>, graceMs = 2000): void {
  let exiting = false;
  process.on("uncaughtException", (error, origin) => {
    log.fatal({ err: error, origin }, "uncaught exception; exiting");
    if (exiting) return;
    exiting = true;
    setTimeout(() => process.exit(1), graceMs);
    close()
      .catch((closing: unknown) => log.error({ err: closing }, "closing after an uncaught exception failed"))
      .finally(() => process.exit(1));
  });
}
