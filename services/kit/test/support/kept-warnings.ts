import { pino } from "pino";
import type { Logger } from "../../src/observability/logger.js";

/** A real pino logger that keeps the messages it was given at warn and above, for tests of what was said. */
export function keptWarnings(): { log: Logger; warnings: () => string[] } {
  const messages: string[] = [];
  const log = pino(
    { level: "warn" },
    {
      write(line: string) {
        messages.push((JSON.parse(line) as { msg: string }).msg);
      },
    },
  );
  return { log, warnings: () => [...messages] };
}
