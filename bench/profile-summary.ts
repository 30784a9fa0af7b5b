/**
 * A V8 CPU profile (`node --cpu-prof`) as the functions that took the most time themselves
 * (self time), each with its share of the busy samples (idle ones left out: a process of the
 * benchmark waits most of the run, e.g. while the other server is measured): what
 * `BENCH_PROFILE` prints per process.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  /** Microseconds of the monotonic clock (as `process.hrtime`'s), and between samples. */
  startTime: number;
  timeDeltas: number[];
}

export interface HotFunction {
  name: string;
  where: string;
  percent: number;
}

/** Where a function lives, shortened: the package or the repository path and the line. */
function placeOf(url: string, line: number): string {
  if (!url) return "";
  const path = url.replace(/^file:\/\//, "");
  const modules = path.lastIndexOf("node_modules/");
  const short =
    modules >= 0 ? path.slice(modules + "node_modules/".length) : path.replace(/^.*?\/(services|bench)\//, "$1/");
  return `${short}:${line + 1}`;
}

/** Now on the clock of a profile's timestamps (microseconds of the monotonic clock). */
export function profileClock(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * The `count` functions with the most self time in `file`, counting only samples from `fromMicros`
 * on (`profileClock()` when the measuring began: start-up compiles schemas and loads modules).
 */
export function hottestFunctions(
  file: string,
  count = 15,
  fromMicros = 0,
): { samples: number; busy: number; functions: HotFunction[] } {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfSamples = new Map<string, { name: string; where: string; samples: number }>();
  let at = profile.startTime;
  let counted = 0;
  for (const [index, id] of profile.samples.entries()) {
    at += profile.timeDeltas[index] ?? 0;
    if (at < fromMicros) continue;
    counted += 1;
    const node = byNode.get(id);
    if (!node) continue;
    const name = node.callFrame.functionName || "(anonymous)";
    if (name === "(idle)") continue;
    const where = placeOf(node.callFrame.url, node.callFrame.lineNumber);
    const key = `${name} ${where}`;
    const entry = selfSamples.get(key) ?? { name, where, samples: 0 };
    entry.samples += 1;
    selfSamples.set(key, entry);
  }
  const busy = [...selfSamples.values()].reduce((sum, entry) => sum + entry.samples, 0);
  const functions = [...selfSamples.values()]
    .sort((a, b) => b.samples - a.samples)
    .slice(0, count)
    .map(({ name, where, samples }) => ({ name, where, percent: Number(((100 * samples) / busy).toFixed(1)) }));
  return { samples: counted, busy, functions };
}

/**
 * Prints the hottest functions of each process that wrote its profiles into `dir/<process>/`
 * (TDT_CPU_PROF_DIR), from the main thread's profile (the one with the most samples), counting
 * samples from `fromMicros` on.
 */
export function printProfiles(dir: string, fromMicros: number, count = 15): void {
  for (const name of readdirSync(dir)) {
    const files = readdirSync(join(dir, name)).map((file) => join(dir, name, file));
    const main = files
      .map((file) => ({ file, summary: hottestFunctions(file, count, fromMicros) }))
      .sort((a, b) => b.summary.samples - a.summary.samples)[0];
    if (!main) continue;
    const { samples, busy, functions } = main.summary;
    console.log(`\n${name}: ${busy} busy of ${samples} samples while measuring; share of the busy ones by self time:`);
    for (const { name: fn, where, percent } of functions)
      console.log(`${String(percent).padStart(5)}%  ${fn}  ${where}`);
  }
}

// As a command: `npx tsx bench/profile-summary.ts FILE [COUNT]`.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ""))) {
  const [file, count] = process.argv.slice(2);
  if (!file) throw new Error("usage: profile-summary.ts FILE.cpuprofile [COUNT]");
  const { samples, busy, functions } = hottestFunctions(file, Number(count ?? 15));
  console.log(`${file}: ${busy} busy of ${samples} samples; share of the busy ones by self time:`);
  for (const { name, where, percent } of functions) console.log(`${String(percent).padStart(5)}%  ${name}  ${where}`);
}
