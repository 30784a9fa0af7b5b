/**
 * Trees benchmark: GET of one tree and a search through the gateway with 10,000 trees loaded
 * (through the API, by engineers, as real content would arrive):
 *   npm run bench:trees           (BENCH_TREES, BENCH_SECONDS, BENCH_WORKERS to change it)
 */
import { startSystemWithAdmin } from "@tdt/test-support/system";
import { printerTree } from "@tdt/test-support/trees";
import { load, printTable } from "./measure.js";

const treeCount = Number(process.env.BENCH_TREES ?? 10_000);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const workers = Number(process.env.BENCH_WORKERS ?? 16);

const WORDS = [
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

const { client, admin, stop } = await startSystemWithAdmin({ LOG_LEVEL: "warn" });
try {
  const reader = (await client.user("reader")).tokens.access_token;

  const loadStarted = performance.now();
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < treeCount) {
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
  const loadSeconds = (performance.now() - loadStarted) / 1000;

  const getOne = await load({
    workers,
    seconds,
    setup: async (worker) => ({ worker, n: 0 }),
    step: async (state) => {
      const id = ids[(state.worker * 7919 + state.n++ * 104_729) % ids.length];
      return (await client.call("GET", `/api/v1/trees/${id}`, { token: reader })).status === 200;
    },
  });
  const search = await load({
    workers,
    seconds,
    setup: async (worker) => ({ worker, n: 0 }),
    step: async (state) => {
      const i = state.worker + state.n++;
      const q = `${WORDS[i % WORDS.length]} ${(PARTS[i % PARTS.length] as string).slice(0, 4)}`;
      return (
        (await client.call("GET", `/api/v1/trees/search?q=${encodeURIComponent(q)}`, { token: reader })).status === 200
      );
    },
  });

  // Searches that never repeat in a run (word, part prefix of 2 to 5 letters, page size), so no
  // cache answers them: what a search costs when it misses every cache.
  let unrepeated = 0;
  const searchUnrepeated = await load({
    workers,
    seconds,
    setup: async () => ({}),
    step: async () => {
      const n = unrepeated++;
      const part = PARTS[Math.floor(n / WORDS.length) % PARTS.length] as string;
      const q = `${WORDS[n % WORDS.length]} ${part.slice(0, 2 + (Math.floor(n / 110) % 4))}`;
      const limit = 10 + (Math.floor(n / 440) % 20);
      const path = `/api/v1/trees/search?q=${encodeURIComponent(q)}&limit=${limit}`;
      return (await client.call("GET", path, { token: reader })).status === 200;
    },
  });
  if (unrepeated > 8_800) console.warn(`${unrepeated} unrepeated searches: past 8,800 they repeat`);

  printTable(
    `Trees through the gateway: ${treeCount} trees (loaded in ${loadSeconds.toFixed(0)} s), ${workers} clients, ${seconds} s each`,
    [
      {
        measure: "GET /trees/{id}",
        "req/s": getOne.perSecond,
        "p50 ms": getOne.p50,
        "p95 ms": getOne.p95,
        "p99 ms": getOne.p99,
        failures: getOne.failures,
      },
      {
        measure: "GET /trees/search?q=word pref",
        "req/s": search.perSecond,
        "p50 ms": search.p50,
        "p95 ms": search.p95,
        "p99 ms": search.p99,
        failures: search.failures,
      },
      {
        measure: "GET /trees/search, never repeated",
        "req/s": searchUnrepeated.perSecond,
        "p50 ms": searchUnrepeated.p50,
        "p95 ms": searchUnrepeated.p95,
        "p99 ms": searchUnrepeated.p99,
        failures: searchUnrepeated.failures,
      },
    ],
  );
} finally {
  await stop();
}
