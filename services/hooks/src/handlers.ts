/**
 * The HooksService's handlers: an organization's admins manage its endpoints and read their
 * delivery logs. Every read and write is in a transaction of the caller's organization (the
 * database's wall): another organization's endpoint is not found, as everywhere.
 */
import { randomUUID } from "node:crypto";
import {
  type AccessTokenVerifier,
  AppError,
  authorizer,
  checks,
  type Handlers,
  type Problem,
  type RequestContext,
  type Sql,
} from "@tdt/kit";
import { HOOKS_ACCESS } from "@tdt/proto/contracts/access";
import type { HooksServiceService, Webhook, WebhookDelivery } from "@tdt/proto/tdt/hooks/v1/hooks";
import type { AddressGuard, Refusal } from "./address-guard.js";
import { cloudEvent } from "./cloud-event.js";
import { deliveriesOf, enqueueFor, type LoggedDelivery, redeliver } from "./delivery-store.js";
import {
  createEndpoint,
  deleteEndpoint,
  type Endpoint,
  getEndpoint,
  listEndpoints,
  rotateSecret,
  updateEndpoint,
} from "./endpoint-store.js";

/** How long a rotated-out secret still signs (docs/decisions/hooks.md). */
export const ROTATION_OVERLAP_SECONDS = 24 * 3600;

/** The sentence a 422 at `body.url` says for each refusal. */
const REFUSALS: Record<Refusal, string> = {
  not_a_url: "Not a URL",
  scheme_not_allowed: "Must be an https URL",
  credentials_in_url: "Must not carry a user name or password",
  address_not_allowed:
    "Its host is (or resolves to) a loopback, private, link-local or reserved address, which WEBHOOK_ALLOW_PRIVATE does not list",
  http_not_allowed: "Must be https: plain http only reaches an address WEBHOOK_ALLOW_PRIVATE lists",
  unresolvable: "Its host name does not resolve",
};

export interface HooksDeps {
  sql: Sql;
  verifier: AccessTokenVerifier;
  guard: AddressGuard;
  /** Resolves names for the URL check (the system's by default; tests give their own). */
  lookup?: Parameters<AddressGuard["resolve"]>[1];
  /** The deployment's address: a ping's `source`. */
  publicUrl: string;
  /** Something was queued (a ping, a redelivery): the worker looks now. */
  queued: () => void;
}

const toWebhook = (endpoint: Endpoint, secret?: string): Webhook => ({
  id: endpoint.id,
  url: endpoint.url,
  events: endpoint.event_types,
  description: endpoint.description,
  enabled: endpoint.enabled,
  ...(endpoint.disabled_reason ? { disabled_reason: endpoint.disabled_reason } : {}),
  created_at: endpoint.created_at.toISOString(),
  updated_at: endpoint.updated_at.toISOString(),
  ...(secret ? { secret } : {}),
});

const toDelivery = (delivery: LoggedDelivery): WebhookDelivery => ({
  id: delivery.id,
  event_id: delivery.event_id,
  type: delivery.type,
  state: delivery.state,
  created_at: delivery.created_at.toISOString(),
  attempts: delivery.attempts.map((attempt) => ({
    // json_agg gives the times as text.
    at: new Date(attempt.at).toISOString(),
    ...(attempt.status === null ? {} : { status: attempt.status }),
    latency_ms: attempt.latency_ms,
    ...(attempt.error === null ? {} : { error: attempt.error }),
    excerpt: attempt.excerpt,
  })),
});

const notFound = () => new AppError("not_found");

