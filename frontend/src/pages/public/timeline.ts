// A patent's life as an ordered list of dated steps (filed, published, registered, events, next fee, expiry,
// with today among them) and the time left, as years, months and days. Pure, so it is tested exactly.

export type StepKind = "application" | "publication" | "registration" | "event" | "feeDue" | "expiry" | "today";

export interface TimelineStep {
  kind: StepKind;
  /** YYYY-MM-DD */
  date: string;
  /** Before today (today itself is neither past nor future). */
  past: boolean;
  /** For "event": the API's kind (filed, fee_paid, lapsed…) and description. */
  eventKind?: string;
  description?: string;
  /** For "expiry": computed from office rules, not recorded. */
  computed?: boolean;
}

export interface PatentDates {
  applicationDate?: string | null;
  publicationDate?: string | null;
  registrationDate?: string | null;
  life: { expiryDate?: string | null; expiryComputed?: boolean; nextFeeDue?: string | null };
  events?: readonly { date: string; kind: string; description: string }[];
}

// Same-day ties: the order in which things happen in a patent's life.
const ORDER: Record<StepKind, number> = {
  application: 0,
  publication: 1,
  registration: 2,
  event: 3,
  today: 4,
  feeDue: 5,
  expiry: 6,
};

// Events that repeat a date the patent already carries.
const SAME_AS: Record<string, StepKind> = {
  filed: "application",
  application: "application",
  published: "publication",
  publication: "publication",
  registered: "registration",
  granted: "registration",
  registration: "registration",
  expired: "expiry",
};

/** Today in the viewer's calendar, as YYYY-MM-DD. */
export function isoToday(now: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

export function buildTimeline(patent: PatentDates, today: string): TimelineStep[] {
  const steps: TimelineStep[] = [];
  const add = (kind: StepKind, date: string | null | undefined, extra: Partial<TimelineStep> = {}) => {
    if (date) steps.push({ kind, date, past: date < today, ...extra });
  };
  add("application", patent.applicationDate);
  add("publication", patent.publicationDate);
  add("registration", patent.registrationDate);
  for (const event of patent.events ?? []) {
    const same = SAME_AS[event.kind.toLowerCase()];
    if (same && steps.some((s) => s.kind === same && s.date === event.date)) continue;
    if (same === "expiry" && patent.life.expiryDate === event.date) continue;
    add("event", event.date, { eventKind: event.kind, description: event.description });
  }
  // A fee falls due only while the patent lives.
  if (patent.life.nextFeeDue && (!patent.life.expiryDate || patent.life.nextFeeDue <= patent.life.expiryDate)) {
    add("feeDue", patent.life.nextFeeDue);
  }
  add("expiry", patent.life.expiryDate, { computed: !!patent.life.expiryComputed });
  steps.push({ kind: "today", date: today, past: false });
  return steps.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : ORDER[a.kind] - ORDER[b.kind]));
}

export interface Span {
  years: number;
  months: number;
  days: number;
}

function parse(iso: string): [number, number, number] {
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  return [y, m, d];
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** `iso` plus whole months, the day clamped to the target month's length (Jan 31 + 1 month = Feb 28/29). */
function addMonths([y, m, d]: [number, number, number], months: number): number {
  const index = y * 12 + (m - 1) + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  return Date.UTC(year, month - 1, Math.min(d, daysInMonth(year, month)));
}

const DAY_MS = 86_400_000;

/** Whole years, months and days from `from` to `to` (calendar arithmetic); zero when `to` is not later. */
export function calendarSpan(from: string, to: string): Span {
  if (to <= from) return { years: 0, months: 0, days: 0 };
  const start = parse(from);
  const [ty, tm, td] = parse(to);
  const end = Date.UTC(ty, tm - 1, td);
  let months = (ty - start[0]) * 12 + (tm - start[1]);
  if (addMonths(start, months) > end) months -= 1;
  const days = Math.round((end - addMonths(start, months)) / DAY_MS);
  return { years: Math.floor(months / 12), months: months % 12, days };
}

/**
 * Time left: from the expiry date when there is one (exact), else from the API's remaining days
 * (approximate months of 30.44 days); null when unknown.
 */
export function remainingSpan(
  life: { expiryDate?: string | null; remainingDays?: number | null },
  today: string,
): Span | null {
  if (life.expiryDate) return calendarSpan(today, life.expiryDate);
  if (life.remainingDays === null || life.remainingDays === undefined) return null;
  const days = Math.max(0, life.remainingDays);
  const months = Math.floor(days / 30.44);
  return { years: Math.floor(months / 12), months: months % 12, days: Math.round(days - months * 30.44) };
}

/** Share of the term elapsed (0 to 1) from application to expiry; null without both dates. */
export function elapsedShare(start: string | null | undefined, end: string | null | undefined, today: string): number | null {
  if (!start || !end || end <= start) return null;
  const t = (iso: string) => Date.UTC(...(parse(iso).map((n, i) => (i === 1 ? n - 1 : n)) as [number, number, number]));
  const share = (t(today) - t(start)) / (t(end) - t(start));
  return Math.min(1, Math.max(0, share));
}
