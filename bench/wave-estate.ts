/**
 * The wave estate: a generated fleet of `size` servers, independent of the sample estate, as a real
 * migration tags it — in waves, two targets, shared-disk clusters, some servers that cannot be protected
 * and some that carry no tag. Pure and seeded: the same size and seed give the same estate.
 *
 * Mix (per unit of servers, drawn from the seed):
 *   - 12 % of the servers in shared-disk clusters of 2–3 (one multiattach data disk each cluster);
 *   - 6 % ineligible before any call: 2 % in another VPC, 2 % in the DR AZ, 2 % with an encrypted disk;
 *   - 8 % carry no protect tag (never protected, never read one by one);
 *   - the rest tagged `app` (70 %) or `data` (30 %); a cluster shares one target and one wave.
 * Tagged servers fall into `waves` waves (a server's wave is uniform over them).
 */
import type { Estate, EstateInput } from "../lib/sim/estate.ts";
import { parseEstate } from "../lib/sim/estate.ts";
import { seededRandom } from "../lib/sim/random.ts";
import { PROTECT_TAG } from "./estates.ts";

export const WAVE_VPC = "0c6f2a31-5b2c-4f0e-9d2e-6a1b0c7d8e01";
const OTHER_VPC = "0c6f2a31-5b2c-4f0e-9d2e-6a1b0c7d8e02";
const DOMAIN = "0c6f2a31-5b2c-4f0e-9d2e-6a1b0c7d8e03";
export const WAVE_GROUPS = {
  app: "0c6f2a31-5b2c-4f0e-9d2e-6a1b0c7d8e10",
  data: "0c6f2a31-5b2c-4f0e-9d2e-6a1b0c7d8e11",
} as const;
export type WaveTarget = keyof typeof WAVE_GROUPS;

export interface WaveServer {
  id: string;
  target: WaveTarget;
  wave: number;
}

export interface WaveEstate {
  estate: Estate;
  /** Tagged servers with their wave, in wave order then estate order. */
  tagged: WaveServer[];
  waves: number;
  /** Tagged servers a correct pipeline can protect (tagged minus ineligible). */
  eligible: number;
  /** Tagged servers that are ineligible before any call. */
  ineligible: number;
  /** Shared-disk clusters among the eligible tagged servers, by target: sizes of each. */
  clusterSizes: Record<WaveTarget, number[]>;
  /** Lone eligible tagged servers, by target. */
  loneServers: Record<WaveTarget, number>;
}

export interface WaveEstateOptions {
  size: number;
  seed?: number;
  waves?: number;
}

type Kind = "ok" | "otherVpc" | "drAz" | "encrypted" | "untagged";

function drawKind(roll: number): Kind {
  if (roll < 0.02) return "otherVpc";
  if (roll < 0.04) return "drAz";
  if (roll < 0.06) return "encrypted";
  if (roll < 0.14) return "untagged";
  return "ok";
}

export function waveEstate(options: WaveEstateOptions): WaveEstate {
  const waves = options.waves ?? 5;
  const random = seededRandom(options.seed ?? 23);
  const servers: NonNullable<EstateInput["servers"]> = [];
  const volumes: NonNullable<EstateInput["volumes"]> = [];
  const tagged: WaveServer[] = [];
  const clusterSizes: Record<WaveTarget, number[]> = { app: [], data: [] };
  const loneServers: Record<WaveTarget, number> = { app: 0, data: 0 };
  let ineligible = 0;

  const newServer = (index: number, kind: Kind, target: WaveTarget, wave: number, sharedVolumeId?: string): void => {
    const id = random.uuid();
    const systemVolume = random.uuid();
    volumes.push({
      id: systemVolume,
      name: `srv-${index}-sys`,
      size: 40,
      multiattach: false,
      encrypted: kind === "encrypted",
      frozen: false,
      serviceType: "EVS",
      volumeType: "SSD",
    });
    const tags: Record<string, string> = { env: "prod", wave: String(wave) };
    if (kind !== "untagged") tags[PROTECT_TAG] = target;
    servers.push({
      id,
      name: `srv-${String(index).padStart(5, "0")}`,
      status: "ACTIVE",
      az: kind === "drAz" ? "eu-de-02" : "eu-de-01",
      vpcId: kind === "otherVpc" ? OTHER_VPC : WAVE_VPC,
      flavor: "s6.large.2",
      osType: "Linux",
      locked: false,
      frozen: false,
      tags,
      volumes: [{ id: systemVolume, bootIndex: 0 }, ...(sharedVolumeId ? [{ id: sharedVolumeId, bootIndex: -1 }] : [])],
    });
    if (kind === "untagged") return;
    tagged.push({ id, target, wave });
    if (kind !== "ok") ineligible += 1;
  };

  for (let index = 0; index < options.size; ) {
    const target: WaveTarget = random.next() < 0.7 ? "app" : "data";
    const wave = random.between(0, waves - 1);
    const clusterSize = random.next() < 0.05 ? random.between(2, 3) : 1;
    if (clusterSize > 1 && index + clusterSize <= options.size) {
      const shared = random.uuid();
      volumes.push({
        id: shared,
        name: `shared-${index}`,
        size: 100,
        multiattach: true,
        encrypted: false,
        frozen: false,
        serviceType: "EVS",
        volumeType: "SSD",
      });
      for (let member = 0; member < clusterSize; member++) newServer(index + member, "ok", target, wave, shared);
      clusterSizes[target].push(clusterSize);
      index += clusterSize;
      continue;
    }
    const kind = drawKind(random.next());
    newServer(index, kind, target, wave);
    if (kind === "ok") loneServers[target] += 1;
    index += 1;
  }

  const input: EstateInput = {
    region: "eu-de",
    vpcs: [
      { id: WAVE_VPC, name: "vpc-fleet" },
      { id: OTHER_VPC, name: "vpc-lab" },
    ],
    activeDomains: [{ id: DOMAIN, name: "domain-eu-de", localAz: "eu-de-01", remoteAz: "eu-de-02" }],
    protectionGroups: Object.entries(WAVE_GROUPS).map(([name, id]) => ({
      id,
      name: `pg-${name}`,
      status: "available",
      sourceAz: "eu-de-01",
      targetAz: "eu-de-02",
      vpcId: WAVE_VPC,
      domainId: DOMAIN,
    })),
    servers,
    volumes,
  };
  tagged.sort((a, b) => a.wave - b.wave);
  return {
    estate: parseEstate(input, `wave estate (${options.size} servers)`),
    tagged,
    waves,
    eligible: tagged.length - ineligible,
    ineligible,
    clusterSizes,
    loneServers,
  };
}

/**
 * The floor of create calls: every eligible server in a batch of at most `batchLimit`, a cluster never
 * split (first-fit decreasing over the clusters, then lone servers fill up).
 */
export function minimumCreates(wave: Pick<WaveEstate, "clusterSizes" | "loneServers">, batchLimit = 5): number {
  let creates = 0;
  for (const target of Object.keys(WAVE_GROUPS) as WaveTarget[]) {
    const bins: number[] = [];
    for (const size of [...wave.clusterSizes[target]].sort((a, b) => b - a)) {
      const bin = bins.findIndex((used) => used + size <= batchLimit);
      if (bin === -1) bins.push(size);
      else bins[bin] = (bins[bin] ?? 0) + size;
    }
    const free = bins.reduce((sum, used) => sum + (batchLimit - used), 0);
    creates += bins.length + Math.ceil(Math.max(0, wave.loneServers[target] - free) / batchLimit);
  }
  return creates;
}
