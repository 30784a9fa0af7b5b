import { sharedSchema, variantSchemas, variantUnion } from "./contract-schemas.js";

type Schema = Record<string, unknown>;

/** JSON Schema's own dialect for the portable format: 2020-12, not OpenAPI's. */
const DIALECT = "https://json-schema.org/draft/2020-12/schema";

/** A shared schema's references (`Option#`) made ones into `$defs`, without OpenAPI's own keywords. */
function asDef(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asDef);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== "$id" && key !== "discriminator")
      .map(([key, item]) => [
        key,
        key === "$ref" && typeof item === "string" ? `#/$defs/${item.slice(0, -1)}` : asDef(item),
      ]),
  );
}

/**
 * The portable tree format (`GET /api/v1/schemas/tree.json`) as JSON Schema 2020-12, from the
 * contract: trees.proto's PortableTree with the limits of a tree as an author sends it, each node
 * one schema per type as a valid tree has them (its variants), every object closed.
 */
export function portableTreeSchema(): Schema {
  const nodes = variantSchemas("tdt.trees.v1.Node");
  const defs: Record<string, Schema> = {
    Node: variantUnion("tdt.trees.v1.Node", nodes),
    Option: { ...sharedSchema("tdt.trees.v1.Option"), additionalProperties: false },
    Variable: { ...sharedSchema("tdt.trees.v1.Variable"), additionalProperties: false },
    FormField: { ...sharedSchema("tdt.trees.v1.FormField"), additionalProperties: false },
    LogicRule: { ...sharedSchema("tdt.trees.v1.LogicRule"), additionalProperties: false },
    ...Object.fromEntries(nodes.map((node) => [node.$id as string, node])),
  };
  const tree = sharedSchema("tdt.trees.v1.PortableTree") as Schema & { properties: Record<string, Schema> };
  return asDef({
    $schema: DIALECT,
    title: "A TDT decision tree",
    ...tree,
    additionalProperties: false,
    properties: {
      ...tree.properties,
      format: { ...tree.properties.format, const: "tdt-tree" },
      format_version: { ...tree.properties.format_version, const: 1 },
    },
    $defs: defs,
  }) as Schema;
}
