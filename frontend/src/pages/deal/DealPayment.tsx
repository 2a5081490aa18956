// "Pay into escrow": fundMilestone answers a PaymentIntent's client secret, Stripe.js shows its Payment
// Element and confirms the payment. The money counts once the gateway's webhook reaches the server, so the
// page polls the deal meanwhile. Where Stripe.js cannot load, the buyer is told so and may try again.
import { useEffect, useRef, useState } from "react";
import { useMutation } from "urql";
import { DealPageFundMilestoneDocument } from "../../gql/graphql";
import { useI18n } from "../../i18n";
import { newIdempotencyKey } from "./dealLogic";
import type { MilestoneData } from "./dealTypes";
import { loadStripe, type StripeClient, type StripeElements, type StripePaymentElement } from "./stripe";
import { Errors } from "./DealErrors";

type Phase = "idle" | "loading" | "ready" | "unavailable" | "confirming";

interface Intent {
  clientSecret: string;
  publishableKey: string;
}

export function PaymentBox({ milestone, onPaymentStarted, onPaymentSubmitted }: {
  milestone: MilestoneData;
  onPaymentStarted: () => void;
  onPaymentSubmitted: () => void;
}) {
  const { t, locale } = useI18n();
  const [{ data, fetching }, fund] = useMutation(DealPageFundMilestoneDocument);
  const [phase, setPhase] = useState<Phase>("idle");
  const [intent, setIntent] = useState<Intent | null>(null);
  const [confirmError, setConfirmError] = useState<string | null>(null);
  const keyRef = useRef<string | null>(null);
  const mountRef = useRef<HTMLDivElement>(null);
  const stripeRef = useRef<{ stripe: StripeClient; elements: StripeElements; element: StripePaymentElement } | null>(null);
  const errors = data?.fundMilestone?.errors;
  const busy = fetching || phase === "loading" || phase === "confirming";

  useEffect(
    () => () => {
      stripeRef.current?.element.destroy?.();
      stripeRef.current = null;
    },
    [],
  );

  async function openForm(next: Intent) {
    setPhase("loading");
    setConfirmError(null);
    try {
      const Stripe = await loadStripe();
      const stripe = Stripe(next.publishableKey, { locale });
      const elements = stripe.elements({ clientSecret: next.clientSecret, locale });
      const element = elements.create("payment");
      stripeRef.current?.element.destroy?.();
      if (!mountRef.current) throw new Error("no mount point");
      element.mount(mountRef.current);
      stripeRef.current = { stripe, elements, element };
      setPhase("ready");
    } catch {
      setPhase("unavailable");
    }
  }

  async function start() {
    // One key per milestone on this page: a repeat returns the same PaymentIntent, never a second one.
    keyRef.current ??= newIdempotencyKey();
    const result = await fund({ milestoneId: milestone.id, idempotencyKey: keyRef.current });
    const payload = result.data?.fundMilestone;
    if (!payload || payload.errors.length || !payload.clientSecret || !payload.publishableKey) return;
    const next = { clientSecret: payload.clientSecret, publishableKey: payload.publishableKey };
    setIntent(next);
    onPaymentStarted();
    await openForm(next);
  }

  async function confirm() {
    const current = stripeRef.current;
    if (!current) return;
    setPhase("confirming");
    setConfirmError(null);
    onPaymentSubmitted();
    const returnUrl = `${window.location.origin}${window.location.pathname}`;
    const result = await current.stripe.confirmPayment({ elements: current.elements, confirmParams: { return_url: returnUrl } });
    // Only an immediate failure comes back here; on success Stripe redirects to return_url.
    setConfirmError(result.error?.message ?? t("deal.pay.confirmFailed"));
    setPhase("ready");
  }

  return (
    <div className="dp-payment">
      {phase === "idle" && (
        <button type="button" className="primary" disabled={busy} onClick={() => void start()}>
          {t("deal.pay.button")}
        </button>
      )}
      <Errors errors={errors} />
      <p role="status" aria-live="polite" className="dp-status">
        {phase === "loading" ? t("deal.pay.loading") : phase === "confirming" ? t("deal.pay.confirming") : ""}
      </p>
      {phase === "unavailable" && (
        <div role="alert" className="alert alert-error" data-testid="payment-unavailable">
          <p>
            <strong>{t("deal.pay.unavailableTitle")}</strong>
          </p>
          <p>{t("deal.pay.unavailableText")}</p>
          <button type="button" onClick={() => void (intent ? openForm(intent) : start())}>
            {t("common.retry")}
          </button>
        </div>
      )}
      <div ref={mountRef} className="dp-payment-element" data-testid="payment-element" />
      {(phase === "ready" || phase === "confirming") && (
        <>
          {confirmError && (
            <p role="alert" className="field-error">
              {confirmError}
            </p>
          )}
          <button type="button" className="primary" disabled={busy} onClick={() => void confirm()}>
            {t("deal.pay.confirm")}
          </button>
        </>
      )}
    </div>
  );
}
