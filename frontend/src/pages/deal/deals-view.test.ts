import { describe, expect, it } from "vitest";
import { brokersEditable, buyerLabel, counterparty } from "../buyer/deals";

const base = { buyerAlias: "Buyer A", buyer: { name: "가온배터리(주)" }, listing: { seller: { name: "인천대학교 산학협력단" } } };

describe("counterparty", () => {
  it("is the buyer for the seller's side, by alias while relayed", () => {
    expect(counterparty({ ...base, viewerSide: "SELLER" })).toEqual({ kind: "one", name: "가온배터리(주)" });
    expect(counterparty({ ...base, viewerSide: "SELLER", buyer: null })).toEqual({ kind: "one", name: "Buyer A" });
  });
  it("is the seller for the buyer's side", () => {
    expect(counterparty({ ...base, viewerSide: "BUYER" })).toEqual({ kind: "one", name: "인천대학교 산학협력단" });
  });
  it("is both parties for a broker", () => {
    expect(counterparty({ ...base, viewerSide: null, buyer: null })).toEqual({
      kind: "both",
      seller: "인천대학교 산학협력단",
      buyer: "Buyer A",
    });
  });
});

describe("deal helpers", () => {
  it("labels the buyer", () => {
    expect(buyerLabel(base)).toBe("가온배터리(주)");
    expect(buyerLabel({ ...base, buyer: null })).toBe("Buyer A");
  });
  it("allows broker changes until settled or cancelled", () => {
    expect(brokersEditable("NEGOTIATING")).toBe(true);
    expect(brokersEditable("DISPUTED")).toBe(true);
    expect(brokersEditable("SETTLED")).toBe(false);
    expect(brokersEditable("CANCELLED")).toBe(false);
  });
});
