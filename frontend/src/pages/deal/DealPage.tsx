// /deals/:id — one deal from inquiry to settlement: the workflow's progress, the NDA, brokers, offer
// versions, milestones with their escrow (payment, materials, delivery, release) and the live room.
import { useCallback, useEffect, useMemo, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router-dom";
import { useMutation, useQuery } from "urql";
import { useSession } from "../../auth/session";
import { FieldError, fieldError, type ApiError } from "../../components/FormErrors";
import { Loading, NotFound, QueryError, SignInNeeded } from "../../components/Status";
import {
  DealPageAssignBrokersDocument,
  DealPageBrokersDocument,
  DealPageCancelDealDocument,
  DealPageDocument,
  DealPageRequestNdaDocument,
  DealPageSignNdaDocument,
  type DealPageQuery,
  type DealState,
} from "../../gql/graphql";
import { useI18n, type MessageKey } from "../../i18n";
import { formatDateTime } from "../../i18n/format";
import DealRoom from "./room/DealRoom";
import { OffersPanel } from "./DealOffers";
import { MilestonesPanel } from "./DealMilestones";
import { basisPointsToPercent, brokerRowsToInput, pollInterval, workflowProgress, type BrokerRow, type WorkflowStep } from "./dealLogic";
import type { DealData, Viewer } from "./dealTypes";
import "./DealPage.css";
import { Errors } from "./DealErrors";

const STEP_LABEL: Record<WorkflowStep, MessageKey> = {
  INQUIRY: "deal.step.INQUIRY",
  NDA: "deal.step.NDA",
  NEGOTIATION: "deal.step.NEGOTIATION",
  AGREED: "deal.step.AGREED",
  ESCROW: "deal.step.ESCROW",
  SETTLED: "deal.step.SETTLED",
};

const FINAL: DealState[] = ["SETTLED", "CANCELLED", "RESOLVED"];
const NOT_CANCELLABLE: DealState[] = ["SETTLED", "CANCELLED", "RESOLVED", "IN_ESCROW", "DISPUTED"];

// --- header --------------------------------------------------------------------------------------------

function Progress({ state }: { state: DealState }) {
  const { t } = useI18n();
  const progress = workflowProgress(state);
  return (
    <div className="dp-progress-wrap">
      <ol className="dp-progress" aria-label={t("deal.progress.label")}>
        {progress.steps.map(({ step, status }, i) => (
          <li key={step} className={`dp-step dp-step-${status}`} aria-current={status === "current" ? "step" : undefined} data-status={status}>
            <span className="dp-step-marker" aria-hidden="true">
              {status === "done" ? "✓" : i + 1}
            </span>
            <span>{t(STEP_LABEL[step])}</span>
            <span className="visually-hidden">
              {" "}
              ({status === "done" ? t("deal.progress.done") : status === "current" ? t("deal.progress.current") : t("deal.progress.upcoming")})
            </span>
          </li>
        ))}
      </ol>
      {progress.halted === "cancelled" && <p className="dp-halted">{t("deal.progress.cancelled")}</p>}
      {progress.halted === "disputed" && <p className="dp-halted">{t("deal.progress.disputed")}</p>}
    </div>
  );
}

function DealHeader({ deal, viewer }: { deal: DealData; viewer: Viewer }) {
  const { t, te, locale } = useI18n();
  const you = viewer.side
    ? te("Side", viewer.side)
    : viewer.isDealBroker
      ? viewer.isLeadBroker
        ? t("deal.header.leadBroker")
        : t("deal.header.broker")
      : viewer.isOperator
        ? t("deal.header.operator")
        : "—";
  return (
    <header className="dp-header">
      <p className="dp-crumb">
        <Link to="/deals">{t("deal.header.back")}</Link>
      </p>
      <h1 id="dp-title">
        <span className="dp-kicker">{t("deal.header.kicker")}</span>
        <Link to={`/listings/${encodeURIComponent(deal.listing.id)}`}>{deal.listing.title}</Link>
      </h1>
      <div className="dp-state-line" aria-live="polite">
        <span className="muted">{t("deal.header.state")}:</span>{" "}
        <span className={`badge dp-state dp-state-${deal.state.toLowerCase()}`} data-testid="deal-state" data-state={deal.state}>
          {te("DealState", deal.state)}
        </span>
      </div>
      <Progress state={deal.state} />
      <dl className="dp-parties">
        <div>
          <dt>{t("deal.header.seller")}</dt>
          <dd data-testid="deal-seller">{deal.listing.seller.name}</dd>
        </div>
        <div>
          <dt>{t("deal.header.buyer")}</dt>
          <dd data-testid="deal-buyer">
            {deal.buyer?.name ?? deal.buyerAlias}
            {!deal.buyer && <span className="muted"> ({t("deal.header.aliasHint")})</span>}
          </dd>
        </div>
        <div>
          <dt>{t("deal.header.you")}</dt>
          <dd data-testid="deal-side">{you}</dd>
        </div>
        <div>
          <dt>{t("deal.header.opened")}</dt>
          <dd>{formatDateTime(deal.createdAt, locale)}</dd>
        </div>
      </dl>
      {deal.message && (
        <figure className="dp-inquiry">
          <figcaption className="muted">{t("deal.header.inquiry")}</figcaption>
          <blockquote className="dp-prewrap">{deal.message}</blockquote>
        </figure>
      )}
      {deal.state === "CANCELLED" && deal.cancellationReason && (
        <p className="alert">{t("deal.header.cancelled", { reason: deal.cancellationReason })}</p>
      )}
    </header>
  );
}

// --- NDA -----------------------------------------------------------------------------------------------

function NdaPanel({ deal, nda, viewer, onChanged }: {
  deal: DealData;
  nda: DealPageQuery["currentNda"];
  viewer: Viewer;
  onChanged: () => void;
}) {
  const { t, te, locale } = useI18n();
  const [requestState, requestNda] = useMutation(DealPageRequestNdaDocument);
  const [signState, signNda] = useMutation(DealPageSignNdaDocument);
  const signed = deal.ndaSignatures;
  const mySignature = viewer.side ? signed.find((s) => s.side === viewer.side) : undefined;
  const mayRequest = deal.state === "INQUIRY" && (viewer.side !== null || viewer.isDealBroker);
  const maySign = deal.state === "NDA_PENDING" && viewer.side !== null && !mySignature && !!nda;

  async function request() {
    const result = await requestNda({ dealId: deal.id });
    if (result.data?.requestNda?.deal && !result.data.requestNda.errors.length) onChanged();
  }
  async function sign() {
    if (!nda) return;
    await signNda({ dealId: deal.id, textSha256: nda.textSha256 });
    // Signed, or refused because the NDA text changed meanwhile: reload the deal and the text in force.
    onChanged();
  }

  const status =
    signed.length === 2
      ? t("deal.nda.complete")
      : deal.state === "INQUIRY"
        ? t("deal.nda.notRequested")
        : deal.state === "NDA_PENDING"
          ? t("deal.nda.pending", { count: signed.length })
          : signed.length
            ? t("deal.nda.partial")
            : t("deal.nda.none");

  return (
    <section className="card dp-panel" aria-labelledby="dp-nda-title">
      <h2 id="dp-nda-title">{t("deal.nda.title")}</h2>
      <p data-testid="nda-status">{status}</p>
      {nda ? (
        <div className="dp-nda-text" role="region" tabIndex={0} aria-label={t("deal.nda.textLabel", { version: nda.version })}>
          {nda.text}
        </div>
      ) : (
        <p className="muted">{t("deal.nda.noText")}</p>
      )}
      <h3>{t("deal.nda.signatures")}</h3>
      {signed.length ? (
        <ul className="dp-list" data-testid="nda-signatures">
          {signed.map((s) => (
            <li key={s.side} data-side={s.side}>
              <strong>{te("Side", s.side)}</strong>: {s.signer.displayName} —{" "}
              {t("deal.nda.signedAt", { date: formatDateTime(s.signedAt, locale), version: s.ndaVersion })}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">{t("deal.nda.noSignatures")}</p>
      )}
      {mySignature && <p>{t("deal.nda.youSigned")}</p>}
      {(mayRequest || maySign) && (
        <div className="dp-actions">
          {mayRequest && (
            <button type="button" className="primary" disabled={requestState.fetching} onClick={() => void request()}>
              {t("deal.nda.request")}
            </button>
          )}
          {maySign && (
            <>
              <p className="muted dp-wide">{t("deal.nda.signHint", { version: nda.version })}</p>
              <button type="button" className="primary" disabled={signState.fetching} onClick={() => void sign()}>
                {t("deal.nda.sign")}
              </button>
            </>
          )}
        </div>
      )}
      <Errors errors={requestState.data?.requestNda?.errors} />
      <Errors errors={signState.data?.signNda?.errors} />
    </section>
  );
}

// --- brokers -------------------------------------------------------------------------------------------

interface EditableBroker extends BrokerRow {
  name: string;
  removed: boolean;
}

function AssignBrokerForm({ deal, onChanged }: { deal: DealData; onChanged: () => void }) {
  const { t } = useI18n();
  const [{ data: list, error: listError }] = useQuery({ query: DealPageBrokersDocument });
  const [{ data, fetching }, assign] = useMutation(DealPageAssignBrokersDocument);
  const [existing, setExisting] = useState<EditableBroker[]>(() =>
    deal.brokers.flatMap((b) =>
      b.broker
        ? [{ brokerId: b.broker.id, name: b.displayName, sharePercent: basisPointsToPercent(b.shareBasisPoints), isLead: b.isLead, removed: false }]
        : [],
    ),
  );
  const [added, setAdded] = useState<BrokerRow>(() => ({ brokerId: "", sharePercent: deal.brokers.length ? "" : "100", isLead: !deal.brokers.length }));
  const [clientErrors, setClientErrors] = useState<ApiError[] | null>(null);
  const errors: readonly ApiError[] | undefined = clientErrors ?? data?.assignBrokers?.errors;
  const taken = new Set(existing.map((b) => b.brokerId));
  const choices = (list?.brokers?.edges ?? []).flatMap((e) => (e?.node && !taken.has(e.node.id) ? [e.node] : []));

  function setLead(brokerId: string | null) {
    setExisting(existing.map((b) => ({ ...b, isLead: b.brokerId === brokerId })));
    setAdded({ ...added, isLead: brokerId === null });
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const kept = existing.filter((b) => !b.removed);
    if (!added.brokerId && kept.length === existing.length) {
      setClientErrors([{ field: "brokerId", code: "INVALID", message: t("deal.brokers.choose") }]);
      return;
    }
    const rows: BrokerRow[] = [...kept, ...(added.brokerId ? [added] : [])];
    const checked = brokerRowsToInput(rows);
    if (!checked.ok) {
      setClientErrors(checked.errors);
      return;
    }
    setClientErrors(null);
    const result = await assign({ dealId: deal.id, brokers: checked.value });
    if (result.data?.assignBrokers?.deal && !result.data.assignBrokers.errors.length) onChanged();
  }

  return (
    <form className="dp-subcard" onSubmit={submit} noValidate aria-labelledby="dp-assign-title">
      <h3 id="dp-assign-title">{t("deal.brokers.assignTitle")}</h3>
      <p className="muted">{t("deal.brokers.assignHint")}</p>
      {listError && <QueryError error={listError} />}
      <Errors errors={errors} fields={["brokerId"]} />
      {existing.map((b, i) => {
        const patch = (change: Partial<EditableBroker>) => setExisting(existing.map((x, j) => (j === i ? { ...x, ...change } : x)));
        return (
          <fieldset key={b.brokerId} className="dp-broker-row">
            <legend>{b.name}</legend>
            {b.removed ? (
              <p className="muted">{t("deal.brokers.removed")}</p>
            ) : (
              <>
                <label htmlFor={`dp-bshare-${i}`}>{t("deal.brokers.shareOf", { name: b.name })}</label>
                <input id={`dp-bshare-${i}`} inputMode="decimal" value={b.sharePercent} onChange={(e) => patch({ sharePercent: e.target.value })} />
                <div className="dp-check">
                  <input id={`dp-blead-${i}`} type="radio" name="dp-lead" checked={b.isLead} onChange={() => setLead(b.brokerId)} />
                  <label htmlFor={`dp-blead-${i}`}>{t("deal.brokers.leads", { name: b.name })}</label>
                </div>
              </>
            )}
            <button type="button" className="dp-link-button" onClick={() => patch(b.removed ? { removed: false } : { removed: true, isLead: false })}>
              {b.removed ? t("deal.brokers.keep", { name: b.name }) : t("deal.brokers.remove", { name: b.name })}
            </button>
          </fieldset>
        );
      })}
      <div className="dp-form-grid">
        <div>
          <label htmlFor="dp-broker-select">{t("deal.brokers.broker")}</label>
          <select
            id="dp-broker-select"
            value={added.brokerId}
            onChange={(e) => setAdded({ ...added, brokerId: e.target.value })}
            aria-describedby={fieldError(errors, "brokerId") ? "dp-broker-select-error" : undefined}
          >
            <option value="">{t("deal.brokers.pick")}</option>
            {choices.map((b) => (
              <option key={b.id} value={b.id}>
                {b.displayName} — {b.firm.name}
              </option>
            ))}
          </select>
          <FieldError id="dp-broker-select-error" error={fieldError(errors, "brokerId")} />
        </div>
        <div>
          <label htmlFor="dp-broker-share">{t("deal.brokers.share")}</label>
          <input
            id="dp-broker-share"
            inputMode="decimal"
            value={added.sharePercent}
            onChange={(e) => setAdded({ ...added, sharePercent: e.target.value })}
          />
        </div>
      </div>
      <div className="dp-check">
        <input
          id="dp-broker-lead"
          type={existing.length ? "radio" : "checkbox"}
          name={existing.length ? "dp-lead" : undefined}
          checked={added.isLead}
          onChange={(e) => (existing.length ? setLead(null) : setAdded({ ...added, isLead: e.target.checked }))}
        />
        <label htmlFor="dp-broker-lead">{t("deal.brokers.lead")}</label>
      </div>
      <button type="submit" className="primary" disabled={fetching}>
        {t("deal.brokers.assign")}
      </button>
    </form>
  );
}

function BrokersPanel({ deal, viewer, onChanged }: { deal: DealData; viewer: Viewer; onChanged: () => void }) {
  const { t } = useI18n();
  const canAssign = !FINAL.includes(deal.state) && (viewer.side === "SELLER" || viewer.isOperator || viewer.isLeadBroker);
  // Re-initialise the form when the server's assignment changes (after a save, or someone else's).
  const formKey = deal.brokers.map((b) => `${b.broker?.id}:${b.shareBasisPoints}:${b.isLead}`).join("|");
  return (
    <section className="card dp-panel" aria-labelledby="dp-brokers-title">
      <h2 id="dp-brokers-title">{t("deal.brokers.title")}</h2>
      {deal.brokers.length ? (
        <table data-testid="deal-brokers">
          <caption className="visually-hidden">{t("deal.brokers.caption")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("deal.brokers.broker")}</th>
              <th scope="col">{t("deal.brokers.firm")}</th>
              <th scope="col">{t("deal.brokers.shareColumn")}</th>
              <th scope="col">{t("deal.brokers.role")}</th>
            </tr>
          </thead>
          <tbody>
            {deal.brokers.map((b, i) => (
              <tr key={b.broker?.id ?? i}>
                <td>{b.displayName}</td>
                <td>{b.broker?.firm.name ?? "—"}</td>
                <td>{basisPointsToPercent(b.shareBasisPoints)}%</td>
                <td>{b.isLead ? <span className="badge">{t("deal.brokers.leadBadge")}</span> : t("deal.brokers.coBroker")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">{t("deal.brokers.none")}</p>
      )}
      {canAssign && <AssignBrokerForm key={formKey} deal={deal} onChanged={onChanged} />}
    </section>
  );
}

// --- cancelling ----------------------------------------------------------------------------------------

function CancelPanel({ deal, onChanged }: { deal: DealData; onChanged: () => void }) {
  const { t } = useI18n();
  const [reason, setReason] = useState("");
  const [clientError, setClientError] = useState<ApiError | null>(null);
  const [{ data, fetching }, cancelDeal] = useMutation(DealPageCancelDealDocument);
  const errors = clientError ? [clientError] : data?.cancelDeal?.errors;
  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!reason.trim()) {
      setClientError({ field: "reason", code: "INVALID", message: t("deal.cancel.reasonNeeded") });
      return;
    }
    setClientError(null);
    const result = await cancelDeal({ dealId: deal.id, reason: reason.trim() });
    if (result.data?.cancelDeal?.deal && !result.data.cancelDeal.errors.length) onChanged();
  }
  return (
    <section className="card dp-panel" aria-labelledby="dp-cancel-title">
      <h2 id="dp-cancel-title">{t("deal.cancel.title")}</h2>
      <details className="dp-details">
        <summary>{t("deal.cancel.summary")}</summary>
        <form onSubmit={submit} noValidate>
          <p className="muted">{t("deal.cancel.hint")}</p>
          <Errors errors={errors} fields={["reason"]} />
          <label htmlFor="dp-cancel-reason">{t("deal.cancel.reason")}</label>
          <textarea
            id="dp-cancel-reason"
            rows={2}
            maxLength={2000}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            aria-describedby={fieldError(errors, "reason") ? "dp-cancel-reason-error" : undefined}
          />
          <FieldError id="dp-cancel-reason-error" error={fieldError(errors, "reason")} />
          <button type="submit" disabled={fetching}>
            {t("deal.cancel.submit")}
          </button>
        </form>
      </details>
    </section>
  );
}

// --- the page ------------------------------------------------------------------------------------------

/** Stripe sends the buyer back to return_url with ?redirect_status=succeeded|processing|failed. */
function returnedFromPayment(): boolean {
  const status = new URLSearchParams(window.location.search).get("redirect_status");
  return status === "succeeded" || status === "processing";
}

export default function DealPage() {
  const { id = "" } = useParams();
  const { t, locale } = useI18n();
  const session = useSession();
  const [{ data, fetching, error }, reexecute] = useQuery({ query: DealPageDocument, variables: { id }, pause: !session.me });
  // Started: a PaymentIntent exists (poll fast). Submitted: the buyer confirmed it, or Stripe sent them
  // back here after confirming (say that the confirmation is awaited).
  const [paymentStarted, setPaymentStarted] = useState(returnedFromPayment);
  const [paymentSubmitted, setPaymentSubmitted] = useState(returnedFromPayment);
  const refresh = useCallback(() => reexecute({ requestPolicy: "network-only" }), [reexecute]);
  const deal = data?.deal ?? null;
  const anyPending = !!deal?.milestones.some((m) => m.state === "PENDING");
  const interval = deal ? pollInterval(deal.state, paymentStarted && anyPending) : null;

  // The other side acts in another browser, and the payment gateway's webhook marks milestones funded:
  // reload the deal on a timer while it is live, and whenever the window regains focus.
  useEffect(() => {
    if (interval === null) return;
    const handle = window.setInterval(refresh, interval);
    return () => window.clearInterval(handle);
  }, [interval, refresh]);
  useEffect(() => {
    window.addEventListener("focus", refresh);
    return () => window.removeEventListener("focus", refresh);
  }, [refresh]);

  const me = session.me;
  const viewer = useMemo<Viewer | null>(() => {
    if (!deal) return null;
    const mine = deal.brokers.find((b) => me?.broker && b.broker?.id === me.broker.id);
    return { side: deal.viewerSide, isDealBroker: !!mine, isLeadBroker: !!mine?.isLead, isOperator: !!me?.isOperator };
  }, [deal, me]);

  if (session.loading) return <Loading />;
  if (!me) {
    return (
      <section aria-labelledby="dp-title">
        <h1 id="dp-title">{t("deal.page.title")}</h1>
        <SignInNeeded />
      </section>
    );
  }
  if (error && !data) {
    return (
      <section aria-labelledby="dp-title">
        <h1 id="dp-title">{t("deal.page.title")}</h1>
        <QueryError error={error} retry={refresh} />
      </section>
    );
  }
  if (!data && fetching) return <Loading />;
  if (!deal || !viewer) return <NotFound />;

  const cancellable = !NOT_CANCELLABLE.includes(deal.state) && (viewer.side !== null || viewer.isOperator);

  return (
    <article className="dp" aria-labelledby="dp-title">
      <DealHeader deal={deal} viewer={viewer} />
      {paymentSubmitted && anyPending && (
        <p className="alert" role="status">
          {t("deal.pay.waiting")}
        </p>
      )}
      {error && <QueryError error={error} retry={refresh} />}
      <div className="dp-layout">
        <div className="dp-panels">
          <NdaPanel deal={deal} nda={data?.currentNda ?? null} viewer={viewer} onChanged={refresh} />
          <BrokersPanel deal={deal} viewer={viewer} onChanged={refresh} />
          <OffersPanel deal={deal} viewer={viewer} onChanged={refresh} />
          <MilestonesPanel deal={deal} viewer={viewer} onChanged={refresh} onPaymentStarted={() => setPaymentStarted(true)}
            onPaymentSubmitted={() => setPaymentSubmitted(true)}
          />
          {cancellable && <CancelPanel deal={deal} onChanged={refresh} />}
          <p className="dp-refresh">
            <button type="button" onClick={refresh} disabled={fetching}>
              {t("deal.page.refresh")}
            </button>{" "}
            <span className="muted">{t("deal.page.updated", { date: formatDateTime(deal.updatedAt, locale) })}</span>
          </p>
        </div>
        <div className="dp-room">
          <DealRoom dealId={deal.id} />
        </div>
      </div>
    </article>
  );
}
