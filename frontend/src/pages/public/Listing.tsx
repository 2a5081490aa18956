// A listing "/listings/:id": the package, its patents with their lives, similar listings, and for signed-in
// buyers the actions (bookmark, inquire). Listing and similar listings are fetched in parallel.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router-dom";
import { useMutation, useQuery } from "urql";
import { FieldError, FormErrors, fieldError } from "../../components/FormErrors";
import { Money } from "../../components/Money";
import { Loading, NotFound, QueryError } from "../../components/Status";
import { useSession } from "../../auth/session";
import {
  ListingBookmarkDocument,
  ListingExistingDealDocument,
  ListingOpenInquiryDocument,
  ListingPageDocument,
  ListingRecordViewDocument,
  ListingSimilarDocument,
  type ListingPageQuery,
  type ListingSimilarQuery,
} from "../../gql/graphql";
import { useI18n } from "../../i18n";
import { formatDate, formatNumber } from "../../i18n/format";
import { PatentTimeline } from "./PatentTimeline";
import { useEnumLabel } from "./enumLabel";
import { isoToday } from "./timeline";
import { dealPath, listingPath } from "./paths";
import "./public.css";

type ListingData = NonNullable<ListingPageQuery["listing"]>;
type PatentData = ListingData["patents"][number];
type Similar = NonNullable<ListingSimilarQuery["similarListings"]>[number];

const SIMILAR_COUNT = 4;

export default function ListingPage() {
  const { id = "" } = useParams();
  const { t } = useI18n();
  const { me } = useSession();
  const [{ data, error, fetching }, reexecute] = useQuery({ query: ListingPageDocument, variables: { id } });
  const [similar] = useQuery({ query: ListingSimilarDocument, variables: { id, first: SIMILAR_COUNT } });

  // One view per page view, for signed-in users (feeds their recommendations).
  const [, recordView] = useMutation(ListingRecordViewDocument);
  const recorded = useRef<string | null>(null);
  useEffect(() => {
    if (!me || !id || recorded.current === id) return;
    recorded.current = id;
    void recordView({ id });
  }, [me, id, recordView]);

  if (!data && fetching) return <Loading />;
  if (!data && error) return <QueryError error={error} retry={() => reexecute({ requestPolicy: "network-only" })} />;
  const listing = data?.listing;
  if (!listing) return <NotFound />;

  return (
    <article className="listing" aria-labelledby="listing-title">
      <div className="listing-head">
        <div className="listing-main">
          <ListingHeader listing={listing} />
        </div>
        <aside className="listing-actions card" aria-labelledby="listing-actions-title">
          <h2 id="listing-actions-title" className="visually-hidden">
            {t("public.listing.actions")}
          </h2>
          <Actions listing={listing} />
        </aside>
      </div>

      <section aria-labelledby="listing-summary">
        <h2 id="listing-summary">{t("public.listing.summary")}</h2>
        <p className="prose">{listing.summary}</p>
        {listing.quantifiedBenefit && (
          <>
            <h3>{t("public.listing.benefit")}</h3>
            <p className="prose">{listing.quantifiedBenefit}</p>
          </>
        )}
      </section>

      <section aria-labelledby="listing-knowhow">
        <h2 id="listing-knowhow">{t("public.listing.knowHow")}</h2>
        {listing.knowHowVisible ? (
          <p className="prose">{listing.knowHow || t("public.listing.knowHowEmpty")}</p>
        ) : (
          <p className="muted">{t("public.listing.knowHowHidden")}</p>
        )}
      </section>

      <section aria-labelledby="listing-patents">
        <h2 id="listing-patents">{t("public.listing.patents", { count: listing.patents.length })}</h2>
        <ul className="patents">
          {listing.patents.map((p) => (
            <PatentCard key={p.id} patent={p} />
          ))}
        </ul>
      </section>

      <section aria-labelledby="listing-similar" aria-busy={similar.fetching}>
        <h2 id="listing-similar">{t("public.listing.similar")}</h2>
        {similar.fetching && !similar.data && <Loading />}
        {similar.error && !similar.data && <p className="muted">{t("public.listing.similarUnavailable")}</p>}
        {similar.data &&
          (similar.data.similarListings?.length ? (
            <ul className="grid similar">
              {similar.data.similarListings.map((s) => (
                <SimilarCard key={s.listing.id} item={s} />
              ))}
            </ul>
          ) : (
            <p className="muted">{t("common.none")}</p>
          ))}
      </section>
    </article>
  );
}

