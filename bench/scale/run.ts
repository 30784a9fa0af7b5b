/**
 * `npm run bench:scale` (issue 31): loads 10 % and then 100 % of the issue's data (100,000 trees,
 * a million sessions, ten million step events) into databases of their own (tdt_scale10_*,
 * tdt_scale100_*), checks a sample back through the API, measures every figure of the issue
 * through the gateway with 16 clients, prints one table with both columns and the ratio, and
 * writes it to docs/benchmarks.md ("## At scale (issue 31)").
 *
 *   SCALE_FRACTIONS=0.1,1   the fractions to load and measure (default)
 *   SCALE_SECONDS=10        seconds per figure
 *   SCALE_KEEP=1            reuse a fraction's databases when a finished load is recorded in them
 *   SCALE_REUSE_FIGURES=1   with SCALE_KEEP=1: the figures last measured on each load, not measured again
 *   SCALE_DOCS=0            print only, leave docs/benchmarks.md alone
 */
import { execSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import postgres from "postgres";
import { checkLoad } from "./check.js";
import { type Figure, measureFigures } from "./figures.js";
import { finishedLoad, type LoadRecord, load, prefixOf } from "./load.js";
import { databaseNames, ownerUrl, startScaleSystemPatiently } from "./system.js";

const fractions = (process.env.SCALE_FRACTIONS ?? "0.1,1")
  .split(",")
  .map(Number)
  .filter((f) => f > 0 && f <= 1);
const seconds = Number(process.env.SCALE_SECONDS ?? 10);
const keep = process.env.SCALE_KEEP === "1";
const writeDocs = process.env.SCALE_DOCS !== "0";

interface Column {
  fraction: number;
  record: LoadRecord;
  reused: boolean;
  check: string;
  figures: Figure[];
}

const percent = (fraction: number) => `${+(fraction * 100).toFixed(3)} %`;
const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : "—");

async function runFraction(fraction: number): Promise<Column> {
  const prefix = prefixOf(fraction);
  let record = keep ? await finishedLoad(prefix) : undefined;
  const reused = record !== undefined;
  if (record) console.log(`\n${percent(fraction)}: reusing the load of ${record.loaded_at} in ${prefix}*`);
  else {
    console.log(`\n${percent(fraction)}: loading into ${prefix}*`);
    record = await load(fraction);
  }
  if (process.env.SCALE_REUSE_FIGURES === "1") {
    const saved = await savedFigures(prefix);
    if (saved) {
      console.log(`${percent(fraction)}: the figures measured at ${saved.at}`);
      return { fraction, record, reused, check: saved.check, figures: saved.figures };
    }
  }
  const system = await startScaleSystemPatiently(prefix);
  running = system;
  try {
    const check = await checkLoad(system, record, prefix);
    console.log(check);
    const figures = await measureFigures(system, record, seconds);
    await saveFigures(prefix, figures, check);
    return { fraction, record, reused, check, figures };
  } finally {
    running = undefined;
    await system.stop();
  }
}

