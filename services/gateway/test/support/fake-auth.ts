import { randomUUID } from "node:crypto";
import { AppError, type Handlers } from "@tdt/kit";
import { AuthServiceService, type SessionPolicy, type User } from "@tdt/proto/tdt/auth/v1/auth";
import { FakeService } from "./fake-service.js";
import { SigningKeys } from "./signing-keys.js";

type Auth = typeof AuthServiceService;

export const SAMPLE_ORGANIZATION = {
  id: "00000000-0000-4000-8000-000000000001",
  name: "Default",
  slug: "default",
  role: "technician",
  created_at: "2025-01-02T03:04:05.000Z",
  current: true,
};

export const STRICT_POLICY: SessionPolicy = {
  preset: "strict",
  idle_max_seconds: 3 * 86_400,
  abs_max_seconds: 14 * 86_400,
  reuse_grace_seconds: 0,
};

export function sampleUser(overrides: Partial<User> = {}): User {
  return {
    id: randomUUID(),
    email: "tech@example.com",
    full_name: "Tess Tech",
    role: "technician",
    is_active: true,
    created_at: "2025-01-02T03:04:05.000Z",
    ...overrides,
  };
}

/** The auth service, faked (see FakeService), with the signing keys its tokens and JWKS come from. */
export class FakeAuth extends FakeService<Auth> {
  private constructor(readonly keys: SigningKeys) {
    super(AuthServiceService, "tdt.auth.v1.AuthService");
  }

  static async start(): Promise<FakeAuth> {
    const fake = new FakeAuth(await SigningKeys.create());
    await fake.listen();
    return fake;
  }

  private async tokens() {
    return {
      access_token: await this.keys.accessToken(),
      refresh_token: `refresh-${randomUUID()}`,
      token_type: "bearer",
      expires_in: 900,
    };
  }

