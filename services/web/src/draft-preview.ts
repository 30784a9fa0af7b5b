/**
 * A draft run as a technician would run it, in the page alone: nothing is sent, no session is
 * recorded. Questions offer their answers, actions go on, solutions end with their outcome; a
 * link says which tree it runs and goes on at its `next` (the linked tree's own steps are the
 * published tree's, run in a real session). A step to a node the draft lacks says so.
 */
import { h, show } from "./dom.js";
import { markdown } from "./markdown.js";

type DraftNode = Record<string, unknown>;

export function draftPreview(
  nodes: DraftNode[],
  rootId: string,
  treeTitle: (id: string) => string | undefined,
  onClose: () => void,
): HTMLElement {
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
            "← Back",
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
        "Restart",
      ),
      h("button", { class: "secondary", id: "preview-close", onclick: onClose }, "Close the preview"),
    );
    if (!node) {
      show(
        card,
        h("h2", {}, "Preview"),
        h(
          "p",
          { class: "form-error", id: "preview-missing" },
          `This leads to “${id}”, which the draft has no node for.`,
        ),
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
      choices.push(h("button", { id: "preview-continue", onclick: () => go(text(node.next)) }, "Done — continue"));
    } else if (node.type === "link") {
      const title = treeTitle(text(node.tree_id)) ?? "another tree";
      choices.push(
        h("p", { class: "muted" }, `Here a session runs “${title}” from its start, then goes on.`),
        node.next
          ? h("button", { id: "preview-continue", onclick: () => go(text(node.next)) }, "Go on after it")
          : h("p", {}, "Its solution ends the session."),
      );
    } else if (node.type === "solution") {
      choices.push(
        h("p", { id: "preview-outcome" }, `The session ends here: ${text(node.outcome) || "no outcome yet"}.`),
      );
    }
    show(
      card,
      h("h2", {}, "Preview (nothing is recorded)"),
      h("p", { class: "node-type" }, text(node.type)),
      h("h3", { id: "preview-title" }, text(node.title)),
      node.body ? markdown(text(node.body)) : null,
      h("div", { class: "choices" }, ...choices),
      controls,
    );
  };
  go(rootId);
  return card;
}
