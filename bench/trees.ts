/**
 * Trees benchmark: GET of one tree and a search through the gateway with 10,000 trees loaded
 * (through the API, by engineers, as real content would arrive):
 *   npm run bench:trees           (BENCH_TREES, BENCH_SECONDS, BENCH_WORKERS to change it)
 */
import { startSystemWithAdmin } from "@tdt/test-support/system";
import { load, printTable } from "./measure.js";
import { loadCorpus, searchRepeated, searchUnrepeated } from "./tree-corpus.js";

const treeCount = Number(process.env.BENCH_TREES ?? 10_000);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const workers = Number(process.env.BENCH_WORKERS ?? 16);

const { client, admin, stop } = await startSystemWithAdmin({ LOG_LEVEL: "warn" });
try {
  const reader = (await client.user("reader")).tokens.access_token;

  const { ids, seconds: loadSeconds } = await loadCorpus(client, admin, treeCount);

  const getOne = await load({
    workers,
    seconds,
    setup: async (worker) => ({ worker, n: 0 }),
    step: async (state) => {
      const id = ids[(state.worker * 7919 + state.n++ * 104_729) % ids.length];
      return (await client.call("GET", `/api/v1/trees/${id}`, { token: reader })).status === 200;
    },
  });
  const search = await searchRepeated(client, reader, workers, seconds);
  const unrepeated = await searchUnrepeated(client, reader, workers, seconds);

  printTable(
    `Trees through the gateway: ${treeCount} trees (loaded in ${loadSeconds.toFixed(0)} s), ${workers} clients, ${seconds} s each`,
    [
      {
        measure: "GET /trees/{id}",
        "req/s": getOne.perSecond,
        "p50 ms": getOne.p50,
        "p95 ms": getOne.p95,
        "p99 ms": getOne.p99,
        failures: String(getOne.failures),
      },
      {
        measure: "GET /trees/search?q=word pref",
        "req/s": search.perSecond,
        "p50 ms": search.p50,
        "p95 ms": search.p95,
        "p99 ms": search.p99,
        failures: String(search.failures),
      },
      {
        measure: "GET /trees/search, never repeated",
        "req/s": unrepeated.perSecond,
        "p50 ms": unrepeated.p50,
        "p95 ms": unrepeated.p95,
        "p99 ms": unrepeated.p99,
        failures: String(unrepeated.failures),
      },
    ],
  );
} finally {
  await stop();
}
