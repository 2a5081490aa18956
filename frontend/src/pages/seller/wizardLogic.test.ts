import { describe, expect, it } from "vitest";
import type { ListingWizardListingFragment } from "../../gql/graphql";
import { en, ko } from "../../i18n/messages/seller";
import {
  buildCreateInput,
  buildUpdateInput,
  classifyPatentQuery,
  emptyState,
  firstInvalidStep,
  fromMinor,
  parsePrice,
  patentTitle,
  scoreGrade,
  stateFromListing,
  stepOfField,
  togglePatent,
  toggleType,
  validSteps,
  validateStep,
  type PatentChoice,
  type WizardState,
} from "./wizardLogic";

const ORG = "T3JnYW5pemF0aW9uOjE1";

function patent(id: string, applicationNumber: string, extra: Partial<PatentChoice> = {}): PatentChoice {
  return {
    id,
    office: "KR",
    applicationNumber,
    registrationNumber: "",
    title: `Patent ${applicationNumber}`,
    titles: [],
    legalStatus: "registered",
    owner: { id: ORG },
    ...extra,
  };
}

const P1 = patent("UGF0ZW50OjExOQ==", "1020180047429");
const P2 = patent("UGF0ZW50OjIzMA==", "1020170158609");

function complete(overrides: Partial<WizardState> = {}): WizardState {
  return {
    ...emptyState(ORG),
    patents: [P1, P2],
    title: "  Polymer binder package  ",
    summary: "A binder for lithium secondary batteries.",
    knowHow: "Slurry recipe",
    quantifiedBenefit: "30% longer cycle life",
    trl: "5",
    sector: "SECONDARY_BATTERIES",
    transactionTypes: ["EXCLUSIVE_LICENCE", "NON_EXCLUSIVE_LICENCE"],
    priceAmount: "150,000,000",
    currency: "KRW",
    ...overrides,
  };
}

describe("parsePrice", () => {
  it("converts typed major units to minor units per currency", () => {
    expect(parsePrice("150,000,000", "KRW")).toEqual({ ok: true, money: { amount: "150000000", currency: "KRW" } });
    expect(parsePrice("₩ 1 500 000", "KRW")).toEqual({ ok: true, money: { amount: "1500000", currency: "KRW" } });
    expect(parsePrice("12.5", "USD")).toEqual({ ok: true, money: { amount: "1250", currency: "USD" } });
    expect(parsePrice("$120,000.00", "USD")).toEqual({ ok: true, money: { amount: "12000000", currency: "USD" } });
    expect(parsePrice("0.01", "USD")).toEqual({ ok: true, money: { amount: "1", currency: "USD" } });
    expect(parsePrice("007", "KRW")).toEqual({ ok: true, money: { amount: "7", currency: "KRW" } });
  });

  it("says why a typed price is refused", () => {
    expect(parsePrice("", "KRW")).toEqual({ ok: false, code: "price_required" });
    expect(parsePrice("  ,  ", "KRW")).toEqual({ ok: false, code: "price_required" });
    expect(parsePrice("abc", "KRW")).toEqual({ ok: false, code: "price_invalid" });
    expect(parsePrice("-5", "KRW")).toEqual({ ok: false, code: "price_invalid" });
    expect(parsePrice("1e6", "USD")).toEqual({ ok: false, code: "price_invalid" });
    expect(parsePrice("12.", "USD")).toEqual({ ok: false, code: "price_invalid" });
    expect(parsePrice("12.5", "KRW")).toEqual({ ok: false, code: "price_no_decimals" });
    expect(parsePrice("12.345", "USD")).toEqual({ ok: false, code: "price_decimals" });
    expect(parsePrice("0", "KRW")).toEqual({ ok: false, code: "price_zero" });
    expect(parsePrice("0.00", "USD")).toEqual({ ok: false, code: "price_zero" });
  });

  it("keeps the API's upper bound of 10^15 minor units, without float rounding", () => {
    expect(parsePrice("1000000000000000", "KRW")).toEqual({ ok: true, money: { amount: "1000000000000000", currency: "KRW" } });
    expect(parsePrice("1000000000000001", "KRW")).toEqual({ ok: false, code: "price_too_large" });
    expect(parsePrice("10000000000000.00", "USD")).toEqual({ ok: true, money: { amount: "1000000000000000", currency: "USD" } });
    expect(parsePrice("10000000000000.01", "USD")).toEqual({ ok: false, code: "price_too_large" });
    expect(parsePrice("999999999999999", "KRW")).toEqual({ ok: true, money: { amount: "999999999999999", currency: "KRW" } });
  });
});

describe("fromMinor", () => {
  it("gives back what a person types, exactly", () => {
    expect(fromMinor("150000000", "KRW")).toBe("150000000");
    expect(fromMinor(1250, "USD")).toBe("12.50");
    expect(fromMinor("5", "USD")).toBe("0.05");
    expect(fromMinor("1000000000000000", "USD")).toBe("10000000000000.00");
  });

  it("round-trips with parsePrice", () => {
    for (const [amount, currency] of [["1", "USD"], ["99", "USD"], ["123456789", "KRW"], ["100", "USD"]] as const) {
      expect(parsePrice(fromMinor(amount, currency), currency)).toEqual({ ok: true, money: { amount, currency } });
    }
  });
});

