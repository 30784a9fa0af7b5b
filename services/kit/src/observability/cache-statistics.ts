import type { Logger } from "./logger.js";
import { observeCacheLookups } from "./metrics.js";

/** What every cache counts: lookups answered from memory and those that were not. */
export interface CacheCounts {
  hits: number;
  misses: number;
}

/** How often the statistics are logged. */
const EVERY_MS = 60_000;

/**
 * Logs, once a minute and only when a cache was used since the last line, each cache's counts
 * since the start and its hit rate: how an operator sees that a cache earns its memory.
 * The same counts are the metric `tdt.cache.lookups`, by cache and result.
 * Returns the timer, for `clearInterval` at shutdown; it never keeps the process alive.
 */
export function logCacheStatistics(
  log: Logger,
  caches: Record<string, { stats(): CacheCounts } | undefined>,
  everyMs = EVERY_MS,
): NodeJS.Timeout {
  observeCacheLookups(caches);
  let lastLookups = -1;
  const timer = setInterval(() => {
    const lines: Record<string, CacheCounts & { hit_rate: number }> = {};
    let lookups = 0;
    for (const [name, cache] of Object.entries(caches)) {
      if (!cache) continue;
      const stats = cache.stats();
      const total = stats.hits + stats.misses;
      lookups += total;
      lines[name] = { ...stats, hit_rate: total === 0 ? 0 : Number((stats.hits / total).toFixed(3)) };
    }
    if (lookups === lastLookups) return;
    lastLookups = lookups;
    log.info({ caches: lines }, "cache statistics");
  }, everyMs);
  timer.unref();
  return timer;
}
