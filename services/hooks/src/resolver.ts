/**
 * Where receivers' names are resolved: the system's resolver, or the DNS server WEBHOOK_RESOLVER
 * names (an egress resolver of the operator's; the tests' own server). Either way every address a
 * name has is answered, for the address guard to check them all.
 */
import { Resolver, lookup as systemLookup } from "node:dns/promises";

export type NameLookup = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export function nameLookup(server: string | undefined): NameLookup {
  if (!server) return (hostname) => systemLookup(hostname, { all: true, verbatim: true });
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([server]);
  return async (hostname) => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]);
    const addresses = [
      ...(v4.status === "fulfilled" ? v4.value.map((address) => ({ address, family: 4 })) : []),
      ...(v6.status === "fulfilled" ? v6.value.map((address) => ({ address, family: 6 })) : []),
    ];
    if (addresses.length === 0) throw new Error(`${hostname} does not resolve`);
    return addresses;
  };
}
