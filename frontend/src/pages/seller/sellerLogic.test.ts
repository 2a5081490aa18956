import { describe, expect, it } from "vitest";
import type { DealState, Side } from "../../gql/graphql";
import { basisLink, countryName, excerpt, groupBases, inquiryCounts, incomingInquiries, parseBehaviour, similarityPercent } from "./sellerLogic";

function deal(id: string, listing: string, viewerSide: Side | null, createdAt = "2026-11-01T00:00:00Z", state: DealState = "INQUIRY") {
  return { id, viewerSide, createdAt, state, listing: { id: listing } };
}

describe("inquiries", () => {
  it("counts the seller's deals per listing", () => {
    const counts = inquiryCounts([deal("1", "L1", "SELLER"), deal("2", "L1", "SELLER"), deal("3", "L2", "BUYER"), deal("4", "L3", null), deal("5", "L2", "SELLER")]);
    expect([...counts.entries()]).toEqual([
      ["L1", 2],
      ["L2", 1],
    ]);
  });

  it("keeps the seller's side, newest first, stable on equal times", () => {
    const list = incomingInquiries([
      deal("a", "L1", "SELLER", "2026-10-01T09:00:00Z"),
      deal("b", "L1", "BUYER", "2026-12-01T09:00:00Z"),
      deal("c", "L2", "SELLER", "2026-11-05T09:00:00+09:00"),
      deal("d", "L2", "SELLER", "2026-11-05T00:00:00Z"),
      deal("e", "L3", "SELLER", "2026-11-05T00:00:00Z"),
    ]);
    expect(list.map((d) => d.id)).toEqual(["e", "d", "c", "a"]);
  });

  it("shortens long messages at a word boundary", () => {
    expect(excerpt("  short\n message ")).toBe("short message");
    expect(excerpt("one two three four five", 16)).toBe("one two three…");
    expect(excerpt("abcdefghijklmnop", 10)).toBe("abcdefghij…");
  });
});

describe("candidate buyers", () => {
  it("turns similarities into whole percentages", () => {
    expect(similarityPercent(0.7637702)).toBe(76);
    expect(similarityPercent(1.2)).toBe(100);
    expect(similarityPercent(-0.5)).toBe(-50);
    expect(similarityPercent(null)).toBeNull();
    expect(similarityPercent(undefined)).toBeNull();
  });

  it("groups the bases by kind, most similar first", () => {
    const groups = groupBases([
      { kind: "PATENT", id: "p1", title: "P1", similarity: 0.2 },
      { kind: "LISTING", id: "l1", title: "L1", similarity: null },
      { kind: "PATENT", id: "p2", title: "P2", similarity: 0.9 },
      { kind: "DEMAND", id: "d1", title: "D1", similarity: 0.5 },
    ]);
    expect(groups.map((g) => [g.kind, g.items.map((i) => i.id)])).toEqual([
      ["DEMAND", ["d1"]],
      ["PATENT", ["p2", "p1"]],
      ["LISTING", ["l1"]],
    ]);
  });

  it("links listings only", () => {
    expect(basisLink({ kind: "LISTING", id: "TGlzdGluZzox", title: "", similarity: null })).toBe("/listings/TGlzdGluZzox");
    expect(basisLink({ kind: "DEMAND", id: "x", title: "", similarity: null })).toBeNull();
  });
});

describe("parseBehaviour", () => {
  it("splits the API's summary into translatable parts", () => {
    expect(parseBehaviour("1 member viewed this listing; 1 bookmarked it; showed interest in 3 similar listings")).toEqual([
      { kind: "views", count: 1 },
      { kind: "bookmarks", count: 1 },
      { kind: "similar", count: 3 },
    ]);
    expect(parseBehaviour("12 members viewed this listing; inquired about it; showed interest in 1 similar listing")).toEqual([
      { kind: "views", count: 12 },
      { kind: "inquired" },
      { kind: "similar", count: 1 },
    ]);
  });

  it("keeps what it does not know", () => {
    expect(parseBehaviour("shared a demand; ")).toEqual([{ kind: "raw", text: "shared a demand" }]);
  });
});

describe("countryName", () => {
  it("names countries per locale and keeps unknown codes", () => {
    expect(countryName("KR", "en-US")).toBe("South Korea");
    expect(countryName("us", "ko-KR")).toBe("미국");
    expect(countryName("", "en-US")).toBe("");
  });
});
