import { AppError, inTransaction, type Sql, type TransactionSql } from "@tdt/kit";
import { normalizeEmail } from "./email-address.js";
import {
  type AttemptDecision,
  decideAttempt,
  type FailureCount,
  givenBack,
  type ScopeCounts,
  type ThrottleRules,
} from "./login-throttle.js";
import { rateLimitRefusals } from "./rate-limit.js";

/** Who is trying: the client address the attempt is counted against, and the email as typed. */
export interface LoginAttempt {
  address: string;
  email: string;
}

/** An attempt the throttle let through, charged as a failure until its password proves right. */
export interface StartedLogin {
  /** The password was right: the pair's failures end and the address gets this attempt back. */
  succeeded(): Promise<void>;
}

type Charge = Extract<AttemptDecision, { allowed: true }>;

/**
 * Password login attempts counted in Postgres under the throttle's rules (login-throttle.ts), so
 * every auth replica sees the same counts. Deciding and charging an attempt is one transaction
 * that locks the attempt's two rows, always the address's before the pair's: racing attempts of
 * one address take turns, and each sees the charges of those before it. The clock is the
 * database's, read once the rows are locked, so replicas agree on it.
 */
export class LoginAttempts {
  private lastCleanup = 0;
  private readonly refusals = rateLimitRefusals();

  constructor(
    private readonly sql: Sql,
    private readonly rules: ThrottleRules,
  ) {}

  /** Starts an attempt, or throws 429 `too_many_attempts` while its pair or its address must wait. */
  async start(attempt: LoginAttempt): Promise<StartedLogin> {
    const where = rowsOf(attempt);
    const decision = await inTransaction(this.sql, async (tx) => {
      const { counts, now } = await lockCounts(tx, where);
      const decided = decideAttempt(counts, this.rules, now);
      if (decided.allowed) await writeCounts(tx, where, decided.charged);
      return decided;
    });
    await this.forgetQuietRows();
    if (!decision.allowed) {
      this.refusals.add(1, { limit: "login" });
      throw new AppError("too_many_attempts", { retryAfterSeconds: decision.retryAfterSeconds });
    }
    return { succeeded: () => this.succeeded(where, decision) };
  }

  private async succeeded(where: Rows, charge: Charge): Promise<void> {
    await inTransaction(this.sql, async (tx) => {
      const { counts } = await lockCounts(tx, where);
      await writeCounts(tx, where, {
        pair: { failures: 0, lastFailureAt: null },
        address: givenBack(counts.address, charge.charged.address, charge.before.address),
      });
    });
  }

  /**
   * At most once a minute per replica: rows no rule still remembers. Best effort, never the
   * attempt's failure: a delete that loses a deadlock to a racing attempt is tried again later.
   */
  private async forgetQuietRows(): Promise<void> {
    if (Date.now() - this.lastCleanup < 60_000) return;
    this.lastCleanup = Date.now();
    const longest = Math.max(this.rules.pair.forgetAfterSeconds, this.rules.address.forgetAfterSeconds);
    await this.sql`
      delete from login_failures
      where last_failure_at is null or last_failure_at < now() - make_interval(secs => ${longest})`.catch(() => {});
  }
}

/** The attempt's two rows: its address's own (email '') and its pair's. */
interface Rows {
  address: string;
  email: string;
}

function rowsOf(attempt: LoginAttempt): Rows {
  return { address: attempt.address || "unknown", email: normalizeEmail(attempt.email) };
}

interface StoredRow {
  scope: "address" | "pair";
  failures: number;
  last_failure_ms: number | null;
  clock_ms: number;
}

/**
 * Both rows, created if missing and locked (the upsert's update takes the lock; the address's
 * row first, in every transaction), with the database's clock read after each lock, in whole
 * milliseconds so that a charge's time reads back exactly as it was written.
 */
async function lockCounts(tx: TransactionSql, where: Rows): Promise<{ counts: ScopeCounts; now: number }> {
  const rows = await tx<StoredRow[]>`
    insert into login_failures (client_address, scope, email)
    values (${where.address}, 'address', ''), (${where.address}, 'pair', ${where.email})
    on conflict (client_address, scope, email) do update set failures = login_failures.failures
    returning scope, failures,
      (extract(epoch from last_failure_at) * 1000)::float8 as last_failure_ms,
      floor(extract(epoch from clock_timestamp()) * 1000)::float8 as clock_ms`;
  const count = (scope: StoredRow["scope"]): FailureCount => {
    const row = rows.find((item) => item.scope === scope);
    return { failures: row?.failures ?? 0, lastFailureAt: row?.last_failure_ms ?? null };
  };
  return {
    counts: { pair: count("pair"), address: count("address") },
    now: Math.max(...rows.map((row) => row.clock_ms)),
  };
}

async function writeCounts(tx: TransactionSql, where: Rows, counts: ScopeCounts): Promise<void> {
  const at = (count: FailureCount) => (count.lastFailureAt === null ? null : count.lastFailureAt / 1000);
  await tx`
    update login_failures as row
    set failures = given.failures, last_failure_at = to_timestamp(given.seconds)
    from (values
      ('address', '', ${counts.address.failures}::int, ${at(counts.address)}::float8),
      ('pair', ${where.email}, ${counts.pair.failures}::int, ${at(counts.pair)}::float8)
    ) as given (scope, email, failures, seconds)
    where row.client_address = ${where.address} and row.scope = given.scope and row.email = given.email`;
}
