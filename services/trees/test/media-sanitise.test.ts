/**
 * An upload becomes a stored image only as pixels sharp wrote again: the hostile uploads of the
 * plan (issue 30) are refused or come out clean. Every image is made here by sharp or by hand,
 * small, so nothing binary is committed.
 */
import { createHash, randomBytes } from "node:crypto";
import { blackPng, HOSTILE_HTML as HTML, PNG_SIGNATURE, pngChunk } from "@tdt/test-support/images";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { treesConfig } from "../src/config.js";
import { type MediaRefusal, type SanitisedImage, sanitiseImage, sniffFormat } from "../src/media/sanitise.js";

const LIMITS = { maxBytes: 5 * 1024 * 1024 };

const solid = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: "#3366cc" } });

async function sanitised(bytes: Buffer, limits = LIMITS): Promise<SanitisedImage> {
  const outcome = await sanitiseImage(bytes, limits);
  if (outcome.kind !== "sanitised") throw new Error(`refused: ${outcome.code}`);
  return outcome.image;
}

async function refusal(bytes: Buffer, limits = LIMITS): Promise<MediaRefusal | undefined> {
  const outcome = await sanitiseImage(bytes, limits);
  return outcome.kind === "refused" ? outcome.code : undefined;
}

/** What a stored image must be: decodable as its type, of its size, addressed by its own bytes, with no metadata. */
async function expectClean(image: SanitisedImage, format: string) {
  const meta = await sharp(image.bytes).metadata();
  expect(meta).toMatchObject({ format, width: image.width, height: image.height });
  expect(image.contentType).toBe(`image/${format}`);
  expect(image.sha256).toBe(createHash("sha256").update(image.bytes).digest("hex"));
  expect({ exif: meta.exif, icc: meta.icc, xmp: meta.xmp, iptc: meta.iptc, comments: meta.comments }).toEqual({
    exif: undefined,
    icc: undefined,
    xmp: undefined,
    iptc: undefined,
    comments: undefined,
  });
  expect(meta.orientation).toBeUndefined();
  for (const marker of ["<html", "<script", "<svg"]) expect(image.bytes.includes(marker)).toBe(false);
}

describe("an image that is one", () => {
  it("a PNG is re-encoded as a PNG of its size", async () => {
    const image = await sanitised(await solid(64, 48).png().toBuffer());
    expect(image).toMatchObject({ contentType: "image/png", width: 64, height: 48 });
    await expectClean(image, "png");
  });

  it("a JPEG with EXIF and GPS comes back without either, turned upright first", async () => {
    const photo = await solid(64, 48)
      .withMetadata({ orientation: 6 }) // taken sideways: shown turned a quarter clockwise
      .jpeg()
      .withExif({ IFD0: { Copyright: "TDT-OWNER-MARK" }, IFD3: { GPSMapDatum: "TDT-GPS-MARK", GPSLatitudeRef: "N" } })
      .toBuffer();
    const sent = await sharp(photo).metadata();
    expect(sent.orientation).toBe(6);
    expect(sent.exif?.includes("TDT-OWNER-MARK") && sent.exif.includes("TDT-GPS-MARK")).toBe(true);

    const image = await sanitised(photo);
    expect(image).toMatchObject({ contentType: "image/jpeg", width: 48, height: 64 });
    await expectClean(image, "jpeg");
    expect(image.bytes.includes("TDT-OWNER-MARK") || image.bytes.includes("TDT-GPS-MARK")).toBe(false);
  });

  it("a WebP, transparency and all, is re-encoded as a WebP", async () => {
    const webp = await sharp({ create: { width: 64, height: 48, channels: 4, background: "#3366cc80" } })
      .webp()
      .toBuffer();
    const image = await sanitised(webp);
    expect(image).toMatchObject({ contentType: "image/webp", width: 64, height: 48 });
    await expectClean(image, "webp");
    expect((await sharp(image.bytes).metadata()).hasAlpha).toBe(true);
  });

  it("takes its type from its bytes: a JPEG labelled image/png is a JPEG (the label has nowhere to go)", async () => {
    const upload = { declaredType: "image/png", filename: "screen.png", bytes: await solid(32, 32).jpeg().toBuffer() };
    const image = await sanitised(upload.bytes);
    expect(image.contentType).toBe("image/jpeg");
    await expectClean(image, "jpeg");
  });

  it("a 5000 × 3000 image is stored 4096 wide, its shape kept; a small one is never enlarged", async () => {
    const wide = await sanitised(await solid(5000, 3000).jpeg().toBuffer());
    expect({ width: wide.width, height: wide.height }).toEqual({ width: 4096, height: 2458 });
    await expectClean(wide, "jpeg");
    const small = await sanitised(await solid(10, 7).png().toBuffer());
    expect({ width: small.width, height: small.height }).toEqual({ width: 10, height: 7 });
  });

  it("the same upload twice is the same bytes and the same SHA-256 (its address)", async () => {
    const png = await solid(40, 30).png().toBuffer();
    const [first, second] = [await sanitised(png), await sanitised(png)];
    expect(first?.sha256).toBe(second?.sha256);
    expect(first?.bytes.equals(second?.bytes ?? Buffer.alloc(0))).toBe(true);
  });
});

