/**
 * A new closed-list value or a changed limit is one edit in the protos: the gateway's schemas are
 * built from the generated contract, so a contract with one more node type, report format or
 * outcome and another email limit shows in them with no other change. (The contract module is
 * swapped for a changed copy: a pure unit, no service involved.)
 */

import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Contract, undoContract, withContract, withMoreOutcomes } from "@tdt/test-support/contract";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ROOT } from "../../../scripts/root.js";

/**
 * The JSON Schemas `npm run generate` would write after `edit` of trees.proto: the real buf build
 * and generator, on a copy of proto/. Returns the generated module's path.
 */
async function generatedFrom(edit: (proto: string) => string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "tdt-contract-"));
  cpSync(join(ROOT, "proto"), join(dir, "proto"), { recursive: true, filter: (path) => !path.includes("/gen") });
  const trees = join(dir, "proto/tdt/trees/v1/trees.proto");
  const original = readFileSync(trees, "utf8");
  const edited = edit(original);
  if (edited === original) throw new Error("the edit changed nothing in trees.proto");
  writeFileSync(trees, edited);
  const buf = join(ROOT, "node_modules/.bin/buf");
  execFileSync(buf, ["build", join(dir, "proto"), "-o", join(dir, "contract.binpb")], { cwd: dir });
  const out = join(dir, "schemas.ts");
  execFileSync("node", [join(ROOT, "scripts/generate-schemas.mjs"), join(dir, "contract.binpb"), out]);
  return out;
}

afterEach(undoContract);

describe("the gateway's schemas derive from the contract", () => {
  it("a new node type with a field of its own is one edit in trees.proto: the generator gives its variant, read and sent", async () => {
    const schemas = await generatedFrom((proto) =>
      proto
        .replace(
          "  NODE_TYPE_LOGIC = 6;",
          "  NODE_TYPE_LOGIC = 6;\n  // A list of checks, each ticked off.\n  NODE_TYPE_CHECKLIST = 7;",
        )
        .replace(
          /(message Node \{[\s\S]*?)\n\}/,
          '$1\n  // The checks\n  repeated string items = 12 [(tdt.contract.v1.json).variants = "checklist"];\n}',
        ),
    );
    await withContract(({ ENUMS }) => ({
      ENUMS: {
        ...ENUMS,
        "tdt.trees.v1.NodeType": {
          values: [...ENUMS["tdt.trees.v1.NodeType"].values, "checklist"],
          numbers: { ...ENUMS["tdt.trees.v1.NodeType"].numbers, checklist: 7 },
        },
      } as unknown as Contract["ENUMS"],
    }));
    // In place of withContract's own copy of the schemas: the ones generated from the edited protos.
    vi.doUnmock("@tdt/proto/tdt/schemas");
    vi.doMock("@tdt/proto/tdt/schemas", () => import(schemas));
    const generated = (await import("@tdt/proto/tdt/schemas")).MESSAGE_SCHEMAS["tdt.trees.v1.Node"] as unknown as {
      variants: Array<{ name: string }>;
    };
    expect(generated.variants.map((variant) => variant.name)).toContain("ChecklistNode");
    const { NODE_SCHEMAS, NODE_INPUT_SCHEMAS, NodeSchema, NodeInputSchema } = await import(
      "../src/api/schemas/trees.js"
    );
    const read = NODE_SCHEMAS.find((schema) => schema.$id === "ChecklistNode");
    expect(read).toMatchObject({
      description: "A list of checks, each ticked off.",
      required: ["id", "type", "title", "body", "items"],
      additionalProperties: false,
      properties: { type: { const: "checklist" }, items: { type: "array", description: "The checks" } },
    });
    expect(Object.keys(read?.properties ?? {})).toEqual(["id", "title", "body", "type", "items"]);
    const sent = NODE_INPUT_SCHEMAS.find((schema) => schema.$id === "ChecklistNodeInput");
    expect(sent).toMatchObject({ required: ["id", "type", "title"], properties: { items: { type: "array" } } });
    expect(NodeSchema.oneOf).toContainEqual({ $ref: "ChecklistNode#" });
    expect(NodeInputSchema.oneOf).toContainEqual({ $ref: "ChecklistNodeInput#" });
    // A document shows a checklist's items and nothing of another type's.
    const { nodeDocumentOf } = await import("../src/api/tree-documents.js");
    const node = { id: "c", type: "checklist", title: "Check", body: "", options: [], next: "x", items: ["a", "b"] };
    expect(nodeDocumentOf(node as never)).toEqual({
      id: "c",
      type: "checklist",
      title: "Check",
      body: "",
      items: ["a", "b"],
    });
  }, 60_000);

  it("a new report format appears with its media type", async () => {
    await withContract(({ ENUMS }) => {
      const formats = ENUMS["tdt.sessions.v1.ReportFormat"];
      return {
        ENUMS: {
          ...ENUMS,
          "tdt.sessions.v1.ReportFormat": {
            ...formats,
            values: [...formats.values, "html"],
            mediaTypes: { ...formats.mediaTypes, html: "text/html; charset=utf-8" },
          },
        } as unknown as Contract["ENUMS"],
      };
    });
    const { REPORT_FORMATS, REPORT_MEDIA_TYPES } = await import("../src/api/schemas/sessions.js");
    expect(REPORT_FORMATS).toContain("html");
    expect(REPORT_MEDIA_TYPES).toMatchObject({ html: "text/html; charset=utf-8" });
  });

  it("a changed limit is the schema's bound", async () => {
    await withContract(({ FIELD_RULES }) => ({
      FIELD_RULES: {
        ...FIELD_RULES,
        "tdt.auth.v1.RegisterRequest": {
          ...FIELD_RULES["tdt.auth.v1.RegisterRequest"],
          email: { string: { min_len: 3, max_len: 100 } },
        },
      } as unknown as Contract["FIELD_RULES"],
    }));
    const { bounds } = await import("../src/api/schemas/common.js");
    expect(bounds("tdt.auth.v1.RegisterRequest", "email")).toEqual({ minLength: 3, maxLength: 100 });
  });
});

