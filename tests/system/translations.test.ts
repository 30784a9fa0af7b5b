/**
 * Issue 30, trees in several languages, through the gateway: an author translates a tree's texts
 * per locale; a version is published with the translations it has; a session picks its locale (or
 * the browser's) and falls back to the tree's own text per field; a changed primary text marks its
 * translation outdated; a session in German reports in German.
 */
import { type SystemWithTeam, startSystemWithTeam } from "@tdt/test-support/system";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let running: SystemWithTeam;
let engineer: string;
let technician: string;

beforeAll(async () => {
  running = await startSystemWithTeam("sprachen");
  ({ engineer, technician } = running);
});

afterAll(async () => {
  await running?.stop();
});

interface Text {
  node_id: string;
  field: string;
  item_id: string;
  primary: string;
  text: string;
  outdated: boolean;
}
interface Translation {
  locale: string;
  language: string;
  version: number;
  texts: Text[];
}
interface Session {
  id: string;
  locale: string;
  current_node: { id: string; title: string; body: string; options?: Array<{ id: string; label: string }> };
  steps: Array<{ node_title: string }>;
}

function printer(powerTitle = "Is the power light on?") {
  return {
    title: "Printer does not print",
    category: "Printers",
    status: "published",
    language: "en",
    root_node_id: "power",
    nodes: [
      {
        id: "power",
        type: "question",
        title: powerTitle,
        body: "Look at the **front** panel.",
        options: [
          { id: "yes", label: "Yes", next: "done" },
          { id: "no", label: "No", next: "plug" },
        ],
      },
      { id: "plug", type: "action", title: "Plug it in", body: "", next: "done" },
      { id: "done", type: "solution", title: "Printing again", body: "", outcome: "resolved" },
    ],
  };
}

const GERMAN = [
  { node_id: "power", field: "title", item_id: "", text: "Leuchtet die Betriebsanzeige?" },
  { node_id: "power", field: "body", item_id: "", text: "Sehen Sie auf das **vordere** Bedienfeld." },
  { node_id: "power", field: "option_label", item_id: "yes", text: "Ja" },
  { node_id: "power", field: "option_label", item_id: "no", text: "Nein" },
  { node_id: "done", field: "title", item_id: "", text: "Druckt wieder" },
];

const call = <T>(method: string, path: string, token: string, json?: unknown, headers?: Record<string, string>) =>
  running.client.call<T>(method, path, {
    token,
    ...(json === undefined ? {} : { json }),
    ...(headers ? { headers } : {}),
  });

async function createTree(): Promise<{ id: string; version: number }> {
  const created = await call<{ id: string; version: number }>("POST", "/api/v1/trees", engineer, printer());
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
}

async function republish(id: string, version: number, body = printer()) {
  const updated = await call<{ version: number; translations: string[] }>("PUT", `/api/v1/trees/${id}`, engineer, {
    ...body,
    version,
  });
  expect(updated.status, JSON.stringify(updated.body)).toBe(200);
  return updated.body;
}

const start = (treeId: string, extra: Record<string, unknown> = {}, headers?: Record<string, string>) =>
  call<Session>("POST", "/api/v1/sessions", technician, { tree_id: treeId, ...extra }, headers);

