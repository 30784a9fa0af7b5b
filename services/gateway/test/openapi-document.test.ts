/**
 * The OpenAPI document as a client generator and a reader of the docs use it: every JSON body,
 * sent or answered, shows a real example valid against its own schema; every error lists its
 * codes from the catalogue; unions say which value picks which variant.
 */

import { readFile } from "node:fs/promises";
import { ERROR_CODES, errorCatalogueMarkdown, isErrorCode } from "@tdt/proto/contracts/error-codes";
import { SOLUTION_OUTCOMES } from "@tdt/proto/contracts/outcomes";
import { SSO_LOGIN_ERRORS, ssoLoginErrorsMarkdown } from "@tdt/proto/contracts/sso";
import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import { beforeAll, describe, expect, it } from "vitest";
import { ERROR_CATALOGUE_URL } from "../src/api/docs.js";
import { openApiDocument } from "../src/api/openapi-document.js";

type Schema = Record<string, unknown>;
interface Media {
  schema?: Schema;
  /** Where @fastify/swagger moves an inline schema's examples: one, or several by name. */
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}
interface Operation {
  operationId?: string;
  tags?: string[];
  security?: unknown;
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
}
interface Document {
  info: { description: string };
  tags: Array<{ name: string; description?: string; "x-traitTag"?: boolean; "x-displayName"?: string }>;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

let document: Document;
let ajv: Ajv;

beforeAll(async () => {
  document = (await openApiDocument()) as Document;
  ajv = addFormats.default(new Ajv({ strict: false, discriminator: true, allErrors: true }));
  ajv.addFormat("binary", true);
  // ajv validates unions by `discriminator` alone (as the gateway does) and refuses a `mapping`.
  const withoutMappings = JSON.parse(JSON.stringify(document), (key, value) => (key === "mapping" ? undefined : value));
  ajv.addSchema(withoutMappings, "openapi.json");
});

/** The schema a `$ref` names, or the schema itself. */
function resolve(schema: Schema): Schema {
  const ref = schema.$ref;
  if (typeof ref !== "string") return schema;
  const name = ref.replace("#/components/schemas/", "");
  return resolve(document.components.schemas[name] ?? {});
}

/** The examples of a schema: its own, or for an array, its items' (Swagger UI shows them so). */
function examplesOf(schema: Schema): unknown[] {
  const resolved = resolve(schema);
  if (Array.isArray(resolved.examples) && resolved.examples.length > 0) return resolved.examples;
  if (resolved.type === "array" && resolved.items) return examplesOf(resolved.items as Schema).map((item) => [item]);
  return [];
}

/** A body's examples: beside its schema (inline schemas) or in it (shared ones). */
function bodyExamples({ media, schema }: { media: Media; schema: Schema }): unknown[] {
  if (media.example !== undefined) return [media.example];
  if (media.examples) return Object.values(media.examples).map((example) => example.value);
  return examplesOf(schema);
}

interface Body {
  where: string;
  pointer: string;
  schema: Schema;
  media: Media;
}

/** Every JSON body of the document: where it is, the JSON pointer of its schema, and the schema. */
function jsonBodies(): Body[] {
  const pointerPart = (part: string) => part.replaceAll("~", "~0").replaceAll("/", "~1");
  const bodies: Body[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const base = `openapi.json#/paths/${pointerPart(path)}/${method}`;
      const parts: Array<[string, string, Record<string, Media> | undefined]> = [
        ["request", "requestBody", operation.requestBody?.content],
        ...Object.entries(operation.responses).map(
          ([status, response]) =>
            [status, `responses/${status}`, response.content] as [string, string, typeof response.content],
        ),
      ];
      for (const [label, at, content] of parts) {
        for (const [type, media] of Object.entries(content ?? {})) {
          const { schema } = media;
          if (!schema || (schema.type === "string" && schema.format === "binary")) continue;
          if (resolve(schema).type === "null") continue;
          bodies.push({
            where: `${method.toUpperCase()} ${path} ${label} ${type}`,
            pointer: `${base}/${at}/content/${pointerPart(type)}/schema`,
            schema,
            media,
          });
        }
      }
    }
  }
  return bodies;
}

