/** The parts every form of the app is made of: labelled inputs, a problem line, one way to send. */
import { ApiError } from "./api-error.js";
import { type Child, h } from "./dom.js";
import { describeWithProblems } from "./error-messages.js";
import { t } from "./i18n.js";

type InputAttributes = { id: string; type?: string; autocomplete?: string; required?: boolean; value?: string };

/** An input and its label; the name is the id. */
export function field(label: string, attributes: InputAttributes): [HTMLLabelElement, HTMLInputElement] {
  return [h("label", { for: attributes.id }, label), h("input", { name: attributes.id, ...attributes })];
}

/** The fields the account forms share. */
export const fields = {
  fullName: () => field(t("form.fullName"), { id: "full-name", autocomplete: "name", required: true }),
  email: (id = "email", label = t("form.email"), autocomplete = "username") =>
    field(label, { id, type: "email", autocomplete, required: true }),
  /** A password being chosen: browsers offer to generate and save it. */
  newPassword: (id = "password", label = t("form.password")) =>
    field(label, { id, type: "password", autocomplete: "new-password", required: true }),
  currentPassword: (id = "password", label = t("form.password")) =>
    field(label, { id, type: "password", autocomplete: "current-password", required: true }),
};

/** A form on a card of its own, under its heading. */
export const cardForm = (id: string, title: string, ...children: Child[]) =>
  h("form", { class: "card narrow", id }, h("h1", {}, title), ...children);

/** The line under a form that tells what went wrong. */
export const problemLine = () => h("p", { class: "form-error", role: "alert" });

/**
 * The line under one control for the problems a 422 puts at it (`loc` ["body", `name`], or the
 * whole `loc` when `name` is a path such as ["body", "values", "pages"]): the control is marked
 * invalid and described by the line, so a screen reader reads both together.
 */
export function fieldProblem(control: HTMLElement, name: string | readonly string[]) {
  const at = typeof name === "string" ? ["body", name] : name;
  const line = h("p", { class: "form-error", id: `${control.id}-problem` });
  control.setAttribute("aria-describedby", line.id);
  return {
    line,
    clear(): void {
      line.textContent = "";
      control.removeAttribute("aria-invalid");
    },
    /** Shows the error's problems at this control; whether there were any. */
    tell(error: unknown): boolean {
      const problems = error instanceof ApiError ? error.problems : [];
      const here = problems.filter(({ loc }) => at.every((part, i) => loc[i] === part)).map(({ msg }) => msg);
      line.textContent = here.join("\n");
      if (here.length > 0) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
      return here.length > 0;
    },
  };
}

/**
 * Runs `send` when the form is submitted: its submit button disabled meanwhile, `problem`
 * cleared before and telling the failure after (a 422's problems field by field); `failed` may
 * add a way on for particular errors.
 */
export function onSubmit(
  form: HTMLFormElement,
  problem: HTMLElement,
  send: () => Promise<void>,
  failed?: (error: unknown) => void,
): void {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = form.querySelector<HTMLButtonElement>("button[type=submit]");
    if (submit) submit.disabled = true;
    problem.textContent = "";
    try {
      await send();
    } catch (error) {
      problem.textContent = describeWithProblems(error);
      failed?.(error);
    } finally {
      if (submit) submit.disabled = false;
    }
  });
}

/**
 * Checkboxes to choose some of a closed list, under a legend: each value with what it means, its
 * name in `code` beside. The fieldset's id names the boxes; `chosen` reads the checked values.
 */
export function choices<V extends string>(
  id: string,
  legend: string,
  values: readonly V[],
  meaning: Record<V, string>,
) {
  const fieldset = h(
    "fieldset",
    { id, class: "choices" },
    h("legend", {}, legend),
    ...values.map((value) => {
      const boxId = `${id}-${value.replaceAll(/[^A-Za-z0-9]+/g, "-")}`;
      return h(
        "label",
        { class: "inline", for: boxId },
        h("input", { type: "checkbox", id: boxId, name: id, value, class: "choice" }),
        h("span", {}, meaning[value], " ", h("code", { class: "muted" }, value)),
      );
    }),
  );
  const chosen = () => [...fieldset.querySelectorAll<HTMLInputElement>("input:checked")].map((box) => box.value as V);
  return { fieldset, chosen };
}
