import { PAGE_LIMIT_MAX } from "@tdt/kit";

/** The small pieces every route's schemas are built from. */

/** A shared schema (registered with `addSchema`), by its `$id`. */
export const ref = (id: string) => ({ $ref: `${id}#` });

export const uuid = { type: "string", format: "uuid" } as const;
export const timestamp = { type: "string", format: "date-time" } as const;
/** The largest value an `int32` field of a gRPC message holds. */
export const INT32_MAX = 2_147_483_647;

/** The `security` of a route that needs an access token. */
export const BEARER = [{ bearer: [] }];
export const NO_CONTENT = { 204: { type: "null", description: "Done" } };

/** `skip` and `limit` of a list (SPEC §3): plain arrays, the total in `X-Total-Count`. */
export const PAGE_PARAMETERS = {
  skip: { type: "integer", minimum: 0, maximum: INT32_MAX, default: 0 },
  limit: { type: "integer", minimum: 1, maximum: PAGE_LIMIT_MAX, default: 50 },
} as const;

/** The `headers` of a list's 200 response. */
export const totalCountHeader = (what: string) => ({
  "x-total-count": { type: "integer", description: `How many ${what} there are` },
});
