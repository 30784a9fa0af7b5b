// Writes proto/gen/tdt/schemas.ts from the descriptor set `buf build proto -o <file>.binpb` made:
// the JSON Schema of every message of our contracts as its JSON travels over HTTP (field names
// as in the proto, enums as their lowercase JSON strings, timestamps as RFC 3339 strings), with
// each field's and message's leading comment as its description and its `(tdt.contract.v1.field)`
// bounds. Run by `npm run generate`; never edit the output by hand.
//
//   node scripts/generate-schemas.mjs <descriptors.binpb> <out.ts>
import { writeFileSync } from "node:fs";
import { getExtension, hasExtension, ScalarType } from "@bufbuild/protobuf";
import { jsonValues, ours, readDescriptors } from "./descriptors.mjs";

const { registry, output } = readDescriptors("generate-schemas.mjs");
const fieldRules = registry.getExtension("tdt.contract.v1.field");
const jsonField = registry.getExtension("tdt.contract.v1.json");
const jsonMessage = registry.getExtension("tdt.contract.v1.json_message");
const subsetOption = registry.getExtension("tdt.contract.v1.subset");
if (!fieldRules || !jsonField || !jsonMessage || !subsetOption)
  throw new Error("tdt/contract/v1/rules.proto is missing from the descriptor set");

/**
 * The path of a message, an enum or a value or field of one in its file's source info:
 * [4, i, 3, j, …, 2, k] (an enum at 5 in its file or 4 in its message, a value at 2).
 */
function pathOf(desc) {
  if (desc.kind === "field") return [...pathOf(desc.parent), 2, desc.parent.proto.field.indexOf(desc.proto)];
  if (desc.kind === "enum_value") return [...pathOf(desc.parent), 2, desc.parent.proto.value.indexOf(desc.proto)];
  if (desc.kind === "enum")
    return desc.parent
      ? [...pathOf(desc.parent), 4, desc.parent.proto.enumType.indexOf(desc.proto)]
      : [5, desc.file.proto.enumType.indexOf(desc.proto)];
  if (desc.parent) return [...pathOf(desc.parent), 3, desc.parent.proto.nestedType.indexOf(desc.proto)];
  return [4, desc.file.proto.messageType.indexOf(desc.proto)];
}

/** A descriptor's leading comment as one line of prose, or undefined. */
function commentOf(desc) {
  const path = pathOf(desc);
  const file = desc.kind === "field" || desc.kind === "enum_value" ? desc.parent.file : desc.file;
  const location = file.proto.sourceCodeInfo?.location.find(
    (l) => l.path.length === path.length && l.path.every((p, i) => p === path[i]),
  );
  const text = location?.leadingComments?.trim();
  return text
    ? text
        .split("\n")
        .map((line) => line.trim())
        .join(" ")
    : undefined;
}

/** An enum's JSON strings; with `subset`, only its values of that subset (`(tdt.contract.v1.subset)`). */
function enumJsonValues(desc, subset) {
  return jsonValues(desc)
    .filter((v) => v.number !== 0 && (!subset || (option(v.value, subsetOption) ?? []).includes(subset)))
    .map((v) => v.json);
}

const INTEGERS = new Set([
  ScalarType.INT32,
  ScalarType.UINT32,
  ScalarType.SINT32,
  ScalarType.FIXED32,
  ScalarType.SFIXED32,
  ScalarType.INT64,
  ScalarType.UINT64,
  ScalarType.SINT64,
  ScalarType.FIXED64,
  ScalarType.SFIXED64,
]);

function scalarSchema(scalar) {
  if (scalar === ScalarType.STRING) return { type: "string" };
  if (scalar === ScalarType.BOOL) return { type: "boolean" };
  if (scalar === ScalarType.BYTES) return { type: "string", contentEncoding: "base64" };
  if (INTEGERS.has(scalar)) return { type: "integer" };
  return { type: "number" };
}

/** A message field's schema: a well-known type inline, one of ours by reference. */
function messageSchema(message) {
  if (message.typeName === "google.protobuf.Timestamp") return { type: "string", format: "date-time" };
  if (message.typeName === "google.protobuf.Struct") return { type: "object", additionalProperties: true };
  // Any JSON value (a variable's default: of the type the variable declares).
  if (message.typeName === "google.protobuf.Value") return {};
  if (!ours(message)) throw new Error(`no JSON Schema for ${message.typeName}`);
  return { $ref: `${message.typeName}#` };
}

/** An option's value on a descriptor, or undefined. */
function option(desc, extension) {
  const options = desc.proto.options;
  return options && hasExtension(options, extension) ? getExtension(options, extension) : undefined;
}
const rulesOf = (field) => option(field, fieldRules);

/** The bounds of a value: lengths, ranges, the enum a string names. */
function bounded(schema, rules) {
  const out = { ...schema };
  if (rules?.string) {
    if (rules.string.minLen !== undefined) out.minLength = Number(rules.string.minLen);
    if (rules.string.maxLen !== undefined) out.maxLength = Number(rules.string.maxLen);
    if (rules.string.inEnum) out.enum = enumJsonValues(registry.getEnum(rules.string.inEnum), rules.string.inSubset);
  }
  if (rules?.int32) {
    if (rules.int32.gte !== undefined) out.minimum = rules.int32.gte;
    if (rules.int32.lte !== undefined) out.maximum = rules.int32.lte;
  }
  return out;
}