  protected readonly defaults: Handlers<Auth> = {
    register: async () => ({ detail: "verification_sent" }),
    login: async () => ({ tokens: await this.tokens() }),
    refresh: async () => ({ tokens: await this.tokens() }),
    getMe: async () => ({
      user: sampleUser(),
      linked_providers: [],
      has_password: true,
      email_verified: true,
      organization: SAMPLE_ORGANIZATION,
      is_platform_admin: false,
    }),
    logout: async () => ({}),
    listLoginSessions: async () => ({
      sessions: [
        {
          sid: randomUUID(),
          created_at: "2025-01-02T03:04:05.000Z",
          last_used_at: "2025-01-02T04:04:05.000Z",
          user_agent: "vitest",
          ip: "127.0.0.1",
          idle_expires_at: "2025-01-05T04:04:05.000Z",
          absolute_expires_at: "2025-01-16T03:04:05.000Z",
          current: true,
        },
      ],
    }),
    revokeLoginSession: async () => ({}),
    listUserLoginSessions: async () => ({ sessions: [] }),
    revokeUserLoginSession: async () => ({}),
    listUsers: async (request) => {
      const everyone = Array.from({ length: 3 }, (_, i) => sampleUser({ email: `user${i}@example.com` }));
      return { users: everyone.slice(request.skip, request.skip + request.limit), total: everyone.length };
    },
    updateUser: async (request) => ({
      user: sampleUser({
        id: request.id,
        ...(request.role === undefined ? {} : { role: request.role }),
        ...(request.is_active === undefined ? {} : { is_active: request.is_active }),
      }),
    }),
    getSessionPolicy: async () => ({ policy: STRICT_POLICY }),
    setSessionPolicy: async (request) => ({
      policy:
        request.preset === "custom"
          ? {
              preset: "custom",
              idle_max_seconds: request.idle_max_seconds ?? 0,
              abs_max_seconds: request.abs_max_seconds ?? 0,
              reuse_grace_seconds: request.reuse_grace_seconds ?? 0,
            }
          : { ...STRICT_POLICY, preset: request.preset },
    }),
    getJwks: async () => ({ jwks_json: JSON.stringify(this.keys.jwks()) }),
    listOidcProviders: async () => ({ providers: [{ id: "example", name: "Example" }] }),
    beginOidcLogin: async () => ({
      authorization_url: "https://idp.example.com/authorize?state=s",
      binding: "b".repeat(43),
      expires_in: 600,
    }),
    completeOidcLogin: async () => ({ redirect_to: "http://localhost:8000/?code=c" }),
    exchangeOidcCode: async () => ({ tokens: await this.tokens() }),
    oidcBackchannelLogout: async () => ({}),
    unlinkOidcIdentity: async () => ({}),
    setPassword: async () => ({}),
    beginOidcLink: async () => ({
      authorization_url: "https://idp.example.com/authorize?state=s",
      binding: "b".repeat(43),
      expires_in: 600,
    }),
    verifyEmail: async () => ({}),
    resendVerification: async () => ({ detail: "verification_sent" }),
    forgotPassword: async () => ({ detail: "reset_sent" }),
    resetPassword: async () => ({}),
    changeEmail: async () => ({ detail: "verification_sent" }),
    createInvite: async (request) => ({
      invite: { email: request.email, role: request.role, expires_at: "2025-01-09T03:04:05.000Z" },
    }),
    acceptInvite: async (request) => ({ user: sampleUser({ full_name: request.full_name }) }),
    listOrganizations: async () => ({ organizations: [SAMPLE_ORGANIZATION] }),
    createOrganization: async (request) => ({
      organization: { ...SAMPLE_ORGANIZATION, name: request.name, slug: request.slug, role: "admin", current: false },
    }),
    switchOrganization: async () => ({ tokens: await this.tokens() }),
    getOrganizationPolicy: async () => ({ policy: STRICT_POLICY }),
    setOrganizationPolicy: async (request) => ({ policy: { ...STRICT_POLICY, preset: request.preset } }),
    removeOrganizationMember: async () => ({}),
    addOrganizationMember: async (request) => ({
      member: { email: request.email, role: request.role, status: "member" },
    }),
    getOrganization: async (request) => ({ organization: organizationSettings(request.id) }),
    setOrganizationDomains: async (request) => ({
      organization: { ...organizationSettings(request.id), domains: request.domains },
    }),
    setOrganizationLimits: async (request) => ({
      organization: { ...organizationSettings(request.id), limits: { max_members: request.max_members } },
    }),
    listOrganizationSsoProviders: async () => ({ providers: [] }),
    createOrganizationSsoProvider: async (request) => ({ provider: ssoProvider(request.provider_id, request) }),
    updateOrganizationSsoProvider: async (request) => ({ provider: ssoProvider(request.provider_id, request) }),
    deleteOrganizationSsoProvider: async () => ({}),
    listApiKeys: async () => ({ api_keys: [] }),
    createApiKey: async () => ({
      api_key: {
        id: randomUUID(),
        name: "A machine",
        scopes: ["trees:read"],
        daily_quota: 100,
        used_today: 0,
        created_at: new Date().toISOString(),
        key: `tdt_${"A".repeat(43)}`,
      },
    }),
    deleteApiKey: async () => ({}),
    // A fake knows no key.
    useApiKey: async () => {
      throw new AppError("invalid_token");
    },
  };
}

const organizationSettings = (id: string) => ({
  id,
  name: "Default",
  slug: "default",
  domains: [],
  limits: { max_members: undefined },
  members: 1,
  open_invitations: 0,
});

const ssoProvider = (
  id: string,
  given: { name: string; issuer: string; client_id: string; scopes: string[]; allowed_domains: string[] },
) => ({
  id,
  name: given.name,
  issuer: given.issuer,
  client_id: given.client_id,
  scopes: given.scopes,
  default_role: "technician",
  allowed_domains: given.allowed_domains,
  callback_url: `http://localhost:8000/api/v1/auth/oidc/${id}/callback`,
  created_at: "2026-11-01T08:00:00.000Z",
  updated_at: "2026-11-01T08:00:00.000Z",
});
