/** When a TCP port starts to accept connections, for measuring how soon callers follow. */
import { connect } from "node:net";

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** Polls every `everyMs` until the port accepts a connection; resolves with performance.now() then. */
export async function untilPortOpen(host: string, port: number, timeoutMs: number, everyMs = 5): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await accepts(host, port)) return performance.now();
    await new Promise((wake) => setTimeout(wake, everyMs));
  }
  throw new Error(`${host}:${port} did not open within ${timeoutMs} ms`);
}
