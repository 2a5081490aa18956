import { describe, expect, it } from "vitest";
import { formatMoney, minorDigits, toMinor } from "./format";
import { interpolate } from "./index";
import { en, ko } from "./messages/enums";

describe("money", () => {
  it("formats KRW without decimals and USD with cents, per locale", () => {
    expect(minorDigits("KRW")).toBe(0);
    expect(formatMoney("150000000", "KRW", "ko")).toBe("₩150,000,000");
    expect(formatMoney(123456, "USD", "en")).toBe("$1,234.56");
    expect(formatMoney(null, "KRW", "en")).toBe("—");
  });

  it("reads typed amounts into minor units and refuses what is not an amount", () => {
    expect(toMinor("1,500,000", "KRW")).toBe("1500000");
    expect(toMinor("12.5", "USD")).toBe("1250");
    expect(toMinor("12.5", "KRW")).toBeNull();
    expect(toMinor("12.345", "USD")).toBeNull();
    expect(toMinor("abc", "USD")).toBeNull();
  });
});

describe("catalogues", () => {
  it("have the same keys in both languages and no empty text", () => {
    expect(Object.keys(ko).sort()).toEqual(Object.keys(en).sort());
    for (const text of [...Object.values(en), ...Object.values(ko)]) expect(text.trim()).not.toBe("");
  });
});

describe("plural forms", () => {
  it("picks the locale's form and puts the number in place of #", () => {
    const text = "{count, plural, one {# result} other {# results}} for “{q}”";
    expect(interpolate(text, { count: 1, q: "battery" }, "en")).toBe("1 result for “battery”");
    expect(interpolate(text, { count: 12, q: "battery" }, "en")).toBe("12 results for “battery”");
    expect(interpolate(text, { count: 0, q: "x" }, "en")).toBe("0 results for “x”");
    expect(interpolate("{count}건", { count: 1 }, "ko")).toBe("1건");
  });

  it("leaves text alone when the variable is not given", () => {
    expect(interpolate("{count, plural, one {# deal} other {# deals}}", { other: 1 }, "en")).toBe(
      "{count, plural, one {# deal} other {# deals}}",
    );
  });
});
