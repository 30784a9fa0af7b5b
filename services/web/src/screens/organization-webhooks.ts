import { ENUMS, type EnumValue } from "@tdt/proto/tdt/contract";
import { actionButton } from "../action-button.js";
import { answerOf, api, type Schemas } from "../api.js";
import { h, show } from "../dom.js";
import { cardForm, choices, field, fieldProblem, onSubmit, problemLine } from "../form.js";
import { listTable } from "../list-table.js";
import type { Screen } from "../screen.js";
import { showSecretOnce } from "../secret-once.js";

type Webhook = Schemas["Webhook"];
type Delivery = Schemas["WebhookDelivery"];
type EventType = EnumValue<"tdt.hooks.v1.WebhookEventType">;

/** What each event an endpoint may ask for is, for the person choosing (the list is the contract's). */
const EVENT_NAMES: Record<EventType, string> = {
  "tdt.session.started": "A session started",
  "tdt.session.completed": "A session completed, with its report",
  "tdt.session.abandoned": "A session abandoned",
  "tdt.tree.published": "A tree published (a new version)",
  "tdt.tree.deleted": "A tree deleted",
};

/** Why the hooks service (or an admin) stopped sending to an endpoint. */
const DISABLED_BECAUSE: Record<EnumValue<"tdt.hooks.v1.DisabledReason">, string> = {
  gone: "it answered 410 Gone",
  failing: "every delivery failed for 5 days",
  admin: "by an admin",
};

const STATE_BADGES: Record<Delivery["state"], string> = { pending: "draft", delivered: "completed", failed: "failed" };

const when = (at: string) => new Date(at).toLocaleString();

/**
 * The organization's webhooks, for its admins: the endpoints its events are sent to, each to
 * disable or enable, test with a ping, give a new secret, delete, and read the delivery log of
 * (with a redelivery per delivery); and a form to add one. A signing secret shows once, when it
 * is made: the API never answers it again.
 */
export function webhookCards(screen: Screen) {
  const list = listTable("webhooks-list", "Webhooks", ["URL", "Events", "State", ""]);
  const row = (webhook: Webhook) => endpointRow(screen, webhook, list.noneLeft);

  const [urlLabel, url] = field("Endpoint URL (https)", { id: "webhook-url", type: "url", required: true });
  const urlProblem = fieldProblem(url, "url");
  const events = choices(
    "webhook-events",
    "Events to send",
    ENUMS["tdt.hooks.v1.WebhookEventType"].values,
    EVENT_NAMES,
  );
  const eventsProblem = fieldProblem(events.fieldset, "events");
  const [descriptionLabel, description] = field("Description (optional)", { id: "webhook-description" });
  const problem = problemLine();
  const created = h("div", { id: "webhook-created" });
  const form = cardForm(
    "webhook-form",
    "Add a webhook",
    h(
      "p",
      {},
      "The organization's events of the types chosen are sent to the URL, signed with a secret (Standard Webhooks), as CloudEvents.",
    ),
    urlLabel,
    url,
    urlProblem.line,
    events.fieldset,
    eventsProblem.line,
    descriptionLabel,
    description,
    problem,
    h("button", { type: "submit" }, "Add webhook"),
    created,
  );
  onSubmit(
    form,
    problem,
    async () => {
      show(created);
      urlProblem.clear();
      eventsProblem.clear();
      const webhook = answerOf(
        await api.POST("/api/v1/webhooks", {
          body: { url: url.value.trim(), events: events.chosen(), description: description.value.trim() },
        }),
      );
      form.reset();
      list.add(row(webhook), "bottom");
      showSecretOnce(screen, created, "webhook-secret", `Signing secret of ${webhook.url}`, webhook.secret ?? "");
      screen.notify(`The webhook to ${webhook.url} is added.`);
    },
    (error) => {
      eventsProblem.tell(error);
      if (urlProblem.tell(error)) url.focus();
    },
  );

  const load = async () => {
    list.fill(answerOf(await api.GET("/api/v1/webhooks")).map(row));
  };
  return { cards: [list.table, form], load };
}

