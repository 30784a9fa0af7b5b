/**
 * The tree's own settings beside its nodes: the language its texts are written in, and the
 * variables its sessions carry — each with a name, a type, a default and, for a choice, its
 * values. A variable renamed or given another type takes the form fields bound to it along.
 * Every change is handed back whole (`onChange`); the problems a save or publish found at them
 * show at their controls.
 */
import type { Problem } from "./api-error.js";
import { h } from "./dom.js";
import { t, wordFor } from "./i18n.js";
import { nodeIndexOf } from "./node-problems.js";
import { showProblemsAt } from "./problem-marks.js";
import {
  type Content,
  choicesOf,
  type DeclaredVariable,
  declaredVariables,
  text,
  VARIABLE_TYPES,
} from "./tree-content.js";

/** The form fields of every node bound to the variable `name`, changed by `change`. */
function withFieldsOf(
  content: Content,
  name: string,
  change: (field: Record<string, unknown>) => Record<string, unknown>,
) {
  return content.nodes.map((node) =>
    Array.isArray(node.fields)
      ? {
          ...node,
          fields: (node.fields as Array<Record<string, unknown>>).map((field) =>
            field.variable === name ? change(field) : field,
          ),
        }
      : node,
  );
}

/** A control for a variable's default, by its type; an empty one means no default. */
function defaultControl(variable: DeclaredVariable, i: number, onSet: (value: unknown) => void): HTMLElement {
  const id = `variable-default-${i}`;
  const { type } = variable;
  if (type === "boolean" || type === "choice") {
    const values = type === "boolean" ? ["true", "false"] : variable.choices;
    const select = h(
      "select",
      { id },
      h("option", { value: "" }, t("variables.noDefault")),
      ...values.map((value) =>
        h("option", { value }, type === "boolean" ? (value === "true" ? t("run.yes") : t("run.no")) : value),
      ),
    );
    select.value = variable.default === undefined ? "" : String(variable.default);
    select.addEventListener("change", () =>
      onSet(select.value === "" ? undefined : type === "boolean" ? select.value === "true" : select.value),
    );
    return select;
  }
  const input = h("input", {
    id,
    type: type === "number" ? "number" : type === "date" ? "date" : "text",
    ...(type === "number" ? { step: "any" } : {}),
    placeholder: t("variables.noDefault"),
  });
  input.value = variable.default === undefined || variable.default === null ? "" : String(variable.default);
  input.addEventListener("change", () =>
    onSet(input.value === "" ? undefined : type === "number" ? Number(input.value) : input.value),
  );
  return input;
}

