// The API's enum values as runtime lists for selects. Records keyed by the generated union types, so
// `tsc` fails when the schema gains or loses a value.
import type { DealState, Sector, TransactionType } from "../gql/graphql";

const sectors: Record<Sector, true> = {
  SEMICONDUCTORS: true,
  DISPLAYS: true,
  SECONDARY_BATTERIES: true,
  ADVANCED_MOBILITY: true,
  NEXT_GEN_NUCLEAR: true,
  ADVANCED_BIOTECH: true,
  AEROSPACE_MARINE: true,
  HYDROGEN: true,
  CYBERSECURITY: true,
  AI: true,
  NEXT_GEN_COMMUNICATIONS: true,
  ADVANCED_ROBOTICS: true,
  QUANTUM: true,
  OTHER: true,
};

const transactionTypes: Record<TransactionType, true> = {
  ASSIGNMENT: true,
  EXCLUSIVE_LICENCE: true,
  NON_EXCLUSIVE_LICENCE: true,
  OPTION: true,
  JOINT_DEVELOPMENT: true,
};

const dealStates: Record<DealState, true> = {
  INQUIRY: true,
  NDA_PENDING: true,
  NDA_SIGNED: true,
  NEGOTIATING: true,
  AGREED: true,
  IN_ESCROW: true,
  SETTLED: true,
  CANCELLED: true,
  DISPUTED: true,
  RESOLVED: true,
};

export const SECTORS = Object.keys(sectors) as Sector[];
export const TRANSACTION_TYPES = Object.keys(transactionTypes) as TransactionType[];
/** In the order a deal moves through them. */
export const DEAL_STATES = Object.keys(dealStates) as DealState[];

export function isDealState(value: string): value is DealState {
  return Object.prototype.hasOwnProperty.call(dealStates, value);
}
