import { type AccessTokenVerifier, type RevocationList, verifierFromAuthService } from "@tdt/kit";
import { freePort } from "@tdt/test-support/ports";
import { testLogger } from "@tdt/test-support/silent-logger";
import type { FastifyInstance } from "fastify";
import { closeDownstream, connectDownstream, type Downstream } from "../../src/api/downstream.js";
import { buildGateway } from "../../src/app.js";

export interface TestGateway {
  app: FastifyInstance;
  downstream: Downstream;
  verifier: AccessTokenVerifier;
  close(): Promise<void>;
}

/**
 * The gateway in process, its auth client dialling `authPort`, its trees and sessions clients
 * `treesPort` and `sessionsPort` (without a port, where nothing listens). The JWKS is fetched again on
 * every unknown `kid`, so a rotation shows at once.
 */
export async function startTestGateway(
  authPort: number,
  options: {
    revocations?: RevocationList;
    trustProxy?: boolean;
    treesPort?: number;
    sessionsPort?: number;
    hooksPort?: number;
    corsOrigins?: string[];
    /** The web app's folder, served at `/`. */
    webRoot?: string;
    /** MEDIA_MAX_BYTES: the most of an upload the gateway reads. */
    mediaMaxBytes?: number;
  } = {},
): Promise<TestGateway> {
  const [treesPort, sessionsPort] = await Promise.all([
    options.treesPort ?? freePort(),
    options.sessionsPort ?? freePort(),
  ]);
  const log = testLogger("gateway");
  const downstream = connectDownstream({
    authAddress: `127.0.0.1:${authPort}`,
    treesAddress: `127.0.0.1:${treesPort}`,
    sessionsAddress: `127.0.0.1:${sessionsPort}`,
    hooksAddress: `127.0.0.1:${options.hooksPort ?? (await freePort())}`,
    grpcDeadlineMs: 2_000,
  });
  const { revocations } = options;
  const verifier = verifierFromAuthService({
    auth: downstream.auth,
    log,
    refetchIntervalMs: 0,
    ...(revocations ? { check: (claims) => revocations.check(claims) } : {}),
  });
  const app = await buildGateway({
    log,
    downstream,
    verifier,
    corsOrigins: options.corsOrigins ?? [],
    ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
    webRoot: options.webRoot,
    ...(options.mediaMaxBytes === undefined ? {} : { mediaMaxBytes: options.mediaMaxBytes }),
  });
  await app.ready();
  return {
    app,
    downstream,
    verifier,
    close: async () => {
      await app.close();
      closeDownstream(downstream);
    },
  };
}
