import createClient, { type ClientOptions } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { Middleware } from "openapi-fetch";
export type { components, paths };
export type Schemas = components["schemas"];

/** A typed client of the TDT API: every path, body, answer and error code as the gateway documents them. */
export function createApiClient(options: ClientOptions = {}) {
  return createClient<paths>(options);
}

export type ApiClient = ReturnType<typeof createApiClient>;
