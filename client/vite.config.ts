import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// `vite dev` talks to a running daemon; DEBYARD_API overrides the default address.
const api = process.env.DEBYARD_API ?? 'http://127.0.0.1:8066';

export default defineConfig({
  plugins: [vue()],
  server: {
    proxy: {
      '/graphql': { target: api, ws: true, changeOrigin: true },
      '/repositories': { target: api, changeOrigin: true },
      '/logs': { target: api, changeOrigin: true },
    },
  },
  preview: {
    proxy: {
      '/graphql': { target: api, ws: true, changeOrigin: true },
    },
  },
  build: {
    outDir: 'dist',
    // The explorer chunk (GraphiQL with React and CodeMirror) is big by nature and loaded only on
    // its route; the warning is meant for the main bundle.
    chunkSizeWarningLimit: 2000,
    rolldownOptions: {
      onwarn(warning, warn) {
        // React libraries in GraphiQL start with "use client", which means nothing in a SPA.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
});
