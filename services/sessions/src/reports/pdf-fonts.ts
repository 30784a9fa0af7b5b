/**
 * The PDF report's fonts, from npm font packages, so that any technician's notes print: DejaVu
 * Sans for Latin (Polish and the rest), Greek and Cyrillic; Noto Sans SC for Chinese and
 * Japanese; Noto Sans KR for Korean. pdfkit's standard fonts know only WinAnsi ("Привет" came
 * out as garbage). Text is cut into runs by script and each run set in its font; the CJK fonts
 * (10 MB each) are read and embedded only in a report that needs them, and only the glyphs used.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { create, type Font } from "fontkit";

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

export type FontFamily = "text" | "cjk" | "hangul";
export type FontName = `${FontFamily}${"" | "-bold"}`;

const FILES: Record<FontName, () => string> = {
  text: () => join(packageDir("dejavu-fonts-ttf"), "ttf", "DejaVuSans.ttf"),
  "text-bold": () => join(packageDir("dejavu-fonts-ttf"), "ttf", "DejaVuSans-Bold.ttf"),
  cjk: () => join(packageDir("@expo-google-fonts/noto-sans-sc"), "400Regular", "NotoSansSC_400Regular.ttf"),
  "cjk-bold": () => join(packageDir("@expo-google-fonts/noto-sans-sc"), "700Bold", "NotoSansSC_700Bold.ttf"),
  hangul: () => join(packageDir("@expo-google-fonts/noto-sans-kr"), "400Regular", "NotoSansKR_400Regular.ttf"),
  "hangul-bold": () => join(packageDir("@expo-google-fonts/noto-sans-kr"), "700Bold", "NotoSansKR_700Bold.ttf"),
};

/** Each font file, read once per process on first use. */
const read = new Map<FontName, Buffer>();
export function fontData(name: FontName): Buffer {
  let data = read.get(name);
  if (!data) {
    data = readFileSync(FILES[name]());
    read.set(name, data);
  }
  return data;
}

/** Each font parsed once per process, to be asked which characters it has a glyph for. */
const parsed = new Map<FontName, Font>();
export function fontHasGlyph(name: FontName, char: string): boolean {
  let font = parsed.get(name);
  if (!font) {
    font = create(fontData(name)) as Font;
    parsed.set(name, font);
  }
  return font.hasGlyphForCodePoint(char.codePointAt(0) ?? 0);
}

const HANGUL = /[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff]/u;
// Han (and its extensions, compatibility forms), kana, CJK punctuation, full-width forms.
const CJK =
  /[\u2e80-\u2fdf\u3000-\u30ff\u3190-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u{20000}-\u{3134f}]/u;

function familyOf(char: string): FontFamily {
  if (HANGUL.test(char)) return "hangul";
  if (CJK.test(char)) return "cjk";
  return "text";
}

/**
 * `text` cut into runs of one font family each, in order. A run goes on through a character its
 * own font can draw (`canDraw`): the Latin letters in Chinese text stay in the Chinese font, which
 * has them, so "a漢a漢…" is two runs, not one per character (pdfkit lays out each run apart).
 * Without `canDraw`, every change of script starts a run.
 */
export function scriptRuns(
  text: string,
  canDraw: (family: FontFamily, char: string) => boolean = () => false,
): Array<{ family: FontFamily; text: string }> {
  const runs: Array<{ family: FontFamily; text: string }> = [];
  for (const char of text) {
    const last = runs[runs.length - 1];
    // Spaces and line breaks stay with the run they are in.
    if (last && (/\s/.test(char) || familyOf(char) === last.family || canDraw(last.family, char))) last.text += char;
    else runs.push({ family: familyOf(char), text: char });
  }
  return runs;
}
