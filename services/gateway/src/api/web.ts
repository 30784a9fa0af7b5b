/**
 * The reference web app (services/web) at `/`: the page and its assets, read once from the
 * built folder. The app routes by hash; the page is also served at the paths mailed links open
 * (auth writes them, the app's router reads them), and any other path stays a 404.
 * Its pages get a stricter policy than the API docs: scripts and styles from this origin only.
 */
import { readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import type { FastifyInstance } from "fastify";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

/** The app's pages a mailed link opens: `PUBLIC_URL/verify-email?token=…` and so on. */
export const MAILED_LINK_PAGES = ["/verify-email", "/reset-password", "/accept-invite", "/forgot-password"];

export const WEB_APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Serves the files of `root` (none when undefined or empty), index.html also at `/`. */
export async function registerWebApp(app: FastifyInstance, root: string | undefined): Promise<void> {
  if (!root) return;
  const entries = await readdir(root, { withFileTypes: true });
  for (const entry of entries) {
    const type = CONTENT_TYPES[extname(entry.name)];
    if (!entry.isFile() || !type) continue;
    const content = await readFile(join(root, entry.name));
    const paths = entry.name === "index.html" ? ["/", "/index.html", ...MAILED_LINK_PAGES] : [`/${entry.name}`];
    for (const url of paths) {
      app.get(url, { schema: { hide: true } }, async (_request, reply) =>
        reply
          .type(type)
          // Always revalidated: a new build is picked up on the next load (the names carry no hash).
          .header("cache-control", "no-cache")
          .header("content-security-policy", WEB_APP_CSP)
          .send(content),
      );
    }
  }
}
