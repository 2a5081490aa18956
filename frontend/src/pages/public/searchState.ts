// The search page's state, kept in the URL (?q=&sector=AI&sector=QUANTUM&page=2&after=...) so links,
// back and forward restore a search exactly. Pure functions: parsed, serialised and tested here.
import type {
  ListingSearchFilters,
  ListingSearchSort,
  PriceBand,
  RemainingLifeBand,
  Sector,
  TransactionType,
} from "../../gql/graphql";

export const PAGE_SIZE = 10;

import { SECTORS, TRANSACTION_TYPES } from "../../api/enums";

export { SECTORS, TRANSACTION_TYPES };
export const PRICE_BANDS: readonly PriceBand[] = ["LOW", "MID", "HIGH", "PREMIUM", "ON_REQUEST"];
export const LIFE_BANDS: readonly RemainingLifeBand[] = ["ENDED", "UNDER_3_YEARS", "FROM_3_TO_10_YEARS", "OVER_10_YEARS"];
export const OWNER_KINDS = ["public_institution", "university", "sme", "large_enterprise", "broker_firm"] as const;
export const LEGAL_STATUSES = ["pending", "registered", "lapsed", "expired", "withdrawn"] as const;
export const SORTS: readonly ListingSearchSort[] = [
  "RELEVANCE",
  "NEWEST",
  "PRICE_ASC",
  "PRICE_DESC",
  "TRL_DESC",
  "REMAINING_LIFE_DESC",
];

export interface SearchFilters {
  ipc: string[];
  sector: Sector[];
  ownerKind: string[];
  legalStatus: string[];
  transactionType: TransactionType[];
  priceBand: PriceBand[];
  remainingLife: RemainingLifeBand[];
  office: string[];
  trl: number[];
}

export type FilterKey = keyof SearchFilters;

export interface SearchState {
  q: string;
  filters: SearchFilters;
  sort: ListingSearchSort;
  /** 1-based. */
  page: number;
  /** The API's endCursor of the previous page (pages after the first). */
  after: string | null;
}

/** URL parameter of each filter, in the order they are written. */
export const FILTER_PARAMS: Record<FilterKey, string> = {
  ipc: "ipc",
  sector: "sector",
  ownerKind: "owner",
  legalStatus: "status",
  transactionType: "type",
  priceBand: "price",
  remainingLife: "life",
  office: "office",
  trl: "trl",
};

export const FILTER_KEYS = Object.keys(FILTER_PARAMS) as FilterKey[];

export function emptyFilters(): SearchFilters {
  return {
    ipc: [],
    sector: [],
    ownerKind: [],
    legalStatus: [],
    transactionType: [],
    priceBand: [],
    remainingLife: [],
    office: [],
    trl: [],
  };
}

export function emptyState(): SearchState {
  return { q: "", filters: emptyFilters(), sort: "RELEVANCE", page: 1, after: null };
}

const IPC_RE = /^[A-H](\d{2}([A-Z](\s?\d{1,4}(\/\d{1,6})?)?)?)?$/;
const OFFICE_RE = /^[A-Z]{2}$/;

function oneOf<T extends string>(allowed: readonly T[]) {
  return (value: string): T | null => ((allowed as readonly string[]).includes(value) ? (value as T) : null);
}

/** Each filter's parser: URL text -> value, or null to drop what is not valid. */
const parsers: { [K in FilterKey]: (raw: string) => SearchFilters[K][number] | null } = {
  ipc: (raw) => {
    const code = raw.trim().toUpperCase();
    return IPC_RE.test(code) ? code : null;
  },
  sector: (raw) => oneOf(SECTORS)(raw.toUpperCase()),
  ownerKind: (raw) => oneOf(OWNER_KINDS)(raw.toLowerCase() as (typeof OWNER_KINDS)[number]),
  legalStatus: (raw) => oneOf(LEGAL_STATUSES)(raw.toLowerCase() as (typeof LEGAL_STATUSES)[number]),
  transactionType: (raw) => oneOf(TRANSACTION_TYPES)(raw.toUpperCase()),
  priceBand: (raw) => oneOf(PRICE_BANDS)(raw.toUpperCase()),
  remainingLife: (raw) => oneOf(LIFE_BANDS)(raw.toUpperCase()),
  office: (raw) => {
    const code = raw.trim().toUpperCase();
    return OFFICE_RE.test(code) ? code : null;
  },
  trl: (raw) => {
    const n = Number(raw);
    return Number.isInteger(n) && n >= 1 && n <= 9 ? n : null;
  },
};

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

export function parseSearchParams(params: URLSearchParams): SearchState {
  const filters = emptyFilters();
  for (const key of FILTER_KEYS) {
    const parse = parsers[key] as (raw: string) => never | null;
    const values = params
      .getAll(FILTER_PARAMS[key])
      .map((raw) => parse(raw))
      .filter((v) => v !== null);
    (filters[key] as unknown[]) = unique(values);
  }
  const sort = oneOf(SORTS)((params.get("sort") ?? "").toUpperCase()) ?? "RELEVANCE";
  const pageNumber = Number(params.get("page") ?? "1");
  const page = Number.isInteger(pageNumber) && pageNumber >= 1 ? pageNumber : 1;
  const after = page > 1 ? params.get("after") || null : null;
  return { q: (params.get("q") ?? "").trim(), filters, sort, page, after };
}

