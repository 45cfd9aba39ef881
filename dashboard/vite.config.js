import { defineConfig } from "vite";

// The build lands inside the Python package, so `pip install linkstar` ships the dashboard.
export default defineConfig({
  base: "/",
  build: { outDir: "../core/runtime/dashboard", emptyOutDir: true, sourcemap: false },
  server: { proxy: { "/graphql": { target: "http://127.0.0.1:8000", ws: true } } },
});
