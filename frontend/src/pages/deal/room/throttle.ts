// At most one call per `ms`. `trailing`: a call made during the wait runs when it ends, with the latest
// argument (read receipts: the last position counts); without it, such calls are dropped (typing signals).
export interface Throttled<A> {
  (arg: A): void;
  cancel(): void;
}

export function throttle<A>(
  fn: (arg: A) => void,
  ms: number,
  options: { trailing: boolean; now?: () => number } = { trailing: false },
): Throttled<A> {
  const now = options.now ?? (() => Date.now());
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let queued: { arg: A } | null = null;

  const run = (arg: A) => {
    last = now();
    fn(arg);
  };

  const throttled = ((arg: A) => {
    const wait = last + ms - now();
    if (wait <= 0 && timer === null) {
      run(arg);
      return;
    }
    if (!options.trailing) return;
    queued = { arg };
    if (timer === null) {
      timer = setTimeout(() => {
        timer = null;
        const next = queued;
        queued = null;
        if (next) run(next.arg);
      }, Math.max(0, wait));
    }
  }) as Throttled<A>;

  throttled.cancel = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    queued = null;
  };
  return throttled;
}
