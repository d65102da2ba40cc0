/**
 * ECS and EVS list paging and filters as the services document them (ListServersDetails:
 * offset = page number, limit, marker, server_id, tags, not-tags, count; ListVolumes: offset, limit,
 * marker, volumes_links on a partial page), on a generated estate of 60 servers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ecsServerList, evsVolumeList } from "../../lib/sdrs/schemas.ts";
import { parseEstate } from "../../lib/sim/estate.ts";
import type { Simulator } from "../../lib/sim/server.ts";
import { call, errorCodeOf, path, startTestSimulator } from "./sim-client.ts";

const SERVER_COUNT = 60;
const serverIds = Array.from({ length: SERVER_COUNT }, (_, index) => `srv-${String(index).padStart(3, "0")}`);

/** Every third server is tagged for protection; servers 10 and 11 share a disk. */
const estate = parseEstate({
  servers: serverIds.map((id, index) => ({
    id,
    name: `app-${index}`,
    az: "eu-de-01",
    vpcId: "vpc-1",
    flavor: "s6.large.2",
    tags: index % 3 === 0 ? { sdrs_protect: "pg-1" } : { team: "web" },
    volumes: [{ id: `sys-${id}`, bootIndex: 0 }, ...(index === 10 || index === 11 ? [{ id: "shared-1" }] : [])],
  })),
  volumes: [...serverIds.map((id) => ({ id: `sys-${id}` })), { id: "shared-1", multiattach: true }],
});

const volumeIds = [...serverIds.map((id) => `sys-${id}`), "shared-1"];

async function servers(sim: Simulator, query: string) {
  const result = await call(sim, "GET", `${path.servers}?${query}`);
  expect(result.status).toBe(200);
  return ecsServerList.parse(result.json);
}

async function volumes(sim: Simulator, query: string) {
  const result = await call(sim, "GET", `${path.volumes}?${query}`);
  expect(result.status).toBe(200);
  return evsVolumeList.parse(result.json);
}

