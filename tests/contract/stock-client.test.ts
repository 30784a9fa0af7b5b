/**
 * The contract as a frontend team's stock tools read it (issue 24): in an empty folder outside
 * the repository, openapi-typescript on its default options generates the types of
 * clients/api/openapi.json, and stock-client/program.ts (every route with a body, a PDF read as
 * a Blob) compiles against them with openapi-fetch under `strict`.
 */
import { copyFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emptyProject, installedVersion, type Project, ROOT } from "./outside-workspace.js";

const DOCUMENT = join(ROOT, "clients/api/openapi.json");
const PROGRAM = join(ROOT, "tests/contract/stock-client/program.ts");

interface Operation {
  requestBody?: unknown;
}

/** `METHOD /path` of every operation that takes a body. */
async function operationsWithBodies(): Promise<string[]> {
  const document = JSON.parse(await readFile(DOCUMENT, "utf8")) as {
    paths: Record<string, Record<string, Operation>>;
  };
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([, operation]) => operation.requestBody !== undefined)
      .map(([method]) => `${method.toUpperCase()} ${path}`),
  );
}

describe("the program a frontend writes against stock generated types", () => {
  it("sends a body to every route that takes one", async () => {
    const program = await readFile(PROGRAM, "utf8");
    const routes = await operationsWithBodies();
    expect(routes.length).toBeGreaterThanOrEqual(19);
    const called = (route: string) => {
      const [method, path] = route.split(" ");
      return program.includes(`.${method}("${path}"`);
    };
    expect(routes.filter((route) => !called(route))).toEqual([]);
  });

  it("casts nothing, and says why each line it expects to fail must fail", async () => {
    const source = await readFile(PROGRAM, "utf8");
    const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    // `x as T`, `<T>x`, `x!`, `any`: each would let a wrong type through.
    expect(code.match(/\bas (?!const\b)\w+|<\w+>\s*\w|[\w)\]]!(?!=)|\bany\b/g) ?? []).toEqual([]);
    expect(source.match(/@ts-ignore|@ts-nocheck/g) ?? []).toEqual([]);
    const expectations = source.match(/\/\/ @ts-expect-error.*/g) ?? [];
    expect(expectations.length).toBeGreaterThanOrEqual(5);
    for (const line of expectations) expect(line, line).toMatch(/@ts-expect-error \w+( \w+){3,}/);
  });
});

describe("openapi-typescript on its defaults, openapi-fetch and tsc --strict, outside the repository", () => {
  let project: Project;

  beforeAll(async () => {
    project = await emptyProject("tdt-stock-client");
    await project.install(
      `openapi-typescript@${await installedVersion("openapi-typescript")}`,
      `openapi-fetch@${await installedVersion("openapi-fetch")}`,
      `typescript@${await installedVersion("typescript")}`,
    );
    await copyFile(DOCUMENT, join(project.folder, "openapi.json"));
    await copyFile(PROGRAM, join(project.folder, "program.ts"));
  }, 300_000);

  afterAll(async () => {
    await project?.remove();
  });

  it("generates the client's types with no option", async () => {
    const generated = await project.bin("openapi-typescript", ["openapi.json", "--output", "schema.ts"]);
    expect(generated.code, generated.output).toBe(0);
    const schema = await readFile(join(project.folder, "schema.ts"), "utf8");
    expect(schema).toContain("export interface paths");
  }, 120_000);

  it("compiles the program: typed bodies for every route, what may be left out left out, a PDF as a Blob", async () => {
    const { code, output } = await project.bin("tsc", ["-p", "."]);
    expect(output).toBe("");
    expect(code).toBe(0);
  }, 300_000);
});
