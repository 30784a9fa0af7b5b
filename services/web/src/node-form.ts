/**
 * One node of a draft as a form: its id, type, title and Markdown body (with a preview and its
 * images, and a button that uploads one), and what its type needs — a question's answers and
 * where each leads, an action's next node, a solution's outcome, a link's tree (picked by title)
 * and where it goes on, a form's fields, a logic node's rules. Every change is made to the draft's
 * content and handed back whole (`onChange`), which the editor saves and redraws. The problems a
 * save or publish found in the node show at their controls.
 */
import { SOLUTION_OUTCOMES } from "@tdt/proto/contracts/outcomes";
import { ENUMS } from "@tdt/proto/tdt/contract";
import type { Problem } from "./api-error.js";
import { h } from "./dom.js";
import { describeError } from "./error-messages.js";
import { formFieldRows, newField } from "./form-node-fields.js";
import { t, wordFor } from "./i18n.js";
import { logicRuleRows } from "./logic-node-rules.js";
import { markdown } from "./markdown.js";
import { imageReference, mediaImage, uploadImage } from "./media-images.js";
import { showProblemsAt } from "./problem-marks.js";
import { type Content, declaredVariables, text } from "./tree-content.js";

export type { Content } from "./tree-content.js";

export const NODE_TYPES = ENUMS["tdt.trees.v1.NodeType"].values;

/** The fields only some types have: dropped when a node changes type. */
const TYPE_FIELDS = ["options", "next", "outcome", "tree_id", "fields", "rules", "default_next"];

/** What each type has beyond id, type, title and body, as a new node of it starts. */
function fieldsOf(type: string, firstId: string, content: Content): Record<string, unknown> {
  if (type === "question") return { options: [{ id: "yes", label: t("template.yes"), next: firstId }] };
  if (type === "action") return { next: firstId };
  if (type === "solution") return { outcome: SOLUTION_OUTCOMES[0] };
  if (type === "link") return { tree_id: "" };
  if (type === "form") return { fields: [newField([], declaredVariables(content))], next: firstId };
  if (type === "logic") return { rules: [{ when: "", next: firstId }], default_next: firstId };
  return {};
}

/** Where the caret was in a node's body, by the node's index: a redraw puts it back. */
let caret: { index: number; start: number; end: number } | undefined;

/** The controls every part of the form is made of. */
export interface NodeControls {
  /** The node's other ids, for where something leads. */
  ids: string[];
  /** A text input that sets its value when changed. */
  input(id: string, value: unknown, onSet: (value: string) => void, attributes?: Record<string, string>): HTMLElement;
  /** A select of the draft's node ids, for where something leads. */
  target(id: string, value: unknown, onPick: (id: string) => void, allowNone?: boolean): HTMLSelectElement;
  /** Changes the node: `patch` set, `drop` removed. */
  change(patch: Record<string, unknown>, drop?: string[]): void;
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
    title: t("template.newStep"),
    body: "",
    ...fieldsOf("action", String(content.root_node_id ?? ""), content),
  };
  return { content: { ...content, nodes: [...content.nodes, node] }, index: content.nodes.length };
}

