import {
  announceListening,
  createLogger,
  loadConfig,
  logCacheStatistics,
  natsLink,
  onShutdown,
  revocationAwareVerifier,
  startMetrics,
  startTracing,
} from "@tdt/kit";
import { closeDownstream, connectDownstream } from "./api/downstream.js";
import { buildGateway } from "./app.js";
import { followAccountChanges } from "./caches/account-changes.js";
import { ResponseCache } from "./caches/response-cache.js";
import { followTreeChanges } from "./caches/tree-changes.js";
import { gatewayConfig } from "./config.js";

const config = loadConfig(gatewayConfig);
// First: what starts next (the downstream clients) is traced only once the SDK is registered.
const tracing = startTracing("tdt-gateway");
const log = createLogger("gateway", config.logLevel);
// First, so that the instruments made as the parts start (gRPC clients, the caches) record.
const metricsServer = await startMetrics({
  serviceName: "tdt-gateway",
  host: config.metricsHost,
  port: config.metricsPort,
  token: config.metricsToken,
  log,
}).catch((error: unknown) => {
  log.fatal({ err: error }, "failed to start");
  process.exit(1);
});
const downstream = connectDownstream(config);
const nats = natsLink(config, "gateway", log);
// Tokens are checked locally; the auth events, followed in the background (NATS being down
// never keeps the gateway from serving), refuse those of ended login sessions.
const revocationFeed = revocationAwareVerifier({
  auth: downstream.auth,
  authAddress: config.authAddress,
  jwksCacheDir: config.jwksCacheDir,
  jwksCacheMaxAgeSeconds: config.jwksCacheMaxAgeSeconds,
  grpcTls: config.grpcTls,
  nats,
  name: "gateway",
  accessTokenTtlSeconds: config.accessTokenTtlSeconds,
  log,
});
const { verifier } = revocationFeed;
// Ready answers of the hot reads, each cache live only while the changes of what it holds reach
// it over NATS: trees from the trees events, accounts (`/auth/me`) from the auth events. The
// accounts get a sixteenth of the memory: an account's answer is a few hundred bytes.
const cacheOf = (megabytes: number) =>
  config.cacheMegabytes > 0
    ? new ResponseCache({ maxBytes: megabytes * 1024 * 1024, maxAgeMs: config.cacheMaxAgeSeconds * 1000 })
    : undefined;
const caches = { trees: cacheOf(config.cacheMegabytes), accounts: cacheOf(config.cacheMegabytes / 16) };
const feeds = [
  caches.trees && followTreeChanges({ nats, cache: caches.trees, log }),
  caches.accounts && followAccountChanges({ nats, cache: caches.accounts, log }),
];
const statistics = logCacheStatistics(log, { tree_answers: caches.trees, account_answers: caches.accounts });
const app = await buildGateway({
  log,
  downstream,
  verifier,
  corsOrigins: config.corsOrigins,
  trustProxy: config.trustProxy,
  ...(config.https ? { https: config.https } : {}),
  webRoot: config.webRoot,
  caches,
  version: config.version,
});

try {
  await app.listen({ port: config.port, host: config.host });
} catch (error) {
  // One line saying why (e.g. the port is taken), as the gRPC services give, not a stack trace.
  log.fatal({ err: error }, "failed to start");
  process.exit(1);
}
announceListening("gateway", config.port);
onShutdown(log, [
  () => app.close(),
  async () => clearInterval(statistics),
  async () => {
    await Promise.all(feeds.map((feed) => feed?.close()));
  },
  () => revocationFeed.close(),
  () => nats.close(),
  async () => closeDownstream(downstream),
  () => metricsServer.stop(),
  // Last, so that the spans of the final requests are exported.
  () => tracing.stop(),
]);
