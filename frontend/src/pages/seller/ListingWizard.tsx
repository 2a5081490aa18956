// The listing wizard: /sell/new and /sell/listings/:id/edit. Four steps (patents, description, terms,
// review); the draft is created when the terms are complete and updated on every later step, so the
// quality coach can score it before it is published.
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { useClient, useMutation, useQuery } from "urql";
import { useSession } from "../../auth/session";
import { FieldError, FormErrors, fieldError, type ApiError } from "../../components/FormErrors";
import { Loading, QueryError } from "../../components/Status";
import {
  ListingWizardCreateDocument,
  ListingWizardLoadDocument,
  ListingWizardOwnPatentsDocument,
  ListingWizardPublishDocument,
  ListingWizardSearchPatentsDocument,
  ListingWizardUpdateDocument,
  type ListingWizardListingFragment,
} from "../../gql/graphql";
import { hasKey, useI18n, type MessageKey } from "../../i18n";
import { formatDateTime, formatMoney, formatNumber } from "../../i18n/format";
import { SellerGate, sellerOrgs } from "./SellerGate";
import {
  CURRENCIES,
  COACH_SUMMARY_MIN,
  SECTORS,
  STEPS,
  TRANSACTION_TYPES,
  TRL_LEVELS,
  buildCreateInput,
  buildUpdateInput,
  classifyPatentQuery,
  emptyState,
  newIdempotencyKey,
  parsePrice,
  patentTitle,
  scoreGrade,
  stateFromListing,
  stepOfField,
  togglePatent,
  toggleType,
  validSteps,
  validateStep,
  type PatentChoice,
  type StepId,
  type ValidationIssue,
  type WizardState,
} from "./wizardLogic";
import "./seller.css";

interface Org {
  id: string;
  name: string;
  isVerified: boolean;
}

const STEP_LABEL: Record<StepId, MessageKey> = {
  patents: "seller.wizard.step.patents",
  description: "seller.wizard.step.description",
  terms: "seller.wizard.step.terms",
  review: "seller.wizard.step.review",
};

/** The input each API field is edited in, for focus after a failed check. */
const INPUT_ID: Record<string, string> = {
  sellerId: "wiz-seller",
  patentIds: "wiz-patent-query",
  title: "wiz-title",
  summary: "wiz-summary",
  quantifiedBenefit: "wiz-benefit",
  knowHow: "wiz-knowhow",
  trl: "wiz-trl",
  sector: "wiz-sector",
  transactionTypes: `wiz-tt-${TRANSACTION_TYPES[0]}`,
  price: "wiz-price",
  currency: "wiz-currency",
};

export default function ListingWizard() {
  const { t } = useI18n();
  const { id } = useParams();
  return (
    <section aria-labelledby="wizard-title" className="seller-page wizard">
      <h1 id="wizard-title">{t(id ? "seller.wizard.editTitle" : "seller.wizard.newTitle")}</h1>
      <SellerGate>{id ? <EditLoader key={id} id={id} /> : <NewListing />}</SellerGate>
    </section>
  );
}

function NewListing() {
  const { me } = useSession();
  const orgs = sellerOrgs(me);
  const [initial] = useState(() => emptyState(orgs.length === 1 ? orgs[0].id : ""));
  return <Wizard orgs={orgs} initial={initial} listing={null} />;
}

function EditLoader({ id }: { id: string }) {
  const { t, te } = useI18n();
  const [{ data, fetching, error }, reexecute] = useQuery({
    query: ListingWizardLoadDocument,
    variables: { id },
    requestPolicy: "network-only",
  });
  const initial = useMemo(() => (data?.listing ? stateFromListing(data.listing) : null), [data]);
  if (fetching && !data) return <Loading />;
  if (error && !data?.listing) return <QueryError error={error} retry={() => reexecute({ requestPolicy: "network-only" })} />;
  const listing = data?.listing;
  if (!listing || !initial) {
    return (
      <div className="alert" role="alert">
        <p>{t("seller.wizard.notFound")}</p>
        <Link to="/sell/listings">{t("seller.wizard.toMyListings")}</Link>
      </div>
    );
  }
  if (listing.quality === null) {
    // Only the seller's members get the coach: anyone else may see the listing but not edit it.
    return (
      <div className="alert" role="alert">
        <p>{t("seller.wizard.notYours")}</p>
        <Link to={`/listings/${listing.id}`}>{t("seller.wizard.viewListing")}</Link>
      </div>
    );
  }
  if (listing.status !== "DRAFT" && listing.status !== "PUBLISHED") {
    return (
      <div className="alert" role="alert">
        <p>{t("seller.wizard.notEditable", { status: te("ListingStatus", listing.status) })}</p>
        <Link to={`/listings/${listing.id}`}>{t("seller.wizard.viewListing")}</Link>
      </div>
    );
  }
  return <Wizard orgs={[listing.seller]} initial={initial} listing={listing} />;
}