describe("the OpenAPI document's examples", () => {
  it("gives every JSON body, request and response, an example", () => {
    const bodies = jsonBodies();
    expect(bodies.length).toBeGreaterThan(60);
    const missing = bodies.filter((body) => bodyExamples(body).length === 0).map(({ where }) => where);
    expect(missing).toEqual([]);
  });

  it("has only examples that are valid against their own schemas", () => {
    const invalid: string[] = [];
    for (const body of jsonBodies()) {
      const validate = ajv.compile({ $ref: body.pointer });
      for (const example of bodyExamples(body)) {
        if (!validate(example)) invalid.push(`${body.where}: ${ajv.errorsText(validate.errors)}`);
      }
    }
    expect(invalid.join("\n")).toEqual("");
  });

  it("shows no placeholder strings as examples", () => {
    const text = JSON.stringify(jsonBodies().flatMap(bodyExamples));
    expect(text).not.toMatch(/"string"/);
  });
});

describe("the OpenAPI document's contract for generated clients", () => {
  it("lists every error answer's detail codes as an enum of catalogue codes of that status", () => {
    let checked = 0;
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) < 400 || status === "422") continue;
          const schema = resolve(response.content?.["application/json"]?.schema ?? {});
          const codes = (schema.properties as { detail?: { enum?: string[] } } | undefined)?.detail?.enum;
          expect(codes, `${method} ${path} ${status}`).toBeDefined();
          for (const code of codes ?? []) {
            expect(isErrorCode(code), `${method} ${path} ${status}: ${code}`).toBe(true);
            if (isErrorCode(code)) expect(ERROR_CODES[code].status, `${method} ${path} ${code}`).toBe(Number(status));
          }
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it("maps each step and each session policy to its variant", () => {
    const mapping = (name: string) =>
      (document.components.schemas[name]?.discriminator as { mapping?: object })?.mapping;
    expect(mapping("StepOperation")).toEqual({
      answer: "#/components/schemas/StepAnswer",
      continue: "#/components/schemas/StepContinue",
      back: "#/components/schemas/StepBack",
      note: "#/components/schemas/StepNote",
      submit: "#/components/schemas/StepSubmit",
    });
    expect(mapping("SessionPolicyChoice")).toEqual({
      strict: "#/components/schemas/PresetSessionPolicy",
      standard: "#/components/schemas/PresetSessionPolicy",
      aal2: "#/components/schemas/PresetSessionPolicy",
      custom: "#/components/schemas/CustomSessionPolicy",
    });
  });

  it("maps each node type to its variant, in answers and in what authors send", () => {
    const mapping = (name: string) =>
      (document.components.schemas[name]?.discriminator as { mapping?: object })?.mapping;
    expect(mapping("Node")).toEqual({
      question: "#/components/schemas/QuestionNode",
      action: "#/components/schemas/ActionNode",
      solution: "#/components/schemas/SolutionNode",
      link: "#/components/schemas/LinkNode",
      form: "#/components/schemas/FormNode",
      logic: "#/components/schemas/LogicNode",
    });
    expect(mapping("NodeInput")).toEqual({
      question: "#/components/schemas/QuestionNodeInput",
      action: "#/components/schemas/ActionNodeInput",
      solution: "#/components/schemas/SolutionNodeInput",
      link: "#/components/schemas/LinkNodeInput",
      form: "#/components/schemas/FormNodeInput",
      logic: "#/components/schemas/LogicNodeInput",
    });
  });

  it("spells a solution's outcome as a session's in answers, and still takes the old spelling in", () => {
    const answered = document.components.schemas.SolutionNode?.properties as Record<string, { enum?: string[] }>;
    const sent = document.components.schemas.SolutionNodeInput?.properties as Record<string, { enum?: string[] }>;
    const session = document.components.schemas.Session?.properties as Record<string, { enum?: unknown[] }>;
    // Today: resolved, escalated (the contract's solution outcomes); `escalate` is the old spelling.
    expect(answered.outcome?.enum).toEqual(SOLUTION_OUTCOMES);
    for (const outcome of answered.outcome?.enum ?? []) expect(session.outcome?.enum).toContain(outcome);
    expect(sent.outcome?.enum).toEqual([...SOLUTION_OUTCOMES, "escalate"]);
  });
});