function valueSchema(field, rules) {
  switch (field.fieldKind) {
    case "scalar":
      return bounded(scalarSchema(field.scalar), rules);
    case "enum":
      return { type: "string", enum: enumJsonValues(field.enum) };
    case "message":
      return messageSchema(field.message);
    case "list": {
      const item =
        field.listKind === "scalar"
          ? bounded(scalarSchema(field.scalar), rules?.repeated?.items)
          : field.listKind === "enum"
            ? { type: "string", enum: enumJsonValues(field.enum) }
            : messageSchema(field.message);
      const list = { type: "array", items: item };
      if (rules?.repeated?.maxItems !== undefined) list.maxItems = Number(rules.repeated.maxItems);
      return list;
    }
    case "map":
      return {
        type: "object",
        additionalProperties:
          field.mapKind === "scalar"
            ? scalarSchema(field.scalar)
            : field.mapKind === "enum"
              ? { type: "string" }
              : messageSchema(field.message),
      };
  }
}

/**
 * Every message of ours: its fields' schemas and `required` as a response carries them (every
 * field but proto3 \`optional\` ones, message fields and oneof members is always there, and
 * those marked \`required\`), and \`requestRequired\`, the fields a request must carry.
 */
const schemas = {};
const names = {};
for (const desc of [...registry]
  .filter((d) => d.kind === "message" && ours(d))
  .sort((a, b) => (a.typeName < b.typeName ? -1 : 1))) {
  const properties = {};
  const required = [];
  const requestRequired = [];
  for (const field of desc.fields) {
    const json = option(field, jsonField);
    const schema = valueSchema(field, rulesOf(field));
    if (json?.format) schema.format = json.format;
    if (json?.writeOnly) schema.writeOnly = true;
    if (json?.defaultJson) schema.default = JSON.parse(json.defaultJson);
    if (json?.minimum !== undefined) schema.minimum = json.minimum;
    if (json?.examplesJson.length) schema.examples = json.examplesJson.map((text) => JSON.parse(text));
    if (json?.nullable) {
      schema.type = [schema.type, "null"];
      if (schema.enum) schema.enum = [...schema.enum, null];
    }
    const description = commentOf(field);
    properties[field.name] = description ? { ...schema, description } : schema;
    const alwaysThere = !field.proto.proto3Optional && !field.oneof && field.fieldKind !== "message";
    if (alwaysThere || json?.required) required.push(field.name);
    if (json?.required) requestRequired.push(field.name);
  }
  const message = option(desc, jsonMessage);
  for (const name of message?.order ?? [])
    if (!desc.fields.some((field) => field.name === name))
      throw new Error(`${desc.typeName}: order names no field ${name}`);
  const ordered = (names) => [
    ...(message?.order ?? []).filter((name) => names.includes(name)),
    ...names.filter((name) => !message?.order.includes(name)),
  ];
  const description = commentOf(desc);
  const examples = (message?.examplesJson ?? []).map((text) => JSON.parse(text));
  names[desc.typeName] = message?.name || desc.name;
  schemas[desc.typeName] = {
    type: "object",
    ...(description ? { description } : {}),
    ...(examples.length > 0 ? { examples } : {}),
    required: ordered(required),
    requestRequired,
    properties: Object.fromEntries(ordered(Object.keys(properties)).map((name) => [name, properties[name]])),
    ...(message?.variantKey ? { variantKey: message.variantKey, variants: variantsOf(desc, message) } : {}),
  };
}

/**
 * A message's variants (`(tdt.contract.v1.json_message).variant_key`), one per value of the key's
 * enum: its schema name, the enum value's comment as its description, its fields (those of every
 * variant, the key, then its own: those it needs, then those it may leave out) and which of them
 * it may leave out.
 */
function variantsOf(desc, { variantKey, variantName }) {
  const key = desc.fields.find((field) => field.name === variantKey);
  const inEnum = key && rulesOf(key)?.string?.inEnum;
  if (!inEnum) throw new Error(`${desc.typeName}: variant_key ${variantKey} is not a string field naming an enum`);
  if (!variantName.includes("{}")) throw new Error(`${desc.typeName}: variant_name must hold {}`);
  const values = jsonValues(registry.getEnum(inEnum)).filter((v) => v.number !== 0);
  const json = (field) => option(field, jsonField);
  const everywhere = desc.fields.filter((f) => f !== key && (json(f)?.variants ?? []).length === 0).map((f) => f.name);
  for (const field of desc.fields)
    for (const named of [...(json(field)?.variants ?? []), ...(json(field)?.optionalIn ?? [])])
      if (!values.some((v) => v.json === named))
        throw new Error(`${desc.typeName}.${field.name}: no ${variantKey} "${named}" in ${inEnum}`);
  return values.map(({ json: value, value: enumValue }) => {
    const own = desc.fields.filter((f) => json(f)?.variants.includes(value));
    const optional = own.filter((f) => json(f)?.optionalIn.includes(value)).map((f) => f.name);
    const needed = own.map((f) => f.name).filter((name) => !optional.includes(name));
    const pascal = value.replace(/(^|_)(\w)/g, (_, __, letter) => letter.toUpperCase());
    const described = commentOf(enumValue);
    return {
      value,
      name: variantName.replace("{}", pascal),
      ...(described ? { description: described } : {}),
      fields: [...everywhere, variantKey, ...needed, ...optional],
      optional,
    };
  });
}

writeFileSync(
  output,
  `// Code generated by scripts/generate-schemas.mjs from proto/ (npm run generate). DO NOT EDIT.
// The JSON Schema of every message of the contracts, as its JSON travels over HTTP.

/** Every message by full name; a message field refers to another as \`{ $ref: "<full name>#" }\`. */
export const MESSAGE_SCHEMAS = ${JSON.stringify(schemas, null, 2)} as const;

/** Each message's name among the OpenAPI document's schemas (its own, or \`(tdt.contract.v1.json_message).name\`). */
export const SCHEMA_NAMES: Record<string, string> = ${JSON.stringify(names, null, 2)};

export type SchemaMessage = keyof typeof MESSAGE_SCHEMAS;
`,
);
