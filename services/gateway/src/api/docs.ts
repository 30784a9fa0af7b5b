import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { errorCatalogueMarkdown } from "@tdt/proto/contracts/error-codes";
import type { FastifyInstance } from "fastify";

const REDOC_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>TDT API reference</title>
    <meta name="viewport" content="width=device-width, initial-scale=1" />
  </head>
  <body>
    <redoc spec-url="/api/openapi.json"></redoc>
    <script src="/api/redoc/redoc.standalone.js"></script>
  </body>
</html>
`;

/** Where the error catalogue is read: ReDoc's section of the `errors` tag below. */
export const ERROR_CATALOGUE_URL = "/api/redoc#tag/errors";

/** What a reader sees first: what the API is, how to sign in, how errors look; the catalogue is a link away. */
const DESCRIPTION =
  "Troubleshooting Decision Tree: author decision trees, run guided troubleshooting sessions, export reports.\n\n" +
  "**Authorize** with your email and password (the OAuth2 password form), or paste an access token as a bearer " +
  "token.\n\n" +
  'Errors are `{"detail": "<code>"}`; validation failures are 422 with a list of `{loc, msg, type}`. Each ' +
  `operation lists its codes per status; [Error codes](${ERROR_CATALOGUE_URL}) has every one, with what it means.`;

/**
 * The groups of operations, in the order a reader meets them, then the error catalogue as a tag of
 * its own that no operation carries: Swagger UI shows it as the last section, after the endpoints,
 * and ReDoc as a section of its own in the menu (`x-traitTag`), where the description links.
 */
const TAGS = [
  {
    name: "auth",
    description:
      "Accounts and tokens: registration and mailed links, password and single sign-on logins, refresh (with an " +
      "optional cookie mode), login sessions, users and the session policy.",
  },
  {
    name: "trees",
    description: "Decision trees: write, version, publish, search, and what technicians did with them.",
  },
  { name: "sessions", description: "Guided troubleshooting through a tree's pinned version, and its reports." },
  {
    name: "hooks",
    "x-displayName": "webhooks",
    description:
      "Webhook endpoints an organization's admins register: TDT's events pushed to other systems, signed as " +
      "Standard Webhooks says, with a delivery log and redelivery.",
  },
  { name: "health", description: "Liveness of the gateway and readiness of the services behind it." },
  {
    name: "errors",
    "x-displayName": "Error codes",
    "x-traitTag": true,
    description: `Every \`detail\` code an answer can carry, with its status and meaning:\n\n${errorCatalogueMarkdown()}`,
  },
];

/** The OAuth2 password form's route (routes/auth.ts), as a path on the gateway's own origin. */
export const OAUTH2_TOKEN_URL = "/api/v1/auth/login";

interface Operation {
  requestBody?: { required?: boolean; content?: Record<string, { schema?: { type?: unknown } }> };
}

/** @fastify/swagger marks every body required; one whose schema admits null (logout's) is optional. */
function markOptionalBodies<D extends { paths?: unknown }>(document: D): D {
  const paths = (document.paths ?? {}) as Record<string, Record<string, Operation>>;
  for (const operation of Object.values(paths).flatMap((methods) => Object.values(methods))) {
    const schemas = Object.values(operation.requestBody?.content ?? {}).map((media) => media.schema);
    if (operation.requestBody && schemas.some((schema) => [schema?.type].flat().includes("null"))) {
      operation.requestBody.required = false;
    }
  }
  return document;
}

type SchemaObject = {
  $ref?: string;
  discriminator?: { propertyName: string; mapping?: Record<string, string> };
  oneOf?: SchemaObject[];
  properties?: Record<string, { const?: unknown; enum?: unknown[] }>;
};

/**
 * Gives each discriminated union of shared schemas its `mapping` (value → variant), read from the
 * variants' `const` or `enum` (a variant may stand for several values, as the named session
 * policies do): generated clients need it to type the union by its value (`type: "question"`),
 * and ajv, which validates with the same schemas, takes no mapping.
 */
function mapDiscriminators<D extends { components?: object }>(document: D): D {
  const schemas = ((document.components as { schemas?: Record<string, SchemaObject> } | undefined)?.schemas ??
    {}) as Record<string, SchemaObject>;
  for (const schema of Object.values(schemas)) {
    const { discriminator, oneOf } = schema;
    if (!discriminator || discriminator.mapping || !oneOf?.every((variant) => variant.$ref)) continue;
    discriminator.mapping = Object.fromEntries(
      oneOf.flatMap((variant) => {
        const name = String(variant.$ref).replace("#/components/schemas/", "");
        // @fastify/swagger writes a `const` as a one-value `enum`.
        const tag = schemas[name]?.properties?.[discriminator.propertyName];
        const values = tag?.const !== undefined ? [tag.const] : (tag?.enum ?? []);
        return values.map((value) => [String(value), String(variant.$ref)]);
      }),
    );
  }
  return document;
}

/** OpenAPI 3.1 built from the route schemas, served as JSON, Swagger UI and ReDoc. */
export async function registerDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    // Shared schemas appear under their own names (components/schemas/User, ...).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transformObject: (document) =>
      "openapiObject" in document
        ? mapDiscriminators(markOptionalBodies(document.openapiObject))
        : document.swaggerObject,
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "TDT API",
        version: "1.0.0",
        description: DESCRIPTION,
      },
      // The gateway that serves this document: its paths are absolute (`/api/v1/...`).
      servers: [{ url: "/", description: "This gateway" }],
      tags: TAGS,
      components: {
        securitySchemes: {
          // Swagger UI's Authorize logs in with email and password through the OAuth2 form route.
          oauth2: {
            type: "oauth2",
            description: "Log in with your email as the username; the access token is then sent as a bearer token.",
            flows: { password: { tokenUrl: OAUTH2_TOKEN_URL, scopes: {} } },
          },
          bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: "/api/docs" });

  app.get("/api/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  const redocBundle = createRequire(import.meta.url).resolve("redoc/bundles/redoc.standalone.js");
  let redocScript: Buffer | undefined;
  app.get("/api/redoc", { schema: { hide: true } }, async (_request, reply) =>
    reply.type("text/html; charset=utf-8").send(REDOC_PAGE),
  );
  app.get("/api/redoc/redoc.standalone.js", { schema: { hide: true } }, async (_request, reply) => {
    redocScript ??= await readFile(redocBundle);
    return reply.type("application/javascript").header("cache-control", "public, max-age=86400").send(redocScript);
  });
}
