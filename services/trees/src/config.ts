import { env } from "@tdt/kit";

export const treesConfig = {
  authHost: env.string("AUTH_HOST", "127.0.0.1"),
  authPort: env.port("AUTH_PORT", 50051),
  /** Load the demo trees into an empty database (the run command sets it). */
  demoData: env.bool("DEMO_DATA", false),
};
