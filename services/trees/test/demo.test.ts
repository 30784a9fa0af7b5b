import { readdir, readFile } from "node:fs/promises";
import { TreeInput } from "@tdt/proto/tdt/trees/v1/trees";
import { describe, expect, it } from "vitest";
import { validateTree } from "../src/validation.js";

const DEMO_DIR = new URL("../demo/", import.meta.url);

describe("the demo trees", async () => {
  const files = (await readdir(DEMO_DIR)).filter((name) => name.endsWith(".json"));

  it("are at least six", () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
  });

  it.each(files)("%s is a valid, published tree of 15+ nodes", async (file) => {
    const input = TreeInput.fromPartial(JSON.parse(await readFile(new URL(file, DEMO_DIR), "utf8")));
    expect(validateTree(input)).toEqual([]);
    expect(input.status).toBe("published");
    expect(input.nodes.length).toBeGreaterThanOrEqual(15);
  });
});
