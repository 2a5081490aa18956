// Offers: every version (immutable), "Counter" and "Accept offer" on the latest, and the offer form.
import { useRef, useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { FieldError, fieldError, type ApiError } from "../../components/FormErrors";
import { Money } from "../../components/Money";
import { DealPageAcceptOfferDocument, DealPageMakeOfferDocument, type TransactionType } from "../../gql/graphql";
import { useI18n } from "../../i18n";
import { formatDateTime } from "../../i18n/format";
import {
  basisPointsToPercent,
  canAcceptLatest,
  counterForm,
  CURRENCIES,
  minorToMajorInput,
  newIdempotencyKey,
  offerFormToInput,
  TRANSACTION_TYPES,
  type OfferForm,
} from "./dealLogic";
import type { DealData, OfferData, Viewer } from "./dealTypes";
import { Errors } from "./DealErrors";

function blankForm(deal: DealData): OfferForm {
  const latest = deal.offers[deal.offers.length - 1];
  const price = deal.listing.price;
  const currency = latest?.upfront.currency ?? price?.currency ?? "KRW";
  return {
    transactionType: latest?.transactionType ?? deal.listing.transactionTypes[0] ?? "ASSIGNMENT",
    amount: !latest && price ? minorToMajorInput(price.amount, price.currency) : "",
    currency,
    royaltyPercent: "0",
    termMonths: "",
    territory: "",
    exclusive: false,
    note: "",
    countersVersion: null,
  };
}

function OfferVersion({ offer, latest, deal, viewer, onCounter, canOffer, onChanged }: {
  offer: OfferData;
  latest: boolean;
  deal: DealData;
  viewer: Viewer;
  onCounter: () => void;
  canOffer: boolean;
  onChanged: () => void;
}) {
  const { t, te, locale } = useI18n();
  const [{ data, fetching }, accept] = useMutation(DealPageAcceptOfferDocument);
  const errors = data?.acceptOffer?.errors;
  const mayAccept = latest && canAcceptLatest(deal.state, viewer.side, offer);
  const proposer = offer.proposedFor ? te("Side", offer.proposedFor) : t("deal.offers.byBroker");
  return (
    <li className="dp-offer" data-testid="offer" data-version={offer.version} aria-labelledby={`dp-offer-${offer.version}`}>
      <h3 id={`dp-offer-${offer.version}`}>
        {t("deal.offers.version", { version: offer.version })}{" "}
        {latest && <span className="badge">{t("deal.offers.latest")}</span>}{" "}
        {deal.agreedOffer?.version === offer.version && <span className="badge dp-badge-ok">{t("deal.offers.agreed")}</span>}
      </h3>
      <dl className="dp-dl">
        <dt>{t("deal.offers.proposedBy")}</dt>
        <dd>
          {proposer}
          {offer.countersVersion !== null && ` · ${t("deal.offers.counters", { version: offer.countersVersion })}`}
          {` · ${formatDateTime(offer.createdAt, locale)}`}
        </dd>
        <dt>{t("deal.offer.transactionType")}</dt>
        <dd>{te("TransactionType", offer.transactionType)}</dd>
        <dt>{t("deal.offer.upfront")}</dt>
        <dd>
          <Money amount={offer.upfront.amount} currency={offer.upfront.currency} />
        </dd>
        <dt>{t("deal.offer.royalty")}</dt>
        <dd>{basisPointsToPercent(offer.royaltyBasisPoints)}%</dd>
        <dt>{t("deal.offer.term")}</dt>
        <dd>{offer.termMonths === null ? t("deal.offers.noTerm") : t("deal.offers.months", { months: offer.termMonths })}</dd>
        <dt>{t("deal.offer.territory")}</dt>
        <dd>{offer.territory || t("deal.offers.anyTerritory")}</dd>
        <dt>{t("deal.offer.exclusive")}</dt>
        <dd>{offer.exclusive ? t("common.yes") : t("common.no")}</dd>
        {offer.note && (
          <>
            <dt>{t("deal.offer.note")}</dt>
            <dd className="dp-prewrap">{offer.note}</dd>
          </>
        )}
        <dt>{t("deal.offers.acceptedBy")}</dt>
        <dd data-testid="offer-acceptances">
          {offer.acceptances.length
            ? offer.acceptances.map((a) => `${te("Side", a.side)} (${formatDateTime(a.acceptedAt, locale)})`).join(", ")
            : t("deal.offers.notAccepted")}
        </dd>
      </dl>
      {latest && (mayAccept || (canOffer && deal.state === "NEGOTIATING")) && (
        <div className="dp-actions">
          {mayAccept && (
            <button
              type="button"
              className="primary"
              disabled={fetching}
              onClick={async () => {
                // Accepted, or refused (OFFER_SUPERSEDED: a newer version arrived): show the deal as it is now.
                await accept({ dealId: deal.id, version: offer.version });
                onChanged();
              }}
            >
              {t("deal.offers.accept")}
            </button>
          )}
          {canOffer && deal.state === "NEGOTIATING" && (
            <button type="button" onClick={onCounter}>
              {t("deal.offers.counter")}
            </button>
          )}
        </div>
      )}
      <Errors errors={errors} />
    </li>
  );
}

function OfferFormView({ deal, form, setForm, onSent }: {
  deal: DealData;
  form: OfferForm;
  setForm: (form: OfferForm) => void;
  onSent: (version: number) => void;
}) {
  const { t, te } = useI18n();
  const [{ data, fetching }, makeOffer] = useMutation(DealPageMakeOfferDocument);
  const [clientErrors, setClientErrors] = useState<ApiError[] | null>(null);
  const keyRef = useRef<{ key: string; body: string } | null>(null);
  const errors: readonly ApiError[] | undefined = clientErrors ?? data?.makeOffer?.errors;
  const fields = ["upfront", "currency", "transactionType", "royaltyBasisPoints", "termMonths", "territory", "note"];
  const set = <K extends keyof OfferForm>(key: K, value: OfferForm[K]) => setForm({ ...form, [key]: value });
  const described = (field: string) => (fieldError(errors, field) ? `dp-offer-${field}-error` : undefined);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const checked = offerFormToInput(form);
    if (!checked.ok) {
      setClientErrors(checked.errors);
      return;
    }
    setClientErrors(null);
    // One key per distinct submission: a double click or a resend after a dropped answer makes one offer.
    const body = JSON.stringify(checked.value);
    if (!keyRef.current || keyRef.current.body !== body) keyRef.current = { key: newIdempotencyKey(), body };
    const result = await makeOffer({ dealId: deal.id, input: checked.value, idempotencyKey: keyRef.current.key });
    const offer = result.data?.makeOffer?.offer;
    if (offer && !result.data?.makeOffer?.errors.length) {
      keyRef.current = null;
      onSent(offer.version);
    }
  }

  const title = form.countersVersion !== null ? t("deal.offers.counterTitle", { version: form.countersVersion }) : t("deal.offers.make");
  return (
    <form className="dp-subcard" onSubmit={submit} noValidate aria-labelledby="dp-offer-form-title" id="dp-offer-form">
      <h3 id="dp-offer-form-title">{title}</h3>
      {form.countersVersion !== null && (
        <p className="muted">
          {t("deal.offers.counterHint", { version: form.countersVersion })}{" "}
          <button type="button" onClick={() => setForm({ ...form, countersVersion: null })}>
            {t("deal.offers.stopCounter")}
          </button>
        </p>
      )}
      <Errors errors={errors} fields={fields} />
      <div className="dp-form-grid">
        <div>
          <label htmlFor="dp-offer-amount">{t("deal.offer.upfrontAmount")}</label>
          <input
            id="dp-offer-amount"
            inputMode="decimal"
            autoComplete="off"
            required
            value={form.amount}
            onChange={(e) => set("amount", e.target.value)}
            aria-invalid={!!fieldError(errors, "upfront")}
            aria-describedby={described("upfront")}
          />
          <FieldError id="dp-offer-upfront-error" error={fieldError(errors, "upfront")} />
        </div>
        <div>
          <label htmlFor="dp-offer-currency">{t("deal.offer.currency")}</label>
          <select id="dp-offer-currency" value={form.currency} onChange={(e) => set("currency", e.target.value)} aria-describedby={described("currency")}>
            {CURRENCIES.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
          <FieldError id="dp-offer-currency-error" error={fieldError(errors, "currency")} />
        </div>
        <div>
          <label htmlFor="dp-offer-type">{t("deal.offer.transactionType")}</label>
          <select
            id="dp-offer-type"
            value={form.transactionType}
            onChange={(e) => set("transactionType", e.target.value as TransactionType)}
          >
            {TRANSACTION_TYPES.map((type) => (
              <option key={type} value={type}>
                {te("TransactionType", type)}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="dp-offer-royalty">{t("deal.offer.royaltyPercent")}</label>
          <input
            id="dp-offer-royalty"
            inputMode="decimal"
            value={form.royaltyPercent}
            onChange={(e) => set("royaltyPercent", e.target.value)}
            aria-invalid={!!fieldError(errors, "royaltyBasisPoints")}
            aria-describedby={described("royaltyBasisPoints")}
          />
          <FieldError id="dp-offer-royaltyBasisPoints-error" error={fieldError(errors, "royaltyBasisPoints")} />
        </div>
        <div>
          <label htmlFor="dp-offer-term">{t("deal.offer.termMonths")}</label>
          <input
            id="dp-offer-term"
            inputMode="numeric"
            value={form.termMonths}
            onChange={(e) => set("termMonths", e.target.value)}
            aria-invalid={!!fieldError(errors, "termMonths")}
            aria-describedby={described("termMonths")}
          />
          <FieldError id="dp-offer-termMonths-error" error={fieldError(errors, "termMonths")} />
        </div>
        <div>
          <label htmlFor="dp-offer-territory">{t("deal.offer.territory")}</label>
          <input
            id="dp-offer-territory"
            maxLength={100}
            value={form.territory}
            onChange={(e) => set("territory", e.target.value)}
            aria-describedby={described("territory")}
          />
          <FieldError id="dp-offer-territory-error" error={fieldError(errors, "territory")} />
        </div>
      </div>
      <div className="dp-check">
        <input id="dp-offer-exclusive" type="checkbox" checked={form.exclusive} onChange={(e) => set("exclusive", e.target.checked)} />
        <label htmlFor="dp-offer-exclusive">{t("deal.offer.exclusive")}</label>
      </div>
      <label htmlFor="dp-offer-note">{t("deal.offer.note")}</label>
      <textarea
        id="dp-offer-note"
        rows={3}
        maxLength={5000}
        value={form.note}
        onChange={(e) => set("note", e.target.value)}
        aria-describedby={described("note")}
      />
      <FieldError id="dp-offer-note-error" error={fieldError(errors, "note")} />
      <button type="submit" className="primary" disabled={fetching}>
        {t("deal.offers.make")}
      </button>
    </form>
  );
}

export function OffersPanel({ deal, viewer, onChanged }: { deal: DealData; viewer: Viewer; onChanged: () => void }) {
  const { t } = useI18n();
  const [form, setForm] = useState<OfferForm>(() => blankForm(deal));
  const [sent, setSent] = useState<number | null>(null);
  const latest = deal.offers[deal.offers.length - 1];
  const canOffer =
    (deal.state === "NDA_SIGNED" || deal.state === "NEGOTIATING") && (viewer.side !== null || viewer.isDealBroker);
  const newestFirst = [...deal.offers].reverse();

  function counter() {
    if (!latest) return;
    setForm(counterForm(latest));
    setSent(null);
    // Bring the prefilled form into view and put the caret on the amount, the usual thing to change.
    window.requestAnimationFrame(() => {
      const amount = document.getElementById("dp-offer-amount");
      amount?.scrollIntoView({ block: "center" });
      amount?.focus();
    });
  }

  return (
    <section className="card dp-panel" aria-labelledby="dp-offers-title">
      <h2 id="dp-offers-title">{t("deal.offers.title")}</h2>
      {deal.offers.length === 0 ? (
        <p className="muted">
          {deal.state === "INQUIRY" || deal.state === "NDA_PENDING" ? t("deal.offers.afterNda") : t("deal.offers.none")}
        </p>
      ) : (
        <ol className="dp-list" reversed aria-label={t("deal.offers.versions")}>
          {newestFirst.map((offer) => (
            <OfferVersion
              key={offer.version}
              offer={offer}
              latest={offer.version === latest?.version}
              deal={deal}
              viewer={viewer}
              canOffer={canOffer}
              onCounter={counter}
              onChanged={onChanged}
            />
          ))}
        </ol>
      )}
      <p role="status" aria-live="polite" className="dp-status">
        {sent !== null ? t("deal.offers.sent", { version: sent }) : ""}
      </p>
      {canOffer && (
        <OfferFormView
          deal={deal}
          form={form}
          setForm={setForm}
          onSent={(version) => {
            setSent(version);
            setForm({ ...blankForm(deal), amount: "", currency: form.currency, transactionType: form.transactionType });
          }}
        />
      )}
    </section>
  );
}
