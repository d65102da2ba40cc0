/**
 * A dry run plans every target with the same project listings (servers, volumes, protected instances, key
 * pairs, Auto Scaling); this reader asks the cloud once per distinct read and shares the answer. A plan
 * over the whole project reads it in one pass: reads of servers or volumes by id are answered from the
 * project listing. A failed read is not kept, so it is asked again next time.
 */
import type { EcsServer, EvsVolume, ProtectedInstance, ProtectionGroup } from "../../sdrs/schemas.ts";
import type { PlanReader } from "./plan-targets.ts";

export class CachedPlanReader implements PlanReader {
  readonly #cloud: PlanReader;
  readonly #answers = new Map<string, Promise<unknown>>();

  constructor(cloud: PlanReader) {
    this.#cloud = cloud;
  }

  #once<T>(key: string, read: () => Promise<T>): Promise<T> {
    const known = this.#answers.get(key) as Promise<T> | undefined;
    if (known !== undefined) return known;
    const answer = read();
    this.#answers.set(key, answer);
    answer.catch(() => this.#answers.delete(key));
    return answer;
  }

  getProtectionGroup(serverGroupId: string): Promise<ProtectionGroup> {
    return this.#once(`getProtectionGroup ${serverGroupId}`, () => this.#cloud.getProtectionGroup(serverGroupId));
  }

  listProtectionGroups(filter: { name?: string } = {}): Promise<ProtectionGroup[]> {
    return this.#once(`listProtectionGroups ${JSON.stringify(filter)}`, () => this.#cloud.listProtectionGroups(filter));
  }

  listProtectedInstances(filter: Record<string, never> = {}): Promise<ProtectedInstance[]> {
    return this.#once("listProtectedInstances", () => this.#cloud.listProtectedInstances(filter));
  }

  getServer(serverId: string): Promise<EcsServer> {
    return this.#once(`getServer ${serverId}`, () => this.#cloud.getServer(serverId));
  }

  async listServers(filter: { tags?: string; serverIds?: readonly string[] } = {}): Promise<EcsServer[]> {
    const { serverIds, ...rest } = filter;
    const listed = await this.#once(`listServers ${JSON.stringify(rest)}`, () => this.#cloud.listServers(rest));
    if (serverIds === undefined) return listed;
    const wanted = new Set(serverIds);
    return listed.filter((server) => wanted.has(server.id));
  }

  async listVolumes(
    filter: { serverId?: string; multiattach?: boolean; ids?: readonly string[] } = {},
  ): Promise<EvsVolume[]> {
    const { ids, ...rest } = filter;
    const listed = await this.#once(`listVolumes ${JSON.stringify(rest)}`, () => this.#cloud.listVolumes(rest));
    if (ids === undefined) return listed;
    const wanted = new Set(ids);
    return listed.filter((volume) => wanted.has(volume.id));
  }

  listKeypairs(): Promise<{ name: string }[]> {
    return this.#once("listKeypairs", () => this.#cloud.listKeypairs());
  }

  listScalingGroups(): Promise<{ scaling_group_id: string }[]> {
    return this.#once("listScalingGroups", () => this.#cloud.listScalingGroups());
  }

  listScalingGroupInstances(scalingGroupId: string): Promise<{ instance_id: string }[]> {
    return this.#once(`listScalingGroupInstances ${scalingGroupId}`, () =>
      this.#cloud.listScalingGroupInstances(scalingGroupId),
    );
  }
}
