// The listing wizard's pure logic: its state, the checks of each step, the mutation inputs built from
// the state, typed prices in major units <-> the API's minor units, and where a coach hint is fixed.
import type {
  ListingCreateInput,
  ListingUpdateInput,
  ListingWizardListingFragment,
  ListingWizardPatentFragment,
  MoneyInput,
  Sector,
  TransactionType,
} from "../../gql/graphql";
import { minorDigits, toMinor } from "../../i18n/format";

export const STEPS = ["patents", "description", "terms", "review"] as const;
export type StepId = (typeof STEPS)[number];

import { SECTORS, TRANSACTION_TYPES } from "../../api/enums";

export { SECTORS, TRANSACTION_TYPES };
export const CURRENCIES = ["KRW", "USD"] as const;
export const TRL_LEVELS = [1, 2, 3, 4, 5, 6, 7, 8, 9] as const;

// The API's limits (marketplace/actions/listings.py, marketplace/validation.py).
export const MAX_PATENTS = 50;
export const TITLE_MAX = 300;
export const SUMMARY_MAX = 10_000;
export const KNOW_HOW_MAX = 50_000;
export const BENEFIT_MAX = 500;
export const MAX_AMOUNT_MINOR = 10n ** 15n;
/** The coach asks for a summary of at least this many characters. */
export const COACH_SUMMARY_MIN = 200;

export type PatentChoice = ListingWizardPatentFragment;

export interface WizardState {
  /** The selling organisation (global id). */
  sellerId: string;
  patents: PatentChoice[];
  title: string;
  summary: string;
  knowHow: string;
  quantifiedBenefit: string;
  /** "" (not given) or "1".."9". */
  trl: string;
  sector: Sector | "";
  transactionTypes: TransactionType[];
  priceOnRequest: boolean;
  /** As typed, in major units (won, dollars). */
  priceAmount: string;
  currency: string;
}

export function emptyState(sellerId: string): WizardState {
  return {
    sellerId,
    patents: [],
    title: "",
    summary: "",
    knowHow: "",
    quantifiedBenefit: "",
    trl: "",
    sector: "",
    transactionTypes: [],
    priceOnRequest: false,
    priceAmount: "",
    currency: "KRW",
  };
}

/** Minor units back to what a person would type: 1250 USD -> "12.50", 150000000 KRW -> "150000000". */
export function fromMinor(amount: string | number, currency: string): string {
  const digits = minorDigits(currency);
  const value = BigInt(amount);
  if (digits === 0) return value.toString();
  const scale = 10n ** BigInt(digits);
  const whole = value / scale;
  const frac = (value % scale).toString().padStart(digits, "0");
  return `${whole}.${frac}`;
}

export function stateFromListing(listing: ListingWizardListingFragment): WizardState {
  const currency = listing.price?.currency ?? "KRW";
  return {
    sellerId: listing.seller.id,
    patents: listing.patents,
    title: listing.title,
    summary: listing.summary,
    knowHow: listing.knowHow ?? "",
    quantifiedBenefit: listing.quantifiedBenefit,
    trl: listing.trl ? String(listing.trl) : "",
    sector: listing.sector,
    transactionTypes: [...listing.transactionTypes],
    priceOnRequest: !listing.price,
    priceAmount: listing.price ? fromMinor(listing.price.amount, currency) : "",
    currency,
  };
}

export type ValidationCode =
  | "seller_required"
  | "patents_required"
  | "patents_too_many"
  | "title_required"
  | "title_too_long"
  | "summary_too_long"
  | "know_how_too_long"
  | "benefit_too_long"
  | "trl_range"
  | "sector_required"
  | "types_required"
  | "price_required"
  | "price_invalid"
  | "price_decimals"
  | "price_no_decimals"
  | "price_zero"
  | "price_too_large";

/** `field` is the API's input name (camelCase), so client and server errors sit at the same input. */
export interface ValidationIssue {
  field: string;
  code: ValidationCode;
}

export type PriceResult = { ok: true; money: MoneyInput } | { ok: false; code: ValidationCode };

/** A typed price ("1,500,000", "₩ 1500000", "12.50") to the API's money, or why it is not one. */
export function parsePrice(typed: string, currency: string): PriceResult {
  const clean = typed.replace(/[₩$\s,]/g, "");
  if (!clean) return { ok: false, code: "price_required" };
  if (!/^\d+(\.\d+)?$/.test(clean)) return { ok: false, code: "price_invalid" };
  const digits = minorDigits(currency);
  const frac = clean.split(".")[1] ?? "";
  if (frac.length > digits) return { ok: false, code: digits === 0 ? "price_no_decimals" : "price_decimals" };
  const minor = toMinor(clean, currency);
  if (minor === null) return { ok: false, code: "price_invalid" };
  const value = BigInt(minor);
  if (value === 0n) return { ok: false, code: "price_zero" };
  if (value > MAX_AMOUNT_MINOR) return { ok: false, code: "price_too_large" };
  return { ok: true, money: { amount: minor, currency } };
}

