/**
 * A form node as a technician fills it in: one input per field by its type (a text, its length
 * bounded; a number, its range; yes or no as a checkbox; a choice as a select of the field's
 * choices, else its variable's; a date), the required ones marked, each filled with the value
 * its variable has. The server checks the values: a 422's problems show at their fields
 * (`loc` ["body", "values", <field id>]).
 */
import type { Schemas, TreeNode } from "./api.js";
import { type Child, h } from "./dom.js";
import { fieldProblem } from "./form.js";
import { t } from "./i18n.js";

export type FormNode = Extract<TreeNode, { type: "form" }>;
type Field = FormNode["fields"][number];
type Variable = Schemas["Variable"];

type Control = HTMLInputElement | HTMLSelectElement;

interface FilledField {
  field: Field;
  control: Control;
  problem: ReturnType<typeof fieldProblem>;
}

export interface SessionForm {
  element: HTMLElement;
  /** The values as the submit step sends them, by field id: a field left empty is left out. */
  values(): Record<string, unknown>;
  /** Shows an error's problems at their fields; whether any was one of theirs (focus goes to the first). */
  tell(error: unknown): boolean;
}

/** The control's id of a field. */
export const controlIdOf = (field: { id: string }) => `field-${field.id}`;

/** What a field's bounds are, in words: a number's range, a text's length. */
function boundsOf(field: Field): string {
  const { min, max } = field;
  if (field.type === "number") {
    if (min !== undefined && max !== undefined) return t("runForm.numberRange", { min, max });
    if (min !== undefined) return t("runForm.numberAtLeast", { min });
    if (max !== undefined) return t("runForm.numberAtMost", { max });
  }
  if (field.type === "text") {
    if (min !== undefined && max !== undefined) return t("runForm.lengthRange", { min, max });
    if (min !== undefined) return t("runForm.lengthAtLeast", { min });
    if (max !== undefined) return t("runForm.lengthAtMost", { max });
  }
  return "";
}

function controlOf(field: Field, variable: Variable | undefined, value: unknown): Control {
  const id = controlIdOf(field);
  const common = {
    id,
    name: field.id,
    class: "field-control",
    ...(field.required ? { required: true, "aria-required": "true" } : {}),
  };
  if (field.type === "boolean") {
    const box = h("input", { id, name: field.id, type: "checkbox", class: "choice" });
    box.checked = value === true;
    return box;
  }
  if (field.type === "choice") {
    const choices = field.choices.length > 0 ? field.choices : (variable?.choices ?? []);
    const select = h(
      "select",
      common,
      h("option", { value: "" }, t("runForm.choose")),
      ...choices.map((choice) => h("option", { value: choice }, choice)),
    );
    select.value = typeof value === "string" && choices.includes(value) ? value : "";
    return select;
  }
  const input =
    field.type === "number"
      ? h("input", { ...common, type: "number", step: "any", inputmode: "decimal", min: field.min, max: field.max })
      : field.type === "date"
        ? h("input", { ...common, type: "date" })
        : h("input", { ...common, type: "text", minlength: field.min, maxlength: field.max });
  input.value = value === undefined || value === null ? "" : String(value);
  return input;
}

/** A control's value as its field's type, or undefined when it is empty. */
function typedValue(field: Field, control: Control): unknown {
  if (field.type === "boolean") return (control as HTMLInputElement).checked;
  if (control.value === "") return undefined;
  if (field.type === "number") {
    const number = Number(control.value);
    return Number.isFinite(number) ? number : control.value;
  }
  return control.value;
}

export function sessionForm(
  node: FormNode,
  variables: readonly Variable[],
  values: Record<string, unknown>,
): SessionForm {
  const filled: FilledField[] = node.fields.map((field) => {
    const variable = variables.find((declared) => declared.name === field.variable);
    const control = controlOf(field, variable, values[field.variable]);
    return { field, control, problem: fieldProblem(control, ["body", "values", field.id]) };
  });
  const rows: Child[] = filled.map(({ field, control, problem }) => {
    const bounds = boundsOf(field);
    const marker = field.required
      ? h("span", { class: "required-mark", title: t("runForm.required") }, " *")
      : h("span", { class: "muted" }, ` ${t("runForm.optional")}`);
    const hint = bounds ? h("span", { class: "muted field-hint", id: `${control.id}-hint` }, bounds) : null;
    if (hint) control.setAttribute("aria-describedby", `${hint.id} ${control.id}-problem`);
    return h(
      "div",
      { class: `form-field ${field.type}`, "data-field-id": field.id },
      field.type === "boolean"
        ? h("label", { class: "field-label inline", for: control.id }, control, field.label, marker)
        : h("label", { class: "field-label", for: control.id }, field.label, marker),
      field.type === "boolean" ? null : control,
      hint,
      problem.line,
    );
  });
  return {
    element: h("div", { class: "session-form", id: "form-fields" }, ...rows),
    values: () =>
      Object.fromEntries(
        filled
          .map(({ field, control }) => [field.id, typedValue(field, control)] as const)
          .filter(([, value]) => value !== undefined),
      ),
    tell(error) {
      const placed = filled.filter(({ problem }) => problem.tell(error));
      placed[0]?.control.focus();
      return placed.length > 0;
    },
  };
}
