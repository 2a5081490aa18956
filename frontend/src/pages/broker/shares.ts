// Commission shares: people type percentages, the API takes basis points (1 % = 100 bp) that sum to
// 10,000 with exactly one lead broker. Pure functions, so the rules are unit-tested.

export const TOTAL_BASIS_POINTS = 10_000;

/** "70", "33.33", "12,5", " 5 % " -> basis points; null when not a percentage with at most 2 decimals. */
export function percentToBasisPoints(text: string): number | null {
  const clean = text.trim().replace(/\s*%$/, "").replace(",", ".").trim();
  if (!/^\d{1,3}(\.\d{1,2})?$/.test(clean)) return null;
  const [whole, frac = ""] = clean.split(".");
  const bp = Number(whole) * 100 + Number(frac.padEnd(2, "0"));
  return bp <= TOTAL_BASIS_POINTS ? bp : null;
}

/** Basis points -> the percentage as typed back into an input: 7000 -> "70", 3333 -> "33.33", 50 -> "0.5". */
export function basisPointsToPercent(bp: number): string {
  const whole = Math.trunc(bp / 100);
  const frac = String(Math.abs(bp % 100)).padStart(2, "0").replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : String(whole);
}

/** n brokers, shares as equal as basis points allow, the remainder to the first ones: 3 -> 3334, 3333, 3333. */
export function splitEvenly(n: number): number[] {
  if (n <= 0) return [];
  const base = Math.floor(TOTAL_BASIS_POINTS / n);
  const rest = TOTAL_BASIS_POINTS - base * n;
  return Array.from({ length: n }, (_, i) => base + (i < rest ? 1 : 0));
}

export interface ShareRow {
  /** A Broker global id; "" while none is chosen. */
  brokerId: string;
  /** The percentage as typed. */
  percent: string;
  isLead: boolean;
}

export interface BrokerShare {
  brokerId: string;
  shareBasisPoints: number;
  isLead: boolean;
}

/** Client-side problems: the same codes the API uses where there is one (translated by useErrorText). */
export type ShareProblem =
  | { code: "NO_BROKERS" }
  | { code: "BROKER_REQUIRED"; row: number }
  | { code: "DUPLICATE_BROKER"; row: number }
  | { code: "INVALID_PERCENT"; row: number }
  | { code: "SHARES_MUST_SUM_TO_100"; totalBasisPoints: number }
  | { code: "ONE_LEAD_BROKER" };

/** Sum of the rows' valid percentages, in basis points (invalid ones count as 0). */
export function totalBasisPoints(rows: readonly ShareRow[]): number {
  return rows.reduce((sum, row) => sum + (percentToBasisPoints(row.percent) ?? 0), 0);
}

/** The rows as assignBrokers input, or every problem found (checked in row order). */
export function validateShares(
  rows: readonly ShareRow[],
): { ok: true; shares: BrokerShare[] } | { ok: false; problems: ShareProblem[] } {
  const problems: ShareProblem[] = [];
  if (!rows.length) return { ok: false, problems: [{ code: "NO_BROKERS" }] };
  const seen = new Set<string>();
  const shares: BrokerShare[] = [];
  rows.forEach((row, i) => {
    if (!row.brokerId) problems.push({ code: "BROKER_REQUIRED", row: i });
    else if (seen.has(row.brokerId)) problems.push({ code: "DUPLICATE_BROKER", row: i });
    seen.add(row.brokerId);
    const bp = percentToBasisPoints(row.percent);
    if (bp === null || bp <= 0) problems.push({ code: "INVALID_PERCENT", row: i });
    shares.push({ brokerId: row.brokerId, shareBasisPoints: bp ?? 0, isLead: row.isLead });
  });
  const total = shares.reduce((sum, s) => sum + s.shareBasisPoints, 0);
  if (!problems.some((p) => p.code === "INVALID_PERCENT") && total !== TOTAL_BASIS_POINTS) {
    problems.push({ code: "SHARES_MUST_SUM_TO_100", totalBasisPoints: total });
  }
  if (rows.filter((r) => r.isLead).length !== 1) problems.push({ code: "ONE_LEAD_BROKER" });
  return problems.length ? { ok: false, problems } : { ok: true, shares };
}

/** The deal's current brokers as editable rows. */
export function rowsFromDeal(
  brokers: readonly { broker: { id: string } | null; isLead: boolean; shareBasisPoints: number }[],
): ShareRow[] {
  return brokers.map((b) => ({
    brokerId: b.broker?.id ?? "",
    percent: basisPointsToPercent(b.shareBasisPoints),
    isLead: b.isLead,
  }));
}