export function validateStep(step: StepId, state: WizardState): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const add = (field: string, code: ValidationCode) => issues.push({ field, code });
  switch (step) {
    case "patents":
      if (!state.sellerId) add("sellerId", "seller_required");
      if (state.patents.length === 0) add("patentIds", "patents_required");
      else if (state.patents.length > MAX_PATENTS) add("patentIds", "patents_too_many");
      break;
    case "description": {
      const title = state.title.trim();
      if (!title) add("title", "title_required");
      else if (title.length > TITLE_MAX) add("title", "title_too_long");
      if (state.summary.length > SUMMARY_MAX) add("summary", "summary_too_long");
      if (state.quantifiedBenefit.length > BENEFIT_MAX) add("quantifiedBenefit", "benefit_too_long");
      if (state.knowHow.length > KNOW_HOW_MAX) add("knowHow", "know_how_too_long");
      if (state.trl !== "" && !/^[1-9]$/.test(state.trl)) add("trl", "trl_range");
      if (!state.sector) add("sector", "sector_required");
      break;
    }
    case "terms":
      if (state.transactionTypes.length === 0) add("transactionTypes", "types_required");
      if (!state.priceOnRequest) {
        const price = parsePrice(state.priceAmount, state.currency);
        if (!price.ok) add("price", price.code);
      }
      break;
    case "review":
      break;
  }
  return issues;
}

/** The steps before `step` (and `step` itself when `inclusive`) whose checks pass. */
export function validSteps(state: WizardState, upTo: StepId, inclusive = true): StepId[] {
  const end = STEPS.indexOf(upTo) + (inclusive ? 1 : 0);
  return STEPS.slice(0, end).filter((step) => validateStep(step, state).length === 0);
}

/** The first step whose checks fail, or null when a listing can be created from the state. */
export function firstInvalidStep(state: WizardState): StepId | null {
  return STEPS.find((step) => validateStep(step, state).length > 0) ?? null;
}

function descriptionFields(state: WizardState) {
  return {
    title: state.title.trim(),
    summary: state.summary,
    knowHow: state.knowHow,
    quantifiedBenefit: state.quantifiedBenefit,
    ...(state.trl ? { trl: Number(state.trl) } : {}),
    ...(state.sector ? { sector: state.sector } : {}),
  };
}

/** createListing's input; the state must pass every step (see firstInvalidStep). */
export function buildCreateInput(state: WizardState): ListingCreateInput {
  const invalid = firstInvalidStep(state);
  if (invalid) throw new Error(`step ${invalid} is not complete`);
  const price = state.priceOnRequest ? null : parsePrice(state.priceAmount, state.currency);
  return {
    sellerId: state.sellerId,
    patentIds: state.patents.map((p) => p.id),
    ...descriptionFields(state),
    transactionTypes: [...state.transactionTypes],
    // Omitting the price makes the listing "price on request" (negotiable).
    ...(price?.ok ? { price: price.money } : {}),
  };
}

/**
 * updateListing's input with the fields of the given (valid) steps only, so a half-edited step never
 * overwrites what was saved. Patents change only while the listing is a draft.
 */
export function buildUpdateInput(
  state: WizardState,
  options: { isDraft: boolean; steps: readonly StepId[] },
): ListingUpdateInput {
  const input: ListingUpdateInput = {};
  if (options.steps.includes("patents") && options.isDraft) input.patentIds = state.patents.map((p) => p.id);
  if (options.steps.includes("description")) Object.assign(input, descriptionFields(state));
  if (options.steps.includes("terms")) {
    input.transactionTypes = [...state.transactionTypes];
    if (state.priceOnRequest) input.priceNegotiable = true;
    else {
      const price = parsePrice(state.priceAmount, state.currency);
      if (price.ok) input.price = price.money;
    }
  }
  return input;
}

/** The step where a field is edited: API input names (camelCase) and the coach's fields (snake_case). */
export function stepOfField(field: string | null | undefined): StepId | null {
  switch (field) {
    case "sellerId":
    case "patentIds":
    case "patents":
      return "patents";
    case "title":
    case "summary":
    case "knowHow":
    case "know_how":
    case "quantifiedBenefit":
    case "quantified_benefit":
    case "trl":
    case "sector":
      return "description";
    case "transactionTypes":
    case "transaction_types":
    case "price":
    case "price_amount":
    case "priceAmount":
    case "currency":
      return "terms";
    default:
      return null;
  }
}

export type PatentQuery =
  | { kind: "all" }
  | { kind: "number"; number: string; text: string }
  | { kind: "text"; text: string };

/**
 * What the seller typed in "Find your patents": nothing (list the organisation's patents), an
 * application number in any usual spelling (10-2018-0047429, KR1020180047429, 13/759,847), or words.
 */
export function classifyPatentQuery(typed: string): PatentQuery {
  const text = typed.trim();
  if (!text) return { kind: "all" };
  const compact = text.replace(/^(KR|US|JP|CN|EP|WO)\s*/i, "").replace(/[\s\-/.,]/g, "");
  if (/^\d{6,}$/.test(compact)) return { kind: "number", number: compact, text };
  return { kind: "text", text };
}

/** The patent's title in the reader's language when the record has one. */
export function patentTitle(patent: Pick<PatentChoice, "title" | "titles">, locale: string): string {
  return patent.titles.find((t) => t.language === locale && t.text.trim())?.text ?? patent.title;
}

export function togglePatent(selected: PatentChoice[], patent: PatentChoice, on: boolean): PatentChoice[] {
  const without = selected.filter((p) => p.id !== patent.id);
  return on ? [...without, patent] : without;
}

export function toggleType(types: TransactionType[], type: TransactionType, on: boolean): TransactionType[] {
  const set = new Set(types);
  if (on) set.add(type);
  else set.delete(type);
  // Keep the schema's order, so the input does not depend on the order of clicks.
  return TRANSACTION_TYPES.filter((t) => set.has(t));
}

/** A key for createListing's idempotencyKey; getRandomValues works outside secure contexts too. */
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export type ScoreGrade = "good" | "fair" | "weak";

export function scoreGrade(score: number): ScoreGrade {
  if (score >= 80) return "good";
  if (score >= 50) return "fair";
  return "weak";
}
