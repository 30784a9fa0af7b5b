/**
 * A form node's fields in the node form: each with its id, label, the variable its value goes
 * into (picked from those the tree declares; the field's type is the variable's), whether it is
 * required, a number's range or a text's length, and for a choice the values offered (all of the
 * variable's when left empty).
 */
import { h } from "./dom.js";
import { t, wordFor } from "./i18n.js";
import type { NodeControls } from "./node-form.js";
import { choicesOf, type DeclaredVariable, text, texts } from "./tree-content.js";

type Field = Record<string, unknown>;

/** The keys only some types of field have. */
const BOUNDED = ["text", "number"];

/** A field bound to `variable`, its type following: what does not fit the type is dropped. */
function boundTo(field: Field, variable: DeclaredVariable | undefined): Field {
  const type = variable?.type ?? "text";
  const { min, max, choices, ...rest } = field;
  return {
    ...rest,
    variable: variable?.name ?? "",
    type,
    ...(BOUNDED.includes(type) && min !== undefined ? { min } : {}),
    ...(BOUNDED.includes(type) && max !== undefined ? { max } : {}),
    ...(type === "choice" && choices !== undefined ? { choices } : {}),
  };
}

/** A new field, its id not used in `fields`, bound to the first variable declared. */
export function newField(fields: Field[], variables: DeclaredVariable[]): Field {
  const used = new Set(fields.map((field) => text(field.id)));
  let n = fields.length + 1;
  while (used.has(`field-${n}`)) n += 1;
  return boundTo({ id: `field-${n}`, label: t("template.newField"), required: true }, variables[0]);
}

export function formFieldRows(
  node: Record<string, unknown>,
  variables: DeclaredVariable[],
  { input, change }: NodeControls,
): HTMLElement[] {
  const fields = Array.isArray(node.fields) ? (node.fields as Field[]) : [];
  const setFields = (next: Field[]) => change({ fields: next });
  const setField = (i: number, patch: Field, drop: string[] = []) =>
    setFields(
      fields.map((field, j) =>
        j === i
          ? Object.fromEntries(Object.entries({ ...field, ...patch }).filter(([key]) => !drop.includes(key)))
          : field,
      ),
    );
  const bound = (i: number, key: "min" | "max", value: unknown) => {
    const number = h("input", { id: `field-${key}-${i}`, type: "number", step: "any" });
    number.value = typeof value === "number" ? String(value) : "";
    number.addEventListener("change", () =>
      number.value === "" ? setField(i, {}, [key]) : setField(i, { [key]: Number(number.value) }),
    );
    return number;
  };

  const row = (field: Field, i: number) => {
    const type = text(field.type);
    const variable = h(
      "select",
      { id: `field-variable-${i}` },
      h("option", { value: "" }, variables.length > 0 ? t("formFields.pickVariable") : t("formFields.noVariables")),
      ...variables.map((declared) =>
        h("option", { value: declared.name }, `${declared.name} (${wordFor("variableType", declared.type)})`),
      ),
    );
    variable.value = text(field.variable);
    variable.addEventListener("change", () =>
      setFields(
        fields.map((other, j) =>
          j === i
            ? boundTo(
                other,
                variables.find((declared) => declared.name === variable.value),
              )
            : other,
        ),
      ),
    );
    const required = h("input", { id: `field-required-${i}`, type: "checkbox", class: "choice" });
    required.checked = field.required === true;
    required.addEventListener("change", () => setField(i, { required: required.checked }));
    const ofVariable = variables.find((declared) => declared.name === field.variable)?.choices ?? [];
    return h(
      "li",
      { class: "editor-row", "data-field": String(i) },
      h(
        "div",
        { class: "row-grid" },
        h("label", { for: `field-label-${i}` }, t("formFields.label")),
        input(`field-label-${i}`, field.label, (label) => setField(i, { label })),
        h("label", { for: `field-id-${i}` }, t("formFields.id")),
        input(`field-id-${i}`, field.id, (id) => setField(i, { id })),
        h("label", { for: `field-variable-${i}` }, t("formFields.variable")),
        variable,
        h("span", { class: "muted" }, t("formFields.type")),
        h("span", { class: "field-type", id: `field-type-${i}` }, type ? wordFor("variableType", type) : "—"),
        ...(BOUNDED.includes(type)
          ? [
              h(
                "label",
                { for: `field-min-${i}` },
                type === "number" ? t("formFields.min") : t("formFields.minLength"),
              ),
              bound(i, "min", field.min),
              h(
                "label",
                { for: `field-max-${i}` },
                type === "number" ? t("formFields.max") : t("formFields.maxLength"),
              ),
              bound(i, "max", field.max),
            ]
          : []),
        type === "choice" ? h("label", { for: `field-choices-${i}` }, t("formFields.choices")) : null,
        type === "choice"
          ? input(
              `field-choices-${i}`,
              texts(field.choices).join(", "),
              (typed) => setField(i, { choices: choicesOf(typed) }),
              { placeholder: ofVariable.join(", ") || t("formFields.allChoices") },
            )
          : null,
      ),
      h("label", { class: "inline", for: `field-required-${i}` }, required, t("formFields.required")),
      h(
        "button",
        {
          id: `field-remove-${i}`,
          class: "secondary",
          type: "button",
          onclick: () => setFields(fields.filter((_, j) => j !== i)),
        },
        t("formFields.remove"),
      ),
    );
  };

  return [
    h("h3", {}, t("formFields.title")),
    ...(variables.length === 0
      ? [h("p", { class: "muted", id: "form-needs-variables" }, t("formFields.declareFirst"))]
      : []),
    h("ol", { class: "editor-rows", id: "node-fields" }, ...fields.map(row)),
    h(
      "button",
      {
        id: "add-field",
        class: "secondary",
        type: "button",
        onclick: () => setFields([...fields, newField(fields, variables)]),
      },
      t("formFields.add"),
    ),
  ];
}
