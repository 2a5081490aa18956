// The deals list's pure parts: whom a deal is with, seen from my side.
import type { DealState, Side } from "../../gql/graphql";

export interface DealParties {
  viewerSide: Side | null;
  buyerAlias: string;
  buyer: { name: string } | null;
  listing: { seller: { name: string } };
}

/** The buyer as I may know them: the name, or the alias while the broker relays (buyer is null). */
export function buyerLabel(deal: Pick<DealParties, "buyer" | "buyerAlias">): string {
  return deal.buyer?.name ?? deal.buyerAlias;
}

/**
 * Whom the deal is with: the buyer for the seller's side, the seller for the buyer's side; a broker
 * (no side) deals with both.
 */
export function counterparty(
  deal: DealParties,
): { kind: "one"; name: string } | { kind: "both"; seller: string; buyer: string } {
  if (deal.viewerSide === "SELLER") return { kind: "one", name: buyerLabel(deal) };
  if (deal.viewerSide === "BUYER") return { kind: "one", name: deal.listing.seller.name };
  return { kind: "both", seller: deal.listing.seller.name, buyer: buyerLabel(deal) };
}

/** States where nothing more happens. */
export const FINISHED_STATES: readonly DealState[] = ["SETTLED", "CANCELLED", "RESOLVED"];

/** assignBrokers is refused (INVALID_STATE) once a deal is settled or cancelled. */
export function brokersEditable(state: DealState): boolean {
  return state !== "SETTLED" && state !== "CANCELLED";
}
