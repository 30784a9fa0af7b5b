import type { FastifyInstance } from "fastify";
import type { Downstream } from "../downstream.js";

const READY_TIMEOUT_MS = 1000;

/** Liveness of the gateway itself, and readiness of everything behind it. */
export async function healthRoutes(app: FastifyInstance, { downstream }: { downstream: Downstream }): Promise<void> {
  app.get(
    "/health",
    {
      schema: {
        tags: ["health"],
        summary: "Liveness: the gateway process is up",
        response: { 200: { type: "object", properties: { status: { type: "string", const: "ok" } } } },
      },
    },
    async () => ({ status: "ok" }),
  );

  const servicesSchema = {
    type: "object",
    additionalProperties: { type: "string", enum: ["SERVING", "NOT_SERVING"] },
  };
  app.get(
    "/ready",
    {
      schema: {
        tags: ["health"],
        summary: "Readiness: every downstream service reports SERVING over grpc.health.v1",
        response: {
          200: { type: "object", properties: { status: { type: "string" }, services: servicesSchema } },
          503: { type: "object", properties: { detail: { type: "string" }, services: servicesSchema } },
        },
      },
    },
    async (request, reply) => {
      const options = { requestId: request.id, timeoutMs: READY_TIMEOUT_MS };
      const entries = await Promise.all(
        Object.entries(downstream).map(async ([name, client]) => {
          const serving = await client.isServing(options).catch(() => false);
          return [name, serving ? "SERVING" : "NOT_SERVING"] as const;
        }),
      );
      const services = Object.fromEntries(entries);
      if (entries.every(([, state]) => state === "SERVING")) return { status: "ready", services };
      return reply.code(503).send({ detail: "service_unavailable", services });
    },
  );
}
