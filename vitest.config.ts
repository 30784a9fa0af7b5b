import { configDefaults, defineConfig } from "vitest/config";

// CI sets TEST_REPORT_DIR: each run also writes a JSON report there, which `.ci/run` counts.
const reportDir = process.env.TEST_REPORT_DIR;

/** What the default run and the fault suite (vitest.faults.config.ts) share; `report` names the JSON file. */
export function testSettings(report: string) {
  return {
    // Integration and system tests start real servers; give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks" as const,
    maxWorkers: 2,
    reporters: reportDir ? ["default", "json"] : ["default"],
    outputFile: reportDir ? { json: `${reportDir}/${report}.json` } : undefined,
    // Every process a test starts inherits these: no metrics server unless the test asks for
    // one on a free port, so systems running side by side never contend for 9460–9463.
    env: {
      GATEWAY_METRICS_PORT: "0",
      AUTH_METRICS_PORT: "0",
      TREES_METRICS_PORT: "0",
      SESSIONS_METRICS_PORT: "0",
      HOOKS_METRICS_PORT: "0",
    },
  };
}

export default defineConfig({
  test: {
    ...testSettings("tests"),
    include: ["services/*/test/**/*.test.ts", "tests/**/*.test.ts"],
    // The deploy tests need Docker and run on their own: npm run test:deploy (vitest.deploy.config.ts).
    exclude: [...configDefaults.exclude, "tests/containers/**"],
    // tests/faults stays included so one fault file runs with plain `npx vitest run <file>`;
    // `npm test` excludes it here and runs it after, one file at a time (vitest.faults.config.ts).
  },
});
