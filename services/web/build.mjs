// The browser bundle: src/main.ts (with the typed client) as one ES module, beside the static
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
  outfile: here("dist/app.js"),
  logLevel: "warning",
});
for (const file of ["index.html", "app.css"]) await copyFile(here(`static/${file}`), here(`dist/${file}`));
