/** events/targets.sample.json is what `npm start` runs with: it must parse and name the sample estate's groups. */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadTargetsConfig } from "../../lib/config/targets.ts";
import { estate, PG_DB, PG_WEB, taggedServers } from "./harness.ts";

const SAMPLE = fileURLToPath(new URL("../../events/targets.sample.json", import.meta.url));

describe("events/targets.sample.json", () => {
  const config = loadTargetsConfig({ SDRS_TARGETS_FILE: SAMPLE });

  it("maps target web to pg-web and db to pg-db of the sample estate", () => {
    expect(config.targets.web?.protectionGroup).toEqual({ id: PG_WEB });
    expect(config.targets.db?.protectionGroup).toEqual({ id: PG_DB });
    const groups = new Map(estate.protectionGroups.map((group) => [group.id, group.name]));
    expect([groups.get(PG_WEB), groups.get(PG_DB)]).toEqual(["pg-web", "pg-db"]);
  });

  it("configures every target name the sample estate's protect tags use, except the deliberately unknown `analytics`", () => {
    expect(config.protectTagKey).toBe("sdrs_protect");
    const names = new Set(
      taggedServers.map((server) => server.tags?.sdrs_protect ?? "").filter((value) => !/^[0-9a-f-]{36}$/.test(value)),
    );
    expect([...names].sort()).toEqual(["analytics", "db", "web"]);
    expect(Object.keys(config.targets).sort()).toEqual(["db", "web"]);
  });

  it("has one webhook endpoint `local` whose secret comes from SDRS_WEBHOOK_SECRET, never from the file", () => {
    expect(config.webhooks).toEqual([
      { id: "local", url: "http://127.0.0.1:8787/", secret: { env: "SDRS_WEBHOOK_SECRET" } },
    ]);
  });
});