describe("ECS and EVS list paging", () => {
  let sim: Simulator;
  beforeAll(async () => {
    ({ sim } = await startTestSimulator({ estate }));
  });
  afterAll(() => sim.close());

  describe("ECS ListServersDetails", () => {
    it("answers 25 servers by default with count = every server", async () => {
      const page = await servers(sim, "");
      expect(page.count).toBe(SERVER_COUNT);
      expect(page.servers.map((server) => server.id)).toEqual(serverIds.slice(0, 25));
    });

    it("offset is a 1-based page number; 0 behaves like 1", async () => {
      expect((await servers(sim, "limit=7&offset=0")).servers.map((server) => server.id)).toEqual(
        serverIds.slice(0, 7),
      );
      expect((await servers(sim, "limit=7&offset=1")).servers.map((server) => server.id)).toEqual(
        serverIds.slice(0, 7),
      );
      expect((await servers(sim, "limit=7&offset=3")).servers.map((server) => server.id)).toEqual(
        serverIds.slice(14, 21),
      );
    });

    it("marker resumes after the last server of the previous page, and replaces offset", async () => {
      const seen: string[] = [];
      let marker = "";
      for (let page = 0; page < 10; page++) {
        const answer = await servers(sim, `limit=16&offset=1${marker === "" ? "" : `&marker=${marker}`}`);
        seen.push(...answer.servers.map((server) => server.id));
        const last = answer.servers.at(-1);
        if (answer.servers.length < 16 || last === undefined) break;
        marker = last.id;
      }
      expect(seen).toEqual(serverIds);
    });

    it("marker works together with a filter, counting positions in the whole list", async () => {
      const tagged = serverIds.filter((_, index) => index % 3 === 0);
      const page = await servers(sim, `tags=sdrs_protect=pg-1&limit=5&marker=${serverIds[13]}`);
      expect(page.servers.map((server) => server.id)).toEqual(tagged.filter((id) => id > "srv-013").slice(0, 5));
      expect(page.count).toBe(tagged.length);
    });

    it("answers an unknown marker with 400 Ecs.0005", async () => {
      const result = await call(sim, "GET", `${path.servers}?marker=no-such-server`);
      expect(result.status).toBe(400);
      expect(errorCodeOf(result)).toBe("Ecs.0005");
    });

    it("server_id lists exactly the given servers and ignores every other filter", async () => {
      const page = await servers(
        sim,
        `server_id=${serverIds[40]},${serverIds[2]},${serverIds[7]}&tags=nobody&status=ERROR`,
      );
      expect(page.servers.map((server) => server.id)).toEqual([serverIds[40], serverIds[2], serverIds[7]]);
      expect(page.count).toBe(3);
    });

    it("server_id with an id that does not exist answers its entry with only id and fault set", async () => {
      const result = await call(sim, "GET", `${path.servers}?server_id=${serverIds[0]},ghost`);
      const body = result.json as { servers: Record<string, unknown>[] };
      const ghost = body.servers[1] ?? {};
      expect(ghost.id).toBe("ghost");
      expect(ghost.fault).toMatchObject({ code: 404 });
      const setFields = Object.entries(ghost)
        .filter(([, value]) => value !== null)
        .map(([field]) => field);
      expect(setFields.sort()).toEqual(["fault", "id"]);
      expect(Object.keys(ghost)).toEqual(expect.arrayContaining(["name", "status", "flavor", "addresses"]));
    });

    it("server_id pages by limit and marker too", async () => {
      const ids = serverIds.slice(20, 30).join(",");
      const first = await servers(sim, `server_id=${ids}&limit=4`);
      expect(first.servers.map((server) => server.id)).toEqual(serverIds.slice(20, 24));
      const second = await servers(sim, `server_id=${ids}&limit=4&marker=${serverIds[23]}`);
      expect(second.servers.map((server) => server.id)).toEqual(serverIds.slice(24, 28));
    });

    it("tags matches key=value or a key; not-tags excludes them", async () => {
      const tagged = serverIds.filter((_, index) => index % 3 === 0);
      expect((await servers(sim, "tags=sdrs_protect=pg-1&limit=1000")).servers.map((server) => server.id)).toEqual(
        tagged,
      );
      expect((await servers(sim, "tags=sdrs_protect&limit=1000")).servers.map((server) => server.id)).toEqual(tagged);
      const untagged = await servers(sim, "not-tags=sdrs_protect&limit=1000");
      expect(untagged.servers.map((server) => server.id)).toEqual(serverIds.filter((_, index) => index % 3 !== 0));
      expect(untagged.count).toBe(SERVER_COUNT - tagged.length);
    });

    it.each(["limit=0", "limit=1001", "offset=-1", "limit=x"])("answers %s with 400 Ecs.0005", async (query) => {
      const result = await call(sim, "GET", `${path.servers}?${query}`);
      expect(result.status).toBe(400);
      expect(errorCodeOf(result)).toBe("Ecs.0005");
    });
  });

  describe("EVS ListVolumes", () => {
    it("a partial page carries volumes_links next, resuming after its last volume; the last page has none", async () => {
      const first = await volumes(sim, "limit=25");
      expect(first.count).toBe(volumeIds.length);
      expect(first.volumes.map((volume) => volume.id)).toEqual(volumeIds.slice(0, 25));
      const next = first.volumes_links?.find((link) => link.rel === "next");
      expect(next).toBeDefined();
      const nextUrl = new URL(next?.href ?? "");
      expect(nextUrl.pathname).toBe(path.volumes);
      expect(nextUrl.searchParams.get("marker")).toBe(volumeIds[24]);
      const seen = [...first.volumes.map((volume) => volume.id)];
      let href = next?.href;
      for (let page = 0; page < 10 && href !== undefined; page++) {
        const link = new URL(href);
        const answer = await volumes(sim, link.searchParams.toString());
        seen.push(...answer.volumes.map((volume) => volume.id));
        href = answer.volumes_links?.find((candidate) => candidate.rel === "next")?.href;
      }
      expect(seen).toEqual(volumeIds);
      const last = await volumes(sim, `limit=25&marker=${volumeIds[49]}`);
      expect(last.volumes.map((volume) => volume.id)).toEqual(volumeIds.slice(50));
      expect(last.volumes_links).toBeUndefined();
    });

    it("offset skips volumes (after the marker when both are given)", async () => {
      expect((await volumes(sim, "limit=3&offset=5")).volumes.map((volume) => volume.id)).toEqual(
        volumeIds.slice(5, 8),
      );
      expect(
        (await volumes(sim, `limit=3&offset=2&marker=${volumeIds[9]}`)).volumes.map((volume) => volume.id),
      ).toEqual(volumeIds.slice(12, 15));
    });

    it("server_id lists the volumes attached to that server, a shared disk with every attachment", async () => {
      const page = await volumes(sim, `server_id=${serverIds[11]}`);
      expect(page.volumes.map((volume) => volume.id)).toEqual([`sys-${serverIds[11]}`, "shared-1"]);
      expect(page.volumes[1]?.attachments.map((attachment) => attachment.server_id)).toEqual([
        serverIds[10],
        serverIds[11],
      ]);
      expect((await volumes(sim, "multiattach=true")).volumes.map((volume) => volume.id)).toEqual(["shared-1"]);
    });

    it("answers an unknown marker with 400 EVS.2062", async () => {
      const result = await call(sim, "GET", `${path.volumes}?marker=no-such-volume`);
      expect(result.status).toBe(400);
      expect(errorCodeOf(result)).toBe("EVS.2062");
    });
  });
});
