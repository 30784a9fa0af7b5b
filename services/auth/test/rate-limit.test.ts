import type { Sql } from "postgres";
import { beforeAll, describe, expect, it } from "vitest";
import { RateLimiter } from "../src/rate-limit.js";
import { useAuthDatabase } from "./support/auth-database.js";

const database = useAuthDatabase("auth_rate");
let sql: Sql;
beforeAll(() => {
  sql = database.sql;
});

describe("the login rate limiter", () => {
  it("allows the limit per key per minute, then answers 429 with the seconds left", async () => {
    const limiter = new RateLimiter(sql, 3);
    for (let i = 0; i < 3; i++) await limiter.hit(["login:ip:10.0.0.1", `login:email:user${i}@example.com`]);
    const refused = await limiter.hit(["login:ip:10.0.0.1", "login:email:other@example.com"]).catch((e) => e);
    expect(refused).toMatchObject({ code: "too_many_attempts" });
    expect(refused.extra.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(refused.extra.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it("counts per email across addresses", async () => {
    const limiter = new RateLimiter(sql, 2);
    await limiter.hit(["login:ip:a", "login:email:victim@example.com"]);
    await limiter.hit(["login:ip:b", "login:email:victim@example.com"]);
    await expect(limiter.hit(["login:ip:c", "login:email:victim@example.com"])).rejects.toMatchObject({
      code: "too_many_attempts",
    });
  });

  it("counts every replica's attempts together (one shared table)", async () => {
    const replicas = [new RateLimiter(sql, 5), new RateLimiter(sql, 5)];
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => (replicas[i % 2] as RateLimiter).hit(["register:ip:shared"])),
    );
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(5);
  });
});
