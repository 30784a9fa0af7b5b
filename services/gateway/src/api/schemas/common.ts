import { allowedStrings, type BoundedMessage, FIELD_RULES, type FieldRules } from "@tdt/proto/tdt/contract";

/** The small pieces every route's schemas are built from. */

/** A shared schema (registered with `addSchema`), by its `$id`. */
export const ref = (id: string) => ({ $ref: `${id}#` });

export const uuid = { type: "string", format: "uuid" } as const;
export const timestamp = { type: "string", format: "date-time" } as const;
/** The largest value an `int32` field of a gRPC message holds. */
export const INT32_MAX = 2_147_483_647;

/**
 * A field's bounds from the contract (`(tdt.contract.v1.field)` in the protos), as JSON Schema:
 * `string.min_len`/`max_len` → `minLength`/`maxLength`, `int32.gte`/`lte` → `minimum`/`maximum`,
 * `repeated.max_items` → `maxItems`, `string.in_enum` (narrowed by `in_subset`) → `enum`. Spread it into a
 * property schema.
 */
export function bounds(message: BoundedMessage, field: string): Record<string, unknown> {
  const rule = (FIELD_RULES[message] as Record<string, FieldRules>)[field];
  if (!rule) throw new Error(`the contract gives ${message}.${field} no bounds`);
  const schema: Record<string, unknown> = {};
  if (rule.string?.min_len !== undefined) schema.minLength = rule.string.min_len;
  if (rule.string?.max_len !== undefined) schema.maxLength = rule.string.max_len;
  const allowed = allowedStrings(rule.string);
  if (allowed) schema.enum = [...allowed];
  if (rule.int32?.gte !== undefined) schema.minimum = rule.int32.gte;
  if (rule.int32?.lte !== undefined) schema.maximum = rule.int32.lte;
  if (rule.repeated?.max_items !== undefined) schema.maxItems = rule.repeated.max_items;
  return schema;
}

/** The `security` of a route that needs an access token: from the OAuth2 password login, or pasted. */
export const BEARER: Array<Record<string, string[]>> = [{ oauth2: [] }, { bearer: [] }];
/** The `security` of a route anyone may call. */
export const PUBLIC: Array<Record<string, string[]>> = [];
export const NO_CONTENT = { 204: { type: "null", description: "Done" } };

/** The `headers` of a list's 200 response. */
export const totalCountHeader = (what: string) => ({
  "x-total-count": {
    type: "integer",
    description: `How many ${what} there are; left out when more than 10,000 match (a list that counts no further)`,
  },
  link: {
    type: "string",
    description:
      'The next page, when there is one: `</api/v1/...?cursor=...>; rel="next"` (RFC 8288), the same query with the next page\'s cursor',
  },
});

/** What a list's answer says of its page (`total`, and for lists that page by cursor the rest). */
export interface ListPage {
  total: number;
  total_capped?: boolean;
  next_cursor?: string;
}

/**
 * A list's headers: `X-Total-Count` unless the count stopped at its cap, and `Link` to the next
 * page (the request's own path and query, its `skip` and `cursor` replaced by the next cursor).
 */
export function listPageHeaders(url: string, page: ListPage): Record<string, string> {
  const headers: Record<string, string> = page.total_capped ? {} : { "x-total-count": String(page.total) };
  if (page.next_cursor) {
    const next = new URL(url, "http://gateway.invalid");
    next.searchParams.delete("skip");
    next.searchParams.set("cursor", page.next_cursor);
    headers.link = `<${next.pathname}${next.search}>; rel="next"`;
  }
  return headers;
}
