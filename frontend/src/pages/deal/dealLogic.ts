// Pure helpers of the deal page: the workflow's progress, offer and milestone forms to mutation inputs,
// broker shares, global ids, and the multipart body of a milestone deposit. No React, no network.
import type { ApiError } from "../../components/FormErrors";
import type {
  BrokerShareInput,
  DealState,
  MilestoneSpecInput,
  MilestoneState,
  OfferInput,
  Side,
  TransactionType,
} from "../../gql/graphql";
import { minorDigits, toMinor } from "../../i18n/format";

// --- the workflow ------------------------------------------------------------------------------------

export const WORKFLOW_STEPS = ["INQUIRY", "NDA", "NEGOTIATION", "AGREED", "ESCROW", "SETTLED"] as const;
export type WorkflowStep = (typeof WORKFLOW_STEPS)[number];
export type StepStatus = "done" | "current" | "upcoming";

export interface WorkflowProgress {
  steps: { step: WorkflowStep; status: StepStatus }[];
  /** The deal left the normal path: cancelled (it stops) or disputed (escrow is frozen). */
  halted: "cancelled" | "disputed" | null;
}

/** Where each state stands on the path; SETTLED and RESOLVED complete it. */
const STATE_STEP: Record<DealState, number> = {
  INQUIRY: 0,
  NDA_PENDING: 1,
  NDA_SIGNED: 2, // the NDA is done: negotiation may start
  NEGOTIATING: 2,
  AGREED: 3,
  IN_ESCROW: 4,
  DISPUTED: 4,
  SETTLED: 6,
  RESOLVED: 6,
  CANCELLED: -1,
};

export function workflowProgress(state: DealState): WorkflowProgress {
  const at = STATE_STEP[state];
  const steps = WORKFLOW_STEPS.map((step, i) => ({
    step,
    status: (at < 0 ? "upcoming" : i < at ? "done" : i === at ? "current" : "upcoming") as StepStatus,
  }));
  const halted = state === "CANCELLED" ? "cancelled" : state === "DISPUTED" ? "disputed" : null;
  return { steps, halted };
}

export const LIVE_STATES: readonly DealState[] = [
  "INQUIRY",
  "NDA_PENDING",
  "NDA_SIGNED",
  "NEGOTIATING",
  "AGREED",
  "IN_ESCROW",
  "DISPUTED",
];

/**
 * How often to reload the deal (ms), or null for never. Fast while a payment is in flight (the gateway's
 * webhook marks the milestone FUNDED on the server), steady while money moves, slow while the other
 * side may act, never once the deal is over.
 */
export function pollInterval(state: DealState, paymentInFlight: boolean): number | null {
  if (!LIVE_STATES.includes(state)) return null;
  if (paymentInFlight) return 2000;
  if (state === "AGREED" || state === "IN_ESCROW" || state === "DISPUTED") return 3000;
  return 5000;
}

// --- ids -----------------------------------------------------------------------------------------------

/** The primary key inside a Relay global id ("Milestone:12" in base64), or null for another type. */
export function numericId(globalId: string, type: string): number | null {
  let decoded: string;
  try {
    decoded = atob(globalId);
  } catch {
    return null;
  }
  const [kind, raw] = decoded.split(":");
  if (kind !== type || !/^\d+$/.test(raw ?? "")) return null;
  const pk = Number(raw);
  return pk > 0 ? pk : null;
}

export function newIdempotencyKey(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
}

// --- numbers typed by people ---------------------------------------------------------------------------

/** "2.5" (%) -> 250 basis points; null unless 0..100 with at most two decimals. */
export function percentToBasisPoints(percent: string): number | null {
  const clean = percent.trim().replace(",", ".");
  if (!/^\d+(\.\d{1,2})?$/.test(clean)) return null;
  const [whole, frac = ""] = clean.split(".");
  const bp = Number(whole) * 100 + Number(frac.padEnd(2, "0"));
  return bp <= 10_000 ? bp : null;
}

/** 250 -> "2.5", 10000 -> "100". */
export function basisPointsToPercent(bp: number): string {
  const whole = Math.floor(bp / 100);
  const frac = String(bp % 100).padStart(2, "0").replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : String(whole);
}

