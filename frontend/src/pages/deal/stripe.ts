// Stripe.js without an npm dependency: a <script> from js.stripe.com (Stripe requires loading it from
// there), with a time limit. Where Stripe cannot be reached the promise rejects (network error, or no
// answer within the limit) and the page says so instead of waiting forever.

export const STRIPE_SRC = "https://js.stripe.com/v3/";
export const STRIPE_TIMEOUT_MS = 5000;

export interface StripePaymentElement {
  mount(target: HTMLElement): void;
  destroy?(): void;
}

export interface StripeElements {
  create(type: "payment", options?: Record<string, unknown>): StripePaymentElement;
}

export interface StripeClient {
  elements(options: { clientSecret: string; locale?: string }): StripeElements;
  confirmPayment(options: {
    elements: StripeElements;
    confirmParams: { return_url: string };
  }): Promise<{ error?: { message?: string } }>;
}

export type StripeFactory = (publishableKey: string, options?: { locale?: string }) => StripeClient;

export class StripeLoadError extends Error {
  constructor(public readonly reason: "network" | "timeout" | "missing") {
    super(`Stripe.js could not be loaded (${reason}).`);
    this.name = "StripeLoadError";
  }
}

/** The bits of document and window the loader touches (a fake in tests). */
export interface LoaderEnv {
  doc: {
    createElement(tag: "script"): ScriptLike;
    head: { appendChild(node: ScriptLike): unknown };
    querySelectorAll(selector: string): ArrayLike<ScriptLike>;
  };
  win: { Stripe?: StripeFactory };
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

export interface ScriptLike {
  src: string;
  async: boolean;
  onload: ((this: unknown, ev: unknown) => unknown) | null;
  onerror: ((this: unknown, ev: unknown) => unknown) | null;
  setAttribute(name: string, value: string): void;
  remove(): void;
}

const MARK = "data-ipmarket-stripe";

function browserEnv(): LoaderEnv {
  return {
    doc: document as unknown as LoaderEnv["doc"],
    win: window as unknown as LoaderEnv["win"],
    setTimeout: (fn, ms) => window.setTimeout(fn, ms),
    clearTimeout: (handle) => window.clearTimeout(handle as number),
  };
}

/**
 * Resolve with window.Stripe, injecting the script when it is not there yet. A previous attempt's
 * script is removed first, so "Try again" really tries again.
 */
export function loadStripe(
  env: LoaderEnv = browserEnv(),
  timeoutMs: number = STRIPE_TIMEOUT_MS,
  src: string = STRIPE_SRC,
): Promise<StripeFactory> {
  if (env.win.Stripe) return Promise.resolve(env.win.Stripe);
  const stale = env.doc.querySelectorAll(`script[${MARK}]`);
  for (let i = 0; i < stale.length; i++) stale[i].remove();
  return new Promise<StripeFactory>((resolve, reject) => {
    const script = env.doc.createElement("script");
    let settled = false;
    const finish = (error: StripeLoadError | null) => {
      if (settled) return;
      settled = true;
      env.clearTimeout(timer);
      script.onload = null;
      script.onerror = null;
      if (error) {
        script.remove();
        reject(error);
      } else if (env.win.Stripe) {
        resolve(env.win.Stripe);
      } else {
        script.remove();
        reject(new StripeLoadError("missing"));
      }
    };
    const timer = env.setTimeout(() => finish(new StripeLoadError("timeout")), timeoutMs);
    script.src = src;
    script.async = true;
    script.setAttribute(MARK, "");
    script.onload = () => finish(null);
    script.onerror = () => finish(new StripeLoadError("network"));
    env.doc.head.appendChild(script);
  });
}
