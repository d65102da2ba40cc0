// dynalite ships no types; this is the part of its API the tests use (see node_modules/dynalite/readme.md).
declare module "dynalite" {
  import type { Server } from "node:http";

  export interface DynaliteOptions {
    /** LevelDB directory; in memory when omitted. */
    path?: string;
    /** How long tables stay CREATING (default 500 ms). */
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
  }

  export default function dynalite(options?: DynaliteOptions): Server;
}
