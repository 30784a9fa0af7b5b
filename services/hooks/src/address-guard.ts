/**
 * Where a webhook may be delivered (docs/decisions/hooks.md, "No server-side request forgery"):
 * public addresses only, unless `WEBHOOK_ALLOW_PRIVATE` lists the address's range. Names are
 * resolved at every attempt and every address they resolve to is checked; the connection then
 * goes to the address checked (`pinnedLookup`), so a name cannot pass the check with one address
 * and connect to another.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import { BlockList, isIP, type LookupFunction } from "node:net";

/** Ranges no delivery reaches unless listed: loopback, private, link-local (cloud metadata), and the rest that is not the internet. */
const REFUSED_V4 = [
  "0.0.0.0/8", // "this network"
  "10.0.0.0/8", // private
  "100.64.0.0/10", // carrier-grade NAT
  "127.0.0.0/8", // loopback
  "169.254.0.0/16", // link-local, with 169.254.169.254 (cloud metadata)
  "172.16.0.0/12", // private
  "192.0.0.0/24", // IETF protocol assignments
  "192.0.2.0/24", // documentation
  "192.88.99.0/24", // 6to4 relay anycast
  "192.168.0.0/16", // private
  "198.18.0.0/15", // benchmarking
  "198.51.100.0/24", // documentation
  "203.0.113.0/24", // documentation
  "224.0.0.0/4", // multicast
  "240.0.0.0/4", // reserved, and broadcast
];
const REFUSED_V6 = [
  "::/96", // unspecified, loopback (::1) and IPv4-compatible
  "64:ff9b::/96", // NAT64: an IPv4 address in disguise
  "64:ff9b:1::/48", // local-use NAT64
  "100::/64", // discard
  "2001::/32", // Teredo
  "2001:db8::/32", // documentation
  "2002::/16", // 6to4: an IPv4 address in disguise
  "fc00::/7", // unique local, with fd00:ec2::254 (cloud metadata)
  "fe80::/10", // link-local
  "fec0::/10", // site-local (deprecated)
  "ff00::/8", // multicast
];

type Family = "ipv4" | "ipv6";

/** A CIDR such as 127.0.0.0/8 or fd00::/8 (a bare address is its own /32 or /128); undefined when it is none. */
function cidrOf(text: string): { network: string; prefix: number; family: Family } | undefined {
  const [network = "", prefixText, extra] = text.trim().split("/");
  const version = isIP(network);
  if (version === 0 || extra !== undefined) return undefined;
  const family: Family = version === 4 ? "ipv4" : "ipv6";
  const most = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? most : Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText ?? String(most)) || prefix > most) return undefined;
  return { network, prefix, family };
}

function blockListOf(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const text of cidrs) {
    const cidr = cidrOf(text);
    if (!cidr) throw new Error(`not a CIDR: ${text}`);
    list.addSubnet(cidr.network, cidr.prefix, cidr.family);
  }
  return list;
}

/** WEBHOOK_ALLOW_PRIVATE as given: comma-separated CIDRs. The first that is not one is named. */
export function parseAllowList(text: string | undefined): { cidrs: string[] } | { invalid: string } {
  const cidrs = (text ?? "")
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
  const invalid = cidrs.find((cidr) => cidrOf(cidr) === undefined);
  return invalid === undefined ? { cidrs } : { invalid };
}

/** The IPv4 address an IPv4-mapped IPv6 address (::ffff:a.b.c.d) stands for, or the address itself. */
function unmapped(address: string): { address: string; family: Family } {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1]) return { address: mapped[1], family: "ipv4" };
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex?.[1] && hex[2]) {
    const high = Number.parseInt(hex[1], 16);
    const low = Number.parseInt(hex[2], 16);
    return { address: [high >> 8, high & 255, low >> 8, low & 255].join("."), family: "ipv4" };
  }
  return { address, family: isIP(address) === 4 ? "ipv4" : "ipv6" };
}

/** Why a URL or address is refused; the delivery log and the 422 say it. */
export type Refusal =
  | "not_a_url"
  | "scheme_not_allowed"
  | "credentials_in_url"
  | "address_not_allowed"
  | "http_not_allowed"
  | "unresolvable";

export class AddressGuard {
  private readonly refused = blockListOf([...REFUSED_V4, ...REFUSED_V6]);
  private readonly listed: BlockList;

  constructor(allowed: readonly string[] = []) {
    this.listed = blockListOf(allowed);
  }

  /** Whether `WEBHOOK_ALLOW_PRIVATE` lists the address (which also lets plain http reach it). */
  isListed(raw: string): boolean {
    const { address, family } = unmapped(raw);
    return isIP(address) !== 0 && this.listed.check(address, family);
  }

  /** Whether a delivery may connect to the address: a public one, or one the allow-list names. */
  mayReach(raw: string): boolean {
    const { address, family } = unmapped(raw);
    if (isIP(address) === 0) return false;
    return this.listed.check(address, family) || !this.refused.check(address, family);
  }

  /** The URL's own rules, before any name is resolved: http(s), no credentials, a host. */
  checkUrl(text: string): { url: URL } | { refused: Refusal } {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return { refused: "not_a_url" };
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") return { refused: "scheme_not_allowed" };
    if (url.username || url.password) return { refused: "credentials_in_url" };
    if (!url.hostname) return { refused: "not_a_url" };
    return { url };
  }

  /**
   * The address a delivery to `url` connects to, resolved now: every address the name has must be
   * reachable (one private address among public ones refuses the name), and plain http needs every
   * one of them listed. `lookup` is the resolver (the system's, or a test's).
   */
  async resolve(
    url: URL,
    lookup: (hostname: string) => Promise<Array<{ address: string; family: number }>> = (hostname) =>
      dnsLookup(hostname, { all: true, verbatim: true }),
  ): Promise<{ address: string; family: 4 | 6 } | { refused: Refusal }> {
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    let addresses: Array<{ address: string; family: number }>;
    if (isIP(host) !== 0) addresses = [{ address: host, family: isIP(host) }];
    else {
      try {
        addresses = await lookup(host);
      } catch {
        return { refused: "unresolvable" };
      }
    }
    if (addresses.length === 0) return { refused: "unresolvable" };
    if (!addresses.every(({ address }) => this.mayReach(address))) return { refused: "address_not_allowed" };
    if (url.protocol === "http:" && !addresses.every(({ address }) => this.isListed(address))) {
      return { refused: "http_not_allowed" };
    }
    const [first] = addresses as [{ address: string; family: number }];
    return { address: first.address, family: first.family === 6 ? 6 : 4 };
  }
}

/** A `lookup` for the HTTP client that answers the address already checked, whatever it is asked. */
export function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as LookupFunction;
}
