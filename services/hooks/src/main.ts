import { fileURLToPath } from "node:url";
import { createServiceClient, DEFAULT_PORTS, implement, revocationAwareVerifier, runService } from "@tdt/kit";
import { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import { HooksServiceService } from "@tdt/proto/tdt/hooks/v1/hooks";
import { AddressGuard } from "./address-guard.js";
import { hooksConfig } from "./config.js";
import { DeliveryWorker } from "./delivery-worker.js";
import { hooksConsumers } from "./events.js";
import { hooksHandlers } from "./handlers.js";
import { nameLookup } from "./resolver.js";
import { nextAttemptAt } from "./retry-schedule.js";

await runService({
  name: "hooks",
  grpcServices: ["tdt.hooks.v1.HooksService"],
  defaultPort: DEFAULT_PORTS.hooks,
  callers: ["gateway"],
  database: "tdt_hooks",
  migrationsDir: fileURLToPath(new URL("../migrations", import.meta.url)),
  config: hooksConfig,
  // Endpoints are each organization's own.
  organizationWall: true,
  async start({ config, sql, log, nats }) {
    const guard = new AddressGuard(config.webhookAllowPrivate);
    const lookup = nameLookup(config.webhookResolver);
    const waits = config.webhookRetryWaitsMs;
    const worker = new DeliveryWorker({
      sql,
      guard,
      log,
      concurrency: config.webhookConcurrency,
      retryAt: (failed, now) => nextAttemptAt(failed, now, Math.random, waits),
      attempt: { lookup },
    });
    const auth = createServiceClient(AuthServiceService, config.authAddress, { timeoutMs: 3000, tls: config.grpcTls });
    const revocationAware = revocationAwareVerifier({ ...config, nats, auth, name: "hooks", log });
    const queued = () => worker.nudge();
    const handlers = hooksHandlers({
      sql,
      verifier: revocationAware.verifier,
      guard,
      lookup,
      publicUrl: config.publicUrl,
      queued,
    });
    worker.start();
    log.info(
      { allow_private: config.webhookAllowPrivate, retry_waits_s: waits.map((wait) => wait / 1000) },
      "delivering webhooks",
    );
    return {
      bindings: [implement(HooksServiceService, handlers, log)],
      consumers: hooksConsumers({ sql, publicUrl: config.publicUrl, queued, log }),
      stop: async () => {
        await worker.stop();
        await revocationAware.close();
        auth.close();
      },
    };
  },
});
