import { fileURLToPath } from "node:url";
import { createServiceClient, DEFAULT_PORTS, implement, revocationAwareVerifier, runService } from "@tdt/kit";
import { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import { TreesServiceService } from "@tdt/proto/tdt/trees/v1/trees";
import { analyticsConsumer, readAnalytics } from "./analytics.js";
import { AuthoringStore } from "./authoring-store.js";
import { treesConfig } from "./config.js";
import { loadDemoTrees } from "./demo.js";
import { treesHandlers } from "./handlers.js";
import { prepareTreeEvents, treeAnnouncer } from "./tree-events.js";
import { TreeStore } from "./tree-store.js";
import { validateTree } from "./validation.js";

await runService({
  name: "trees",
  grpcServices: ["tdt.trees.v1.TreesService"],
  defaultPort: DEFAULT_PORTS.trees,
  // The gateway for users; sessions reads the trees it runs.
  callers: ["gateway", "sessions"],
  database: "tdt_trees",
  migrationsDir: fileURLToPath(new URL("../migrations", import.meta.url)),
  config: treesConfig,
  // Tree changes go out through the outbox: NATS being down only delays them.
  outbox: { prepare: prepareTreeEvents },
  async start({ config, sql, log, nats }) {
    const announcer = treeAnnouncer(nats, log);
    const store = new TreeStore(sql, announcer);
    const authoring = new AuthoringStore(sql, announcer, (ids) => store.missingTrees(ids), validateTree);
    if (config.demoData) await loadDemoTrees(sql, store, log);
    const auth = createServiceClient(AuthServiceService, config.authAddress, { timeoutMs: 3000, tls: config.grpcTls });
    const { verifier, close } = revocationAwareVerifier({ ...config, nats, auth, name: "trees", log });
    return {
      bindings: [
        implement(
          TreesServiceService,
          treesHandlers(store, authoring, verifier, (query) => readAnalytics(sql, query)),
          log,
        ),
      ],
      // The analytics projection follows the session events.
      consumers: [analyticsConsumer(sql)],
      stop: async () => {
        await close();
        auth.close();
      },
    };
  },
});
