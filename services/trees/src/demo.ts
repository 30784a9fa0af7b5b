import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Logger, Sql } from "@tdt/kit";
import { TreeInput } from "@tdt/proto/tdt/trees/v1/trees";
import type { TreeStore } from "./tree-store.js";
import { assertValidTree } from "./validation.js";

/** The author recorded on demo content: no user, the system itself. */
export const SYSTEM_AUTHOR = "00000000-0000-0000-0000-000000000000";

const DEMO_DIR = fileURLToPath(new URL("../demo", import.meta.url));

/**
 * Loads the demo trees when the database has no tree at all, so a newcomer has something to
 * run. Under an advisory lock: replicas starting together load them once.
 */
export async function loadDemoTrees(sql: Sql, store: TreeStore, log: Logger): Promise<number> {
  const connection = await sql.reserve();
  try {
    await connection`select pg_advisory_lock(7317004)`;
    if (!(await store.isEmpty())) return 0;
    const files = (await readdir(DEMO_DIR)).filter((name) => name.endsWith(".json")).sort();
    for (const file of files) {
      const input = TreeInput.fromPartial(JSON.parse(await readFile(`${DEMO_DIR}/${file}`, "utf8")));
      assertValidTree(input);
      await store.create(input, SYSTEM_AUTHOR);
    }
    log.info({ trees: files.length }, "demo trees loaded");
    return files.length;
  } finally {
    await connection`select pg_advisory_unlock(7317004)`.catch(() => {});
    connection.release();
  }
}
