// Pure helpers of the seller pages other than the wizard: inquiry counts, the inquiry list's order,
// and the candidate-buyer explanations.
import type { DealState, MatchBasisKind, Side } from "../../gql/graphql";

interface DealLike {
  viewerSide: Side | null;
  listing: { id: string };
}

/** Deals per listing in which the viewer sells (a member of a party on both sides counts as seller). */
export function inquiryCounts(deals: readonly DealLike[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const deal of deals) {
    if (deal.viewerSide !== "SELLER") continue;
    counts.set(deal.listing.id, (counts.get(deal.listing.id) ?? 0) + 1);
  }
  return counts;
}

interface InquiryLike {
  id: string;
  viewerSide: Side | null;
  createdAt: string;
  state: DealState;
}

/** The seller's side of the deals, newest inquiry first (ties: by id, so the order is stable). */
export function incomingInquiries<T extends InquiryLike>(deals: readonly T[]): T[] {
  return deals
    .filter((d) => d.viewerSide === "SELLER")
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/** A cosine similarity (-1..1) as a whole percentage, or null when it is not given. */
export function similarityPercent(similarity: number | null | undefined): number | null {
  if (similarity === null || similarity === undefined || Number.isNaN(similarity)) return null;
  return Math.round(Math.max(-1, Math.min(1, similarity)) * 100);
}

interface BasisLike {
  kind: MatchBasisKind;
  id: string;
  title: string;
  similarity: number | null;
}

/** Where a basis object can be opened in the app: listings have a page; demands and patents do not. */
export function basisLink(basis: BasisLike): string | null {
  return basis.kind === "LISTING" ? `/listings/${basis.id}` : null;
}

/** The bases grouped by kind, strongest similarity first inside each kind; kinds in a fixed order. */
export function groupBases<T extends BasisLike>(bases: readonly T[]): { kind: MatchBasisKind; items: T[] }[] {
  const order: MatchBasisKind[] = ["DEMAND", "PATENT", "LISTING"];
  return order
    .map((kind) => ({
      kind,
      items: bases.filter((b) => b.kind === kind).sort((a, b) => (b.similarity ?? -2) - (a.similarity ?? -2)),
    }))
    .filter((group) => group.items.length > 0);
}

/** Shortens a long message for a table cell, at a word boundary when there is one nearby. */
export function excerpt(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max);
  const space = cut.lastIndexOf(" ");
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

export type BehaviourPart =
  | { kind: "views" | "bookmarks" | "similar"; count: number }
  | { kind: "inquired" }
  | { kind: "raw"; text: string };

/**
 * The API's English behaviour summary ("2 members viewed this listing; 1 bookmarked it; inquired about
 * it; showed interest in 3 similar listings") split into parts the page can translate; a part it does
 * not know stays as sent.
 */
export function parseBehaviour(text: string): BehaviourPart[] {
  return text
    .split(";")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part): BehaviourPart => {
      let m = part.match(/^(\d+) members? viewed this listing$/);
      if (m) return { kind: "views", count: Number(m[1]) };
      m = part.match(/^(\d+) bookmarked it$/);
      if (m) return { kind: "bookmarks", count: Number(m[1]) };
      if (part === "inquired about it") return { kind: "inquired" };
      m = part.match(/^showed interest in (\d+) similar listings?$/);
      if (m) return { kind: "similar", count: Number(m[1]) };
      return { kind: "raw", text: part };
    });
}

/** An ISO 3166 country code as a name in the reader's language (the code when unknown). */
export function countryName(code: string, localeTag: string): string {
  try {
    return new Intl.DisplayNames([localeTag], { type: "region" }).of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}
