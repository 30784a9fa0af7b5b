import type { FastifyInstance } from "fastify";
import type { DownstreamHealth } from "../downstream-health.js";
import { PUBLIC } from "../schemas/common.js";

/** Liveness of the gateway itself, and readiness per downstream service. */
export async function healthRoutes(
  app: FastifyInstance,
  { health, version }: { health: DownstreamHealth; version: string },
): Promise<void> {
  app.get(
    "/health",
    {
      schema: {
        tags: ["health"],
        operationId: "getLiveness",
        security: PUBLIC,
        summary: "Liveness: the gateway process is up, and the release it runs",
        response: {
          200: {
            type: "object",
            required: ["status", "version"],
            properties: {
              status: { type: "string", const: "ok" },
              version: {
                type: "string",
                description:
                  "The release (`v1.2.3`, or `git describe` of an unreleased build); `dev` outside an image.",
              },
            },
            examples: [{ status: "ok", version: "v0.2.0" }],
          },
        },
      },
    },
    async () => ({ status: "ok", version }),
  );

  const servicesSchema = {
    type: "object",
    additionalProperties: { type: "string", enum: ["SERVING", "NOT_SERVING", "UNKNOWN"] },
  };
  app.get(
    "/ready",
    {
      schema: {
        tags: ["health"],
        operationId: "getReadiness",
        security: PUBLIC,
        summary: "Readiness: 200 while at least one downstream service is SERVING over grpc.health.v1",
        description:
          "`status` is `ready` when every downstream is SERVING and `degraded` when only some are (routes of " +
          "a service that is down answer 503 `service_unavailable`). When none is SERVING the gateway " +
          "can serve nothing: 503 with `status: unavailable`.",
        response: {
          200: {
            type: "object",
            required: ["status", "services"],
            properties: { status: { type: "string", enum: ["ready", "degraded"] }, services: servicesSchema },
            examples: [
              { status: "degraded", services: { auth: "SERVING", trees: "SERVING", sessions: "NOT_SERVING" } },
            ],
          },
          503: {
            type: "object",
            required: ["detail", "status", "services"],
            examples: [
              {
                detail: "service_unavailable",
                status: "unavailable",
                services: { auth: "UNKNOWN", trees: "NOT_SERVING", sessions: "UNKNOWN" },
              },
            ],
            properties: {
              detail: { type: "string", enum: ["service_unavailable"] },
              status: { type: "string", const: "unavailable" },
              services: servicesSchema,
            },
          },
        },
      },
    },
    async (_request, reply) => {
      const services = await health.check();
      const serving = Object.values(services).filter((state) => state === "SERVING").length;
      if (serving === Object.keys(services).length) return { status: "ready", services };
      if (serving > 0) return { status: "degraded", services };
      return reply.code(503).send({ detail: "service_unavailable", status: "unavailable", services });
    },
  );
}
