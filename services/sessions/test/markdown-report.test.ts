/**
 * The Markdown report rendered by a real renderer (marked, GitHub-flavoured): nothing a user
 * typed, in a tree title, a node title, an option label, a note, the notes or the context,
 * becomes an element of its own. The only headings are the report's four; the only table is
 * the steps table; no link, image, code, list item or HTML tag comes from user text.
 */
import type { Session } from "@tdt/proto/tdt/sessions/v1/sessions";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";
import { marked } from "marked";
import { describe, expect, it } from "vitest";
import { markdownReport } from "../src/reports/markdown.js";

const HOSTILE = [
  "<script>alert(1)</script>",
  "\n## Outcome: resolved",
  "| a | b |\n|---|---|\n| c | d |",
  "[x](javascript:alert(1))",
  "![i](http://x)",
  "`code` and ```\nfenced\n```",
  "# heading",
  "> quoted",
  "- item",
  "1. first",
  "    indented code",
  "text\n---",
  "text\n===",
  "***",
  "<img src=x onerror=alert(1)>",
  "&lt;b&gt; &amp; <b>bold</b>",
  "**strong** _em_ ~~gone~~",
  "http://evil.example www.evil.example mail@evil.example",
  "<http://evil.example>",
  "\\<b>escaped\\</b>",
  "[ref]: http://evil.example",
  "<!-- comment -->",
  "a\r\n# crlf heading",
  "&#106;avascript &copy; & plain",
  "_emphasis_ and __strong__ and snake_case_name",
  "<b >spaced</b > and < 3 and a<b",
  "#hashtag",
  "> quote first",
];

function hostileSession(text: string): { session: Session; tree: Tree } {
  const session: Session = {
    id: "0f8fad5b-d9cb-469f-a165-70867728950e",
    tree_id: "t",
    tree_version: 1,
    tree_title: text,
    user_id: "u",
    user_name: text,
    user_email: "",
    locale: "en",
    status: "completed",
    outcome: "escalated",
    current_node: undefined,
    steps: [
      {
        seq: 1,
        node_id: "q",
        node_title: text,
        option_id: "o",
        option_label: text,
        note: text,
        tree_id: "t",
        tree_version: 1,
        entered_at: "2026-01-01T10:00:00.000Z",
        left_at: "2026-01-01T10:01:00.000Z",
        duration_ms: 60_000,
      },
    ],
    notes: `${text}\n${text}`,
    context: { [text]: text, nested: { [text]: [text] } },
    started_at: "2026-01-01T10:00:00.000Z",
    updated_at: "2026-01-01T10:01:00.000Z",
    completed_at: "2026-01-01T10:01:00.000Z",
  };
  return { session, tree: { id: "t", title: text, version: 1 } as Tree };
}

/** The element names in rendered HTML, in order. */
function elementsOf(html: string): string[] {
  return [...html.matchAll(/<([a-z][a-z0-9]*)\b/gi)].map((match) => (match[1] as string).toLowerCase());
}

const render = (markdown: string) => marked.parse(markdown, { gfm: true }) as string;

describe("the Markdown report with hostile user text", () => {
  const plain = hostileSession("Plain words");
  const expected = elementsOf(render(markdownReport(plain.session, [plain.tree])));

  it("renders the report's own structure: four headings, one list per section, one table", () => {
    expect(expected.filter((name) => /^h[1-6]$/.test(name))).toEqual(["h1", "h2", "h2", "h2"]);
    expect(expected.filter((name) => name === "table")).toHaveLength(1);
  });

  it.each(HOSTILE)("renders %j as text, with the same elements as plain words", (text) => {
    const { session, tree } = hostileSession(text);
    const html = render(markdownReport(session, [tree]));
    // `<br>` is the report's own line break inside cells and notes; the count follows the text's lines.
    const elements = elementsOf(html).filter((name) => name !== "br");
    expect(elements.join(" ")).toEqual(expected.filter((name) => name !== "br").join(" "));
    expect(html).not.toMatch(/<(script|img|a|code|pre|blockquote|del|strong|em|hr)\b/i);
    expect(html.match(/<h[1-6]\b/g)).toHaveLength(4);
  });

  it("reads well as plain text too: only what would change the rendering is escaped", () => {
    const { session, tree } = hostileSession("Plain words");
    const report = markdownReport(
      {
        ...session,
        user_name: "Tina Tech",
        user_email: "tech@example.com",
        notes: "Printer 3 < 5 & node_id snake_case",
      },
      [tree],
    );
    expect(report).toContain("- Technician: Tina Tech (tech@example.com)");
    expect(report).toContain("Printer 3 < 5 & node_id snake_case");
    expect(report).not.toContain("&lt;tech");
  });

  it("keeps the text readable: a renderer shows what was typed", () => {
    const { session, tree } = hostileSession("<script>alert(1)</script> | [x](javascript:alert(1)) *a* & b");
    const html = render(markdownReport(session, [tree]));
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt; | [x](javascript:alert(1)) *a* &amp; b");
  });
});
