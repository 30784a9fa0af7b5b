/**
 * CSV formula neutralisation (OWASP, CSV injection) for readers in every locale: a comma reading
 * (RFC 4180, quotes honoured), and a `;` reading (Excel in German, French, …), which splits our
 * lines at semicolons and line breaks and ignores quotes that do not open its cells.
 */
import { describe, expect, it } from "vitest";
import { csvField, defuseFormulas } from "../src/reports/csv.js";

/** The cells a spreadsheet whose list separator is `separator` makes of one line: no quote is honoured unless it opens a cell. */
function cellsAsRead(line: string, separator: string): string[] {
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  for (let index = 0; index < line.length; index++) {
    const char = line[index] as string;
    if (quoted) {
      if (char === '"' && line[index + 1] === '"') {
        cell += '"';
        index++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"' && cell === "") quoted = true;
    else if (char === separator || char === "\n" || char === "\r") {
      cells.push(cell);
      cell = "";
    } else cell += char;
  }
  cells.push(cell);
  return cells;
}

/** What a spreadsheet runs as a formula: a cell that opens with = + - @ (after spaces it may trim). */
const runsAsFormula = (cell: string) => /^\s*[=+\-@]/.test(cell);

const HOSTILE = [
  '=HYPERLINK("http://evil")',
  "+1+cmd|' /C calc'!A0",
  "-2+3",
  "@SUM(A1)",
  "\t=1+1",
  "\r=1+1",
  "  =1+1",
  "\u00a0=1+1",
  '"=1+1',
  "fine;=1+1",
  "fine; =1+1",
  'fine;"=1+1',
  "fine\t-1+1",
  "fine\n@SUM(A1)",
  "fine\r\n+1",
  "a,b;=1,c;+2",
];

describe("CSV fields", () => {
  it("prefix a ' to a value that a spreadsheet would run as a formula (OWASP's = + - @ tab CR)", () => {
    expect(defuseFormulas("=1+1")).toBe("'=1+1");
    expect(defuseFormulas("+1")).toBe("'+1");
    expect(defuseFormulas("-1+2")).toBe("'-1+2");
    expect(defuseFormulas("@A1")).toBe("'@A1");
    expect(defuseFormulas("\tx")).toBe("'\tx");
    expect(defuseFormulas("\rx")).toBe("'\rx");
    // Past leading spaces too: importers that trim them would reach the formula.
    expect(defuseFormulas("  =1")).toBe("'  =1");
    expect(defuseFormulas("Restart it; =1")).toBe("Restart it;' =1");
    // Numbers are ours (seq, duration, version), never a technician's text.
    expect(csvField(-5)).toBe("-5");
  });

  it("leave ordinary text alone", () => {
    for (const text of ["Light is green", "1-2 minutes", "a=b", "user@example.com", "x, -5 dB", "", "漢字; ok"]) {
      expect(defuseFormulas(text)).toBe(text);
    }
  });

  it("quote a value holding a comma, a semicolon, a tab, a quote or a line break, so either separator keeps it whole", () => {
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField("a;b")).toBe('"a;b"');
    expect(csvField("a\tb")).toBe('"a\tb"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("one\r\ntwo")).toBe('"one\r\ntwo"');
    expect(csvField("plain")).toBe("plain");
  });

  it("leave no cell that runs as a formula, read with a comma or with a semicolon", () => {
    for (const hostile of HOSTILE) {
      const line = ["1", "node", csvField(hostile), csvField(`${hostile} again`), "65000"].join(",");
      for (const separator of [",", ";", "\t"]) {
        const formulas = cellsAsRead(line, separator).filter(runsAsFormula);
        expect(formulas, `${JSON.stringify(hostile)} read with ${JSON.stringify(separator)}`).toEqual([]);
      }
    }
    // Read with a comma, as written: each value whole, behind its quote.
    const line = ["1", csvField("fine;=1+1"), "2"].join(",");
    expect(cellsAsRead(line, ",")).toEqual(["1", "fine;'=1+1", "2"]);
  });
});
