/**
 * Applies our fixes to installed dependencies: each `patches/<name>@<version>.patch` is a
 * unified diff against that package's folder (`patch -p1` reads it too). Run by the root
 * `postinstall` and by the Dockerfiles, which install with --ignore-scripts. Plain Node with no
 * dependencies, because it runs before anything is built.
 *
 * Idempotent: a hunk already applied is left alone. Fails loudly, so that nothing runs unpatched
 * by accident: when the installed version is not the one a patch was written for (see whether
 * the new version fixes the bug upstream, then rewrite or delete the patch), or when a hunk
 * matches nothing.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const PATCHES = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(PATCHES);

/** A unified diff as files, each with hunks of old and new text. */
function parsePatch(text) {
  const files = [];
  let hunk;
  for (const line of text.split("\n")) {
    if (line.startsWith("--- ")) continue;
    if (line.startsWith("+++ ")) {
      files.push({ path: line.slice(4).replace(/^b\//, "").trim(), hunks: [] });
    } else if (line.startsWith("@@")) {
      hunk = { old: [], new: [] };
      files.at(-1).hunks.push(hunk);
    } else if (hunk && line.startsWith("-")) {
      hunk.old.push(line.slice(1));
    } else if (hunk && line.startsWith("+")) {
      hunk.new.push(line.slice(1));
    } else if (hunk && line.startsWith(" ")) {
      hunk.old.push(line.slice(1));
      hunk.new.push(line.slice(1));
    }
  }
  return files;
}

function occurrences(text, part) {
  return text.split(part).length - 1;
}

/** Every copy of the package the install put down: at the root and under each workspace. */
function installedCopies(name) {
  const workspaces = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).workspaces ?? [];
  return ["", ...workspaces]
    .map((folder) => join(ROOT, folder, "node_modules", name))
    .filter((folder) => existsSync(join(folder, "package.json")));
}

function applyTo(folder, files, label) {
  let changed = 0;
  for (const file of files) {
    const path = join(folder, file.path);
    let text = readFileSync(path, "utf8");
    for (const hunk of file.hunks) {
      const before = `${hunk.old.join("\n")}\n`;
      const after = `${hunk.new.join("\n")}\n`;
      if (occurrences(text, after) === 1) continue;
      if (occurrences(text, before) !== 1) {
        throw new Error(`${label}: a hunk of ${file.path} does not match ${path}`);
      }
      text = text.replace(before, () => after);
      changed++;
    }
    writeFileSync(path, text);
  }
  return changed;
}

for (const patch of readdirSync(PATCHES).filter((name) => name.endsWith(".patch"))) {
  const [, name, version] = /^(.+)@([^@]+)\.patch$/.exec(patch) ?? [];
  if (!name) throw new Error(`${patch}: name it <package>@<version>.patch`);
  const copies = installedCopies(name);
  if (copies.length === 0) throw new Error(`${patch}: ${name} is not installed`);
  const files = parsePatch(readFileSync(join(PATCHES, patch), "utf8"));
  for (const folder of copies) {
    const installed = JSON.parse(readFileSync(join(folder, "package.json"), "utf8")).version;
    if (installed !== version) {
      throw new Error(
        `${patch}: ${name}@${installed} is installed at ${folder}, but the patch was written for ${version}`,
      );
    }
    const changed = applyTo(folder, files, patch);
    console.log(`${patch}: ${changed === 0 ? "already applied" : `applied ${changed} hunks`} in ${folder}`);
  }
}
