/** IPv4 membership of a CIDR block, with node:net's BlockList (no address arithmetic by hand). */
import { BlockList } from "node:net";

export function ipInCidr(ip: string, cidr: string): boolean {
  const [base = "0.0.0.0", prefix = "32"] = cidr.split("/");
  const block = new BlockList();
  block.addSubnet(base, Number(prefix), "ipv4");
  return block.check(ip, "ipv4");
}
