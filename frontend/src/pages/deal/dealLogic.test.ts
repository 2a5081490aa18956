import { describe, expect, it } from "vitest";
import {
  basisPointsToPercent,
  brokerRowsToInput,
  canAcceptLatest,
  counterForm,
  depositFormData,
  milestonesReplaceable,
  milestonesToInput,
  minorToMajorInput,
  numericId,
  offerFormToInput,
  percentToBasisPoints,
  pollInterval,
  sumMilestones,
  uploadDeposit,
  workflowProgress,
  type OfferForm,
} from "./dealLogic";

const form = (patch: Partial<OfferForm> = {}): OfferForm => ({
  transactionType: "EXCLUSIVE_LICENCE",
  amount: "50,000,000",
  currency: "KRW",
  royaltyPercent: "3",
  termMonths: "36",
  territory: "Korea",
  exclusive: true,
  note: "  First offer  ",
  countersVersion: null,
  ...patch,
});

describe("workflowProgress", () => {
  const statuses = (state: Parameters<typeof workflowProgress>[0]) => workflowProgress(state).steps.map((s) => s.status);

  it("marks the current step and those before it", () => {
    expect(statuses("INQUIRY")).toEqual(["current", "upcoming", "upcoming", "upcoming", "upcoming", "upcoming"]);
    expect(statuses("NDA_PENDING")).toEqual(["done", "current", "upcoming", "upcoming", "upcoming", "upcoming"]);
    expect(statuses("NDA_SIGNED")).toEqual(["done", "done", "current", "upcoming", "upcoming", "upcoming"]);
    expect(statuses("NEGOTIATING")).toEqual(["done", "done", "current", "upcoming", "upcoming", "upcoming"]);
    expect(statuses("AGREED")).toEqual(["done", "done", "done", "current", "upcoming", "upcoming"]);
    expect(statuses("IN_ESCROW")).toEqual(["done", "done", "done", "done", "current", "upcoming"]);
  });

  it("completes every step when settled", () => {
    expect(statuses("SETTLED")).toEqual(["done", "done", "done", "done", "done", "done"]);
    expect(workflowProgress("SETTLED").halted).toBeNull();
  });

  it("flags cancelled and disputed deals", () => {
    expect(workflowProgress("CANCELLED")).toEqual({
      steps: ["INQUIRY", "NDA", "NEGOTIATION", "AGREED", "ESCROW", "SETTLED"].map((step) => ({ step, status: "upcoming" })),
      halted: "cancelled",
    });
    expect(workflowProgress("DISPUTED").halted).toBe("disputed");
    expect(statuses("DISPUTED")[4]).toBe("current");
  });
});

describe("pollInterval", () => {
  it("polls fast while a payment is in flight, steadily while money moves, never when over", () => {
    expect(pollInterval("AGREED", true)).toBe(2000);
    expect(pollInterval("IN_ESCROW", false)).toBe(3000);
    expect(pollInterval("AGREED", false)).toBe(3000);
    expect(pollInterval("NEGOTIATING", false)).toBe(5000);
    expect(pollInterval("SETTLED", true)).toBeNull();
    expect(pollInterval("CANCELLED", false)).toBeNull();
  });
});

describe("numbers typed by people", () => {
  it("converts percent to basis points and back", () => {
    expect(percentToBasisPoints("2.5")).toBe(250);
    expect(percentToBasisPoints("100")).toBe(10000);
    expect(percentToBasisPoints("0.01")).toBe(1);
    expect(percentToBasisPoints("33,33")).toBe(3333);
    expect(percentToBasisPoints("100.01")).toBeNull();
    expect(percentToBasisPoints("1.234")).toBeNull();
    expect(percentToBasisPoints("-1")).toBeNull();
    expect(percentToBasisPoints("")).toBeNull();
    expect(basisPointsToPercent(250)).toBe("2.5");
    expect(basisPointsToPercent(10000)).toBe("100");
    expect(basisPointsToPercent(3333)).toBe("33.33");
    expect(basisPointsToPercent(5)).toBe("0.05");
  });

  it("writes minor units back as major units without grouping", () => {
    expect(minorToMajorInput("50000000", "KRW")).toBe("50000000");
    expect(minorToMajorInput(1250, "USD")).toBe("12.50");
    expect(minorToMajorInput(5, "EUR")).toBe("0.05");
  });
});

describe("numericId", () => {
  it("reads the primary key of a global id of the expected type", () => {
    expect(numericId(btoa("Milestone:12"), "Milestone")).toBe(12);
    expect(numericId(btoa("Deal:7"), "Deal")).toBe(7);
    expect(numericId(btoa("Deal:7"), "Milestone")).toBeNull();
    expect(numericId(btoa("Deal:x"), "Deal")).toBeNull();
    expect(numericId("%%%", "Deal")).toBeNull();
  });
});

