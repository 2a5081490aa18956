// Milestones and escrow: the plan (set once the offer is agreed), each milestone's escrow (paid in, held,
// released, refunded), payment, materials, delivery, acceptance and release, disputes.
import { useRef, useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { FieldError, fieldError, type ApiError } from "../../components/FormErrors";
import { Money } from "../../components/Money";
import {
  DealPageAcceptMilestoneDocument,
  DealPageConfirmDeliveryDocument,
  DealPageOpenDisputeDocument,
  DealPageSetMilestonesDocument,
} from "../../gql/graphql";
import { useI18n } from "../../i18n";
import { formatDateTime, formatMoney } from "../../i18n/format";
import {
  milestonesReplaceable,
  milestonesToInput,
  minorToMajorInput,
  newIdempotencyKey,
  sumMilestones,
  type MilestoneRow,
} from "./dealLogic";
import { DepositForm, MaterialsList } from "./DealMaterials";
import { PaymentBox } from "./DealPayment";
import type { DealData, MilestoneData, Viewer } from "./dealTypes";
import { Errors } from "./DealErrors";

const HOLDING = ["FUNDED", "DELIVERED"];

function MilestonesForm({ deal, agreed, onDone }: {
  deal: DealData;
  agreed: { amount: string | number; currency: string };
  onDone: () => void;
}) {
  const { t, locale } = useI18n();
  const [rows, setRows] = useState<MilestoneRow[]>(() =>
    deal.milestones.length
      ? deal.milestones.map((m) => ({
          title: m.title,
          amount: minorToMajorInput(m.amount.amount, m.amount.currency),
          deliverables: m.deliverables,
          inspectionDays: String(m.inspectionDays),
        }))
      : [{ title: "", amount: "", deliverables: "", inspectionDays: "14" }],
  );
  const [clientErrors, setClientErrors] = useState<ApiError[] | null>(null);
  const [{ data, fetching }, setMilestones] = useMutation(DealPageSetMilestonesDocument);
  const errors: readonly ApiError[] | undefined = clientErrors ?? data?.setMilestones?.errors;
  const sum = sumMilestones(rows, agreed);
  const rowFields = rows.flatMap((_, i) => [`title.${i}`, `amount.${i}`, `inspectionDays.${i}`]);

  const update = (i: number, patch: Partial<MilestoneRow>) => setRows(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));

  async function submit(event: FormEvent) {
    event.preventDefault();
    const checked = milestonesToInput(rows, agreed);
    if (!checked.ok) {
      setClientErrors(checked.errors);
      return;
    }
    setClientErrors(null);
    const result = await setMilestones({ dealId: deal.id, milestones: checked.value });
    if (result.data?.setMilestones?.deal && !result.data.setMilestones.errors.length) onDone();
  }

  const remaining = -sum.difference;
  return (
    <form className="dp-subcard" onSubmit={submit} noValidate aria-labelledby="dp-ms-form-title">
      <h3 id="dp-ms-form-title">{t("deal.milestones.formTitle")}</h3>
      <p className="muted">{t("deal.milestones.formHint", { amount: formatMoney(agreed.amount, agreed.currency, locale) })}</p>
      <Errors errors={errors} fields={rowFields} />
      {rows.map((row, i) => {
        const id = `dp-ms-${i}`;
        return (
          <fieldset key={i} className="dp-ms-row">
            <legend>{t("deal.milestones.rowLegend", { n: i + 1 })}</legend>
            <div className="dp-form-grid">
              <div>
                <label htmlFor={`${id}-title`}>{t("deal.milestones.rowTitle")}</label>
                <input
                  id={`${id}-title`}
                  maxLength={200}
                  value={row.title}
                  onChange={(e) => update(i, { title: e.target.value })}
                  aria-describedby={fieldError(errors, `title.${i}`) ? `${id}-title-error` : undefined}
                />
                <FieldError id={`${id}-title-error`} error={fieldError(errors, `title.${i}`)} />
              </div>
              <div>
                <label htmlFor={`${id}-amount`}>{t("deal.milestones.rowAmount")}</label>
                <div className="dp-with-unit">
                  <input
                    id={`${id}-amount`}
                    inputMode="decimal"
                    value={row.amount}
                    onChange={(e) => update(i, { amount: e.target.value })}
                    aria-describedby={[`${id}-unit`, fieldError(errors, `amount.${i}`) ? `${id}-amount-error` : ""].join(" ").trim()}
                  />
                  <span id={`${id}-unit`} className="muted">
                    {agreed.currency}
                  </span>
                </div>
                <FieldError id={`${id}-amount-error`} error={fieldError(errors, `amount.${i}`)} />
              </div>
              <div>
                <label htmlFor={`${id}-days`}>{t("deal.milestones.rowDays")}</label>
                <input
                  id={`${id}-days`}
                  inputMode="numeric"
                  value={row.inspectionDays}
                  onChange={(e) => update(i, { inspectionDays: e.target.value })}
                  aria-describedby={fieldError(errors, `inspectionDays.${i}`) ? `${id}-days-error` : undefined}
                />
                <FieldError id={`${id}-days-error`} error={fieldError(errors, `inspectionDays.${i}`)} />
              </div>
            </div>
            <label htmlFor={`${id}-deliverables`}>{t("deal.milestones.rowDeliverables")}</label>
            <textarea
              id={`${id}-deliverables`}
              rows={2}
              value={row.deliverables}
              onChange={(e) => update(i, { deliverables: e.target.value })}
            />
            {rows.length > 1 && (
              <button type="button" className="dp-link-button" onClick={() => setRows(rows.filter((_, j) => j !== i))}>
                {t("deal.milestones.removeRow", { n: i + 1 })}
              </button>
            )}
          </fieldset>
        );
      })}
      <button
        type="button"
        onClick={() => setRows([...rows, { title: "", amount: "", deliverables: "", inspectionDays: "14" }])}
        disabled={rows.length >= 20}
      >
        {t("deal.milestones.addRow")}
      </button>
      <p aria-live="polite" className={sum.difference === 0n && !sum.invalid.length ? "dp-sum dp-sum-ok" : "dp-sum"}>
        {t("deal.milestones.sum", {
          total: formatMoney(sum.total.toString(), agreed.currency, locale),
          agreed: formatMoney(agreed.amount, agreed.currency, locale),
        })}{" "}
        {sum.difference === 0n
          ? t("deal.milestones.sumMatches")
          : remaining > 0n
            ? t("deal.milestones.sumShort", { amount: formatMoney(remaining.toString(), agreed.currency, locale) })
            : t("deal.milestones.sumOver", { amount: formatMoney((-remaining).toString(), agreed.currency, locale) })}
      </p>
      <button type="submit" className="primary" disabled={fetching}>
        {t("deal.milestones.submit")}
      </button>
    </form>
  );
}

