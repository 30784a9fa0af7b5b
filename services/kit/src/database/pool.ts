import postgres, { type Options, type Sql } from "postgres";
import type { Logger } from "../observability/logger.js";

/** How long work already running on a replaced pool may finish before its connections are destroyed. */
export const RETIRE_TIMEOUT_SECONDS = 2;

type Listener = {
  channel: string;
  onNotify: (payload: string) => void;
  unlisten?: () => Promise<void>;
};

/**
 * A postgres.js pool that is replaced whole as soon as one of its connections is lost.
 *
 * postgres.js 3.4.9, even patched (patches/postgres@3.4.9.patch), can leave queries waiting
 * forever after its connections are terminated under load: a pool whose sockets were reset
 * mid-pipeline sometimes never answers some of the queries it holds (measured with 20 clients
 * and three rounds of `pg_terminate_backend`: queries answered after 10–18 s, or never). A fresh
 * pool carries none of that state. The old one is ended: what runs on it gets
 * RETIRE_TIMEOUT_SECONDS to finish, then its connections are destroyed, so every caller gets an
 * answer (a connection error, a 503 once mapped) instead of a hang.
 *
 * The value is the `Sql` callers already use (tagged template, `begin`, `reserve`, `unsafe`, …),
 * always acting on the current pool; `listen` subscriptions move to each new pool; `end` ends
 * the current pool and every pool still retiring.
 */
export function replaceablePool(url: string, options: Options<Record<string, never>>, log: Logger): Sql {
  const retiring = new Set<Promise<void>>();
  const listeners = new Set<Listener>();
  let ended = false;
  let replacement: NodeJS.Timeout | undefined;

  const open = (): Sql => {
    const pool: Sql = postgres(url, {
      ...options,
      // Closes of a pool's own connections; the internal LISTEN connection reconnects by itself.
      onclose: () => {
        if (pool !== current || ended || replacement) return;
        replacement = setTimeout(replace, 0);
      },
    });
    return pool;
  };

  let current = open();

  const replace = () => {
    replacement = undefined;
    if (ended) return;
    const old = current;
    current = open();
    log.warn(
      { retire_timeout_s: RETIRE_TIMEOUT_SECONDS },
      "database connection lost: the pool is replaced; work on the old one may finish meanwhile",
    );
    const done = old
      .end({ timeout: RETIRE_TIMEOUT_SECONDS })
      .catch(() => {})
      .finally(() => retiring.delete(done));
    retiring.add(done);
    for (const listener of listeners) void subscribe(listener);
  };

  /** Listens on the current pool, trying again each second while the database is unreachable. */
  const subscribe = async (listener: Listener): Promise<void> => {
    const pool = current;
    for (;;) {
      if (ended || pool !== current || !listeners.has(listener)) return;
      try {
        const meta = await pool.listen(listener.channel, listener.onNotify);
        listener.unlisten = meta.unlisten;
        return;
      } catch (error) {
        log.warn({ err: error, channel: listener.channel }, "database listen failed; retrying in 1 s");
        await new Promise((wake) => setTimeout(wake, 1000));
      }
    }
  };

  const listen = async (channel: string, onNotify: (payload: string) => void) => {
    const listener: Listener = { channel, onNotify };
    listeners.add(listener);
    const pool = current;
    let meta: Awaited<ReturnType<Sql["listen"]>>;
    try {
      meta = await pool.listen(channel, onNotify);
    } catch (error) {
      // The caller learns it failed: nothing is left to be listened again on a later pool.
      listeners.delete(listener);
      throw error;
    }
    // Replaced meanwhile: the new pool's subscription (made by the replacement) is the one to end.
    if (pool === current) listener.unlisten = meta.unlisten;
    return {
      state: meta.state,
      unlisten: async () => {
        listeners.delete(listener);
        await listener.unlisten?.();
      },
    };
  };

  const end = async (endOptions?: { timeout?: number }) => {
    ended = true;
    clearTimeout(replacement);
    await Promise.all([current.end(endOptions), ...retiring]);
  };

  // A function target, so the proxy can be called as the tagged template it stands for.
  return new Proxy(() => {}, {
    apply: (_target, _this, args) => (current as unknown as (...values: unknown[]) => unknown)(...args),
    get: (_target, property) => {
      if (property === "listen") return listen;
      if (property === "end") return end;
      return Reflect.get(current, property);
    },
  }) as unknown as Sql;
}
