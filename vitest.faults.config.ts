import { defineConfig } from "vitest/config";
import { testSettings } from "./vitest.config.js";

// The fault suite: real processes killed and ports taken, with timings measured. One file at a
// time so timing tests do not fight each other for the machine's cores.
export default defineConfig({
  test: {
    ...testSettings("faults"),
    include: ["tests/faults/**/*.test.ts"],
    maxWorkers: 1,
    testTimeout: 180_000,
  },
});
