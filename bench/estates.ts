/**
 * The estates the benchmarks protect: the simulator's sample estate (59 servers) and a scaled estate of
 * cloned eligible servers. Pure apart from loading the sample file.
 */
import {
  type Estate,
  type EstateServer,
  type EstateVolume,
  loadEstate,
  parseEstate,
  SAMPLE_ESTATE_PATH,
} from "../lib/sim/estate.ts";
import { type Random, seededRandom } from "../lib/sim/random.ts";

export const PROTECT_TAG = "sdrs_protect";
/** Sample-estate protection groups (lib/sim/sample-estate.json): pg-web runs in eu-de-01, pg-db in eu-de-02. */
export const PG_WEB = "523ab8ad-3759-4933-9436-4cf4ebb20867";
export const PG_DB = "eeb857c3-2690-4d3f-a338-4b8f346e1bb9";
/** The targets of the benchmark configuration: tag value → protection group id. */
export const TARGET_GROUPS: Readonly<Record<string, string>> = { web: PG_WEB, db: PG_DB };

export function sampleEstate(): Estate {
  return loadEstate(SAMPLE_ESTATE_PATH);
}

export interface TaggedServer {
  id: string;
  name: string;
  /** The protect tag's value: a target name or a protection group id. */
  target: string;
}

export function taggedServers(estate: Estate): TaggedServer[] {
  return estate.servers.flatMap((server) => {
    const target = server.tags[PROTECT_TAG];
    return target === undefined ? [] : [{ id: server.id, name: server.name, target }];
  });
}

/**
 * The protection group a tag value names, as a Terraform user would write it in a resource: a configured
 * target's group, or the value itself when it is a group id of the estate; undefined otherwise.
 */
export function groupForTag(target: string, estate: Estate): string | undefined {
  const configured = TARGET_GROUPS[target];
  if (configured !== undefined) return configured;
  return estate.protectionGroups.some((group) => group.id === target) ? target : undefined;
}

/**
 * The sample's servers our pipeline protects in pg-web (eu-de-01, vpc-prod), by name: lone servers and
 * two 2-server shared-disk clusters. Servers tagged with pg-web's id are left out so every clone carries
 * the same tag value.
 */
export const CLONABLE_WEB_SERVERS = [
  "web-01",
  "web-02",
  "web-03",
  "web-04",
  "web-05",
  "api-01",
  "win-app-01",
  "file-a-1",
  "file-a-2",
  "cache-b-1",
  "cache-b-2",
  "finance-01",
  "ha-node-01",
] as const;

/** A lone server or a shared-disk cluster: cloned as a whole so the clones share their own disk. */
interface CloneUnit {
  servers: EstateServer[];
}

function cloneUnits(estate: Estate): CloneUnit[] {
  const byName = new Map(estate.servers.map((server) => [server.name, server]));
  const volumeById = new Map(estate.volumes.map((volume) => [volume.id, volume]));
  const units = new Map<string, EstateServer[]>();
  for (const name of CLONABLE_WEB_SERVERS) {
    const server = byName.get(name);
    if (server === undefined) throw new Error(`the sample estate has no server ${name}`);
    const shared = server.volumes
      .map((attached) => volumeById.get(attached.id))
      .find((volume) => volume?.multiattach === true);
    const key = shared === undefined ? `server:${server.id}` : `disk:${shared.id}`;
    units.set(key, [...(units.get(key) ?? []), server]);
  }
  return [...units.values()].map((servers) => ({ servers }));
}

/**
 * The sample estate plus `count` clones of its eligible pg-web servers, with new server and volume ids
 * (drawn from `seed`), the names `<original>-s<copy>`, and tag `sdrs_protect=web`. Shared-disk clusters
 * are cloned whole, each copy with its own shared disk; one that would overshoot `count` is left out.
 * Returns the estate and the clones' ids, the servers to send tag events for.
 */
export function scaledEstate(base: Estate, count: number, seed = 7): { estate: Estate; cloneIds: string[] } {
  const random = seededRandom(seed);
  const units = cloneUnits(base);
  const volumeById = new Map(base.volumes.map((volume) => [volume.id, volume]));
  const servers: EstateServer[] = [];
  const volumes: EstateVolume[] = [];
  for (let copy = 1; servers.length < count; copy++) {
    for (const unit of units) {
      // A cluster that would overshoot is skipped; the lone servers after it fill up.
      if (servers.length + unit.servers.length > count) continue;
      const clone = cloneUnit(unit, copy, random, volumeById);
      servers.push(...clone.servers);
      volumes.push(...clone.volumes);
    }
  }
  const estate = parseEstate(
    { ...base, servers: [...base.servers, ...servers], volumes: [...base.volumes, ...volumes] },
    `scaled estate (${count} clones)`,
  );
  return { estate, cloneIds: servers.map((server) => server.id) };
}

/** One copy of a unit: new server and volume ids; a disk the unit's servers share stays shared among the copies. */
function cloneUnit(
  unit: CloneUnit,
  copy: number,
  random: Random,
  volumeById: ReadonlyMap<string, EstateVolume>,
): { servers: EstateServer[]; volumes: EstateVolume[] } {
  const newVolumeIds = new Map<string, string>();
  const volumes: EstateVolume[] = [];
  const servers = unit.servers.map((server): EstateServer => {
    const attachedVolumes = server.volumes.map((attached) => {
      let id = newVolumeIds.get(attached.id);
      if (id === undefined) {
        const original = volumeById.get(attached.id);
        if (original === undefined) throw new Error(`volume ${attached.id} of ${server.name} is not in the estate`);
        id = random.uuid();
        newVolumeIds.set(attached.id, id);
        volumes.push({
          ...structuredClone(original),
          id,
          ...(original.name ? { name: `${original.name}-s${copy}` } : {}),
        });
      }
      return { id, bootIndex: attached.bootIndex };
    });
    // The derived private IP and the sample's remark do not carry over to a clone.
    const { ip: _ip, _note, ...fields } = structuredClone(server);
    return {
      ...fields,
      id: random.uuid(),
      name: `${server.name}-s${copy}`,
      tags: { ...server.tags, [PROTECT_TAG]: "web" },
      volumes: attachedVolumes,
    };
  });
  return { servers, volumes };
}
