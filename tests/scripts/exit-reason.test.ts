import { describe, expect, it } from "vitest";
import { reasonIn } from "../../scripts/exit-reason.js";

describe("the reason a service gives for stopping", () => {
  it("is its configuration error line, its fatal entry, or an uncaught error's first line", () => {
    expect(reasonIn('configuration error: LOG_LEVEL must be one of trace, got "loud"')).toBe(
      'configuration error: LOG_LEVEL must be one of trace, got "loud"',
    );
    const fatal = JSON.stringify({ level: "fatal", msg: "failed to start", err: { message: "listen EADDRINUSE" } });
    expect(reasonIn(fatal)).toBe("failed to start: listen EADDRINUSE");
    expect(reasonIn(JSON.stringify({ level: "fatal", msg: "gave up" }))).toBe("gave up");
    expect(reasonIn("Error: Cannot find module '/x/main.js'")).toBe("Error: Cannot find module '/x/main.js'");
    expect(reasonIn("TypeError [ERR_INVALID_ARG_TYPE]: bad")).toBe("TypeError [ERR_INVALID_ARG_TYPE]: bad");
  });

  it("is nothing in ordinary lines", () => {
    expect(reasonIn(JSON.stringify({ level: "error", msg: "nats down", err: { message: "x" } }))).toBeUndefined();
    expect(reasonIn(JSON.stringify({ level: "info", msg: "grpc listening" }))).toBeUndefined();
    expect(reasonIn("{not json")).toBeUndefined();
    expect(reasonIn("    at Server.setupListenHandle (node:net:1908:16)")).toBeUndefined();
    expect(reasonIn("Node.js v20.20.2")).toBeUndefined();
  });
});
