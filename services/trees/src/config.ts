import { env, shared } from "@tdt/kit";

export const treesConfig = {
  authAddress: shared.authAddress,
  jwksCacheDir: shared.jwksCacheDir,
  jwksCacheMaxAgeSeconds: shared.jwksCacheMaxAgeSeconds,
  /** The auth events: tokens of ended login sessions stop working here too. */
  accessTokenTtlSeconds: shared.accessTokenTtlSeconds,
  /** Load the demo trees into an empty database (the run command sets it). */
  demoData: env.bool("DEMO_DATA", false),
  /** The most an uploaded image, and the image stored from it, may weigh (the gateway reads it too). */
  mediaMaxBytes: shared.mediaMaxBytes,
};
