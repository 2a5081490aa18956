// A listing as the buyer pages show it: title (link), seller, sector, price, and optionally the rank,
// "why matched" and a bookmark switch.
import { useState, type ReactNode } from "react";
import { Link } from "react-router-dom";
import { useMutation } from "urql";
import { useErrorText } from "../../components/FormErrors";
import { Money } from "../../components/Money";
import {
  BuyerBookmarkDocument,
  type BuyerListingCardFragment,
  type BuyerWhyFragment,
} from "../../gql/graphql";
import { useI18n } from "../../i18n";
import { formatNumber } from "../../i18n/format";
import { whyLines } from "./whyMatched";
import "./buyer.css";

export function Price({ listing }: { listing: Pick<BuyerListingCardFragment, "price" | "priceNegotiable"> }) {
  const { t } = useI18n();
  if (listing.price) return <Money amount={listing.price.amount} currency={listing.price.currency} />;
  return <span>{t("buyer.card.priceOnRequest")}</span>;
}

export function WhyMatched({ why, sector }: { why: BuyerWhyFragment; sector: string }) {
  const { t, te, locale } = useI18n();
  const lines = whyLines(why.reasons);
  if (!lines.length) return null;
  return (
    <div className="why">
      <p className="why-title">{t("buyer.card.why")}</p>
      <ul>
        {lines.map((line, i) =>
          "raw" in line ? (
            <li key={i} lang="en">
              {line.raw}
            </li>
          ) : (
            <li key={i}>
              {t(line.key, {
                sector: te("Sector", sector),
                ...Object.fromEntries(
                  Object.entries(line.vars).map(([k, v]) => [k, typeof v === "number" ? formatNumber(v, locale) : v]),
                ),
              })}
            </li>
          ),
        )}
      </ul>
    </div>
  );
}

/** A bookmark switch (aria-pressed) that keeps its own state after the API said yes. */
export function BookmarkButton({ listing }: { listing: Pick<BuyerListingCardFragment, "id" | "title" | "isBookmarked"> }) {
  const { t } = useI18n();
  const errorText = useErrorText();
  const [bookmarked, setBookmarked] = useState(listing.isBookmarked);
  const [{ fetching }, bookmark] = useMutation(BuyerBookmarkDocument);
  const [error, setError] = useState<string | null>(null);

  async function toggle() {
    setError(null);
    const result = await bookmark({ id: listing.id, bookmarked: !bookmarked });
    const problem = result.data?.bookmarkListing?.errors[0];
    if (result.error) setError(result.error.graphQLErrors[0]?.message ?? result.error.message);
    else if (problem) setError(errorText(problem));
    else setBookmarked(!bookmarked);
  }

  return (
    <>
      <button
        type="button"
        className="bookmark"
        aria-pressed={bookmarked}
        aria-label={`${t("buyer.card.bookmark")}: ${listing.title}`}
        disabled={fetching}
        onClick={() => void toggle()}
      >
        <span aria-hidden="true">{bookmarked ? "★ " : "☆ "}</span>
        {t("buyer.card.bookmark")}
      </button>
      {error && (
        <p role="alert" className="field-error">
          {error}
        </p>
      )}
    </>
  );
}

export function ListingCard({
  listing,
  why,
  rank,
  score,
  heading: Heading = "h3",
  actions,
}: {
  listing: BuyerListingCardFragment;
  why?: BuyerWhyFragment;
  rank?: number;
  score?: number;
  heading?: "h2" | "h3" | "h4" | "h5";
  actions?: ReactNode;
}) {
  const { t, te, locale } = useI18n();
  return (
    <article className="card listing-card" data-testid="listing-card">
      {rank !== undefined && <p className="rank muted">{t("buyer.card.rank", { rank })}</p>}
      <Heading className="listing-card-title">
        <Link to={`/listings/${encodeURIComponent(listing.id)}`}>{listing.title}</Link>
      </Heading>
      <dl className="facts">
        <div>
          <dt>{t("buyer.card.seller")}</dt>
          <dd>{listing.seller.name}</dd>
        </div>
        <div>
          <dt>{t("buyer.card.sector")}</dt>
          <dd>{te("Sector", listing.sector)}</dd>
        </div>
        <div>
          <dt>{t("buyer.card.price")}</dt>
          <dd>
            <Price listing={listing} />
          </dd>
        </div>
        {listing.status !== "PUBLISHED" && (
          <div>
            <dt>{t("buyer.card.status")}</dt>
            <dd>{te("ListingStatus", listing.status)}</dd>
          </div>
        )}
        {score !== undefined && (
          <div>
            <dt>{t("buyer.card.score")}</dt>
            <dd>{formatNumber(Math.round(score * 1000) / 1000, locale)}</dd>
          </div>
        )}
      </dl>
      {why && <WhyMatched why={why} sector={listing.sector} />}
      {actions && <div className="card-actions">{actions}</div>}
    </article>
  );
}
