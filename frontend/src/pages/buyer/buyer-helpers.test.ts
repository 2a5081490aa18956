import { describe, expect, it } from "vitest";
import { buildDemandInput, emptyDemandForm, localToday, splitList } from "./demandForm";
import { DEAL_STATES, SECTORS, TRANSACTION_TYPES, isDealState } from "../../api/enums";
import { whyLine, whyLines } from "./whyMatched";

describe("whyLine", () => {
  it("turns the API's reasons into catalogue keys", () => {
    expect(whyLine("matches the demand “리튬이차전지 양극재”")).toEqual({ key: "buyer.why.demand", vars: { title: "리튬이차전지 양극재" } });
    expect(whyLine("matches your demand “X”")).toEqual({ key: "buyer.why.demand", vars: { title: "X" } });
    expect(whyLine("similar to “Graphene” you viewed")).toEqual({ key: "buyer.why.similarViewed", vars: { title: "Graphene" } });
    expect(whyLine("similar to “G” you bookmarked")).toEqual({ key: "buyer.why.similarBookmarked", vars: { title: "G" } });
    expect(whyLine("similar to “G” you inquired about")).toEqual({ key: "buyer.why.similarInquired", vars: { title: "G" } });
    expect(whyLine("similar to “G”")).toEqual({ key: "buyer.why.similarTo", vars: { title: "G" } });
    expect(whyLine("similar to listings you showed interest in")).toEqual({ key: "buyer.why.similarInterest", vars: {} });
    expect(whyLine("new in your sector (Advanced biotech)")).toEqual({ key: "buyer.why.newInSector", vars: {} });
    expect(whyLine("new on the marketplace")).toEqual({ key: "buyer.why.newOnMarket", vars: {} });
    expect(whyLine("popular in your sector")).toEqual({ key: "buyer.why.popularInSector", vars: {} });
    expect(whyLine("popular with buyers")).toEqual({ key: "buyer.why.popular", vars: {} });
    expect(whyLine("matched terms: batteri, 리튬")).toEqual({ key: "buyer.why.terms", vars: { terms: "batteri, 리튬" } });
    expect(whyLine("shared IPC classes: H01M, H01G")).toEqual({ key: "buyer.why.ipc", vars: { codes: "H01M, H01G" } });
    expect(whyLine("semantic similarity 0.90")).toEqual({ key: "buyer.why.similarity", vars: { percent: 90 } });
    expect(whyLine("semantic similarity 0.856")).toEqual({ key: "buyer.why.similarity", vars: { percent: 86 } });
  });
  it("keeps a title with quotes inside", () => {
    expect(whyLine("matches the demand “a “b” c”")).toEqual({ key: "buyer.why.demand", vars: { title: "a “b” c" } });
  });
  it("shows an unknown sentence as sent", () => {
    expect(whyLine("2 members viewed this listing")).toEqual({ raw: "2 members viewed this listing" });
  });
  it("drops empty and repeated reasons", () => {
    expect(whyLines(["new on the marketplace", " ", "new on the marketplace", "odd"])).toEqual([
      { key: "buyer.why.newOnMarket", vars: {} },
      { raw: "odd" },
    ]);
  });
});

describe("splitList", () => {
  it("splits on commas, semicolons and lines, trims and de-duplicates case-insensitively", () => {
    expect(splitList("graphene, Supercapacitor;\n electrode ,GRAPHENE,,")).toEqual(["graphene", "Supercapacitor", "electrode"]);
    expect(splitList("")).toEqual([]);
  });
});

describe("buildDemandInput", () => {
  const filled = {
    ...emptyDemandForm("T3JnYW5pemF0aW9uOjYx"),
    title: "  Graphene electrodes ",
    description: "For supercapacitors",
    sector: "SECONDARY_BATTERIES" as const,
    transactionType: "EXCLUSIVE_LICENCE" as const,
    budget: "150,000,000",
    keywords: "graphene, electrode",
    ipcInterests: "h01g, H01M 4",
    replyDeadline: "2027-01-20",
  };

  it("builds postDemand's input with the budget in minor units", () => {
    expect(buildDemandInput(filled, "2026-11-22")).toEqual({
      ok: true,
      input: {
        buyerId: "T3JnYW5pemF0aW9uOjYx",
        title: "Graphene electrodes",
        description: "For supercapacitors",
        keywords: ["graphene", "electrode"],
        ipcInterests: ["H01G", "H01M 4"],
        budget: { amount: "150000000", currency: "KRW" },
        transactionType: "EXCLUSIVE_LICENCE",
        sector: "SECONDARY_BATTERIES",
        replyDeadline: "2027-01-20",
      },
    });
  });
  it("uses the currency's minor digits and leaves optional fields null", () => {
    const result = buildDemandInput({ ...emptyDemandForm("O"), title: "T", description: "D", budget: "1,500.50", currency: "USD" });
    expect(result).toEqual({
      ok: true,
      input: {
        buyerId: "O",
        title: "T",
        description: "D",
        keywords: [],
        ipcInterests: [],
        budget: { amount: "150050", currency: "USD" },
        transactionType: null,
        sector: null,
        replyDeadline: null,
      },
    });
  });
  it("reports missing fields and a bad budget", () => {
    expect(buildDemandInput({ ...emptyDemandForm(""), title: " ", budget: "12.5" })).toEqual({
      ok: false,
      problems: [
        { field: "buyerId", code: "REQUIRED" },
        { field: "title", code: "REQUIRED" },
        { field: "description", code: "REQUIRED" },
        { field: "budget", code: "INVALID_AMOUNT" },
      ],
    });
    expect(buildDemandInput({ ...filled, replyDeadline: "2026-11-21" }, "2026-11-22")).toEqual({
      ok: false,
      problems: [{ field: "replyDeadline", code: "DATE_IN_PAST" }],
    });
    expect(buildDemandInput({ ...filled, replyDeadline: "2026-11-22" }, "2026-11-22").ok).toBe(true);
    expect(buildDemandInput({ ...filled, budget: "0" }, "2026-11-22")).toEqual({ ok: false, problems: [{ field: "budget", code: "INVALID_AMOUNT" }] });
    expect(buildDemandInput({ ...filled, budget: "-5" }, "2026-11-22")).toEqual({ ok: false, problems: [{ field: "budget", code: "INVALID_AMOUNT" }] });
  });
});

describe("localToday", () => {
  it("is the local calendar day, zero-padded", () => {
    expect(localToday(new Date(2027, 0, 5, 23, 59))).toBe("2027-01-05");
    expect(localToday(new Date(2026, 10, 22, 0, 1))).toBe("2026-11-22");
  });
});

describe("enum lists", () => {
  it("lists the schema's values", () => {
    expect(SECTORS).toHaveLength(14);
    expect(TRANSACTION_TYPES).toEqual(["ASSIGNMENT", "EXCLUSIVE_LICENCE", "NON_EXCLUSIVE_LICENCE", "OPTION", "JOINT_DEVELOPMENT"]);
    expect(DEAL_STATES[0]).toBe("INQUIRY");
    expect(isDealState("NEGOTIATING")).toBe(true);
    expect(isDealState("negotiating")).toBe(false);
    expect(isDealState("toString")).toBe(false);
  });
});
