/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Two pages: the app (index.html) and GraphiQL (graphiql.html, served by the Go server at
// /graphiql). Hashed files land in dist/assets/, which the server caches for a year.
// The dev server proxies the API to a running `lawbot serve` (LAWBOT_URL, default :8080).
const api = process.env.LAWBOT_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: false, // scripts/clean-dist.mjs empties it but keeps dist/.keep (see embed.go)
    assetsInlineLimit: 0, // no data: URLs for scripts; the CSP allows 'self' only
    chunkSizeWarningLimit: 2500, // GraphiQL's own chunk is large and loads only at /graphiql
    rollupOptions: {
      input: { app: 'index.html', graphiql: 'graphiql.html' },
    },
  },
  server: {
    proxy: {
      '/graphql': { target: api, ws: true, changeOrigin: false },
      '/graphiql': api,
      '/readyz': api,
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['src/test-setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
  },
});