export function treeForm(content: Content, problems: Problem[], onChange: (content: Content) => void): HTMLElement {
  const variables = declaredVariables(content);
  const setVariables = (next: DeclaredVariable[], nodes = content.nodes) =>
    onChange({
      ...content,
      nodes,
      variables: next.map(({ default: value, choices, ...rest }) => withoutEmpty(rest, value, choices)),
    });
  const setVariable = (i: number, patch: Partial<DeclaredVariable>) =>
    setVariables(variables.map((variable, j) => (j === i ? { ...variable, ...patch } : variable)));

  const language = h("input", {
    id: "tree-language",
    maxlength: "35",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "en, de, pt-BR",
  });
  language.value = text(content.language) || "en";
  language.addEventListener("change", () => onChange({ ...content, language: language.value.trim() }));

  const row = (variable: DeclaredVariable, i: number) => {
    const name = h("input", { id: `variable-name-${i}`, maxlength: "64", autocomplete: "off", spellcheck: "false" });
    name.value = variable.name;
    name.addEventListener("change", () => {
      const renamed = name.value.trim();
      // The fields that fill it follow the new name.
      const nodes = withFieldsOf(content, variable.name, (field) => ({ ...field, variable: renamed }));
      setVariables(
        variables.map((other, j) => (j === i ? { ...other, name: renamed } : other)),
        nodes,
      );
    });
    const type = h(
      "select",
      { id: `variable-type-${i}` },
      ...VARIABLE_TYPES.map((value) => h("option", { value }, wordFor("variableType", value))),
    );
    type.value = variable.type;
    type.addEventListener("change", () => {
      const retyped = type.value;
      // Its default and choices belong to the old type; the fields bound to it take the new one.
      const nodes = withFieldsOf(content, variable.name, ({ min, max, choices, ...field }) => ({
        ...field,
        type: retyped,
        ...(["text", "number"].includes(retyped) && min !== undefined ? { min } : {}),
        ...(["text", "number"].includes(retyped) && max !== undefined ? { max } : {}),
        ...(retyped === "choice" && choices !== undefined ? { choices } : {}),
      }));
      setVariables(
        variables.map((other, j) =>
          j === i ? { name: other.name, type: retyped, choices: retyped === "choice" ? other.choices : [] } : other,
        ),
        nodes,
      );
    });
    const choices = h("input", {
      id: `variable-choices-${i}`,
      autocomplete: "off",
      placeholder: t("variables.choicesExample"),
    });
    choices.value = variable.choices.join(", ");
    choices.addEventListener("change", () => setVariable(i, { choices: choicesOf(choices.value) }));
    return h(
      "li",
      { class: "editor-row", "data-variable": String(i) },
      h(
        "div",
        { class: "row-grid" },
        h("label", { for: `variable-name-${i}` }, t("variables.name")),
        name,
        h("label", { for: `variable-type-${i}` }, t("variables.type")),
        type,
        ...(variable.type === "choice"
          ? [h("label", { for: `variable-choices-${i}` }, t("variables.choices")), choices]
          : []),
        h("label", { for: `variable-default-${i}` }, t("variables.default")),
        defaultControl(variable, i, (value) =>
          setVariables(variables.map((other, j) => (j === i ? withDefault(other, value) : other))),
        ),
      ),
      h(
        "button",
        {
          id: `variable-remove-${i}`,
          class: "secondary",
          type: "button",
          onclick: () => setVariables(variables.filter((_, j) => j !== i)),
        },
        t("common.remove"),
      ),
    );
  };

  const elsewhere = h("p", { class: "form-error problem-rest", id: "tree-form-problems" });
  const card = h(
    "section",
    { class: "card", id: "tree-form" },
    h("h2", {}, t("variables.heading")),
    elsewhere,
    h("label", { for: "tree-language" }, t("variables.language")),
    language,
    h("p", { class: "muted" }, t("variables.languageHint")),
    h("h3", {}, t("variables.title")),
    h("p", { class: "muted" }, t("variables.intro", { placeholder: "{{name}}" })),
    variables.length > 0
      ? h("ol", { class: "editor-rows", id: "variables" }, ...variables.map(row))
      : h("p", { class: "muted", id: "variables" }, t("variables.none")),
    h(
      "button",
      {
        id: "add-variable",
        class: "secondary",
        type: "button",
        onclick: () => setVariables([...variables, { name: freeName(variables), type: "text", choices: [] }]),
      },
      t("variables.add"),
    ),
  );
  // The tree's own problems (not a node's): `loc` is ["body" or "draft", "variables", …] or ["…", "language"].
  showProblemsAt(
    card,
    problems
      .filter(({ loc }) => nodeIndexOf(loc) === undefined && (loc[1] === "variables" || loc[1] === "language"))
      .map(({ loc, msg }) => ({ path: loc.slice(1), msg })),
    elsewhere,
  );
  return card;
}

/** A variable as sent: no empty default, choices only for a choice. */
function withoutEmpty(variable: { name: string; type: string }, value: unknown, choices: string[]) {
  return {
    ...variable,
    ...(variable.type === "choice" ? { choices } : {}),
    ...(value !== undefined ? { default: value } : {}),
  };
}

function withDefault(variable: DeclaredVariable, value: unknown): DeclaredVariable {
  const { default: _old, ...rest } = variable;
  return value === undefined ? rest : { ...rest, default: value };
}

function freeName(variables: DeclaredVariable[]): string {
  const used = new Set(variables.map((variable) => variable.name));
  for (let n = 1; ; n += 1) if (!used.has(`variable_${n}`)) return `variable_${n}`;
}
