// Writes proto/gen/tdt/contract.ts from the descriptor set `buf build proto -o <file>.binpb` made:
// every closed list (proto enum) as its JSON strings, and every bound (`(tdt.contract.v1.field)`
// option) of every message field. Run by `npm run generate`; never edit the output by hand.
//
//   node scripts/generate-contract.mjs <descriptors.binpb> <out.ts>
import { writeFileSync } from "node:fs";
import { getExtension, hasExtension } from "@bufbuild/protobuf";
import { jsonValues, ours, readDescriptors } from "./descriptors.mjs";

const { registry, output } = readDescriptors("generate-contract.mjs");
const fieldRules = registry.getExtension("tdt.contract.v1.field");
const mediaType = registry.getExtension("tdt.contract.v1.media_type");
const subsetOption = registry.getExtension("tdt.contract.v1.subset");
const accessOption = registry.getExtension("tdt.contract.v1.access");
const httpRouteOption = registry.getExtension("tdt.contract.v1.http_route");
const httpRule = registry.getExtension("google.api.http");
if (!fieldRules || !mediaType || !subsetOption || !accessOption || !httpRouteOption) {
  throw new Error("tdt/contract/v1/rules.proto is missing from the descriptor set");
}
if (!httpRule) throw new Error("google/api/annotations.proto is missing from the descriptor set");

const byName = (a, b) => (a.typeName < b.typeName ? -1 : a.typeName > b.typeName ? 1 : 0);

const enums = {};
for (const desc of [...registry].filter((d) => d.kind === "enum" && ours(d)).sort(byName)) {
  const values = jsonValues(desc);
  if (values[0]?.number !== 0 || values[0].json !== "unspecified") {
    throw new Error(`${desc.typeName}: the first value must be ${desc.name}_UNSPECIFIED = 0`);
  }
  const named = values.slice(1);
  const entry = { values: named.map((v) => v.json), numbers: Object.fromEntries(named.map((v) => [v.json, v.number])) };
  const mediaTypes = named.filter((v) => v.value.proto.options && hasExtension(v.value.proto.options, mediaType));
  if (mediaTypes.length > 0) {
    entry.mediaTypes = Object.fromEntries(
      mediaTypes.map((v) => [v.json, getExtension(v.value.proto.options, mediaType)]),
    );
  }
  const subsets = {};
  for (const v of named) {
    const names = v.value.proto.options ? getExtension(v.value.proto.options, subsetOption) : [];
    for (const subset of names) {
      subsets[subset] ??= [];
      subsets[subset].push(v.json);
    }
  }
  if (Object.keys(subsets).length > 0) entry.subsets = subsets;
  enums[desc.typeName] = entry;
}

const num = (value) => (value === undefined ? undefined : Number(value));
/** A FieldRules message as plain JSON, unset rules left out. */
function rulesOf(rules) {
  const out = {};
  if (rules.string) {
    const s = { min_len: num(rules.string.minLen), max_len: num(rules.string.maxLen) };
    if (rules.string.inEnum) {
      if (!enums[rules.string.inEnum]) throw new Error(`in_enum names no enum: ${rules.string.inEnum}`);
      s.in_enum = rules.string.inEnum;
    }
    if (rules.string.inSubset) {
      if (!enums[s.in_enum]?.subsets?.[rules.string.inSubset]) {
        throw new Error(
          `in_subset names no subset of ${rules.string.inEnum || "(no in_enum)"}: ${rules.string.inSubset}`,
        );
      }
      s.in_subset = rules.string.inSubset;
    }
    out.string = s;
  }
  if (rules.int32) out.int32 = { gte: rules.int32.gte, lte: rules.int32.lte };
  if (rules.repeated) {
    out.repeated = { max_items: num(rules.repeated.maxItems) };
    if (rules.repeated.items) out.repeated.items = rulesOf(rules.repeated.items);
  }
  return JSON.parse(JSON.stringify(out)); // drops the undefined ones
}

const fields = {};
for (const desc of [...registry].filter((d) => d.kind === "message" && ours(d)).sort(byName)) {
  const bounds = {};
  for (const field of [...desc.fields].sort((a, b) => a.number - b.number)) {
    const options = field.proto.options;
    if (options && hasExtension(options, fieldRules)) bounds[field.name] = rulesOf(getExtension(options, fieldRules));
  }
  if (Object.keys(bounds).length > 0) fields[desc.typeName] = bounds;
}

