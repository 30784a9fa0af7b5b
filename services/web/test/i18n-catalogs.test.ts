/**
 * The web app's catalogs (src/messages): German has exactly the English keys, every message of
 * both parses as ICU MessageFormat and asks for the same values and marks the same parts, and
 * every closed value of the contract the screens show has words. Outside a browser the app speaks
 * English, which the other web tests rely on.
 */
import { OUTCOMES } from "@tdt/proto/contracts/outcomes";
import { ENUMS } from "@tdt/proto/tdt/contract";
import { IntlMessageFormat } from "intl-messageformat";
import { describe, expect, it } from "vitest";
import { t, wordFor } from "../src/i18n.js";
import { de } from "../src/messages/de.js";
import { en } from "../src/messages/en.js";

const CATALOGS = { en, de } as Record<string, Record<string, string>>;

/** A parsed message's parts, as intl-messageformat's parser gives them. */
type Element = { type: number; value?: unknown; options?: Record<string, { value: Element[] }>; children?: Element[] };

/** Literal text (0) and `#` (7) name nothing; every other part names a value or a tag. */
const NAMELESS = new Set([0, 7]);

/** The values a message asks for and the tags it marks, each once, sorted (`strong`, `{count, plural…}`…). */
function namesIn(elements: Element[], into = new Set<string>()): string[] {
  for (const element of elements) {
    if (!NAMELESS.has(element.type) && typeof element.value === "string") into.add(element.value);
    for (const option of Object.values(element.options ?? {})) namesIn(option.value, into);
    namesIn(element.children ?? [], into);
  }
  return [...into].sort();
}

const parsed = (language: string, key: string) =>
  new IntlMessageFormat(CATALOGS[language]?.[key] ?? "", language).getAst() as unknown as Element[];

describe("the web app's catalogs", () => {
  it("has the same keys in German as in English", () => {
    expect(Object.keys(de).sort()).toEqual(Object.keys(en).sort());
    for (const [key, message] of Object.entries(de)) expect(message.trim(), key).not.toBe("");
  });

  it("parses every message, with the same values and tags in both languages", () => {
    for (const key of Object.keys(en)) {
      const english = namesIn(parsed("en", key));
      expect(namesIn(parsed("de", key)), key).toEqual(english);
    }
  });

  it("keeps every message without values as written (no text lost to ICU quoting)", () => {
    for (const [language, catalog] of Object.entries(CATALOGS)) {
      for (const [key, message] of Object.entries(catalog)) {
        if (namesIn(parsed(language, key)).length > 0) continue;
        expect(new IntlMessageFormat(message, language).format(), `${language} ${key}`).toBe(message);
      }
    }
  });

  it("counts in each language's plural forms", () => {
    const seats = (language: string, members: number, invitations: number) =>
      new IntlMessageFormat(CATALOGS[language]?.["settings.seatsUnlimited"] ?? "", language).format({
        members,
        invitations,
      });
    expect(seats("en", 1, 0)).toBe("1 member and 0 open invitations, no limit.");
    expect(seats("en", 2, 1)).toBe("2 members and 1 open invitation, no limit.");
    expect(seats("de", 1, 0)).toBe("1 Mitglied und 0 offene Einladungen, ohne Grenze.");
    expect(seats("de", 2, 1)).toBe("2 Mitglieder und 1 offene Einladung, ohne Grenze.");
    expect(new IntlMessageFormat(de["analytics.exits"], "de").format({ count: 1 })).toBe("1 endete hier");
    expect(new IntlMessageFormat(de["analytics.exits"], "de").format({ count: 3 })).toBe("3 endeten hier");
  });

  it("has words for every closed value of the contract the screens show", () => {
    const shown: Record<string, readonly string[]> = {
      role: ENUMS["tdt.auth.v1.Role"].values,
      roleOption: ENUMS["tdt.auth.v1.Role"].values,
      outcome: OUTCOMES,
      completeAs: OUTCOMES,
      sessionStatus: ENUMS["tdt.sessions.v1.SessionStatus"].values,
      treeStatus: ENUMS["tdt.trees.v1.TreeStatus"].values,
      nodeType: ENUMS["tdt.trees.v1.NodeType"].values,
      variableType: ENUMS["tdt.trees.v1.VariableType"].values,
      textField: ENUMS["tdt.trees.v1.TextField"].values,
      historyAction: ENUMS["tdt.trees.v1.HistoryAction"].values,
      event: ENUMS["tdt.hooks.v1.WebhookEventType"].values,
      disabledBecause: ENUMS["tdt.hooks.v1.DisabledReason"].values,
      deliveryState: ENUMS["tdt.hooks.v1.DeliveryState"].values,
      scope: ENUMS["tdt.auth.v1.ApiKeyScope"].values,
      // A custom policy is the API's alone: the page offers the named presets.
      preset: ENUMS["tdt.auth.v1.SessionPolicyPreset"].values.filter((preset) => preset !== "custom"),
      sessionCount: ["started", "completed", ...OUTCOMES, "abandoned"],
    };
    const missing = Object.entries(shown).flatMap(([group, values]) =>
      values.map((value) => `${group}.${value}`).filter((key) => !Object.hasOwn(en, key)),
    );
    expect(missing).toEqual([]);
  });

  it("speaks English outside a browser, and names a value added to the contract since as itself", () => {
    expect(t("trees.facts", { category: "Printers", count: 1, version: 3 })).toBe("Printers · 1 node · version 3");
    expect(t("trees.facts", { category: "Printers", count: 12, version: 3 })).toBe("Printers · 12 nodes · version 3");
    expect(wordFor("sessionStatus", "in_progress")).toBe("in progress");
    expect(wordFor("outcome", "postponed")).toBe("postponed");
  });
});
