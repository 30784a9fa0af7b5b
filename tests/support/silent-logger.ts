import { createLogger, type Logger } from "@tdt/kit";

/** A real pino logger that writes nothing unless LOG_LEVEL asks for it. */
export function testLogger(service = "test"): Logger {
  return createLogger(service, process.env.TEST_LOG_LEVEL ?? "silent");
}
