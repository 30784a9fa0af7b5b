import { logCacheStatistics, revocationAwareVerifier, runGateway } from "@tdt/kit";
import { closeDownstream, connectDownstream } from "./api/downstream.js";
import { buildGateway } from "./app.js";
import { followAccountChanges } from "./caches/account-changes.js";
import { ResponseCache } from "./caches/response-cache.js";
import { followTreeChanges } from "./caches/tree-changes.js";
import { gatewayConfig } from "./config.js";

await runGateway({
  name: "gateway",
  config: gatewayConfig,
  async start({ config, log, nats }) {
    const downstream = connectDownstream(config);
    // Tokens are checked locally; the auth events, followed in the background (NATS being down
    // never keeps the gateway from serving), refuse those of ended login sessions.
    const revocationFeed = revocationAwareVerifier({ ...config, auth: downstream.auth, nats, name: "gateway", log });
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
    const server = await buildGateway({
      log,
      downstream,
      verifier: revocationFeed.verifier,
      corsOrigins: config.corsOrigins,
      trustProxy: config.trustProxy,
      ...(config.https ? { https: config.https } : {}),
      webRoot: config.webRoot,
      caches,
      mediaMaxBytes: config.mediaMaxBytes,
      version: config.version,
    });
    return {
      server,
      stop: async () => {
        clearInterval(statistics);
        await Promise.all(feeds.map((feed) => feed?.close()));
        await revocationFeed.close();
        closeDownstream(downstream);
      },
    };
  },
});
