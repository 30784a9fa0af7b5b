/**
 * The last line of defence, in a real child process: an exception thrown from a timer (where no
 * caller can catch it, as postgres.js's did) is logged as one fatal JSON line, what can be
 * closed is closed, and the process exits 1.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

function runChild(close: string, graceMs: number) {
  const script = `
    import { createLogger, exitOnUncaughtException } from "@tdt/kit";
    exitOnUncaughtException(createLogger("probe"), ${close}, ${graceMs});
    setInterval(() => {}, 1000);
    setImmediate(() => { throw new TypeError("Cannot read properties of null (reading 'write')"); });
  `;
  const started = Date.now();
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    timeout: 15_000,
  });
  const lines = child.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { status: child.status, lines, stderr: child.stderr, ms: Date.now() - started };
}

describe("an uncaught exception", () => {
  it("is logged as one fatal JSON line, then what can close closes and the process exits 1", () => {
    const child = runChild(`async () => console.log(JSON.stringify({ closed: true }))`, 10_000);
    expect(child.status, child.stderr).toBe(1);
    expect(child.stderr).toBe("");
    expect(child.lines).toEqual([
      expect.objectContaining({
        level: "fatal",
        service: "probe",
        msg: "uncaught exception; exiting",
        origin: "uncaughtException",
        err: expect.objectContaining({
          type: "TypeError",
          message: "Cannot read properties of null (reading 'write')",
        }),
      }),
      { closed: true },
    ]);
    // Closing finished: no wait for the grace period.
    expect(child.ms).toBeLessThan(5000);
  });

  it("exits 1 after the grace period when closing hangs", () => {
    const child = runChild("() => new Promise(() => {})", 300);
    expect(child.status, child.stderr).toBe(1);
    expect(child.lines).toHaveLength(1);
    expect(child.lines[0]).toMatchObject({ level: "fatal", msg: "uncaught exception; exiting" });
    expect(child.ms).toBeLessThan(5000);
  });
});
