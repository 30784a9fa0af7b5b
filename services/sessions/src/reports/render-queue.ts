/**
 * The rules of the report pool without its threads: which report renders next, and which is
 * refused. A user has at most half the workers (at least one) and at most `perUser` reports in
 * the pool, rendering or waiting, so one user's burst neither holds every worker nor fills the
 * queue; past `waitingLimit` waiting reports the pool is full for everyone.
 */

export interface RenderLimits {
  /** Reports rendered at once (worker threads). */
  workers: number;
  /** Reports that may wait for a worker. */
  waitingLimit: number;
  /** Reports of one user in the pool at once, rendering or waiting. */
  perUser: number;
}

/** Why a report was not taken: the user has too many in the pool, or the pool is full. */
export type Refusal = "rate_limited" | "exports_busy";

/** Its owner takes `next()` until it answers nothing after every `add`, `finished` and `withdraw`. */
export class RenderQueue<Job extends { owner: string }> {
  private readonly waiting: Job[] = [];
  private readonly renderingBy = new Map<string, number>();
  private rendering = 0;
  /** What one user may render at once: half the workers, so that others always find one. */
  private readonly perUserRendering: number;

  constructor(private readonly limits: RenderLimits) {
    this.perUserRendering = Math.max(1, Math.floor(limits.workers / 2));
  }

  /** Takes `job` to wait for a worker, or says why not. */
  add(job: Job): Refusal | undefined {
    const owned =
      (this.renderingBy.get(job.owner) ?? 0) + this.waiting.filter((each) => each.owner === job.owner).length;
    if (owned >= this.limits.perUser) return "rate_limited";
    // A job a free worker takes at once never waits (every job still waiting is one that cannot
    // start: no worker is free, or its owner has their share), so the limit is not its.
    const startsNow =
      this.rendering < this.limits.workers && (this.renderingBy.get(job.owner) ?? 0) < this.perUserRendering;
    if (!startsNow && this.waiting.length >= this.limits.waitingLimit) return "exports_busy";
    this.waiting.push(job);
    return undefined;
  }

  /** The next job to render, when a worker is free: the oldest whose owner is under their share. */
  next(): Job | undefined {
    if (this.rendering >= this.limits.workers) return undefined;
    const index = this.waiting.findIndex((job) => (this.renderingBy.get(job.owner) ?? 0) < this.perUserRendering);
    if (index < 0) return undefined;
    const [job] = this.waiting.splice(index, 1) as [Job];
    this.rendering++;
    this.renderingBy.set(job.owner, (this.renderingBy.get(job.owner) ?? 0) + 1);
    return job;
  }

  /** A job `next` gave out has finished, however it ended. */
  finished(job: Job): void {
    this.rendering--;
    const left = (this.renderingBy.get(job.owner) ?? 1) - 1;
    if (left > 0) this.renderingBy.set(job.owner, left);
    else this.renderingBy.delete(job.owner);
  }

  /** Takes a waiting job out (its caller gave up); false when it was not waiting. */
  withdraw(job: Job): boolean {
    const index = this.waiting.indexOf(job);
    if (index < 0) return false;
    this.waiting.splice(index, 1);
    return true;
  }

  /** Takes every waiting job out (the pool is closing). */
  withdrawAll(): Job[] {
    return this.waiting.splice(0);
  }

  /** How full the pool is: for a refused caller's Retry-After, and the operator's log. */
  get load(): { rendering: number; waiting: number } {
    return { rendering: this.rendering, waiting: this.waiting.length };
  }
}
