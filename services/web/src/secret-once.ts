/** A secret the API answers once (a webhook's signing secret, an API key), shown that once. */
import { type Child, h, show } from "./dom.js";
import { t } from "./i18n.js";
import type { Screen } from "./screen.js";

/**
 * Shows a secret this once in `into`: a read-only field to copy it from, focused (a screen reader
 * reads its label, the secret, the sentence and the hint) and selected on focus, a sentence saying
 * it will not be shown again, and, if given, a hint on how to use it.
 */
export function showSecretOnce(
  screen: Screen,
  into: HTMLElement,
  id: string,
  label: string,
  secret: string,
  ...hint: Child[]
): void {
  const note = h("p", { id: `${id}-note`, class: "muted" }, t("secret.once"));
  const usage = hint.length > 0 ? h("p", { id: `${id}-hint`, class: "muted" }, ...hint) : null;
  const input = h("input", {
    id,
    name: id,
    readonly: true,
    value: secret,
    autocomplete: "off",
    spellcheck: "false",
    class: "secret",
    "aria-describedby": usage ? `${note.id} ${usage.id}` : note.id,
  });
  input.addEventListener("focus", () => input.select());
  const copy = h(
    "button",
    {
      type: "button",
      class: "secondary",
      "aria-describedby": input.id,
      onclick: async () => {
        input.select();
        try {
          await navigator.clipboard.writeText(secret);
          screen.notify(t("secret.copied"));
        } catch {
          screen.notify(t("secret.selected"));
        }
      },
    },
    t("secret.copy"),
  );
  show(
    into,
    h(
      "div",
      { class: "secret-once" },
      h("label", { for: id }, label),
      h("div", { class: "secret-row" }, input, copy),
      note,
      usage,
    ),
  );
  input.focus();
}
