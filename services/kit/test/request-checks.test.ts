import { describe, expect, it } from "vitest";
import { AppError, checks } from "../src/index.js";

/** The problems `check` throws, or [] when it passes. */
function problemsOf(check: () => void) {
  try {
    check();
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return (error as AppError).extra.problems ?? [];
  }
}

describe("RequestChecks.contract: the contract's bounds, for callers that skip the gateway", () => {
  it("passes a request within every bound, and leaves absent and empty fields to the domain", () => {
    expect(problemsOf(() => checks().contract("tdt.sessions.v1.StepSessionRequest", { op: "answer" }).done())).toEqual(
      [],
    );
    expect(
      problemsOf(() =>
        checks()
          .contract("tdt.trees.v1.ListTreesRequest", { category: "", status: "", skip: 0, limit: 0 }, ["query"])
          .done(),
      ),
    ).toEqual([]);
  });

  it("reports every broken bound at its field's path, with the service's problem types", () => {
    const problems = problemsOf(() =>
      checks()
        .contract("tdt.trees.v1.ListTreesRequest", { category: "c".repeat(101), status: "archived", limit: 101 }, [
          "query",
        ])
        .done(),
    );
    expect(problems).toEqual([
      { loc: ["query", "category"], msg: "At most 100 characters", type: "string_too_long" },
      { loc: ["query", "status"], msg: "Must be one of draft, published", type: "enum" },
      { loc: ["query", "limit"], msg: "At most 100", type: "less_than_equal" },
    ]);
  });

  it("counts code points, as the gateway's schemas do", () => {
    const emoji = "🖨".repeat(64);
    expect(
      problemsOf(() => checks().contract("tdt.sessions.v1.StepSessionRequest", { node_id: emoji }).done()),
    ).toEqual([]);
  });

  it("checks integer ranges and item counts, and items one by one", () => {
    expect(
      problemsOf(() =>
        checks().contract("tdt.auth.v1.SetSessionPolicyRequest", { preset: "custom", reuse_grace_seconds: 301 }).done(),
      ),
    ).toEqual([{ loc: ["body", "reuse_grace_seconds"], msg: "At most 300", type: "less_than_equal" }]);
    expect(
      problemsOf(() =>
        checks()
          .contract("tdt.trees.v1.TreeInput", { tags: Array(21).fill("t") })
          .done(),
      ),
    ).toMatchObject([{ loc: ["body", "tags"], type: "too_many_items" }]);
    expect(
      problemsOf(() =>
        checks()
          .contract("tdt.trees.v1.TreeInput", { tags: ["ok", "t".repeat(51)] })
          .done(),
      ),
    ).toMatchObject([{ loc: ["body", "tags", 1], type: "string_too_long" }]);
  });

  it("puts a field the gateway takes from a header at that header", () => {
    expect(
      problemsOf(() =>
        checks()
          .contract("tdt.auth.v1.ClientInfo", { user_agent: "u".repeat(513), ip: "" }, [], {
            user_agent: ["header", "user-agent"],
          })
          .done(),
      ),
    ).toMatchObject([{ loc: ["header", "user-agent"], type: "string_too_long" }]);
  });
});
