/**
 * Waiting on state a test keeps (what a receiver was sent, the lines the services logged): whoever
 * changes the state calls `notify`, and each wait checks again then, not on a timer. A wait not
 * met within its time fails naming what it waited for.
 */
export class Changes {
  private readonly waiters = new Set<() => void>();

  /** The state changed: every wait checks again. */
  notify(): void {
    for (const check of [...this.waiters]) check();
  }

  /** `check`'s first answer that is not false, undefined or null: checked at once and after each change. */
  until<T>(check: () => T | false | undefined | null, what: string, timeoutMs = 60_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(attempt);
      };
      const attempt = () => {
        let answer: T | false | undefined | null;
        try {
          answer = check();
        } catch (error) {
          finish();
          reject(error);
          return;
        }
        if (answer === false || answer === undefined || answer === null) return;
        finish();
        resolve(answer);
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(attempt);
      attempt();
    });
  }
}
