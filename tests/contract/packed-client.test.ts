/**
 * The client package as a frontend installs it (issue 24): `npm pack` of clients/api builds it and
 * packs the built JavaScript and declarations; the tarball installs into an empty folder outside
 * the repository, where the package README's examples and packed-client/downloads.ts compile
 * under `strict`, and the built module loads in Node.
 */
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emptyProject, installedVersion, type Project, ROOT, run } from "./outside-workspace.js";

const PACKAGE = join(ROOT, "clients/api");

/** The README's TypeScript examples, each a module of its own. */
async function readmeExamples(): Promise<string[]> {
  const readme = await readFile(join(PACKAGE, "README.md"), "utf8");
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? "");
}

describe("the client package, packed, installed and compiled outside the repository", () => {
  let project: Project;
  let tarball: string;
  let files: string[];

  beforeAll(async () => {
    project = await emptyProject("tdt-packed-client");
    // `prepack` builds the package first, so a pack never misses its JavaScript.
    const packed = await run("npm", ["pack", "--json", "--pack-destination", project.folder], PACKAGE);
    if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.output}`);
    const [report] = JSON.parse(packed.output.slice(packed.output.indexOf("["))) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    tarball = join(project.folder, report?.filename ?? "");
    files = (report?.files ?? []).map((file) => file.path).sort();
    await project.install(tarball, `typescript@${await installedVersion("typescript")}`);
  }, 300_000);

  afterAll(async () => {
    await project?.remove();
  });

  it("packs the built JavaScript, its declarations, the sources they map to and the document", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "README.md",
        "dist/index.d.ts",
        "dist/index.js",
        "dist/schema.d.ts",
        "dist/schema.js",
        "openapi.json",
        "package.json",
        "src/index.ts",
        "src/schema.ts",
      ]),
    );
    expect(files.filter((file) => !/^(dist|src)\/|^(README\.md|openapi\.json|package\.json)$/.test(file))).toEqual([]);
  });

  it("declares its entry points for both module resolutions", async () => {
    const manifest = JSON.parse(await readFile(join(PACKAGE, "package.json"), "utf8"));
    expect(manifest.exports["."]).toEqual({ types: "./dist/index.d.ts", default: "./dist/index.js" });
    expect(manifest.exports["./schema"]).toEqual({ types: "./dist/schema.d.ts", default: "./dist/schema.js" });
    expect(manifest).toMatchObject({ main: "./dist/index.js", types: "./dist/index.d.ts", type: "module" });
    expect(manifest.files).toEqual(["dist", "src", "openapi.json"]);
    expect(Object.keys(manifest.dependencies)).toEqual(["openapi-fetch"]);
  });

  it("loads in Node from the installed tarball, with openapi-fetch installed beside it", async () => {
    const script =
      'import { createApiClient, downloadReport } from "@tdt/api-client";' +
      'import { createRequire } from "node:module";' +
      'const client = createApiClient({ baseUrl: "http://127.0.0.1:1" });' +
      'console.log(typeof client.POST, typeof downloadReport, createRequire(import.meta.url).resolve("@tdt/api-client/openapi.json").endsWith("openapi.json"));';
    const loaded = await run(process.execPath, ["--input-type=module", "-e", script], project.folder);
    expect(loaded.output).toBe("function function true\n");
    expect(loaded.code).toBe(0);
  });

  it("compiles the README's examples and every download typed as what it is, under strict", async () => {
    const examples = await readmeExamples();
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const [index, example] of examples.entries()) {
      await writeFile(join(project.folder, `readme-${index + 1}.ts`), example);
    }
    await copyFile(join(ROOT, "tests/contract/packed-client/downloads.ts"), join(project.folder, "downloads.ts"));
    const { code, output } = await project.bin("tsc", ["-p", "."]);
    expect(output).toBe("");
    expect(code).toBe(0);
  }, 300_000);
});
