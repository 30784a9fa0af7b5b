/**
 * A recording HTTP proxy in front of the gateway: it forwards every request unchanged (Host
 * included, so the gateway sees the origin its clients use) and keeps each exchange — method,
 * path, headers and bodies both ways — in order, for the golden corpus (tests/golden).
 */
import { createServer, request as forward, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface Exchange {
  method: string;
  path: string;
  requestHeaders: Record<string, string>;
  requestBody: Buffer;
  status: number;
  responseHeaders: Record<string, string>;
  responseBody: Buffer;
}

export interface Recorder {
  url: string;
  exchanges: Exchange[];
  stop(): Promise<void>;
}

const flat = (headers: IncomingHttpHeaders): Record<string, string> =>
  Object.fromEntries(
    Object.entries(headers)
      .filter((entry): entry is [string, string | string[]] => entry[1] !== undefined)
      .map(([name, value]) => [name, Array.isArray(value) ? value.join("\n") : value]),
  );

export async function startRecorder(target: string): Promise<Recorder> {
  const upstream = new URL(target);
  const exchanges: Exchange[] = [];
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const requestBody = Buffer.concat(chunks);
      const index = exchanges.length;
      // Its place in the order is taken when the request is complete, as the gateway sees it.
      exchanges.push(undefined as unknown as Exchange);
      const sent = forward(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: incoming.method,
          path: incoming.url,
          headers: incoming.headers,
        },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on("data", (chunk: Buffer) => parts.push(chunk));
          answer.on("end", () => {
            const responseBody = Buffer.concat(parts);
            exchanges[index] = {
              method: incoming.method ?? "GET",
              path: incoming.url ?? "/",
              requestHeaders: flat(incoming.headers),
              requestBody,
              status: answer.statusCode ?? 0,
              responseHeaders: flat(answer.headers),
              responseBody,
            };
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            outgoing.end(responseBody);
          });
        },
      );
      sent.on("error", (error) => {
        outgoing.writeHead(502).end(String(error));
      });
      sent.end(requestBody);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
