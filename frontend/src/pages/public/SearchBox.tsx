// The search form: a combobox whose listbox offers title completions (Query.autocomplete) while typing.
// Completions never hold up a search: submitting cancels any pending completion and fires at once.
import { startTransition, useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { useClient } from "urql";
import { SearchAutocompleteDocument } from "../../gql/graphql";
import { useI18n } from "../../i18n";

const DEBOUNCE_MS = 150;
const MIN_PREFIX = 2;

interface Props {
  /** The words of the search shown (the URL's q); the box follows it on back and forward. */
  value: string;
  onSearch: (query: string) => void;
}

export function SearchBox({ value, onSearch }: Props) {
  const { t } = useI18n();
  const client = useClient();
  const id = useId();
  const inputId = `${id}-q`;
  const listId = `${id}-suggestions`;
  const [text, setText] = useState(value);
  const [shownValue, setShownValue] = useState(value);
  const [suggestions, setSuggestions] = useState<string[]>([]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const timer = useRef<number | undefined>(undefined);
  const sequence = useRef(0);
  const inFlight = useRef<{ unsubscribe: () => void } | null>(null);

  // The URL changed under us (back, forward, a link): show its words.
  if (value !== shownValue) {
    setShownValue(value);
    setText(value);
  }

  useEffect(
    () => () => {
      window.clearTimeout(timer.current);
      inFlight.current?.unsubscribe();
    },
    [],
  );

  /** Drop a pending or running completion request (a running one is aborted). */
  function cancelSuggestions() {
    window.clearTimeout(timer.current);
    sequence.current += 1;
    inFlight.current?.unsubscribe();
    inFlight.current = null;
  }

  function requestSuggestions(prefix: string) {
    cancelSuggestions();
    const mine = sequence.current;
    if (prefix.trim().length < MIN_PREFIX) {
      setSuggestions([]);
      setOpen(false);
      return;
    }
    timer.current = window.setTimeout(() => {
      inFlight.current = client
        .query(SearchAutocompleteDocument, { prefix: prefix.trim() }, { requestPolicy: "cache-first" })
        .subscribe((result) => {
          if (mine !== sequence.current) return; // typed on, or submitted, meanwhile
          const list = result.data?.autocomplete ?? [];
          setSuggestions(list);
          setActive(-1);
          setOpen(list.length > 0);
        });
    }, DEBOUNCE_MS);
  }

  function submit(query: string) {
    cancelSuggestions();
    // The search first (its request starts now); closing the list can wait for the next render.
    onSearch(query.trim());
    startTransition(() => {
      setOpen(false);
      setActive(-1);
      setText(query);
    });
  }

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    submit(active >= 0 && open ? suggestions[active] : text);
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!suggestions.length) return;
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      if (!open) {
        setOpen(true);
        setActive(step > 0 ? 0 : suggestions.length - 1);
        return;
      }
      setActive((current) => {
        const next = current + step;
        if (next < -1) return suggestions.length - 1;
        if (next >= suggestions.length) return -1;
        return next;
      });
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      setOpen(false);
      setActive(-1);
    }
    // Enter submits the form (with the active suggestion, if any): see onSubmit.
  }

  const expanded = open && suggestions.length > 0;
  return (
    <form role="search" onSubmit={onSubmit} className="search-box">
      <label htmlFor={inputId}>{t("public.search.label")}</label>
      <div className="search-box-row">
        <div className="combobox">
          <input
            id={inputId}
            type="search"
            role="combobox"
            name="q"
            autoComplete="off"
            spellCheck={false}
            aria-autocomplete="list"
            aria-expanded={expanded}
            aria-controls={listId}
            aria-activedescendant={expanded && active >= 0 ? `${listId}-${active}` : undefined}
            aria-describedby={`${id}-hint`}
            placeholder={t("public.search.placeholder")}
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              requestSuggestions(e.target.value);
            }}
            onKeyDown={onKeyDown}
            onBlur={() => setOpen(false)}
          />
          <ul id={listId} role="listbox" aria-label={t("public.search.suggestions")} hidden={!expanded} className="suggestions">
            {suggestions.map((s, i) => (
              <li
                key={`${i}-${s}`}
                id={`${listId}-${i}`}
                role="option"
                aria-selected={i === active}
                // mousedown would blur the input (closing the list) before the click lands
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => submit(s)}
              >
                {s}
              </li>
            ))}
          </ul>
        </div>
        <button type="submit" className="primary">
          {t("public.search.submit")}
        </button>
      </div>
      <p id={`${id}-hint`} className="muted search-hint">
        {t("public.search.hint")}
      </p>
    </form>
  );
}
