/** Help text pieces shared by every command, so all `--help` pages read alike. */

export const PROGRAM_NAME = "sdrs-autoprotect";

/** "Examples:" help text, the same layout for every command. */
export function examplesHelp(
  examples: readonly [command: string, comment?: string][],
  notes: readonly string[] = [],
): string {
  const width = Math.max(...examples.map(([command]) => command.length)) + 2;
  const lines = examples.map(([command, comment]) =>
    comment === undefined
      ? `  $ ${PROGRAM_NAME} ${command}`
      : `  $ ${`${PROGRAM_NAME} ${command}`.padEnd(width + PROGRAM_NAME.length + 1)}# ${comment}`,
  );
  return ["", "Examples:", ...lines, ...(notes.length === 0 ? [] : ["", ...notes])].join("\n");
}