describe("the outcomes are the contract's, wherever the HTTP API lists them", () => {
  // biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is read as plain JSON.
  type Json = any;

  /** Every `enum` list of the document, with where it is. */
  function enumsOf(value: Json, at = "#"): Array<{ at: string; values: unknown[] }> {
    if (Array.isArray(value)) return value.flatMap((item, i) => enumsOf(item, `${at}/${i}`));
    if (!value || typeof value !== "object") return [];
    return Object.entries(value).flatMap(([key, item]) =>
      key === "enum" && Array.isArray(item) ? [{ at, values: item }] : enumsOf(item, `${at}/${key}`),
    );
  }

  it("a new outcome is in every list of outcomes and counted in the analytics; a solution's only where it may be", async () => {
    await withMoreOutcomes();
    const { openApiDocument } = await import("../src/api/openapi-document.js");
    const document = (await openApiDocument()) as Json;

    const lists = enumsOf(document).filter(({ values }) => values.includes("escalated"));
    const every = lists.filter(({ values }) => values.includes("unresolved"));
    const solutions = lists.filter(({ values }) => !values.includes("unresolved"));
    // Sessions, steps, the list filter and completion; a solution node as read and as sent.
    expect(every.length).toBeGreaterThanOrEqual(4);
    expect(solutions.length).toBeGreaterThanOrEqual(2);
    for (const { at, values } of every) {
      expect(values, at).toEqual(expect.arrayContaining(["fake_workaround", "fake_deferred"]));
    }
    for (const { at, values } of solutions) {
      expect(values, at).toContain("fake_workaround");
      expect(values, at).not.toContain("fake_deferred");
    }
    // Counted between `completed` and `abandoned`, a solution's outcomes first.
    const { OUTCOMES, SOLUTION_OUTCOMES } = await import("@tdt/proto/contracts/outcomes");
    const counts = document.components.schemas.TreeAnalytics.properties.sessions;
    const counted: string[] = counts.required.slice(2, -1);
    expect([...counts.required.slice(0, 2), ...counts.required.slice(-1)]).toEqual([
      "started",
      "completed",
      "abandoned",
    ]);
    expect([...counted].sort()).toEqual([...OUTCOMES].sort());
    expect(counted).toEqual(expect.arrayContaining(["fake_workaround", "fake_deferred"]));
    expect(counted.slice(0, SOLUTION_OUTCOMES.length)).toEqual(SOLUTION_OUTCOMES);
    expect(Object.keys(counts.properties)).toEqual(counts.required);
    // The document's own example, checked against its schema elsewhere, counts them too.
    expect(Object.keys(document.components.schemas.TreeAnalytics.examples[0].sessions)).toEqual(counts.required);
  });
});
