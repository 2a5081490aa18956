// /buy/demands: my organisations' technology demands, their recommended listings, closing one, and the
// "Post a demand" form.
import { useId, useMemo, useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { useSession } from "../../auth/session";
import { FieldError, FormErrors, fieldError, useErrorText, type ApiError } from "../../components/FormErrors";
import { Money } from "../../components/Money";
import { Loading, QueryError, SignInNeeded } from "../../components/Status";
import {
  DemandsCloseDocument,
  DemandsMineDocument,
  DemandsPostDocument,
  DemandsRecommendationsDocument,
  type DemandsDemandFragment,
  type Sector,
  type TransactionType,
} from "../../gql/graphql";
import { useI18n, type MessageKey } from "../../i18n";
import { formatDate } from "../../i18n/format";
import { buildDemandInput, CURRENCIES, emptyDemandForm, localToday, type DemandFormState } from "./demandForm";
import { SECTORS, TRANSACTION_TYPES } from "../../api/enums";
import { BookmarkButton, ListingCard } from "./ListingCard";
import "./buyer.css";

const FORM_FIELDS = ["buyerId", "title", "description", "sector", "transactionType", "budget", "currency", "keywords", "ipcInterests", "replyDeadline"];

function newKey(): string {
  return typeof crypto !== "undefined" && "randomUUID" in crypto
    ? crypto.randomUUID()
    : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

function Recommendations({ demand }: { demand: DemandsDemandFragment }) {
  const { t } = useI18n();
  const headingId = useId();
  const [{ data, fetching, error }, reexecute] = useQuery({
    query: DemandsRecommendationsDocument,
    variables: { demandId: demand.id },
  });
  const items = data?.recommendedListings ?? [];
  return (
    <div role="region" aria-labelledby={headingId} className="recommendations">
      <h4 id={headingId}>{t("buyer.demands.recommendationsFor", { title: demand.title })}</h4>
      {fetching && !data && <Loading />}
      {error && <QueryError error={error} retry={() => reexecute({ requestPolicy: "network-only" })} />}
      {data && !items.length && <p className="muted">{t("buyer.demands.noRecommendations")}</p>}
      {items.length > 0 && (
        <ol className="card-list">
          {items.map((rec, i) => (
            <li key={rec.listing.id}>
              <ListingCard
                listing={rec.listing}
                why={rec.why}
                rank={i + 1}
                score={rec.score}
                heading="h5"
                actions={<BookmarkButton listing={rec.listing} />}
              />
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

function DemandItem({
  demand,
  showOrganisation,
  onClosed,
}: {
  demand: DemandsDemandFragment;
  showOrganisation: boolean;
  onClosed: (title: string) => void;
}) {
  const { t, te, locale } = useI18n();
  const errorText = useErrorText();
  const panelId = useId();
  const [open, setOpen] = useState(false);
  const [{ fetching: closing }, closeDemand] = useMutation(DemandsCloseDocument);
  const [closeError, setCloseError] = useState<string | null>(null);

  async function close() {
    setCloseError(null);
    const result = await closeDemand({ id: demand.id });
    const problem = result.data?.closeDemand?.errors[0];
    if (result.error) setCloseError(result.error.graphQLErrors[0]?.message ?? result.error.message);
    else if (problem) setCloseError(errorText(problem));
    else onClosed(demand.title);
  }

  return (
    <article className="card demand" data-testid="demand">
      <h3>{demand.title}</h3>
      <dl className="facts">
        {showOrganisation && (
          <div>
            <dt>{t("buyer.demands.organisation")}</dt>
            <dd>{demand.buyer.name}</dd>
          </div>
        )}
        <div>
          <dt>{t("buyer.card.sector")}</dt>
          <dd>{te("Sector", demand.sector)}</dd>
        </div>
        <div>
          <dt>{t("buyer.demands.transactionType")}</dt>
          <dd>{demand.transactionType ? te("TransactionType", demand.transactionType) : t("buyer.demands.anyType")}</dd>
        </div>
        <div>
          <dt>{t("buyer.demands.budget")}</dt>
          <dd>
            {demand.budget ? (
              <Money amount={demand.budget.amount} currency={demand.budget.currency} />
            ) : (
              t("buyer.demands.noBudget")
            )}
          </dd>
        </div>
        <div>
          <dt>{t("buyer.demands.replyBy")}</dt>
          <dd>{demand.replyDeadline ? formatDate(demand.replyDeadline, locale) : "—"}</dd>
        </div>
        <div>
          <dt>{t("buyer.demands.posted")}</dt>
          <dd>{formatDate(demand.createdAt, locale)}</dd>
        </div>
        <div>
          <dt>{t("buyer.demands.status")}</dt>
          <dd>
            <span className={`badge ${demand.isOpen ? "badge-open" : ""}`}>
              {demand.isOpen ? t("buyer.demands.statusOpen") : t("buyer.demands.statusClosed")}
            </span>
          </dd>
        </div>
      </dl>
      <p className="description">{demand.description}</p>
      {demand.keywords.length > 0 && (
        <div className="tags">
          <span className="muted">{t("buyer.demands.keywords")}</span>
          <ul>
            {demand.keywords.map((k) => (
              <li key={k} className="badge">
                {k}
              </li>
            ))}
          </ul>
        </div>
      )}
      {demand.ipcInterests.length > 0 && (
        <div className="tags">
          <span className="muted">{t("buyer.demands.ipcInterests")}</span>
          <ul>
            {demand.ipcInterests.map((k) => (
              <li key={k} className="badge">
                {k}
              </li>
            ))}
          </ul>
        </div>
      )}
      <div className="card-actions">
        <button
          type="button"
          aria-expanded={open}
          aria-controls={panelId}
          aria-label={`${t("buyer.demands.recommendations")}: ${demand.title}`}
          onClick={() => setOpen(!open)}
        >
          {t("buyer.demands.recommendations")}
        </button>
        {demand.isOpen && (
          <button
            type="button"
            disabled={closing}
            aria-label={`${t("buyer.demands.close")}: ${demand.title}`}
            onClick={() => void close()}
          >
            {t("buyer.demands.close")}
          </button>
        )}
      </div>
      {closeError && (
        <p role="alert" className="field-error">
          {closeError}
        </p>
      )}
      <div id={panelId} hidden={!open}>
        {open && <Recommendations demand={demand} />}
      </div>
    </article>
  );
}

function DemandForm({ organisations, onPosted }: { organisations: { id: string; name: string }[]; onPosted: (title: string) => void }) {
  const { t, te } = useI18n();
  const [form, setForm] = useState<DemandFormState>(() => emptyDemandForm(organisations[0]?.id ?? ""));
  const [clientErrors, setClientErrors] = useState<ApiError[]>([]);
  const [{ data, fetching, error }, postDemand] = useMutation(DemandsPostDocument);
  // One idempotency key per distinct input: a resubmission of the same demand (a lost answer) cannot
  // post it twice, and a changed form gets a fresh key.
  const attempt = useRef<{ json: string; key: string } | null>(null);
  const serverErrors = data?.postDemand?.errors;
  const errors: ApiError[] = clientErrors.length ? clientErrors : (serverErrors ?? []);

  function set<K extends keyof DemandFormState>(key: K, value: DemandFormState[K]) {
    setForm((f) => ({ ...f, [key]: value }));
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const built = buildDemandInput(form);
    if (!built.ok) {
      setClientErrors(
        built.problems.map((p) => ({
          field: p.field,
          code: p.code,
          message: t(
            p.code === "REQUIRED" ? "buyer.form.required" : p.code === "INVALID_AMOUNT" ? "buyer.form.invalidAmount" : "buyer.form.dateInPast",
          ),
        })),
      );
      return;
    }
    setClientErrors([]);
    const json = JSON.stringify(built.input);
    if (attempt.current?.json !== json) attempt.current = { json, key: newKey() };
    const result = await postDemand({ input: built.input, idempotencyKey: attempt.current.key });
    const demand = result.data?.postDemand?.demand;
    if (demand && !result.data?.postDemand?.errors.length) {
      attempt.current = null;
      setForm(emptyDemandForm(form.buyerId));
      onPosted(demand.title);
    }
  }

  const describedBy = (field: string, hint?: string) =>
    [hint, fieldError(errors, field) ? `demand-${field}-error` : ""].filter(Boolean).join(" ") || undefined;

  return (
    <form onSubmit={submit} noValidate aria-labelledby="demand-form-title">
      <FormErrors errors={errors} fields={FORM_FIELDS} />
      {error && (
        <p role="alert" className="alert alert-error">
          {t("common.error", { message: error.graphQLErrors[0]?.message ?? error.message })}
        </p>
      )}
      <label htmlFor="demand-buyerId">{t("buyer.form.organisation")}</label>
      <select
        id="demand-buyerId"
        value={form.buyerId}
        onChange={(e) => set("buyerId", e.target.value)}
        aria-invalid={!!fieldError(errors, "buyerId")}
        aria-describedby={describedBy("buyerId")}
      >
        {organisations.map((o) => (
          <option key={o.id} value={o.id}>
            {o.name}
          </option>
        ))}
      </select>
      <FieldError id="demand-buyerId-error" error={fieldError(errors, "buyerId")} />

      <label htmlFor="demand-title">{t("buyer.form.title")}</label>
      <input
        id="demand-title"
        required
        maxLength={300}
        value={form.title}
        onChange={(e) => set("title", e.target.value)}
        aria-invalid={!!fieldError(errors, "title")}
        aria-describedby={describedBy("title")}
      />
      <FieldError id="demand-title-error" error={fieldError(errors, "title")} />

      <label htmlFor="demand-description">{t("buyer.form.description")}</label>
      <textarea
        id="demand-description"
        required
        rows={5}
        maxLength={10000}
        value={form.description}
        onChange={(e) => set("description", e.target.value)}
        aria-invalid={!!fieldError(errors, "description")}
        aria-describedby={describedBy("description", "demand-description-hint")}
      />
      <p id="demand-description-hint" className="hint muted">
        {t("buyer.form.descriptionHint")}
      </p>
      <FieldError id="demand-description-error" error={fieldError(errors, "description")} />

      <label htmlFor="demand-sector">{t("buyer.form.sector")}</label>
      <select
        id="demand-sector"
        value={form.sector}
        onChange={(e) => set("sector", e.target.value as Sector | "")}
        aria-invalid={!!fieldError(errors, "sector")}
        aria-describedby={describedBy("sector")}
      >
        <option value="">{t("buyer.form.sectorNone")}</option>
        {SECTORS.map((s) => (
          <option key={s} value={s}>
            {te("Sector", s)}
          </option>
        ))}
      </select>
      <FieldError id="demand-sector-error" error={fieldError(errors, "sector")} />

      <label htmlFor="demand-transactionType">{t("buyer.form.transactionType")}</label>
      <select
        id="demand-transactionType"
        value={form.transactionType}
        onChange={(e) => set("transactionType", e.target.value as TransactionType | "")}
        aria-invalid={!!fieldError(errors, "transactionType")}
        aria-describedby={describedBy("transactionType")}
      >
        <option value="">{t("buyer.demands.anyType")}</option>
        {TRANSACTION_TYPES.map((v) => (
          <option key={v} value={v}>
            {te("TransactionType", v)}
          </option>
        ))}
      </select>
      <FieldError id="demand-transactionType-error" error={fieldError(errors, "transactionType")} />

      <div className="budget-row">
        <div>
          <label htmlFor="demand-budget">{t("buyer.form.budget")}</label>
          <input
            id="demand-budget"
            inputMode="decimal"
            autoComplete="off"
            value={form.budget}
            onChange={(e) => set("budget", e.target.value)}
            aria-invalid={!!fieldError(errors, "budget")}
            aria-describedby={describedBy("budget", "demand-budget-hint")}
          />
        </div>
        <div>
          <label htmlFor="demand-currency">{t("buyer.form.currency")}</label>
          <select
            id="demand-currency"
            value={form.currency}
            onChange={(e) => set("currency", e.target.value)}
            aria-invalid={!!fieldError(errors, "currency")}
            aria-describedby={describedBy("currency")}
          >
            {CURRENCIES.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </div>
      </div>
      <p id="demand-budget-hint" className="hint muted">
        {t("buyer.form.budgetHint")}
      </p>
      <FieldError id="demand-budget-error" error={fieldError(errors, "budget")} />
      <FieldError id="demand-currency-error" error={fieldError(errors, "currency")} />

      <label htmlFor="demand-keywords">{t("buyer.form.keywords")}</label>
      <input
        id="demand-keywords"
        value={form.keywords}
        onChange={(e) => set("keywords", e.target.value)}
        aria-invalid={!!fieldError(errors, "keywords")}
        aria-describedby={describedBy("keywords", "demand-keywords-hint")}
      />
      <p id="demand-keywords-hint" className="hint muted">
        {t("buyer.form.listHint")}
      </p>
      <FieldError id="demand-keywords-error" error={fieldError(errors, "keywords")} />

      <label htmlFor="demand-ipcInterests">{t("buyer.form.ipcInterests")}</label>
      <input
        id="demand-ipcInterests"
        value={form.ipcInterests}
        onChange={(e) => set("ipcInterests", e.target.value)}
        aria-invalid={!!fieldError(errors, "ipcInterests")}
        aria-describedby={describedBy("ipcInterests", "demand-ipc-hint")}
      />
      <p id="demand-ipc-hint" className="hint muted">
        {t("buyer.form.ipcHint")}
      </p>
      <FieldError id="demand-ipcInterests-error" error={fieldError(errors, "ipcInterests")} />

      <label htmlFor="demand-replyDeadline">{t("buyer.form.replyDeadline")}</label>
      <input
        id="demand-replyDeadline"
        type="date"
        min={localToday()}
        value={form.replyDeadline}
        onChange={(e) => set("replyDeadline", e.target.value)}
        aria-invalid={!!fieldError(errors, "replyDeadline")}
        aria-describedby={describedBy("replyDeadline")}
      />
      <FieldError id="demand-replyDeadline-error" error={fieldError(errors, "replyDeadline")} />

      <button type="submit" className="primary" disabled={fetching}>
        {t("buyer.form.submit")}
      </button>
    </form>
  );
}

export default function Demands() {
  const { t } = useI18n();
  const session = useSession();
  const context = useMemo(() => ({ additionalTypenames: ["Demand"] }), []);
  const [{ data, fetching, error }, reexecute] = useQuery({ query: DemandsMineDocument, context, pause: !session.me });
  const [notice, setNotice] = useState<{ key: MessageKey; title: string } | null>(null);

  const organisations = useMemo(
    () =>
      (session.me?.memberships ?? [])
        .filter((m) => m.organization.kind !== "BROKER_FIRM")
        .map((m) => ({ id: m.organization.id, name: m.organization.name })),
    [session.me],
  );

  const heading = (
    <>
      <h1 id="demands-title">{t("buyer.demands.title")}</h1>
      <p className="muted">{t("buyer.demands.intro")}</p>
    </>
  );

  if (session.loading) return <Loading />;
  if (!session.me)
    return (
      <section aria-labelledby="demands-title">
        {heading}
        <SignInNeeded />
      </section>
    );

  const open = (data?.open?.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []));
  const closed = (data?.closed?.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []));
  const showOrganisation = organisations.length > 1;

  return (
    <section aria-labelledby="demands-title" className="buyer-page">
      {heading}
      <div role="status" aria-live="polite">
        {notice && <p className="alert alert-ok">{t(notice.key, { title: notice.title })}</p>}
      </div>
      {!organisations.length ? (
        <p className="alert">{t("buyer.demands.noOrganisation")}</p>
      ) : (
        <div className="demands-layout">
          <div>
            <section aria-labelledby="demands-open-title">
              <h2 id="demands-open-title">{t("buyer.demands.openTitle", { count: data?.open?.totalCount ?? 0 })}</h2>
              {fetching && !data && <Loading />}
              {error && <QueryError error={error} retry={() => reexecute({ requestPolicy: "network-only" })} />}
              {data && !open.length && <p className="muted">{t("buyer.demands.none")}</p>}
              {open.length > 0 && (
                <ul className="card-list">
                  {open.map((d) => (
                    <li key={d.id}>
                      <DemandItem
                        demand={d}
                        showOrganisation={showOrganisation}
                        onClosed={(title) => setNotice({ key: "buyer.demands.closedNotice", title })}
                      />
                    </li>
                  ))}
                </ul>
              )}
            </section>
            {closed.length > 0 && (
              <section aria-labelledby="demands-closed-title">
                <h2 id="demands-closed-title">{t("buyer.demands.closedTitle", { count: data?.closed?.totalCount ?? 0 })}</h2>
                <ul className="card-list">
                  {closed.map((d) => (
                    <li key={d.id}>
                      <DemandItem demand={d} showOrganisation={showOrganisation} onClosed={() => undefined} />
                    </li>
                  ))}
                </ul>
              </section>
            )}
          </div>
          <section aria-labelledby="demand-form-title" className="card demand-form">
            <h2 id="demand-form-title">{t("buyer.form.heading")}</h2>
            <DemandForm organisations={organisations} onPosted={(title) => setNotice({ key: "buyer.demands.postedNotice", title })} />
          </section>
        </div>
      )}
    </section>
  );
}
