/**
 * In the repository, the package's own types stand in for the file the check generates: the
 * repository's type-check of tests/ then reads program.ts too. ../stock-client.test.ts does not
 * copy this file: in its folder, stock openapi-typescript writes schema.ts from the document.
 */
export type { components, paths } from "@tdt/api-client";
