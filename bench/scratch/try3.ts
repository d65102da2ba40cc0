import { comparePolling, simulatorDurations } from "../polling.ts";
for (const kind of ["single", "batch"] as const) {
  const d = simulatorDurations(kind, 2000, 5);
  console.table(comparePolling(kind, d, 9).map(({description, ...r}) => r));
}
