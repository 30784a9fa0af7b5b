/**
 * The TypeScript of the API client (clients/api/src/schema.ts) from an OpenAPI document, by
 * openapi-typescript's own API, as its CLI writes it. `npm run generate:client` and the
 * typed-client system test (which feeds it the document the running gateway serves) both call
 * `clientSchemaSource`, so a difference between them is a difference in the documents.
 *
 * openapi-typescript's default options, plus one addition of the package's: a binary answer
 * (`format: binary`, the PDF report) is a `Blob`, as a browser's fetch reads it, where stock
 * output says `string`. Nothing else needs an option: the document keeps request schemas free of
 * `default`s (tests/contract/stock-client.test.ts compiles a program against stock output).
 *
 *   node scripts/dist/client-schema.js <openapi.json> <schema.ts>
 */
import { readFile, writeFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import openapiTS, { astToString, COMMENT_HEADER, type OpenAPI3 } from "openapi-typescript";
import ts from "typescript";

const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier("Blob"));

export async function clientSchemaSource(document: unknown): Promise<string> {
  const nodes = await openapiTS(document as OpenAPI3, {
    silent: true,
    transform: (schema) => (schema.format === "binary" ? BLOB : undefined),
  });
  return `${COMMENT_HEADER}${astToString(nodes)}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) throw new Error("usage: client-schema.js <openapi.json> <schema.ts>");
  const document: unknown = JSON.parse(await readFile(input, "utf8"));
  await writeFile(output, await clientSchemaSource(document));
}
