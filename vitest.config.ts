import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["services/*/test/**/*.test.ts", "tests/**/*.test.ts"],
    // Integration and system tests start real servers; give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default"],
  },
});
