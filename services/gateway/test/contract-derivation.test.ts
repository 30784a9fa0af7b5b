/**
 * A new closed-list value or a changed limit is one edit in the protos: the gateway's schemas are
 * built from the generated contract, so a contract with one more node type and another email
 * limit shows in them with no other change. (The contract module is swapped for a changed copy:
 * a pure unit, no service involved.)
 */
import { afterEach, describe, expect, it, vi } from "vitest";

type Contract = typeof import("@tdt/proto/tdt/contract");

afterEach(() => {
  vi.doUnmock("@tdt/proto/tdt/contract");
  vi.resetModules();
});

async function withContract(change: (contract: Contract) => Partial<Contract>) {
  vi.resetModules();
  vi.doMock("@tdt/proto/tdt/contract", async (importOriginal) => {
    const actual = await importOriginal<Contract>();
    return { ...actual, ...change(actual) };
  });
}

describe("the gateway's schemas derive from the contract", () => {
  it("a new node type without its own Node variant stops the gateway's schemas from loading, naming it", async () => {
    await withContract(({ ENUMS }) => ({
      ENUMS: {
        ...ENUMS,
        "tdt.trees.v1.NodeType": {
          values: [...ENUMS["tdt.trees.v1.NodeType"].values, "checklist"],
          numbers: { ...ENUMS["tdt.trees.v1.NodeType"].numbers, checklist: 4 },
        },
      } as unknown as Contract["ENUMS"],
    }));
    await expect(import("../src/api/schemas/trees.js")).rejects.toThrow(/node type checklist .* has no schema/);
  });

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
