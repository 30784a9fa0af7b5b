import type { ClientInfo } from "@tdt/proto/tdt/auth/v1/auth";
import { HTTP_ROUTES } from "@tdt/proto/tdt/contract";
import { MESSAGE_SCHEMAS, SCHEMA_NAMES, type SchemaMessage } from "@tdt/proto/tdt/schemas";

/**
 * The JSON Schemas of the contract's messages (proto/gen/tdt/schemas.ts, generated from the
 * protos: types, bounds, closed lists, comments as descriptions, `(tdt.contract.v1.json)` and
 * `(tdt.contract.v1.json_message)`) as the gateway registers and uses them.
 */

type Schema = Record<string, unknown>;

/** A schema with every reference to a message (`tdt.auth.v1.User#`) made one to its shared name (`User#`). */
function named(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(named);
  if (schema === null || typeof schema !== "object") return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [
      key,
      key === "$ref" && typeof value === "string"
        ? `${SCHEMA_NAMES[value.slice(0, -1)] ?? value.slice(0, -1)}#`
        : named(value),
    ]),
  );
}

/** A message's schema as a response carries it, shared under its name (`$id`) with `addSchema`. */
export function sharedSchema(message: SchemaMessage): Schema {
  const { requestRequired: _, ...schema } = MESSAGE_SCHEMAS[message];
  return { $id: SCHEMA_NAMES[message], ...(named(schema) as Schema) };
}

/** Where the call comes from: the gateway fills a field of this message in any request, a client never. */
const CLIENT_INFO_REF = "tdt.auth.v1.ClientInfo#";

/** The fields of a request the gateway fills itself (`ClientInfo`): no request schema shows them. */
function gatewayFilled(message: string): string[] {
  const schema = MESSAGE_SCHEMAS[message as SchemaMessage] as
    | { properties: Record<string, { $ref?: string }> }
    | undefined;
  return Object.entries(schema?.properties ?? {})
    .filter(([, field]) => field.$ref === CLIENT_INFO_REF)
    .map(([name]) => name);
}

/**
 * A message as a request body or query takes it: only the fields given (`omit` those the path
 * carries), no others, the ones it must carry required.
 */
export function requestSchema(message: SchemaMessage, omit: readonly string[] = []): Schema {
  const {
    properties,
    requestRequired,
    required: _,
    ...rest
  } = MESSAGE_SCHEMAS[message] as Schema & {
    properties: Record<string, unknown>;
    requestRequired: readonly string[];
  };
  delete rest.description;
  const left = [...omit, ...gatewayFilled(message)];
  const kept = Object.fromEntries(Object.entries(properties).filter(([name]) => !left.includes(name)));
  const required = requestRequired.filter((name) => !left.includes(name));
  return {
    ...(named(rest) as Schema),
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
    properties: named(kept),
  };
}

/** What a table route's HTTP shapes are derived from: its messages and its google.api.http rule. */
export interface RouteShape {
  request: string;
  response: string;
  method: string;
  path: string;
  bodyField?: string | undefined;
  responseBody?: string | undefined;
  responseDescription?: string | undefined;
  status?: number | undefined;
}

/**
 * A route's schemas as google.api.http maps its messages: the path's `{fields}` as params, the
 * body's (`body: "*"`) or, without a body, the query's fields, and the response message (or its
 * `response_body` field) as the success body. Empty where the request has no such fields.
 */
