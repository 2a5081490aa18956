// /buy/bookmarks: the listings I bookmarked, latest first, each with a button to remove the bookmark.
import { useState } from "react";
import { useMutation, useQuery } from "urql";
import { useSession } from "../../auth/session";
import { useErrorText } from "../../components/FormErrors";
import { Loading, QueryError, SignInNeeded } from "../../components/Status";
import { BookmarksMineDocument, BuyerBookmarkDocument, type BuyerListingCardFragment } from "../../gql/graphql";
import { useI18n } from "../../i18n";
import { ListingCard } from "./ListingCard";
import "./buyer.css";

export default function Bookmarks() {
  const { t } = useI18n();
  const errorText = useErrorText();
  const session = useSession();
  const [{ data, fetching, error }, reexecute] = useQuery({ query: BookmarksMineDocument, pause: !session.me });
  const [{ fetching: removing }, bookmark] = useMutation(BuyerBookmarkDocument);
  // Removed ones disappear at once; the refetch that follows confirms it.
  const [removed, setRemoved] = useState<Set<string>>(() => new Set());
  const [notice, setNotice] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  async function remove(listing: BuyerListingCardFragment) {
    setFailure(null);
    setNotice(null);
    const result = await bookmark({ id: listing.id, bookmarked: false });
    const problem = result.data?.bookmarkListing?.errors[0];
    if (result.error) setFailure(result.error.graphQLErrors[0]?.message ?? result.error.message);
    else if (problem) setFailure(errorText(problem));
    else {
      setRemoved((s) => new Set(s).add(listing.id));
      setNotice(t("buyer.bookmarks.removed", { title: listing.title }));
      reexecute({ requestPolicy: "network-only" });
    }
  }

  if (session.loading) return <Loading />;
  const listings = (data?.listings?.edges ?? []).flatMap((e) => (e?.node && !removed.has(e.node.id) ? [e.node] : []));

  return (
    <section aria-labelledby="bookmarks-title" className="buyer-page">
      <h1 id="bookmarks-title">{t("buyer.bookmarks.title")}</h1>
      {!session.me ? (
        <SignInNeeded />
      ) : (
        <>
          <div role="status" aria-live="polite">
            {notice && <p className="alert alert-ok">{notice}</p>}
          </div>
          {failure && (
            <p role="alert" className="alert alert-error">
              {failure}
            </p>
          )}
          {fetching && !data && <Loading />}
          {error && <QueryError error={error} retry={() => reexecute({ requestPolicy: "network-only" })} />}
          {data && (
            <p className="muted">
              {listings.length ? t("buyer.bookmarks.count", { count: listings.length }) : t("buyer.bookmarks.empty")}
            </p>
          )}
          {listings.length > 0 && (
            <ul className="grid card-grid">
              {listings.map((listing) => (
                <li key={listing.id}>
                  <ListingCard
                    listing={listing}
                    heading="h2"
                    actions={
                      <button
                        type="button"
                        disabled={removing}
                        aria-label={`${t("buyer.bookmarks.remove")}: ${listing.title}`}
                        onClick={() => void remove(listing)}
                      >
                        {t("buyer.bookmarks.remove")}
                      </button>
                    }
                  />
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