describe("trees in several languages", () => {
  it("lists every text of the latest version beside its translation, and stores translations against it", async () => {
    const tree = await createTree();
    const empty = await call<Translation>("GET", `/api/v1/trees/${tree.id}/translations/de`, engineer);
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({ locale: "de", language: "en", version: 1 });
    expect(empty.body.texts.map((text) => `${text.node_id}:${text.field}:${text.item_id}`)).toEqual([
      "power:title:",
      "power:body:",
      "power:option_label:yes",
      "power:option_label:no",
      "plug:title:",
      "done:title:",
    ]);
    expect(empty.body.texts.every((text) => text.text === "" && !text.outdated)).toBe(true);

    const saved = await call<Translation>("PUT", `/api/v1/trees/${tree.id}/translations/de`, engineer, {
      texts: GERMAN,
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body.texts.find((text) => text.item_id === "no")).toMatchObject({
      primary: "No",
      text: "Nein",
      outdated: false,
    });
    const summary = await call<Array<{ locale: string; translated: number; outdated: number; total: number }>>(
      "GET",
      `/api/v1/trees/${tree.id}/translations`,
      engineer,
    );
    expect(summary.body).toEqual([{ locale: "de", translated: 5, outdated: 0, total: 6 }]);

    // An empty text removes its translation.
    const removed = await call<Translation>("PUT", `/api/v1/trees/${tree.id}/translations/de`, engineer, {
      texts: [{ node_id: "done", field: "title", item_id: "", text: "" }],
    });
    expect(removed.body.texts.find((text) => text.node_id === "done")?.text).toBe("");
  });

  it("refuses unknown texts, malformed locales and the tree's own language, and technicians", async () => {
    const tree = await createTree();
    const unknown = await call<{ detail: Array<{ loc: unknown[]; type: string }> }>(
      "PUT",
      `/api/v1/trees/${tree.id}/translations/de`,
      engineer,
      {
        texts: [
          { node_id: "power", field: "title", item_id: "", text: "Ok" },
          { node_id: "nowhere", field: "title", item_id: "", text: "Nirgends" },
          { node_id: "power", field: "option_label", item_id: "maybe", text: "Vielleicht" },
          { node_id: "power", field: "title", item_id: "", text: "Zweimal" },
        ],
      },
    );
    expect(unknown.status).toBe(422);
    expect(unknown.body.detail.map((problem) => `${problem.loc.join(".")}:${problem.type}`)).toEqual([
      "body.texts.1:unknown_text",
      "body.texts.2:unknown_text",
      "body.texts.3:duplicate_text",
    ]);
    // Nothing of a refused request was written.
    const after = await call<Translation>("GET", `/api/v1/trees/${tree.id}/translations/de`, engineer);
    expect(after.body.texts.every((text) => text.text === "")).toBe(true);

    for (const [locale, type] of [
      ["de_DE", "locale_pattern"],
      ["german", "locale_pattern"],
      ["en", "primary_language"],
    ]) {
      const refused = await call<{ detail: Array<{ type: string }> }>(
        "GET",
        `/api/v1/trees/${tree.id}/translations/${locale}`,
        engineer,
      );
      expect(refused.status, locale).toBe(422);
      expect(refused.body.detail[0]?.type).toBe(type);
    }
    const forbidden = await call("GET", `/api/v1/trees/${tree.id}/translations/de`, technician);
    expect(forbidden.status).toBe(403);
    const missing = await call("GET", "/api/v1/trees/00000000-0000-4000-8000-000000000000/translations/de", engineer);
    expect(missing.status).toBe(404);
  });

  it("runs a session in the locale its version was published with, falling back per field", async () => {
    const tree = await createTree();
    await call("PUT", `/api/v1/trees/${tree.id}/translations/de`, engineer, { texts: GERMAN.slice(0, 3) });
    // Version 1 was published before the translation: a session on it runs in English.
    const before = await start(tree.id, { locale: "de" });
    expect(before.status).toBe(201);
    expect(before.body.locale).toBe("en");
    expect(before.body.current_node.title).toBe("Is the power light on?");

    const republished = await republish(tree.id, tree.version);
    expect(republished.translations).toEqual(["de"]);
    const german = await start(tree.id, { locale: "de" });
    expect(german.body.locale).toBe("de");
    expect(german.body.current_node.title).toBe("Leuchtet die Betriebsanzeige?");
    expect(german.body.current_node.body).toBe("Sehen Sie auf das **vordere** Bedienfeld.");
    // "Nein" was not translated: the tree's own label, field by field.
    expect(german.body.current_node.options?.map((option) => option.label)).toEqual(["Ja", "No"]);
    expect(german.body.steps[0]?.node_title).toBe("Leuchtet die Betriebsanzeige?");

    // The browser's language when the request names none; a region falls back to its language.
    const browser = await start(tree.id, {}, { "accept-language": "de-AT,de;q=0.9,en;q=0.5" });
    expect(browser.body.locale).toBe("de");
    // A language the version lacks runs in the tree's own.
    const french = await start(tree.id, { locale: "fr" });
    expect(french.body.locale).toBe("en");
    const malformed = await start(tree.id, { locale: "de_DE" });
    expect(malformed.status).toBe(422);
  });

  it("marks a translation outdated when its primary text changes, and a new version leaves it out", async () => {
    const tree = await createTree();
    await call("PUT", `/api/v1/trees/${tree.id}/translations/de`, engineer, { texts: GERMAN });
    const changed = await republish(tree.id, tree.version, printer("Is the green power light on?"));
    expect(changed.translations).toEqual(["de"]);
    const translation = await call<Translation>("GET", `/api/v1/trees/${tree.id}/translations/de`, engineer);
    expect(translation.body.texts.find((text) => text.node_id === "power" && text.field === "title")).toMatchObject({
      primary: "Is the green power light on?",
      text: "Leuchtet die Betriebsanzeige?",
      outdated: true,
    });
    expect(translation.body.texts.filter((text) => text.outdated)).toHaveLength(1);
    const session = await start(tree.id, { locale: "de" });
    // The outdated title shows the tree's own text; the rest is German.
    expect(session.body.current_node.title).toBe("Is the green power light on?");
    expect(session.body.current_node.options?.map((option) => option.label)).toEqual(["Ja", "Nein"]);
    // Saved again, it is up to date.
    const fixed = await call<Translation>("PUT", `/api/v1/trees/${tree.id}/translations/de`, engineer, {
      texts: [{ node_id: "power", field: "title", item_id: "", text: "Leuchtet die grüne Betriebsanzeige?" }],
    });
    expect(fixed.body.texts.filter((text) => text.outdated)).toHaveLength(0);
  });

  it("finds a tree by the words of its translations, stemmed as their language is", async () => {
    const tree = await createTree();
    await call("PUT", `/api/v1/trees/${tree.id}/translations/de`, engineer, {
      texts: [
        {
          node_id: "plug",
          field: "title",
          item_id: "",
          text: "Stecken Sie den Netzstecker der Druckerwarteschlangen ein",
        },
      ],
    });
    const search = (q: string) =>
      call<Array<{ id: string }>>("GET", `/api/v1/trees/search?q=${encodeURIComponent(q)}`, technician);
    // Not before a version carries the translation.
    expect((await search("Druckerwarteschlange")).body.map((hit) => hit.id)).not.toContain(tree.id);
    await republish(tree.id, tree.version);
    // The singular finds the plural: German stemming, which English would not do.
    expect((await search("Druckerwarteschlange")).body.map((hit) => hit.id)).toContain(tree.id);
    expect((await search("Netzstecker Druckerwarteschlange")).body.map((hit) => hit.id)).toContain(tree.id);
    // English search still works as it did.
    expect((await search("power light")).body.map((hit) => hit.id)).toContain(tree.id);
  });

  it("reports a German session in German", async () => {
    const tree = await createTree();
    await call("PUT", `/api/v1/trees/${tree.id}/translations/de`, engineer, { texts: GERMAN });
    await republish(tree.id, tree.version);
    const session = (await start(tree.id, { locale: "de" })).body;
    const answered = await call<Session>("PUT", `/api/v1/sessions/${session.id}`, technician, {
      op: "answer",
      node_id: "power",
      option_id: "yes",
    });
    expect(answered.body.current_node.title).toBe("Druckt wieder");
    const completed = await call("POST", `/api/v1/sessions/${session.id}/complete`, technician, {});
    expect(completed.status).toBe(200);
    const report = await call<string>("POST", `/api/v1/sessions/${session.id}/export?format=markdown`, technician);
    const markdown = String(report.body);
    expect(markdown).toContain("# Fehlersuchbericht: Printer does not print");
    expect(markdown).toContain("- Ergebnis: gelöst");
    expect(markdown).toContain("## Schritte");
    expect(markdown).toContain("| Leuchtet die Betriebsanzeige? | Ja |");
    expect(markdown).toContain("| Druckt wieder |");
    const pdf = await call<Buffer>("POST", `/api/v1/sessions/${session.id}/export?format=pdf`, technician);
    expect(pdf.status).toBe(200);
  });
});