function endpointRow(screen: Screen, webhook: Webhook, removed: () => void): HTMLTableRowElement {
  let current = webhook;
  const path = { params: { path: { id: webhook.id } } };
  const urlId = `webhook-${webhook.id}-url`;
  const urlCell = h("td", { "data-label": "URL" });
  const eventsCell = h("td", { "data-label": "Events" });
  const stateCell = h("td", { "data-label": "State" });
  const secret = h("div", { class: "webhook-secret" });
  const log = deliveryLog(screen, webhook.id, urlId);

  const toggle = actionButton(screen, "", "webhook-toggle", urlId, async () => {
    const enabled = !current.enabled;
    draw(answerOf(await api.PATCH("/api/v1/webhooks/{id}", { ...path, body: { enabled } })));
    screen.notify(
      enabled
        ? `The webhook to ${current.url} is enabled: what waited is sent now.`
        : `The webhook to ${current.url} is disabled: its events wait until it is enabled again.`,
    );
  });
  const ping = actionButton(screen, "Send test ping", "webhook-ping", urlId, async () => {
    answerOf(await api.POST("/api/v1/webhooks/{id}/ping", path));
    screen.notify(`A test ping to ${current.url} is queued: its delivery shows in the delivery log.`);
    await log.open();
  });
  const rotate = actionButton(screen, "Rotate secret", "webhook-rotate", urlId, async () => {
    const { secret: fresh } = answerOf(await api.POST("/api/v1/webhooks/{id}/rotate-secret", path));
    showSecretOnce(screen, secret, `webhook-${webhook.id}-secret`, `New signing secret of ${current.url}`, fresh);
    screen.notify("The secret is new. For 24 hours each delivery is signed with the old one too.");
  });
  const remove = actionButton(screen, "Delete", "webhook-delete", urlId, async () => {
    if (!confirm(`Delete the webhook to ${current.url}? Its pending deliveries and its delivery log go with it.`)) {
      return;
    }
    answerOf(await api.DELETE("/api/v1/webhooks/{id}", path));
    row.remove();
    removed();
    screen.notify(`The webhook to ${current.url} is deleted.`);
  });

  const draw = (webhook: Webhook) => {
    current = webhook;
    show(
      urlCell,
      h("code", { id: urlId }, webhook.url),
      webhook.description ? h("div", { class: "muted" }, webhook.description) : null,
    );
    show(eventsCell, webhook.events.join(", "));
    show(
      stateCell,
      webhook.enabled
        ? h("span", { class: "badge completed" }, "enabled")
        : h("span", { class: "badge failed" }, "disabled"),
      !webhook.enabled && webhook.disabled_reason ? ` ${DISABLED_BECAUSE[webhook.disabled_reason]}` : null,
    );
    toggle.textContent = webhook.enabled ? "Disable" : "Enable";
  };
  draw(webhook);
  const row = h(
    "tr",
    { "data-webhook": webhook.id },
    urlCell,
    eventsCell,
    stateCell,
    h("td", {}, h("div", { class: "actions" }, toggle, ping, rotate, log.toggle, remove), secret, log.panel),
  );
  return row;
}

/**
 * An endpoint's delivery log, newest first, behind a button that shows and hides it: each
 * delivery's type, state and attempts (when, the status or why no answer came, how long), and a
 * button that sends it again. It reloads when asked (Refresh), not by itself, so that the
 * keyboard's place in it stays put.
 */
function deliveryLog(screen: Screen, webhookId: string, describedBy: string) {
  const path = { params: { path: { id: webhookId } } };
  const entries = h("ol", { class: "deliveries" });
  const refresh = actionButton(screen, "Refresh", "webhook-log-refresh", describedBy, () => fill());
  const panel = h(
    "div",
    { class: "delivery-log", id: `webhook-${webhookId}-log`, hidden: true },
    h("div", { class: "heading" }, h("h3", {}, "Delivery log"), refresh),
    entries,
  );
  const fill = async () => {
    const deliveries = answerOf(await api.GET("/api/v1/webhooks/{id}/deliveries", path));
    show(
      entries,
      ...(deliveries.length === 0
        ? [h("li", { class: "muted" }, "No delivery yet.")]
        : deliveries.map((delivery) => deliveryItem(screen, webhookId, delivery, () => refillAt(delivery.id)))),
    );
  };
  // The list is drawn anew: the keyboard goes back to the delivery it was on.
  const refillAt = async (deliveryId: string) => {
    await fill();
    entries.querySelector<HTMLButtonElement>(`[data-delivery="${deliveryId}"] .webhook-redeliver`)?.focus();
  };
  const toggle = h(
    "button",
    {
      type: "button",
      class: "secondary webhook-log",
      "aria-expanded": "false",
      "aria-controls": panel.id,
      "aria-describedby": describedBy,
    },
    "Delivery log",
  );
  const open = async () => {
    toggle.setAttribute("aria-expanded", "true");
    panel.hidden = false;
    await fill();
  };
  toggle.addEventListener("click", async () => {
    if (toggle.getAttribute("aria-expanded") === "true") {
      toggle.setAttribute("aria-expanded", "false");
      panel.hidden = true;
      return;
    }
    try {
      await open();
    } catch (error) {
      screen.fail(error);
    }
  });
  return { toggle, panel, open };
}

function deliveryItem(screen: Screen, webhookId: string, delivery: Delivery, refill: () => Promise<void>) {
  const summaryId = `delivery-${delivery.id}`;
  const redeliver = actionButton(screen, "Redeliver", "webhook-redeliver", summaryId, async () => {
    answerOf(
      await api.POST("/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", {
        params: { path: { id: webhookId, delivery_id: delivery.id } },
      }),
    );
    screen.notify(`The ${delivery.type} delivery is queued again: refresh the log to see its attempts.`);
    await refill();
  });
  return h(
    "li",
    { class: "delivery", "data-delivery": delivery.id, "data-state": delivery.state },
    h(
      "p",
      { id: summaryId },
      h("code", {}, delivery.type),
      " ",
      h("span", { class: `badge ${STATE_BADGES[delivery.state]}` }, delivery.state),
      ` · made ${when(delivery.created_at)}`,
    ),
    delivery.attempts.length === 0
      ? h("p", { class: "muted" }, "No attempt yet.")
      : h(
          "ul",
          { class: "attempts", "aria-label": "Attempts" },
          ...delivery.attempts.map((attempt) =>
            h(
              "li",
              {},
              `${when(attempt.at)}: `,
              attempt.status === undefined ? (attempt.error ?? "no answer") : `HTTP ${attempt.status}`,
              ` in ${attempt.latency_ms} ms`,
              attempt.excerpt ? h("span", { class: "muted" }, " · answered ", h("code", {}, attempt.excerpt)) : null,
            ),
          ),
        ),
    redeliver,
  );
}
