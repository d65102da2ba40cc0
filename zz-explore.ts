import { CloudClient } from "./lib/sdrs/client.ts";
import { simulatorCloudConfig } from "./lib/sdrs/config.ts";
import { loadEstate, SAMPLE_ESTATE_PATH } from "./lib/sim/estate.ts";
import { startSimulator } from "./lib/sim/server.ts";
const sim = await startSimulator({ estate: loadEstate(SAMPLE_ESTATE_PATH) });
const client = new CloudClient(simulatorCloudConfig(sim.url));
const g = await client.getProtectionGroup("eeb857c3-2690-4d3f-a338-4b8f346e1bb9");
console.log(g.source_availability_zone, g.target_availability_zone, g.priority_station);
const s = await client.getServer("23f5b573-f8e0-4398-afc7-7cbcc12cc3e2");
console.log(s.name, s["OS-EXT-AZ:availability_zone"]);
const db1 = await client.getServer("df616dd3-" .length ? (await client.listServers()).find(x=>x.name==="db-01")!.id : "");
console.log(db1.name, db1["OS-EXT-AZ:availability_zone"]);
try { console.log(await client.createProtectedInstance({ server_group_id: g.id, server_id: db1.id, name: "db-01" })); } catch (e) { console.log(String(e)); }
await sim.close();
