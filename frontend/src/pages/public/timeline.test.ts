import { describe, expect, it } from "vitest";
import { buildTimeline, calendarSpan, elapsedShare, isoToday, remainingSpan } from "./timeline";

describe("patent timeline", () => {
  const patent = {
    applicationDate: "2017-07-18",
    publicationDate: "2019-01-28",
    registrationDate: "2019-03-14",
    life: { expiryDate: "2037-07-18", expiryComputed: false, nextFeeDue: "2027-03-14" },
    events: [
      { date: "2017-07-18", kind: "filed", description: "Application" },
      { date: "2020-03-14", kind: "fee_paid", description: "4th year" },
    ],
  };

  it("orders the steps by date, today among them, without repeating the filing", () => {
    const steps = buildTimeline(patent, "2026-11-25");
    expect(steps.map((s) => [s.kind, s.date, s.past])).toEqual([
      ["application", "2017-07-18", true],
      ["publication", "2019-01-28", true],
      ["registration", "2019-03-14", true],
      ["event", "2020-03-14", true],
      ["today", "2026-11-25", false],
      ["feeDue", "2027-03-14", false],
      ["expiry", "2037-07-18", false],
    ]);
    expect(steps[3].eventKind).toBe("fee_paid");
  });

  it("breaks same-day ties in life order and drops a fee due after expiry", () => {
    const steps = buildTimeline(
      { applicationDate: "2020-01-01", registrationDate: "2020-01-01", life: { expiryDate: "2021-01-01", nextFeeDue: "2022-01-01", expiryComputed: true } },
      "2021-01-01",
    );
    expect(steps.map((s) => s.kind)).toEqual(["application", "registration", "today", "expiry"]);
    expect(steps[3]).toMatchObject({ computed: true, past: false });
  });

  it("computes the remaining life in calendar years, months and days", () => {
    expect(calendarSpan("2026-11-25", "2037-07-18")).toEqual({ years: 10, months: 7, days: 23 });
    expect(calendarSpan("2024-01-31", "2024-03-01")).toEqual({ years: 0, months: 1, days: 1 });
    expect(calendarSpan("2026-03-15", "2026-03-15")).toEqual({ years: 0, months: 0, days: 0 });
    expect(calendarSpan("2026-03-15", "2020-01-01")).toEqual({ years: 0, months: 0, days: 0 });
    expect(remainingSpan({ expiryDate: "2027-01-01", remainingDays: 37 }, "2026-11-25")).toEqual({ years: 0, months: 1, days: 7 });
    expect(remainingSpan({ expiryDate: null, remainingDays: 400 }, "2026-11-25")).toEqual({ years: 1, months: 1, days: 4 });
    expect(remainingSpan({ expiryDate: null, remainingDays: null }, "2026-11-25")).toBeNull();
  });

  it("measures the elapsed share of the term", () => {
    expect(elapsedShare("2020-01-01", "2030-01-01", "2025-01-01")).toBeCloseTo(0.5002, 3);
    expect(elapsedShare("2020-01-01", "2030-01-01", "2031-01-01")).toBe(1);
    expect(elapsedShare("2020-01-01", null, "2025-01-01")).toBeNull();
    expect(isoToday(new Date(2026, 0, 5))).toBe("2026-01-05");
  });
});
