import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { createElement } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { me, mockClient, withProviders } from "../buyer/mockClient";
import Deals from "./Deals";

afterEach(cleanup);

const deal = (id: string, title: string, state: string, viewerSide: string | null, buyer: string | null) => ({
  __typename: "Deal",
  id,
  state,
  viewerSide,
  buyerAlias: "Buyer A",
  updatedAt: "2026-11-21T16:13:44+00:00",
  buyer: buyer && { __typename: "Organization", id: `o-${id}`, name: buyer },
  listing: { __typename: "Listing", id: `l-${id}`, title, seller: { __typename: "Organization", id: "s", name: "인천대학교 산학협력단" } },
});

function setup() {
  const deals = [
    deal("RGVhbDox", "Graphene electrodes", "NEGOTIATING", "BUYER", "가온배터리(주)"),
    deal("RGVhbDoy", "Aqueous battery", "INQUIRY", "SELLER", null),
    deal("RGVhbDoz", "Quantum dots", "AGREED", null, "Hanul"),
  ];
  return mockClient({
    Me: () => me("홍길동", [{ id: "org", name: "가온배터리(주)", kind: "SME" }]),
    DealsMine: (v) => ({
      myDeals: {
        __typename: "DealConnection",
        totalCount: v.state ? 1 : 3,
        edges: (v.state ? deals.filter((d) => d.state === v.state) : deals).map((node) => ({ __typename: "DealEdge", node })),
      },
    }),
  });
}

describe("/deals", () => {
  it("shows my deals as a table with my side and the counterparty", async () => {
    const { client } = setup();
    render(withProviders(client, createElement(Deals), "/deals"));
    const rows = await screen.findAllByTestId("deal-row");
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("My deals");
    expect(screen.getAllByRole("columnheader").map((h) => h.textContent)).toEqual([
      "Listing",
      "Side",
      "Counterparty",
      "State",
      "Last update",
    ]);
    expect(rows.map((r) => within(r).getAllByRole("cell").map((c) => c.textContent).slice(0, 4))).toEqual([
      ["Graphene electrodes", "Buyer", "인천대학교 산학협력단", "Negotiating"],
      ["Aqueous battery", "Seller", "Buyer A", "Inquiry"],
      ["Quantum dots", "Broker", "인천대학교 산학협력단 ↔ Hanul", "Agreed"],
    ]);
    expect(within(rows[0]).getByRole("link", { name: "Graphene electrodes" }).getAttribute("href")).toBe(
      "/deals/RGVhbDox",
    );
    expect(screen.getByRole("status").textContent).toBe("3 deals");
  });

  it("filters by state through the API", async () => {
    const { client, calls } = setup();
    render(withProviders(client, createElement(Deals), "/deals"));
    await screen.findAllByTestId("deal-row");
    fireEvent.change(screen.getByLabelText("Filter by state"), { target: { value: "AGREED" } });
    const rows = await screen.findAllByTestId("deal-row");
    expect(rows).toHaveLength(1);
    expect(rows[0].getAttribute("data-state")).toBe("AGREED");
    expect(calls.filter((c) => c.name === "DealsMine").map((c) => c.variables.state)).toEqual([null, "AGREED"]);
  });

  it("speaks Korean", async () => {
    const { client } = setup();
    render(withProviders(client, createElement(Deals), "/deals", "ko"));
    await screen.findAllByTestId("deal-row");
    expect(screen.getAllByRole("columnheader").map((h) => h.textContent)).toEqual(["매물", "내 역할", "거래 상대", "상태", "최근 업데이트"]);
    expect(screen.getByText("중개인")).toBeTruthy();
  });
});
