import { describe, expect, it } from "vitest";
import { dealPath, listingPath } from "./paths";

describe("object paths", () => {
  it("keeps base64 padding and escapes path-breaking characters", () => {
    expect(dealPath("RGVhbDoxNQ==")).toBe("/deals/RGVhbDoxNQ==");
    expect(listingPath("TGl+c3Rpbmc6/z==")).toBe("/listings/TGl%2Bc3Rpbmc6%2Fz==");
  });
});
