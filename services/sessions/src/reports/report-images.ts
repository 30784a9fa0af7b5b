/**
 * The images a report prints (issue 30): those the bodies of the session's steps show as
 * `![alt](media:<id>)`, fetched from the trees service as the caller, in the formats a PDF embeds
 * (PNG, JPEG; a WebP is converted to PNG).
 */
import type { Session } from "@tdt/proto/tdt/sessions/v1/sessions";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";
import sharp from "sharp";
import { treeOfStep } from "./text.js";

/** Printed images by media id. */
export type ReportImages = Record<string, Uint8Array>;

/** The most images one report fetches and prints. */
export const MAX_REPORT_IMAGES = 20;

const MEDIA_REFERENCE = /!\[[^\]\n]*\]\(media:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\)/g;

/** The media ids a Markdown body shows, in its order. */
export function mediaIdsOf(body: string): string[] {
  return [...body.matchAll(MEDIA_REFERENCE)].map((match) => match[1] as string);
}

/** The media ids the steps' nodes show, each once, in the steps' order, at most MAX_REPORT_IMAGES. */
export function reportMediaIds(session: Session, trees: Tree[]): string[] {
  const ids = new Set<string>();
  for (const step of session.steps) {
    const node = treeOfStep(trees, step)?.nodes.find((candidate) => candidate.id === step.node_id);
    for (const id of mediaIdsOf(node?.body ?? "")) {
      if (ids.size < MAX_REPORT_IMAGES) ids.add(id);
    }
  }
  return [...ids];
}

/**
 * The images of `ids` that `fetch` finds (an image gone, or refused, is left out: the report
 * still prints), each as PNG or JPEG.
 */
export async function fetchReportImages(
  ids: string[],
  fetch: (id: string) => Promise<{ content: Uint8Array; contentType: string } | undefined>,
): Promise<ReportImages> {
  const images: ReportImages = {};
  await Promise.all(
    ids.map(async (id) => {
      const found = await fetch(id).catch(() => undefined);
      if (!found) return;
      images[id] =
        found.contentType === "image/webp"
          ? new Uint8Array(await sharp(found.content).png().toBuffer())
          : found.content;
    }),
  );
  return images;
}
