import { connect } from "node:net";
import { verifierFromAuthService } from "@tdt/kit";
import { freePort } from "@tdt/test-support/ports";
import { testLogger } from "@tdt/test-support/silent-logger";
import { describe, expect, it } from "vitest";
import { closeDownstream, connectDownstream } from "../src/api/downstream.js";
import { buildGateway } from "../src/app.js";

/** Writes raw HTTP/1.1 on one connection and collects everything that comes back until it closes. */
function rawConnection(port: number) {
  const socket = connect(port, "127.0.0.1");
  let received = "";
  socket.on("data", (chunk) => {
    received += chunk.toString("utf8");
  });
  const ended = new Promise<string>((resolve) => socket.on("close", () => resolve(received)));
  return { write: (text: string) => socket.write(text), ended };
}

describe("gateway shutdown", () => {
  it("answers requests that arrive while it closes with 503 {detail: shutting_down}", async () => {
    const [a, t, s] = await Promise.all([freePort(), freePort(), freePort()]);
    const downstream = connectDownstream({
      authAddress: `127.0.0.1:${a}`,
      treesAddress: `127.0.0.1:${t}`,
      sessionsAddress: `127.0.0.1:${s}`,
      hooksAddress: `127.0.0.1:${s}`,
      grpcDeadlineMs: 500,
    });
    const log = testLogger("gateway");
    const verifier = verifierFromAuthService({ auth: downstream.auth, log });
    const app = await buildGateway({ log, downstream, verifier, corsOrigins: [] });
    let slowStarted: () => void = () => {};
    const slowIsRunning = new Promise<void>((resolve) => {
      slowStarted = resolve;
    });
    // A slow in-flight request keeps the server closing while the next one arrives.
    app.get("/slow", async () => {
      slowStarted();
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { slow: "done" };
    });
    const port = await freePort();
    await app.listen({ host: "127.0.0.1", port });

    const connection = rawConnection(port);
    connection.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    await slowIsRunning;
    const closed = app.close();
    // Pipelined behind the slow request on the same connection: fastify sees it while closing.
    connection.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    const text = await connection.ended;
    await closed;
    closeDownstream(downstream);

    const responses = text.split(/(?=HTTP\/1\.1 )/);
    expect(responses).toHaveLength(2);
    expect(responses[0]).toMatch(/^HTTP\/1\.1 200/);
    expect(responses[0]).toContain('{"slow":"done"}');
    expect(responses[1]).toMatch(/^HTTP\/1\.1 503/);
    expect(responses[1]?.toLowerCase()).toContain("connection: close");
    expect(responses[1]?.split("\r\n\r\n")[1]).toBe('{"detail":"shutting_down"}');
  });
});
