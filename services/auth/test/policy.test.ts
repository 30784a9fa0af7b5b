import type { AppError } from "@tdt/kit";
import { describe, expect, it } from "vitest";
import { MAX_POLICY_SECONDS, resolvePolicy } from "../src/policy.js";

const problemsOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return (error as AppError).extra.problems;
  }
  throw new Error("expected a validation error");
};

describe("session policy", () => {
  it.each([
    ["strict", 3 * 86_400, 14 * 86_400, 0],
    ["standard", 7 * 86_400, 30 * 86_400, 10],
    ["aal2", 30 * 60, 12 * 3600, 0],
  ])("resolves the %s preset", (preset, idle, absolute, grace) => {
    expect(resolvePolicy({ preset }, 300)).toEqual({
      preset,
      idle_max_seconds: idle,
      abs_max_seconds: absolute,
      reuse_grace_seconds: grace,
    });
  });

  it("ignores numbers sent with a named preset", () => {
    expect(resolvePolicy({ preset: "strict", idle_max_seconds: 5 }, 300).idle_max_seconds).toBe(3 * 86_400);
  });

  it("accepts a custom policy within the bounds", () => {
    expect(
      resolvePolicy({ preset: "custom", idle_max_seconds: 300, abs_max_seconds: 600, reuse_grace_seconds: 5 }, 300),
    ).toEqual({ preset: "custom", idle_max_seconds: 300, abs_max_seconds: 600, reuse_grace_seconds: 5 });
  });

  it("reports every missing custom field", () => {
    expect(problemsOf(() => resolvePolicy({ preset: "custom" }, 300))?.map((p) => p.loc)).toEqual([
      ["body", "idle_max_seconds"],
      ["body", "abs_max_seconds"],
      ["body", "reuse_grace_seconds"],
    ]);
  });

  it("refuses values under the configured minimum or over 365 days", () => {
    const problems = problemsOf(() =>
      resolvePolicy(
        { preset: "custom", idle_max_seconds: 299, abs_max_seconds: MAX_POLICY_SECONDS + 1, reuse_grace_seconds: 0 },
        300,
      ),
    );
    expect(problems).toEqual([
      expect.objectContaining({ loc: ["body", "idle_max_seconds"], type: "out_of_range" }),
      expect.objectContaining({ loc: ["body", "abs_max_seconds"], type: "out_of_range" }),
    ]);
  });

  it("refuses an idle limit above the absolute one", () => {
    expect(
      problemsOf(() =>
        resolvePolicy({ preset: "custom", idle_max_seconds: 700, abs_max_seconds: 600, reuse_grace_seconds: 0 }, 300),
      ),
    ).toEqual([expect.objectContaining({ type: "idle_exceeds_absolute" })]);
  });

  it("lets tests lower the minimum to seconds", () => {
    expect(
      resolvePolicy({ preset: "custom", idle_max_seconds: 2, abs_max_seconds: 4, reuse_grace_seconds: 0 }, 1).preset,
    ).toBe("custom");
  });

  it("refuses an unknown preset", () => {
    expect(problemsOf(() => resolvePolicy({ preset: "lax" }, 300))).toEqual([
      expect.objectContaining({ loc: ["body", "preset"], type: "enum" }),
    ]);
  });
});
