import { runNaive } from "../naive.ts";
import { sampleEstate, taggedServers, scaledEstate, groupForTag } from "../estates.ts";
const estate = sampleEstate();
const tagged = taggedServers(estate);
const r = await runNaive({ estate, servers: tagged.map(s => ({ id: s.id, name: s.name, groupId: groupForTag(s.target, estate) })), seed: 11 });
const tally: Record<string, number> = {};
for (const o of Object.values(r.outcomes)) { const k = o.kind + ("errorCode" in o ? " " + o.errorCode : ""); tally[k] = (tally[k] ?? 0) + 1; }
console.log(tally, r.requests, r.virtualMs / 1000, r.wallMs);
const scaled = scaledEstate(estate, 500);
const byId = new Map(scaled.estate.servers.map(s => [s.id, s]));
const r2 = await runNaive({ estate: scaled.estate, servers: scaled.cloneIds.map(id => ({ id, name: byId.get(id)?.name ?? id, groupId: groupForTag("web", estate) })), seed: 11 });
const tally2: Record<string, number> = {};
for (const o of Object.values(r2.outcomes)) { const k = o.kind + ("errorCode" in o ? " " + o.errorCode : ""); tally2[k] = (tally2[k] ?? 0) + 1; }
console.log(tally2, r2.requests, r2.virtualMs / 1000, r2.wallMs);