export function derivedSchemas(shape: RouteShape): {
  params?: Schema;
  querystring?: Schema;
  body?: Schema;
  response?: Schema;
} {
  const message = MESSAGE_SCHEMAS[shape.request as SchemaMessage] as { properties: Record<string, Schema> } | undefined;
  if (!message) return {};
  const pathFields = [...shape.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name as string);
  const rest = Object.keys(message.properties).filter((name) => !pathFields.includes(name));
  const derived: { params?: Schema; querystring?: Schema; body?: Schema; response?: Schema } = {};
  // A path whose names are not the message's fields (`{id}` for `tree_id`) is the binding's to map.
  if (pathFields.every((name) => name in message.properties)) {
    if (pathFields.length > 0) {
      const properties = Object.fromEntries(pathFields.map((name) => [name, named(message.properties[name])]));
      derived.params = { type: "object", required: pathFields, properties };
    }
    // A body of variants is their union, shared under the message's name (variantUnion).
    const fields =
      shape.bodyField === "*" && "variants" in message
        ? { $ref: `${SCHEMA_NAMES[shape.request]}#` }
        : requestSchema(shape.request as SchemaMessage, pathFields);
    if (rest.length > 0) derived[shape.bodyField === "*" ? "body" : "querystring"] = fields;
  }
  const response = MESSAGE_SCHEMAS[shape.response as SchemaMessage] as
    | { properties: Record<string, Schema> }
    | undefined;
  // A 204 sends no body, a 302 a redirect: neither shows the response message.
  if (response && shape.status !== 204 && shape.status !== 302) {
    const body = shape.responseBody
      ? named(response.properties[shape.responseBody])
      : { $ref: `${SCHEMA_NAMES[shape.response]}#` };
    // The route's own words for its answer win over the field's.
    const { description, ...shown } = body as Schema;
    const said = shape.responseDescription ?? description;
    derived.response = { ...(said ? { description: said } : {}), ...shown };
  }
  return derived;
}

/** Proto3's value of a field that is not there, by its JSON Schema type. */
const ZERO: Record<string, unknown> = { string: "", integer: 0, number: 0, boolean: false, array: [], object: {} };

/**
 * An RPC's request with every field a message always has (all but proto3 `optional` ones and
 * message fields) at its zero value where the HTTP request left it out (ts-proto encodes a
 * missing string as the text "undefined"), and where the call comes from in a `ClientInfo` field.
 */
export function completeRequest<T>(message: string, request: T, client: () => ClientInfo): T {
  const { zeros, filledHere } = completionOf(message);
  if (request === null || typeof request !== "object") return request;
  const filled: Record<string, unknown> = { ...(request as Record<string, unknown>) };
  for (const [name, zero] of zeros) if (filled[name] === undefined) filled[name] = structuredClone(zero);
  for (const name of filledHere) filled[name] = client();
  return filled as T;
}

/** What completing a message's requests takes, worked out once per message (it runs on every call). */
const completions = new Map<string, { zeros: Array<[string, unknown]>; filledHere: string[] }>();
function completionOf(message: string): { zeros: Array<[string, unknown]>; filledHere: string[] } {
  let completion = completions.get(message);
  if (!completion) {
    const schema = MESSAGE_SCHEMAS[message as SchemaMessage] as
      | { required: readonly string[]; properties: Record<string, { type?: string }> }
      | undefined;
    const zeros = (schema?.required ?? [])
      .map((name): [string, unknown] => [name, ZERO[schema?.properties[name]?.type ?? ""]])
      .filter(([, zero]) => zero !== undefined);
    completion = { zeros, filledHere: gatewayFilled(message) };
    completions.set(message, completion);
  }
  return completion;
}

/** One variant of a message (`(tdt.contract.v1.json_message).variant_key`), as generated. */
interface Variant {
  value: string;
  name: string;
  description?: string;
  fields: readonly string[];
  optional: readonly string[];
}

/** How a message's variants read: as answers have them, or as a request takes them. */
export interface VariantForm {
  /** A request's form: only what a request must carry is required; without it, an answer's. */
  request?: boolean;
  /** In a request, a variant's own fields are optional too, left for the service to judge. */
  ownOptional?: boolean;
  /** Without lengths and counts, left for the service to judge (with every other problem at once). */
  unbounded?: boolean;
  /** Fields the path carries. */
  omit?: readonly string[];
  name?: (name: string) => string;
  description?: (variant: Variant) => string | undefined;
  examples?: (value: string) => readonly unknown[];
  /** A field's schema as this form has it, from the message's. */
  field?: (name: string, schema: Schema) => Schema;
}

