/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Dev mode (npm run dev / make web-dev): Vite serves the app with hot reload on :5173 and proxies the
// API, websockets, admin and escrow downloads to Django on :8000. Built assets go to dist/ under
// /assets/, which Django serves (backend/spa.py).
// Node's types are not installed (only this line needs them).
declare const process: { env: Record<string, string | undefined> };
const api = process.env.IPMARKET_API ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  server: {
    host: "127.0.0.1",
    port: 5173,
    proxy: {
      "/graphql/": { target: api, ws: true, changeOrigin: false },
      // The Host header must stay the browser's: Django's CSRF check compares it with the Origin.
      "/admin/": { target: api, changeOrigin: false },
      "/escrow/": { target: api, changeOrigin: false },
      "/static/": api,
      "/healthz": api,
    },
  },
  build: {
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
