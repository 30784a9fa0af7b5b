import type { Socket } from "node:net";
import { Busboy, type BusboyHeaders } from "@fastify/busboy";
import type { ErrorCode } from "@tdt/proto/contracts/error-codes";
import type { FastifyInstance } from "fastify";
import { HttpError } from "./errors.js";

/** What an upload may carry besides its file: the boundaries and the part's headers. */
export const MULTIPART_OVERHEAD_BYTES = 64 * 1024;
/** Longer than any part's headers need (a file name of 255 characters, its type). */
const PART_HEADER_BYTES = 8 * 1024;

/** The one file of an upload, as its part sent it (the part's declared type is not kept: nothing should trust it). */
export interface UploadedFile {
  filename: string;
  content: Buffer;
}

export interface FileUploadLimits {
  /** The part's name. */
  field: string;
  /** The most the file may weigh: past it nothing more is read (413 `tooLarge`). */
  maxBytes: number;
  tooLarge: ErrorCode;
  /** Anything but one file part named `field` (400). */
  notOneFile: ErrorCode;
}

/**
 * Makes `scope` read `multipart/form-data` with one file part (`limits.field`) as the body
 * `{[field]: UploadedFile}`, and nothing else: no other parser is left in the scope, so JSON is
 * 400 `unsupported_content_type`. An upload is never read past `maxBytes` plus the multipart
 * overhead: a `Content-Length` above that is refused before a byte is read, and a body that grows
 * past it (chunked, or a file past `maxBytes`) is refused as it crosses it; the rest is never
 * read (lingerUnread). A wrong part (another name, a second part, a text field) is refused once
 * the body has ended, read and dropped within the same bound, so that its client reads the answer.
 */
export function readMultipartFile(scope: FastifyInstance, limits: FileUploadLimits): void {
  const bound = limits.maxBytes + MULTIPART_OVERHEAD_BYTES;
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser("multipart/form-data", (request, payload, done) => {
    if (Number(request.headers["content-length"]) > bound) {
      lingerUnread(request.raw.socket);
      return done(new HttpError(413, limits.tooLarge));
    }
    let settled = false;
    /** Answers at once: the rest of the body is not read. */
    const refuseNow = (error: HttpError) => {
      if (settled) return;
      settled = true;
      payload.unpipe();
      payload.pause();
      if (!payload.readableEnded) lingerUnread(request.raw.socket);
      done(error);
    };
    /** Answers once the body has ended (or crossed the bound), reading the rest and dropping it. */
    let refusal: HttpError | undefined;
    const refuseAtEnd = (error: HttpError) => {
      if (settled || refusal) return;
      if (payload.readableEnded) return refuseNow(error);
      refusal = error;
      payload.unpipe();
      payload.once("end", () => refuseNow(error));
      payload.resume();
    };

    let received = 0;
    payload.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > bound) refuseNow(new HttpError(413, limits.tooLarge));
    });
    // The client gave up before its body ended.
    payload.once("close", () => {
      if (!request.raw.complete) refuseNow(new HttpError(400, "bad_request"));
    });

    let form: InstanceType<typeof Busboy>;
    try {
      form = new Busboy({
        headers: request.headers as BusboyHeaders,
        // Every part is a file: a text field is a part the upload does not take, refused below.
        isPartAFile: () => true,
        limits: { files: 1, parts: 1, fields: 0, fileSize: limits.maxBytes, headerSize: PART_HEADER_BYTES },
      });
    } catch {
      // No boundary in the Content-Type.
      return refuseAtEnd(new HttpError(400, "bad_request"));
    }
    const notOneFile = () => refuseAtEnd(new HttpError(400, limits.notOneFile));
    const unreadable = () => refuseAtEnd(new HttpError(400, "bad_request"));
    let file: UploadedFile | undefined;
    form.on("file", (name, stream, filename) => {
      // A part cut short (the body ended inside it) fails its stream.
      stream.once("error", unreadable);
      if (name !== limits.field) {
        stream.resume();
        return notOneFile();
      }
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.once("limit", () => refuseNow(new HttpError(413, limits.tooLarge)));
      stream.once("end", () => {
        file = { filename, content: Buffer.concat(chunks) };
      });
    });
    form.on("filesLimit", notOneFile);
    form.on("partsLimit", notOneFile);
    form.on("fieldsLimit", notOneFile);
    form.on("error", unreadable);
    form.on("finish", () => {
      if (refusal) return;
      if (!file) return notOneFile();
      settled = true;
      done(null, { [limits.field]: file });
    });
    payload.pipe(form);
  });
}

/** How long a refused upload's connection stays open, unread, for its client to read the answer. */
const LINGER_MS = 2_000;

/**
 * Once the answer to a refused upload is written, Node closes its connection (`Connection:
 * close`): at once, which with the client's unread bytes waiting resets the connection, and a
 * client still sending may then fail on the reset before it has read the answer (undici did, 3
 * times in 40 uploads of 64 MiB). So the connection is half-closed instead (the answer, then the
 * end of it), and closed LINGER_MS later, still unread: the client reads the 413 and stops, its
 * unsent bytes stall in the full buffers meanwhile, and nothing more is taken in.
 */
function lingerUnread(socket: Socket): void {
  // A socket without it is no connection (an injected request's stand-in).
  if (typeof socket.destroySoon !== "function") return;
  const destroySoon = socket.destroySoon.bind(socket);
  socket.destroySoon = () => {
    socket.end();
    setTimeout(destroySoon, LINGER_MS).unref();
  };
}
