// The "Post a demand" form's state to postDemand's DemandInput, with the checks worth making before
// asking the API (which checks everything again and answers typed errors on the same field names).
import type { DemandInput, Sector, TransactionType } from "../../gql/graphql";
import { toMinor } from "../../i18n/format";

export const CURRENCIES = ["KRW", "USD", "EUR", "JPY", "CNY", "GBP"] as const;

export interface DemandFormState {
  buyerId: string;
  title: string;
  description: string;
  /** "" = not given (the API files it under OTHER). */
  sector: Sector | "";
  /** "" = any. */
  transactionType: TransactionType | "";
  /** Major units as typed, "" = no budget. */
  budget: string;
  currency: string;
  /** Comma- or line-separated. */
  keywords: string;
  ipcInterests: string;
  /** YYYY-MM-DD or "". */
  replyDeadline: string;
}

export function emptyDemandForm(buyerId = ""): DemandFormState {
  return {
    buyerId,
    title: "",
    description: "",
    sector: "",
    transactionType: "",
    budget: "",
    currency: "KRW",
    keywords: "",
    ipcInterests: "",
    replyDeadline: "",
  };
}

/** "a, b;c\n a" -> ["a", "b", "c"]: trimmed, no empties, no repeats (first spelling wins). */
export function splitList(text: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const part of text.split(/[,;\n]/)) {
    const word = part.trim();
    if (word && !seen.has(word.toLowerCase())) {
      seen.add(word.toLowerCase());
      out.push(word);
    }
  }
  return out;
}

export type DemandFormProblem =
  | { field: "buyerId" | "title" | "description"; code: "REQUIRED" }
  | { field: "budget"; code: "INVALID_AMOUNT" }
  | { field: "replyDeadline"; code: "DATE_IN_PAST" };

/** Today in the browser's time zone, as YYYY-MM-DD (what a date input holds). */
export function localToday(now: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

export function buildDemandInput(
  form: DemandFormState,
  today: string = localToday(),
): { ok: true; input: DemandInput } | { ok: false; problems: DemandFormProblem[] } {
  const problems: DemandFormProblem[] = [];
  if (!form.buyerId) problems.push({ field: "buyerId", code: "REQUIRED" });
  if (!form.title.trim()) problems.push({ field: "title", code: "REQUIRED" });
  if (!form.description.trim()) problems.push({ field: "description", code: "REQUIRED" });
  let budget: DemandInput["budget"] = null;
  if (form.budget.trim()) {
    const minor = toMinor(form.budget, form.currency);
    if (minor === null || BigInt(minor) <= 0n) problems.push({ field: "budget", code: "INVALID_AMOUNT" });
    else budget = { amount: minor, currency: form.currency };
  }
  // ISO dates compare as strings; the API checks again in its own time zone.
  if (form.replyDeadline && form.replyDeadline < today) problems.push({ field: "replyDeadline", code: "DATE_IN_PAST" });
  if (problems.length) return { ok: false, problems };
  const input: DemandInput = {
    buyerId: form.buyerId,
    title: form.title.trim(),
    description: form.description.trim(),
    keywords: splitList(form.keywords),
    ipcInterests: splitList(form.ipcInterests).map((code) => code.toUpperCase()),
    budget,
    transactionType: form.transactionType || null,
    sector: form.sector || null,
    replyDeadline: form.replyDeadline || null,
  };
  return { ok: true, input };
}
