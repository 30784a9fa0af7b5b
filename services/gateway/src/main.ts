import { createLogger, loadConfig, onShutdown } from "@tdt/kit";
import { buildGateway } from "./app.js";
import { gatewayConfig } from "./config.js";
import { closeDownstream, connectDownstream } from "./downstream.js";

const config = loadConfig(gatewayConfig);
const log = createLogger("gateway", config.logLevel);
const downstream = connectDownstream(config);
const app = await buildGateway({ log, downstream, corsOrigins: config.corsOrigins });

await app.listen({ port: config.port, host: config.host });
onShutdown(log, [() => app.close(), async () => closeDownstream(downstream)]);
