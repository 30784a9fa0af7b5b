import { env, shared } from "@tdt/kit";

export const treesConfig = {
  authAddress: shared.authAddress,
  jwksCacheDir: shared.jwksCacheDir,
  jwksCacheMaxAgeSeconds: shared.jwksCacheMaxAgeSeconds,
  /** The auth events: tokens of ended login sessions stop working here too. */
  accessTokenTtlSeconds: shared.accessTokenTtlSeconds,
  /** Load the demo trees into an empty database (the run command sets it). */
  demoData: env.bool("DEMO_DATA", false),
  /**
   * The most an uploaded image, and the image stored from it, may weigh. At most 7 MiB: an image
   * travels whole in one gRPC message, and the kit's servers and clients take 8 MiB.
   */
  mediaMaxBytes: env.int("MEDIA_MAX_BYTES", 5 * 1024 * 1024, 1024, 7 * 1024 * 1024),
};
