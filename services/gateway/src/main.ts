import { createLogger, loadConfig, onShutdown, RevocationList } from "@tdt/kit";
import { createAccessTokenVerifier } from "./access-tokens.js";
import { buildGateway } from "./app.js";
import { gatewayConfig } from "./config.js";
import { closeDownstream, connectDownstream } from "./downstream.js";
import { followRevocations } from "./revocation-feed.js";

const config = loadConfig(gatewayConfig);
const log = createLogger("gateway", config.logLevel);
const downstream = connectDownstream(config);
const revocations = new RevocationList(config.accessTokenTtlSeconds);
const verifier = createAccessTokenVerifier({ auth: downstream.auth, revocations, log });
// In the background: NATS being down never keeps the gateway from serving.
const revocationFeed = followRevocations({
  natsUrl: config.natsUrl,
  revocations,
  accessTokenTtlSeconds: config.accessTokenTtlSeconds,
  log,
});
const app = await buildGateway({
  log,
  downstream,
  verifier,
  corsOrigins: config.corsOrigins,
  trustProxy: config.trustProxy,
});

await app.listen({ port: config.port, host: config.host });
onShutdown(log, [() => app.close(), () => revocationFeed.close(), async () => closeDownstream(downstream)]);