function DisputeForm({ milestone, onDone }: { milestone: MilestoneData; onDone: () => void }) {
  const { t } = useI18n();
  const [reason, setReason] = useState("");
  const [{ data, fetching }, openDispute] = useMutation(DealPageOpenDisputeDocument);
  const [clientError, setClientError] = useState<ApiError | null>(null);
  const errors = clientError ? [clientError] : data?.openMilestoneDispute?.errors;
  const id = `dp-dispute-${milestone.sequence}`;
  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!reason.trim()) {
      setClientError({ field: "reason", code: "INVALID", message: t("deal.dispute.reasonNeeded") });
      return;
    }
    setClientError(null);
    const result = await openDispute({ milestoneId: milestone.id, reason: reason.trim() });
    if (result.data?.openMilestoneDispute?.milestone && !result.data.openMilestoneDispute.errors.length) {
      setReason("");
      onDone();
    }
  }
  return (
    <details className="dp-details">
      <summary>{t("deal.dispute.summary")}</summary>
      <form onSubmit={submit} noValidate>
        <p className="muted">{t("deal.dispute.hint")}</p>
        <Errors errors={errors} fields={["reason"]} />
        <label htmlFor={id}>{t("deal.dispute.reason")}</label>
        <textarea
          id={id}
          rows={2}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          aria-describedby={fieldError(errors, "reason") ? `${id}-error` : undefined}
        />
        <FieldError id={`${id}-error`} error={fieldError(errors, "reason")} />
        <button type="submit" disabled={fetching}>
          {t("deal.dispute.submit")}
        </button>
      </form>
    </details>
  );
}

