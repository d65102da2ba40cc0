/**
 * Server types SDRS cannot protect, recognised by the flavor family (the part of the flavor id or name
 * before the first "."). OTC UMN constraints: GPU- and FPGA-accelerated, C6, C9, S9, I9, M9, Kunpeng,
 * large-memory, disk-intensive (local disks) and bare-metal servers are not supported (SDRS.1356 for a
 * production flavor, SDRS.1353 for a DR flavor).
 */
const UNSUPPORTED_FAMILIES: readonly { pattern: RegExp; kind: string }[] = [
  { pattern: /^physical$/, kind: "bare metal" },
  { pattern: /^fp/, kind: "FPGA-accelerated" },
  { pattern: /^(g|p)/, kind: "GPU-accelerated" },
  { pattern: /^c6$/, kind: "C6" },
  { pattern: /^[csim]9[a-z]*$/, kind: "9th-generation (C9/S9/I9/M9)" },
  { pattern: /^k/, kind: "Kunpeng (Arm)" },
  { pattern: /^e/, kind: "large-memory" },
  { pattern: /^(d|i3$)/, kind: "disk-intensive" },
];

export function flavorFamily(flavor: string): string {
  return (flavor.split(".")[0] ?? "").toLowerCase();
}

/** The unsupported server type a flavor id or name belongs to, or undefined when supported. */
export function unsupportedFlavorKind(flavor: string): string | undefined {
  const family = flavorFamily(flavor);
  return UNSUPPORTED_FAMILIES.find(({ pattern }) => pattern.test(family))?.kind;
}
