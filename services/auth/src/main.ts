import { fileURLToPath } from "node:url";
import { DEFAULT_PORTS, implement, runService } from "@tdt/kit";
import { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import { authConfig } from "./config.js";
import { prepareAuthEvents } from "./events.js";
import { authHandlers } from "./handlers.js";
import { SigningKeys } from "./keys.js";
import { MailRelay, smtpTransport } from "./mail/mail-outbox.js";
import { ensureDemoOrganizations } from "./organizations.js";
import { RateLimiter } from "./rate-limit.js";
import { forgetExpiredChildPairs } from "./refresh-store.js";
import { callbackUrlOf, ownsDomain } from "./sso-login.js";
import { StoredProviders } from "./sso-provider-store.js";
import { OidcProviders } from "./sso-providers.js";
import { ensureFirstAdmin } from "./users.js";

await runService({
  name: "auth",
  grpcServices: ["tdt.auth.v1.AuthService"],
  defaultPort: DEFAULT_PORTS.auth,
  // The gateway for users; trees, sessions and hooks for JWKS and the revocation feed.
  callers: ["gateway", "trees", "sessions", "hooks"],
  database: "tdt_auth",
  migrationsDir: fileURLToPath(new URL("../migrations", import.meta.url)),
  config: authConfig,
  // NATS may be down: auth serves anyway and the outbox keeps the events until it is back.
  outbox: { prepare: prepareAuthEvents },
  async start({ config, sql, log }) {
    const keys = new SigningKeys(sql);
    await keys.ensureKey();
    if (config.firstAdmin) {
      const { email } = config.firstAdmin;
      const admin = await ensureFirstAdmin(sql, config.firstAdmin);
      if (admin === "created") log.info({ email }, "first admin created");
      if (admin === "email_taken") log.warn({ email }, "ADMIN_EMAIL belongs to a non-admin user; no admin created");
    }
    // As the trees service loads the demo trees (DEMO_DATA): the Demo organization and a Sandbox.
    if (config.demoData) await ensureDemoOrganizations(sql);

    const sweeper = setInterval(() => forgetExpiredChildPairs(sql).catch(() => {}), 60_000);

    // Mail leaves through the outbox: an SMTP server that is down delays it and loses none.
    const mailRelay = new MailRelay(
      sql,
      config.smtpUrl ? smtpTransport(config.smtpUrl) : undefined,
      config.mailFrom,
      log,
    );
    mailRelay.start();

    // Providers are discovered in the background: password logins do not wait for them.
    const stored = new StoredProviders(
      sql,
      config.sso.secretKey,
      new Set(config.sso.providers.map((provider) => provider.id)),
      (id) => callbackUrlOf(config.sso, id),
    );
    const providers = new OidcProviders(config.sso.providers, log, stored);
    void providers.discoverAll();

    const handlers = authHandlers({
      sql,
      keys,
      rateLimiter: new RateLimiter(sql, config.loginRateLimitPerMinute),
      ssoRateLimiter: new RateLimiter(sql, config.ssoRateLimitPerMinute),
      sso: { config: config.sso, providers, stored },
      accounts: {
        registration: config.registration,
        publicUrl: config.sso.publicUrl,
        mailQueued: () => mailRelay.nudge(),
        providersOwning: (email) =>
          config.sso.providers.filter((provider) => ownsDomain(provider, email)).map((provider) => provider.id),
      },
      mailRateLimiter: new RateLimiter(sql, config.mailRateLimitPerMinute),
      loginThrottle: config.loginThrottle,
      accessTokenTtlSeconds: config.accessTokenTtlSeconds,
      sessionPolicyMinSeconds: config.sessionPolicyMinSeconds,
      log,
    });
    return {
      bindings: [implement(AuthServiceService, handlers, log)],
      stop: async () => {
        clearInterval(sweeper);
        await mailRelay.stop();
      },
    };
  },
});