describe("a polyglot", () => {
  // Decided: a valid image followed by other bytes is re-encoded, and the trailer is gone, since
  // the decoder stops at the image's end (IEND, EOI) and what is stored is only what sharp wrote.
  // Refusing it would add nothing: no byte of the upload reaches the store.
  it("a PNG followed by HTML is stored as the PNG alone", async () => {
    const png = await solid(64, 48).png().toBuffer();
    const image = await sanitised(Buffer.concat([png, HTML]));
    expect(image).toMatchObject({ contentType: "image/png", width: 64, height: 48 });
    await expectClean(image, "png");
  });

  it("a JPEG followed by HTML is stored as the JPEG alone", async () => {
    const jpeg = await solid(64, 48).jpeg().toBuffer();
    const image = await sanitised(Buffer.concat([jpeg, HTML]));
    await expectClean(image, "jpeg");
  });

  it("a PNG carrying HTML in a text chunk is stored without it", async () => {
    const png = await solid(16, 16).png().toBuffer();
    const afterHeader = 8 + 25; // the signature, then the IHDR chunk (13 bytes of data, 12 of frame)
    const carrying = Buffer.concat([
      png.subarray(0, afterHeader),
      pngChunk("tEXt", Buffer.concat([Buffer.from("Comment\0"), HTML])),
      png.subarray(afterHeader),
    ]);
    expect((await sharp(carrying).metadata()).comments?.[0]?.text).toContain("<script>");
    await expectClean(await sanitised(carrying), "png");
  });

  it("a PNG signature followed by HTML (no image) is refused", async () => {
    expect(await refusal(Buffer.concat([PNG_SIGNATURE, HTML]))).toBe("unsupported_media");
  });
});

