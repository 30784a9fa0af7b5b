import { randomUUID } from "node:crypto";
import type { DownstreamHealthAnswer } from "@tdt/kit";
import type { Downstream } from "./downstream.js";

export type DownstreamName = keyof Downstream;
/** As grpc.health.v1 names it; "UNKNOWN" until the first check answers. */
export type DownstreamState = "SERVING" | "NOT_SERVING" | "UNKNOWN";

const POLL_INTERVAL_MS = 1000;
/** While a service is down it is checked often, so its routes open again within moments of its return. */
const DOWN_POLL_INTERVAL_MS = 100;
const CHECK_TIMEOUT_MS = 500;

/** Each downstream's last known health, checked in the background so routes need not wait for a deadline. */
export interface DownstreamHealth {
  states(): Record<DownstreamName, DownstreamState>;
  /**
   * True only when the last check reached no replica at all: an unchecked service gets the call,
   * and so does one that answered NOT_SERVING, since a draining replica still serves until it stops.
   */
  isDown(name: DownstreamName): boolean;
  /** Checks every downstream now and returns the fresh states. */
  check(): Promise<Record<DownstreamName, DownstreamState>>;
  stop(): void;
}

/**
 * How many checks one look at a service may take: calls go round_robin over its replicas, so a
 * check that met a draining replica (NOT_SERVING) is asked again and may meet one that serves.
 */
const CHECKS_PER_LOOK = 3;

export function watchDownstream(
  downstream: Downstream,
  options: { intervalMs?: number; downIntervalMs?: number; timeoutMs?: number } = {},
): DownstreamHealth {
  const names = Object.keys(downstream) as DownstreamName[];
  const current = Object.fromEntries(names.map((name) => [name, "UNKNOWN"])) as Record<DownstreamName, DownstreamState>;
  const unreachable = new Set<DownstreamName>();
  const timeoutMs = options.timeoutMs ?? CHECK_TIMEOUT_MS;

  const look = async (name: DownstreamName): Promise<DownstreamHealthAnswer> => {
    const probe = () =>
      downstream[name]
        .health({ requestId: randomUUID(), timeoutMs })
        .catch((): DownstreamHealthAnswer => "UNREACHABLE");
    let answer = await probe();
    for (let check = 1; answer === "NOT_SERVING" && check < CHECKS_PER_LOOK; check++) answer = await probe();
    return answer;
  };
  const checkSome = async (some: DownstreamName[]) => {
    await Promise.all(
      some.map(async (name) => {
        const answer = await look(name);
        current[name] = answer === "SERVING" ? "SERVING" : "NOT_SERVING";
        if (answer === "UNREACHABLE") unreachable.add(name);
        else unreachable.delete(name);
      }),
    );
    return { ...current };
  };
  const check = () => checkSome(names);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let lastFullCheck = Date.now();
  // Every service each interval; between those, the ones that are down, often.
  const schedule = () => {
    if (stopped) return;
    const interval = options.intervalMs ?? POLL_INTERVAL_MS;
    const down = names.filter((name) => current[name] === "NOT_SERVING");
    const untilFull = Math.max(0, lastFullCheck + interval - Date.now());
    const downDelay = options.downIntervalMs ?? DOWN_POLL_INTERVAL_MS;
    const full = down.length === 0 || untilFull <= downDelay;
    timer = setTimeout(
      () => {
        if (full) lastFullCheck = Date.now();
        void checkSome(full ? names : down).finally(schedule);
      },
      full ? untilFull : downDelay,
    );
    timer.unref();
  };
  schedule();

  return {
    states: () => ({ ...current }),
    isDown: (name) => unreachable.has(name),
    check,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** Which downstream serves a URL's routes, by the prefix its routes are registered under. */
export function downstreamOfUrl(url: string): DownstreamName | undefined {
  for (const [name, path] of [
    ["auth", "auth"],
    ["trees", "trees"],
    ["trees", "media"],
    ["sessions", "sessions"],
    ["hooks", "webhooks"],
  ] as const) {
    const prefix = `/api/v1/${path}`;
    if (url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`)) return name;
  }
  return undefined;
}
