import type { Logger } from "./observability/logger.js";

/**
 * On SIGTERM or SIGINT runs the steps in order (stop accepting, finish in-flight work, close
 * pools) and exits 0. A second signal exits at once.
 */
export function onShutdown(log: Logger, steps: Array<() => Promise<unknown>>): void {
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, "second signal; exiting now");
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, "shutting down");
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        log.error({ err: error }, "shutdown step failed");
      }
    }
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
