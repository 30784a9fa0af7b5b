import type { Session } from "@tdt/proto/tdt/sessions/v1/sessions";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";
import { pdfText } from "@tdt/test-support/pdf";
import { describe, expect, it } from "vitest";
import { fontHasGlyph, scriptRuns } from "../src/reports/pdf-fonts.js";
import { renderReport } from "../src/reports/report.js";

const NOTES = {
  polish: "Zażółć gęślą jaźń",
  russian: "Привет, принтер не печатает",
  greek: "Καλημέρα, ο εκτυπωτής δεν τυπώνει",
  chinese: "打印机无法打印",
  japanese: "プリンターが印刷できません",
  korean: "프린터가 인쇄되지 않습니다",
};

const tree = {
  id: "t",
  title: "Drukarka nie drukuje — Принтер",
  version: 1,
  nodes: [{ id: "q", type: "question", title: "Q", body: "", options: [] }],
} as unknown as Tree;

function sessionWith(
  notes: string,
  stepNote: string,
  stepTitle = "Czy drukarka jest włączona? 電源は入っていますか",
): Session {
  return {
    id: "0f8fad5b-d9cb-469f-a165-70867728950e",
    tree_id: "t",
    tree_version: 1,
    tree_title: tree.title,
    user_id: "u",
    user_name: "Łukasz Żółtowski",
    user_email: "lukasz@example.com",
    locale: "en",
    status: "completed",
    outcome: "escalated",
    current_node: undefined,
    steps: [
      {
        seq: 1,
        node_id: "q",
        node_title: stepTitle,
        option_id: "",
        option_label: "",
        note: stepNote,
        entered_at: "2026-01-01T10:00:00.000Z",
        left_at: "2026-01-01T10:01:05.000Z",
        duration_ms: 65_000,
        tree_id: "t",
        tree_version: 1,
      },
    ],
    notes,
    context: {},
    started_at: "2026-01-01T10:00:00.000Z",
    updated_at: "2026-01-01T10:01:10.000Z",
    completed_at: "2026-01-01T10:01:10.000Z",
  };
}

/** pdf.js may split a line at font changes; compare with the spaces it adds taken out. */
const squeeze = (text: string) => text.replace(/\s+/g, "");

describe("the PDF report", () => {
  it("prints Polish, Cyrillic, Greek, Chinese, Japanese and Korean as written", async () => {
    const file = await renderReport(sessionWith(Object.values(NOTES).join("\n"), NOTES.russian), [tree], "pdf");
    const text = squeeze(await pdfText(new Uint8Array(file.content)));
    for (const [script, note] of Object.entries(NOTES)) expect(text, script).toContain(squeeze(note));
    expect(text).toContain(squeeze("Łukasz Żółtowski"));
    expect(text).toContain(squeeze("Czy drukarka jest włączona? 電源は入っていますか"));
    expect(text).toContain(squeeze(tree.title));
  });

  it("embeds the CJK fonts only when the report needs them", async () => {
    const latin = await renderReport(
      { ...sessionWith("Plain notes", "ok", "Is it on?"), tree_title: "Printer" },
      [{ ...tree, title: "Printer" }],
      "pdf",
    );
    const mixed = await renderReport(sessionWith(NOTES.chinese, NOTES.korean), [tree], "pdf");
    const fontsOf = (pdf: Buffer) =>
      [...pdf.toString("latin1").matchAll(/\/BaseFont \/[A-Z]{6}\+([\w-]+)/g)].map((m) => m[1]);
    expect(new Set(fontsOf(latin.content))).toEqual(new Set(["DejaVuSans", "DejaVuSans-Bold"]));
    expect(fontsOf(mixed.content)).toEqual(expect.arrayContaining(["NotoSansSC-Regular", "NotoSansKR-Regular"]));
    // Subsets: a report with a few CJK characters stays small.
    expect(mixed.content.length).toBeLessThan(300_000);
  });
});

describe("script runs", () => {
  it("cut text where the font must change, keeping spaces with their run", () => {
    expect(scriptRuns("Printer 打印机 프린터 ok")).toEqual([
      { family: "text", text: "Printer " },
      { family: "cjk", text: "打印机 " },
      { family: "hangul", text: "프린터 " },
      { family: "text", text: "ok" },
    ]);
    expect(scriptRuns("")).toEqual([]);
  });

  it("keep a character in the run whose font can draw it: alternating scripts make two runs, not one per character", () => {
    const canDraw = (family: "text" | "cjk" | "hangul", char: string) => fontHasGlyph(family, char);
    const alternating = Array.from({ length: 10_000 }, (_, index) => (index % 2 === 0 ? "a" : "漢")).join("");
    expect(scriptRuns(alternating, canDraw)).toEqual([
      { family: "text", text: "a" },
      { family: "cjk", text: alternating.slice(1) },
    ]);
    // Noto Sans KR has Latin letters too; neither CJK font has the other's script.
    expect(scriptRuns("Printer 打印机 프린터 ok", canDraw)).toEqual([
      { family: "text", text: "Printer " },
      { family: "cjk", text: "打印机 " },
      { family: "hangul", text: "프린터 ok" },
    ]);
    // ż is in DejaVu Sans only, 漢 in the CJK font only: each change of script is still a run.
    expect(scriptRuns("ż漢ż漢", canDraw)).toHaveLength(4);
  });
});