const BOUNDS = ["minLength", "maxLength", "maxItems", "minimum", "maximum"];

/**
 * A message's variants, one schema each (`$id` its name): the fields of every variant, the key as
 * a `const`, then the variant's own, no others. An answer's variant requires what the message
 * always has and its own fields but those it may leave out; a request's, what a request must carry.
 */
export function variantSchemas(message: SchemaMessage, form: VariantForm = {}): Schema[] {
  const schema = MESSAGE_SCHEMAS[message] as unknown as {
    required: readonly string[];
    requestRequired: readonly string[];
    properties: Record<string, Schema>;
    variantKey?: string;
    variants?: readonly Variant[];
  };
  const { variantKey: key, variants } = schema;
  if (!key || !variants) throw new Error(`${message} has no variants`);
  return variants.map((variant) => {
    const keyAt = variant.fields.indexOf(key);
    const everywhere = variant.fields.slice(0, keyAt).filter((name) => !form.omit?.includes(name));
    const own = variant.fields.slice(keyAt + 1);
    const needed = own.filter((name) => !variant.optional.includes(name));
    const needs = new Set([
      key,
      ...everywhere.filter((name) => (form.request ? schema.requestRequired : schema.required).includes(name)),
      ...(form.request && form.ownOptional ? [] : needed),
    ]);
    // In the order the message declares them.
    const required = Object.keys(schema.properties).filter((name) => needs.has(name));
    const properties: Record<string, unknown> = {};
    for (const name of [...everywhere, key, ...own]) {
      if (name === key) {
        properties[name] = { type: "string", const: variant.value };
        continue;
      }
      let field = named(schema.properties[name]) as Schema;
      if (form.unbounded) field = Object.fromEntries(Object.entries(field).filter(([k]) => !BOUNDS.includes(k)));
      properties[name] = form.field ? form.field(name, field) : field;
    }
    const description = form.description ? form.description(variant) : variant.description;
    const examples = form.examples?.(variant.value) ?? [];
    return {
      $id: form.name ? form.name(variant.name) : variant.name,
      type: "object",
      ...(description ? { description } : {}),
      ...(examples.length > 0 ? { examples } : {}),
      required,
      additionalProperties: false,
      properties,
    };
  });
}

/** The message as one of its variants (by `$id`), picked by the key: a `oneOf` with a discriminator. */
export function variantUnion(message: SchemaMessage, variants: Schema[], own: Schema = {}): Schema {
  const { variantKey, description, examples } = MESSAGE_SCHEMAS[message] as unknown as Schema;
  return {
    $id: SCHEMA_NAMES[message],
    ...(description ? { description } : {}),
    ...(examples ? { examples } : {}),
    ...own,
    discriminator: { propertyName: variantKey },
    oneOf: variants.map((variant) => ({ $ref: `${variant.$id}#` })),
  };
}

/**
 * The messages' shared schemas the route table's derived shapes refer to, directly or through
 * other messages, that `registered` (the `$id`s of the gateway's own) lacks: a new route's
 * answer needs no line in the gateway to be documented and serialised.
 */
export function referencedSchemas(registered: ReadonlySet<string>): Schema[] {
  const byName = new Map(Object.entries(SCHEMA_NAMES).map(([message, name]) => [name, message]));
  const found = new Map<string, Schema>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (value === null || typeof value !== "object") return;
    for (const [key, item] of Object.entries(value)) {
      if (key !== "$ref" || typeof item !== "string") {
        visit(item);
        continue;
      }
      const name = item.slice(0, -1);
      const message = byName.get(name);
      if (!message || registered.has(name) || found.has(name)) continue;
      const schema = sharedSchema(message as SchemaMessage);
      found.set(name, schema);
      visit(schema);
    }
  };
  for (const entry of HTTP_ROUTES) visit(derivedSchemas({ ...entry, bodyField: entry.body }));
  return [...found.values()];
}

