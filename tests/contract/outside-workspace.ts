/**
 * An empty folder outside the repository, as a frontend team's project starts: its own
 * package.json and a strict tsconfig, packages installed from the registry (or npm's cache),
 * and nothing of the repository's configuration, node_modules or environment.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Finished, runToEnd } from "@tdt/test-support/run-to-end";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * The environment without what npm sets for the scripts it runs (`npm test` runs this): a nested
 * npm would otherwise read the workspace's settings from it.
 */
function cleanEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && name !== "INIT_CWD"),
  );
}

/** Runs a command in `cwd` to its end, without npm's variables: exit code and everything it printed. */
export function run(command: string, args: string[], cwd: string): Promise<Finished> {
  return runToEnd(command, args, { cwd, env: cleanEnvironment() });
}

/** The version of a package the repository installed: the nested install then finds it in npm's cache. */
export async function installedVersion(name: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(ROOT, "node_modules", name, "package.json"), "utf8"));
  return String(manifest.version);
}

/** A frontend's tsconfig: strict, for the browser, as bundlers and `tsc --init` set it up. */
const TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    lib: ["ES2023", "DOM"],
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    noEmit: true,
    skipLibCheck: true,
  },
  include: ["*.ts"],
};

export interface Project {
  folder: string;
  /** Installs packages (names, tarball paths) with npm as a developer would, from the cache when it has them. */
  install(...packages: string[]): Promise<void>;
  /** Runs a command the project installed (`tsc`, `openapi-typescript`). */
  bin(name: string, args: string[]): Promise<Finished>;
  remove(): Promise<void>;
}

/** A new project in an empty folder of the system's temp directory. */
export async function emptyProject(name: string): Promise<Project> {
  const folder = await mkdtemp(join(tmpdir(), `${name}-`));
  // Nothing above the folder may help: no package.json, tsconfig or node_modules on the way up.
  for (let above = dirname(folder); above !== dirname(above); above = dirname(above)) {
    for (const helper of ["package.json", "tsconfig.json", "node_modules"]) {
      if (existsSync(join(above, helper))) throw new Error(`${join(above, helper)} would help ${folder}`);
    }
  }
  await writeFile(
    join(folder, "package.json"),
    `${JSON.stringify({ name, private: true, type: "module" }, null, 2)}\n`,
  );
  await writeFile(join(folder, "tsconfig.json"), `${JSON.stringify(TSCONFIG, null, 2)}\n`);
  return {
    folder,
    async install(...packages) {
      const installed = await run(
        "npm",
        ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", ...packages],
        folder,
      );
      if (installed.code !== 0) throw new Error(`npm install ${packages.join(" ")} failed:\n${installed.output}`);
    },
    bin: (command, args) => run(join(folder, "node_modules", ".bin", command), args, folder),
    remove: () => rm(folder, { recursive: true, force: true }),
  };
}
