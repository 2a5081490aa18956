import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadStripe, STRIPE_SRC, StripeLoadError, type LoaderEnv, type ScriptLike, type StripeFactory } from "./stripe";

interface FakeScript extends ScriptLike {
  attributes: Record<string, string>;
  removed: boolean;
}

function fakeEnv() {
  const scripts: FakeScript[] = [];
  const win: { Stripe?: StripeFactory } = {};
  const env: LoaderEnv = {
    doc: {
      createElement: () => {
        const script: FakeScript = {
          src: "",
          async: false,
          onload: null,
          onerror: null,
          attributes: {},
          removed: false,
          setAttribute(name, value) {
            this.attributes[name] = value;
          },
          remove() {
            this.removed = true;
          },
        };
        return script;
      },
      head: {
        appendChild: (node) => {
          scripts.push(node as FakeScript);
          return node;
        },
      },
      querySelectorAll: () => scripts.filter((s) => !s.removed),
    },
    win,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
  return { env, scripts, win };
}

const factory = (() => ({})) as unknown as StripeFactory;

describe("loadStripe", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("injects one async script from js.stripe.com and resolves with window.Stripe once it loads", async () => {
    const { env, scripts, win } = fakeEnv();
    const promise = loadStripe(env, 5000);
    expect(scripts).toHaveLength(1);
    expect(scripts[0].src).toBe(STRIPE_SRC);
    expect(scripts[0].src).toBe("https://js.stripe.com/v3/");
    expect(scripts[0].async).toBe(true);
    win.Stripe = factory;
    scripts[0].onload?.call(null, {});
    await expect(promise).resolves.toBe(factory);
    expect(scripts[0].removed).toBe(false);
  });

  it("does not inject anything when Stripe.js is already there", async () => {
    const { env, scripts, win } = fakeEnv();
    win.Stripe = factory;
    await expect(loadStripe(env)).resolves.toBe(factory);
    expect(scripts).toHaveLength(0);
  });

  it("rejects on a network error and removes the script", async () => {
    const { env, scripts } = fakeEnv();
    const promise = loadStripe(env, 5000);
    scripts[0].onerror?.call(null, {});
    await expect(promise).rejects.toEqual(new StripeLoadError("network"));
    expect(scripts[0].removed).toBe(true);
  });

  it("gives up after the time limit when the script never answers", async () => {
    const { env, scripts } = fakeEnv();
    const promise = loadStripe(env, 5000);
    const settled = vi.fn();
    promise.then(settled, settled);
    const timedOut = expect(promise).rejects.toMatchObject({ name: "StripeLoadError", reason: "timeout" });
    await vi.advanceTimersByTimeAsync(4999);
    expect(settled).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    await timedOut;
    expect(scripts[0].removed).toBe(true);
    // A late load after the timeout changes nothing.
    scripts[0].onload?.call(null, {});
  });

  it("rejects when the script loads but defines no Stripe", async () => {
    const { env, scripts } = fakeEnv();
    const promise = loadStripe(env, 5000);
    scripts[0].onload?.call(null, {});
    await expect(promise).rejects.toMatchObject({ reason: "missing" });
  });

  it("tries again with a fresh script, removing the failed one", async () => {
    const { env, scripts, win } = fakeEnv();
    const first = expect(loadStripe(env, 5000)).rejects.toMatchObject({ reason: "timeout" });
    await vi.advanceTimersByTimeAsync(5000);
    await first;
    const second = loadStripe(env, 5000);
    expect(scripts).toHaveLength(2);
    expect(scripts[0].removed).toBe(true);
    win.Stripe = factory;
    scripts[1].onload?.call(null, {});
    await expect(second).resolves.toBe(factory);
  });

  it("fails in a real document that cannot reach Stripe (jsdom loads no external scripts)", async () => {
    const failed = expect(loadStripe(undefined, 5000)).rejects.toBeInstanceOf(StripeLoadError);
    const script = document.head.querySelector<HTMLScriptElement>("script[data-ipmarket-stripe]");
    expect(script?.src).toBe(STRIPE_SRC);
    await vi.advanceTimersByTimeAsync(5000);
    await failed;
    expect(document.head.querySelector("script[data-ipmarket-stripe]")).toBeNull();
  });
});
