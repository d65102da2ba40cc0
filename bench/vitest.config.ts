/**
 * The benchmark suite's own tests (bench/test/): `npx vitest run --config bench/vitest.config.ts`.
 * Kept apart from the project's vitest.config.ts, which takes test/** only.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: fileURLToPath(new URL("..", import.meta.url)),
  test: {
    include: ["bench/test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
