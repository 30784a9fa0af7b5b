/**
 * The trees a session runs on, in its language (docs/decisions/logic-forms-media-languages.md):
 * a pinned version keeps the translations it was published with, and a session sees each text in
 * its locale where the version has it, in the tree's own language elsewhere.
 */
import { type LocaleTexts, localizedNodes, textKey } from "@tdt/proto/contracts/tree-languages";
import { Tree, type VersionTranslation } from "@tdt/proto/tdt/trees/v1/trees";

/** A pinned version as the sessions service keeps it: the tree and its translations by locale. */
export type PinnedTree = Tree & { localized?: Record<string, LocaleTexts> };

/** The version with the translations the trees service answered beside it. */
export function pinnedWith(tree: Tree, translations: readonly VersionTranslation[] = []): PinnedTree {
  if (translations.length === 0) return tree;
  const localized: Record<string, LocaleTexts> = {};
  for (const { locale, texts } of translations) {
    localized[locale] = Object.fromEntries(texts.map((text) => [textKey(text), text.text]));
  }
  return { ...tree, localized };
}

/** A kept copy as read back: a Tree (fields added since filled with their defaults) and its translations. */
export function pinnedFrom(document: PinnedTree): PinnedTree {
  const { localized, ...stored } = document;
  const tree = Tree.fromPartial(stored);
  return localized ? { ...tree, localized } : tree;
}

const shown = new WeakMap<Tree, Map<string, Tree>>();

/** `tree` as a session in `locale` sees it (the same object when the version has no such translation). */
export function inLocale(tree: PinnedTree, locale: string): Tree {
  const texts = tree.localized && Object.hasOwn(tree.localized, locale) ? tree.localized[locale] : undefined;
  if (!texts) return tree;
  let byLocale = shown.get(tree);
  if (!byLocale) {
    byLocale = new Map();
    shown.set(tree, byLocale);
  }
  let localized = byLocale.get(locale);
  if (!localized) {
    localized = { ...tree, nodes: localizedNodes(tree.nodes, texts) };
    byLocale.set(locale, localized);
  }
  return localized;
}
