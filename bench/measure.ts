/** Small measuring helpers for the benchmarks: latency percentiles and a fixed-duration load. */

export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return Number.NaN;
  const index = Math.min(sortedMs.length - 1, Math.ceil((p / 100) * sortedMs.length) - 1);
  return sortedMs[Math.max(0, index)] as number;
}

/** Something that watches a load's steps alone, not its setup (the CPU they cost). */
export interface Probe {
  start(): void;
  stop(): Promise<void>;
}

export interface LoadResult {
  requests: number;
  failures: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
}

/**
 * Runs `workers` loops of `step` for `seconds`, each loop with its own state, and reports the
 * throughput and latency of the steps that succeeded.
 */
export async function load<S>(options: {
  workers: number;
  seconds: number;
  setup: (worker: number) => Promise<S>;
  step: (state: S) => Promise<boolean>;
  /** Told when the steps start (after every setup) and when they are done (bench/cpu.ts). */
  probe?: Probe | undefined;
}): Promise<LoadResult> {
  const states = await Promise.all(Array.from({ length: options.workers }, (_, i) => options.setup(i)));
  options.probe?.start();
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  await Promise.all(
    states.map(async (state) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const ok = await options.step(state).catch(() => false);
        if (ok) latencies.push(performance.now() - t0);
        else failures += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await options.probe?.stop();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    failures,
    seconds,
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
  };
}

export function printTable(title: string, rows: Array<Record<string, string | number>>): void {
  const columns = Object.keys(rows[0] ?? {});
  const cell = (value: string | number) => (typeof value === "number" ? value.toFixed(1) : value);
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => cell(row[column] ?? "").length)));
  const line = (values: string[]) => `| ${values.map((value, i) => value.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  console.log(`\n${title}\n`);
  console.log(line(columns));
  console.log(line(widths.map((width) => "-".repeat(width))));
  for (const row of rows) console.log(line(columns.map((column) => cell(row[column] ?? ""))));
}
