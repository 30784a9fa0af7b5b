/**
 * The golden corpus (issue 26: nothing changes on the wire): every exchange of the program that
 * calls every route (tests/client/every-route.ts), recorded through a proxy in front of a fresh
 * system, normalised (tests/golden/normalize.ts) and compared with the committed
 * tests/golden/corpus.jsonl: statuses, headers and bodies, in order. A change that alters the
 * wire fails here, naming the exchange; one that is meant records a new corpus
 * (GOLDEN_UPDATE=1 npx vitest run tests/system/golden.test.ts) and says why in its commit.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Recorder, startRecorder } from "@tdt/test-support/recorder";
import { type Finished, runToEnd } from "@tdt/test-support/run-to-end";
import { ADMIN, type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { normalizer } from "../golden/normalize.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CORPUS = `${ROOT}tests/golden/corpus.jsonl`;

let system: SystemWithAdmin;
let recorder: Recorder;

beforeAll(async () => {
  // As the typed-client test runs it: open registration, the program's users sign up without mail.
  system = await startSystemWithAdmin({ REGISTRATION: "open" });
  recorder = await startRecorder(system.system.url);
});

afterAll(async () => {
  await recorder?.stop();
  await system?.stop();
});

function runEveryRoute(baseUrl: string): Promise<Finished> {
  return runToEnd(`${ROOT}node_modules/.bin/tsx`, ["tests/client/every-route.ts", baseUrl], {
    cwd: ROOT,
    env: { ...process.env, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, EVERY_ROUTE_UNIQUE: "golden" },
  });
}

describe("the golden corpus", () => {
  it("replays clean: every route's exchanges as recorded", async () => {
    const { code, output } = await runEveryRoute(recorder.url);
    expect(output).toMatch(/^every route: \d+ operations called/);
    expect(code).toBe(0);
    const normalize = normalizer([recorder.url, system.system.url]);
    const lines = recorder.exchanges.map((exchange) => JSON.stringify(normalize(exchange)));
    if (process.env.GOLDEN_UPDATE === "1") {
      writeFileSync(CORPUS, `${lines.join("\n")}\n`);
      return;
    }
    const golden = readFileSync(CORPUS, "utf8").trimEnd().split("\n");
    const differences = golden
      .map((line, index) => ({ index, golden: line, now: lines[index] }))
      .filter(({ golden: was, now }) => was !== now)
      .slice(0, 5);
    expect(differences, JSON.stringify(differences, null, 1)).toEqual([]);
    expect(lines.length).toBe(golden.length);
  }, 180_000);
});
