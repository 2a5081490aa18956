// The API's highlights are HTML-escaped text with <em> (or <mark>) around the matched words. We never hand
// that HTML to the DOM: this parser keeps the text (entities decoded) and the marks, and drops every other
// tag, so the page renders plain text nodes and <mark> elements it creates itself.

export interface Segment {
  text: string;
  marked: boolean;
}

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#\d{1,7}|[a-zA-Z]{2,6});/g, (whole, body: string) => {
    if (body[0] === "#") {
      const code = body[1] === "x" || body[1] === "X" ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : whole;
    }
    return NAMED[body.toLowerCase()] ?? whole;
  });
}

// A tag: <em>, </em>, <mark class="x">, <br/>, <script ...>; anything that is not one stays text.
const TAG = /<\/?([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*>/g;

export function parseHighlight(html: string): Segment[] {
  const segments: Segment[] = [];
  let depth = 0;
  let last = 0;
  const push = (raw: string) => {
    if (!raw) return;
    const text = decodeEntities(raw);
    const marked = depth > 0;
    const prev = segments[segments.length - 1];
    if (prev && prev.marked === marked) prev.text += text;
    else segments.push({ text, marked });
  };
  for (const match of html.matchAll(TAG)) {
    push(html.slice(last, match.index));
    last = match.index + match[0].length;
    const name = match[1].toLowerCase();
    if (name === "em" || name === "mark") {
      if (match[0][1] === "/") depth = Math.max(0, depth - 1);
      else if (!match[0].endsWith("/>")) depth += 1;
    }
    // Other tags are dropped; their text content (if any) stays plain text.
  }
  push(html.slice(last));
  return segments.filter((s) => s.text.length > 0);
}

/** The plain text of a highlight (for titles, aria labels). */
export function highlightText(html: string): string {
  return parseHighlight(html)
    .map((s) => s.text)
    .join("");
}
