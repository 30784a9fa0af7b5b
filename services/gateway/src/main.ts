import { createLogger, loadConfig, onShutdown, revocationAwareVerifier } from "@tdt/kit";
import { buildGateway } from "./app.js";
import { gatewayConfig } from "./config.js";
import { closeDownstream, connectDownstream } from "./downstream.js";

const config = loadConfig(gatewayConfig);
const log = createLogger("gateway", config.logLevel);
const downstream = connectDownstream(config);
// Tokens are checked locally; the auth events, followed in the background (NATS being down
// never keeps the gateway from serving), refuse those of ended login sessions.
const revocationFeed = revocationAwareVerifier({
  auth: downstream.auth,
  natsUrl: config.natsUrl,
  natsCredentials: config.natsCredentials,
  name: "gateway",
  accessTokenTtlSeconds: config.accessTokenTtlSeconds,
  log,
});
const { verifier } = revocationFeed;
const app = await buildGateway({
  log,
  downstream,
  verifier,
  corsOrigins: config.corsOrigins,
  trustProxy: config.trustProxy,
});

await app.listen({ port: config.port, host: config.host });
onShutdown(log, [() => app.close(), () => revocationFeed.close(), async () => closeDownstream(downstream)]);
