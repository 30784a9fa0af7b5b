import { fileURLToPath } from "node:url";
import { createServiceClient, DEFAULT_PORTS, implement, revocationAwareVerifier, runService } from "@tdt/kit";
import { decodeTreeEvent } from "@tdt/proto/contracts/tree-events";
import { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import { MediaServiceService } from "@tdt/proto/tdt/trees/v1/media";
import { TreesServiceService } from "@tdt/proto/tdt/trees/v1/trees";
import { analyticsConsumer } from "./analytics.js";
import { treesConfig } from "./config.js";
import { loadDemoTrees } from "./demo.js";
import { treesHandlers } from "./handlers.js";
import { mediaHandlers } from "./media/handlers.js";
import { PostgresMediaStore } from "./media/store.js";
import { withinOrganization } from "./organization-scope.js";
import { prepareTreeEvents, treeAnnouncer } from "./tree-events.js";

await runService({
  name: "trees",
  grpcServices: ["tdt.trees.v1.TreesService", "tdt.trees.v1.MediaService"],
  defaultPort: DEFAULT_PORTS.trees,
  // The gateway for users; sessions reads the trees it runs.
  callers: ["gateway", "sessions"],
  database: "tdt_trees",
  migrationsDir: fileURLToPath(new URL("../migrations", import.meta.url)),
  config: treesConfig,
  // Tree changes go out through the outbox: NATS being down only delays them.
  outbox: {
    prepare: prepareTreeEvents,
    organizationOf: (subject, payload) => decodeTreeEvent(subject, payload)?.event.organization_id,
  },
  // Trees, their drafts, history, search words, analytics and images are each organization's own.
  organizationWall: true,
  async start({ config, sql, log, nats }) {
    const within = withinOrganization(sql, treeAnnouncer(nats, log));
    const media = new PostgresMediaStore(sql);
    if (config.demoData) await loadDemoTrees(within, log, { media, maxBytes: config.mediaMaxBytes });
    const auth = createServiceClient(AuthServiceService, config.authAddress, { timeoutMs: 3000, tls: config.grpcTls });
    const { verifier, close } = revocationAwareVerifier({ ...config, nats, auth, name: "trees", log });
    return {
      bindings: [
        implement(TreesServiceService, treesHandlers(within, verifier), log),
        implement(MediaServiceService, mediaHandlers(media, { maxBytes: config.mediaMaxBytes }, verifier), log),
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
