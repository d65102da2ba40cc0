import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "bench/test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Vitest's default is one worker fewer than the cores: a single worker on 2 cores, the files one after
    // another. Most of the suite's time is spent waiting (simulated SDRS jobs of seconds, peers on
    // 127.0.0.1, outage limits), not computing, so at least 3 workers; one per core on larger machines.
    maxWorkers: Math.max(3, availableParallelism()),
  },
});
