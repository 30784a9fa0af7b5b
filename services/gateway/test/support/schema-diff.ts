/**
 * For moving a route's schemas into the protos: which of each table route's schemas (params,
 * querystring, body, success response) equal what the contract derives (api/contract-schemas.ts)
 * and which still differ, with the difference. A part that is SAME can leave the route's binding.
 *
 *   npx tsx services/gateway/test/support/schema-diff.ts [rpc…]
 */
import { type AccessTokenVerifier, createLogger } from "@tdt/kit";
import { HTTP_ROUTES } from "@tdt/proto/tdt/contract";
import { derivedSchemas } from "../../src/api/contract-schemas.js";
import { closeDownstream, connectDownstream } from "../../src/api/downstream.js";
import { buildGateway } from "../../src/app.js";

const wanted = process.argv.slice(2);
const downstream = connectDownstream({
  authAddress: "127.0.0.1:1",
  treesAddress: "127.0.0.1:1",
  sessionsAddress: "127.0.0.1:1",
  hooksAddress: "127.0.0.1:1",
  grpcDeadlineMs: 1,
});
const declared = new Map<string, Record<string, unknown>>();
const app = await buildGateway({
  log: createLogger("gateway", "silent"),
  downstream,
  verifier: {} as AccessTokenVerifier,
  corsOrigins: [],
  onRoute: (route) => {
    const url = Array.isArray(route.method) ? "" : `${route.method} ${route.url}`;
    if (route.schema) declared.set(url, route.schema as Record<string, unknown>);
  },
});
await app.ready();
for (const entry of HTTP_ROUTES) {
  if (wanted.length > 0 && !wanted.includes(entry.rpc)) continue;
  const url = `${entry.method} ${entry.path.replace(/\{(\w+)\}/g, ":$1")}`;
  const schema = declared.get(url);
  if (!schema) {
    console.log(`${entry.rpc}: not declared at ${url}`);
    continue;
  }
  const derived = derivedSchemas({ ...entry, bodyField: entry.body }) as Record<string, unknown>;
  const status = entry.status ?? 200;
  const success = status === 204 || status === 302 ? undefined : (schema.response as Record<string, unknown>)[status];
  const parts = { params: schema.params, querystring: schema.querystring, body: schema.body, response: success };
  const line: string[] = [];
  for (const [name, bound] of Object.entries(parts)) {
    const from = derived[name];
    if (bound === undefined && from === undefined) continue;
    const same = JSON.stringify(bound) === JSON.stringify(from);
    line.push(
      `${name}=${same ? "SAME" : bound === undefined ? "derived-only" : from === undefined ? "bound-only" : "DIFF"}`,
    );
    if (!same && wanted.length > 0) {
      console.log(`--- ${entry.rpc} ${name}\n  bound:   ${JSON.stringify(bound)}\n  derived: ${JSON.stringify(from)}`);
    }
  }
  console.log(`${entry.rpc.padEnd(24)} ${line.join(" ")}`);
}
await app.close();
closeDownstream(downstream);