/** Stable order, defaults left out: equal states give equal URLs (and one cache entry). */
export function serializeSearchState(state: SearchState): URLSearchParams {
  const params = new URLSearchParams();
  const q = state.q.trim();
  if (q) params.set("q", q);
  for (const key of FILTER_KEYS) {
    const values = (state.filters[key] as (string | number)[]).map(String);
    for (const value of [...unique(values)].sort()) params.append(FILTER_PARAMS[key], value);
  }
  if (state.sort !== "RELEVANCE") params.set("sort", state.sort);
  if (state.page > 1) {
    params.set("page", String(state.page));
    if (state.after) params.set("after", state.after);
  }
  return params;
}

export function searchHref(state: SearchState): string {
  const query = serializeSearchState(state).toString();
  return query ? `/search?${query}` : "/search";
}

export function hasFilters(filters: SearchFilters): boolean {
  return FILTER_KEYS.some((key) => filters[key].length > 0);
}

/** Toggle one filter value; any change of the search goes back to its first page. */
export function toggleFilter<K extends FilterKey>(
  state: SearchState,
  key: K,
  value: SearchFilters[K][number],
  on: boolean,
): SearchState {
  const current = state.filters[key] as (string | number)[];
  let next = on ? unique([...current, value]) : current.filter((v) => v !== value);
  if (key === "ipc" && !on) {
    // Unchecking a section or class also drops the narrower codes chosen under it.
    next = next.filter((code) => !String(code).startsWith(String(value)));
  }
  return { ...state, filters: { ...state.filters, [key]: next }, page: 1, after: null };
}

/**
 * The IPC codes to send: a code with a narrower code chosen under it (H with H01) is a drill-down, so only
 * the narrower one counts (the API ORs a filter's values, and H OR H01 would just be H).
 */
export function effectiveIpc(codes: readonly string[]): string[] {
  return codes.filter((code) => !codes.some((other) => other !== code && other.startsWith(code)));
}

/** The API's filter input; null when nothing is filtered. */
export function toApiFilters(filters: SearchFilters): ListingSearchFilters | null {
  if (!hasFilters(filters)) return null;
  const out: ListingSearchFilters = {};
  for (const key of FILTER_KEYS) {
    const values = key === "ipc" ? effectiveIpc(filters.ipc) : filters[key];
    if (values.length) (out as Record<string, unknown>)[key] = [...values];
  }
  return out;
}

/** Facet names (snake_case, as the API sends them) to the filter they narrow. */
export const FACET_FILTER: Record<string, FilterKey> = {
  ipc_section: "ipc",
  ipc_class: "ipc",
  ipc_subclass: "ipc",
  sector: "sector",
  owner_kind: "ownerKind",
  legal_status: "legalStatus",
  transaction_type: "transactionType",
  transaction_types: "transactionType",
  price_band: "priceBand",
  remaining_life: "remainingLife",
  office: "office",
  trl: "trl",
};

/** A facet bucket's value (e.g. "advanced_biotech", "under_3_years") as the filter's value. */
export function facetValueToFilter(key: FilterKey, value: string): string | number | null {
  return (parsers[key] as (raw: string) => string | number | null)(value);
}

/** A saved search's filters (all lists, maybe with values the parser would drop) as page state. */
export function stateFromSaved(query: string, saved: Partial<Record<FilterKey, readonly (string | number)[]>>): SearchState {
  const params = new URLSearchParams();
  if (query) params.set("q", query);
  for (const key of FILTER_KEYS) {
    for (const value of saved[key] ?? []) params.append(FILTER_PARAMS[key], String(value));
  }
  return parseSearchParams(params);
}

/** Identity of a search without its page: the key of its cursor memory. */
export function searchKey(state: SearchState): string {
  return serializeSearchState({ ...state, page: 1, after: null }).toString();
}

export const MAX_WINDOW = 100;

export interface RequestWindow {
  first: number;
  after: string | null;
  /** Hits to skip from the response (a page reached without its cursor is fetched with those before it). */
  skip: number;
  /** The page shown. */
  page: number;
}

/**
 * What to ask the API for. The API pages with opaque cursors; a link to page N carries the cursor, and a
 * page without one (typed by hand, or an old link) is fetched as the first N pages, within the API's
 * largest page size, so it is still one request.
 */
export function requestWindow(state: SearchState, pageSize = PAGE_SIZE): RequestWindow {
  if (state.page <= 1) return { first: pageSize, after: null, skip: 0, page: 1 };
  if (state.after) return { first: pageSize, after: state.after, skip: 0, page: state.page };
  if (state.page * pageSize <= MAX_WINDOW) {
    return { first: state.page * pageSize, after: null, skip: (state.page - 1) * pageSize, page: state.page };
  }
  return { first: pageSize, after: null, skip: 0, page: 1 };
}

export function pageCount(totalCount: number, pageSize = PAGE_SIZE): number {
  return Math.max(1, Math.ceil(totalCount / pageSize));
}
