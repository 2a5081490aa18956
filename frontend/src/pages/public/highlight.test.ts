import { describe, expect, it } from "vitest";
import { decodeEntities, highlightText, parseHighlight } from "./highlight";

describe("highlight parser", () => {
  it("splits marked and plain text", () => {
    expect(parseHighlight("투명 태양 <em>전지</em> 및 <em>전극</em>")).toEqual([
      { text: "투명 태양 ", marked: false },
      { text: "전지", marked: true },
      { text: " 및 ", marked: false },
      { text: "전극", marked: true },
    ]);
    expect(parseHighlight("a <mark>b</mark>")).toEqual([
      { text: "a ", marked: false },
      { text: "b", marked: true },
    ]);
  });

  it("decodes the API's escaping into text (which React then escapes again)", () => {
    expect(parseHighlight("R&amp;D &lt;script&gt;alert(1)&lt;/script&gt; <em>x&#39;s</em>")).toEqual([
      { text: "R&D <script>alert(1)</script> ", marked: false },
      { text: "x's", marked: true },
    ]);
    expect(decodeEntities("&#x1F600; &quot;q&quot; &bogus; &#0;")).toBe('😀 "q" &bogus; &#0;');
  });

  it("drops any other tag and its attributes, keeping only text", () => {
    expect(parseHighlight('<img src=x onerror="alert(1)"><em onclick="x()">hit</em><b>bold</b><script>bad()</script>')).toEqual([
      { text: "hit", marked: true },
      { text: "boldbad()", marked: false },
    ]);
  });

  it("survives unbalanced and stray markup", () => {
    expect(parseHighlight("</em>a <em>b")).toEqual([
      { text: "a ", marked: false },
      { text: "b", marked: true },
    ]);
    expect(parseHighlight("1 < 2 > 0")).toEqual([{ text: "1 < 2 > 0", marked: false }]);
    expect(parseHighlight("")).toEqual([]);
    expect(highlightText("…수계 이차<em>전지</em>에…")).toBe("…수계 이차전지에…");
  });
});
