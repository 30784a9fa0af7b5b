/**
 * What a system's logs must not hold: any secret a test saw travel (codes, states, bindings,
 * mailed tokens, token pairs), and any answer of status 500.
 */
import type { System } from "./system.js";

/** The secrets some log line contains: none, in a system that keeps its secrets. */
export function secretsInLogs(logs: System["logs"], secrets: Iterable<string>): string[] {
  const lines = logs.map(({ line }) => JSON.stringify(line));
  return [...secrets].filter((secret) => lines.some((line) => line.includes(secret)));
}

/** The log lines of answers with status 500. */
export function serverErrorsInLogs(logs: System["logs"]): string[] {
  return logs.map(({ line }) => JSON.stringify(line)).filter((line) => line.includes('"status":500'));
}
