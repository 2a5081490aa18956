// "Why matched": the API explains a recommendation in English sentences (MatchExplanation.reasons) made
// from a few fixed patterns. Known patterns become catalogue keys with their values (titles, terms, IPC
// codes and numbers stay as sent), so the explanation reads in the page's language; an unknown sentence
// is shown as sent, marked as English.
import type { MessageKey } from "../../i18n";

export type WhyLine =
  | { key: MessageKey; vars: Record<string, string | number> }
  | { raw: string };

const patterns: { re: RegExp; line: (m: RegExpMatchArray) => WhyLine }[] = [
  { re: /^matches (?:the|your) demand “(.*)”$/s, line: (m) => ({ key: "buyer.why.demand", vars: { title: m[1] } }) },
  {
    re: /^similar to “(.*)” you (viewed|bookmarked|inquired about)$/s,
    line: (m) => ({
      key:
        m[2] === "viewed"
          ? "buyer.why.similarViewed"
          : m[2] === "bookmarked"
            ? "buyer.why.similarBookmarked"
            : "buyer.why.similarInquired",
      vars: { title: m[1] },
    }),
  },
  { re: /^similar to “(.*)”$/s, line: (m) => ({ key: "buyer.why.similarTo", vars: { title: m[1] } }) },
  { re: /^similar to listings you showed interest in$/, line: () => ({ key: "buyer.why.similarInterest", vars: {} }) },
  { re: /^new in your sector \(.*\)$/, line: () => ({ key: "buyer.why.newInSector", vars: {} }) },
  { re: /^new on the marketplace$/, line: () => ({ key: "buyer.why.newOnMarket", vars: {} }) },
  { re: /^popular in your sector$/, line: () => ({ key: "buyer.why.popularInSector", vars: {} }) },
  { re: /^popular with buyers$/, line: () => ({ key: "buyer.why.popular", vars: {} }) },
  { re: /^matched terms: (.*)$/s, line: (m) => ({ key: "buyer.why.terms", vars: { terms: m[1] } }) },
  { re: /^shared IPC classes: (.*)$/s, line: (m) => ({ key: "buyer.why.ipc", vars: { codes: m[1] } }) },
  {
    re: /^semantic similarity (-?\d+(?:\.\d+)?)$/,
    line: (m) => ({ key: "buyer.why.similarity", vars: { percent: Math.round(Number(m[1]) * 100) } }),
  },
];

/** One API reason as a line to translate (or to show as sent). */
export function whyLine(reason: string): WhyLine {
  const text = reason.trim();
  for (const { re, line } of patterns) {
    const m = text.match(re);
    if (m) return line(m);
  }
  return { raw: text };
}

/** All reasons, in the API's order, without repeats. */
export function whyLines(reasons: readonly string[]): WhyLine[] {
  const seen = new Set<string>();
  const out: WhyLine[] = [];
  for (const reason of reasons) {
    const key = reason.trim();
    if (!key || seen.has(key)) continue;
    seen.add(key);
    out.push(whyLine(key));
  }
  return out;
}
