import { fileURLToPath } from "node:url";
import {
  createServiceClient,
  DEFAULT_PORTS,
  implement,
  logCacheStatistics,
  revocationAwareVerifier,
  runService,
} from "@tdt/kit";
import { decodeSessionEvent } from "@tdt/proto/contracts/session-events";
import { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import { SessionsServiceService } from "@tdt/proto/tdt/sessions/v1/sessions";
import { MediaServiceService } from "@tdt/proto/tdt/trees/v1/media";
import { TreesServiceService } from "@tdt/proto/tdt/trees/v1/trees";
import { sessionsConfig } from "./config.js";
import { prepareSessionEvents, sessionsConsumers } from "./events.js";
import { sessionsHandlers } from "./handlers.js";
import { PdfPool } from "./reports/pdf-pool.js";
import { SessionStore } from "./session-store.js";

await runService({
  name: "sessions",
  grpcServices: ["tdt.sessions.v1.SessionsService"],
  defaultPort: DEFAULT_PORTS.sessions,
  callers: ["gateway"],
  database: "tdt_sessions",
  migrationsDir: fileURLToPath(new URL("../migrations", import.meta.url)),
  config: sessionsConfig,
  // Session events go out through the outbox: NATS being down only delays them.
  outbox: {
    prepare: prepareSessionEvents,
    organizationOf: (subject, payload) => decodeSessionEvent(subject, payload)?.event.organization_id,
  },
  // Sessions and the tree copies they run on are each organization's own.
  organizationWall: true,
  async start({ config, sql, log, nats, outboxWritten }) {
    const store = new SessionStore(sql, outboxWritten);
    const trees = createServiceClient(TreesServiceService, config.treesAddress, {
      timeoutMs: config.grpcDeadlineMs,
      tls: config.grpcTls,
    });
    // The images a PDF report prints are the trees process's too (its MediaService).
    const media = createServiceClient(MediaServiceService, config.treesAddress, {
      timeoutMs: config.grpcDeadlineMs,
      tls: config.grpcTls,
    });
    const auth = createServiceClient(AuthServiceService, config.authAddress, { timeoutMs: 3000, tls: config.grpcTls });
    const revocationAware = revocationAwareVerifier({ ...config, nats, auth, name: "sessions", log });
    const { verifier } = revocationAware;
    const statistics = logCacheStatistics(log, { tree_copies: store.treeCopies, sessions: store.sessions });
    const pdfs = new PdfPool({
      workers: config.reportWorkers,
      waitingLimit: config.reportQueueLimit,
      perUser: config.reportsPerUser,
      log,
    });
    const handlers = sessionsHandlers({ store, trees, media, auth, verifier, pdfs, log });
    return {
      // An export stops rendering when its caller stops waiting.
      bindings: [implement(SessionsServiceService, handlers, log)],
      consumers: sessionsConsumers(store, log),
      stop: async () => {
        // How well the step path's memory served, for the operator reading the last lines.
        clearInterval(statistics);
        log.info({ treeCopies: store.treeCopies.stats(), sessions: store.sessions.stats() }, "session caches");
        log.info(pdfs.stats(), "PDF report workers");
        await pdfs.close();
        await revocationAware.close();
        trees.close();
        media.close();
        auth.close();
      },
    };
  },
});
