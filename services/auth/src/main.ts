import { fileURLToPath } from "node:url";
import { runService } from "@tdt/kit";

await runService({
  name: "auth",
  grpcServices: ["tdt.auth.v1.AuthService"],
  defaultPort: 50051,
  database: "tdt_auth",
  migrationsDir: fileURLToPath(new URL("../migrations", import.meta.url)),
  config: {},
  start: async () => ({ bindings: [] }),
});
