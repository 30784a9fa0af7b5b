/**
 * The rules of the report pool without its threads: which report renders next, and which is
 * refused. A user has at most half the workers (at least one) and at most `perUser` reports in
 * the pool, rendering or waiting, so one user's burst neither holds every worker nor fills the
 * queue. Organizations share the pool fairly without leaving any of it idle: a worker that
 * frees takes the oldest report of an organization under half the workers before one of an
 * organization at its half (and that one when no other waits), and an organization holding half
 * the pool (workers and waiting places) or more is refused the last quarter of the waiting
 * places, which stay for the others. Past `waitingLimit` waiting reports the pool is full for
 * everyone.
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

/** Whose shares a job counts against: its user's, and its organization's when it names one. */
const sharersOf = (job: { owner: string; organization?: string | undefined }) =>
  job.organization === undefined ? [`user:${job.owner}`] : [`user:${job.owner}`, `org:${job.organization}`];

/** Its owner takes `next()` until it answers nothing after every `add`, `finished` and `withdraw`. */
export class RenderQueue<Job extends { owner: string; organization?: string | undefined }> {
  private readonly waiting: Job[] = [];
  /** Jobs rendering, by user and by organization (`sharersOf`). */
  private readonly renderingBy = new Map<string, number>();
  private rendering = 0;
  /** What one user may render at once, and an organization before others' reports: half the workers. */
  private readonly renderingShare: number;
  /** Half the pool's places, rendering and waiting: an organization holding this many is past its share. */
  private readonly organizationShare: number;
  /** Waiting places an organization past its share may not take: they stay for the others. */
  private readonly headroom: number;

  constructor(private readonly limits: RenderLimits) {
    this.renderingShare = Math.max(1, Math.floor(limits.workers / 2));
    this.organizationShare = Math.max(1, Math.ceil((limits.workers + limits.waitingLimit) / 2));
    this.headroom = Math.ceil(limits.waitingLimit / 4);
  }

  /** Takes `job` to wait for a worker, or says why not. */
  add(job: Job): Refusal | undefined {
    const [user, organization] = sharersOf(job);
    if (this.inPool(user as string) >= this.limits.perUser) return "rate_limited";
    const crowding =
      organization !== undefined &&
      this.inPool(organization) >= this.organizationShare &&
      this.waiting.length >= this.limits.waitingLimit - this.headroom;
    if (crowding) return "rate_limited";
    // A job a free worker takes at once never waits (every job still waiting is one that cannot
    // start: no worker is free, or its owner has their share), so the limit is not its.
    const startsNow = this.rendering < this.limits.workers && this.underShare(job, "user");
    if (!startsNow && this.waiting.length >= this.limits.waitingLimit) return "exports_busy";
    this.waiting.push(job);
    return undefined;
  }

  /**
   * The next job to render, when a worker is free: the oldest whose user and organization are
   * under their share, else the oldest whose user is (no worker idles while a report waits).
   */
  next(): Job | undefined {
    if (this.rendering >= this.limits.workers) return undefined;
    let index = this.waiting.findIndex((job) => this.underShare(job, "both"));
    if (index < 0) index = this.waiting.findIndex((job) => this.underShare(job, "user"));
    if (index < 0) return undefined;
    const [job] = this.waiting.splice(index, 1) as [Job];
    this.rendering++;
    for (const sharer of sharersOf(job)) this.renderingBy.set(sharer, (this.renderingBy.get(sharer) ?? 0) + 1);
    return job;
  }

  /** A job `next` gave out has finished, however it ended. */
  finished(job: Job): void {
    this.rendering--;
    for (const sharer of sharersOf(job)) {
      const left = (this.renderingBy.get(sharer) ?? 1) - 1;
      if (left > 0) this.renderingBy.set(sharer, left);
      else this.renderingBy.delete(sharer);
    }
  }

  private underShare(job: Job, which: "user" | "both"): boolean {
    const sharers = which === "user" ? sharersOf(job).slice(0, 1) : sharersOf(job);
    return sharers.every((sharer) => (this.renderingBy.get(sharer) ?? 0) < this.renderingShare);
  }

  /** A user's or organization's jobs in the pool, rendering or waiting. */
  private inPool(sharer: string): number {
    const waiting = this.waiting.filter((each) => sharersOf(each).includes(sharer)).length;
    return (this.renderingBy.get(sharer) ?? 0) + waiting;
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