describe("offerFormToInput", () => {
  it("turns the form into makeOffer's input in minor units and basis points", () => {
    expect(offerFormToInput(form())).toEqual({
      ok: true,
      value: {
        transactionType: "EXCLUSIVE_LICENCE",
        upfront: { amount: "50000000", currency: "KRW" },
        royaltyBasisPoints: 300,
        termMonths: 36,
        territory: "Korea",
        exclusive: true,
        note: "First offer",
      },
    });
  });

  it("converts dollars to cents, leaves the term open and names the countered version", () => {
    const checked = offerFormToInput(form({ amount: "1,234.5", currency: "USD", royaltyPercent: "", termMonths: "", countersVersion: 2 }));
    expect(checked).toEqual({
      ok: true,
      value: {
        transactionType: "EXCLUSIVE_LICENCE",
        upfront: { amount: "123450", currency: "USD" },
        royaltyBasisPoints: 0,
        termMonths: null,
        territory: "Korea",
        exclusive: true,
        note: "First offer",
        countersVersion: 2,
      },
    });
  });

  it("reports each bad field under the API's field name", () => {
    const checked = offerFormToInput(form({ amount: "12.5", royaltyPercent: "101", termMonths: "0" }));
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.errors.map((e) => [e.field, e.code])).toEqual([
      ["upfront", "INVALID"],
      ["royaltyBasisPoints", "INVALID"],
      ["termMonths", "INVALID"],
    ]);
    const zero = offerFormToInput(form({ amount: "0" }));
    expect(!zero.ok && zero.errors[0].field).toBe("upfront");
  });
});

describe("counterForm", () => {
  it("prefills the form with the terms it answers", () => {
    expect(
      counterForm({
        version: 3,
        transactionType: "NON_EXCLUSIVE_LICENCE",
        upfront: { amount: "1999900", currency: "USD" },
        royaltyBasisPoints: 250,
        termMonths: null,
        territory: "US",
        exclusive: false,
      }),
    ).toEqual({
      transactionType: "NON_EXCLUSIVE_LICENCE",
      amount: "19999.00",
      currency: "USD",
      royaltyPercent: "2.5",
      termMonths: "",
      territory: "US",
      exclusive: false,
      note: "",
      countersVersion: 3,
    });
  });
});

describe("canAcceptLatest", () => {
  it("lets each side accept the latest version once while negotiating", () => {
    const latest = { acceptances: [{ side: "SELLER" as const }] };
    expect(canAcceptLatest("NEGOTIATING", "BUYER", latest)).toBe(true);
    expect(canAcceptLatest("NEGOTIATING", "SELLER", latest)).toBe(false);
    expect(canAcceptLatest("NEGOTIATING", null, latest)).toBe(false);
    expect(canAcceptLatest("AGREED", "BUYER", latest)).toBe(false);
    expect(canAcceptLatest("NEGOTIATING", "BUYER", undefined)).toBe(false);
  });
});

describe("milestones", () => {
  const agreed = { amount: "50000000", currency: "KRW" };
  const row = (title: string, amount: string, inspectionDays = "14") => ({ title, amount, deliverables: "", inspectionDays });

  it("sums the rows and tells how far from the agreed price", () => {
    expect(sumMilestones([row("A", "20,000,000"), row("B", "25000000")], agreed)).toEqual({
      total: 45000000n,
      invalid: [],
      difference: -5000000n,
    });
    expect(sumMilestones([row("A", "x"), row("B", "50000000")], agreed)).toEqual({ total: 50000000n, invalid: [0], difference: 0n });
  });

  it("accepts rows that add up exactly", () => {
    expect(milestonesToInput([row(" Code ", "30000000", "30"), { ...row("Docs", "20000000", ""), deliverables: " manual " }], agreed)).toEqual({
      ok: true,
      value: [
        { title: "Code", amount: "30000000", deliverables: "", inspectionDays: 30 },
        { title: "Docs", amount: "20000000", deliverables: "manual", inspectionDays: 14 },
      ],
    });
  });

  it("refuses a plan that does not match the agreed price, with the API's code", () => {
    const checked = milestonesToInput([row("A", "30000000"), row("B", "10000000")], agreed);
    expect(checked).toEqual({
      ok: false,
      errors: [{ field: "milestones", code: "MILESTONES_DO_NOT_MATCH_OFFER", message: "The milestones must add up to the agreed price." }],
    });
  });

  it("works in cents for dollar deals", () => {
    const checked = milestonesToInput([row("A", "100.25"), row("B", "99.75")], { amount: 20000, currency: "USD" });
    expect(checked.ok && checked.value.map((m) => m.amount)).toEqual(["10025", "9975"]);
  });

  it("names rows with a missing title, a bad amount or bad inspection days", () => {
    const checked = milestonesToInput([row("", "50000000", "91"), row("B", "-1")], agreed);
    expect(!checked.ok && checked.errors.map((e) => e.field)).toEqual(["title.0", "inspectionDays.0", "amount.1"]);
  });

  it("lets the plan be replaced only before any payment", () => {
    const pending = { state: "PENDING" as const, escrow: { funded: { amount: "0" } } };
    expect(milestonesReplaceable([pending, pending])).toBe(true);
    expect(milestonesReplaceable([pending, { state: "FUNDED" as const, escrow: { funded: { amount: "100" } } }])).toBe(false);
  });
});