/** The system of the fraction being measured: stopped (with its NATS) when the run is interrupted. */
let running: { stop(): Promise<void> } | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the services`);
    void (running?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

/** Keeps a fraction's figures beside its load (`<prefix>bench.scale_figures`), in case the run stops after them. */
async function saveFigures(prefix: string, figures: Figure[], check: string): Promise<void> {
  const sql = postgres(ownerUrl(databaseNames(prefix).bench), { max: 1, onnotice: () => {} });
  try {
    await sql`create table if not exists scale_figures (
      measured_at timestamptz not null default now(), check_result text not null, figures jsonb not null)`;
    await sql`insert into scale_figures (check_result, figures) values (${check}, ${sql.json(figures as never)})`;
  } finally {
    await sql.end();
  }
}

/** The figures last measured on a fraction's load (SCALE_REUSE_FIGURES=1: the table again without measuring). */
async function savedFigures(prefix: string): Promise<{ at: string; check: string; figures: Figure[] } | undefined> {
  const sql = postgres(ownerUrl(databaseNames(prefix).bench), { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ at: Date; check_result: string; figures: Figure[] }[]>`
      select measured_at as at, check_result, figures from scale_figures order by measured_at desc limit 1`.catch(
      () => [],
    );
    return row && { at: row.at.toISOString(), check: row.check_result, figures: row.figures };
  } finally {
    await sql.end();
  }
}

function table(columns: Column[]): string {
  // Every fraction measures the same figures in the same order.
  const names = columns[columns.length - 1]?.figures.map((figure) => figure.name) ?? [];
  const header = [
    "figure (16 clients)",
    ...columns.map((c) => `${percent(c.fraction)}: p50 / p95 / p99 ms (req/s)`),
    ...(columns.length === 2 ? ["p95 100 %/10 %"] : []),
    "goal p95",
    "met",
    "how",
  ];
  const rows = names.map((name, index) => {
    const figures = columns.map((c) => c.figures[index] as Figure);
    const last = figures[figures.length - 1] as Figure;
    const cells = figures.map(
      (f) =>
        `${ms(f.result.p50)} / ${ms(f.result.p95)} / ${ms(f.result.p99)} (${f.result.perSecond.toFixed(0)})${f.result.failures ? `, ${f.result.failures} failed` : ""}`,
    );
    const ratio =
      figures.length === 2 ? [((figures[1] as Figure).result.p95 / (figures[0] as Figure).result.p95).toFixed(2)] : [];
    const goal = last.goal ? `≤ ${last.goal.p95}` : "—";
    const met = last.goal ? (last.result.p95 <= last.goal.p95 && last.result.failures === 0 ? "yes" : "NO") : "";
    const how = [...new Set(figures.map((f) => f.note).filter(Boolean))].join("; ");
    return [name, ...cells, ...ratio, goal, met, how];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function loadTable(columns: Column[]): string {
  const keys = [
    "trees",
    "tree_versions",
    "sessions",
    "session_steps",
    "step_events",
    "analytics_entries",
    "analytics_stays",
    "tree_snapshots",
  ];
  const header = ["load", ...columns.map((c) => percent(c.fraction))];
  const rows: string[][] = keys.map((key) => [
    `${key} rows`,
    ...columns.map((c) => (c.record.rows[key] ?? 0).toLocaleString("en")),
  ]);
  for (const key of [
    "migrate",
    "auth",
    "generated_and_copied",
    "tree_versions_vectors",
    "trees_and_sessions",
    "analyze",
    "total",
  ]) {
    rows.push([`${key} s`, ...columns.map((c) => String(c.record.seconds[key] ?? "—"))]);
  }
  rows.push([
    "database size GiB (auth, trees, sessions)",
    ...columns.map((c) =>
      ["auth", "trees", "sessions"].map((k) => ((c.record.bytes[k] ?? 0) / 2 ** 30).toFixed(2)).join(", "),
    ),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function writeSection(columns: Column[], figures: string, loads: string): void {
  const path = new URL("../../docs/benchmarks.md", import.meta.url);
  const commit = (() => {
    try {
      return execSync("git rev-parse --short HEAD", { encoding: "utf8" }).trim();
    } catch {
      return "unknown";
    }
  })();
  const now = new Date().toISOString().slice(0, 16).replace("T", " ");
  const section = `## At scale (issue 31)

\`npm run bench:scale\` (${now} UTC, main at \`${commit}\` with uncommitted work, ${cpus().length} cores,
${Math.round(totalmem() / 2 ** 30)} GiB, PostgreSQL and every process on the one machine, shared with other work).
\`bench/scale/load.ts\` loads each fraction with COPY into databases of its own (\`tdt_scale10_*\`,
\`tdt_scale100_*\`): two organizations, 2,000 technicians, trees of 10–300 nodes with 1–5 versions,
sessions walked by the sessions service's own step engine, and the analytics projection of their
step events; then a sample is read back through the API and compared with the same tree and
sessions sent through the real write path (${columns.map((c) => `${percent(c.fraction)}: ${c.check.replace("read-back check: ", "")}`).join("; ")}).
Every figure through the gateway, 16 clients, ${seconds} s each, with the gateway's answer cache
off (\`GATEWAY_CACHE_MB=0\`: every request reaches the services and Postgres). In the last column,
\`load\` is the machine's one-minute load average as each figure ended (other work shared the two
cores), and \`failed\` counts the answers other than 200 by status and code (504
\`deadline_exceeded\`: past the gateway's gRPC deadline; 429 \`rate_limited\`: the PDF pool's share
of one organization). \`npx tsx bench/scale/explain.ts 1\` prints the plans of the services' slow
statements on a loaded fraction (auto_explain); \`npx tsx bench/scale/profile.ts 1 "search"\`
measures a figure with its CPU per request in every process and each service's hottest functions.
\`SCALE_FRACTIONS\`, \`SCALE_SECONDS\`, \`SCALE_KEEP=1\` (reuse loaded databases) change it.

${figures}

${loads}
`;
  const text = readFileSync(path, "utf8");
  const start = text.indexOf("## At scale (issue 31)");
  let next = start >= 0 ? text.indexOf("\n## ", start + 5) : -1;
  if (start >= 0 && next < 0) next = text.length;
  const updated =
    start >= 0
      ? `${text.slice(0, start)}${section}${text.slice(next).replace(/^\n+/, "\n")}`
      : (() => {
          // Before the per-service sections: after the issue-12 comparison and its notes.
          const at = text.indexOf("\n## The organization wall");
          return at >= 0
            ? `${text.slice(0, at + 1)}${section}\n${text.slice(at + 1)}`
            : `${text.trimEnd()}\n\n${section}`;
        })();
  writeFileSync(path, updated);
  console.log(`\nwrote "## At scale (issue 31)" in docs/benchmarks.md`);
}

const columns: Column[] = [];
for (const fraction of fractions) {
  columns.push(await runFraction(fraction));
  const figures = table(columns);
  const loads = loadTable(columns);
  console.log(`\n${figures}\n\n${loads}`);
  if (writeDocs) writeSection(columns, figures, loads);
}
process.exit(0);
