import { fileURLToPath } from "node:url";
import {
  AUTH_SUBJECTS,
  connectNats,
  consumeAuthEvents,
  createServiceClient,
  DEFAULT_PORTS,
  implement,
  type NatsConnection,
  revocationAwareVerifier,
  runService,
} from "@tdt/kit";
import { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import { SessionsServiceService } from "@tdt/proto/tdt/sessions/v1/sessions";
import { TreesServiceService } from "@tdt/proto/tdt/trees/v1/trees";
import { sessionsConfig } from "./config.js";
import { sessionsHandlers } from "./handlers.js";
import { SessionStore } from "./session-store.js";

await runService({
  name: "sessions",
  grpcServices: ["tdt.sessions.v1.SessionsService"],
  defaultPort: DEFAULT_PORTS.sessions,
  callers: ["gateway"],
  database: "tdt_sessions",
  migrationsDir: fileURLToPath(new URL("../migrations", import.meta.url)),
  config: sessionsConfig,
  async start({ config, sql, log }) {
    const store = new SessionStore(sql);
    const trees = createServiceClient(TreesServiceService, config.treesAddress, {
      timeoutMs: config.grpcDeadlineMs,
      tls: config.grpcTls,
    });

    // A deactivated user's in-progress sessions are abandoned (SPEC §6). In the background:
    // the service serves while NATS is down, and the durable consumer catches up once it is back.
    let nats: NatsConnection | undefined;
    let stopConsuming: (() => Promise<void>) | undefined;
    void connectNats(config, "sessions", log).then(async (nc) => {
      nats = nc;
      stopConsuming = await consumeAuthEvents(nc, {
        durable: "sessions-user-deactivated",
        subject: AUTH_SUBJECTS.userDeactivated,
        log,
        handle: async (item) => {
          if (item.subject !== AUTH_SUBJECTS.userDeactivated) return;
          const abandoned = await store.abandonForDeactivatedUser(item.event.event_id, item.event.user_id);
          log.info({ user_id: item.event.user_id, abandoned }, "user deactivated; sessions abandoned");
        },
      });
    });

    const auth = createServiceClient(AuthServiceService, config.authAddress, { timeoutMs: 3000, tls: config.grpcTls });
    const revocationAware = revocationAwareVerifier({ ...config, auth, name: "sessions-revocations", log });
    const { verifier } = revocationAware;
    return {
      bindings: [implement(SessionsServiceService, sessionsHandlers({ store, trees, verifier }), log)],
      stop: async () => {
        await stopConsuming?.();
        await revocationAware.close();
        await nats?.drain().catch(() => {});
        trees.close();
        auth.close();
      },
    };
  },
});
