// The browser bundle: src/main.ts (with the typed client) as an ES module and the chunks it loads, beside the static
// page and style sheet, in dist/, which the gateway (WEB_ROOT) or the web container serves.
import { copyFile, mkdir, rm } from "node:fs/promises";
import { build } from "esbuild";

const here = (path) => new URL(path, import.meta.url).pathname;

await rm(here("dist"), { recursive: true, force: true });
await mkdir(here("dist"), { recursive: true });
await build({
  entryPoints: [here("src/main.ts")],
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: "linked",
  // What only some screens need (the analytics' charts) in chunks of their own, loaded when shown.
  splitting: true,
  outdir: here("dist"),
  entryNames: "app",
  chunkNames: "chunk-[hash]",
  logLevel: "warning",
});
for (const file of ["index.html", "app.css"]) await copyFile(here(`static/${file}`), here(`dist/${file}`));