describe("validateStep", () => {
  it("asks for a seller and at least one patent, at most 50", () => {
    expect(validateStep("patents", emptyState(""))).toEqual([
      { field: "sellerId", code: "seller_required" },
      { field: "patentIds", code: "patents_required" },
    ]);
    expect(validateStep("patents", complete())).toEqual([]);
    const many = Array.from({ length: 51 }, (_, i) => patent(`p${i}`, `10${i}`));
    expect(validateStep("patents", complete({ patents: many }))).toEqual([{ field: "patentIds", code: "patents_too_many" }]);
  });

  it("checks the description against the API's limits", () => {
    expect(validateStep("description", complete())).toEqual([]);
    expect(validateStep("description", complete({ title: "   ", sector: "" }))).toEqual([
      { field: "title", code: "title_required" },
      { field: "sector", code: "sector_required" },
    ]);
    expect(validateStep("description", complete({ title: "x".repeat(301) }))).toEqual([{ field: "title", code: "title_too_long" }]);
    expect(validateStep("description", complete({ title: ` ${"x".repeat(300)} ` }))).toEqual([]);
    expect(validateStep("description", complete({ trl: "10" }))).toEqual([{ field: "trl", code: "trl_range" }]);
    expect(validateStep("description", complete({ trl: "" }))).toEqual([]);
    expect(
      validateStep("description", complete({ summary: "s".repeat(10_001), quantifiedBenefit: "b".repeat(501), knowHow: "k".repeat(50_001) })),
    ).toEqual([
      { field: "summary", code: "summary_too_long" },
      { field: "quantifiedBenefit", code: "benefit_too_long" },
      { field: "knowHow", code: "know_how_too_long" },
    ]);
  });

  it("needs a transaction type and a valid price unless the price is on request", () => {
    expect(validateStep("terms", complete())).toEqual([]);
    expect(validateStep("terms", complete({ transactionTypes: [], priceAmount: "" }))).toEqual([
      { field: "transactionTypes", code: "types_required" },
      { field: "price", code: "price_required" },
    ]);
    expect(validateStep("terms", complete({ priceAmount: "", priceOnRequest: true }))).toEqual([]);
    expect(validateStep("terms", complete({ priceAmount: "1.5", currency: "KRW" }))).toEqual([{ field: "price", code: "price_no_decimals" }]);
    expect(validateStep("review", emptyState(""))).toEqual([]);
  });

  it("finds the first incomplete step and lists the valid ones", () => {
    expect(firstInvalidStep(complete())).toBeNull();
    expect(firstInvalidStep(complete({ title: "" }))).toBe("description");
    expect(firstInvalidStep(emptyState(ORG))).toBe("patents");
    expect(validSteps(complete({ title: "" }), "terms")).toEqual(["patents", "terms"]);
    expect(validSteps(complete(), "description")).toEqual(["patents", "description"]);
    expect(validSteps(complete(), "description", false)).toEqual(["patents"]);
  });
});

describe("buildCreateInput", () => {
  it("builds createListing's input from a complete state", () => {
    expect(buildCreateInput(complete())).toEqual({
      sellerId: ORG,
      patentIds: [P1.id, P2.id],
      title: "Polymer binder package",
      summary: "A binder for lithium secondary batteries.",
      knowHow: "Slurry recipe",
      quantifiedBenefit: "30% longer cycle life",
      trl: 5,
      sector: "SECONDARY_BATTERIES",
      transactionTypes: ["EXCLUSIVE_LICENCE", "NON_EXCLUSIVE_LICENCE"],
      price: { amount: "150000000", currency: "KRW" },
    });
  });

  it("omits the price when it is on request, and the TRL when not given", () => {
    const input = buildCreateInput(complete({ priceOnRequest: true, priceAmount: "garbage", trl: "" }));
    expect(input).not.toHaveProperty("price");
    expect(input).not.toHaveProperty("trl");
    expect(input.transactionTypes).toEqual(["EXCLUSIVE_LICENCE", "NON_EXCLUSIVE_LICENCE"]);
  });

  it("refuses an incomplete state", () => {
    expect(() => buildCreateInput(complete({ transactionTypes: [] }))).toThrow("step terms is not complete");
  });
});

