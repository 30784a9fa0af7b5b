import { readdir, readFile } from "node:fs/promises";
import { TreeInput } from "@tdt/proto/tdt/trees/v1/trees";
import { describe, expect, it } from "vitest";
import { demoLinkTargets, resolveDemoLinks } from "../src/demo.js";
import { validateTree } from "../src/validation.js";

const DEMO_DIR = new URL("../demo/", import.meta.url);

describe("the demo trees", async () => {
  const files = (await readdir(DEMO_DIR)).filter((name) => name.endsWith(".json"));

  it("are at least six", () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
  });

  it.each(files)("%s is a valid, published tree of 15+ nodes", async (file) => {
    const read = TreeInput.fromPartial(JSON.parse(await readFile(new URL(file, DEMO_DIR), "utf8")));
    // A link names another demo file, made first when loading.
    for (const target of demoLinkTargets(read)) expect(files).toContain(`${target}.json`);
    const input = resolveDemoLinks(read, () => "7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6");
    expect(validateTree(input)).toEqual([]);
    expect(input.status).toBe("published");
    expect(input.nodes.length).toBeGreaterThanOrEqual(15);
  });

  it("share a sub-tree: two of them link to the home internet check", async () => {
    const linking = [];
    for (const file of files) {
      const input = TreeInput.fromPartial(JSON.parse(await readFile(new URL(file, DEMO_DIR), "utf8")));
      if (demoLinkTargets(input).includes("home-internet-check")) linking.push(file);
    }
    expect(linking.sort()).toEqual(["vpn-cannot-connect.json", "wifi-no-connection.json"]);
  });
});
