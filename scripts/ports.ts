import { createServer } from "node:net";

/**
 * Ports are picked below Linux's ephemeral range (32768–60999 by default). A port from inside it
 * can be taken while its service is down by an outgoing connection's source port — even by a
 * client reconnecting to that very port on loopback, which then connects to itself — and the
 * service cannot bind it again when it restarts.
 */
const LOWEST = 20_000;
const HIGHEST = 32_000;

function listensOn(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port that is free right now on 127.0.0.1, outside the ephemeral range; never one of
 * `avoid` (ports a service is configured with but has not bound yet).
 */
export async function freePort(avoid: readonly number[] = []): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST));
    if (!avoid.includes(port) && (await listensOn(port))) return port;
  }
  throw new Error(`no free port between ${LOWEST} and ${HIGHEST}`);
}
