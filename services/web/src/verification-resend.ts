/** "Send it again": a new verification link to an address that has not confirmed it yet. */
import { answerOf, api } from "./api.js";
import { h } from "./dom.js";
import { describeError } from "./error-messages.js";
import { t } from "./i18n.js";

/** A button that mails a new link to `email`, with a line beside it telling how that went. */
export function resendVerification(email: string, label: string): HTMLElement {
  const status = h("span", { id: "resend-status", role: "status" });
  const button = h("button", { type: "button", class: "secondary", id: "resend" }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "";
    status.className = "";
    try {
      answerOf(await api.POST("/api/v1/auth/verify-email/resend", { body: { email } }));
      status.textContent = t("resend.sent", { email });
    } catch (error) {
      status.textContent = describeError(error);
      status.className = "form-error";
    } finally {
      button.disabled = false;
    }
  });
  return h("div", { class: "actions resend" }, button, status);
}
