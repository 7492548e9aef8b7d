// The lab's build: Preact, everything bundled (no CDN), output beside the CLI in dist/lab-app.
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [preact()],
  logLevel: 'warn',
  build: { outDir: fileURLToPath(new URL('../dist/lab-app', import.meta.url)), emptyOutDir: true, sourcemap: false },
});
