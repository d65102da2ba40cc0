/**
 * `node bench/wave-child.ts <size> <events|bulk> [seed]`: one wave run in its own process (so CPU and peak
 * RSS are the run's alone), its WaveRunResult as JSON on stdout. bench/scale.ts starts these.
 */
import { waveEstate } from "./wave-estate.ts";
import { runWave, type WaveMode } from "./wave-run.ts";

const [sizeText, modeText, seedText] = process.argv.slice(2);
const size = Number(sizeText);
if (!Number.isInteger(size) || size <= 0) throw new Error(`size: ${sizeText} is not a positive integer`);
if (modeText !== "events" && modeText !== "bulk") throw new Error(`mode: ${modeText} is neither events nor bulk`);
const seed = seedText === undefined ? 11 : Number(seedText);
// The estate has its own seed: the simulator draws its generated ids from `seed`, and they must not collide.
const result = await runWave(waveEstate({ size }), modeText as WaveMode, seed);
process.stdout.write(`${JSON.stringify(result)}\n`);
