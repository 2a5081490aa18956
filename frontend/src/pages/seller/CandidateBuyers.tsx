// Candidate buyers of a listing (/sell/listings/:id/buyers): organisations that may want it, best first,
// each with why: the open demands, patents or listings it rests on, shared terms and IPC, behaviour.
import { Link, useParams } from "react-router-dom";
import { useQuery } from "urql";
import { Loading, QueryError } from "../../components/Status";
import { CandidateBuyersPageDocument, type CandidateBuyersPageQuery } from "../../gql/graphql";
import { useI18n } from "../../i18n";
import { formatNumber, localeTag } from "../../i18n/format";
import { SellerGate } from "./SellerGate";
import { basisLink, countryName, groupBases, parseBehaviour, similarityPercent } from "./sellerLogic";
import "./seller.css";

type Candidate = NonNullable<CandidateBuyersPageQuery["candidateBuyers"]>[number];

const FIRST = 20;

export default function CandidateBuyers() {
  const { t } = useI18n();
  const { id = "" } = useParams();
  return (
    <section aria-labelledby="buyers-title" className="seller-page">
      <h1 id="buyers-title">{t("seller.buyers.title")}</h1>
      <SellerGate>
        <BuyerList listingId={id} />
      </SellerGate>
    </section>
  );
}

function BuyerList({ listingId }: { listingId: string }) {
  const { t, te } = useI18n();
  const [{ data, fetching, error }, reexecute] = useQuery({
    query: CandidateBuyersPageDocument,
    variables: { listingId, first: FIRST },
  });
  if (fetching && !data) return <Loading />;
  const listing = data?.listing;
  const buyers = data?.candidateBuyers;
  return (
    <>
      {listing && (
        <p className="listing-context">
          {t("seller.buyers.for")} <Link to={`/listings/${listing.id}`}>{listing.title}</Link>{" "}
          <span className="badge">{te("ListingStatus", listing.status)}</span>
        </p>
      )}
      {error && <QueryError error={error} retry={() => reexecute({ requestPolicy: "network-only" })} />}
      {!error && !listing && <p className="alert">{t("seller.buyers.notFound")}</p>}
      {buyers && (
        <>
          <p className="muted">{t("seller.buyers.intro")}</p>
          {buyers.length === 0 ? (
            <p className="alert">{t("seller.buyers.none")}</p>
          ) : (
            <ol className="buyer-list" data-testid="candidate-buyers">
              {buyers.map((candidate, i) => (
                <BuyerCard key={candidate.organization.id} candidate={candidate} rank={i + 1} />
              ))}
            </ol>
          )}
        </>
      )}
      <p>
        <Link to="/sell/listings">{t("seller.wizard.toMyListings")}</Link>
      </p>
    </>
  );
}

function Similarity({ value }: { value: number | null | undefined }) {
  const { t, locale } = useI18n();
  const percent = similarityPercent(value);
  if (percent === null) return null;
  return <span className="muted"> ({t("seller.buyers.similarity", { percent: formatNumber(percent, locale) })})</span>;
}

function BuyerCard({ candidate, rank }: { candidate: Candidate; rank: number }) {
  const { t, te, locale } = useI18n();
  const { organization: org, why } = candidate;
  const titleId = `buyer-${rank}-name`;
  const groups = groupBases(why.basedOn);
  const hasStructured =
    groups.length > 0 || why.matchedTerms.length > 0 || why.sharedIpc.length > 0 || !!why.behaviour || similarityPercent(why.similarity) !== null;
  return (
    <li className="card buyer-card" data-testid={`candidate-${org.id}`}>
      <h2 id={titleId} className="buyer-name">
        <span className="buyer-rank">{t("seller.buyers.rank", { rank: formatNumber(rank, locale) })}</span> {org.name}
      </h2>
      <p className="muted">
        {te("OrgKind", org.kind)} · {countryName(org.country, localeTag(locale))}
        {org.isVerified && (
          <>
            {" · "}
            <span className="badge">{t("seller.buyers.verified")}</span>
          </>
        )}
      </p>
      <h3 className="why-title">{t("seller.buyers.why")}</h3>
      <dl className="why-list">
        {groups.map((group) => (
          <div key={group.kind}>
            <dt>{t(`seller.buyers.basis.${group.kind}`)}</dt>
            <dd>
              <ul>
                {group.items.map((basis) => {
                  const link = basisLink(basis);
                  return (
                    <li key={basis.id}>
                      {link ? <Link to={link}>{basis.title}</Link> : <span>{basis.title}</span>}
                      <Similarity value={basis.similarity} />
                    </li>
                  );
                })}
              </ul>
            </dd>
          </div>
        ))}
        {similarityPercent(why.similarity) !== null && (
          <div>
            <dt>{t("seller.buyers.meaning")}</dt>
            <dd>{t("seller.buyers.similarity", { percent: formatNumber(similarityPercent(why.similarity) ?? 0, locale) })}</dd>
          </div>
        )}
        {why.matchedTerms.length > 0 && (
          <div>
            <dt>{t("seller.buyers.terms")}</dt>
            <dd>
              <ul className="tag-list">
                {why.matchedTerms.map((term) => (
                  <li key={term} className="badge">
                    {term}
                  </li>
                ))}
              </ul>
            </dd>
          </div>
        )}
        {why.sharedIpc.length > 0 && (
          <div>
            <dt>{t("seller.buyers.ipc")}</dt>
            <dd>
              <ul className="tag-list">
                {why.sharedIpc.map((code) => (
                  <li key={code} className="badge">
                    {code}
                  </li>
                ))}
              </ul>
            </dd>
          </div>
        )}
        {why.behaviour && (
          <div>
            <dt>{t("seller.buyers.behaviour")}</dt>
            <dd>
              <ul>
                {parseBehaviour(why.behaviour).map((part, i) => (
                  <li key={i} lang={part.kind === "raw" ? "en" : undefined}>
                    {part.kind === "raw"
                      ? part.text
                      : part.kind === "inquired"
                        ? t("seller.buyers.behaviour.inquired")
                        : t(`seller.buyers.behaviour.${part.kind}`, { count: formatNumber(part.count, locale) })}
                  </li>
                ))}
              </ul>
            </dd>
          </div>
        )}
        {!hasStructured && why.reasons.length > 0 && (
          <div>
            <dt>{t("seller.buyers.reasons")}</dt>
            <dd>
              <ul lang="en">
                {why.reasons.map((reason) => (
                  <li key={reason}>{reason}</li>
                ))}
              </ul>
            </dd>
          </div>
        )}
      </dl>
      {!hasStructured && why.reasons.length === 0 && <p className="muted">{t("seller.buyers.noReason")}</p>}
    </li>
  );
}
