import { measurePlanner } from "../planner-throughput.ts";
import { sampleEstate } from "../estates.ts";
const t = performance.now();
console.table(await measurePlanner(sampleEstate(), [1000, 5000], 5));
console.log(performance.now() - t);
