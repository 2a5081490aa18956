import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { me, mockClient, withProviders } from "../buyer/mockClient";
import BrokerDesk from "./BrokerDesk";

afterEach(cleanup);

const firm = { __typename: "Organization", id: "firm", name: "테크브릿지파트너스(주)" };
const lee = { __typename: "Broker", id: "QnJva2VyOjE=", displayName: "이몽룡", firm };
const seong = { __typename: "Broker", id: "QnJva2VyOjI=", displayName: "성춘향", firm };

function setup(assignErrors: { field: string | null; code: string; message: string }[] = []) {
  return mockClient({
    Me: () => me("이몽룡", [{ id: "firm", name: firm.name, kind: "BROKER_FIRM" }], { id: lee.id, displayName: lee.displayName, firm }),
    BrokerDeskMine: () => ({
      me: {
        __typename: "Me",
        broker: { ...lee, certificationNumber: "DEMO-KR-0001", bio: "Semiconductors.", sectors: ["semiconductors", "secondary_batteries"] },
      },
      myDeals: {
        __typename: "DealConnection",
        totalCount: 1,
        edges: [
          {
            __typename: "DealEdge",
            node: {
              __typename: "Deal",
              id: "RGVhbDox",
              state: "NEGOTIATING",
              updatedAt: "2026-11-21T16:13:44+00:00",
              buyerAlias: "Buyer A",
              buyer: null,
              listing: { __typename: "Listing", id: "l1", title: "Graphene electrodes", seller: { __typename: "Organization", id: "s", name: "인천대학교 산학협력단" } },
              brokers: [{ __typename: "DealBroker", broker: lee, displayName: lee.displayName, isLead: true, shareBasisPoints: 10000 }],
            },
          },
        ],
      },
    }),
    BrokerDeskBrokers: () => ({
      brokers: { __typename: "BrokerConnection", totalCount: 2, edges: [lee, seong].map((node) => ({ __typename: "BrokerEdge", node })) },
    }),
    BrokerDeskAssign: () => ({
      assignBrokers: { __typename: "AssignBrokers", deal: assignErrors.length ? null : { __typename: "Deal", id: "RGVhbDox", brokers: [] }, errors: assignErrors },
    }),
  });
}

async function openEditor(client: ReturnType<typeof setup>["client"]) {
  render(withProviders(client, <BrokerDesk />, "/broker"));
  await screen.findByTestId("broker-deal");
  fireEvent.click(screen.getByRole("button", { name: "Edit co-brokers: Graphene electrodes" }));
}

describe("/broker", () => {
  it("shows the profile and the assigned deals with their shares", async () => {
    const { client } = setup();
    render(withProviders(client, <BrokerDesk />, "/broker"));
    const card = await screen.findByTestId("broker-deal");
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("Broker desk");
    expect(screen.getByRole("heading", { name: "Assigned deals" })).toBeTruthy();
    expect(screen.getByText("Semiconductors")).toBeTruthy();
    expect(screen.getByText("Secondary batteries")).toBeTruthy();
    const shares = within(card).getByRole("table", { name: "Commission shares" });
    expect(within(shares).getAllByRole("cell").map((c) => c.textContent)).toEqual([
      "이몽룡 · 테크브릿지파트너스(주) (you)",
      "Lead",
      "100%",
    ]);
    expect(within(card).getByRole("link", { name: "Graphene electrodes" }).getAttribute("href")).toBe("/deals/RGVhbDox");
    expect(within(card).getByText("Buyer A")).toBeTruthy();
  });

  it("lets the lead broker add a co-broker and saves the shares in basis points", async () => {
    const mock = setup();
    await openEditor(mock.client);
    fireEvent.click(screen.getByRole("button", { name: "Add a broker" }));
    fireEvent.change(screen.getByLabelText("Broker 2"), { target: { value: seong.id } });
    fireEvent.change(screen.getByLabelText("Share of broker 1 in percent"), { target: { value: "70" } });
    fireEvent.change(screen.getByLabelText("Share of broker 2 in percent"), { target: { value: "30" } });
    expect(screen.getByText("Total: 100%")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Save shares" }));
    await screen.findByText("Brokers and shares of “Graphene electrodes” are saved.");
    expect(mock.calls.filter((c) => c.name === "BrokerDeskAssign").map((c) => c.variables)).toEqual([
      {
        dealId: "RGVhbDox",
        brokers: [
          { brokerId: lee.id, shareBasisPoints: 7000, isLead: true },
          { brokerId: seong.id, shareBasisPoints: 3000, isLead: false },
        ],
      },
    ]);
  });

  it("checks the shares before saving", async () => {
    const mock = setup();
    await openEditor(mock.client);
    fireEvent.click(screen.getByRole("button", { name: "Add a broker" }));
    fireEvent.change(screen.getByLabelText("Broker 2"), { target: { value: seong.id } });
    fireEvent.change(screen.getByLabelText("Share of broker 2 in percent"), { target: { value: "30" } });
    expect(screen.getByText("Total: 130% — shares must add up to 100%.")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Save shares" }));
    expect(screen.getByRole("alert").textContent).toBe("The shares add up to 130%; they must add up to 100%.");
    fireEvent.click(screen.getByRole("button", { name: "Split evenly" }));
    expect((screen.getByLabelText("Share of broker 1 in percent") as HTMLInputElement).value).toBe("50");
    fireEvent.click(screen.getByLabelText("Broker 2 leads"));
    expect((screen.getByLabelText("Broker 1 leads") as HTMLInputElement).checked).toBe(false);
    expect(screen.getByText(/Another broker will lead this deal/)).toBeTruthy();
    expect(mock.calls.some((c) => c.name === "BrokerDeskAssign")).toBe(false);
  });

  it("shows the API's typed errors", async () => {
    const mock = setup([{ field: null, code: "ONE_LEAD_BROKER", message: "Exactly one broker leads." }]);
    await openEditor(mock.client);
    fireEvent.click(screen.getByRole("button", { name: "Save shares" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Exactly one lead broker.");
  });
});
