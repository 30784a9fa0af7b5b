/**
 * A DNS server for tests, on loopback UDP: it answers A queries from a table the test changes as
 * it goes (a name that resolves to one address now and another later), AAAA and anything else with
 * no records, and names not in the table with NXDOMAIN. Just enough of RFC 1035 for a resolver.
 */
import { createSocket, type Socket } from "node:dgram";

export interface TestDnsServer {
  /** `127.0.0.1:<port>`, as a resolver setting takes it. */
  address: string;
  /** Each name's IPv4 address now (lowercase names). */
  records: Map<string, string>;
  /** The A queries asked so far, by name. */
  asked: string[];
  close(): Promise<void>;
}

function questionOf(query: Buffer): { name: string; type: number; end: number } | undefined {
  const labels: string[] = [];
  let offset = 12;
  while (offset < query.length) {
    const length = query[offset] as number;
    if (length === 0) break;
    if (length > 63) return undefined;
    labels.push(query.subarray(offset + 1, offset + 1 + length).toString("ascii"));
    offset += 1 + length;
  }
  if (offset + 5 > query.length) return undefined;
  return { name: labels.join(".").toLowerCase(), type: query.readUInt16BE(offset + 1), end: offset + 5 };
}

function answer(query: Buffer, records: Map<string, string>, asked: string[]): Buffer | undefined {
  if (query.length < 12) return undefined;
  const question = questionOf(query);
  if (!question) return undefined;
  const address = records.get(question.name);
  if (question.type === 1) asked.push(question.name);
  const withRecord = question.type === 1 && address !== undefined;
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  // A response, recursion desired and available; NXDOMAIN for a name not in the table.
  header.writeUInt16BE(0x8180 | (address === undefined ? 3 : 0), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(withRecord ? 1 : 0, 6);
  const parts = [header, query.subarray(12, question.end)];
  if (withRecord) {
    const record = Buffer.alloc(16);
    record.writeUInt16BE(0xc00c, 0); // the question's name
    record.writeUInt16BE(1, 2); // A
    record.writeUInt16BE(1, 4); // IN
    record.writeUInt32BE(0, 6); // no caching: the next query asks again
    record.writeUInt16BE(4, 10);
    for (const [index, byte] of (address as string).split(".").entries()) record.writeUInt8(Number(byte), 12 + index);
    parts.push(record);
  }
  return Buffer.concat(parts);
}

export async function startDnsServer(): Promise<TestDnsServer> {
  const socket: Socket = createSocket("udp4");
  const records = new Map<string, string>();
  const asked: string[] = [];
  socket.on("message", (query, peer) => {
    const reply = answer(query, records, asked);
    if (reply) socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    records,
    asked,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
