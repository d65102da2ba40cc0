/**
 * `sim`: options and help; the work is in ../actions/sim.ts, loaded only when the command runs, so
 * `--help` and the other commands start without the simulator's code.
 */
import { type Command, Option } from "commander";
import type { CliContext } from "../context.ts";
import { examplesHelp } from "../help.ts";
import { hostName, portNumber, wholeNumber } from "../options.ts";

export function register(program: Command, context: CliContext): void {
  program
    .command("sim")
    .description("run the SDRS simulator (SDRS, ECS, EVS, IAM and Auto Scaling on one local URL) until Ctrl+C")
    .option("--port <port>", "port to listen on; 0 picks a free one", portNumber, 0)
    .option("--host <host>", "address to listen on", hostName, "127.0.0.1")
    .option("--estate <file>", "estate JSON (servers, disks, groups…); default: the sample estate")
    .option("--seed <n>", "seed for ids, job durations and random faults", wholeNumber(0, 2 ** 31 - 1), 1)
    .option("--fast", "jobs take seconds instead of minutes")
    .addOption(
      new Option(
        "--batch-limit <n>",
        "servers per batch create; more are refused with SDRS.1362 (default: 5)",
      ).argParser(wholeNumber(1, 1000)),
    )
    .option("--faults <json>", "fault settings to start with (the body of POST /__sim/faults)")
    .addHelpText(
      "after",
      examplesHelp(
        [
          ["sim", "sample estate, realistic job durations (1–5 min)"],
          ["sim --fast --port 8080", "jobs finish in seconds"],
          ["sim --estate my-estate.json --seed 7"],
          ['sim --faults \'{"throttle":{"probability":0.2}}\'', "every 5th request or so answers 429"],
        ],
        [
          "The first line of output is the base URL, nothing else. To keep the simulator running and read it (bash):",
          "  exec 3< <(sdrs-autoprotect sim --fast); read -r URL <&3",
          "Credentials: HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK and HUAWEICLOUD_SDK_PROJECT_ID when set, else the simulator defaults.",
          "Control plane (no auth): GET /__sim/counts, GET|POST|DELETE /__sim/faults, GET /__sim/state,",
          'PUT /__sim/servers/{id}/tags. Example: curl -X POST $URL/__sim/faults -d \'{"serverError":{"next":2,"status":503}}\'',
        ],
      ),
    )
    .action(async (raw: unknown) => (await import("../actions/sim.ts")).runSim(context, raw));
}
