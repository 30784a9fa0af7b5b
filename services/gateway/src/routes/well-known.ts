import type { FastifyInstance } from "fastify";
import type { Downstream } from "../downstream.js";
import { DOWNSTREAM_ERRORS, errorResponses } from "../schemas/errors.js";

/** Public keys for anyone verifying TDT tokens (SPEC §4.2). */
export async function wellKnownRoutes(app: FastifyInstance, { downstream }: { downstream: Downstream }): Promise<void> {
  app.get(
    "/.well-known/jwks.json",
    {
      schema: {
        tags: ["auth"],
        summary: "The auth service's public signing keys (JWKS)",
        response: {
          200: { description: "The key set; old keys stay while tokens they signed live", $ref: "Jwks#" },
          ...errorResponses(...DOWNSTREAM_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const { jwks_json } = await downstream.auth.getJwks({}, { requestId: request.id });
      // Verifiers refetch on an unknown `kid`, so a minute of caching never hides a rotation for long.
      return reply.header("cache-control", "public, max-age=60").send(JSON.parse(jwks_json));
    },
  );
}
