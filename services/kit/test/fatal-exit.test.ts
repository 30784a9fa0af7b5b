/**
 * The last line of defence, in a real child process: an exception thrown from a timer (where no
 * caller can catch it, as postgres.js's did) is logged as one fatal JSON line, what can be
 * closed is closed, and the process exits 1.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const CHILD_TIMEOUT_MS = 120_000;

function runChild(close: string, graceMs: number) {
  const script = `
    import { createLogger, exitOnUncaughtException } from "@tdt/kit";
    const log = createLogger("probe");
    exitOnUncaughtException(log, ${close}, ${graceMs});
    setInterval(() => {}, 1000);
    setImmediate(() => { throw new TypeError("Cannot read properties of null (reading 'write')"); });
  `;
  const started = Date.now();
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    // Killed (status null) only if it never exits by itself: far beyond any grace period here.
    timeout: CHILD_TIMEOUT_MS,
  });
  const lines = child.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { status: child.status, lines, stderr: child.stderr, ms: Date.now() - started };
}

describe("an uncaught exception", () => {
  it("is logged as one fatal JSON line, then what can close closes and the process exits 1", () => {
    // Closing logs through the same logger, as a service's does. pino writes in the background
    // and its fatal line takes another path, so the two lines may reach stdout in either order:
    // their timestamps say which came first.
    const child = runChild(`async () => log.info({ closed: true }, "closed")`, 60_000);
    expect(child.status, child.stderr).toBe(1);
    expect(child.stderr).toBe("");
    const fatal = child.lines.filter((line) => line.level === "fatal");
    const closed = child.lines.filter((line) => line.closed === true);
    expect(child.lines).toHaveLength(2);
    expect(fatal).toEqual([
      expect.objectContaining({
        service: "probe",
        msg: "uncaught exception; exiting",
        origin: "uncaughtException",
        err: expect.objectContaining({
          type: "TypeError",
          message: "Cannot read properties of null (reading 'write')",
        }),
      }),
    ]);
    expect(closed).toEqual([expect.objectContaining({ level: "info", msg: "closed" })]);
    expect(Date.parse(String(closed[0]?.time))).toBeGreaterThanOrEqual(Date.parse(String(fatal[0]?.time)));
    // Closing finished: no wait for the minute of grace (a loaded machine takes seconds to start Node).
    expect(child.ms).toBeLessThan(60_000);
  }, 150_000);

  it("exits 1 after the grace period when closing hangs", () => {
    const child = runChild("() => new Promise(() => {})", 300);
    expect(child.status, child.stderr).toBe(1);
    expect(child.lines).toHaveLength(1);
    expect(child.lines[0]).toMatchObject({ level: "fatal", msg: "uncaught exception; exiting" });
    // It exited by itself (status 1 above): the grace timer ended a close that never would.
  }, 150_000);
});
