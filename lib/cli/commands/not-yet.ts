/** Placeholder for a command that is announced but not built yet: it says so and exits 2. */
import type { Command } from "commander";
import { CliError, EXIT } from "../errors.ts";
import { examplesHelp } from "../help.ts";

export function registerNotYetAvailable(program: Command, name: string, description: string, example: string): Command {
  return program
    .command(name)
    .description(`${description} (not yet available)`)
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText("after", examplesHelp([[example]]))
    .action(() => {
      throw new CliError("NOT_AVAILABLE", `${name}: not yet available in this version`, EXIT.usage);
    });
}
