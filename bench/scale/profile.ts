/**
 * Where a scale figure's time goes (issue 31: "each miss measured and explained with its
 * profile"): on a fraction loaded by `npm run bench:scale`, measures the chosen figures as the
 * bench does (16 clients through the gateway, its answer cache off), with the CPU each request
 * costs in every process (bench/cpu.ts: the services, NATS, their databases' Postgres backends)
 * and a V8 CPU profile of each service, whose hottest functions are printed at the end.
 *
 *   npx tsx bench/scale/profile.ts 0.1 "analytics"        the figures whose name matches
 *   npx tsx bench/scale/profile.ts 1 "search|PDF, 1 client"
 *
 * Profile one figure a run when its hottest functions are the point: the profiles cover every
 * figure measured after the first began. SCALE_SECONDS (default 10) sets each figure's length;
 * profiles are kept in /tmp/tdt-scale-profile-<time>/.
 */
import { mkdirSync } from "node:fs";
import { cpuMeter, stackProcesses } from "../cpu.js";
import { printProfiles, profileClock } from "../profile-summary.js";
import { measureFigures } from "./figures.js";
import { finishedLoad, prefixOf } from "./load.js";
import { databaseNames, startScaleSystemPatiently } from "./system.js";

const [fractionArgument, pattern] = process.argv.slice(2);
const fraction = Number(fractionArgument);
if (!(fraction > 0 && fraction <= 1) || !pattern) {
  throw new Error('usage: npx tsx bench/scale/profile.ts FRACTION "FIGURE NAME PATTERN"');
}
const chosen = new RegExp(pattern, "i");
const seconds = Number(process.env.SCALE_SECONDS ?? 10);
const prefix = prefixOf(fraction);
const record = await finishedLoad(prefix);
if (!record)
  throw new Error(`no finished load in ${prefix}*: run SCALE_FRACTIONS=${fraction} npm run bench:scale first`);

const profileDir = `/tmp/tdt-scale-profile-${new Date().toISOString().replace(/[:.]/g, "-")}`;
mkdirSync(profileDir, { recursive: true });
const system = await startScaleSystemPatiently(prefix, { TDT_CPU_PROF_DIR: profileDir });
const databases = databaseNames(prefix);
const processes = stackProcesses(system.stack.processes, {
  auth: databases.auth,
  trees: databases.trees,
  sessions: databases.sessions,
  hooks: databases.hooks,
});

let measuringFrom = 0;
const meters: Array<{ name: string; meter: ReturnType<typeof cpuMeter> }> = [];
let figures: Awaited<ReturnType<typeof measureFigures>>;
try {
  figures = await measureFigures(system, record, seconds, {
    only: (name) => chosen.test(name),
    probe: (name) => {
      const meter = cpuMeter(processes);
      meters.push({ name, meter });
      return {
        start: () => {
          if (measuringFrom === 0) measuringFrom = profileClock();
          meter.start();
        },
        stop: () => meter.stop(),
      };
    },
  });
} finally {
  await system.stop();
}

for (const { name, meter } of meters) {
  const requests = figures.find((figure) => figure.name === name)?.result.requests ?? 0;
  if (requests === 0) continue;
  const perRequest = (millis: number) => (millis / requests).toFixed(2);
  const shares = [...meter.byLabel]
    .filter(([, millis]) => millis > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([label, millis]) => `${label} ${perRequest(millis)}`)
    .join(", ");
  console.log(`\n${name}: ${requests} requests, CPU ms per request ${perRequest(meter.millis)}: ${shares}`);
}
printProfiles(profileDir, measuringFrom);
console.log(`\nprofiles in ${profileDir}`);
