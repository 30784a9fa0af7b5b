import { env, shared } from "@tdt/kit";

export const treesConfig = {
  authAddress: shared.authAddress,
  /** Load the demo trees into an empty database (the run command sets it). */
  demoData: env.bool("DEMO_DATA", false),
};
