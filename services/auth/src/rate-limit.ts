import { AppError, meter, type Sql } from "@tdt/kit";

const WINDOW_SECONDS = 60;

/**
 * `tdt.rate_limit.refusals`, by limit (the kind of attempt: "login", "register", …): one
 * instrument for the windows here and the login throttle (login-attempts.ts). Made at start.
 */
export function rateLimitRefusals(): ReturnType<ReturnType<typeof meter>["createCounter"]> {
  return meter().createCounter("tdt.rate_limit.refusals", {
    description: "Attempts refused for being over a rate limit",
  });
}

/**
 * Fixed one-minute windows counted in the database, so every auth replica sees the same
 * counts. Each key (a client address, an email) has its own window. Password logins are not
 * counted here: they have their own throttle, which never refuses per email alone (login-throttle.ts).
 */
export class RateLimiter {
  private lastCleanup = 0;
  private readonly refusals = rateLimitRefusals();

  constructor(
    private readonly sql: Sql,
    private readonly perMinute: number,
  ) {}

  /** Counts one attempt for every key; throws 429 `too_many_attempts` when any is over. */
  async hit(keys: string[]): Promise<void> {
    const rows = await this.sql<{ hits: number; retry_after: number }[]>`
      insert into rate_limit_hits (key, window_start, hits)
      select key, to_timestamp(floor(extract(epoch from now()) / ${WINDOW_SECONDS}) * ${WINDOW_SECONDS}), 1
      from unnest(${keys}::text[]) as key
      on conflict (key, window_start) do update set hits = rate_limit_hits.hits + 1
      returning hits, ceil(extract(epoch from window_start + make_interval(secs => ${WINDOW_SECONDS}) - now()))::int as retry_after`;
    const over = rows.find((row) => row.hits > this.perMinute);
    await this.cleanup();
    if (over) {
      this.refusals.add(1, { limit: keys[0]?.split(":")[0] ?? "unknown" });
      throw new AppError("too_many_attempts", { retryAfterSeconds: Math.max(1, over.retry_after) });
    }
  }

  private async cleanup(): Promise<void> {
    if (Date.now() - this.lastCleanup < 60_000) return;
    this.lastCleanup = Date.now();
    await this.sql`delete from rate_limit_hits where window_start < now() - interval '10 minutes'`;
  }
}
