/**
 * A draft run as a technician would run it, in the page alone: nothing is sent, no session is
 * recorded. Questions offer their answers, actions go on, forms show their fields and go on,
 * solutions end with their outcome; a link says which tree it runs and goes on at its `next` (the
 * linked tree's own steps are the published tree's, run in a real session). A logic node's rules
 * are not evaluated here (that is the server's): the author picks which way to follow. A step to a
 * node the draft lacks says so.
 */
import { h, show } from "./dom.js";
import { t, wordFor } from "./i18n.js";
import { type ImageOf, markdown } from "./markdown.js";
import { type FormNode, sessionForm } from "./session-form.js";
import { type DeclaredVariable, texts } from "./tree-content.js";

type DraftNode = Record<string, unknown>;
type FormVariables = Parameters<typeof sessionForm>[1];

/** A draft form's fields as the runner draws them, whatever the draft has wrong. */
function formOf(node: DraftNode): FormNode {
  const fields = Array.isArray(node.fields) ? (node.fields as DraftNode[]) : [];
  return {
    ...(node as FormNode),
    fields: fields.map((field, i) => ({
      id: String(field.id ?? `#${i + 1}`),
      label: String(field.label ?? ""),
      variable: String(field.variable ?? ""),
      type: String(field.type ?? "text") as FormNode["fields"][number]["type"],
      required: field.required === true,
      ...(typeof field.min === "number" ? { min: field.min } : {}),
      ...(typeof field.max === "number" ? { max: field.max } : {}),
      choices: texts(field.choices),
    })),
  };
}

export function draftPreview(
  draft: { nodes: DraftNode[]; rootId: string; variables: DeclaredVariable[] },
  treeTitle: (id: string) => string | undefined,
  onClose: () => void,
  image: ImageOf,
): HTMLElement {
  const { nodes, rootId, variables } = draft;
  const card = h("section", { class: "card preview", id: "preview-card", "aria-live": "polite" });
  const byId = new Map(nodes.map((node) => [String(node.id), node]));
  const trail: string[] = [];
  const text = (value: unknown) => (typeof value === "string" ? value : "");

  const go = (id: string) => {
    trail.push(id);
    const node = byId.get(id);
    const controls = h(
      "div",
      { class: "actions" },
      trail.length > 1
        ? h(
            "button",
            {
              class: "secondary",
              id: "preview-back",
              onclick: () => {
                trail.pop();
                go(trail.pop() as string);
              },
            },
            t("common.back"),
          )
        : null,
      h(
        "button",
        {
          class: "secondary",
          id: "preview-restart",
          onclick: () => {
            trail.length = 0;
            go(rootId);
          },
        },
        t("preview.restart"),
      ),
      h("button", { class: "secondary", id: "preview-close", onclick: onClose }, t("preview.close")),
    );
    if (!node) {
      show(
        card,
        h("h2", {}, t("preview.title")),
        h("p", { class: "form-error", id: "preview-missing" }, t("preview.missing", { id })),
        controls,
      );
      return;
    }
    const choices: HTMLElement[] = [];
    if (node.type === "question" && Array.isArray(node.options)) {
      for (const option of node.options as DraftNode[]) {
        choices.push(
          h(
            "button",
            { class: "option", "data-option-id": text(option.id), onclick: () => go(text(option.next)) },
            text(option.label),
          ),
        );
      }
    } else if (node.type === "action") {
      choices.push(h("button", { id: "preview-continue", onclick: () => go(text(node.next)) }, t("run.continue")));
    } else if (node.type === "form") {
      const form = sessionForm(formOf(node), variables as FormVariables, {});
      choices.push(
        h("div", { class: "preview-form" }, form.element),
        h("button", { id: "preview-submit", onclick: () => go(text(node.next)) }, t("run.submitForm")),
      );
    } else if (node.type === "logic") {
      const rules = Array.isArray(node.rules) ? (node.rules as DraftNode[]) : [];
      choices.push(
        h("p", { class: "muted" }, t("preview.logic")),
        ...rules.map((rule, i) =>
          h(
            "button",
            { class: "secondary", "data-rule": String(i), onclick: () => go(text(rule.next)) },
            t("preview.rule", { number: i + 1, when: text(rule.when) }),
          ),
        ),
        h(
          "button",
          { class: "secondary", id: "preview-otherwise", onclick: () => go(text(node.default_next)) },
          t("map.otherwise"),
        ),
      );
    } else if (node.type === "link") {
      const title = treeTitle(text(node.tree_id)) ?? t("preview.anotherTree");
      choices.push(
        h("p", { class: "muted" }, t("preview.runsTree", { title })),
        node.next
          ? h("button", { id: "preview-continue", onclick: () => go(text(node.next)) }, t("preview.goOn"))
          : h("p", {}, t("preview.endsSession")),
      );
    } else if (node.type === "solution") {
      choices.push(
        h(
          "p",
          { id: "preview-outcome" },
          t("preview.outcome", {
            outcome: text(node.outcome) ? wordFor("outcome", text(node.outcome)) : t("preview.noOutcome"),
          }),
        ),
      );
    }
    show(
      card,
      h("h2", {}, t("preview.heading")),
      h("p", { class: "node-type" }, wordFor("nodeType", text(node.type))),
      h("h3", { id: "preview-title" }, text(node.title)),
      node.body ? markdown(text(node.body), image) : null,
      h("div", { class: "choices" }, ...choices),
      controls,
    );
  };
  go(rootId);
  return card;
}
