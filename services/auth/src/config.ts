import { ConfigError, env, type Setting, shared } from "@tdt/kit";
import { REGISTRATION_MODES } from "./accounts.js";
import type { ThrottleRules } from "./login-throttle.js";
import { ssoConfig } from "./sso-config.js";
import { registrationProblems } from "./users.js";

export interface FirstAdmin {
  email: string;
  password: string;
}

/**
 * ADMIN_EMAIL and ADMIN_PASSWORD: both or neither, held to registration's rules, so a typo
 * stops auth at start instead of leaving it without an admin or with a guessable password.
 */
function firstAdmin(): Setting<FirstAdmin | undefined> {
  const emailSetting = env.optional("ADMIN_EMAIL");
  const passwordSetting = env.optional("ADMIN_PASSWORD");
  return {
    read(source) {
      const email = emailSetting.read(source);
      const password = passwordSetting.read(source);
      if (email === undefined && password === undefined) return undefined;
      if (email === undefined) throw new ConfigError("ADMIN_EMAIL", "is required when ADMIN_PASSWORD is set");
      if (password === undefined) throw new ConfigError("ADMIN_PASSWORD", "is required when ADMIN_EMAIL is set");
      const [problem] = registrationProblems({ email, password, full_name: "Administrator" });
      if (problem?.loc.at(-1) === "email") {
        throw new ConfigError("ADMIN_EMAIL", `is not a valid email address, got "${email}"`);
      }
      if (problem) {
        // Never echo the password itself: only how long it is.
        const rule = problem.msg.toLowerCase();
        throw new ConfigError("ADMIN_PASSWORD", `fails registration's rule (${rule}): it has ${password.length}`);
      }
      return { email, password };
    },
  };
}

/** SMTP_URL when set, held to smtp:// or smtps:// (a typo stops auth at start, credentials never echoed). */
function optionalSmtpUrl(): Setting<string | undefined> {
  const present = env.optional("SMTP_URL");
  const url = env.url("SMTP_URL", undefined, ["smtp", "smtps"]);
  return { read: (source) => (present.read(source) === undefined ? undefined : url.read(source)) };
}

/**
 * The login throttle's rules (login-throttle.ts). LOGIN_FREE_FAILURES: failures one email may
 * have from one client address before waits begin. LOGIN_FREE_FAILURES_PER_ADDRESS: failures of
 * every email from one address; unset, it is LOGIN_RATE_LIMIT_PER_MINUTE, which was the
 * per-address login limit before the throttle, so a deployment that tightened it stays tight.
 * LOGIN_MAX_DELAY_SECONDS: the longest wait. An address quiet for four of them starts again (a
 * shared address recovers); a pair only after a day, or four waits if longer (a guesser gains
 * nothing by pausing).
 */
function loginThrottle(): Setting<ThrottleRules> {
  const pairFree = env.int("LOGIN_FREE_FAILURES", 5, 1, 1_000_000);
  const formerAddressLimit = env.int("LOGIN_RATE_LIMIT_PER_MINUTE", 10, 1, 1_000_000);
  const maxDelay = env.int("LOGIN_MAX_DELAY_SECONDS", 15 * 60, 1, 24 * 3600);
  return {
    read(source) {
      const longest = maxDelay.read(source);
      const rule = (freeFailures: number, forgetAfterSeconds: number) => ({
        freeFailures,
        firstDelaySeconds: 1,
        maxDelaySeconds: longest,
        forgetAfterSeconds,
      });
      const perAddress = env.int("LOGIN_FREE_FAILURES_PER_ADDRESS", formerAddressLimit.read(source), 1, 1_000_000);
      return {
        pair: rule(pairFree.read(source), Math.max(24 * 3600, 4 * longest)),
        address: rule(perAddress.read(source), 4 * longest),
      };
    },
  };
}

export const authConfig = {
  firstAdmin: firstAdmin(),
  /** `npm start`'s demo: the default organization named Demo (it holds the demo trees) and an empty Sandbox. */
  demoData: env.bool("DEMO_DATA", false),
  accessTokenTtlSeconds: shared.accessTokenTtlSeconds,
  sessionPolicyMinSeconds: env.int("SESSION_POLICY_MIN_SECONDS", 300, 1, 365 * 24 * 3600),
  loginRateLimitPerMinute: env.int("LOGIN_RATE_LIMIT_PER_MINUTE", 10, 1, 1_000_000),
  loginThrottle: loginThrottle(),
  /** Sign-ins started with a provider, per client address and minute (each is a row until it expires). */
  ssoRateLimitPerMinute: env.int("OIDC_RATE_LIMIT_PER_MINUTE", 60, 1, 1_000_000),
  sso: ssoConfig(),
  /** Who may make an account (README, "Accounts and mail"): verify by default. */
  registration: env.oneOf("REGISTRATION", "verify", REGISTRATION_MODES),
  /** Where mail goes (`smtp://host:port`, `smtps://user:pass@host:port`); unset: mail waits in the outbox. */
  smtpUrl: optionalSmtpUrl(),
  mailFrom: env.string("MAIL_FROM", "TDT <no-reply@localhost>"),
  /** Requests that mail a named address (forgot password, resend verification), per address and client, per minute. */
  mailRateLimitPerMinute: env.int("MAIL_RATE_LIMIT_PER_MINUTE", 3, 1, 1_000_000),
};
