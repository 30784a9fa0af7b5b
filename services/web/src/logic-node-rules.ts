/**
 * A logic node's rules in the node form: an ordered list, each a condition (a CEL expression over
 * the tree's variables, e.g. `pages > 100`) and the node it leads to, moved up and down; and where
 * the session goes when no rule holds. The first rule that holds wins, so the order matters.
 */
import { h } from "./dom.js";
import { t } from "./i18n.js";
import type { NodeControls } from "./node-form.js";

type Rule = Record<string, unknown>;

export function logicRuleRows(
  node: Record<string, unknown>,
  { ids, input, target, change }: NodeControls,
): HTMLElement[] {
  const rules = Array.isArray(node.rules) ? (node.rules as Rule[]) : [];
  const setRules = (next: Rule[]) => change({ rules: next });
  const setRule = (i: number, patch: Rule) =>
    setRules(rules.map((rule, j) => (j === i ? { ...rule, ...patch } : rule)));
  /** The rules with the one at `i` swapped with its neighbour `by` away. */
  const move = (i: number, by: -1 | 1) => () => {
    const next = [...rules];
    const [rule] = next.splice(i, 1);
    if (rule) next.splice(i + by, 0, rule);
    setRules(next);
  };

  const row = (rule: Rule, i: number) =>
    h(
      "li",
      { class: "editor-row", "data-rule": String(i) },
      h("label", { for: `rule-when-${i}` }, t("logicRules.when", { number: i + 1 })),
      input(`rule-when-${i}`, rule.when, (when) => setRule(i, { when }), {
        class: "code",
        placeholder: t("logicRules.example"),
        spellcheck: "false",
        autocomplete: "off",
      }),
      h("label", { for: `rule-next-${i}` }, t("logicRules.goTo")),
      target(`rule-next-${i}`, rule.next, (next) => setRule(i, { next })),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            id: `rule-up-${i}`,
            class: "secondary",
            type: "button",
            disabled: i === 0,
            "aria-label": t("logicRules.upLabel", { number: i + 1 }),
            onclick: move(i, -1),
          },
          t("logicRules.up"),
        ),
        h(
          "button",
          {
            id: `rule-down-${i}`,
            class: "secondary",
            type: "button",
            disabled: i === rules.length - 1,
            "aria-label": t("logicRules.downLabel", { number: i + 1 }),
            onclick: move(i, 1),
          },
          t("logicRules.down"),
        ),
        h(
          "button",
          {
            id: `rule-remove-${i}`,
            class: "secondary",
            type: "button",
            onclick: () => setRules(rules.filter((_, j) => j !== i)),
          },
          t("common.remove"),
        ),
      ),
    );

  return [
    h("h3", {}, t("logicRules.title")),
    h("p", { class: "muted" }, t("logicRules.intro")),
    h("ol", { class: "editor-rows", id: "node-rules" }, ...rules.map(row)),
    h(
      "button",
      {
        id: "add-rule",
        class: "secondary",
        type: "button",
        onclick: () => setRules([...rules, { when: "", next: ids[0] ?? "" }]),
      },
      t("logicRules.add"),
    ),
    h("label", { for: "node-default-next" }, t("logicRules.otherwise")),
    target("node-default-next", node.default_next, (next) => change({ default_next: next })),
  ];
}