function ListingHeader({ listing }: { listing: ListingData }) {
  const { t, te, locale } = useI18n();
  const label = useEnumLabel();
  return (
    <>
      <h1 id="listing-title">{listing.title}</h1>
      <p className="muted">
        <span className="visually-hidden">{t("public.listing.seller")}: </span>
        <strong>{listing.seller.name}</strong> · {label("OrgKind", listing.seller.kind)}{" "}
        {listing.seller.isVerified && <span className="badge badge-ok">{t("public.listing.verified")}</span>}
      </p>
      {listing.status !== "PUBLISHED" && <p className="badge">{te("ListingStatus", listing.status)}</p>}
      <dl className="facts">
        <div>
          <dt>{t("public.listing.price")}</dt>
          <dd>
            {listing.price ? <Money amount={listing.price.amount} currency={listing.price.currency} /> : t("public.price.onRequest")}
            {listing.price && listing.priceNegotiable ? ` · ${t("public.price.negotiable")}` : ""}
          </dd>
        </div>
        <div>
          <dt>{t("public.listing.transactionTypes")}</dt>
          <dd>{listing.transactionTypes.map((tt) => te("TransactionType", tt)).join(", ") || "—"}</dd>
        </div>
        <div>
          <dt>{t("public.listing.sector")}</dt>
          <dd>{te("Sector", listing.sector)}</dd>
        </div>
        <div>
          <dt>{t("public.listing.trl")}</dt>
          <dd>{listing.trl !== null ? t("public.listing.trlValue", { trl: formatNumber(listing.trl, locale) }) : "—"}</dd>
        </div>
        {listing.publishedAt && (
          <div>
            <dt>{t("public.listing.publishedAt")}</dt>
            <dd>{formatDate(listing.publishedAt, locale)}</dd>
          </div>
        )}
      </dl>
    </>
  );
}

function patentTitle(patent: PatentData, locale: string): string {
  return patent.titles.find((x) => x.language === locale)?.text || patent.title;
}

