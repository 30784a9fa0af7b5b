import { describe, expect, it } from "vitest";
import { AddressGuard, parseAllowList } from "../src/address-guard.js";

/** A resolver that answers what a test says a name resolves to. */
const resolving =
  (answers: Record<string, string[]>) =>
  async (hostname: string): Promise<Array<{ address: string; family: number }>> => {
    const addresses = answers[hostname];
    if (!addresses) throw new Error("ENOTFOUND");
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };

const PRIVATE = [
  "127.0.0.1",
  "127.255.255.254",
  "10.1.2.3",
  "172.16.0.1",
  "172.31.255.255",
  "192.168.1.1",
  "169.254.169.254",
  "100.64.0.1",
  "0.0.0.0",
  "224.0.0.1",
  "255.255.255.255",
  "::1",
  "::",
  "fe80::1",
  "fd00:ec2::254",
  "fc00::1",
  "::ffff:127.0.0.1",
  "::ffff:7f00:1",
  "::ffff:169.254.169.254",
  "64:ff9b::a9fe:a9fe",
  "2002:a9fe:a9fe::1",
  "::127.0.0.1",
];
const PUBLIC = ["93.184.216.34", "1.1.1.1", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.216.34", "172.32.0.1"];

describe("where deliveries may go", () => {
  const guard = new AddressGuard();

  it("refuses loopback, private, link-local, metadata and the disguised forms of each", () => {
    for (const address of PRIVATE) expect(guard.mayReach(address), address).toBe(false);
    for (const address of PUBLIC) expect(guard.mayReach(address), address).toBe(true);
    expect(guard.mayReach("not-an-address")).toBe(false);
  });

  it("lets WEBHOOK_ALLOW_PRIVATE's ranges in, and only them", () => {
    const listed = parseAllowList(" 127.0.0.0/8, ::1/128 ,");
    expect(listed).toEqual({ cidrs: ["127.0.0.0/8", "::1/128"] });
    const tests = new AddressGuard("cidrs" in listed ? listed.cidrs : []);
    expect(tests.mayReach("127.0.0.1")).toBe(true);
    expect(tests.mayReach("::ffff:127.0.0.1")).toBe(true);
    expect(tests.mayReach("::1")).toBe(true);
    expect(tests.mayReach("10.0.0.1")).toBe(false);
    expect(tests.mayReach("169.254.169.254")).toBe(false);
    for (const bad of ["127.0.0.0/33", "localhost", "1.2.3.4/8/1", "::1/129", "10.0.0.0/-1"]) {
      expect(parseAllowList(bad), bad).toEqual({ invalid: bad });
    }
    expect(parseAllowList(undefined)).toEqual({ cidrs: [] });
  });

  it("resolves the name at the attempt and refuses it when any address it has is refused", async () => {
    const lookup = resolving({
      "hooks.example.com": ["93.184.216.34"],
      "rebind.example.com": ["93.184.216.34", "127.0.0.1"],
      "metadata.example.com": ["169.254.169.254"],
    });
    const url = (text: string) => new URL(text);
    expect(await guard.resolve(url("https://hooks.example.com/in"), lookup)).toEqual({
      address: "93.184.216.34",
      family: 4,
    });
    expect(await guard.resolve(url("https://rebind.example.com/in"), lookup)).toEqual({
      refused: "address_not_allowed",
    });
    expect(await guard.resolve(url("https://metadata.example.com/"), lookup)).toEqual({
      refused: "address_not_allowed",
    });
    expect(await guard.resolve(url("https://[::1]:8443/"), lookup)).toEqual({ refused: "address_not_allowed" });
    expect(await guard.resolve(url("https://169.254.169.254/latest"), lookup)).toEqual({
      refused: "address_not_allowed",
    });
    expect(await guard.resolve(url("https://nowhere.example.com/"), lookup)).toEqual({ refused: "unresolvable" });
  });

  it("takes plain http only to listed addresses", async () => {
    const tests = new AddressGuard(["127.0.0.0/8"]);
    const lookup = resolving({ "hooks.example.com": ["93.184.216.34"] });
    expect(await tests.resolve(new URL("http://127.0.0.1:9000/in"), lookup)).toEqual({
      address: "127.0.0.1",
      family: 4,
    });
    expect(await tests.resolve(new URL("http://hooks.example.com/in"), lookup)).toEqual({
      refused: "http_not_allowed",
    });
    expect(await tests.resolve(new URL("https://hooks.example.com/in"), lookup)).toEqual({
      address: "93.184.216.34",
      family: 4,
    });
  });

  it("checks the URL's own shape first", () => {
    expect(guard.checkUrl("ftp://example.com/")).toEqual({ refused: "scheme_not_allowed" });
    expect(guard.checkUrl("https://user:pw@example.com/")).toEqual({ refused: "credentials_in_url" });
    expect(guard.checkUrl("not a url")).toEqual({ refused: "not_a_url" });
    expect(guard.checkUrl("file:///etc/passwd")).toEqual({ refused: "scheme_not_allowed" });
    expect("url" in guard.checkUrl("https://example.com/hooks?x=1")).toBe(true);
  });
});
