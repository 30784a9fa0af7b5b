import { createHash } from "node:crypto";
import sharp, { type OutputInfo, type Sharp } from "sharp";

/**
 * An uploaded image made safe to store and serve (docs/decisions/logic-forms-media-languages.md,
 * "Images are the trees service's"): its type is read from its own first bytes, never from what
 * the client declares; it is decoded and encoded again, so what is stored is pixels sharp wrote
 * (no EXIF, GPS, ICC, text chunk or trailing bytes of the upload) and never more than 4096 on a side.
 */

/** The types stored, by the format name sharp reports. */
const CONTENT_TYPES = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" } as const;

export type ImageFormat = keyof typeof CONTENT_TYPES;
export type ImageContentType = (typeof CONTENT_TYPES)[ImageFormat];

/** Past this many pixels an image is refused from its header, before a pixel is decoded. */
export const MAX_INPUT_PIXELS = 40_000_000;
/** The stored image fits in a square of this side (a larger one is scaled down, never up). */
export const MAX_STORED_SIDE = 4096;
/** What sharp may spend on one image; what takes longer is refused, not waited for. */
export const PROCESSING_SECONDS = 10;

export interface MediaLimits {
  /** MEDIA_MAX_BYTES: the most an upload, and the image stored from it, may weigh. */
  maxBytes: number;
}

export interface SanitisedImage {
  bytes: Buffer;
  contentType: ImageContentType;
  width: number;
  height: number;
  /** Hex SHA-256 of `bytes` (the re-encoded image): its address in the store. */
  sha256: string;
}

/** The refusals, as the API will name them. */
export type MediaRefusal = "unsupported_media" | "media_too_large" | "image_too_large";

export type SanitiseOutcome = { kind: "sanitised"; image: SanitisedImage } | { kind: "refused"; code: MediaRefusal };

const refused = (code: MediaRefusal): SanitiseOutcome => ({ kind: "refused", code });

export async function sanitiseImage(bytes: Buffer, limits: MediaLimits): Promise<SanitiseOutcome> {
  // 1. Weigh it: nothing larger is looked at.
  if (bytes.length > limits.maxBytes) return refused("media_too_large");

  // 2. Sniff the type from the magic bytes alone: SVG, HTML, GIF, PDF, text and empty input stop here.
  const format = sniffFormat(bytes);
  if (!format) return refused("unsupported_media");

  // 3. Read the header only: it must be the sniffed format, and small enough to decode.
  const header = await readHeader(bytes);
  if (!header || header.format !== format) return refused("unsupported_media");
  if (header.width * header.height > MAX_INPUT_PIXELS) return refused("image_too_large");

  // 4. Decode and encode again, oriented, bounded and stripped.
  const encoded = await reencode(bytes, format);
  if (encoded.kind === "refused") return encoded;
  const { data, info } = encoded;

  // 5. What is stored obeys the same weight limit as what was sent.
  if (data.length > limits.maxBytes) return refused("media_too_large");

  return {
    kind: "sanitised",
    image: {
      bytes: data,
      contentType: CONTENT_TYPES[format],
      width: info.width,
      height: info.height,
      sha256: createHash("sha256").update(data).digest("hex"),
    },
  };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG_SIGNATURE = Buffer.from([0xff, 0xd8, 0xff]);

/** PNG, JPEG or WebP by their signatures (WebP: `RIFF`, four bytes of length, `WEBP`); else undefined. */
export function sniffFormat(bytes: Buffer): ImageFormat | undefined {
  const startsWith = (signature: Buffer, at = 0) =>
    bytes.length >= at + signature.length && bytes.subarray(at, at + signature.length).equals(signature);
  if (startsWith(PNG_SIGNATURE)) return "png";
  if (startsWith(JPEG_SIGNATURE)) return "jpeg";
  if (startsWith(Buffer.from("RIFF", "latin1")) && startsWith(Buffer.from("WEBP", "latin1"), 8)) return "webp";
  return undefined;
}

/**
 * The format and size the header declares, or undefined when there is no readable header. No
 * pixel limit here: only the header is read, and step 3 compares its size to ours so that a
 * refusal for size is told apart from a broken file without reading sharp's error messages.
 */
async function readHeader(bytes: Buffer): Promise<{ format: string; width: number; height: number } | undefined> {
  try {
    const { format, width, height } = await sharp(bytes, { limitInputPixels: false }).metadata();
    return { format, width, height };
  } catch {
    return undefined;
  }
}

type Encoded = { kind: "encoded"; data: Buffer; info: OutputInfo } | { kind: "refused"; code: MediaRefusal };

async function reencode(bytes: Buffer, format: ImageFormat): Promise<Encoded> {
  // `failOn: "warning"`, sharp's strictest: a truncated or corrupt image is refused rather than
  // stored half-decoded. The pixel limit again, as the decoder's own guard. Metadata is dropped
  // because nothing asks sharp to keep it (no keepMetadata or withMetadata).
  const pipeline = sharp(bytes, { failOn: "warning", limitInputPixels: MAX_INPUT_PIXELS })
    .timeout({ seconds: PROCESSING_SECONDS })
    // Before the EXIF goes: a photo taken sideways stays upright.
    .autoOrient()
    .resize({ width: MAX_STORED_SIDE, height: MAX_STORED_SIDE, fit: "inside", withoutEnlargement: true });
  try {
    const { data, info } = await encodeAs(pipeline, format).toBuffer({ resolveWithObject: true });
    return { kind: "encoded", data, info };
  } catch (error) {
    // Over its time, an image costs more than an image may: refused as too large, not as broken.
    if (isTimeout(error)) return { kind: "refused", code: "image_too_large" };
    return { kind: "refused", code: "unsupported_media" };
  }
}

function encodeAs(pipeline: Sharp, format: ImageFormat): Sharp {
  switch (format) {
    // Adaptive filtering: a photo saved as PNG stays near its uploaded weight (unfiltered, it may double).
    case "png":
      return pipeline.png({ adaptiveFiltering: true });
    case "jpeg":
      return pipeline.jpeg();
    case "webp":
      return pipeline.webp();
  }
}

/** sharp's error once `timeout` has passed: "timeout: 31% complete". */
function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("timeout:");
}