describe("buildUpdateInput", () => {
  it("sends every step's fields for a draft", () => {
    expect(buildUpdateInput(complete({ currency: "USD", priceAmount: "2,500.5" }), { isDraft: true, steps: ["patents", "description", "terms"] })).toEqual({
      patentIds: [P1.id, P2.id],
      title: "Polymer binder package",
      summary: "A binder for lithium secondary batteries.",
      knowHow: "Slurry recipe",
      quantifiedBenefit: "30% longer cycle life",
      trl: 5,
      sector: "SECONDARY_BATTERIES",
      transactionTypes: ["EXCLUSIVE_LICENCE", "NON_EXCLUSIVE_LICENCE"],
      price: { amount: "250050", currency: "USD" },
    });
  });

  it("never sends patents of a published listing, and removes the price with priceNegotiable", () => {
    expect(buildUpdateInput(complete({ priceOnRequest: true }), { isDraft: false, steps: ["patents", "terms"] })).toEqual({
      transactionTypes: ["EXCLUSIVE_LICENCE", "NON_EXCLUSIVE_LICENCE"],
      priceNegotiable: true,
    });
  });

  it("leaves out the fields of steps not given", () => {
    expect(buildUpdateInput(complete(), { isDraft: true, steps: ["description"] })).toEqual({
      title: "Polymer binder package",
      summary: "A binder for lithium secondary batteries.",
      knowHow: "Slurry recipe",
      quantifiedBenefit: "30% longer cycle life",
      trl: 5,
      sector: "SECONDARY_BATTERIES",
    });
    expect(buildUpdateInput(complete(), { isDraft: true, steps: [] })).toEqual({});
  });
});

describe("stateFromListing", () => {
  const listing: ListingWizardListingFragment = {
    id: "TGlzdGluZzoyMg==",
    status: "DRAFT",
    title: "Binder",
    summary: "Summary",
    knowHow: null,
    quantifiedBenefit: "",
    trl: null,
    sector: "OTHER",
    transactionTypes: ["OPTION"],
    priceNegotiable: false,
    price: { amount: "1250", currency: "USD" },
    updatedAt: "2026-11-22T10:00:00Z",
    seller: { id: ORG, name: "인천대학교 산학협력단", isVerified: true },
    patents: [P1],
    quality: { score: 60, hints: [] },
  };

  it("fills the form from a saved listing", () => {
    expect(stateFromListing(listing)).toEqual({
      sellerId: ORG,
      patents: [P1],
      title: "Binder",
      summary: "Summary",
      knowHow: "",
      quantifiedBenefit: "",
      trl: "",
      sector: "OTHER",
      transactionTypes: ["OPTION"],
      priceOnRequest: false,
      priceAmount: "12.50",
      currency: "USD",
    });
  });

  it("reads a negotiable listing as price on request in KRW", () => {
    const state = stateFromListing({ ...listing, price: null, priceNegotiable: true, trl: 7 });
    expect(state.priceOnRequest).toBe(true);
    expect(state.priceAmount).toBe("");
    expect(state.currency).toBe("KRW");
    expect(state.trl).toBe("7");
  });
});

describe("helpers", () => {
  it("maps API and coach fields to the step that edits them", () => {
    expect(stepOfField("patentIds")).toBe("patents");
    expect(stepOfField("patents")).toBe("patents");
    expect(stepOfField("quantified_benefit")).toBe("description");
    expect(stepOfField("knowHow")).toBe("description");
    expect(stepOfField("price_amount")).toBe("terms");
    expect(stepOfField("transaction_types")).toBe("terms");
    expect(stepOfField("id")).toBeNull();
    expect(stepOfField(null)).toBeNull();
  });

  it("tells application numbers from words", () => {
    expect(classifyPatentQuery("   ")).toEqual({ kind: "all" });
    expect(classifyPatentQuery("10-2018-0047429")).toEqual({ kind: "number", number: "1020180047429", text: "10-2018-0047429" });
    expect(classifyPatentQuery("KR 1020180047429")).toEqual({ kind: "number", number: "1020180047429", text: "KR 1020180047429" });
    expect(classifyPatentQuery("13/759,847")).toEqual({ kind: "number", number: "13759847", text: "13/759,847" });
    expect(classifyPatentQuery("lithium battery")).toEqual({ kind: "text", text: "lithium battery" });
    expect(classifyPatentQuery("2018")).toEqual({ kind: "text", text: "2018" });
  });

  it("toggles selections without duplicates, types in the schema's order", () => {
    expect(togglePatent([P1], P1, true)).toEqual([P1]);
    expect(togglePatent([P1], P2, true)).toEqual([P1, P2]);
    expect(togglePatent([P1, P2], P1, false)).toEqual([P2]);
    expect(toggleType(["OPTION"], "ASSIGNMENT", true)).toEqual(["ASSIGNMENT", "OPTION"]);
    expect(toggleType(["ASSIGNMENT", "OPTION"], "ASSIGNMENT", false)).toEqual(["OPTION"]);
  });

  it("shows the title in the reader's language when there is one", () => {
    const p = patent("x", "1", { title: "Binder", titles: [{ language: "ko", text: "바인더" }, { language: "en", text: "Binder" }] });
    expect(patentTitle(p, "ko")).toBe("바인더");
    expect(patentTitle(p, "en")).toBe("Binder");
    expect(patentTitle({ ...p, titles: [] }, "ko")).toBe("Binder");
  });

  it("grades scores", () => {
    expect([100, 80, 79, 50, 49, 0].map(scoreGrade)).toEqual(["good", "good", "fair", "fair", "weak", "weak"]);
  });

  it("has every seller text in both languages", () => {
    expect(Object.keys(ko).sort()).toEqual(Object.keys(en).sort());
    for (const text of [...Object.values(en), ...Object.values(ko)]) expect(text.trim()).not.toBe("");
  });
});
