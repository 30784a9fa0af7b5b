import { answerOf, api } from "../api.js";
import { h, show } from "../dom.js";
import { go, hashOf } from "../router.js";
import type { Screen } from "../screen.js";

/** A tree before its session starts: what it covers, and the ticket the session is for. */
export async function startSessionScreen(screen: Screen, treeId: string): Promise<void> {
  show(screen.root, h("p", { class: "muted" }, "Loading…"));
  let tree: Awaited<ReturnType<typeof loadTree>>;
  try {
    tree = await loadTree(treeId);
  } catch (error) {
    show(screen.root, h("a", { href: hashOf({ name: "trees", query: "" }) }, "← Back to the trees"));
    return screen.fail(error);
  }
  const ticket = h("input", { id: "ticket", name: "ticket", placeholder: "e.g. INC-10422", autocomplete: "off" });
  const submit = h("button", { type: "submit" }, "Start session");
  const form = h(
    "form",
    { class: "card narrow", id: "start-form" },
    h("h1", {}, tree.title),
    h("p", { class: "muted" }, `${tree.category} · version ${tree.version}`),
    h("p", {}, tree.description),
    h("label", { for: "ticket" }, "Ticket number"),
    ticket,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const context = ticket.value.trim() ? { ticket: ticket.value.trim() } : {};
      const session = answerOf(await api.POST("/api/v1/sessions", { body: { tree_id: treeId, context } }));
      // In place of this page: Back from the session goes to where the technician came from, not to
      // a form one click from a second session.
      go({ name: "session", sessionId: session.id }, { replace: true });
    } catch (error) {
      submit.disabled = false;
      screen.fail(error);
    }
  });
  show(screen.root, form);
  ticket.focus();
}

async function loadTree(id: string) {
  return answerOf(await api.GET("/api/v1/trees/{id}", { params: { path: { id } } }));
}
