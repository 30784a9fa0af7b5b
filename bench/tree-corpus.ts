/**
 * The search corpus of the benchmarks: generated trees loaded through the API (by an admin, as
 * real content arrives), and the searches run over them. `npm run bench:trees` and
 * `npm run bench` both use it.
 */
import type { api } from "@tdt/test-support/api";
import { printerTree } from "@tdt/test-support/trees";
import { type LoadResult, load, type Probe } from "./measure.js";

/** The devices the generated trees are about, and the searches name. */
export const WORDS = [
  "printer",
  "router",
  "laptop",
  "battery",
  "screen",
  "email",
  "vpn",
  "scanner",
  "badge",
  "kiosk",
  "modem",
];
const PARTS = ["power", "cable", "driver", "firmware", "fan", "port", "adapter", "update", "password", "signal"];

type Client = ReturnType<typeof api>;

/** Creates `count` trees, 8 at a time; returns their ids and how long it took. */
export async function loadCorpus(
  client: Client,
  admin: string,
  count: number,
): Promise<{ ids: string[]; seconds: number }> {
  const started = performance.now();
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < count) {
        const i = next++;
        const word = WORDS[i % WORDS.length] as string;
        const part = PARTS[Math.floor(i / WORDS.length) % PARTS.length] as string;
        const body = printerTree({
          title: `${word} ${part} problem ${i}`,
          description: `Troubleshooting a ${word} with a faulty ${part}, case ${i}.`,
          category: word,
          tags: [part, `batch-${i % 50}`],
        });
        const response = await client.call<{ id: string }>("POST", "/api/v1/trees", { token: admin, json: body });
        if (response.status !== 201) throw new Error(`create failed: ${response.status}`);
        ids.push(response.body.id);
      }
    }),
  );
  return { ids, seconds: (performance.now() - started) / 1000 };
}

/** Searches of two words, the last a prefix (`router port`), from the 110 such pairs: what people repeat. */
export function searchRepeated(client: Client, token: string, workers: number, seconds: number): Promise<LoadResult> {
  return load({
    workers,
    seconds,
    setup: async (worker) => ({ worker, n: 0 }),
    step: async (state) => {
      const i = state.worker + state.n++;
      const q = `${WORDS[i % WORDS.length]} ${(PARTS[i % PARTS.length] as string).slice(0, 4)}`;
      return (await client.call("GET", `/api/v1/trees/search?q=${encodeURIComponent(q)}`, { token })).status === 200;
    },
  });
}

/**
 * Searches that never repeat in a run (word, part prefix of 2 to 5 letters, page size), so no
 * cache answers them: what a search costs when it misses every cache.
 */
export async function searchUnrepeated(
  client: Client,
  token: string,
  workers: number,
  seconds: number,
  probe?: Probe,
): Promise<LoadResult> {
  let unrepeated = 0;
  const result = await load({
    workers,
    seconds,
    probe,
    setup: async () => ({}),
    step: async () => {
      const n = unrepeated++;
      const part = PARTS[Math.floor(n / WORDS.length) % PARTS.length] as string;
      const q = `${WORDS[n % WORDS.length]} ${part.slice(0, 2 + (Math.floor(n / 110) % 4))}`;
      const limit = 10 + (Math.floor(n / 440) % 20);
      const path = `/api/v1/trees/search?q=${encodeURIComponent(q)}&limit=${limit}`;
      return (await client.call("GET", path, { token })).status === 200;
    },
  });
  if (unrepeated > 8_800) console.warn(`${unrepeated} unrepeated searches: past 8,800 they repeat`);
  return result;
}
