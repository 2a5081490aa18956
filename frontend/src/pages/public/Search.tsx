// Search "/search": words (Korean, English…) with completions, facets as checkboxes with counts, sort,
// pages. Everything is in the URL, so links, back and forward restore the search. One request per search.
import { memo, startTransition, useCallback, useDeferredValue, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { Link, useLocation, useSearchParams } from "react-router-dom";
import { createRequest, useClient, useMutation, useQuery } from "urql";
import { FormErrors } from "../../components/FormErrors";
import { Money } from "../../components/Money";
import { QueryError } from "../../components/Status";
import { useSession } from "../../auth/session";
import {
  SearchListingsDocument,
  SearchSaveSearchDocument,
  type ListingSearchSort,
  type SearchListingsQuery,
  type SearchListingsQueryVariables,
} from "../../gql/graphql";
import { useI18n, type MessageKey } from "../../i18n";
import { formatNumber } from "../../i18n/format";
import { Highlighted } from "./Highlighted";
import { SearchBox } from "./SearchBox";
import { useEnumLabel, useFilterValueLabel } from "./enumLabel";
import {
  FACET_FILTER,
  LIFE_BANDS,
  PAGE_SIZE,
  PRICE_BANDS,
  SORTS,
  facetValueToFilter,
  hasFilters,
  emptyFilters,
  pageCount,
  parseSearchParams,
  requestWindow,
  searchHref,
  searchKey,
  serializeSearchState,
  toApiFilters,
  toggleFilter,
  type FilterKey,
  type SearchState,
} from "./searchState";
import { listingPath } from "./paths";
import "./public.css";

type Hit = SearchListingsQuery["searchListings"]["hits"][number];
type Facet = SearchListingsQuery["searchListings"]["facets"][number];

/** Cursors seen per search (key without page), page number -> `after` for that page: Previous uses them. */
const cursorMemory = new Map<string, Map<number, string>>();

function variablesFor(state: SearchState): SearchListingsQueryVariables {
  const win = requestWindow(state);
  return {
    query: state.q || null,
    filters: toApiFilters(state.filters),
    sort: state.sort,
    first: win.first,
    after: win.after,
  };
}

export default function Search() {
  const { t, locale } = useI18n();
  const [params, setParams] = useSearchParams();
  const state = useMemo(() => parseSearchParams(params), [params]);
  const win = requestWindow(state);
  const variables = useMemo(() => variablesFor(state), [state]);
  const requestKey = useMemo(() => createRequest(SearchListingsDocument, variables).key, [variables]);
  const [result, reexecute] = useQuery({
    query: SearchListingsDocument,
    variables,
    requestPolicy: "cache-and-network",
  });
  const { data, error } = result;
  const current = result.operation?.key === requestKey;
  const busy = result.fetching || !current;
  const search = data?.searchListings;
  const key = searchKey(state);

  // The time-to-paint hook: "search-submitted" at submit, "search-painted" in the frame that shows the
  // results of that submission (a new result object for its request).
  const awaiting = useRef<{ key: number; data: unknown } | null>(null);
  useLayoutEffect(() => {
    const pending = awaiting.current;
    if (!pending || !result.data || result.operation?.key !== pending.key || result.data === pending.data) return;
    awaiting.current = null;
    requestAnimationFrame(() => performance.mark("search-painted"));
  }, [result]);

  // Remember where each page starts, for Previous.
  useEffect(() => {
    if (!current || !search) return;
    let pages = cursorMemory.get(key);
    if (!pages) cursorMemory.set(key, (pages = new Map()));
    if (state.after) pages.set(win.page, state.after);
    if (search.pageInfo.endCursor) pages.set(win.page + 1, search.pageInfo.endCursor);
  }, [current, search, key, state.after, win.page]);

  // The router applies a new URL in a transition: until it has, show the choice just made (checkboxes and
  // the sort select stay where the user put them).
  const [pending, setPending] = useState<{ from: string; state: SearchState } | null>(null);
  const shown = pending && pending.from === params.toString() ? pending.state : state;
  // A new search starts its request at once, before the router and React have re-rendered the page with
  // the new URL; the page's own useQuery then shares that in-flight operation (same key) instead of
  // sending another one.
  const client = useClient();
  const prefetch = useRef<{ key: number; unsubscribe: () => void } | null>(null);
  useEffect(() => () => prefetch.current?.unsubscribe(), []);
  useEffect(() => {
    // Once the page's own query holds the result, the early subscription has done its job.
    if (prefetch.current && result.operation?.key === prefetch.current.key && !result.fetching) {
      prefetch.current.unsubscribe();
      prefetch.current = null;
    }
  }, [result]);

  function start(next: SearchState, submitted: boolean) {
    const nextParams = serializeSearchState(next);
    const sameUrl = nextParams.toString() === params.toString();
    // Variables exactly as the page will derive them from the new URL (same order, same key).
    const nextVariables = variablesFor(parseSearchParams(nextParams));
    const nextKey = createRequest(SearchListingsDocument, nextVariables).key;
    if (submitted) awaiting.current = { key: nextKey, data: result.data };
    if (sameUrl) {
      // Submitting the same search again: fetch it afresh.
      reexecute({ requestPolicy: "network-only" });
      return;
    }
    prefetch.current?.unsubscribe();
    const subscription = client
      // A submitted search always asks the API (fresh results); a filter change may show cached ones first.
      .query(SearchListingsDocument, nextVariables, { requestPolicy: submitted ? "network-only" : "cache-and-network" })
      .subscribe(() => undefined);
    prefetch.current = { key: nextKey, unsubscribe: subscription.unsubscribe };
    const apply = () => {
      setPending({ from: params.toString(), state: next });
      setParams(nextParams);
    };
    // A submitted search re-renders the page in a transition, so React does not render synchronously at
    // the end of the submit event, ahead of the request's start. A checkbox updates at once (it is
    // controlled: a deferred update would un-tick it until the transition lands).
    if (submitted) startTransition(apply);
    else apply();
  }

  const navigate = (next: SearchState) => start(next, false);
  // Facets are many checkboxes: they render just after the results (deferred), with a stable callback.
  const latestNavigate = useRef(navigate);
  useLayoutEffect(() => {
    latestNavigate.current = navigate;
  });
  const onFacetChange = useCallback((next: SearchState) => latestNavigate.current(next), []);
  const facets = useDeferredValue(search?.facets);

  function onSearch(q: string) {
    performance.mark("search-submitted");
    start({ ...state, q, page: 1, after: null }, true);
  }

  const hits = useMemo(() => {
    if (!search) return [];
    // A page reached without its cursor came with the pages before it.
    const first = Number(result.operation?.variables.first ?? PAGE_SIZE);
    return search.hits.slice(Math.max(0, first - PAGE_SIZE));
  }, [search, result.operation]);

  const pages = search ? pageCount(search.totalCount) : 1;
  const previousAfter = win.page > 2 ? (cursorMemory.get(key)?.get(win.page - 1) ?? null) : null;

  let status: string;
  if (busy) status = t("public.search.searching");
  else if (!search) status = "";
  else if (state.q) status = t("public.search.resultsFor", { count: formatNumber(search.totalCount, locale), q: state.q });
  else status = t("public.search.resultsAll", { count: formatNumber(search.totalCount, locale) });

  return (
    <div className="search-page">
      <h1>{t("public.search.title")}</h1>
      <SearchBox value={state.q} onSearch={onSearch} />

      <div className="search-layout">
        <aside className="search-filters" aria-labelledby="search-filters-title">
          <div className="filters-head">
            <h2 id="search-filters-title">{t("public.search.filters")}</h2>
            {hasFilters(shown.filters) && (
              <button type="button" onClick={() => navigate({ ...shown, filters: emptyFilters(), page: 1, after: null })}>
                {t("public.search.clearFilters")}
              </button>
            )}
          </div>
          {facets ? (
            <Facets facets={facets} state={shown} onChange={onFacetChange} />
          ) : (
            <p className="muted">{t("common.loading")}</p>
          )}
        </aside>

        <section className="search-results" aria-labelledby="search-results-title" aria-busy={busy}>
          <div className="results-head">
            <h2 id="search-results-title" tabIndex={-1}>
              {t("public.search.resultsTitle")}
            </h2>
            <p role="status" aria-live="polite" className="results-status">
              {status}
            </p>
            <div className="results-tools">
              <label htmlFor="search-sort">{t("public.search.sort")}</label>
              <select
                id="search-sort"
                value={shown.sort}
                onChange={(e) => navigate({ ...shown, sort: e.target.value as ListingSearchSort, page: 1, after: null })}
              >
                {SORTS.map((s) => (
                  <SortOption key={s} value={s} />
                ))}
              </select>
              <SaveSearch state={state} />
            </div>
          </div>

          {error && !search && <QueryError error={error} retry={() => reexecute({ requestPolicy: "network-only" })} />}

          {search?.suggestion && (
            <p className="did-you-mean">
              {t("public.search.didYouMean")}{" "}
              <Link to={searchHref({ ...state, q: search.suggestion, page: 1, after: null })}>{search.suggestion}</Link>
            </p>
          )}

          <ol className={`result-list${busy ? " is-busy" : ""}`} data-testid="search-results">
            {hits.map((hit) => (
              <ResultItem key={hit.listing.id} hit={hit} />
            ))}
          </ol>
          {search && !busy && hits.length === 0 && <p className="alert">{t("public.search.noResults")}</p>}

          {search && search.totalCount > PAGE_SIZE && (
            <nav className="pagination" aria-label={t("public.search.pages")}>
              {win.page > 1 ? (
                <Link to={searchHref({ ...state, page: win.page - 1, after: previousAfter })} rel="prev">
                  {t("common.previous")}
                </Link>
              ) : (
                <span className="pager-off" aria-hidden="true">
                  {t("common.previous")}
                </span>
              )}
              <span aria-current="page">{t("common.page", { page: formatNumber(win.page, locale), pages: formatNumber(pages, locale) })}</span>
              {current && search.pageInfo.hasNextPage && search.pageInfo.endCursor ? (
                <Link to={searchHref({ ...state, page: win.page + 1, after: search.pageInfo.endCursor })} rel="next">
                  {t("common.next")}
                </Link>
              ) : (
                <span className="pager-off" aria-hidden="true">
                  {t("common.next")}
                </span>
              )}
            </nav>
          )}
        </section>
      </div>
    </div>
  );
}

function SortOption({ value }: { value: ListingSearchSort }) {
  const { te } = useI18n();
  return <option value={value}>{te("ListingSearchSort", value)}</option>;
}

const ResultItem = memo(function ResultItem({ hit }: { hit: Hit }) {
  const { t, te, locale } = useI18n();
  const label = useEnumLabel();
  const { listing, highlights, why } = hit;
  const body = highlights.body[0];
  const summary = listing.summary.length > 240 ? `${listing.summary.slice(0, 240)}…` : listing.summary;
  return (
    <li className="card result" data-testid="search-result">
      <h3 className="result-title">
        <Link to={listingPath(listing.id)}>
          {highlights.title[0] ? <Highlighted html={highlights.title[0]} /> : listing.title}
        </Link>
      </h3>
      <p className="muted result-seller">
        {listing.seller.name} · {label("OrgKind", listing.seller.kind)}
      </p>
      <p className="result-snippet">{body ? <Highlighted html={body} /> : summary}</p>
      <ul className="tags" aria-label={t("public.search.facts")}>
        <li className="badge">{te("Sector", listing.sector)}</li>
        {listing.transactionTypes.map((type) => (
          <li key={type} className="badge">
            {te("TransactionType", type)}
          </li>
        ))}
        {listing.trl !== null && <li className="badge">{t("public.listing.trlShort", { trl: listing.trl })}</li>}
        <li className="badge badge-price">
          {listing.price ? <Money amount={listing.price.amount} currency={listing.price.currency} /> : t("public.price.onRequest")}
          {listing.price && listing.priceNegotiable ? ` · ${t("public.price.negotiable")}` : ""}
        </li>
      </ul>
      {(why.matchedTerms.length > 0 || why.similarity !== null) && (
        <p className="why muted">
          <span className="why-label">{t("public.why.label")}</span>{" "}
          {[
            why.matchedTerms.length ? t("public.why.terms", { terms: why.matchedTerms.slice(0, 6).join(", ") }) : null,
            why.similarity !== null ? t("public.why.similarity", { value: formatNumber(Math.round(why.similarity * 100), locale) }) : null,
            why.sharedIpc.length ? t("public.why.sharedIpc", { codes: why.sharedIpc.join(", ") }) : null,
          ]
            .filter(Boolean)
            .join(" · ")}
        </p>
      )}
    </li>
  );
});

// ---- Facets ----------------------------------------------------------------------------------------------

interface Option {
  value: string | number;
  label: string;
  count: number;
}

const LEGENDS: Record<Exclude<FilterKey, "ipc">, MessageKey> = {
  sector: "public.facet.sector",
  ownerKind: "public.facet.ownerKind",
  legalStatus: "public.facet.legalStatus",
  transactionType: "public.facet.transactionType",
  priceBand: "public.facet.priceBand",
  remainingLife: "public.facet.remainingLife",
  office: "public.facet.office",
  trl: "public.facet.trl",
};

const ORDER: Record<Exclude<FilterKey, "ipc">, number> = {
  sector: 0,
  ownerKind: 2,
  legalStatus: 3,
  transactionType: 4,
  priceBand: 5,
  remainingLife: 6,
  office: 7,
  trl: 8,
};

const Facets = memo(function Facets({
  facets,
  state,
  onChange,
}: {
  facets: readonly Facet[];
  state: SearchState;
  onChange: (s: SearchState) => void;
}) {
  const { t } = useI18n();
  const byName = useMemo(() => new Map(facets.map((f) => [f.name, f.values])), [facets]);

  function options(key: Exclude<FilterKey, "ipc">): Option[] {
    const facetName = Object.keys(FACET_FILTER).find((name) => FACET_FILTER[name] === key && byName.has(name));
    const counts = new Map<string | number, number>();
    for (const v of (facetName && byName.get(facetName)) || []) {
      const value = facetValueToFilter(key, v.value);
      if (value !== null) counts.set(value, (counts.get(value) ?? 0) + v.count);
    }
    for (const selected of state.filters[key]) if (!counts.has(selected)) counts.set(selected, 0);
    const list = [...counts].map(([value, count]) => ({ value, count, label: optionLabel(key, value) }));
    if (key === "priceBand") list.sort((a, b) => PRICE_BANDS.indexOf(a.value as never) - PRICE_BANDS.indexOf(b.value as never));
    else if (key === "remainingLife") list.sort((a, b) => LIFE_BANDS.indexOf(a.value as never) - LIFE_BANDS.indexOf(b.value as never));
    else if (key === "trl") list.sort((a, b) => Number(a.value) - Number(b.value));
    return list;
  }

  const optionLabel = useFilterValueLabel();

  const toggle = (key: FilterKey, value: string | number, on: boolean) =>
    onChange(toggleFilter(state, key, value as never, on));

  const groups = (Object.keys(LEGENDS) as Exclude<FilterKey, "ipc">[]).sort((a, b) => ORDER[a] - ORDER[b]);
  return (
    <div className="facets">
      <FacetGroup
        id="sector"
        legend={t(LEGENDS.sector)}
        options={options("sector")}
        selected={state.filters.sector}
        onToggle={(v, on) => toggle("sector", v, on)}
      />
      <IpcFacet byName={byName} selected={state.filters.ipc} onToggle={(v, on) => toggle("ipc", v, on)} />
      {groups
        .filter((key) => key !== "sector")
        .map((key) => (
          <FacetGroup
            key={key}
            id={key}
            legend={t(LEGENDS[key])}
            options={options(key)}
            selected={state.filters[key]}
            onToggle={(v, on) => toggle(key, v, on)}
          />
        ))}
    </div>
  );
});

function domId(...parts: (string | number)[]): string {
  return parts.map((p) => String(p).replace(/[^A-Za-z0-9_-]/g, "_")).join("-");
}

function CheckOption({
  group,
  option,
  checked,
  onToggle,
  children,
}: {
  group: string;
  option: Option;
  checked: boolean;
  onToggle: (value: string | number, on: boolean) => void;
  children?: ReactNode;
}) {
  const { locale } = useI18n();
  const id = domId("facet", group, option.value);
  return (
    <li>
      <span className="facet-option">
        <input
          type="checkbox"
          id={id}
          checked={checked}
          onChange={(e) => onToggle(option.value, e.target.checked)}
          aria-describedby={`${id}-count`}
        />
        <label htmlFor={id}>{option.label}</label>
        <span id={`${id}-count`} className="facet-count">
          {formatNumber(option.count, locale)}
        </span>
      </span>
      {children}
    </li>
  );
}

function FacetGroup({
  id,
  legend,
  options,
  selected,
  onToggle,
}: {
  id: string;
  legend: string;
  options: Option[];
  selected: readonly (string | number)[];
  onToggle: (value: string | number, on: boolean) => void;
}) {
  const { t } = useI18n();
  return (
    <fieldset className="facet">
      <legend>{legend}</legend>
      {options.length === 0 ? (
        <p className="muted facet-empty">{t("public.facet.none")}</p>
      ) : (
        <ul>
          {options.map((o) => (
            <CheckOption key={o.value} group={id} option={o} checked={selected.includes(o.value as never)} onToggle={onToggle} />
          ))}
        </ul>
      )}
    </fieldset>
  );
}

/** IPC as a tree: sections; a chosen section opens its classes, a chosen class its subclasses. */
function IpcFacet({
  byName,
  selected,
  onToggle,
}: {
  byName: Map<string, readonly { value: string; count: number }[]>;
  selected: readonly string[];
  onToggle: (value: string | number, on: boolean) => void;
}) {
  const { t } = useI18n();
  const label = useEnumLabel();
  const levels = ["ipc_section", "ipc_class", "ipc_subclass"];

  function level(depth: number, parent: string): Option[] {
    const counts = new Map<string, number>();
    for (const v of byName.get(levels[depth]) ?? []) {
      const code = v.value.toUpperCase();
      if (code.startsWith(parent)) counts.set(code, v.count);
    }
    const length = [1, 3, 4][depth];
    for (const code of selected) if (code.length === length && code.startsWith(parent) && !counts.has(code)) counts.set(code, 0);
    return [...counts]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([value, count]) => ({ value, count, label: depth === 0 ? label("ipcSection", value) : value }));
  }

  function branch(depth: number, parent: string): ReactNode {
    const options = level(depth, parent);
    if (!options.length) return depth === 0 ? <p className="muted facet-empty">{t("public.facet.none")}</p> : null;
    return (
      <ul className={depth ? "facet-children" : undefined} aria-label={depth ? t("public.facet.ipcWithin", { code: parent }) : undefined}>
        {options.map((o) => {
          const checked = selected.includes(String(o.value));
          return (
            <CheckOption key={o.value} group="ipc" option={o} checked={checked} onToggle={onToggle}>
              {checked && depth < levels.length - 1 ? branch(depth + 1, String(o.value)) : null}
            </CheckOption>
          );
        })}
      </ul>
    );
  }

  return (
    <fieldset className="facet facet-ipc">
      <legend>{t("public.facet.ipc")}</legend>
      {branch(0, "")}
    </fieldset>
  );
}