function issueToError(issue: ValidationIssue, t: (key: MessageKey) => string): ApiError {
  // A code without an "error.*" key: useErrorText shows the (already translated) message.
  return { field: issue.field, code: `check_${issue.code}`, message: t(`seller.validation.${issue.code}`) };
}

function Wizard({ orgs, initial, listing: initialListing }: { orgs: Org[]; initial: WizardState; listing: ListingWizardListingFragment | null }) {
  const { t, locale } = useI18n();
  const navigate = useNavigate();
  const [state, setState] = useState(initial);
  const [step, setStep] = useState(0);
  const [maxStep, setMaxStep] = useState(initialListing ? STEPS.length - 1 : 0);
  const [listing, setListing] = useState(initialListing);
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [savedAt, setSavedAt] = useState<string | null>(null);
  const [idempotencyKey, setIdempotencyKey] = useState(newIdempotencyKey);
  const [{ fetching: creating }, create] = useMutation(ListingWizardCreateDocument);
  const [{ fetching: updating }, update] = useMutation(ListingWizardUpdateDocument);
  const [{ fetching: publishing }, publish] = useMutation(ListingWizardPublishDocument);
  const busy = creating || updating || publishing;
  const headingRef = useRef<HTMLHeadingElement>(null);
  const shownStep = useRef(step);
  const focusTarget = useRef<string | null>(null);

  const change = useCallback((patch: Partial<WizardState>) => setState((s) => ({ ...s, ...patch })), []);

  useEffect(() => {
    // After a step change, move focus to the step's heading (not on the first render).
    if (shownStep.current !== step) headingRef.current?.focus();
    shownStep.current = step;
  }, [step]);

  useEffect(() => {
    // After a failed check, move focus to the first field at fault.
    if (focusTarget.current) {
      document.getElementById(focusTarget.current)?.focus();
      focusTarget.current = null;
    }
  }, [errors, step]);

  function showErrors(next: ApiError[]) {
    setErrors(next);
    const first = next.find((e) => e.field && INPUT_ID[e.field]);
    focusTarget.current = first?.field ? INPUT_ID[first.field] : null;
  }

  /** Creates the draft or saves the valid steps; false (with the errors shown) when refused. */
  async function save(upTo: StepId): Promise<boolean> {
    let payload: { listing: ListingWizardListingFragment | null; errors: ApiError[] } | null | undefined;
    let failure: string | undefined;
    if (listing) {
      const input = buildUpdateInput(state, { isDraft: listing.status === "DRAFT", steps: validSteps(state, upTo) });
      const result = await update({ id: listing.id, input });
      payload = result.data?.updateListing;
      failure = result.error?.message;
    } else {
      const result = await create({ input: buildCreateInput(state), idempotencyKey });
      payload = result.data?.createListing;
      failure = result.error?.message;
    }
    if (failure !== undefined || !payload) {
      showErrors([{ code: "NETWORK", message: t("seller.wizard.saveFailed", { message: failure ?? "" }) }]);
      return false;
    }
    if (payload.errors.length) {
      if (!listing) setIdempotencyKey(newIdempotencyKey());
      const errorStep = payload.errors.map((e) => stepOfField(e.field)).find((s) => s !== null);
      // Show the refusal where the field at fault is edited.
      if (errorStep) setStep(STEPS.indexOf(errorStep));
      showErrors(payload.errors);
      return false;
    }
    if (payload.listing) {
      setListing(payload.listing);
      setSavedAt(payload.listing.updatedAt);
    }
    return true;
  }

  /** Moves to step `target`: forward only past steps that pass their checks, saving on the way. */
  async function goTo(target: number) {
    if (busy || target === step) return;
    if (target < step) {
      setErrors([]);
      setStep(target);
      return;
    }
    for (let i = step; i < target; i += 1) {
      const issues = validateStep(STEPS[i], state);
      if (issues.length) {
        setStep(i);
        showErrors(issues.map((issue) => issueToError(issue, t)));
        return;
      }
    }
    setErrors([]);
    // The draft is created once the terms are complete (createListing needs transaction types);
    // from then on every move forward saves, so the coach scores what the seller sees.
    const reachesReview = target >= STEPS.indexOf("review");
    if (listing || reachesReview) {
      const ok = await save(STEPS[Math.min(target, STEPS.indexOf("terms"))]);
      if (!ok) return;
    }
    setStep(target);
    setMaxStep((m) => Math.max(m, target));
  }

  async function doPublish() {
    if (!listing || busy) return;
    const result = await publish({ id: listing.id });
    const payload = result.data?.publishListing;
    if (result.error || !payload) {
      showErrors([{ code: "NETWORK", message: t("seller.wizard.saveFailed", { message: result.error?.message ?? "" }) }]);
      return;
    }
    if (payload.errors.length) {
      showErrors(payload.errors);
      return;
    }
    navigate(`/listings/${listing.id}`);
  }

  const current = STEPS[step];
  const stepTitle = t("seller.wizard.stepHeading", { n: step + 1, total: STEPS.length, name: t(STEP_LABEL[current]) });
  const nav = (
    <WizardNav
      step={step}
      busy={busy}
      onBack={() => void goTo(step - 1)}
      onNext={current === "description" || current === "terms" ? undefined : () => void goTo(step + 1)}
    />
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void goTo(step + 1);
  };

  return (
    <>
      <Stepper step={step} maxStep={maxStep} busy={busy} onJump={(i) => void goTo(i)} />
      <p className="visually-hidden" aria-live="polite">
        {busy ? t("seller.wizard.saving") : savedAt ? t("seller.wizard.savedAt", { time: formatDateTime(savedAt, locale) }) : ""}
      </p>
      <div className="card wizard-step">
        <h2 id="wizard-step-title" ref={headingRef} tabIndex={-1}>
          {stepTitle}
        </h2>
        {listing && (
          <p className="muted wizard-saved">
            {t(listing.status === "DRAFT" ? "seller.wizard.draftNote" : "seller.wizard.publishedNote")}
            {savedAt && ` ${t("seller.wizard.savedAt", { time: formatDateTime(savedAt, locale) })}`}
          </p>
        )}
        {current === "patents" && (
          <>
            <PatentsStep
              orgs={orgs}
              state={state}
              change={change}
              errors={errors}
              locked={!!listing && listing.status !== "DRAFT"}
            />
            {nav}
          </>
        )}
        {current === "description" && (
          <form onSubmit={submit} noValidate aria-labelledby="wizard-step-title">
            <DescriptionStep state={state} change={change} errors={errors} />
            {nav}
          </form>
        )}
        {current === "terms" && (
          <form onSubmit={submit} noValidate aria-labelledby="wizard-step-title">
            <TermsStep state={state} change={change} errors={errors} />
            {nav}
          </form>
        )}
        {current === "review" && listing && (
          <ReviewStep
            state={state}
            listing={listing}
            errors={errors}
            busy={busy}
            onFix={(s) => void goTo(STEPS.indexOf(s))}
            onBack={() => void goTo(step - 1)}
            onPublish={() => void doPublish()}
          />
        )}
      </div>
    </>
  );
}