/** Minor units to what a person would type back (no grouping): 1250 USD -> "12.50", 1500000 KRW -> "1500000". */
export function minorToMajorInput(minor: string | number, currency: string): string {
  const digits = minorDigits(currency);
  const text = BigInt(minor).toString();
  if (digits === 0) return text;
  const padded = text.padStart(digits + 1, "0");
  return `${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
}

// --- offers --------------------------------------------------------------------------------------------

export const CURRENCIES = ["KRW", "USD", "EUR", "JPY", "CNY", "GBP"] as const;
export const TRANSACTION_TYPES: readonly TransactionType[] = [
  "ASSIGNMENT",
  "EXCLUSIVE_LICENCE",
  "NON_EXCLUSIVE_LICENCE",
  "OPTION",
  "JOINT_DEVELOPMENT",
];

export interface OfferForm {
  transactionType: TransactionType;
  /** Major units as typed: "1,500,000", "12.50". */
  amount: string;
  currency: string;
  /** Percent as typed: "3", "2.5". */
  royaltyPercent: string;
  /** Months as typed; empty for no fixed term. */
  termMonths: string;
  territory: string;
  exclusive: boolean;
  note: string;
  /** The version this form counters, when it does. */
  countersVersion: number | null;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; errors: ApiError[] };

/** The offer form to makeOffer's input; errors name the API's fields (upfront, royaltyBasisPoints…). */
export function offerFormToInput(form: OfferForm): Checked<OfferInput> {
  const errors: ApiError[] = [];
  const amount = toMinor(form.amount, form.currency);
  if (amount === null || BigInt(amount) <= 0n) {
    errors.push({ field: "upfront", code: "INVALID", message: "Give the amount in the currency's units." });
  }
  const royalty = form.royaltyPercent.trim() === "" ? 0 : percentToBasisPoints(form.royaltyPercent);
  if (royalty === null) {
    errors.push({ field: "royaltyBasisPoints", code: "INVALID", message: "Royalty is 0 to 100%." });
  }
  let termMonths: number | null = null;
  if (form.termMonths.trim() !== "") {
    const n = Number(form.termMonths.trim());
    if (!Number.isInteger(n) || n < 1 || n > 600) {
      errors.push({ field: "termMonths", code: "INVALID", message: "Term is 1 to 600 months." });
    } else {
      termMonths = n;
    }
  }
  if (form.territory.length > 100) {
    errors.push({ field: "territory", code: "INVALID", message: "At most 100 characters." });
  }
  if (form.note.length > 5000) {
    errors.push({ field: "note", code: "INVALID", message: "At most 5,000 characters." });
  }
  if (errors.length) return { ok: false, errors };
  const input: OfferInput = {
    transactionType: form.transactionType,
    upfront: { amount: amount as string, currency: form.currency },
    royaltyBasisPoints: royalty as number,
    termMonths,
    territory: form.territory.trim(),
    exclusive: form.exclusive,
    note: form.note.trim(),
  };
  if (form.countersVersion !== null) input.countersVersion = form.countersVersion;
  return { ok: true, value: input };
}

export interface OfferTerms {
  version: number;
  transactionType: TransactionType;
  upfront: { amount: string | number; currency: string };
  royaltyBasisPoints: number;
  termMonths: number | null;
  territory: string;
  exclusive: boolean;
}

/** A counter-offer's form, prefilled with the terms it answers. */
export function counterForm(offer: OfferTerms): OfferForm {
  return {
    transactionType: offer.transactionType,
    amount: minorToMajorInput(offer.upfront.amount, offer.upfront.currency),
    currency: offer.upfront.currency,
    royaltyPercent: basisPointsToPercent(offer.royaltyBasisPoints),
    termMonths: offer.termMonths === null ? "" : String(offer.termMonths),
    territory: offer.territory,
    exclusive: offer.exclusive,
    note: "",
    countersVersion: offer.version,
  };
}

/** Only the latest version can be accepted, once per side, while negotiating. */
export function canAcceptLatest(
  state: DealState,
  side: Side | null,
  latest: { acceptances: { side: Side }[] } | undefined,
): boolean {
  return state === "NEGOTIATING" && side !== null && !!latest && !latest.acceptances.some((a) => a.side === side);
}

// --- milestones ----------------------------------------------------------------------------------------

export interface MilestoneRow {
  title: string;
  /** Major units as typed. */
  amount: string;
  deliverables: string;
  /** Days as typed. */
  inspectionDays: string;
}

export interface MilestoneSum {
  /** Sum of the rows that parse, in minor units. */
  total: bigint;
  /** Rows whose amount does not parse or is not positive. */
  invalid: number[];
  /** total minus the agreed amount (negative: short). */
  difference: bigint;
}

export function sumMilestones(rows: MilestoneRow[], agreed: { amount: string | number; currency: string }): MilestoneSum {
  let total = 0n;
  const invalid: number[] = [];
  rows.forEach((row, i) => {
    const minor = toMinor(row.amount, agreed.currency);
    if (minor === null || BigInt(minor) <= 0n) invalid.push(i);
    else total += BigInt(minor);
  });
  return { total, invalid, difference: total - BigInt(agreed.amount) };
}

/** The rows to setMilestones' input: each valid, and together exactly the agreed upfront amount. */
export function milestonesToInput(
  rows: MilestoneRow[],
  agreed: { amount: string | number; currency: string },
): Checked<MilestoneSpecInput[]> {
  const errors: ApiError[] = [];
  if (rows.length === 0) errors.push({ field: "milestones", code: "INVALID", message: "Give at least one milestone." });
  rows.forEach((row, i) => {
    if (!row.title.trim()) errors.push({ field: `title.${i}`, code: "INVALID", message: "Every milestone needs a title." });
    const days = row.inspectionDays.trim() === "" ? 14 : Number(row.inspectionDays.trim());
    if (!Number.isInteger(days) || days < 0 || days > 90) {
      errors.push({ field: `inspectionDays.${i}`, code: "INVALID", message: "Inspection lasts 0 to 90 days." });
    }
  });
  const sum = sumMilestones(rows, agreed);
  for (const i of sum.invalid) {
    errors.push({ field: `amount.${i}`, code: "INVALID", message: "Give the amount in the currency's units." });
  }
  if (!sum.invalid.length && rows.length && sum.difference !== 0n) {
    errors.push({
      field: "milestones",
      code: "MILESTONES_DO_NOT_MATCH_OFFER",
      message: "The milestones must add up to the agreed price.",
    });
  }
  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    value: rows.map((row) => ({
      title: row.title.trim(),
      amount: toMinor(row.amount, agreed.currency) as string,
      deliverables: row.deliverables.trim(),
      inspectionDays: row.inspectionDays.trim() === "" ? 14 : Number(row.inspectionDays.trim()),
    })),
  };
}

/** setMilestones replaces the plan only while no milestone has been paid into. */
export function milestonesReplaceable(milestones: { state: MilestoneState; escrow: { funded: { amount: string | number } } }[]): boolean {
  return milestones.every((m) => m.state === "PENDING" && BigInt(m.escrow.funded.amount) === 0n);
}

// --- brokers -------------------------------------------------------------------------------------------

export interface BrokerRow {
  brokerId: string;
  /** Percent as typed. */
  sharePercent: string;
  isLead: boolean;
}

/** Rows to assignBrokers' input: shares in % become basis points summing to 10,000, one lead. */
export function brokerRowsToInput(rows: BrokerRow[]): Checked<BrokerShareInput[]> {
  const errors: ApiError[] = [];
  const shares = rows.map((r) => percentToBasisPoints(r.sharePercent));
  shares.forEach((bp, i) => {
    if (bp === null || bp <= 0) errors.push({ field: `share.${i}`, code: "INVALID", message: "A share is above 0 and at most 100%." });
  });
  if (new Set(rows.map((r) => r.brokerId)).size !== rows.length) {
    errors.push({ field: "brokerId", code: "INVALID", message: "Each broker once." });
  }
  if (!errors.length && rows.length && shares.reduce<number>((a, b) => a + (b ?? 0), 0) !== 10_000) {
    errors.push({ field: "brokers", code: "SHARES_MUST_SUM_TO_100", message: "Shares must add up to 100%." });
  }
  if (rows.length && rows.filter((r) => r.isLead).length !== 1) {
    errors.push({ field: "brokers", code: "ONE_LEAD_BROKER", message: "Exactly one lead broker." });
  }
  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    value: rows.map((r, i) => ({ brokerId: r.brokerId, shareBasisPoints: shares[i] as number, isLead: r.isLead })),
  };
}

// --- deposits ------------------------------------------------------------------------------------------

export interface MilestoneDeposit {
  /** Numeric ids, as POST /escrow/deposits/ takes them. */
  organizationId: number;
  dealId: number;
  milestoneId: number;
  title: string;
  description: string;
  files: File[];
}

/** The multipart body of a milestone deposit (escrow/views.py create_deposit). */
export function depositFormData(deposit: MilestoneDeposit): FormData {
  const body = new FormData();
  body.append("organization", String(deposit.organizationId));
  body.append("purpose", "milestone");
  body.append("title", deposit.title);
  body.append("description", deposit.description);
  body.append("deal", String(deposit.dealId));
  body.append("milestone", String(deposit.milestoneId));
  for (const file of deposit.files) body.append("files", file, file.name);
  return body;
}

export type DepositResult = { ok: true; id: number } | { ok: false; error: ApiError };

/** Upload a milestone deposit with the session cookie and the CSRF header; errors as the API's. */
export async function uploadDeposit(
  deposit: MilestoneDeposit,
  csrfToken: string,
  fetchImpl: typeof fetch = fetch,
): Promise<DepositResult> {
  let response: Response;
  try {
    response = await fetchImpl("/escrow/deposits/", {
      method: "POST",
      body: depositFormData(deposit),
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken },
    });
  } catch (error) {
    return { ok: false, error: { code: "NETWORK", message: String(error) } };
  }
  let body: { id?: number; code?: string; message?: string; field?: string | null } = {};
  try {
    body = await response.json();
  } catch {
    // not JSON: a proxy's page
  }
  if (response.ok && typeof body.id === "number") return { ok: true, id: body.id };
  return {
    ok: false,
    error: {
      code: body.code ?? (response.status === 413 ? "TOO_LARGE" : "HTTP_" + response.status),
      message: body.message ?? response.statusText,
      field: body.field ?? null,
    },
  };
}
