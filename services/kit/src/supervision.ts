/**
 * What a service tells the process that started it (the run command, the system tests) over
 * Node's IPC channel: that it now listens. A supervisor counts a service as up only after this,
 * so another program answering on the same port is never taken for it. Without a channel (a
 * container, a plain `node dist/main.js`) nothing is sent.
 */
export interface ListeningAnnouncement {
  type: "listening";
  service: string;
  port: number;
}

export function announceListening(service: string, port: number): void {
  if (process.connected) process.send?.({ type: "listening", service, port } satisfies ListeningAnnouncement);
}

export function isListeningAnnouncement(message: unknown): message is ListeningAnnouncement {
  return typeof message === "object" && message !== null && (message as { type?: unknown }).type === "listening";
}
