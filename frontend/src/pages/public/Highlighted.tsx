// Renders an API highlight as text and <mark> elements made here (never the API's HTML itself).
import { Fragment } from "react";
import { parseHighlight } from "./highlight";

export function Highlighted({ html }: { html: string }) {
  return (
    <>
      {parseHighlight(html).map((segment, i) =>
        segment.marked ? <mark key={i}>{segment.text}</mark> : <Fragment key={i}>{segment.text}</Fragment>,
      )}
    </>
  );
}
