import { describe, expect, it } from "vitest";
import {
  basisPointsToPercent,
  percentToBasisPoints,
  rowsFromDeal,
  splitEvenly,
  totalBasisPoints,
  validateShares,
} from "./shares";

describe("percentToBasisPoints", () => {
  it("converts whole and decimal percentages", () => {
    expect(percentToBasisPoints("70")).toBe(7000);
    expect(percentToBasisPoints("33.33")).toBe(3333);
    expect(percentToBasisPoints("12.5")).toBe(1250);
    expect(percentToBasisPoints("0.01")).toBe(1);
    expect(percentToBasisPoints("100")).toBe(10000);
    expect(percentToBasisPoints("0")).toBe(0);
  });
  it("accepts a decimal comma, spaces and a trailing percent sign", () => {
    expect(percentToBasisPoints(" 12,5 ")).toBe(1250);
    expect(percentToBasisPoints("25 %")).toBe(2500);
    expect(percentToBasisPoints("25%")).toBe(2500);
  });
  it("refuses what is not a percentage of at most 2 decimals up to 100", () => {
    for (const bad of ["", " ", "abc", "-5", "33.333", "100.01", "150", "1e2", "1.", ".5", "5,5,5"]) {
      expect(percentToBasisPoints(bad), bad).toBeNull();
    }
  });
});

describe("basisPointsToPercent", () => {
  it("gives the shortest exact percentage", () => {
    expect(basisPointsToPercent(7000)).toBe("70");
    expect(basisPointsToPercent(3333)).toBe("33.33");
    expect(basisPointsToPercent(1250)).toBe("12.5");
    expect(basisPointsToPercent(50)).toBe("0.5");
    expect(basisPointsToPercent(1)).toBe("0.01");
    expect(basisPointsToPercent(10000)).toBe("100");
    expect(basisPointsToPercent(0)).toBe("0");
  });
  it("round-trips every basis point value", () => {
    for (let bp = 0; bp <= 10000; bp += 7) expect(percentToBasisPoints(basisPointsToPercent(bp))).toBe(bp);
  });
});

describe("splitEvenly", () => {
  it("sums to exactly 10,000 with the remainder on the first rows", () => {
    expect(splitEvenly(1)).toEqual([10000]);
    expect(splitEvenly(2)).toEqual([5000, 5000]);
    expect(splitEvenly(3)).toEqual([3334, 3333, 3333]);
    expect(splitEvenly(7)).toEqual([1429, 1429, 1429, 1429, 1428, 1428, 1428]);
    expect(splitEvenly(0)).toEqual([]);
  });
});

describe("validateShares", () => {
  const lead = { brokerId: "QnJva2VyOjE=", percent: "70", isLead: true };
  const co = { brokerId: "QnJva2VyOjI=", percent: "30", isLead: false };

  it("answers the assignBrokers input in basis points", () => {
    expect(validateShares([lead, co])).toEqual({
      ok: true,
      shares: [
        { brokerId: "QnJva2VyOjE=", shareBasisPoints: 7000, isLead: true },
        { brokerId: "QnJva2VyOjI=", shareBasisPoints: 3000, isLead: false },
      ],
    });
  });
  it("accepts thirds written to two decimals", () => {
    const rows = [
      { ...lead, percent: "33.34" },
      { ...co, percent: "33.33" },
      { brokerId: "QnJva2VyOjM=", percent: "33.33", isLead: false },
    ];
    const result = validateShares(rows);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.shares.map((s) => s.shareBasisPoints)).toEqual([3334, 3333, 3333]);
  });
  it("says by how much the shares miss 100%", () => {
    expect(validateShares([lead, { ...co, percent: "20" }])).toEqual({
      ok: false,
      problems: [{ code: "SHARES_MUST_SUM_TO_100", totalBasisPoints: 9000 }],
    });
  });
  it("needs exactly one lead", () => {
    expect(validateShares([{ ...lead, isLead: false }, co])).toEqual({ ok: false, problems: [{ code: "ONE_LEAD_BROKER" }] });
    expect(validateShares([lead, { ...co, isLead: true }])).toEqual({ ok: false, problems: [{ code: "ONE_LEAD_BROKER" }] });
  });
  it("reports bad rows by index, without a misleading sum", () => {
    expect(validateShares([lead, { ...co, percent: "abc" }, { brokerId: "", percent: "0", isLead: false }])).toEqual({
      ok: false,
      problems: [
        { code: "INVALID_PERCENT", row: 1 },
        { code: "BROKER_REQUIRED", row: 2 },
        { code: "INVALID_PERCENT", row: 2 },
      ],
    });
  });
  it("refuses a broker twice and an empty list", () => {
    expect(validateShares([{ ...lead, percent: "50" }, { ...co, brokerId: lead.brokerId, percent: "50" }])).toEqual({
      ok: false,
      problems: [{ code: "DUPLICATE_BROKER", row: 1 }],
    });
    expect(validateShares([])).toEqual({ ok: false, problems: [{ code: "NO_BROKERS" }] });
  });
});

describe("rows", () => {
  it("turns the deal's brokers into editable rows and totals them", () => {
    const rows = rowsFromDeal([
      { broker: { id: "A" }, isLead: true, shareBasisPoints: 6667 },
      { broker: null, isLead: false, shareBasisPoints: 3333 },
    ]);
    expect(rows).toEqual([
      { brokerId: "A", percent: "66.67", isLead: true },
      { brokerId: "", percent: "33.33", isLead: false },
    ]);
    expect(totalBasisPoints(rows)).toBe(10000);
    expect(totalBasisPoints([...rows, { brokerId: "B", percent: "x", isLead: false }])).toBe(10000);
  });
});
