import { Ajv, type AnySchema, type Options, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

// discriminator: a `oneOf` keyed by one property reports only the errors of the branch it names.
const common: Options = {
  allErrors: true,
  removeAdditional: false,
  useDefaults: true,
  strict: false,
  discriminator: true,
};

function ajvWith(options: Options, sharedSchemas: AnySchema[]): Ajv {
  const ajv = addFormats.default(new Ajv({ ...common, ...options }));
  for (const schema of sharedSchemas) ajv.addSchema(schema);
  return ajv;
}

type ObjectSchema = { properties?: Record<string, { type?: unknown; format?: unknown }> };

/**
 * A multipart upload's file part is documented as binary text (`type: string, format: binary`,
 * which OpenAPI and Swagger UI show as a file) but is read as an object holding its bytes
 * (multipart-file.ts): the body is checked with such parts as objects.
 */
function withFileParts(schema: unknown): unknown {
  const properties = (schema as ObjectSchema | undefined)?.properties;
  if (!properties || !Object.values(properties).some((part) => part?.format === "binary")) return schema;
  const asRead = Object.entries(properties).map(([name, part]) => [
    name,
    part?.format === "binary" ? { type: "object", required: ["content"] } : part,
  ]);
  return { ...(schema as object), properties: Object.fromEntries(asRead) };
}

/**
 * fastify's validator factory, given the schemas registered with `addSchema` so that a route's
 * `$ref: "TreeInput#"` resolves: strict types for JSON bodies, coercion for text parts.
 */
export function buildValidator(
  externalSchemas: Record<string, AnySchema | AnySchema[]>,
): (route: { schema: unknown; httpPart?: string | undefined }) => ValidateFunction {
  const shared = Object.values(externalSchemas).flat();
  // Bodies are JSON with real types: a number sent for a string is an error, as it was in FastAPI.
  const bodyAjv = ajvWith({ coerceTypes: false }, shared);
  // Query strings and path parameters are text: "limit=10" must become 10.
  const textAjv = ajvWith({ coerceTypes: "array" }, shared);
  return ({ schema, httpPart }) =>
    httpPart === "body" ? bodyAjv.compile(withFileParts(schema) as object) : textAjv.compile(schema as object);
}
