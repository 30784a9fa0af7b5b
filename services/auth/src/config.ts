import { ConfigError, env, type Setting, shared } from "@tdt/kit";
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

export const authConfig = {
  firstAdmin: firstAdmin(),
  accessTokenTtlSeconds: shared.accessTokenTtlSeconds,
  sessionPolicyMinSeconds: env.int("SESSION_POLICY_MIN_SECONDS", 300, 1, 365 * 24 * 3600),
  loginRateLimitPerMinute: env.int("LOGIN_RATE_LIMIT_PER_MINUTE", 10, 1, 1_000_000),
  /** Sign-ins started with a provider, per client address and minute (each is a row until it expires). */
  ssoRateLimitPerMinute: env.int("OIDC_RATE_LIMIT_PER_MINUTE", 60, 1, 1_000_000),
  sso: ssoConfig(),
};
