import { Ajv, type Options } from "ajv";
import addFormats from "ajv-formats";
import type { FastifySchemaCompiler } from "fastify";

// discriminator: a `oneOf` keyed by one property reports only the errors of the branch it names.
const common: Options = {
  allErrors: true,
  removeAdditional: false,
  useDefaults: true,
  strict: false,
  discriminator: true,
};

// Bodies are JSON with real types: a number sent for a string is an error, as it was in FastAPI.
const bodyAjv = addFormats.default(new Ajv({ ...common, coerceTypes: false }));
// Query strings and path parameters are text: "limit=10" must become 10.
const textAjv = addFormats.default(new Ajv({ ...common, coerceTypes: "array" }));

/** fastify's schema compiler: strict types for JSON bodies, coercion for text parts. */
export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) =>
  (httpPart === "body" ? bodyAjv : textAjv).compile(schema as object);
