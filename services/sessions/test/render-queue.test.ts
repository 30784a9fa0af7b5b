import { describe, expect, it } from "vitest";
import { RenderQueue } from "../src/reports/render-queue.js";

const job = (owner: string, name = owner) => ({ owner, name });
type Job = ReturnType<typeof job>;

/** Every job the queue starts now, as its owner would take them. */
function startAll(queue: RenderQueue<Job>): string[] {
  const started: string[] = [];
  for (let next = queue.next(); next; next = queue.next()) started.push(next.name);
  return started;
}

describe("the report queue", () => {
  it("starts the oldest job whose owner is under their share, so one user never holds every worker", () => {
    const queue = new RenderQueue<Job>({ workers: 4, waitingLimit: 10, perUser: 10 });
    const burst = ["a1", "a2", "a3", "a4"].map((name) => job("alice", name));
    for (const each of burst) expect(queue.add(each)).toBeUndefined();
    // Half the workers for alice; the other two stay for others.
    expect(startAll(queue)).toEqual(["a1", "a2"]);
    queue.add(job("bob", "b1"));
    queue.add(job("carol", "c1"));
    expect(startAll(queue)).toEqual(["b1", "c1"]);
    expect(queue.load).toEqual({ rendering: 4, waiting: 2 });
    // A worker frees: alice's next goes, in her order.
    queue.finished(burst[0] as Job);
    expect(startAll(queue)).toEqual(["a3"]);
  });

  it("lets one user have the only worker, one report at a time, others' reports taking turns", () => {
    const queue = new RenderQueue<Job>({ workers: 1, waitingLimit: 10, perUser: 10 });
    const a1 = job("alice", "a1");
    queue.add(a1);
    queue.add(job("alice", "a2"));
    queue.add(job("bob", "b1"));
    expect(startAll(queue)).toEqual(["a1"]);
    queue.finished(a1);
    // Oldest first: alice's second was there before bob's.
    expect(startAll(queue)).toEqual(["a2"]);
  });

  it("refuses a user past their reports in the pool (429) and anyone past the waiting limit (503)", () => {
    const queue = new RenderQueue<Job>({ workers: 1, waitingLimit: 2, perUser: 2 });
    expect(queue.add(job("alice"))).toBeUndefined();
    startAll(queue);
    expect(queue.add(job("alice"))).toBeUndefined();
    // Two of alice's in the pool, one rendering and one waiting: her third is refused, not others'.
    expect(queue.add(job("alice"))).toBe("rate_limited");
    expect(queue.add(job("bob"))).toBeUndefined();
    // Two waiting: the pool is full for everyone.
    expect(queue.add(job("carol"))).toBe("exports_busy");
    expect(queue.load).toEqual({ rendering: 1, waiting: 2 });
  });

  it("takes a job a free worker starts at once even when the waiting are at their limit", () => {
    const queue = new RenderQueue<Job>({ workers: 2, waitingLimit: 0, perUser: 5 });
    expect(queue.add(job("alice", "a1"))).toBeUndefined();
    expect(startAll(queue)).toEqual(["a1"]);
    // Alice has her share (one of two workers): hers would wait, and nothing may.
    expect(queue.add(job("alice", "a2"))).toBe("exports_busy");
    expect(queue.add(job("bob", "b1"))).toBeUndefined();
    expect(startAll(queue)).toEqual(["b1"]);
  });

  it("forgets a waiting job whose caller gave up", () => {
    const queue = new RenderQueue<Job>({ workers: 1, waitingLimit: 5, perUser: 5 });
    const first = job("alice", "first");
    const gone = job("bob", "gone");
    queue.add(first);
    startAll(queue);
    queue.add(gone);
    queue.add(job("carol", "next"));
    expect(queue.withdraw(gone)).toBe(true);
    expect(queue.withdraw(first)).toBe(false);
    queue.finished(first);
    expect(startAll(queue)).toEqual(["next"]);
  });
});

describe("the report queue across organizations", () => {
  const of = (organization: string, owner: string, name = `${organization}/${owner}`) => ({
    owner,
    organization,
    name,
  });
  type OrgJob = ReturnType<typeof of>;

  it("lets one organization use the whole pool while no other waits", () => {
    // 1 worker and 16 waiting places, as this machine runs it: ten exports of one organization all go in.
    const queue = new RenderQueue<OrgJob>({ workers: 1, waitingLimit: 16, perUser: 4 });
    for (let index = 0; index < 10; index++) expect(queue.add(of("acme", `user${index % 5}`))).toBeUndefined();
    const wide = new RenderQueue<OrgJob>({ workers: 4, waitingLimit: 10, perUser: 10 });
    for (const user of ["a", "b", "c", "d"]) wide.add(of("acme", user));
    const started: string[] = [];
    for (let next = wide.next(); next; next = wide.next()) started.push(next.name);
    expect(started).toEqual(["acme/a", "acme/b", "acme/c", "acme/d"]);
  });

  it("keeps the last quarter of the waiting places for others once an organization holds half the pool", () => {
    // 1 worker and 8 waiting places: half the pool is 5, the last 2 places stay for others.
    const queue = new RenderQueue<OrgJob>({ workers: 1, waitingLimit: 8, perUser: 4 });
    expect(queue.add(of("acme", "user0"))).toBeUndefined();
    expect(queue.next()?.name).toBe("acme/user0");
    const answers = Array.from({ length: 9 }, (_, user) => queue.add(of("acme", `user${user + 1}`)));
    // One rendering and six waiting: half the pool held, and only the last two places are left.
    expect(answers.filter((answer) => answer === undefined)).toHaveLength(6);
    expect(answers.filter((answer) => answer === "rate_limited")).toHaveLength(3);
    // Another organization still gets in, up to the pool's end.
    const others = Array.from({ length: 3 }, (_, user) => queue.add(of("globex", `user${user}`)));
    expect(others).toEqual([undefined, undefined, "exports_busy"]);
  });

  it("gives a freed worker to an organization under half the workers before one at its half", () => {
    const queue = new RenderQueue<OrgJob>({ workers: 4, waitingLimit: 10, perUser: 10 });
    for (const user of ["a", "b", "c", "d"]) queue.add(of("acme", user));
    queue.add(of("globex", "e"));
    const started: string[] = [];
    for (let next = queue.next(); next; next = queue.next()) started.push(next.name);
    // acme at its half (2 of 4) lets globex's newer report go before its third.
    expect(started).toEqual(["acme/a", "acme/b", "globex/e", "acme/c"]);
    expect(queue.load).toEqual({ rendering: 4, waiting: 1 });
  });

  it("counts a job of no organization by its user only", () => {
    const queue = new RenderQueue<{ owner: string; organization?: string }>({
      workers: 2,
      waitingLimit: 0,
      perUser: 5,
    });
    expect(queue.add({ owner: "a" })).toBeUndefined();
    expect(queue.add({ owner: "b" })).toBeUndefined();
    expect(queue.next()?.owner).toBe("a");
    expect(queue.next()?.owner).toBe("b");
  });
});