function Stepper({ step, maxStep, busy, onJump }: { step: number; maxStep: number; busy: boolean; onJump: (i: number) => void }) {
  const { t } = useI18n();
  return (
    <nav aria-label={t("seller.wizard.progress")}>
      <ol className="stepper">
        {STEPS.map((id, i) => {
          const label = (
            <>
              <span className="stepper-n" aria-hidden="true">
                {i + 1}
              </span>
              <span>{t(STEP_LABEL[id])}</span>
              {i < step && (
                <>
                  <span className="stepper-check" aria-hidden="true">
                    ✓
                  </span>
                  <span className="visually-hidden"> ({t("seller.wizard.stepDone")})</span>
                </>
              )}
            </>
          );
          const className = i === step ? "current" : i < step ? "done" : "";
          return (
            <li key={id} className={className}>
              {i === step || i > maxStep ? (
                <span className="stepper-item" aria-current={i === step ? "step" : undefined}>
                  {label}
                </span>
              ) : (
                <button type="button" className="stepper-item" disabled={busy} onClick={() => onJump(i)}>
                  {label}
                </button>
              )}
            </li>
          );
        })}
      </ol>
    </nav>
  );
}

/** Back and Next; without `onNext` Next submits the step's form (so Enter works in its fields). */
function WizardNav({ step, busy, onBack, onNext }: { step: number; busy: boolean; onBack: () => void; onNext?: () => void }) {
  const { t } = useI18n();
  return (
    <div className="wizard-nav">
      <button type="button" onClick={onBack} disabled={step === 0 || busy}>
        {t("seller.wizard.back")}
      </button>
      <button type={onNext ? "button" : "submit"} className="primary" onClick={onNext} disabled={busy}>
        {t("seller.wizard.next")}
      </button>
    </div>
  );
}

