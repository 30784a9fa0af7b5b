import { type BoundedMessage, ENUMS, FIELD_RULES, type FieldRules } from "@tdt/proto/tdt/contract";
import { AppError, type Problem } from "./errors.js";

/**
 * The shape checks every service applies to its own requests, whoever sent them: a gRPC caller
 * that skips the gateway meets the same bounds. The bounds come from the contracts (`contract`,
 * reading the `(tdt.contract.v1.field)` options of the request message), as the gateway's JSON
 * schemas do; SPEC §3's paging convention, which every list shares, lives here too.
 */

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** SPEC §3: a list's `limit` is 1 to 100 (0, proto3's "unset", means the default) and `skip` ≥ 0. */
export const PAGE_LIMIT_MAX = 100;

type Loc = Problem["loc"];

/** Unicode code points, as the gateway's JSON schemas count them; cheap when plainly short enough. */
function longerThan(text: string, max: number): boolean {
  if (text.length <= max) return false;
  let count = 0;
  for (const _ of text) if (++count > max) return true;
  return false;
}

/** Collects every problem of one request, then throws them together (`done`). */
export class RequestChecks {
  readonly problems: Problem[] = [];

  /** A UUID; with `optional`, absent (`undefined`) is fine too. */
  uuid(loc: Loc, value: string | undefined, options: { optional?: boolean } = {}): this {
    if (value === undefined && options.optional) return this;
    if (value === undefined || !UUID_PATTERN.test(value)) {
      this.problems.push({ loc, msg: "Not a valid UUID", type: "uuid_format" });
    }
    return this;
  }

  maxLength(loc: Loc, value: string | undefined, max: number): this {
    if (value !== undefined && longerThan(value, max)) {
      this.problems.push({ loc, msg: `At most ${max} characters`, type: "string_too_long" });
    }
    return this;
  }

  /** One of `allowed`; absent (`undefined`) is fine. */
  oneOf(loc: Loc, value: string | undefined, allowed: readonly string[]): this {
    if (value !== undefined && !allowed.includes(value)) {
      this.problems.push({ loc, msg: `Must be one of ${allowed.join(", ")}`, type: "enum" });
    }
    return this;
  }

  range(loc: Loc, value: number | undefined, min: number, max: number): this {
    if (value === undefined) return this;
    if (value < min) this.problems.push({ loc, msg: `At least ${min}`, type: "greater_than_equal" });
    else if (value > max) this.problems.push({ loc, msg: `At most ${max}`, type: "less_than_equal" });
    return this;
  }

  /**
   * The bounds the contract gives the fields of `message` (maximum lengths and item counts, closed
   * lists, integer ranges), checked on `request`: each problem at `[...at, field]`, or at `locs[field]`
   * for a field the gateway takes from elsewhere (a header). Absent and empty fields are left to the
   * caller's own rules (proto3 sends "" and 0 for "unset"); minimum lengths are the domain's to judge.
   */
  contract(
    message: BoundedMessage,
    request: object | undefined,
    at: Loc = ["body"],
    locs: Record<string, Loc> = {},
  ): this {
    if (request === undefined) return this;
    const rules: Record<string, FieldRules> = FIELD_RULES[message];
    for (const [field, rule] of Object.entries(rules)) {
      this.field(locs[field] ?? [...at, field], (request as Record<string, unknown>)[field], rule);
    }
    return this;
  }

  private field(loc: Loc, value: unknown, rule: FieldRules): void {
    if (typeof value === "string" && value !== "" && rule.string) {
      if (rule.string.max_len !== undefined) this.maxLength(loc, value, rule.string.max_len);
      if (rule.string.in_enum) this.oneOf(loc, value, ENUMS[rule.string.in_enum].values);
    } else if (typeof value === "number" && rule.int32) {
      this.range(loc, value, rule.int32.gte ?? -2_147_483_648, rule.int32.lte ?? 2_147_483_647);
    } else if (Array.isArray(value) && rule.repeated) {
      const { max_items: maxItems, items } = rule.repeated;
      if (maxItems !== undefined && value.length > maxItems) {
        this.problems.push({ loc, msg: `At most ${maxItems} items`, type: "too_many_items" });
      } else if (items) {
        value.forEach((item, index) => {
          this.field([...loc, index], item, items);
        });
      }
    }
  }

  /** `skip` and `limit` of a list (SPEC §3), where the gateway puts them: the query. */
  page(request: { skip?: number; limit?: number }, maxLimit: number = PAGE_LIMIT_MAX): this {
    return this.range(["query", "skip"], request.skip, 0, Number.MAX_SAFE_INTEGER).range(
      ["query", "limit"],
      request.limit,
      0,
      maxLimit,
    );
  }

  /** Throws the 422 listing every problem found, if any. */
  done(): void {
    if (this.problems.length > 0) throw AppError.invalid(this.problems);
  }
}

export const checks = () => new RequestChecks();
