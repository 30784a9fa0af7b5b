import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { DEFAULT_ORGANIZATION_ID, type Logger } from "@tdt/kit";
import { type TranslatedText, TreeInput } from "@tdt/proto/tdt/trees/v1/trees";
import { sanitiseImage } from "./media/sanitise.js";
import type { MediaStore } from "./media/store.js";
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

/** How a demo tree names a demo image in a node body: `media:demo/<file in demo/media>`. */
const DEMO_MEDIA = /media:demo\/([A-Za-z0-9._-]+)/g;

/** A demo file's own translations: by locale, the texts a translation sets (`tdt.trees.v1.TranslatedText`). */
type DemoTranslations = Record<
  string,
  Array<Pick<TranslatedText, "node_id" | "field" | "text"> & { item_id?: string }>
>;

/** `text` with each demo image reference made one to the stored image's id. */
function resolveDemoMedia(text: string, idOf: Map<string, string>): string {
  return text.replace(DEMO_MEDIA, (whole, file: string) => {
    const id = idOf.get(file);
    return id ? `media:${id}` : whole;
  });
}

/** The demo images (demo/media), sanitised as an upload is and stored: their ids by file name. */
async function storeDemoImages(media: MediaStore, maxBytes: number): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  const files = await readdir(`${DEMO_DIR}/media`).catch(() => [] as string[]);
  for (const file of files.sort()) {
    const outcome = await sanitiseImage(await readFile(`${DEMO_DIR}/media/${file}`), { maxBytes });
    if (outcome.kind !== "sanitised") throw new Error(`demo image ${file} is refused: ${outcome.code}`);
    ids.set(file, (await media.put(DEFAULT_ORGANIZATION_ID, outcome.image, SYSTEM_AUTHOR)).id);
  }
  return ids;
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
export async function loadDemoTrees(
  within: WithinOrganization,
  log: Logger,
  images?: { media: MediaStore; maxBytes: number },
): Promise<number> {
  if (!(await within(DEFAULT_ORGANIZATION_ID, ({ store }) => store.isEmpty()))) return 0;
  // Stored before the trees that show them (an image stored twice is one image: its address is its content).
  const mediaIds = images ? await storeDemoImages(images.media, images.maxBytes) : new Map<string, string>();
  const files = (await readdir(DEMO_DIR)).filter((name) => name.endsWith(".json")).sort();
  const inputs = new Map<string, TreeInput>();
  const translations = new Map<string, DemoTranslations>();
  for (const file of files) {
    const raw = JSON.parse(resolveDemoMedia(await readFile(`${DEMO_DIR}/${file}`, "utf8"), mediaIds));
    inputs.set(file.replace(/\.json$/, ""), TreeInput.fromPartial(raw));
    if (raw.translations) translations.set(file.replace(/\.json$/, ""), raw.translations as DemoTranslations);
  }
  const loaded = await within(DEFAULT_ORGANIZATION_ID, async ({ store, sql, translations: translating }) => {
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
      const created = await store.create(input, SYSTEM_AUTHOR);
      ids.set(name, created.id);
      // Its translations, then a second version that carries them (a version is published with
      // the translations it has).
      const translated = Object.entries(translations.get(name) ?? {});
      for (const [locale, texts] of translated) {
        const set = texts.map((text) => ({ ...text, item_id: text.item_id ?? "" }));
        await translating.set(created.id, locale, set, SYSTEM_AUTHOR);
      }
      if (translated.length > 0) await store.replace(created.id, created.version, input, SYSTEM_AUTHOR);
    }
    return files.length;
  });
  if (loaded > 0) log.info({ trees: loaded }, "demo trees loaded");
  return loaded;
}