interface StepProps {
  state: WizardState;
  change: (patch: Partial<WizardState>) => void;
  errors: ApiError[];
}

function described(errors: ApiError[], field: string, hintId?: string): string | undefined {
  const ids = [hintId, fieldError(errors, field) ? `${INPUT_ID[field] ?? field}-error` : undefined].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

function Field({ errors, field, children }: { errors: ApiError[]; field: string; children: ReactNode }) {
  return (
    <div className="wizard-field">
      {children}
      <FieldError id={`${INPUT_ID[field] ?? field}-error`} error={fieldError(errors, field)} />
    </div>
  );
}

interface SearchResults {
  query: string;
  items: PatentChoice[];
  /** Next page: of the organisation's list ("own") or of the full-text search ("text"). */
  more: { source: "own" | "text"; after: string } | null;
  /** Full-text hits looked at so far (all holders), for the status line. */
  scanned: number;
}

const OWN_PAGE = 20;
const SEARCH_PAGE = 100;

function PatentsStep({ orgs, state, change, errors, locked }: StepProps & { orgs: Org[]; locked: boolean }) {
  const { t, te, locale } = useI18n();
  const client = useClient();
  const [query, setQuery] = useState("");
  const [results, setResults] = useState<SearchResults | null>(null);
  const [searching, setSearching] = useState(false);
  const [searchError, setSearchError] = useState<string | null>(null);
  const selectedIds = new Set(state.patents.map((p) => p.id));
  const org = orgs.find((o) => o.id === state.sellerId);

  const run = useCallback(
    async (typed: string, previous: SearchResults | null) => {
      if (!state.sellerId) return;
      setSearching(true);
      setSearchError(null);
      const owner = state.sellerId;
      const q = classifyPatentQuery(typed);
      let items: PatentChoice[] = [];
      let more: SearchResults["more"] = null;
      let scanned = previous?.scanned ?? 0;
      let failure: string | null = null;
      const own = async (applicationNumber: string | null, after: string | null) => {
        const r = await client
          .query(ListingWizardOwnPatentsDocument, { owner, applicationNumber, first: OWN_PAGE, after }, { requestPolicy: "network-only" })
          .toPromise();
        if (r.error) failure = r.error.message;
        const conn = r.data?.patents;
        items = (conn?.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []));
        more = conn?.pageInfo.hasNextPage && conn.pageInfo.endCursor ? { source: "own", after: conn.pageInfo.endCursor } : null;
      };
      const text = async (words: string, after: string | null) => {
        const r = await client
          .query(ListingWizardSearchPatentsDocument, { query: words, first: SEARCH_PAGE, after }, { requestPolicy: "network-only" })
          .toPromise();
        if (r.error) failure = r.error.message;
        const res = r.data?.searchPatents;
        // searchPatents cannot filter by holder: keep the organisation's own patents.
        items = (res?.hits ?? []).map((h) => h.patent).filter((p) => p.owner?.id === owner);
        scanned += res?.hits.length ?? 0;
        more = res?.pageInfo.hasNextPage && res.pageInfo.endCursor ? { source: "text", after: res.pageInfo.endCursor } : null;
      };
      if (previous?.more) {
        if (previous.more.source === "own") await own(q.kind === "number" ? q.number : null, previous.more.after);
        else await text(q.kind === "all" ? typed : q.text, previous.more.after);
      } else if (q.kind === "all") await own(null, null);
      else if (q.kind === "number") {
        await own(q.number, null);
        // Not an application number of ours: maybe a registration or publication number in the text.
        if (!items.length && !failure) await text(q.text, null);
      } else await text(q.text, null);
      setSearching(false);
      setSearchError(failure);
      setResults({
        query: typed,
        items: previous ? [...previous.items, ...items.filter((p) => !previous.items.some((o) => o.id === p.id))] : items,
        more,
        scanned,
      });
    },
    [client, state.sellerId],
  );

  useEffect(() => {
    // Start with the organisation's newest patents.
    void run("", null);
  }, [run]);

  const find = (event: FormEvent) => {
    event.preventDefault();
    void run(query, null);
  };

  return (
    <>
      <FormErrors errors={errors} fields={["sellerId", "patentIds"]} />
      {orgs.length > 1 ? (
        <Field errors={errors} field="sellerId">
          <label htmlFor="wiz-seller">{t("seller.wizard.seller")}</label>
          <select
            id="wiz-seller"
            value={state.sellerId}
            disabled={locked}
            onChange={(e) => change({ sellerId: e.target.value, patents: [] })}
            aria-describedby={described(errors, "sellerId")}
          >
            <option value="">{t("seller.wizard.chooseSeller")}</option>
            {orgs.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
          </select>
        </Field>
      ) : (
        org && <p>{t("seller.wizard.sellingFor", { name: org.name })}</p>
      )}
      {locked ? (
        <p className="alert">{t("seller.wizard.patentsLocked")}</p>
      ) : (
        <form role="search" onSubmit={find} className="patent-search">
          <label htmlFor="wiz-patent-query">{t("seller.wizard.findLabel")}</label>
          <div className="inline-field">
            <input
              id="wiz-patent-query"
              type="search"
              value={query}
              onChange={(e) => setQuery(e.target.value)}
              aria-describedby="wiz-patent-query-hint"
              disabled={!state.sellerId}
            />
            <button type="submit" disabled={searching || !state.sellerId}>
              {t("seller.wizard.find")}
            </button>
          </div>
          <p id="wiz-patent-query-hint" className="muted hint">
            {t("seller.wizard.findHint")}
          </p>
        </form>
      )}
      <p aria-live="polite" className="muted" data-testid="patent-search-status">
        {searching
          ? t("seller.wizard.searching")
          : searchError
            ? t("seller.wizard.searchFailed", { message: searchError })
            : results
              ? results.items.length
                ? t("seller.wizard.found", { count: formatNumber(results.items.length, locale) })
                : t("seller.wizard.foundNone")
              : ""}
      </p>
      {!locked && results && results.items.length > 0 && (
        <fieldset className="patent-results">
          <legend>{t("seller.wizard.results")}</legend>
          <ul className="check-list">
            {results.items.map((p) => {
              const inputId = `wiz-patent-${p.id}`;
              return (
                <li key={p.id}>
                  <input
                    type="checkbox"
                    id={inputId}
                    checked={selectedIds.has(p.id)}
                    onChange={(e) => change({ patents: togglePatent(state.patents, p, e.target.checked) })}
                  />
                  <label htmlFor={inputId}>
                    <span className="patent-number">{p.applicationNumber}</span> {patentTitle(p, locale)}
                  </label>
                  <span className="muted meta">
                    {p.office} · <span className={`badge legal-${p.legalStatus}`}>{te("legalStatus", p.legalStatus)}</span>
                  </span>
                </li>
              );
            })}
          </ul>
          {results.more && (
            <button type="button" onClick={() => void run(results.query, results)} disabled={searching}>
              {t("seller.wizard.moreResults")}
            </button>
          )}
        </fieldset>
      )}
      <section aria-labelledby="wiz-selected-title" className="selected-patents">
        <h3 id="wiz-selected-title">{t("seller.wizard.selected", { count: state.patents.length })}</h3>
        {state.patents.length === 0 ? (
          <p className="muted">{t("seller.wizard.selectedNone")}</p>
        ) : (
          <ul data-testid="selected-patents">
            {state.patents.map((p) => (
              <li key={p.id}>
                <span className="patent-number">
                  {p.office} {p.applicationNumber}
                </span>{" "}
                {patentTitle(p, locale)} <span className="badge">{te("legalStatus", p.legalStatus)}</span>{" "}
                {!locked && (
                  <button type="button" className="link-button" onClick={() => change({ patents: togglePatent(state.patents, p, false) })}>
                    {t("seller.wizard.remove")}
                    <span className="visually-hidden"> {p.applicationNumber}</span>
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
        <FieldError id="wiz-patent-query-error" error={fieldError(errors, "patentIds")} />
      </section>
    </>
  );
}

function DescriptionStep({ state, change, errors }: StepProps) {
  const { t, te, locale } = useI18n();
  return (
    <>
      <FormErrors errors={errors} fields={["title", "summary", "quantifiedBenefit", "knowHow", "trl", "sector"]} />
      <Field errors={errors} field="title">
        <label htmlFor="wiz-title">{t("seller.wizard.title")}</label>
        <input
          id="wiz-title"
          value={state.title}
          onChange={(e) => change({ title: e.target.value })}
          required
          aria-invalid={!!fieldError(errors, "title")}
          aria-describedby={described(errors, "title", "wiz-title-hint")}
        />
        <p id="wiz-title-hint" className="muted hint">
          {t("seller.wizard.titleHint")}
        </p>
      </Field>
      <Field errors={errors} field="summary">
        <label htmlFor="wiz-summary">{t("seller.wizard.summary")}</label>
        <textarea
          id="wiz-summary"
          rows={6}
          value={state.summary}
          onChange={(e) => change({ summary: e.target.value })}
          aria-invalid={!!fieldError(errors, "summary")}
          aria-describedby={described(errors, "summary", "wiz-summary-hint")}
        />
        <p id="wiz-summary-hint" className="muted hint">
          {t("seller.wizard.summaryHint", {
            count: formatNumber(state.summary.trim().length, locale),
            min: formatNumber(COACH_SUMMARY_MIN, locale),
          })}
        </p>
      </Field>
      <Field errors={errors} field="quantifiedBenefit">
        <label htmlFor="wiz-benefit">{t("seller.wizard.benefit")}</label>
        <input
          id="wiz-benefit"
          value={state.quantifiedBenefit}
          onChange={(e) => change({ quantifiedBenefit: e.target.value })}
          aria-invalid={!!fieldError(errors, "quantifiedBenefit")}
          aria-describedby={described(errors, "quantifiedBenefit", "wiz-benefit-hint")}
        />
        <p id="wiz-benefit-hint" className="muted hint">
          {t("seller.wizard.benefitHint")}
        </p>
      </Field>
      <Field errors={errors} field="knowHow">
        <label htmlFor="wiz-knowhow">{t("seller.wizard.knowHow")}</label>
        <textarea
          id="wiz-knowhow"
          rows={5}
          value={state.knowHow}
          onChange={(e) => change({ knowHow: e.target.value })}
          aria-invalid={!!fieldError(errors, "knowHow")}
          aria-describedby={described(errors, "knowHow", "wiz-knowhow-hint")}
        />
        <p id="wiz-knowhow-hint" className="muted hint">
          {t("seller.wizard.knowHowHint")}
        </p>
      </Field>
      <div className="field-row">
        <Field errors={errors} field="trl">
          <label htmlFor="wiz-trl">{t("seller.wizard.trl")}</label>
          <select
            id="wiz-trl"
            value={state.trl}
            onChange={(e) => change({ trl: e.target.value })}
            aria-invalid={!!fieldError(errors, "trl")}
            aria-describedby={described(errors, "trl")}
          >
            <option value="">{t("seller.wizard.trlNone")}</option>
            {TRL_LEVELS.map((level) => (
              <option key={level} value={String(level)}>
                {`${level} · ${t(`seller.trl.${level}`)}`}
              </option>
            ))}
          </select>
        </Field>
        <Field errors={errors} field="sector">
          <label htmlFor="wiz-sector">{t("seller.wizard.sector")}</label>
          <select
            id="wiz-sector"
            value={state.sector}
            required
            onChange={(e) => change({ sector: e.target.value as WizardState["sector"] })}
            aria-invalid={!!fieldError(errors, "sector")}
            aria-describedby={described(errors, "sector")}
          >
            <option value="">{t("seller.wizard.chooseSector")}</option>
            {SECTORS.map((s) => (
              <option key={s} value={s}>
                {te("Sector", s)}
              </option>
            ))}
          </select>
        </Field>
      </div>
    </>
  );
}

function TermsStep({ state, change, errors }: StepProps) {
  const { t, te, locale } = useI18n();
  const price = state.priceOnRequest ? null : parsePrice(state.priceAmount, state.currency);
  const currencies: string[] = [...CURRENCIES];
  if (!currencies.includes(state.currency)) currencies.push(state.currency);
  return (
    <>
      <FormErrors errors={errors} fields={["transactionTypes", "price", "currency"]} />
      <fieldset aria-describedby={fieldError(errors, "transactionTypes") ? `${INPUT_ID.transactionTypes}-error` : undefined}>
        <legend>{t("seller.wizard.types")}</legend>
        <p className="muted hint">{t("seller.wizard.typesHint")}</p>
        <ul className="check-list">
          {TRANSACTION_TYPES.map((type) => (
            <li key={type}>
              <input
                type="checkbox"
                id={`wiz-tt-${type}`}
                checked={state.transactionTypes.includes(type)}
                onChange={(e) => change({ transactionTypes: toggleType(state.transactionTypes, type, e.target.checked) })}
              />
              <label htmlFor={`wiz-tt-${type}`}>{te("TransactionType", type)}</label>
            </li>
          ))}
        </ul>
        <FieldError id={`${INPUT_ID.transactionTypes}-error`} error={fieldError(errors, "transactionTypes")} />
      </fieldset>
      <fieldset>
        <legend>{t("seller.wizard.priceLegend")}</legend>
        <div className="check-list">
          <input
            type="checkbox"
            id="wiz-price-on-request"
            checked={state.priceOnRequest}
            onChange={(e) => change({ priceOnRequest: e.target.checked })}
          />
          <label htmlFor="wiz-price-on-request">{t("seller.wizard.onRequest")}</label>
        </div>
        <div className="field-row">
          <Field errors={errors} field="price">
            <label htmlFor="wiz-price">{t("seller.wizard.price")}</label>
            <input
              id="wiz-price"
              inputMode="decimal"
              autoComplete="off"
              value={state.priceAmount}
              disabled={state.priceOnRequest}
              onChange={(e) => change({ priceAmount: e.target.value })}
              aria-invalid={!!fieldError(errors, "price")}
              aria-describedby={described(errors, "price", "wiz-price-hint")}
            />
          </Field>
          <Field errors={errors} field="currency">
            <label htmlFor="wiz-currency">{t("seller.wizard.currency")}</label>
            <select
              id="wiz-currency"
              value={state.currency}
              disabled={state.priceOnRequest}
              onChange={(e) => change({ currency: e.target.value })}
              aria-describedby={described(errors, "currency")}
            >
              {currencies.map((c) => (
                <option key={c} value={c}>
                  {hasKey(`seller.currency.${c}`) ? t(`seller.currency.${c}` as MessageKey) : c}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <p id="wiz-price-hint" className="muted hint" aria-live="polite">
          {state.priceOnRequest
            ? t("seller.wizard.onRequestHint")
            : price?.ok
              ? t("seller.wizard.pricePreview", { price: formatMoney(price.money.amount, price.money.currency, locale) })
              : t(state.currency === "KRW" ? "seller.wizard.priceHintKrw" : "seller.wizard.priceHintDecimals")}
        </p>
      </fieldset>
    </>
  );
}

function ReviewStep({
  state,
  listing,
  errors,
  busy,
  onFix,
  onBack,
  onPublish,
}: {
  state: WizardState;
  listing: ListingWizardListingFragment;
  errors: ApiError[];
  busy: boolean;
  onFix: (step: StepId) => void;
  onBack: () => void;
  onPublish: () => void;
}) {
  const { t, te, locale } = useI18n();
  return (
    <>
      <dl className="review-list">
        <dt>{t("seller.wizard.step.patents")}</dt>
        <dd>
          <ul>
            {listing.patents.map((p) => (
              <li key={p.id}>
                <span className="patent-number">
                  {p.office} {p.applicationNumber}
                </span>{" "}
                {patentTitle(p, locale)} <span className="badge">{te("legalStatus", p.legalStatus)}</span>
              </li>
            ))}
          </ul>
        </dd>
        <dt>{t("seller.wizard.title")}</dt>
        <dd>{listing.title}</dd>
        <dt>{t("seller.wizard.sector")}</dt>
        <dd>{te("Sector", listing.sector)}</dd>
        <dt>{t("seller.wizard.trl")}</dt>
        <dd>{listing.trl ?? t("seller.wizard.notGiven")}</dd>
        <dt>{t("seller.wizard.types")}</dt>
        <dd>{listing.transactionTypes.map((type) => te("TransactionType", type)).join(", ")}</dd>
        <dt>{t("seller.wizard.price")}</dt>
        <dd>{listing.price ? formatMoney(listing.price.amount, listing.price.currency, locale) : t("seller.wizard.onRequest")}</dd>
        <dt>{t("seller.wizard.summary")}</dt>
        <dd className="prewrap">{listing.summary || t("seller.wizard.notGiven")}</dd>
        <dt>{t("seller.wizard.benefit")}</dt>
        <dd>{listing.quantifiedBenefit || t("seller.wizard.notGiven")}</dd>
        <dt>{t("seller.wizard.knowHow")}</dt>
        <dd>
          {state.knowHow.trim()
            ? t("seller.wizard.knowHowGiven", { count: formatNumber(state.knowHow.trim().length, locale) })
            : t("seller.wizard.notGiven")}
        </dd>
      </dl>
      <Coach listing={listing} onFix={onFix} />
      <FormErrors errors={errors} />
      {listing.status === "DRAFT" ? (
        <>
          {!listing.seller.isVerified && <p className="alert">{t("seller.wizard.unverified")}</p>}
          <p className="muted">{t("seller.wizard.publishNote")}</p>
        </>
      ) : (
        <p className="alert alert-ok">{t("seller.wizard.liveNote")}</p>
      )}
      <div className="wizard-nav">
        <button type="button" onClick={onBack} disabled={busy}>
          {t("seller.wizard.back")}
        </button>
        {listing.status === "DRAFT" ? (
          <button type="button" className="primary" onClick={onPublish} disabled={busy}>
            {t("seller.wizard.publish")}
          </button>
        ) : (
          <Link className="button primary" to={`/listings/${listing.id}`}>
            {t("seller.wizard.viewListing")}
          </Link>
        )}
        <Link to="/sell/listings">{t("seller.wizard.toMyListings")}</Link>
      </div>
    </>
  );
}

function Coach({ listing, onFix }: { listing: ListingWizardListingFragment; onFix: (step: StepId) => void }) {
  const { t, locale } = useI18n();
  const quality = listing.quality;
  return (
    <section aria-labelledby="coach-title" className="coach" data-testid="quality-coach">
      <h3 id="coach-title">{t("seller.coach.title")}</h3>
      {!quality ? (
        <p className="muted">{t("seller.coach.unavailable")}</p>
      ) : (
        <>
          <p className="coach-score" data-testid="quality-score">
            <span className="coach-score-number">{formatNumber(quality.score, locale)}</span>
            <span className="muted"> / 100</span>{" "}
            <span className={`badge grade-${scoreGrade(quality.score)}`}>{t(`seller.coach.grade.${scoreGrade(quality.score)}`)}</span>
          </p>
          <div className="coach-bar" aria-hidden="true">
            <span style={{ width: `${quality.score}%` }} className={`grade-${scoreGrade(quality.score)}`} />
          </div>
          {quality.hints.length === 0 ? (
            <p>{t("seller.coach.perfect")}</p>
          ) : (
            <>
              <p className="muted">{t("seller.coach.intro")}</p>
              <ul className="coach-hints">
                {quality.hints.map((hint, i) => {
                  const key = `enum.qualityHint.${hint.code}`;
                  const text = hasKey(key) ? t(key as MessageKey) : hint.message;
                  const step = stepOfField(hint.field);
                  return (
                    <li key={`${hint.code}-${i}`} data-code={hint.code}>
                      <span className="coach-weight">{t("seller.coach.points", { points: hint.weight })}</span>{" "}
                      <strong>{text}</strong>
                      {hasKey(key) && (locale === "en" || hint.field === "patents") && (
                        <span className="coach-detail muted" lang="en">
                          {hint.message}
                        </span>
                      )}
                      {step && (
                        <button type="button" className="link-button" onClick={() => onFix(step)}>
                          {t("seller.coach.fix", { step: t(STEP_LABEL[step]) })}
                          <span className="visually-hidden">: {text}</span>
                        </button>
                      )}
                    </li>
                  );
                })}
              </ul>
            </>
          )}
        </>
      )}
    </section>
  );
}