export function nodeForm(
  content: Content,
  index: number,
  trees: Array<{ id: string; title: string }>,
  onChange: (content: Content, selected?: number) => void,
  problems: Problem[] = [],
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
      allowNone ? h("option", { value: "" }, t("nodeForm.endHere")) : null,
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

  const type = h(
    "select",
    { id: "node-type" },
    ...NODE_TYPES.map((name) => h("option", { value: name }, wordFor("nodeType", name))),
  );
  type.value = text(node.type);
  type.addEventListener("change", () => {
    const first = ids.find((other) => other !== node.id) ?? "";
    const own = fieldsOf(type.value, first, content);
    // What the old type had and the new one has not goes.
    change(
      { type: type.value, ...own },
      TYPE_FIELDS.filter((key) => !(key in own)),
    );
  });

  const body = h("textarea", { id: "node-body", rows: 4 });
  body.value = text(node.body);
  if (caret?.index === index) body.setSelectionRange(caret.start, caret.end);
  const keepCaret = () => {
    caret = { index, start: body.selectionStart, end: body.selectionEnd };
  };
  for (const event of ["select", "keyup", "mouseup", "blur"]) body.addEventListener(event, keepCaret);
  body.addEventListener("change", () => change({ body: body.value }));
  const preview = h("div", { class: "node-preview", id: "node-preview" }, markdown(text(node.body), mediaImage));
  body.addEventListener("input", () => preview.replaceChildren(markdown(body.value, mediaImage)));
  const imageArea = insertImage(body, (value) => change({ body: value }), keepCaret);

  const controls: NodeControls = { ids: ids.filter((other) => other !== node.id), input, target, change };
  const own: Array<HTMLElement | null> = [];
  if (node.type === "question") {
    const options = Array.isArray(node.options) ? (node.options as Array<Record<string, unknown>>) : [];
    const setOptions = (next: Array<Record<string, unknown>>) => change({ options: next });
    own.push(
      h("h3", {}, t("nodeForm.answers")),
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
              t("common.remove"),
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
              {
                id: `option-${options.length + 1}`,
                label: t("template.newAnswer"),
                next: ids.find((id) => id !== node.id) ?? "",
              },
            ]),
        },
        t("nodeForm.addAnswer"),
      ),
    );
  } else if (node.type === "action") {
    own.push(
      h("label", { for: "node-next" }, t("nodeForm.then")),
      target("node-next", node.next, (next) => change({ next })),
    );
  } else if (node.type === "solution") {
    const outcome = h(
      "select",
      { id: "node-outcome" },
      ...SOLUTION_OUTCOMES.map((name) => h("option", { value: name }, wordFor("outcome", name))),
    );
    outcome.value = text(node.outcome);
    outcome.addEventListener("change", () => change({ outcome: outcome.value }));
    own.push(h("label", { for: "node-outcome" }, t("nodeForm.outcome")), outcome);
  } else if (node.type === "link") {
    const tree = h(
      "select",
      { id: "node-tree" },
      h("option", { value: "" }, t("nodeForm.pickTree")),
      ...trees.map((other) => h("option", { value: other.id }, other.title)),
    );
    tree.value = text(node.tree_id);
    tree.addEventListener("change", () => change({ tree_id: tree.value }));
    own.push(
      h("label", { for: "node-tree" }, t("nodeForm.runsTree")),
      tree,
      h("label", { for: "node-next" }, t("nodeForm.then")),
      target("node-next", node.next, (next) => (next ? change({ next }) : change({}, ["next"])), true),
    );
  } else if (node.type === "form") {
    own.push(
      ...formFieldRows(node, declaredVariables(content), controls),
      h("label", { for: "node-next" }, t("nodeForm.then")),
      target("node-next", node.next, (next) => change({ next })),
    );
  } else if (node.type === "logic") {
    own.push(...logicRuleRows(node, controls));
  }

  const isRoot = content.root_node_id === node.id;
  const elsewhere = h("p", { class: "form-error problem-rest", id: "node-form-problems" });
  const form = h(
    "section",
    { class: "card", id: "node-form", "data-node-index": String(index) },
    h("h2", {}, t(isRoot ? "nodeForm.rootHeading" : "nodeForm.heading", { id: text(node.id) })),
    elsewhere,
    h("label", { for: "node-id" }, t("nodeForm.id")),
    input("node-id", node.id, (id) => {
      // Renaming keeps every link to it: options, rules, nexts and the root follow.
      const old = text(node.id);
      const follow = (value: unknown) => (value === old ? id : value);
      const followEach = (items: unknown) =>
        (items as Array<Record<string, unknown>>).map((item) => ({ ...item, next: follow(item.next) }));
      onChange(
        {
          ...content,
          root_node_id: follow(content.root_node_id),
          nodes: content.nodes.map((other, i) => ({
            ...other,
            ...(i === index ? { id } : {}),
            ...(other.next !== undefined ? { next: follow(other.next) } : {}),
            ...(other.default_next !== undefined ? { default_next: follow(other.default_next) } : {}),
            ...(Array.isArray(other.options) ? { options: followEach(other.options) } : {}),
            ...(Array.isArray(other.rules) ? { rules: followEach(other.rules) } : {}),
          })),
        },
        index,
      );
    }),
    h("label", { for: "node-type" }, t("nodeForm.type")),
    type,
    h("label", { for: "node-title" }, t("nodeForm.title")),
    input("node-title", node.title, (title) => change({ title }), { maxlength: "200" }),
    h("label", { for: "node-body" }, t("nodeForm.body")),
    body,
    imageArea,
    h("p", { class: "muted" }, t("nodeForm.preview")),
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
            t("nodeForm.makeRoot"),
          ),
      h(
        "button",
        {
          id: "remove-node",
          class: "secondary",
          type: "button",
          onclick: () => onChange({ ...content, nodes: content.nodes.filter((_, i) => i !== index) }),
        },
        t("nodeForm.removeNode"),
      ),
    ),
  );
  // A problem's `loc` is ["body" or "draft", "nodes", index, …]: the rest names the control.
  showProblemsAt(
    form,
    problems.map((problem) => ({ path: problem.loc.slice(3), msg: problem.msg })),
    elsewhere,
  );
  return form;
}

/**
 * "Insert image": uploads a file (PNG, JPEG or WebP) and puts its reference, `![<file name>](media:<id>)`,
 * at the caret of `body`. The button does not take the focus, so the caret stays where the author left it.
 */
function insertImage(body: HTMLTextAreaElement, onSet: (value: string) => void, keepCaret: () => void): HTMLElement {
  const file = h("input", {
    id: "node-image-file",
    type: "file",
    accept: "image/png,image/jpeg,image/webp",
    class: "file-picker",
    tabindex: -1,
    "aria-hidden": "true",
  });
  const status = h("p", { class: "muted image-status", id: "node-image-status", role: "status" });
  const button = h(
    "button",
    {
      id: "insert-image",
      class: "secondary",
      type: "button",
      onmousedown: (event: Event) => event.preventDefault(),
      onclick: () => file.click(),
    },
    t("nodeForm.insertImage"),
  );
  file.addEventListener("change", async () => {
    const chosen = file.files?.[0];
    if (!chosen) return;
    button.disabled = true;
    status.className = "muted image-status";
    status.textContent = t("nodeForm.uploading", { file: chosen.name });
    try {
      const media = await uploadImage(chosen);
      const reference = imageReference(chosen.name, media.id);
      const start = body.selectionStart;
      body.setRangeText(reference, start, body.selectionEnd, "end");
      keepCaret();
      status.textContent = "";
      onSet(body.value);
    } catch (error) {
      status.className = "form-error image-status";
      status.textContent = describeError(error);
      button.disabled = false;
    } finally {
      file.value = "";
    }
  });
  return h("div", { class: "actions image-actions" }, button, file, status);
}
