/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

// `npm run dev` proxies the API to a running backend (`make run` prints its port).
const api = process.env.IMPORTER_API_URL ?? "http://127.0.0.1:8000";

/** The most the first screen's chunk may weigh, in kB as Vite counts them (1,000 bytes): the
 * build fails beyond it, where Vite would only warn. The later screens load as chunks of their
 * own (React Router's lazy routes). */
const MAIN_CHUNK_KB = 500;

function mainChunkLimit(): Plugin {
  return {
    name: "main-chunk-limit",
    apply: "build",
    generateBundle(_options, bundle) {
      for (const output of Object.values(bundle)) {
        if (output.type !== "chunk" || !output.isEntry) continue;
        const kb = Buffer.byteLength(output.code) / 1000;
        if (kb > MAIN_CHUNK_KB) {
          this.error(
            `${output.fileName} is ${kb.toFixed(0)} kB, over ${MAIN_CHUNK_KB} kB: load what the first screen does not need lazily`,
          );
        }
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), mainChunkLimit()],
  server: {
    proxy: {
      "/api": { target: api, changeOrigin: false },
    },
  },
  build: {
    outDir: "dist",
    sourcemap: true,
    chunkSizeWarningLimit: MAIN_CHUNK_KB,
  },
  worker: {
    format: "es",
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
