/**
 * One node of a draft as a form: its id, type, title and Markdown body (with a preview), and what
 * its type needs — a question's answers and where each leads, an action's next node, a
 * solution's outcome, a link's tree (picked by title) and where it goes on. Every change is made
 * to the draft's content and handed back whole (`onChange`), which the editor saves and redraws.
 */
import { SOLUTION_OUTCOMES } from "@tdt/proto/contracts/outcomes";
import { ENUMS } from "@tdt/proto/tdt/contract";
import { h } from "./dom.js";
import { markdown } from "./markdown.js";

export type Content = Record<string, unknown> & { nodes: Array<Record<string, unknown>>; root_node_id?: unknown };

export const NODE_TYPES = ENUMS["tdt.trees.v1.NodeType"].values;

/** What each type has beyond id, type, title and body, as a new node of it starts. */
function fieldsOf(type: string, firstId: string): Record<string, unknown> {
  if (type === "question") return { options: [{ id: "yes", label: "Yes", next: firstId }] };
  if (type === "action") return { next: firstId };
  if (type === "solution") return { outcome: SOLUTION_OUTCOMES[0] };
  if (type === "link") return { tree_id: "" };
  return {};
}

/** A node id not used yet in `content`, from `base`. */
export function freeId(content: Content, base = "step"): string {
  const used = new Set(content.nodes.map((node) => String(node.id)));
  for (let n = 1; ; n += 1) if (!used.has(`${base}-${n}`)) return `${base}-${n}`;
}

/** A new action node at the end, leading back to the root until it is connected. */
export function withNewNode(content: Content): { content: Content; index: number } {
  const id = freeId(content);
  const node = {
    id,
    type: "action",
    title: "New step",
    body: "",
    ...fieldsOf("action", String(content.root_node_id ?? "")),
  };
  return { content: { ...content, nodes: [...content.nodes, node] }, index: content.nodes.length };
}

const text = (value: unknown) => (typeof value === "string" ? value : "");

