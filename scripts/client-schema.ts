/**
 * The TypeScript of the API client (clients/api/src/schema.ts) from an OpenAPI document, by
 * openapi-typescript's own API, as its CLI writes it. `npm run generate:client` and the
 * typed-client system test (which feeds it the document the running gateway serves) both call
 * `clientSchemaSource`, so a difference between them is a difference in the documents.
 *
 *   node scripts/dist/client-schema.js <openapi.json> <schema.ts>
 */
import { readFile, writeFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import openapiTS, { astToString, COMMENT_HEADER, type OpenAPI3 } from "openapi-typescript";

export async function clientSchemaSource(document: unknown): Promise<string> {
  const nodes = await openapiTS(document as OpenAPI3, {
    // A field with a default may be left out of a request (answers list what they carry in `required`).
    defaultNonNullable: false,
    silent: true,
  });
  return `${COMMENT_HEADER}${astToString(nodes)}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) throw new Error("usage: client-schema.js <openapi.json> <schema.ts>");
  const document: unknown = JSON.parse(await readFile(input, "utf8"));
  await writeFile(output, await clientSchemaSource(document));
}
