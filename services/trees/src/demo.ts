import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { DEFAULT_ORGANIZATION_ID, type Logger } from "@tdt/kit";
import { TreeInput } from "@tdt/proto/tdt/trees/v1/trees";
import type { WithinOrganization } from "./organization-scope.js";
import { assertValidTree } from "./validation.js";

/** The author recorded on demo content: no user, the system itself. */
export const SYSTEM_AUTHOR = "00000000-0000-0000-0000-000000000000";

const DEMO_DIR = fileURLToPath(new URL("../demo", import.meta.url));

/** How a demo tree names another demo tree in a link: `demo:<file name without .json>`. */
const DEMO_LINK = /^demo:(.+)$/;

/** The demo trees another links to, by file: loaded first, so that their ids are known. */
export function demoLinkTargets(input: TreeInput): string[] {
  return input.nodes.flatMap((node) => {
    const target = node.tree_id ? DEMO_LINK.exec(node.tree_id)?.[1] : undefined;
    return target ? [target] : [];
  });
}

/** `input` with each `demo:<name>` link replaced by the id `idOf` gives that demo tree. */
export function resolveDemoLinks(input: TreeInput, idOf: (name: string) => string): TreeInput {
  return {
    ...input,
    nodes: input.nodes.map((node) => {
      const target = node.tree_id ? DEMO_LINK.exec(node.tree_id)?.[1] : undefined;
      return target ? { ...node, tree_id: idOf(target) } : node;
    }),
  };
}

/**
 * Loads the demo trees into the default organization when it has no tree at all, so a newcomer
 * has something to run: those others link to first (the shared sub-tree), then the rest with
 * their links resolved to the ids just made. In one transaction under an advisory lock: replicas
 * starting together load them once.
 */
export async function loadDemoTrees(within: WithinOrganization, log: Logger): Promise<number> {
  const files = (await readdir(DEMO_DIR)).filter((name) => name.endsWith(".json")).sort();
  const inputs = new Map<string, TreeInput>();
  for (const file of files) {
    inputs.set(
      file.replace(/\.json$/, ""),
      TreeInput.fromPartial(JSON.parse(await readFile(`${DEMO_DIR}/${file}`, "utf8"))),
    );
  }
  const loaded = await within(DEFAULT_ORGANIZATION_ID, async ({ store, sql }) => {
    await sql`select pg_advisory_xact_lock(7317004)`;
    if (!(await store.isEmpty())) return 0;
    const linked = new Set([...inputs.values()].flatMap(demoLinkTargets));
    const ids = new Map<string, string>();
    const order = [...inputs.keys()].sort((a, b) => Number(linked.has(b)) - Number(linked.has(a)));
    for (const name of order) {
      const input = resolveDemoLinks(inputs.get(name) as TreeInput, (target) => {
        const id = ids.get(target);
        if (!id) throw new Error(`demo tree ${name} links to ${target}, which is not a demo tree others link to first`);
        return id;
      });
      assertValidTree(input);
      ids.set(name, (await store.create(input, SYSTEM_AUTHOR)).id);
    }
    return files.length;
  });
  if (loaded > 0) log.info({ trees: loaded }, "demo trees loaded");
  return loaded;
}
