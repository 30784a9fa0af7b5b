import { type AccessTokenVerifier, AppError, authorizer, checks, type Handlers } from "@tdt/kit";
import { MEDIA_ACCESS } from "@tdt/proto/contracts/access";
import { HTTP_ROUTES } from "@tdt/proto/tdt/contract";
import type { Media, MediaServiceService } from "@tdt/proto/tdt/trees/v1/media";
import { type MediaLimits, type SanitisedImage, sanitiseImage } from "./sanitise.js";
import type { MediaStore } from "./store.js";

/** Where the gateway serves an image, from the contract's route ("/api/v1/media/{id}"). */
function servedAt(): string {
  const route = HTTP_ROUTES.find((entry) => entry.service === "tdt.trees.v1.MediaService" && entry.rpc === "getMedia");
  if (!route) throw new Error("GetMedia has no google.api.http route in media.proto");
  return route.path;
}
const MEDIA_PATH = servedAt();

function mediaOf(id: string, image: SanitisedImage): Media {
  return {
    id,
    url: MEDIA_PATH.replace("{id}", id),
    sha256: image.sha256,
    content_type: image.contentType,
    width: image.width,
    height: image.height,
    bytes: image.bytes.length,
  };
}

/**
 * The MediaService, served by the trees process: an upload is weighed, sniffed and re-encoded
 * here whoever sends it (the gateway's own limit spares it the reading, not the check), then
 * stored in the caller's organization; a read finds only that organization's images.
 */
export function mediaHandlers(
  store: MediaStore,
  limits: MediaLimits,
  verifier: AccessTokenVerifier,
): Handlers<typeof MediaServiceService> {
  const authorize = authorizer(verifier, MEDIA_ACCESS);
  return {
    async uploadMedia(request, ctx) {
      const claims = await authorize("uploadMedia", ctx);
      checks().contract("tdt.trees.v1.UploadMediaRequest", request, ["body"]).done();
      const outcome = await sanitiseImage(Buffer.from(request.content), limits);
      if (outcome.kind === "refused") throw new AppError(outcome.code);
      const { id } = await store.put(claims.org, outcome.image, claims.sub);
      return { media: mediaOf(id, outcome.image) };
    },

    async getMedia(request, ctx) {
      const claims = await authorize("getMedia", ctx);
      checks().uuid(["path", "id"], request.id).done();
      const image = await store.get(claims.org, request.id);
      if (!image) throw new AppError("not_found");
      return { media: mediaOf(image.id, image), content: image.bytes };
    },
  };
}