/** A Markdown table cell by cell: the docs' formatter pads the columns. */
const cells = (markdown: string | undefined) =>
  (markdown ?? "").split("\n").map((row) =>
    row
      .split("|")
      .map((cell) => cell.trim().replace(/^-+$/, "---"))
      .filter(Boolean),
  );

/** Every operation of the document, named `METHOD /path`. */
function operations(): Array<[string, Operation]> {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(
      ([method, operation]) => [`${method.toUpperCase()} ${path}`, operation] as [string, Operation],
    ),
  );
}

/** Every schema object `schema` holds or reaches through `$ref`s (each shared schema once). */
function reachable(schema: unknown, seen = new Set<string>()): Schema[] {
  if (typeof schema !== "object" || schema === null) return [];
  if (Array.isArray(schema)) return schema.flatMap((item) => reachable(item, seen));
  const object = schema as Schema;
  if (typeof object.$ref === "string") {
    const name = object.$ref.replace("#/components/schemas/", "");
    if (seen.has(name)) return [];
    seen.add(name);
    return reachable(document.components.schemas[name], seen);
  }
  // `examples` hold values, not schemas; `properties` maps names (`default` may be one) to schemas.
  const nested = Object.entries(object)
    .filter(([key]) => key !== "examples" && key !== "example")
    .flatMap(([key, value]) =>
      key === "properties" && typeof value === "object" && value !== null ? Object.values(value) : [value],
    );
  return [object, ...nested.flatMap((value) => reachable(value, seen))];
}

/** Every schema a request body holds or reaches, with where. */
function requestSchemas(): Array<[string, Schema]> {
  return operations().flatMap(([name, operation]) =>
    Object.values(operation.requestBody?.content ?? {}).flatMap((media) =>
      reachable(media.schema).map((schema) => [name, schema] as [string, Schema]),
    ),
  );
}

