import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [preact()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Served under a Content-Security-Policy without inline scripts or data: scripts.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