/** `ListTrees` → "listTrees", as ts-proto names a service definition's methods. */
const lowerCamel = (name) => name.charAt(0).toLowerCase() + name.slice(1);
/** `CACHE_SCOPE_TREE` (its number) → "tree". */
const cacheScope = registry.getEnum("tdt.contract.v1.CacheScope");
const scopeOf = (number) =>
  number
    ? cacheScope.values
        .find((v) => v.number === number)
        .name.slice(12)
        .toLowerCase()
    : undefined;
const GUARDS = ["public", "user", ...(enums["tdt.auth.v1.Role"]?.values ?? [])];

/**
 * Who may call each method, by service; and every method's HTTP route (`google.api.http` and
 * `(tdt.contract.v1.http_route)`), in declaration order. A method without a route has no HTTP face.
 */
const access = {};
const routes = [];
for (const service of [...registry].filter((d) => d.kind === "service" && ours(d)).sort(byName)) {
  const table = {};
  for (const method of service.methods) {
    const options = method.proto.options;
    const guard = options && hasExtension(options, accessOption) ? getExtension(options, accessOption) : "";
    if (!GUARDS.includes(guard))
      throw new Error(`${service.typeName}.${method.name}: (tdt.contract.v1.access) must be one of ${GUARDS}`);
    table[lowerCamel(method.name)] = guard;
    if (!options || !hasExtension(options, httpRule)) continue;
    const rule = getExtension(options, httpRule);
    if (rule.pattern.case === undefined || rule.pattern.case === "custom") {
      throw new Error(`${service.typeName}.${method.name}: google.api.http needs get, put, post, delete or patch`);
    }
    const http = hasExtension(options, httpRouteOption) ? getExtension(options, httpRouteOption) : undefined;
    if (!http?.summary)
      throw new Error(`${service.typeName}.${method.name}: (tdt.contract.v1.http_route).summary is missing`);
    routes.push(
      JSON.parse(
        JSON.stringify({
          service: service.typeName,
          client: service.typeName.split(".")[1],
          rpc: lowerCamel(method.name),
          method: rule.pattern.case.toUpperCase(),
          path: rule.pattern.value,
          body: rule.body || undefined,
          responseBody: rule.responseBody || undefined,
          request: method.input.typeName,
          response: method.output.typeName,
          summary: http.summary,
          description: http.description || undefined,
          operationId: http.operationId || undefined,
          status: http.status || undefined,
          errors: http.errors.length > 0 ? http.errors : undefined,
          total: http.total || undefined,
          cache: scopeOf(http.cache),
          invalidates: scopeOf(http.invalidates),
          secretQuery: http.secretQuery || undefined,
          responseDescription: http.responseDescription || undefined,
        }),
      ),
    );
  }
  access[service.typeName] = table;
}

