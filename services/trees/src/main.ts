import { fileURLToPath } from "node:url";
import { runService } from "@tdt/kit";

await runService({
  name: "trees",
  grpcServices: ["tdt.trees.v1.TreesService"],
  defaultPort: 50052,
  database: "tdt_trees",
  migrationsDir: fileURLToPath(new URL("../migrations", import.meta.url)),
  config: {},
  start: async () => ({ bindings: [] }),
});