describe("brokerRowsToInput", () => {
  it("turns percent shares into basis points summing to 10,000 with one lead", () => {
    expect(
      brokerRowsToInput([
        { brokerId: "QnJva2VyOjE=", sharePercent: "60", isLead: true },
        { brokerId: "QnJva2VyOjI=", sharePercent: "40", isLead: false },
      ]),
    ).toEqual({
      ok: true,
      value: [
        { brokerId: "QnJva2VyOjE=", shareBasisPoints: 6000, isLead: true },
        { brokerId: "QnJva2VyOjI=", shareBasisPoints: 4000, isLead: false },
      ],
    });
  });

  it("refuses shares that do not add up, and none or two leads", () => {
    const short = brokerRowsToInput([{ brokerId: "a", sharePercent: "90", isLead: true }]);
    expect(!short.ok && short.errors.map((e) => e.code)).toEqual(["SHARES_MUST_SUM_TO_100"]);
    const leads = brokerRowsToInput([
      { brokerId: "a", sharePercent: "50", isLead: true },
      { brokerId: "b", sharePercent: "50", isLead: true },
    ]);
    expect(!leads.ok && leads.errors.map((e) => e.code)).toEqual(["ONE_LEAD_BROKER"]);
    const zero = brokerRowsToInput([{ brokerId: "a", sharePercent: "0", isLead: true }]);
    expect(!zero.ok && zero.errors.map((e) => e.field)).toEqual(["share.0"]);
  });
});

describe("deposits", () => {
  const deposit = {
    organizationId: 4,
    dealId: 9,
    milestoneId: 21,
    title: "Source code",
    description: "v1.0",
    files: [new File(["a"], "a.txt"), new File(["bb"], "b.bin")],
  };

  it("builds the multipart body the vault's view reads, with numeric ids", () => {
    const body = depositFormData(deposit);
    expect(body.get("organization")).toBe("4");
    expect(body.get("purpose")).toBe("milestone");
    expect(body.get("title")).toBe("Source code");
    expect(body.get("description")).toBe("v1.0");
    expect(body.get("deal")).toBe("9");
    expect(body.get("milestone")).toBe("21");
    expect(body.getAll("files").map((f) => (f as File).name)).toEqual(["a.txt", "b.bin"]);
  });

  it("posts with the CSRF header and reads the id or the API's error", async () => {
    const calls: [string, RequestInit][] = [];
    const ok = (async (url: string, init: RequestInit) => {
      calls.push([url, init]);
      return new Response(JSON.stringify({ id: 33, certificate: {} }), { status: 201 });
    }) as unknown as typeof fetch;
    expect(await uploadDeposit(deposit, "tok", ok)).toEqual({ ok: true, id: 33 });
    expect(calls[0][0]).toBe("/escrow/deposits/");
    expect(calls[0][1].method).toBe("POST");
    expect(calls[0][1].headers).toEqual({ "X-CSRFToken": "tok" });

    const refused = (async () =>
      new Response(JSON.stringify({ code: "NOT_FOUND", message: "No such milestone.", field: "milestone_id" }), { status: 404 })) as unknown as typeof fetch;
    expect(await uploadDeposit(deposit, "tok", refused)).toEqual({
      ok: false,
      error: { code: "NOT_FOUND", message: "No such milestone.", field: "milestone_id" },
    });

    const tooLarge = (async () => new Response("<html>", { status: 413, statusText: "Payload Too Large" })) as unknown as typeof fetch;
    expect(await uploadDeposit(deposit, "tok", tooLarge)).toEqual({
      ok: false,
      error: { code: "TOO_LARGE", message: "Payload Too Large", field: null },
    });
  });
});