function PatentCard({ patent }: { patent: PatentData }) {
  const { t, locale } = useI18n();
  const label = useEnumLabel();
  const number = patent.registrationNumber || patent.applicationNumber;
  const headingId = `patent-${patent.id.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  return (
    <li className="card patent">
      <h3 id={headingId}>{patentTitle(patent, locale)}</h3>
      <dl className="facts">
        <div>
          <dt>{t("public.patent.office")}</dt>
          <dd>{label("office", patent.office)}</dd>
        </div>
        <div>
          <dt>{t("public.patent.applicationNumber")}</dt>
          <dd>{patent.applicationNumber || "—"}</dd>
        </div>
        <div>
          <dt>{t("public.patent.registrationNumber")}</dt>
          <dd>{patent.registrationNumber || "—"}</dd>
        </div>
        <div>
          <dt>{t("public.patent.legalStatus")}</dt>
          <dd>{label("legalStatus", patent.legalStatus)}</dd>
        </div>
        {patent.ipcCodes.length > 0 && (
          <div>
            <dt>{t("public.patent.ipc")}</dt>
            <dd>{patent.ipcCodes.slice(0, 6).join(", ")}</dd>
          </div>
        )}
      </dl>
      {patent.life.warnings.length > 0 && (
        <ul className="warnings" aria-label={t("public.patent.warnings")}>
          {patent.life.warnings.map((w) => (
            <li key={w.code} className="badge badge-warn">
              <span aria-hidden="true">⚠ </span>
              {label("lifeWarning", w.code)}
              {w.date ? ` · ${formatDate(w.date, locale)}` : ""}
            </li>
          ))}
        </ul>
      )}
      <h4 className="visually-hidden">{t("public.timeline.heading")}</h4>
      <PatentTimeline patent={patent} today={isoToday()} number={number} />
    </li>
  );
}

function SimilarCard({ item }: { item: Similar }) {
  const { t, te, locale } = useI18n();
  const { listing, why } = item;
  // Single-letter analysed terms (particles, stems) say little to a reader.
  const terms = why.matchedTerms.filter((term) => term.length > 1).slice(0, 4);
  const reasons = [
    why.similarity !== null ? t("public.why.similarity", { value: formatNumber(Math.round(why.similarity * 100), locale) }) : null,
    why.sharedIpc.length ? t("public.why.sharedIpc", { codes: why.sharedIpc.join(", ") }) : null,
    terms.length ? t("public.why.terms", { terms: terms.join(", ") }) : null,
    why.behaviour,
  ].filter(Boolean);
  return (
    <li className="card">
      <h3>
        <Link to={listingPath(listing.id)}>{listing.title}</Link>
      </h3>
      <p className="muted">{listing.seller.name}</p>
      <p className="tags">
        <span className="badge">{te("Sector", listing.sector)}</span>{" "}
        <span className="badge">
          {listing.price ? <Money amount={listing.price.amount} currency={listing.price.currency} /> : t("public.price.onRequest")}
        </span>
      </p>
      {reasons.length > 0 && (
        <p className="why muted">
          <span className="why-label">{t("public.why.similarLabel")}</span> {reasons.join(" · ")}
        </p>
      )}
    </li>
  );
}

// ---- Actions: bookmark and inquiry ----------------------------------------------------------------------

function Actions({ listing }: { listing: ListingData }) {
  const { t } = useI18n();
  const { me, loading } = useSession();
  const location = useLocation();
  if (loading) return null;
  if (!me) {
    return (
      <p>
        <Link to={`/signin?next=${encodeURIComponent(location.pathname)}`}>{t("public.listing.signInToAct")}</Link>
      </p>
    );
  }
  const own = me.memberships.some((m) => m.organization.id === listing.seller.id);
  if (own) {
    return (
      <p>
        {t("public.listing.own")} <Link to="/sell/listings">{t("public.listing.manage")}</Link>
      </p>
    );
  }
  return (
    <>
      <BookmarkButton listing={listing} />
      <Inquiry listing={listing} />
    </>
  );
}

function BookmarkButton({ listing }: { listing: ListingData }) {
  const { t } = useI18n();
  const [{ data, fetching }, bookmark] = useMutation(ListingBookmarkDocument);
  const result = data?.bookmarkListing;
  const bookmarked = result?.listing?.id === listing.id ? result.listing.isBookmarked : listing.isBookmarked;
  return (
    <div className="bookmark">
      <div className="buttons">
        <button type="button" disabled={fetching} onClick={() => void bookmark({ id: listing.id, bookmarked: !bookmarked })}>
          {bookmarked ? t("public.listing.removeBookmark") : t("public.listing.bookmark")}
        </button>
      </div>
      <p role="status" aria-live="polite" className="muted">
        {result?.listing ? (bookmarked ? t("public.listing.bookmarked") : t("public.listing.unbookmarked")) : ""}
      </p>
      <FormErrors errors={result?.errors} />
    </div>
  );
}

function Inquiry({ listing }: { listing: ListingData }) {
  const { t } = useI18n();
  const label = useEnumLabel();
  const { me } = useSession();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const [message, setMessage] = useState("");
  const buyers = (me?.memberships ?? [])
    .map((m) => m.organization)
    .filter((o) => o.id !== listing.seller.id && o.kind !== "BROKER_FIRM");
  const [buyerId, setBuyerId] = useState(buyers[0]?.id ?? "");
  const [idempotencyKey, setIdempotencyKey] = useState(() => crypto.randomUUID());
  const [{ data, fetching }, openInquiry] = useMutation(ListingOpenInquiryDocument);
  const errors = data?.openInquiry?.errors;
  const dealExists = errors?.some((e) => e.code === "DEAL_EXISTS");

  if (!buyers.length) return <p className="muted">{t("public.listing.noBuyerOrg")}</p>;

  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await openInquiry({
      input: { listingId: listing.id, buyerId, message: message.trim() || null },
      idempotencyKey,
    });
    const deal = result.data?.openInquiry?.deal;
    if (deal) navigate(dealPath(deal.id));
    else setIdempotencyKey(crypto.randomUUID());
  }

  return (
    <div className="inquiry">
      <div className="buttons">
        <button
          type="button"
          className={open ? undefined : "primary"}
          aria-expanded={open}
          aria-controls="inquiry-form"
          onClick={() => setOpen(!open)}
        >
          {t("public.listing.inquire")}
        </button>
      </div>
      {open && (
        <form id="inquiry-form" onSubmit={submit} noValidate>
          <FormErrors errors={errors} fields={["message", "buyerId"]} />
          {dealExists && <ExistingDealLink listingId={listing.id} />}
          {buyers.length > 1 && (
            <>
              <label htmlFor="inquiry-buyer">{t("public.listing.buyerOrg")}</label>
              <select id="inquiry-buyer" value={buyerId} onChange={(e) => setBuyerId(e.target.value)}>
                {buyers.map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.name} ({label("OrgKind", o.kind)})
                  </option>
                ))}
              </select>
              <FieldError id="inquiry-buyer-error" error={fieldError(errors, "buyerId")} />
            </>
          )}
          {buyers.length === 1 && <p className="muted">{t("public.listing.inquireAs", { name: buyers[0].name })}</p>}
          <label htmlFor="inquiry-message">{t("public.listing.message")}</label>
          <textarea
            id="inquiry-message"
            rows={5}
            maxLength={5000}
            value={message}
            onChange={(e) => setMessage(e.target.value)}
            aria-describedby={fieldError(errors, "message") ? "inquiry-message-error" : undefined}
          />
          <FieldError id="inquiry-message-error" error={fieldError(errors, "message")} />
          <button type="submit" className="primary" disabled={fetching}>
            {t("public.listing.sendInquiry")}
          </button>
        </form>
      )}
    </div>
  );
}

/** The deal the API says already exists on this listing (the error carries no id: look it up). */
function ExistingDealLink({ listingId }: { listingId: string }) {
  const { t } = useI18n();
  const [{ data }] = useQuery({ query: ListingExistingDealDocument, requestPolicy: "network-only" });
  type Candidate = { id: string; state: string; createdAt: string };
  const candidates: Candidate[] = [];
  for (const edge of data?.myDeals?.edges ?? []) {
    const d = edge?.node;
    if (d && d.listing.id === listingId && d.viewerSide === "BUYER") candidates.push(d);
  }
  // An open deal first, then the newest.
  candidates.sort(
    (a, b) => Number(a.state === "CANCELLED") - Number(b.state === "CANCELLED") || (a.createdAt < b.createdAt ? 1 : -1),
  );
  const deal = candidates[0];
  return (
    <p>
      {deal ? (
        <Link to={dealPath(deal.id)}>{t("public.listing.openDeal")}</Link>
      ) : (
        <Link to="/deals">{t("public.listing.yourDeals")}</Link>
      )}
    </p>
  );
}
