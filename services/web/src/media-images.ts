/**
 * Images on nodes: a body references one as `![alt](media:<id>)`. The bytes are served behind the
 * access token, which an `<img src>` cannot carry, so each image is fetched through the app's API
 * helper and shown from a `blob:` URL (which the page's CSP allows). An id's bytes never change,
 * so each is fetched once per page and kept.
 */
import { answerOf, api, type Media } from "./api.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";

/** The blob URL of each image fetched so far, by id. */
const loaded = new Map<string, Promise<string>>();

async function blobOf(id: string): Promise<Blob> {
  const result = await api.GET("/api/v1/media/{id}", { params: { path: { id } }, parseAs: "blob" });
  return answerOf(result) as unknown as Blob;
}

function urlOf(id: string): Promise<string> {
  let url = loaded.get(id);
  if (!url) {
    url = blobOf(id).then((blob) => URL.createObjectURL(blob));
    // A failure is not kept: the next drawing asks again.
    url.catch(() => loaded.delete(id));
    loaded.set(id, url);
  }
  return url;
}

/** An image of the organization's media, by id: drawn at once, its bytes filled in as they come. */
export function mediaImage(id: string, alt: string): HTMLImageElement {
  const image = h("img", { class: "node-image", alt, "data-media-id": id });
  urlOf(id).then(
    (url) => {
      image.src = url;
    },
    () => {
      image.classList.add("missing");
      image.title = t("media.notShown");
    },
  );
  return image;
}

/** Uploads an image for nodes to show (one file part, `file`, named as the file is). */
export async function uploadImage(file: File): Promise<Media> {
  const result = await api.POST("/api/v1/media", {
    body: { file },
    bodySerializer: () => {
      const form = new FormData();
      form.append("file", file, file.name);
      return form;
    },
  });
  return answerOf(result);
}

/** The Markdown that shows an uploaded image: its alt text is the file's name, as plain text. */
export function imageReference(fileName: string, id: string): string {
  const alt = fileName.replace(/[[\]\\\r\n]+/g, " ").trim();
  return `![${alt}](media:${id})`;
}