interface DocumentedMessage {
  properties: Record<string, Schema>;
  variantKey?: string;
  variants?: readonly Variant[];
}

/** The message a field holds (itself, or as a list's items), or undefined for a scalar. */
function heldMessage(field: Schema | undefined): string | undefined {
  const ref = (field?.type === "array" ? (field.items as Schema | undefined)?.$ref : field?.$ref) as string | undefined;
  return ref && ref.slice(0, -1) in MESSAGE_SCHEMAS ? ref.slice(0, -1) : undefined;
}

const isNullable = (field: Schema | undefined) => Array.isArray(field?.type) && field.type.includes("null");

/** Whether a message's document differs from its value: it has variants or nullable fields, itself or in what it holds. */
const documented = new Map<string, boolean>();
function needsDocument(message: string, seen = new Set<string>()): boolean {
  const known = documented.get(message);
  if (known !== undefined) return known;
  if (seen.has(message)) return false;
  seen.add(message);
  const schema = MESSAGE_SCHEMAS[message as SchemaMessage] as unknown as DocumentedMessage;
  const fields = Object.values(schema.properties);
  const needs =
    Boolean(schema.variants) ||
    fields.some(isNullable) ||
    fields.some((field) => {
      const held = heldMessage(field);
      return held !== undefined && needsDocument(held, seen);
    });
  documented.set(message, needs);
  return needs;
}

/**
 * A message's value as its HTTP document shows it: a message with variants with only its
 * variant's fields (those it needs when set, those it may leave out when not empty), `null` for a
 * nullable field that is not set, and so through every message it holds.
 */
export function documentOf(message: string, value: unknown): unknown {
  if (value === null || typeof value !== "object" || !needsDocument(message)) return value;
  if (Array.isArray(value)) return value.map((item) => documentOf(message, item));
  const schema = MESSAGE_SCHEMAS[message as SchemaMessage] as unknown as DocumentedMessage;
  const source = value as Record<string, unknown>;
  let names = Object.keys(schema.properties);
  let optional: readonly string[] = [];
  if (schema.variantKey && schema.variants) {
    const variant = schema.variants.find(({ value: kind }) => kind === source[schema.variantKey as string]);
    // An unknown kind shows what every kind has.
    const every = schema.variants[0]?.fields ?? [];
    names = variant ? [...variant.fields] : every.slice(0, every.indexOf(schema.variantKey) + 1);
    optional = variant?.optional ?? [];
  }
  const document: Record<string, unknown> = {};
  for (const name of names) {
    const field = schema.properties[name];
    const item = source[name];
    if (item === undefined) {
      if (isNullable(field)) document[name] = null;
      continue;
    }
    if (optional.includes(name) && !item) continue;
    const held = heldMessage(field);
    document[name] = held ? documentOf(held, item) : item;
  }
  return document;
}

/**
 * The success body as the contract's documents show it: the response message (or its
 * `response_body` field) with each variant's own fields and `null` for what is not set
 * (`documentOf`).
 */
export function documentSender(shape: RouteShape): ((answer: unknown) => unknown) | undefined {
  // A 204 sends no body, a 302 a redirect.
  if (shape.status === 204 || shape.status === 302) return undefined;
  const response = MESSAGE_SCHEMAS[shape.response as SchemaMessage] as
    | { properties: Record<string, Schema> }
    | undefined;
  if (!response) return undefined;
  if (!shape.responseBody) return (answer) => documentOf(shape.response, answer);
  const held = heldMessage(response.properties[shape.responseBody]);
  const body = shape.responseBody;
  return (answer) => {
    const value = (answer as Record<string, unknown>)[body];
    return held ? documentOf(held, value) : value;
  };
}
