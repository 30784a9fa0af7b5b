/**
 * Sessions benchmark: answering steps through the gateway (PUT /sessions/{id}), each client
 * walking its own session down a 20-question tree and starting a new one at the end:
 *   npm run bench:sessions        (BENCH_SECONDS, BENCH_WORKERS to change the load)
 */
import { startSystemWithAdmin } from "@tdt/test-support/system";
import { load, printTable } from "./measure.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const workers = Number(process.env.BENCH_WORKERS ?? 16);
const QUESTIONS = 20;

const nodes = [
  ...Array.from({ length: QUESTIONS }, (_, i) => ({
    id: `q${i}`,
    type: "question",
    title: `Check number ${i}: is it fine?`,
    body: "Look closely.",
    options: [
      { id: "yes", label: "Yes", next: i === QUESTIONS - 1 ? "fixed" : `q${i + 1}` },
      { id: "no", label: "No", next: i === QUESTIONS - 1 ? "fixed" : `q${i + 1}` },
    ],
  })),
  { id: "fixed", type: "solution", title: "Fixed", body: "", outcome: "resolved" },
];

const { client, admin, stop } = await startSystemWithAdmin({ LOG_LEVEL: "warn" });
try {
  const tree = await client.call<{ id: string }>("POST", "/api/v1/trees", {
    token: admin,
    json: { title: "Twenty questions", category: "Bench", status: "published", root_node_id: "q0", nodes },
  });
  if (tree.status !== 201) throw new Error(`tree: ${tree.status}`);

  interface Walker {
    token: string;
    session: string;
    step: number;
  }
  const startSession = async (walker: Walker) => {
    const started = await client.call<{ id: string }>("POST", "/api/v1/sessions", {
      token: walker.token,
      json: { tree_id: tree.body.id },
    });
    walker.session = started.body.id;
    walker.step = 0;
  };

  const answers = await load<Walker>({
    workers,
    seconds,
    setup: async () => {
      const walker = { token: (await client.user("walker")).tokens.access_token, session: "", step: 0 };
      await startSession(walker);
      return walker;
    },
    step: async (walker) => {
      if (walker.step === QUESTIONS) await startSession(walker);
      const response = await client.call("PUT", `/api/v1/sessions/${walker.session}`, {
        token: walker.token,
        json: { op: "answer", node_id: `q${walker.step}`, option_id: walker.step % 2 ? "yes" : "no", note: "ok" },
      });
      walker.step += 1;
      return response.status === 200;
    },
  });

  printTable(`Sessions through the gateway (${workers} concurrent technicians, ${seconds} s)`, [
    {
      measure: "PUT /sessions/{id} (answer)",
      "req/s": answers.perSecond,
      "p50 ms": answers.p50,
      "p99 ms": answers.p99,
      failures: answers.failures,
    },
  ]);
} finally {
  await stop();
}