describe("what is not a PNG, JPEG or WebP", () => {
  it.each([
    ["HTML (even named photo.png)", HTML],
    [
      "SVG",
      Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ],
    ["SVG without a prolog", Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>')],
    ["PDF", Buffer.from("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF")],
    ["text", Buffer.from("just some text, not an image")],
    [
      "a WAV file (RIFF, but not WEBP)",
      Buffer.concat([Buffer.from("RIFF\x24\x00\x00\x00WAVEfmt ", "latin1"), randomBytes(32)]),
    ],
    ["empty input", Buffer.alloc(0)],
  ])("%s is refused as unsupported_media", async (_name, bytes) => {
    expect(await refusal(bytes)).toBe("unsupported_media");
  });

  it("a GIF is refused as unsupported_media", async () => {
    const gif = await solid(8, 8).gif().toBuffer();
    expect(gif.subarray(0, 6).toString("latin1")).toBe("GIF89a");
    expect(await refusal(gif)).toBe("unsupported_media");
  });
});

describe("a broken image", () => {
  it("a truncated PNG is refused", async () => {
    const png = await sharp(randomBytes(64 * 64 * 3), { raw: { width: 64, height: 64, channels: 3 } })
      .png()
      .toBuffer();
    expect(await refusal(png.subarray(0, Math.floor(png.length / 2)))).toBe("unsupported_media");
  });

  it("a truncated JPEG is refused", async () => {
    const jpeg = await sharp(randomBytes(64 * 64 * 3), { raw: { width: 64, height: 64, channels: 3 } })
      .jpeg()
      .toBuffer();
    expect(await refusal(jpeg.subarray(0, Math.floor(jpeg.length / 2)))).toBe("unsupported_media");
  });

  it("a WebP header over garbage is refused", async () => {
    const garbage = Buffer.concat([Buffer.from("RIFF\x40\x00\x00\x00WEBPVP8 ", "latin1"), randomBytes(64)]);
    expect(await refusal(garbage)).toBe("unsupported_media");
  });
});

describe("an image too large", () => {
  it("a decompression bomb (a 20000 × 20000 PNG of ~50 KB) is refused before it is decoded", async () => {
    const bomb = blackPng(20_000, 20_000);
    expect(bomb.length).toBeLessThan(100_000);
    expect(await refusal(bomb)).toBe("image_too_large");
  });

  it("a 10,000 × 10,000 JPEG is refused", async () => {
    const huge = await sharp(Buffer.alloc(10_000 * 10_000), { raw: { width: 10_000, height: 10_000, channels: 1 } })
      .jpeg({ quality: 10 })
      .toBuffer();
    expect(huge.length).toBeLessThan(LIMITS.maxBytes);
    expect(await refusal(huge)).toBe("image_too_large");
  });

  it("40 megapixels are taken, one row more is not", async () => {
    expect((await sanitised(blackPng(8000, 5000))).width).toBe(4096);
    expect(await refusal(blackPng(8000, 5001))).toBe("image_too_large");
  });

  it("an upload over the byte limit is refused unread", async () => {
    const png = await solid(64, 48).png().toBuffer();
    expect(await refusal(png, { maxBytes: png.length - 1 })).toBe("media_too_large");
    const overDefault = Buffer.concat([png, Buffer.alloc(LIMITS.maxBytes + 1 - png.length)]);
    expect(await refusal(overDefault)).toBe("media_too_large");
  });

  it("an image that would be stored heavier than the limit is refused too", async () => {
    // Two-colour noise as a 1-bit palette PNG: stored as 24-bit RGB it weighs about twice as much.
    const noise = randomBytes(256 * 256).map((byte) => (byte & 1 ? 255 : 0));
    const palette = await sharp(noise, { raw: { width: 256, height: 256, channels: 1 } })
      .png({ palette: true, colours: 2 })
      .toBuffer();
    expect((await sanitised(palette, { maxBytes: 10 * palette.length })).bytes.length).toBeGreaterThan(palette.length);
    expect(await refusal(palette, { maxBytes: palette.length })).toBe("media_too_large");
  });
});

describe("the type sniffed", () => {
  it("is read from the signature alone", () => {
    expect(sniffFormat(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]))).toBe("png");
    expect(sniffFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe("jpeg");
    expect(sniffFormat(Buffer.from("RIFF\0\0\0\0WEBP", "latin1"))).toBe("webp");
    expect(sniffFormat(Buffer.from([0x89, 0x50, 0x4e, 0x47]))).toBeUndefined(); // a signature cut short
    expect(sniffFormat(Buffer.from([0xff, 0xd8]))).toBeUndefined();
    expect(sniffFormat(Buffer.from("RIFF\0\0\0\0WAVE", "latin1"))).toBeUndefined();
  });
});

describe("MEDIA_MAX_BYTES", () => {
  it("is 5 MiB unless set, and bounded so an image fits one gRPC message", () => {
    expect(treesConfig.mediaMaxBytes.read({})).toBe(5 * 1024 * 1024);
    expect(treesConfig.mediaMaxBytes.read({ MEDIA_MAX_BYTES: "2000000" })).toBe(2_000_000);
    expect(() => treesConfig.mediaMaxBytes.read({ MEDIA_MAX_BYTES: "9000000" })).toThrow(/MEDIA_MAX_BYTES/);
    expect(() => treesConfig.mediaMaxBytes.read({ MEDIA_MAX_BYTES: "5MB" })).toThrow(/MEDIA_MAX_BYTES/);
  });
});