const json = (value) => JSON.stringify(value, null, 2);
writeFileSync(
  output,
  `// Code generated by scripts/generate-contract.mjs from proto/ (npm run generate). DO NOT EDIT.
// The closed lists (proto enums, as the JSON API's lowercase strings) and the bounds
// (\`(tdt.contract.v1.field)\` options) of every contract; see docs/decisions/contract-enums-and-bounds.md.

/**
 * Every enum by full name: its JSON values in declaration order, their proto numbers, media types
 * if any, and its named subsets if any (\`(tdt.contract.v1.subset)\`, values in declaration order).
 */
export const ENUMS = ${json(enums)} as const;

/** Every bounded field by message full name and field name, as its \`(tdt.contract.v1.field)\` rules. */
export const FIELD_RULES = ${json(fields)} as const;

/** Who may call each method (\`(tdt.contract.v1.access)\`), by service full name and method. */
export const ACCESS = ${json(access)} as const;

/** Where a kept answer belongs (\`tdt.contract.v1.CacheScope\`). */
export type CacheScope = "trees" | "tree" | "user" | "caller";

/** One RPC's HTTP route: its \`google.api.http\` rule and \`(tdt.contract.v1.http_route)\` option. */
export interface HttpRoute {
  /** The service's full name and its client's name ("tdt.trees.v1.TreesService", "trees"). */
  readonly service: string;
  readonly client: string;
  /** The method as ts-proto names it ("listTrees"), its request and response messages' full names. */
  readonly rpc: string;
  readonly request: string;
  readonly response: string;
  readonly method: "GET" | "PUT" | "POST" | "DELETE" | "PATCH";
  /** The path template, with \`{field}\` for the request fields it carries. */
  readonly path: string;
  /** The request field the body is ("*": every field not in the path). */
  readonly body?: string;
  /** The response field the body is, when not the whole response. */
  readonly responseBody?: string;
  readonly summary: string;
  readonly description?: string;
  readonly operationId?: string;
  readonly status?: number;
  readonly errors?: readonly string[];
  readonly total?: string;
  readonly cache?: CacheScope;
  readonly invalidates?: CacheScope;
  readonly secretQuery?: boolean;
  /** What the success body is (OpenAPI's response description). */
  readonly responseDescription?: string;
}

/** Every method's HTTP route, in declaration order: the gateway's table. */
export const HTTP_ROUTES: readonly HttpRoute[] = ${json(routes)};

export type EnumName = keyof typeof ENUMS;
/** The JSON strings of an enum: \`EnumValue<"tdt.trees.v1.NodeType">\` is "question" | "action" | "solution". */
export type EnumValue<E extends EnumName> = (typeof ENUMS)[E]["values"][number];
export type BoundedMessage = keyof typeof FIELD_RULES;

export interface StringRules {
  readonly min_len?: number;
  readonly max_len?: number;
  readonly in_enum?: EnumName;
  /** With \`in_enum\`: only the values of this subset of it. */
  readonly in_subset?: string;
}
export interface Int32Rules {
  readonly gte?: number;
  readonly lte?: number;
}
export interface FieldRules {
  readonly string?: StringRules;
  readonly int32?: Int32Rules;
  readonly repeated?: { readonly max_items?: number; readonly items?: FieldRules };
}

/** The rules of one field, or none. */
export function fieldRules(message: string, field: string): FieldRules | undefined {
  return (FIELD_RULES as Record<string, Record<string, FieldRules>>)[message]?.[field];
}

/** The JSON strings of an enum, in declaration order. */
export function enumValues<E extends EnumName>(name: E): (typeof ENUMS)[E]["values"] {
  return ENUMS[name].values;
}

/** The names of an enum's subsets (\`(tdt.contract.v1.subset)\`), none for most enums. */
export type SubsetName<E extends EnumName> = (typeof ENUMS)[E] extends { readonly subsets: infer S } ? keyof S & string : never;

/** The JSON strings of one subset of an enum, in declaration order. */
export function enumSubset<E extends EnumName>(name: E, subset: SubsetName<E>): readonly EnumValue<E>[] {
  const subsets = (ENUMS[name] as { readonly subsets?: Record<string, readonly EnumValue<E>[]> }).subsets;
  const values = subsets?.[subset];
  if (!values) throw new Error(\`\${name} has no subset \${subset}\`);
  return values;
}

/** The strings a string field's rules allow: its enum's values, or its subset's; none when it names no enum. */
export function allowedStrings(rules: StringRules | undefined): readonly string[] | undefined {
  if (!rules?.in_enum) return undefined;
  return rules.in_subset
    ? enumSubset(rules.in_enum, rules.in_subset as SubsetName<typeof rules.in_enum>)
    : enumValues(rules.in_enum);
}

/** A proto enum number as its JSON string (undefined for UNSPECIFIED or an unknown number). */
export function enumToJson<E extends EnumName>(name: E, number: number): EnumValue<E> | undefined {
  const values = ENUMS[name].values as readonly string[];
  const numbers = ENUMS[name].numbers as Record<string, number>;
  return values.find((value) => numbers[value] === number) as EnumValue<E> | undefined;
}

/** A JSON string as its proto enum number (undefined when it is not one of the enum's values). */
export function enumFromJson(name: EnumName, value: string): number | undefined {
  return Object.hasOwn(ENUMS[name].numbers, value) ? (ENUMS[name].numbers as Record<string, number>)[value] : undefined;
}

/** Whether \`value\` is one of the enum's JSON strings. */
export function isEnumValue<E extends EnumName>(name: E, value: string): value is EnumValue<E> {
  return enumFromJson(name, value) !== undefined;
}
`,
);
