import { Busboy, type BusboyHeaders } from "@fastify/busboy";
import type { FastifyInstance } from "fastify";
import { HttpError } from "./errors.js";

/** More fields than any form route takes (the OAuth2 login form has six). */
const MAX_FIELDS = 16;
/** Longer than any field a form route takes, so a long value still reaches the schema's own limit. */
const MAX_FIELD_BYTES = 8 * 1024;

/**
 * Makes `scope` read `multipart/form-data` (what a browser's `FormData` sends) as text fields,
 * like a urlencoded form: a file part is refused (400 `form_file_not_accepted`), and more or
 * longer fields than any form route takes are a 413 `form_too_large`, before anything is kept.
 * A repeated field becomes a list, which the route's schema then refuses.
 */
export function readMultipartForms(scope: FastifyInstance): void {
  scope.addContentTypeParser("multipart/form-data", (request, payload, done) => {
    let settled = false;
    const settle = (error: Error | null, body?: Record<string, string | string[]>) => {
      if (settled) return;
      settled = true;
      if (!error || payload.readableEnded) return done(error, body);
      // fastify answers a parser's error with Connection: close. The client may still be sending
      // the rest of the form, and a socket closed under its upload fails the request (EPIPE)
      // before it reads the answer: so the rest is read, and dropped, before the answer goes out.
      payload.unpipe();
      let answered = false;
      const answer = () => {
        if (answered) return;
        answered = true;
        done(error);
      };
      // "end" when the rest arrived; "close" too when the client gave up first.
      payload.once("end", answer);
      payload.once("close", answer);
      payload.resume();
    };
    let form: InstanceType<typeof Busboy>;
    try {
      form = new Busboy({
        headers: request.headers as BusboyHeaders,
        limits: { fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES, files: 0, parts: MAX_FIELDS },
      });
    } catch {
      // No boundary in the Content-Type.
      return settle(new HttpError(400, "bad_request"));
    }
    const fields: Record<string, string | string[]> = Object.create(null);
    form.on("field", (name: string, value: string, nameTruncated: boolean, valueTruncated: boolean) => {
      if (nameTruncated || valueTruncated) return settle(new HttpError(413, "form_too_large"));
      const earlier = fields[name];
      fields[name] = earlier === undefined ? value : [earlier, value].flat();
    });
    form.on("file", (_name: string, stream: NodeJS.ReadableStream) => {
      stream.resume();
      settle(new HttpError(400, "form_file_not_accepted"));
    });
    form.on("filesLimit", () => settle(new HttpError(400, "form_file_not_accepted")));
    form.on("fieldsLimit", () => settle(new HttpError(413, "form_too_large")));
    form.on("partsLimit", () => settle(new HttpError(413, "form_too_large")));
    form.on("error", () => settle(new HttpError(400, "bad_request")));
    form.on("finish", () => settle(null, { ...fields }));
    payload.pipe(form);
  });
}
