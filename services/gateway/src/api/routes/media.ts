import { type AccessTokenVerifier, shared } from "@tdt/kit";
import type { Media } from "@tdt/proto/tdt/trees/v1/media";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { matchesNoneOf, rangeOf } from "../../edge/byte-ranges.js";
import { HttpError } from "../../edge/errors.js";
import { readMultipartFile, type UploadedFile } from "../../edge/multipart-file.js";
import { type Downstream, present } from "../downstream.js";
import { routesOf } from "../route.js";
import { bounds } from "../schemas/common.js";

export interface MediaRoutesOptions {
  downstream: Downstream;
  verifier: AccessTokenVerifier;
  /** MEDIA_MAX_BYTES: the most of an upload's file the gateway reads. */
  mediaMaxBytes?: number | undefined;
}

/** The types the trees service stores (services/trees/src/media/sanitise.ts). */
const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp"];

const UPLOAD = {
  type: "object",
  required: ["file"],
  additionalProperties: false,
  properties: {
    file: {
      type: "string",
      format: "binary",
      description: "The image: PNG, JPEG or WebP, whatever type the part declares",
    },
  },
  // A file part's value is its bytes, which no example can show: here, which file they are.
  examples: [{ file: "(the bytes of paper-path.png)" }],
} as const;

/** A file name is the client's label of its file, kept nowhere: past the contract's bound it is cut short, not refused. */
const FILENAME_LENGTH = bounds("tdt.trees.v1.UploadMediaRequest", "filename").maxLength as number;
const filenameOf = (file: UploadedFile) => [...file.filename].slice(0, FILENAME_LENGTH).join("");

const IMAGE = { type: "string", format: "binary", description: "The image's bytes, as stored" } as const;
const imageContent = () =>
  Object.fromEntries(IMAGE_TYPES.map((type) => [type, { schema: { ...IMAGE, contentMediaType: type } }]));

/**
 * An id's bytes never change, so a browser keeps them for a year without asking again; `private`,
 * as an image is its organization's and is served behind a token, so that no shared cache keeps it.
 */
const CACHE_CONTROL = "private, max-age=31536000, immutable";

const CACHING_HEADERS = {
  etag: { type: "string", description: 'The image\'s SHA-256 in quotes: `"<sha256>"`' },
  "cache-control": { type: "string", description: CACHE_CONTROL },
};
const IMAGE_HEADERS = {
  ...CACHING_HEADERS,
  "accept-ranges": { type: "string", description: "bytes" },
  "content-disposition": { type: "string", description: "inline" },
};

/** The Range, If-Range and If-None-Match a read may send, as documented (the parsing is byte-ranges.ts's). */
const READ_HEADERS = {
  type: "object",
  properties: {
    "if-none-match": { type: "string", description: "The ETag a copy was kept with: 304 while it is the image's" },
    range: { type: "string", description: "One range: `bytes=a-b`, `bytes=a-` or `bytes=-n`" },
    "if-range": { type: "string", description: "The ETag a partial copy came with: the Range is served only under it" },
  },
} as const;

/**
 * The images nodes show, the trees service's MediaService: an upload is read here as one file
 * part, never past MEDIA_MAX_BYTES (the service weighs it again); a read is served whole, in part
 * or not at all (the browser's copy is current) from the service's answer.
 */
export async function mediaRoutes(
  app: FastifyInstance,
  { downstream, verifier, mediaMaxBytes = shared.mediaMaxBytes.read({}) }: MediaRoutesOptions,
): Promise<void> {
  const route = routesOf({ tag: "trees", downstream, verifier });

  await app.register(async (uploads) => {
    readMultipartFile(uploads, {
      field: "file",
      maxBytes: mediaMaxBytes,
      tooLarge: "media_too_large",
      notOneFile: "media_file_required",
    });
    route(uploads, {
      rpc: { client: "trees", method: "uploadMedia" },
      consumes: ["multipart/form-data"],
      body: UPLOAD,
      request: ({ body }: FastifyRequest<{ Body: { file: UploadedFile } }>) => ({
        content: body.file.content,
        filename: filenameOf(body.file),
      }),
    });
  });

  route(app, {
    rpc: { client: "trees", method: "getMedia" },
    headers: READ_HEADERS,
    response: { description: "The image", headers: IMAGE_HEADERS, content: imageContent() },
    otherSuccesses: {
      206: {
        description: "The range asked for (`Content-Range` says which)",
        headers: { ...IMAGE_HEADERS, "content-range": { type: "string", description: "bytes a-b/size" } },
        content: imageContent(),
      },
      304: {
        type: "null",
        description: "The copy the client has is the image (`If-None-Match`)",
        headers: CACHING_HEADERS,
      },
    },
    send: (answer, reply, request) => sendImage(present(answer.media, "media"), answer.content, request, reply),
  });
}

/** The image, a range of it, or 304 when the client's copy is it (a 416 is thrown before any header is set). */
function sendImage(media: Media, content: Buffer, request: FastifyRequest, reply: FastifyReply): Buffer | undefined {
  const etag = `"${media.sha256}"`;
  const notModified = matchesNoneOf(request.headers["if-none-match"], etag);
  const range = notModified ? "whole" : rangeOf(request.headers, content.length, etag);
  if (range === "unsatisfiable") {
    throw new HttpError(416, "range_not_satisfiable", { "content-range": `bytes */${content.length}` });
  }
  reply.headers({ etag, "cache-control": CACHE_CONTROL });
  if (notModified) {
    reply.code(304);
    return undefined;
  }
  reply.type(media.content_type).headers({
    "accept-ranges": "bytes",
    "content-disposition": "inline",
    // Served as an image and nothing else, whatever a browser would make of the bytes.
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'",
  });
  if (range === "whole") return content;
  reply.code(206).header("content-range", `bytes ${range.start}-${range.end}/${content.length}`);
  return content.subarray(range.start, range.end + 1);
}
