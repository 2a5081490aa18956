import type { Catalog } from "../catalog";

// Keys of this area start with "broker.".
export const en = {
  "broker.title": "broker",
} as const;

export const ko: Catalog<typeof en> = {
  "broker.title": "broker",
};