function MilestoneItem({ deal, milestone, viewer, onChanged, onPaymentStarted, onPaymentSubmitted }: {
  deal: DealData;
  milestone: MilestoneData;
  viewer: Viewer;
  onChanged: () => void;
  onPaymentStarted: () => void;
  onPaymentSubmitted: () => void;
}) {
  const { t, te, locale } = useI18n();
  const [confirmState, confirmDelivery] = useMutation(DealPageConfirmDeliveryDocument);
  const [acceptState, acceptMilestone] = useMutation(DealPageAcceptMilestoneDocument);
  const acceptKey = useRef<string | null>(null);
  const { escrow, state } = milestone;
  const dispute = escrow.openDispute;
  const holding = HOLDING.includes(state) && !dispute;
  const mayPay = viewer.side === "BUYER" && state === "PENDING" && (deal.state === "AGREED" || deal.state === "IN_ESCROW");
  const mayConfirm = (viewer.side === "SELLER" || viewer.isDealBroker) && state === "FUNDED" && !dispute;
  const mayAccept = viewer.side === "BUYER" && holding;
  const mayDispute = viewer.side !== null && holding;
  const mayDeposit = viewer.side === "SELLER" && ["PENDING", "FUNDED", "DELIVERED"].includes(state);
  const released = BigInt(escrow.released.amount) > 0n;
  const refunded = BigInt(escrow.refunded.amount) > 0n;
  const titleId = `dp-ms-${milestone.sequence}-title`;

  async function accept() {
    // A fresh key per click: a retry of this click (same key) cannot release twice.
    acceptKey.current = newIdempotencyKey();
    const result = await acceptMilestone({ milestoneId: milestone.id, idempotencyKey: acceptKey.current });
    if (result.data?.acceptMilestone?.milestone && !result.data.acceptMilestone.errors.length) onChanged();
  }

  async function confirm() {
    const result = await confirmDelivery({ milestoneId: milestone.id });
    if (result.data?.confirmDelivery?.milestone && !result.data.confirmDelivery.errors.length) onChanged();
  }

  const dates: [string, string | null][] = [
    [t("deal.escrow.fundedAt"), escrow.fundedAt],
    [t("deal.escrow.deliveredAt"), escrow.deliveredAt],
    [t("deal.escrow.inspectionEndsAt"), state === "DELIVERED" ? escrow.inspectionEndsAt : null],
    [t("deal.escrow.acceptedAt"), escrow.acceptedAt],
    [t("deal.escrow.releasedAt"), escrow.releasedAt],
    [t("deal.escrow.holdExpiresAt"), HOLDING.includes(state) ? escrow.holdExpiresAt : null],
  ];

  return (
    <li className="dp-milestone" data-testid="milestone" data-state={state} data-sequence={milestone.sequence} aria-labelledby={titleId}>
      <div className="dp-milestone-head">
        <h3 id={titleId}>
          {milestone.sequence}. {milestone.title}
        </h3>
        <span className={`badge dp-ms-state dp-ms-${state.toLowerCase()}`} data-testid="milestone-state">
          {te("MilestoneState", state)}
        </span>
      </div>
      <p className="dp-amount">
        <Money amount={milestone.amount.amount} currency={milestone.amount.currency} />{" "}
        <span className="muted">· {t("deal.milestones.inspection", { days: milestone.inspectionDays })}</span>
      </p>
      {milestone.deliverables && (
        <p className="dp-prewrap">
          <span className="muted">{t("deal.milestones.deliverables")}: </span>
          {milestone.deliverables}
        </p>
      )}
      <dl className="dp-escrow" aria-label={t("deal.escrow.label")}>
        <div>
          <dt>{t("deal.escrow.funded")}</dt>
          <dd>
            <Money amount={escrow.funded.amount} currency={escrow.funded.currency} />
          </dd>
        </div>
        <div>
          <dt>{t("deal.escrow.held")}</dt>
          <dd data-testid="escrow-held">
            <Money amount={escrow.held.amount} currency={escrow.held.currency} />
          </dd>
        </div>
        <div>
          <dt>{t("deal.escrow.released")}</dt>
          <dd data-testid="escrow-released">
            <Money amount={escrow.released.amount} currency={escrow.released.currency} />
          </dd>
        </div>
        <div>
          <dt>{t("deal.escrow.refunded")}</dt>
          <dd>
            <Money amount={escrow.refunded.amount} currency={escrow.refunded.currency} />
          </dd>
        </div>
      </dl>
      {dates.some(([, date]) => date) && (
        <ul className="dp-dates">
          {dates
            .filter(([, date]) => date)
            .map(([label, date]) => (
              <li key={label}>
                {label}: {formatDateTime(date, locale)}
              </li>
            ))}
        </ul>
      )}
      {state === "PENDING" && <p className="muted">{t("deal.milestones.awaitingPayment")}</p>}
      {state === "FUNDED" && <p className="muted">{t("deal.milestones.fundedHint")}</p>}
      {state === "DELIVERED" && (
        <p className="muted">
          {t("deal.milestones.deliveredHint", { date: formatDateTime(escrow.inspectionEndsAt, locale) })}
        </p>
      )}
      {(released || refunded) && (
        <div className="alert alert-ok" data-testid="release-status">
          {released && (
            <p>
              {t("deal.escrow.releasedText", {
                amount: formatMoney(escrow.released.amount, escrow.released.currency, locale),
                date: formatDateTime(escrow.releasedAt, locale),
              })}
            </p>
          )}
          {refunded && (
            <p>
              {t("deal.escrow.refundedText", { amount: formatMoney(escrow.refunded.amount, escrow.refunded.currency, locale) })}
            </p>
          )}
          {escrow.payouts.length > 0 && (
            <ul aria-label={t("deal.escrow.payouts")}>
              {escrow.payouts.map((p, i) => (
                <li key={i}>
                  {te("PayoutKind", p.kind)}: {formatMoney(p.amount.amount, p.amount.currency, locale)} —{" "}
                  {te("PayoutStatus", p.status)}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {dispute && (
        <div className="alert alert-error" data-testid="dispute">
          <p>
            <strong>{t("deal.dispute.open", { date: formatDateTime(dispute.openedAt, locale) })}</strong>
          </p>
          <p className="dp-prewrap">{dispute.reason}</p>
        </div>
      )}
      <h4>{t("deal.materials.heading")}</h4>
      <MaterialsList materials={escrow.materials} viewer={viewer} />
      {(mayPay || mayConfirm || mayAccept) && (
        <div className="dp-actions">
          {mayPay && <PaymentBox milestone={milestone} onPaymentStarted={onPaymentStarted} onPaymentSubmitted={onPaymentSubmitted} />}
          {mayConfirm && (
            <button type="button" className="primary" disabled={confirmState.fetching} onClick={() => void confirm()}>
              {t("deal.milestones.confirmDelivery")}
            </button>
          )}
          {mayAccept && (
            <button type="button" className="primary" disabled={acceptState.fetching} onClick={() => void accept()}>
              {t("deal.milestones.acceptRelease")}
            </button>
          )}
        </div>
      )}
      {mayAccept && <p className="muted">{t("deal.milestones.acceptHint")}</p>}
      <Errors errors={confirmState.data?.confirmDelivery?.errors} />
      <Errors errors={acceptState.data?.acceptMilestone?.errors} />
      {mayDispute && <DisputeForm milestone={milestone} onDone={onChanged} />}
      {mayDeposit && <DepositForm deal={deal} milestone={milestone} onDeposited={onChanged} />}
    </li>
  );
}

export function MilestonesPanel({ deal, viewer, onChanged, onPaymentStarted, onPaymentSubmitted }: {
  deal: DealData;
  viewer: Viewer;
  onChanged: () => void;
  onPaymentStarted: () => void;
  onPaymentSubmitted: () => void;
}) {
  const { t, locale } = useI18n();
  const [editing, setEditing] = useState(false);
  const agreed = deal.agreedOffer;
  const maySet =
    deal.state === "AGREED" && (viewer.side !== null || viewer.isDealBroker) && !!agreed && milestonesReplaceable(deal.milestones);
  const showForm = maySet && (deal.milestones.length === 0 || editing);
  const settled = deal.state === "SETTLED";

  return (
    <section className="card dp-panel" aria-labelledby="dp-ms-title">
      <h2 id="dp-ms-title">{t("deal.milestones.title")}</h2>
      {agreed ? (
        <p>
          {t("deal.milestones.agreed", {
            version: agreed.version,
            amount: formatMoney(agreed.upfront.amount, agreed.upfront.currency, locale),
          })}
        </p>
      ) : (
        <p className="muted">{t("deal.milestones.beforeAgreement")}</p>
      )}
      {settled && (
        <p className="alert alert-ok" data-testid="deal-settled">
          {t("deal.milestones.settled")}
        </p>
      )}
      {deal.milestones.length > 0 && (
        <ol className="dp-list dp-milestones" aria-label={t("deal.milestones.listLabel")}>
          {deal.milestones.map((m) => (
            <MilestoneItem
              key={m.id}
              deal={deal}
              milestone={m}
              viewer={viewer}
              onChanged={onChanged}
              onPaymentStarted={onPaymentStarted}
              onPaymentSubmitted={onPaymentSubmitted}
            />
          ))}
        </ol>
      )}
      {maySet && deal.milestones.length > 0 && (
        <button type="button" aria-expanded={editing} aria-controls="dp-ms-form-wrap" onClick={() => setEditing(!editing)}>
          {editing ? t("deal.milestones.keep") : t("deal.milestones.change")}
        </button>
      )}
      <div id="dp-ms-form-wrap">
        {showForm && agreed && (
          <MilestonesForm
            deal={deal}
            agreed={agreed.upfront}
            onDone={() => {
              setEditing(false);
              onChanged();
            }}
          />
        )}
      </div>
    </section>
  );
}
