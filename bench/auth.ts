/**
 * Auth benchmark (issue: refresh throughput and login latency), through the gateway, on the
 * real processes with a private NATS and fresh databases:
 *   npm run bench:auth              (BENCH_SECONDS, BENCH_WORKERS to change the load)
 */
import type { TokenPair } from "@tdt/test-support/api";
import { startSystemWithAdmin } from "@tdt/test-support/system";
import { load, percentile, printTable } from "./measure.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const workers = Number(process.env.BENCH_WORKERS ?? 16);

const { client, stop } = await startSystemWithAdmin({ LOG_LEVEL: "warn" });
try {
  const account = await client.register(client.uniqueEmail("bench"), "bench-password-123");

  // Login latency: argon2id verification dominates; sequential, so it is the cost of one login.
  const logins: number[] = [];
  for (let i = 0; i < 40; i++) {
    const t0 = performance.now();
    await client.login(account.email, account.password);
    logins.push(performance.now() - t0);
  }
  logins.sort((a, b) => a - b);

  // Refresh throughput: each worker walks its own token chain, as a client would.
  const refresh = await load<{ token: string }>({
    workers,
    seconds,
    setup: async () => ({ token: (await client.login(account.email, account.password)).refresh_token }),
    step: async (state) => {
      const response = await client.call<TokenPair>("POST", "/api/v1/auth/refresh", {
        json: { refresh_token: state.token },
      });
      if (response.status !== 200) return false;
      state.token = response.body.refresh_token;
      return true;
    },
  });

  // A verified request: /auth/me checks the token at the gateway and again in auth.
  const me = await load<{ token: string }>({
    workers,
    seconds,
    setup: async () => ({ token: (await client.login(account.email, account.password)).access_token }),
    step: async (state) => (await client.call("GET", "/api/v1/auth/me", { token: state.token })).status === 200,
  });

  printTable(`Auth through the gateway (${workers} concurrent clients, ${seconds} s each)`, [
    {
      measure: "POST /auth/login/json (sequential)",
      "req/s": 1000 / (logins.reduce((a, b) => a + b, 0) / logins.length),
      "p50 ms": percentile(logins, 50),
      "p99 ms": percentile(logins, 99),
      failures: 0,
    },
    {
      measure: "POST /auth/refresh",
      "req/s": refresh.perSecond,
      "p50 ms": refresh.p50,
      "p99 ms": refresh.p99,
      failures: refresh.failures,
    },
    { measure: "GET /auth/me", "req/s": me.perSecond, "p50 ms": me.p50, "p99 ms": me.p99, failures: me.failures },
  ]);
} finally {
  await stop();
}
