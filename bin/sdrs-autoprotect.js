#!/usr/bin/env node
// The `sdrs-autoprotect` command. Node 24 runs the TypeScript sources directly (type stripping); older
// releases announced that with an ExperimentalWarning, which is kept off the user's terminal.
const printWarning = process.listeners("warning");
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (warning.name === "ExperimentalWarning" && /type strip/i.test(warning.message)) return;
  for (const listener of printWarning) listener(warning);
});

await import("../lib/cli/main.ts");
