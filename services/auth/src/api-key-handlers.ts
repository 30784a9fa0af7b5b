import { randomUUID } from "node:crypto";
import {
  ACCESS_TOKEN_TYPE,
  type AccessClaims,
  AppError,
  checks,
  type Handlers,
  type RequestContext,
  type Sql,
} from "@tdt/kit";
import type { ApiKey, AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import { type ApiKeyRow, createApiKey, listApiKeys, revokeApiKey, useApiKey } from "./api-keys.js";
import type { SigningKeys } from "./keys.js";
import { signToken } from "./token-minting.js";

type ApiKeyRpc = "listApiKeys" | "createApiKey" | "deleteApiKey" | "useApiKey";

/** How long the access token of one request of a key lasts: the gateway uses it at once. */
export const API_KEY_TOKEN_SECONDS = 60;

const toApiKey = (row: ApiKeyRow, key?: string): ApiKey => ({
  id: row.id,
  name: row.name,
  scopes: row.scopes,
  daily_quota: row.daily_quota,
  used_today: row.used_today,
  created_at: row.created_at.toISOString(),
  ...(row.last_used_at ? { last_used_at: row.last_used_at.toISOString() } : {}),
  ...(key ? { key } : {}),
});

/**
 * An organization's API keys, managed by its admins (the organization of their token), and the
 * gateway's one question per request of a key: is it good, and may it have one more today.
 */
export function apiKeyHandlers(deps: {
  sql: Sql;
  keys: SigningKeys;
  authorize: (rpc: ApiKeyRpc, ctx: RequestContext) => Promise<AccessClaims>;
  now?: () => Date;
}): Pick<Handlers<typeof AuthServiceService>, ApiKeyRpc> {
  const { sql, authorize } = deps;
  const now = deps.now ?? (() => new Date());
  return {
    async listApiKeys(_request, ctx) {
      const claims = await authorize("listApiKeys", ctx);
      return { api_keys: (await listApiKeys(sql, claims.org, now())).map((row) => toApiKey(row)) };
    },

    async createApiKey(request, ctx) {
      const claims = await authorize("createApiKey", ctx);
      const found = checks().contract("tdt.auth.v1.CreateApiKeyRequest", request);
      if (request.name.trim() === "") found.problems.push({ loc: ["body", "name"], msg: "A name", type: "too_short" });
      if (request.scopes.length === 0) {
        found.problems.push({ loc: ["body", "scopes"], msg: "At least one scope", type: "too_short" });
      }
      if (request.daily_quota < 1) {
        found.problems.push({ loc: ["body", "daily_quota"], msg: "At least 1", type: "greater_than_equal" });
      }
      found.done();
      const made = await createApiKey(sql, {
        orgId: claims.org,
        name: request.name.trim(),
        scopes: [...new Set(request.scopes)],
        dailyQuota: request.daily_quota,
        createdBy: claims.sub,
      });
      return { api_key: toApiKey(made, made.key) };
    },

    async deleteApiKey(request, ctx) {
      const claims = await authorize("deleteApiKey", ctx);
      checks().uuid(["path", "id"], request.id).done();
      if (!(await revokeApiKey(sql, claims.org, request.id))) throw new AppError("not_found");
      return {};
    },

    async useApiKey(request) {
      const at = now();
      const use = await useApiKey(sql, request.key, at);
      if (use.outcome === "unknown") throw new AppError("invalid_token");
      if (use.outcome === "exhausted") {
        return {
          access_token: "",
          scopes: use.key.scopes,
          daily_quota: use.key.daily_quota,
          remaining: 0,
          resets_in_seconds: use.secondsLeft,
          exhausted: true,
        };
      }
      const iat = Math.floor(at.getTime() / 1000);
      const access_token = signToken(
        {
          sub: use.key.id,
          sid: use.key.id,
          role: "admin",
          org: use.key.org_id,
          scope: use.key.scopes.join(" "),
          jti: randomUUID(),
          iat,
          exp: iat + API_KEY_TOKEN_SECONDS,
        },
        await deps.keys.signingKey(),
        ACCESS_TOKEN_TYPE,
      );
      return {
        access_token,
        scopes: use.key.scopes,
        daily_quota: use.key.daily_quota,
        remaining: use.remaining,
        resets_in_seconds: use.secondsLeft,
        exhausted: false,
      };
    },
  };
}