export function nodeForm(
  content: Content,
  index: number,
  trees: Array<{ id: string; title: string }>,
  onChange: (content: Content, selected?: number) => void,
): HTMLElement {
  const node = content.nodes[index] ?? {};
  const ids = content.nodes.map((other) => text(other.id)).filter(Boolean);
  const change = (patch: Record<string, unknown>, drop: string[] = []) => {
    const next = Object.fromEntries(Object.entries({ ...node, ...patch }).filter(([key]) => !drop.includes(key)));
    onChange({ ...content, nodes: content.nodes.map((other, i) => (i === index ? next : other)) }, index);
  };
  /** A select of the draft's node ids, for where something leads. */
  const target = (id: string, value: unknown, onPick: (id: string) => void, allowNone = false) => {
    const select = h(
      "select",
      { id },
      allowNone ? h("option", { value: "" }, "(none: end here)") : null,
      ...ids.map((other) => h("option", { value: other }, other)),
    );
    select.value = text(value);
    select.addEventListener("change", () => onPick(select.value));
    return select;
  };
  const input = (id: string, value: unknown, onSet: (value: string) => void, attributes = {}) => {
    const field = h("input", { id, ...attributes });
    field.value = text(value);
    field.addEventListener("change", () => onSet(field.value));
    return field;
  };

  const type = h("select", { id: "node-type" }, ...NODE_TYPES.map((name) => h("option", { value: name }, name)));
  type.value = text(node.type);
  type.addEventListener("change", () => {
    const first = ids.find((other) => other !== node.id) ?? "";
    change({ type: type.value, ...fieldsOf(type.value, first) }, ["options", "next", "outcome", "tree_id"]);
  });

  const body = h("textarea", { id: "node-body", rows: 4 });
  body.value = text(node.body);
  body.addEventListener("change", () => change({ body: body.value }));
  const preview = h("div", { class: "node-preview", id: "node-preview" }, markdown(text(node.body)));
  body.addEventListener("input", () => preview.replaceChildren(markdown(body.value)));

  const own: Array<HTMLElement | null> = [];
  if (node.type === "question") {
    const options = Array.isArray(node.options) ? (node.options as Array<Record<string, unknown>>) : [];
    const setOptions = (next: Array<Record<string, unknown>>) => change({ options: next });
    own.push(
      h("h3", {}, "Answers"),
      h(
        "ul",
        { class: "option-rows", id: "node-options" },
        ...options.map((option, i) =>
          h(
            "li",
            { "data-option": String(i) },
            input(`option-label-${i}`, option.label, (label) =>
              setOptions(options.map((o, j) => (j === i ? { ...o, label } : o))),
            ),
            " → ",
            target(`option-next-${i}`, option.next, (next) =>
              setOptions(options.map((o, j) => (j === i ? { ...o, next } : o))),
            ),
            h(
              "button",
              { class: "secondary", type: "button", onclick: () => setOptions(options.filter((_, j) => j !== i)) },
              "Remove",
            ),
          ),
        ),
      ),
      h(
        "button",
        {
          id: "add-option",
          class: "secondary",
          type: "button",
          onclick: () =>
            setOptions([
              ...options,
              { id: `option-${options.length + 1}`, label: "New answer", next: ids.find((id) => id !== node.id) ?? "" },
            ]),
        },
        "Add an answer",
      ),
    );
  } else if (node.type === "action") {
    own.push(
      h("label", { for: "node-next" }, "Then"),
      target("node-next", node.next, (next) => change({ next })),
    );
  } else if (node.type === "solution") {
    const outcome = h(
      "select",
      { id: "node-outcome" },
      ...SOLUTION_OUTCOMES.map((name) => h("option", { value: name }, name)),
    );
    outcome.value = text(node.outcome);
    outcome.addEventListener("change", () => change({ outcome: outcome.value }));
    own.push(h("label", { for: "node-outcome" }, "Outcome"), outcome);
  } else if (node.type === "link") {
    const tree = h(
      "select",
      { id: "node-tree" },
      h("option", { value: "" }, "(pick a tree)"),
      ...trees.map((other) => h("option", { value: other.id }, other.title)),
    );
    tree.value = text(node.tree_id);
    tree.addEventListener("change", () => change({ tree_id: tree.value }));
    own.push(
      h("label", { for: "node-tree" }, "Runs the tree"),
      tree,
      h("label", { for: "node-next" }, "Then"),
      target("node-next", node.next, (next) => (next ? change({ next }) : change({}, ["next"])), true),
    );
  }

  const isRoot = content.root_node_id === node.id;
  return h(
    "section",
    { class: "card", id: "node-form", "data-node-index": String(index) },
    h("h2", {}, `Node ${text(node.id)}`, isRoot ? " (where a session starts)" : ""),
    h("label", { for: "node-id" }, "Id"),
    input("node-id", node.id, (id) => {
      // Renaming keeps every link to it: options, nexts and the root follow.
      const old = text(node.id);
      const follow = (value: unknown) => (value === old ? id : value);
      onChange(
        {
          ...content,
          root_node_id: follow(content.root_node_id),
          nodes: content.nodes.map((other, i) => ({
            ...other,
            ...(i === index ? { id } : {}),
            ...(other.next !== undefined ? { next: follow(other.next) } : {}),
            ...(Array.isArray(other.options)
              ? {
                  options: (other.options as Array<Record<string, unknown>>).map((o) => ({
                    ...o,
                    next: follow(o.next),
                  })),
                }
              : {}),
          })),
        },
        index,
      );
    }),
    h("label", { for: "node-type" }, "Type"),
    type,
    h("label", { for: "node-title" }, "Title"),
    input("node-title", node.title, (title) => change({ title }), { maxlength: "200" }),
    h("label", { for: "node-body" }, "Body (Markdown)"),
    body,
    h("p", { class: "muted" }, "Preview:"),
    preview,
    ...own,
    h(
      "div",
      { class: "actions" },
      isRoot
        ? null
        : h(
            "button",
            {
              id: "make-root",
              class: "secondary",
              type: "button",
              onclick: () => onChange({ ...content, root_node_id: node.id }, index),
            },
            "Start sessions here",
          ),
      h(
        "button",
        {
          id: "remove-node",
          class: "secondary",
          type: "button",
          onclick: () => onChange({ ...content, nodes: content.nodes.filter((_, i) => i !== index) }),
        },
        "Remove this node",
      ),
    ),
  );
}