export function hooksHandlers(deps: HooksDeps): Handlers<typeof HooksServiceService> {
  const { sql, guard } = deps;
  const authorize = authorizer(deps.verifier, HOOKS_ACCESS);
  type Rpc = keyof typeof HOOKS_ACCESS;

  /** The caller's organization, once the caller is one of its admins. */
  const organizationOf = async (rpc: Rpc, ctx: RequestContext) => (await authorize(rpc, ctx)).org;

  const checkId = (id: string, loc: Problem["loc"] = ["path", "id"]) => checks().uuid(loc, id).done();

  /** The URL's own rules and its address now; the address is checked again at every delivery. */
  const checkUrl = async (text: string) => {
    const parsed = guard.checkUrl(text);
    const refusal = "refused" in parsed ? parsed.refused : undefined;
    const resolved = "url" in parsed ? await guard.resolve(parsed.url, deps.lookup) : undefined;
    const refused = refusal ?? (resolved && "refused" in resolved ? resolved.refused : undefined);
    if (refused) {
      throw AppError.invalid([{ loc: ["body", "url"], msg: REFUSALS[refused], type: `url_${refused}` }]);
    }
  };

  const checkEvents = (events: string[], required: boolean) => {
    if (required && events.length === 0) {
      throw AppError.invalid([{ loc: ["body", "events"], msg: "At least one event type", type: "too_short" }]);
    }
  };

  return {
    async listWebhooks(_request, ctx) {
      const org = await organizationOf("listWebhooks", ctx);
      return { webhooks: (await listEndpoints(sql, org)).map((endpoint) => toWebhook(endpoint)) };
    },

    async createWebhook(request, ctx) {
      const org = await organizationOf("createWebhook", ctx);
      checks().contract("tdt.hooks.v1.CreateWebhookRequest", request).done();
      checkEvents(request.events, true);
      await checkUrl(request.url);
      const made = await createEndpoint(sql, org, {
        url: request.url,
        event_types: [...new Set(request.events)],
        description: request.description,
      });
      if (!made) throw new AppError("webhook_limit_reached");
      return { webhook: toWebhook(made, made.secret) };
    },

    async getWebhook(request, ctx) {
      const org = await organizationOf("getWebhook", ctx);
      checkId(request.id);
      const endpoint = await getEndpoint(sql, org, request.id);
      if (!endpoint) throw notFound();
      return { webhook: toWebhook(endpoint) };
    },

    async updateWebhook(request, ctx) {
      const org = await organizationOf("updateWebhook", ctx);
      checkId(request.id);
      checks().contract("tdt.hooks.v1.UpdateWebhookRequest", request).done();
      if (request.url !== undefined) await checkUrl(request.url);
      const endpoint = await updateEndpoint(sql, org, request.id, {
        url: request.url,
        // An empty list means "not given" on the wire (proto3): the events stay.
        event_types: request.events.length > 0 ? [...new Set(request.events)] : undefined,
        description: request.description,
        enabled: request.enabled,
      });
      if (!endpoint) throw notFound();
      if (request.enabled) deps.queued();
      return { webhook: toWebhook(endpoint) };
    },

    async deleteWebhook(request, ctx) {
      const org = await organizationOf("deleteWebhook", ctx);
      checkId(request.id);
      if (!(await deleteEndpoint(sql, org, request.id))) throw notFound();
      return {};
    },

    async rotateWebhookSecret(request, ctx) {
      const org = await organizationOf("rotateWebhookSecret", ctx);
      checkId(request.id);
      const secret = await rotateSecret(sql, org, request.id, ROTATION_OVERLAP_SECONDS);
      if (!secret) throw notFound();
      return { secret };
    },

    async pingWebhook(request, ctx) {
      const org = await organizationOf("pingWebhook", ctx);
      checkId(request.id);
      const id = randomUUID();
      const now = new Date();
      const body = cloudEvent({
        id,
        source: deps.publicUrl.replace(/\/+$/, ""),
        type: "tdt.ping",
        subject: request.id,
        time: now,
        data: { webhook_id: request.id },
      });
      const deliveryId = await enqueueFor(sql, request.id, {
        orgId: org,
        eventId: id,
        type: "tdt.ping",
        orderingKey: `ping:${id}`,
        occurredAt: now,
        body: JSON.stringify(body),
      });
      if (!deliveryId) throw notFound();
      deps.queued();
      return { delivery_id: deliveryId };
    },

    async listWebhookDeliveries(request, ctx) {
      const org = await organizationOf("listWebhookDeliveries", ctx);
      checkId(request.id);
      checks().contract("tdt.hooks.v1.ListWebhookDeliveriesRequest", request, ["query"]).done();
      const deliveries = await deliveriesOf(sql, org, request.id, request.limit || 50);
      if (!deliveries) throw notFound();
      return { deliveries: deliveries.map(toDelivery) };
    },

    async redeliverWebhookDelivery(request, ctx) {
      const org = await organizationOf("redeliverWebhookDelivery", ctx);
      checks().uuid(["path", "id"], request.id).uuid(["path", "delivery_id"], request.delivery_id).done();
      const queued = await redeliver(sql, org, request.id, { deliveryId: request.delivery_id });
      if (!queued) throw notFound();
      deps.queued();
      return { queued };
    },

    async redeliverWebhookDeliveries(request, ctx) {
      const org = await organizationOf("redeliverWebhookDeliveries", ctx);
      checkId(request.id);
      const since = request.since ? new Date(request.since) : undefined;
      if (!since || Number.isNaN(since.getTime())) {
        throw AppError.invalid([{ loc: ["body", "since"], msg: "A date-time", type: "datetime" }]);
      }
      const queued = await redeliver(sql, org, request.id, { since });
      if (queued === undefined) throw notFound();
      deps.queued();
      return { queued };
    },
  };
}
