import { ENUMS, type EnumValue } from "@tdt/proto/tdt/contract";
import { actionButton } from "../action-button.js";
import { answerOf, api, type Schemas } from "../api.js";
import { h, show } from "../dom.js";
import { cardForm, choices, field, fieldProblem, onSubmit, problemLine } from "../form.js";
import { dateTime, t, wordFor } from "../i18n.js";
import { listTable } from "../list-table.js";
import { rich } from "../rich-message.js";
import type { Screen } from "../screen.js";
import { showSecretOnce } from "../secret-once.js";

type Webhook = Schemas["Webhook"];
type Delivery = Schemas["WebhookDelivery"];
type EventType = EnumValue<"tdt.hooks.v1.WebhookEventType">;

const EVENT_TYPES = ENUMS["tdt.hooks.v1.WebhookEventType"].values;
/** What each event an endpoint may ask for is, for the person choosing (the list is the contract's): `event.<type>`. */
const eventNames = () =>
  Object.fromEntries(EVENT_TYPES.map((type) => [type, wordFor("event", type)])) as Record<EventType, string>;

const STATE_BADGES: Record<Delivery["state"], string> = { pending: "draft", delivered: "completed", failed: "failed" };

/**
 * The organization's webhooks, for its admins: the endpoints its events are sent to, each to
 * disable or enable, test with a ping, give a new secret, delete, and read the delivery log of
 * (with a redelivery per delivery); and a form to add one. A signing secret shows once, when it
 * is made: the API never answers it again.
 */
export function webhookCards(screen: Screen) {
  const list = listTable("webhooks-list", t("webhooks.title"), [...Object.values(columns()), ""]);
  const row = (webhook: Webhook) => endpointRow(screen, webhook, list.noneLeft);

  const [urlLabel, url] = field(t("webhooks.url"), { id: "webhook-url", type: "url", required: true });
  const urlProblem = fieldProblem(url, "url");
  const events = choices("webhook-events", t("webhooks.eventsToSend"), EVENT_TYPES, eventNames());
  const eventsProblem = fieldProblem(events.fieldset, "events");
  const [descriptionLabel, description] = field(t("webhooks.description"), { id: "webhook-description" });
  const problem = problemLine();
  const created = h("div", { id: "webhook-created" });
  const form = cardForm(
    "webhook-form",
    t("webhooks.add"),
    h("p", {}, t("webhooks.addIntro")),
    urlLabel,
    url,
    urlProblem.line,
    events.fieldset,
    eventsProblem.line,
    descriptionLabel,
    description,
    problem,
    h("button", { type: "submit" }, t("webhooks.addSubmit")),
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
      showSecretOnce(
        screen,
        created,
        "webhook-secret",
        t("webhooks.secretOf", { url: webhook.url }),
        webhook.secret ?? "",
      );
      screen.notify(t("webhooks.added", { url: webhook.url }));
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

/** The list's column titles, each also its cells' `data-label`. */
const columns = () => ({ url: t("webhooks.urlColumn"), events: t("webhooks.events"), state: t("webhooks.state") });

function endpointRow(screen: Screen, webhook: Webhook, removed: () => void): HTMLTableRowElement {
  let current = webhook;
  const path = { params: { path: { id: webhook.id } } };
  const urlId = `webhook-${webhook.id}-url`;
  const column = columns();
  const urlCell = h("td", { "data-label": column.url });
  const eventsCell = h("td", { "data-label": column.events });
  const stateCell = h("td", { "data-label": column.state });
  const secret = h("div", { class: "webhook-secret" });
  const log = deliveryLog(screen, webhook.id, urlId);

  const toggle = actionButton(screen, "", "webhook-toggle", urlId, async () => {
    const enabled = !current.enabled;
    draw(answerOf(await api.PATCH("/api/v1/webhooks/{id}", { ...path, body: { enabled } })));
    screen.notify(
      enabled ? t("webhooks.enabledNotice", { url: current.url }) : t("webhooks.disabledNotice", { url: current.url }),
    );
  });
  const ping = actionButton(screen, t("webhooks.ping"), "webhook-ping", urlId, async () => {
    answerOf(await api.POST("/api/v1/webhooks/{id}/ping", path));
    screen.notify(t("webhooks.pinged", { url: current.url }));
    await log.open();
  });
  const rotate = actionButton(screen, t("webhooks.rotate"), "webhook-rotate", urlId, async () => {
    const { secret: fresh } = answerOf(await api.POST("/api/v1/webhooks/{id}/rotate-secret", path));
    showSecretOnce(
      screen,
      secret,
      `webhook-${webhook.id}-secret`,
      t("webhooks.newSecretOf", { url: current.url }),
      fresh,
    );
    screen.notify(t("webhooks.rotated"));
  });
  const remove = actionButton(screen, t("webhooks.delete"), "webhook-delete", urlId, async () => {
    if (!confirm(t("webhooks.confirmDelete", { url: current.url }))) return;
    answerOf(await api.DELETE("/api/v1/webhooks/{id}", path));
    row.remove();
    removed();
    screen.notify(t("webhooks.deleted", { url: current.url }));
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
        ? h("span", { class: "badge completed" }, t("webhooks.enabled"))
        : h("span", { class: "badge failed" }, t("webhooks.disabled")),
      !webhook.enabled && webhook.disabled_reason ? ` ${wordFor("disabledBecause", webhook.disabled_reason)}` : null,
    );
    toggle.textContent = webhook.enabled ? t("webhooks.disable") : t("webhooks.enable");
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
  const refresh = actionButton(screen, t("webhooks.refresh"), "webhook-log-refresh", describedBy, () => fill());
  const panel = h(
    "div",
    { class: "delivery-log", id: `webhook-${webhookId}-log`, hidden: true },
    h("div", { class: "heading" }, h("h3", {}, t("webhooks.log")), refresh),
    entries,
  );
  const fill = async () => {
    const deliveries = answerOf(await api.GET("/api/v1/webhooks/{id}/deliveries", path));
    show(
      entries,
      ...(deliveries.length === 0
        ? [h("li", { class: "muted" }, t("webhooks.noDelivery"))]
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
    t("webhooks.log"),
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
  const redeliver = actionButton(screen, t("webhooks.redeliver"), "webhook-redeliver", summaryId, async () => {
    answerOf(
      await api.POST("/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", {
        params: { path: { id: webhookId, delivery_id: delivery.id } },
      }),
    );
    screen.notify(t("webhooks.redelivered", { type: delivery.type }));
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
      h("span", { class: `badge ${STATE_BADGES[delivery.state]}` }, wordFor("deliveryState", delivery.state)),
      " ",
      t("webhooks.made", { at: dateTime(delivery.created_at) }),
    ),
    delivery.attempts.length === 0
      ? h("p", { class: "muted" }, t("webhooks.noAttempt"))
      : h(
          "ul",
          { class: "attempts", "aria-label": t("webhooks.attempts") },
          ...delivery.attempts.map((attempt) =>
            h(
              "li",
              {},
              t("webhooks.attempt", {
                at: dateTime(attempt.at),
                answer:
                  attempt.status === undefined
                    ? (attempt.error ?? t("webhooks.noAnswer"))
                    : t("webhooks.httpStatus", { status: attempt.status }),
                ms: attempt.latency_ms,
              }),
              attempt.excerpt
                ? h("span", { class: "muted" }, " ", ...rich("webhooks.answered", { excerpt: attempt.excerpt }))
                : null,
            ),
          ),
        ),
    redeliver,
  );
}
