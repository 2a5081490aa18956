import { describe, expect, it } from "vitest";
import {
  effectiveIpc,
  emptyState,
  facetValueToFilter,
  pageCount,
  parseSearchParams,
  requestWindow,
  searchHref,
  searchKey,
  serializeSearchState,
  stateFromSaved,
  toApiFilters,
  toggleFilter,
} from "./searchState";

const parse = (query: string) => parseSearchParams(new URLSearchParams(query));

describe("search URL state", () => {
  it("parses words, filters, sort and page", () => {
    const state = parse("q=%EB%B0%B0%ED%84%B0%EB%A6%AC&sector=AI&sector=quantum&owner=university&status=registered&type=OPTION&price=mid&life=over_10_years&office=kr&trl=4&ipc=h01&sort=NEWEST&page=3&after=abc");
    expect(state).toEqual({
      q: "배터리",
      filters: {
        ipc: ["H01"],
        sector: ["AI", "QUANTUM"],
        ownerKind: ["university"],
        legalStatus: ["registered"],
        transactionType: ["OPTION"],
        priceBand: ["MID"],
        remainingLife: ["OVER_10_YEARS"],
        office: ["KR"],
        trl: [4],
      },
      sort: "NEWEST",
      page: 3,
      after: "abc",
    });
  });

  it("drops values that are not valid and falls back to defaults", () => {
    const state = parse("sector=SPACE&sector=AI&sector=AI&owner=alien&trl=12&trl=x&ipc=Z99&ipc=%3Cb%3E&office=KOR&sort=RANDOM&page=-2&after=zzz");
    expect(state.filters.sector).toEqual(["AI"]);
    expect(state.filters.ownerKind).toEqual([]);
    expect(state.filters.trl).toEqual([]);
    expect(state.filters.ipc).toEqual([]);
    expect(state.filters.office).toEqual([]);
    expect(state.sort).toBe("RELEVANCE");
    expect(state.page).toBe(1);
    expect(state.after).toBeNull(); // a cursor only means something after page 1
  });

  it("serialises in a stable order without defaults", () => {
    const state = {
      ...emptyState(),
      q: "  battery ",
      filters: { ...emptyState().filters, sector: ["SEMICONDUCTORS" as const, "AI" as const], office: ["US"], trl: [6, 3] },
    };
    expect(serializeSearchState(state).toString()).toBe("q=battery&sector=AI&sector=SEMICONDUCTORS&office=US&trl=3&trl=6");
    expect(searchHref(emptyState())).toBe("/search");
    expect(searchHref({ ...emptyState(), q: "배터리", sort: "PRICE_ASC", page: 2, after: "c1" })).toBe(
      "/search?q=%EB%B0%B0%ED%84%B0%EB%A6%AC&sort=PRICE_ASC&page=2&after=c1",
    );
  });

  it("round-trips", () => {
    const query = "q=solar+cell&ipc=H&ipc=H01&sector=AI&owner=sme&status=pending&type=ASSIGNMENT&price=LOW&life=ENDED&office=JP&trl=9&sort=TRL_DESC&page=2&after=eyJ9";
    const state = parse(query);
    expect(parse(serializeSearchState(state).toString())).toEqual(state);
    expect(serializeSearchState(state).toString()).toBe(query);
  });

  it("toggling a filter goes back to page 1; unchecking an IPC section drops its classes", () => {
    const state = parse("ipc=H&ipc=H01&ipc=H01M&ipc=G&page=4&after=x");
    const off = toggleFilter(state, "ipc", "H", false);
    expect(off.filters.ipc).toEqual(["G"]);
    expect(off.page).toBe(1);
    expect(off.after).toBeNull();
    expect(toggleFilter(emptyState(), "sector", "AI", true).filters.sector).toEqual(["AI"]);
    expect(toggleFilter(parse("sector=AI"), "sector", "AI", true).filters.sector).toEqual(["AI"]);
  });

  it("sends the narrowest IPC codes of a drill-down", () => {
    expect(effectiveIpc(["H", "H01", "H01M", "G", "A01"])).toEqual(["H01M", "G", "A01"]);
    expect(toApiFilters(parse("ipc=H&ipc=H01&sector=AI").filters)).toEqual({ ipc: ["H01"], sector: ["AI"] });
    expect(toApiFilters(emptyState().filters)).toBeNull();
  });

  it("maps facet bucket values to filter values", () => {
    expect(facetValueToFilter("sector", "advanced_biotech")).toBe("ADVANCED_BIOTECH");
    expect(facetValueToFilter("remainingLife", "under_3_years")).toBe("UNDER_3_YEARS");
    expect(facetValueToFilter("ownerKind", "public_institution")).toBe("public_institution");
    expect(facetValueToFilter("trl", "4")).toBe(4);
    expect(facetValueToFilter("sector", "unknown")).toBeNull();
  });

  it("builds page state from a saved search", () => {
    const state = stateFromSaved("배터리", { sector: ["SECONDARY_BATTERIES"], trl: [5], ipc: ["H01M"] });
    expect(searchHref(state)).toBe("/search?q=%EB%B0%B0%ED%84%B0%EB%A6%AC&ipc=H01M&sector=SECONDARY_BATTERIES&trl=5");
  });

  it("asks for one page, by cursor or as the pages before it", () => {
    expect(requestWindow(parse("q=a"))).toEqual({ first: 10, after: null, skip: 0, page: 1 });
    expect(requestWindow(parse("q=a&page=3&after=c"))).toEqual({ first: 10, after: "c", skip: 0, page: 3 });
    expect(requestWindow(parse("q=a&page=3"))).toEqual({ first: 30, after: null, skip: 20, page: 3 });
    expect(requestWindow(parse("q=a&page=11"))).toEqual({ first: 10, after: null, skip: 0, page: 1 });
    expect(pageCount(0)).toBe(1);
    expect(pageCount(27)).toBe(3);
    expect(pageCount(30)).toBe(3);
  });

  it("keys a search without its page", () => {
    expect(searchKey(parse("q=a&page=2&after=c"))).toBe(searchKey(parse("q=a")));
    expect(searchKey(parse("q=a&sector=AI"))).not.toBe(searchKey(parse("q=a")));
  });
});
