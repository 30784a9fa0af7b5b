import { writeFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { type AccessTokenVerifier, createLogger } from "@tdt/kit";
import { buildGateway } from "../app.js";
import { closeDownstream, connectDownstream } from "./downstream.js";

/**
 * The OpenAPI document the gateway serves at /api/openapi.json, built without any service:
 * it comes from the route schemas alone. `npm run generate:client` writes it for the client.
 */
export async function openApiDocument(): Promise<unknown> {
  // Nothing is ever called: the channels connect lazily and the app never listens.
  const downstream = connectDownstream({
    authAddress: "127.0.0.1:1",
    treesAddress: "127.0.0.1:1",
    sessionsAddress: "127.0.0.1:1",
    hooksAddress: "127.0.0.1:1",
    grpcDeadlineMs: 1,
  });
  const verifier = {} as AccessTokenVerifier;
  const app = await buildGateway({ log: createLogger("gateway", "silent"), downstream, verifier, corsOrigins: [] });
  try {
    await app.ready();
    return app.swagger();
  } finally {
    await app.close();
    closeDownstream(downstream);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [target] = process.argv.slice(2);
  if (!target) throw new Error("usage: openapi-document.js <file.json>");
  await writeFile(target, `${JSON.stringify(await openApiDocument(), null, 2)}\n`);
}
