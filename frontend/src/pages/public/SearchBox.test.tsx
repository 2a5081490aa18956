import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Provider, type Client } from "urql";
import { I18nProvider } from "../../i18n";
import { SearchBox } from "./SearchBox";

function setup(suggestions: string[]) {
  const query = vi.fn(() => ({
    subscribe(callback: (result: { data: { autocomplete: string[] } }) => void) {
      callback({ data: { autocomplete: suggestions } });
      return { unsubscribe() {} };
    },
  }));
  const client = { query } as unknown as Client;
  const onSearch = vi.fn();
  render(
    <Provider value={client}>
      <I18nProvider locale="en">
        <SearchBox value="" onSearch={onSearch} />
      </I18nProvider>
    </Provider>,
  );
  return { query, onSearch, input: screen.getByRole("combobox", { name: "Search" }) };
}

describe("SearchBox", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it("offers completions in a listbox and picks one with the arrow keys and Enter", () => {
    const { query, onSearch, input } = setup(["BATTERY CELL", "battery pack"]);
    fireEvent.change(input, { target: { value: "bat" } });
    expect(query).not.toHaveBeenCalled(); // debounced
    act(() => vi.advanceTimersByTime(200));
    expect(query).toHaveBeenCalledWith(expect.anything(), { prefix: "bat" }, { requestPolicy: "cache-first" });
    expect(input.getAttribute("aria-expanded")).toBe("true");
    expect(screen.getAllByRole("option").map((o) => o.textContent)).toEqual(["BATTERY CELL", "battery pack"]);

    fireEvent.keyDown(input, { key: "ArrowDown" });
    fireEvent.keyDown(input, { key: "ArrowDown" });
    const active = input.getAttribute("aria-activedescendant");
    expect(document.getElementById(active!)?.textContent).toBe("battery pack");
    expect(screen.getByRole("option", { name: "battery pack" }).getAttribute("aria-selected")).toBe("true");

    fireEvent.submit(input.closest("form")!);
    expect(onSearch).toHaveBeenCalledWith("battery pack");
  });

  it("submits the typed words at once, without waiting for completions", () => {
    const { query, onSearch, input } = setup(["x"]);
    fireEvent.change(input, { target: { value: "  배터리 " } });
    fireEvent.submit(input.closest("form")!);
    expect(onSearch).toHaveBeenCalledWith("배터리");
    act(() => vi.advanceTimersByTime(500));
    expect(query).not.toHaveBeenCalled(); // the pending completion was dropped
  });

  it("closes the list with Escape", () => {
    const { input } = setup(["solar cell"]);
    fireEvent.change(input, { target: { value: "sol" } });
    act(() => vi.advanceTimersByTime(200));
    expect(input.getAttribute("aria-expanded")).toBe("true");
    fireEvent.keyDown(input, { key: "Escape" });
    expect(input.getAttribute("aria-expanded")).toBe("false");
    expect(screen.getByRole("listbox", { hidden: true }).hidden).toBe(true);
  });
});
