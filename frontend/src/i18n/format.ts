// Locale-aware formatting. Money comes from the API in minor units with an ISO currency; the number of
// minor digits is the currency's own (KRW has none, USD two), as Intl knows it.
export type Locale = "ko" | "en";

const tags: Record<Locale, string> = { ko: "ko-KR", en: "en-US" };

export function localeTag(locale: Locale): string {
  return tags[locale];
}

export function minorDigits(currency: string): number {
  return new Intl.NumberFormat("en-US", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

export function formatMoney(minor: string | number | null | undefined, currency: string, locale: Locale): string {
  if (minor === null || minor === undefined || minor === "") return "—";
  const digits = minorDigits(currency);
  const major = Number(minor) / 10 ** digits;
  return new Intl.NumberFormat(tags[locale], {
    style: "currency",
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(major);
}

/** Major units typed by a person (e.g. "1,500,000" or "12.50") to the API's minor units. */
export function toMinor(major: string, currency: string): string | null {
  const clean = major.replace(/[,\s]/g, "");
  if (!/^\d+(\.\d+)?$/.test(clean)) return null;
  const digits = minorDigits(currency);
  const [whole, frac = ""] = clean.split(".");
  if (frac.length > digits) return null;
  return (BigInt(whole) * 10n ** BigInt(digits) + BigInt(frac.padEnd(digits, "0") || "0")).toString();
}

export function formatNumber(value: number, locale: Locale): string {
  return new Intl.NumberFormat(tags[locale]).format(value);
}

export function formatDate(iso: string | null | undefined, locale: Locale): string {
  if (!iso) return "—";
  const date = iso.length === 10 ? new Date(`${iso}T00:00:00Z`) : new Date(iso);
  return new Intl.DateTimeFormat(tags[locale], { year: "numeric", month: "short", day: "numeric", timeZone: iso.length === 10 ? "UTC" : undefined }).format(date);
}

export function formatDateTime(iso: string | null | undefined, locale: Locale): string {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(tags[locale], { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

export function formatMonth(yyyyMm: string, locale: Locale): string {
  const [y, m] = yyyyMm.split("-").map(Number);
  return new Intl.DateTimeFormat(tags[locale], { year: "numeric", month: "short", timeZone: "UTC" }).format(
    new Date(Date.UTC(y, m - 1, 1)),
  );
}
