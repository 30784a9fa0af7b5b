/**
 * `work`'s answer, or a failure saying none came within `ms`: for tests about hangs, where a
 * missing answer is the failure to report, not a test timeout.
 */
export function within<T>(ms: number, work: PromiseLike<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
