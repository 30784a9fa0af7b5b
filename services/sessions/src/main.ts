import { fileURLToPath } from "node:url";
import { runService } from "@tdt/kit";

await runService({
  name: "sessions",
  grpcServices: ["tdt.sessions.v1.SessionsService"],
  defaultPort: 50053,
  database: "tdt_sessions",
  migrationsDir: fileURLToPath(new URL("../migrations", import.meta.url)),
  config: {},
  start: async () => ({ bindings: [] }),
});
