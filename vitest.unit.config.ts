import { defineConfig } from "vitest/config";
import { testSettings } from "./vitest.config.js";

// `npm run test:unit`: the tests that need neither Postgres nor NATS nor a spawned service, so
// they run in seconds and pass with both unreachable. An explicit list: a test file joins it
// once it passes with DATABASE_URL=postgres://127.0.0.1:1/x NATS_URL=nats://127.0.0.1:1 (in-process
// gRPC servers and fastify instances on loopback are fine). `npm test` still runs all of them.
export default defineConfig({
  test: {
    ...testSettings("unit"),
    include: [
      "services/auth/test/client-address.test.ts",
      "services/auth/test/policy.test.ts",
      "services/auth/test/refresh.test.ts",
      "services/gateway/test/auth-routes.test.ts",
      "services/gateway/test/authentication.test.ts",
      "services/gateway/test/contract-derivation.test.ts",
      "services/gateway/test/declared-routes.test.ts",
      "services/gateway/test/downstream-health.test.ts",
      "services/gateway/test/gateway-shell.test.ts",
      "services/gateway/test/http-errors.test.ts",
      "services/gateway/test/schema-drift.test.ts",
      "services/gateway/test/sessions-routes.test.ts",
      "services/gateway/test/shutdown.test.ts",
      "services/gateway/test/transport.test.ts",
      "services/gateway/test/trees-routes.test.ts",
      "services/gateway/test/web-app.test.ts",
      "services/hooks/test/address-guard.test.ts",
      "services/hooks/test/cloud-event.test.ts",
      "services/hooks/test/deliver.test.ts",
      "services/hooks/test/retry-schedule.test.ts",
      "services/hooks/test/signing.test.ts",
      "services/kit/test/authorization.test.ts",
      "services/kit/test/caller-identity.test.ts",
      "services/kit/test/database-errors.test.ts",
      "services/kit/test/errors.test.ts",
      "services/kit/test/grpc-input-guard.test.ts",
      "services/kit/test/grpc-tls.test.ts",
      "services/kit/test/grpc.test.ts",
      "services/kit/test/jwks-cache.test.ts",
      "services/kit/test/request-checks.test.ts",
      "services/kit/test/request-context.test.ts",
      "services/kit/test/text-guard.test.ts",
      "services/sessions/test/markdown-report.test.ts",
      "services/sessions/test/render-queue.test.ts",
      "services/sessions/test/reports.test.ts",
      "services/sessions/test/step-engine.test.ts",
      "services/trees/test/demo.test.ts",
      "services/trees/test/search-query.test.ts",
      "services/trees/test/validation.property.test.ts",
      "services/trees/test/validation.test.ts",
      "services/web/test/tree-map-model.test.ts",
      "tests/client/operation-coverage.test.ts",
      "tests/deploy/dockerfile.test.ts",
      "tests/faults/retry-policy.test.ts",
      "tests/scripts/exit-reason.test.ts",
    ],
  },
});
