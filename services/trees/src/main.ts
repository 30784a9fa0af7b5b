import { fileURLToPath } from "node:url";
import { implement, runService, verifierFromAuthService } from "@tdt/kit";
import { TreesServiceService } from "@tdt/proto/tdt/trees/v1/trees";
import { treesConfig } from "./config.js";
import { loadDemoTrees } from "./demo.js";
import { treesHandlers } from "./handlers.js";
import { TreeStore } from "./tree-store.js";

await runService({
  name: "trees",
  grpcServices: ["tdt.trees.v1.TreesService"],
  defaultPort: 50052,
  database: "tdt_trees",
  migrationsDir: fileURLToPath(new URL("../migrations", import.meta.url)),
  config: treesConfig,
  async start({ config, sql, log }) {
    const store = new TreeStore(sql);
    if (config.demoData) await loadDemoTrees(sql, store, log);
    const verifier = verifierFromAuthService({ authAddress: `${config.authHost}:${config.authPort}`, log });
    return { bindings: [implement(TreesServiceService, treesHandlers(store, verifier), log)] };
  },
});