describe("the OpenAPI document as stock client generators read it", () => {
  it("has no `default` anywhere a request body reaches: openapi-typescript would make such a field required", () => {
    const schemas = requestSchemas();
    expect(schemas.length).toBeGreaterThan(100);
    const withDefault = schemas.filter(([, schema]) => "default" in schema).map(([name]) => name);
    expect(withDefault).toEqual([]);
  });

  it("asks no request to send a field the service sets: nothing a request reaches is readOnly and required", () => {
    const readOnlyRequired = requestSchemas().flatMap(([name, schema]) => {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const required = (schema.required ?? []) as string[];
      return required.filter((field) => properties[field]?.readOnly === true).map((field) => `${name}: ${field}`);
    });
    expect(readOnlyRequired.join("\n")).toEqual("");
  });

  it("sends trees as authors write them: no field of a tree that the service sets", () => {
    const setByService = ["id", "created_by", "created_at", "updated_at"];
    for (const name of ["TreeInput", "TreeUpdate"]) {
      const properties = Object.keys(document.components.schemas[name]?.properties ?? {});
      expect(
        properties.filter((field) => setByService.includes(field)),
        name,
      ).toEqual([]);
    }
    expect(Object.keys(document.components.schemas.TreeInput?.properties ?? {})).not.toContain("version");
    expect(document.components.schemas.TreeUpdate?.required).toContain("version");
  });

  it("names every operation with an operationId of its own", () => {
    const ids = operations().map(([name, operation]) => operation.operationId ?? `(none: ${name})`);
    expect(ids.length).toBeGreaterThan(40);
    expect(ids.filter((id) => !/^[a-z][A-Za-z]+$/.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("says the security of every operation: a token, or `[]` for a public one", () => {
    const said = [JSON.stringify([]), JSON.stringify([{ oauth2: [] }, { bearer: [] }])];
    const unsaid = operations().filter(([, { security }]) => !said.includes(JSON.stringify(security)));
    expect(unsaid.map(([name]) => name)).toEqual([]);
    expect(operations().filter(([, { security }]) => JSON.stringify(security) === "[]").length).toBeGreaterThan(10);
  });

  it("declares every answer that is not JSON as what it is: text as a string, anything else as binary", () => {
    const answers = operations().flatMap(([name, operation]) =>
      Object.entries(operation.responses).flatMap(([status, response]) =>
        Object.entries(response.content ?? {})
          .filter(([type]) => !type.includes("json"))
          .map(([type, media]) => [`${name} ${status} ${type}`, type, media.schema ?? {}] as const),
      ),
    );
    expect(answers.length).toBeGreaterThanOrEqual(3);
    for (const [where, type, schema] of answers) {
      if (type.startsWith("text/")) {
        expect(schema, where).toMatchObject({ type: "string" });
        expect(schema.format, where).toBeUndefined();
      } else {
        expect(schema, where).toMatchObject({ type: "string", format: "binary", contentMediaType: type });
      }
    }
  });
});

describe("the docs a reader opens", () => {
  it("open on what the API is, how to sign in and how errors look, with the catalogue a link away", () => {
    const { description } = document.info;
    expect(description).toContain("Authorize");
    expect(description).toContain('{"detail": "<code>"}');
    expect(description).toContain(`[Error codes](${ERROR_CATALOGUE_URL})`);
    expect(description).not.toContain("|");
    expect(description.length).toBeLessThan(800);
  });

  it("list the groups of operations first, each described, and the catalogue last, on a tag no operation has", () => {
    const used = new Set(operations().flatMap(([, operation]) => operation.tags ?? []));
    expect(document.tags.map((tag) => tag.name)).toEqual(["auth", "trees", "sessions", "hooks", "health", "errors"]);
    for (const tag of document.tags) expect(tag.description?.length, tag.name).toBeGreaterThan(20);
    expect([...used].sort()).toEqual(["auth", "health", "hooks", "sessions", "trees"]);
    // Swagger UI shows it last, after the endpoints; ReDoc shows a trait tag as a section of its own.
    expect(document.tags.at(-1)).toMatchObject({ name: "errors", "x-traitTag": true, "x-displayName": "Error codes" });
    expect(ERROR_CATALOGUE_URL).toBe("/api/redoc#tag/errors");
  });
});

describe("the one catalogue of error codes", () => {
  it("is the errors tag's description and in docs/http-api.md, as generated from the contract", async () => {
    const table = errorCatalogueMarkdown();
    expect(table.split("\n")).toHaveLength(Object.keys(ERROR_CODES).length + 2);
    expect(document.tags.find((tag) => tag.name === "errors")?.description).toContain(table);
    const doc = await readFile(new URL("../../../docs/http-api.md", import.meta.url), "utf8");
    const section = doc.match(/<!-- error-codes:start[^>]*-->\n([\s\S]*?)\n<!-- error-codes:end -->/)?.[1];
    expect(
      cells(section),
      "docs/http-api.md's error-codes section; regenerate it from errorCatalogueMarkdown()",
    ).toEqual(cells(table));
  });
});

describe("the single sign-on error codes", () => {
  it("are in the providers route's description and in docs/single-sign-on.md, as generated from the contract", async () => {
    const table = ssoLoginErrorsMarkdown();
    expect(table.split("\n")).toHaveLength(Object.keys(SSO_LOGIN_ERRORS).length + 2);
    const providers = document.paths["/api/v1/auth/providers"]?.get as { description?: string } | undefined;
    expect(providers?.description).toContain(table);
    const doc = await readFile(new URL("../../../docs/single-sign-on.md", import.meta.url), "utf8");
    const section = doc.match(/<!-- sso-errors:start[^>]*-->\n([\s\S]*?)\n<!-- sso-errors:end -->/)?.[1];
    expect(cells(section)).toEqual(cells(table));
  });
});
