import { defineConfig } from "vitest/config";
import { testSettings } from "./vitest.config.js";

// The deploy tests (npm run test:deploy): the compose stack built and run in Docker, one file at
// a time, as each starts a whole stack of its own.
export default defineConfig({
  test: {
    ...testSettings("deploy"),
    include: ["tests/containers/**/*.test.ts"],
    globalSetup: ["tests/containers/global-setup.ts"],
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
