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

const HANGUL = /[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff]/u;
// Han (and its extensions, compatibility forms), kana, CJK punctuation, full-width forms.
const CJK =
  /[\u2e80-\u2fdf\u3000-\u30ff\u3190-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u{20000}-\u{3134f}]/u;

function familyOf(char: string): FontFamily {
  if (HANGUL.test(char)) return "hangul";
  if (CJK.test(char)) return "cjk";
  return "text";
}

/** `text` cut into runs of one font family each, in order. */
export function scriptRuns(text: string): Array<{ family: FontFamily; text: string }> {
  const runs: Array<{ family: FontFamily; text: string }> = [];
  for (const char of text) {
    // Spaces and line breaks stay with the run they are in.
    const family = /\s/.test(char) && runs.length > 0 ? (runs[runs.length - 1]?.family as FontFamily) : familyOf(char);
    const last = runs[runs.length - 1];
    if (last && last.family === family) last.text += char;
    else runs.push({ family, text: char });
  }
  return runs;
}
