// /buy/feed: listings recommended for me (myFeed), each with why it matched.
import { useSession } from "../../auth/session";
import { Loading, QueryError, SignInNeeded } from "../../components/Status";
import { FeedMineDocument } from "../../gql/graphql";
import { useI18n } from "../../i18n";
import { useQuery } from "urql";
import { BookmarkButton, ListingCard } from "./ListingCard";
import "./buyer.css";

export default function Feed() {
  const { t } = useI18n();
  const session = useSession();
  const [{ data, fetching, error }, reexecute] = useQuery({ query: FeedMineDocument, pause: !session.me });
  const items = data?.myFeed ?? [];

  if (session.loading) return <Loading />;
  return (
    <section aria-labelledby="feed-title" className="buyer-page">
      <h1 id="feed-title">{t("buyer.feed.title")}</h1>
      <p className="muted">{t("buyer.feed.intro")}</p>
      {!session.me ? (
        <SignInNeeded />
      ) : (
        <>
          {fetching && !data && <Loading />}
          {error && <QueryError error={error} retry={() => reexecute({ requestPolicy: "network-only" })} />}
          {data && !items.length && <p className="alert">{t("buyer.feed.empty")}</p>}
          {items.length > 0 && (
            <ol className="grid card-grid" aria-label={t("buyer.feed.listLabel")}>
              {items.map((rec) => (
                <li key={rec.listing.id}>
                  <ListingCard
                    listing={rec.listing}
                    why={rec.why}
                    heading="h2"
                    actions={<BookmarkButton listing={rec.listing} />}
                  />
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </section>
  );
}
