import type { AccessTokenVerifier } from "@tdt/kit";
import type { FastifyInstance } from "fastify";
import type { Downstream } from "../downstream.js";
import { routesOf } from "../route.js";

/** Public keys for anyone verifying TDT tokens (SPEC §4.2). */
export async function wellKnownRoutes(
  app: FastifyInstance,
  { downstream, verifier }: { downstream: Downstream; verifier: AccessTokenVerifier },
): Promise<void> {
  routesOf({ tag: "auth", downstream, verifier })(app, {
    rpc: { client: "auth", method: "getJwks" },
    response: { description: "The key set; old keys stay while tokens they signed live", $ref: "Jwks#" },
    // Verifiers refetch on an unknown `kid`, so a minute of caching never hides a rotation for long.
    send: ({ jwks_json }, reply) => {
      reply.header("cache-control", "public, max-age=60");
      return JSON.parse(jwks_json);
    },
  });
}
