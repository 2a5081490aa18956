// "/saved-searches": the signed-in user's saved searches, each with a link that runs it again and a
// delete button. New matches are notified by the server (in-app and e-mail).
import { useState } from "react";
import { Link } from "react-router-dom";
import { useMutation, useQuery } from "urql";
import { FormErrors } from "../../components/FormErrors";
import { Loading, QueryError, SignInNeeded } from "../../components/Status";
import { useSession } from "../../auth/session";
import { SavedSearchesDeleteDocument, SavedSearchesListDocument, type SavedSearchesListQuery } from "../../gql/graphql";
import { useI18n, type MessageKey } from "../../i18n";
import { formatDate } from "../../i18n/format";
import { useFilterValueLabel } from "./enumLabel";
import { FILTER_KEYS, searchHref, stateFromSaved, type FilterKey } from "./searchState";
import "./public.css";

type Saved = NonNullable<NonNullable<NonNullable<SavedSearchesListQuery["mySavedSearches"]>["edges"][number]>["node"]>;

const FILTER_LABEL: Record<FilterKey, MessageKey> = {
  ipc: "public.facet.ipc",
  sector: "public.facet.sector",
  ownerKind: "public.facet.ownerKind",
  legalStatus: "public.facet.legalStatus",
  transactionType: "public.facet.transactionType",
  priceBand: "public.facet.priceBand",
  remainingLife: "public.facet.remainingLife",
  office: "public.facet.office",
  trl: "public.facet.trl",
};

export default function SavedSearches() {
  const { t } = useI18n();
  const { me, loading } = useSession();
  const [{ data, error, fetching }, reexecute] = useQuery({ query: SavedSearchesListDocument, pause: !me });
  const [{ data: deleted, fetching: deleting }, remove] = useMutation(SavedSearchesDeleteDocument);
  const [deletedName, setDeletedName] = useState<string | null>(null);
  const [gone, setGone] = useState<string[]>([]);

  let body;
  if (loading) body = <Loading />;
  else if (!me) body = <SignInNeeded />;
  else if (!data && fetching) body = <Loading />;
  else if (!data && error) body = <QueryError error={error} retry={() => reexecute({ requestPolicy: "network-only" })} />;
  else {
    const items = (data?.mySavedSearches?.edges ?? [])
      .map((e) => e?.node)
      .filter((n): n is Saved => !!n && !gone.includes(n.id));
    body = items.length ? (
      <ul className="saved-list">
        {items.map((s) => (
          <SavedItem
            key={s.id}
            saved={s}
            deleting={deleting}
            onDelete={async () => {
              const result = await remove({ id: s.id });
              const id = result.data?.deleteSavedSearch?.deletedId;
              if (id) {
                setGone((g) => [...g, id]);
                setDeletedName(s.name);
              }
            }}
          />
        ))}
      </ul>
    ) : (
      <p className="alert">{t("public.saved.empty")}</p>
    );
  }

  return (
    <section aria-labelledby="saved-title">
      <h1 id="saved-title">{t("public.saved.title")}</h1>
      <p className="muted">{t("public.saved.intro")}</p>
      <div role="status" aria-live="polite">
        {deletedName && <p className="alert alert-ok">{t("public.saved.deleted", { name: deletedName })}</p>}
      </div>
      <FormErrors errors={deleted?.deleteSavedSearch?.errors} />
      {body}
      <p>
        <Link to="/search">{t("public.saved.newSearch")}</Link>
      </p>
    </section>
  );
}

function SavedItem({ saved, deleting, onDelete }: { saved: Saved; deleting: boolean; onDelete: () => void }) {
  const { t, locale } = useI18n();
  const state = stateFromSaved(saved.query, saved.filters);
  const headingId = `saved-${saved.id.replace(/[^A-Za-z0-9_-]/g, "_")}`;

  const valueLabel = useFilterValueLabel();

  const filters = FILTER_KEYS.filter((key) => state.filters[key].length > 0);
  return (
    <li className="card">
      <h2 id={headingId}>{saved.name}</h2>
      <dl className="facts">
        <div>
          <dt>{t("public.saved.words")}</dt>
          <dd>{saved.query || "—"}</dd>
        </div>
        {filters.map((key) => (
          <div key={key}>
            <dt>{t(FILTER_LABEL[key])}</dt>
            <dd>{(state.filters[key] as (string | number)[]).map((v) => valueLabel(key, v)).join(", ")}</dd>
          </div>
        ))}
        <div>
          <dt>{t("public.saved.created")}</dt>
          <dd>{formatDate(saved.createdAt, locale)}</dd>
        </div>
        <div>
          <dt>{t("public.saved.notices")}</dt>
          <dd>{saved.isActive ? t("public.saved.active") : t("public.saved.paused")}</dd>
        </div>
      </dl>
      <div className="saved-actions">
        <Link to={searchHref(state)} aria-describedby={headingId}>
          {t("public.saved.run")}
        </Link>
        <button type="button" onClick={onDelete} disabled={deleting} aria-describedby={headingId}>
          {t("public.saved.delete")}
        </button>
      </div>
    </li>
  );
}
