import type { FastifyInstance } from "fastify";
import { portableTreeSchema } from "../tree-format.js";

/** The published JSON Schemas of TDT's file formats: the portable tree (export and import). */
export async function schemaRoutes(app: FastifyInstance): Promise<void> {
  const tree = JSON.stringify(portableTreeSchema(), null, 2);
  app.get(
    "/tree.json",
    {
      schema: {
        operationId: "getTreeFormatSchema",
        summary: "The portable tree format, as JSON Schema 2020-12 (public)",
        description: "What `GET /trees/{id}/export` answers and `POST /trees/import` takes.",
        tags: ["trees"],
        security: [],
        response: {
          200: {
            description: "The JSON Schema",
            type: "object",
            additionalProperties: true,
            examples: [{ $schema: "https://json-schema.org/draft/2020-12/schema", title: "A TDT decision tree" }],
          },
        },
      },
    },
    async (_request, reply) => {
      reply.type("application/schema+json").header("cache-control", "public, max-age=3600");
      return tree;
    },
  );
}
