import type { DealPageDealFragment, Side } from "../../gql/graphql";

export type DealData = DealPageDealFragment;
export type MilestoneData = DealData["milestones"][number];
export type OfferData = DealData["offers"][number];

/** What the signed-in person is in this deal; the API decides, this only shapes which buttons show. */
export interface Viewer {
  side: Side | null;
  isDealBroker: boolean;
  isLeadBroker: boolean;
  isOperator: boolean;
}
