/**
 * The typed client as CI proves it (issue 11): the OpenAPI document the running gateway serves
 * generates exactly the committed clients/api/src/schema.ts (through the function
 * `npm run generate:client` uses), the program tests/client/every-route.ts type-checks against
 * it, and run against the system it calls every documented operation with no mismatch.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { runToEnd } from "@tdt/test-support/run-to-end";
import { ADMIN, type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientSchemaSource } from "../../scripts/client-schema.js";
import { operationsOf } from "../client/operation-coverage.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = `${ROOT}node_modules/.bin`;

/** Runs a command from the repository's root to its end: exit code and everything it printed. */
const run = (command: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  runToEnd(command, args, { cwd: ROOT, env });

describe("the typed client", () => {
  let system: SystemWithAdmin;

  beforeAll(async () => {
    // Open registration: the program signs its users in without a mailbox (every-route.ts, register).
    system = await startSystemWithAdmin({ REGISTRATION: "open" });
  });

  afterAll(async () => {
    await system?.stop();
  });

  it("is generated from the document the gateway serves, and is the one committed", async () => {
    const response = await fetch(`${system.system.url}/api/openapi.json`);
    expect(response.status).toBe(200);
    const served: unknown = await response.json();
    const committed = await readFile(`${ROOT}clients/api/src/schema.ts`, "utf8");
    expect(await clientSchemaSource(served)).toBe(committed);
  });

  it("type-checks the program that uses every route", async () => {
    const { code, output } = await run(`${BIN}/tsc`, ["-p", "tests/client"]);
    expect(output).toBe("");
    expect(code).toBe(0);
  }, 120_000);

  it("runs the program against the system: every operation called, every check passed", async () => {
    const documented = operationsOf(await (await fetch(`${system.system.url}/api/openapi.json`)).json());
    expect(documented.length).toBeGreaterThan(20);
    const { code, output } = await run(`${BIN}/tsx`, ["tests/client/every-route.ts", system.system.url], {
      ...process.env,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
    });
    expect(output).toMatch(new RegExp(`^every route: ${documented.length} operations called, \\d+ checks passed\n$`));
    expect(code).toBe(0);
  }, 120_000);

  it("exits 1 naming the first mismatch: here the admin's login, given a wrong password", async () => {
    const { code, output } = await run(`${BIN}/tsx`, ["tests/client/every-route.ts", system.system.url], {
      ...process.env,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: "not-the-admin-password",
    });
    expect(output).toBe(
      'every route: MISMATCH: login (form) as the admin: expected 200, got 401 {"detail":"invalid_credentials"}\n',
    );
    expect(code).toBe(1);
  }, 120_000);
});