// ---- Saving a search -------------------------------------------------------------------------------------

function SaveSearch({ state }: { state: SearchState }) {
  const { t } = useI18n();
  const { me } = useSession();
  const location = useLocation();
  const [{ data, fetching }, save] = useMutation(SearchSaveSearchDocument);
  const savedFor = useRef<string | null>(null);
  const key = searchKey(state);

  if (!me) {
    return (
      <Link to={`/signin?next=${encodeURIComponent(location.pathname + location.search)}`} className="save-search-link">
        {t("public.search.signInToSave")}
      </Link>
    );
  }
  const empty = !state.q && !hasFilters(state.filters);
  const saved = data?.saveSearch?.savedSearch && savedFor.current === key ? data.saveSearch.savedSearch : null;
  const errors = savedFor.current === key ? data?.saveSearch?.errors : null;

  async function onSave() {
    savedFor.current = key;
    const name = (state.q || t("public.search.defaultName")).slice(0, 200);
    await save({
      input: { name, query: state.q || null, filters: toApiFilters(state.filters) },
      idempotencyKey: crypto.randomUUID(),
    });
  }

  return (
    <div className="save-search">
      <button type="button" onClick={() => void onSave()} disabled={fetching || empty || !!saved} aria-describedby={empty ? "save-search-hint" : undefined}>
        {t("public.search.save")}
      </button>
      {empty && (
        <span id="save-search-hint" className="muted">
          {t("public.search.saveHint")}
        </span>
      )}
      <div role="status" aria-live="polite">
        {saved && (
          <p className="alert alert-ok">
            {t("public.search.saved", { name: saved.name })} <Link to="/saved-searches">{t("public.search.savedLink")}</Link>
          </p>
        )}
      </div>
      <FormErrors errors={errors} />
    </div>
  );
}
