#!/usr/bin/env node
// The `sdrs-autoprotect` command. Node 24 runs the TypeScript sources directly (type stripping); older
// releases announced that with an ExperimentalWarning, which is kept off the user's terminal.

// First of all, before anything that needs it: on an older Node the TypeScript import below fails with
// ERR_UNKNOWN_FILE_EXTENSION and a stack trace. Say instead what to run. Inside the project, npx and npm
// scripts put node_modules/.bin first on PATH, where the project's pinned Node 24 (the `node` package) is.
const REQUIRED_MAJOR = 24;
const major = Number(process.versions.node.split(".")[0]);
if (!(major >= REQUIRED_MAJOR)) {
  const args = process.argv.slice(2).join(" ");
  process.stderr.write(
    [
      `sdrs-autoprotect needs Node.js ${REQUIRED_MAJOR} or newer; this is Node.js ${process.version} (${process.execPath}).`,
      "Inside the project, run it with the project's own Node 24 (installed by npm ci):",
      `  npx sdrs-autoprotect${args ? ` ${args}` : ""}`,
      `Or install Node.js ${REQUIRED_MAJOR} (https://nodejs.org/, or nvm install ${REQUIRED_MAJOR}) and run it again.`,
      "",
    ].join("\n"),
  );
  process.exit(2);
}

const printWarning = process.listeners("warning");
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (warning.name === "ExperimentalWarning" && /type strip/i.test(warning.message)) return;
  for (const listener of printWarning) listener(warning);
});

await import("../lib/cli/main.ts");
