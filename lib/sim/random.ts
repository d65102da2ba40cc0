/**
 * Seeded randomness for the simulator: job durations, probabilistic faults and generated ids repeat
 * run after run for the same seed, so a failing test or benchmark can be replayed.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max]. */
  between(min: number, max: number): number;
  /** `n` lowercase hex characters. */
  hex(length: number): string;
  /** A version-4-shaped UUID. */
  uuid(): string;
}

/** mulberry32: small, fast, good enough for simulation (not for secrets). */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const hex = (length: number) => {
    let out = "";
    for (let i = 0; i < length; i++) out += Math.floor(next() * 16).toString(16);
    return out;
  };
  return {
    next,
    between: (min, max) => min + Math.floor(next() * (max - min + 1)),
    hex,
    uuid: () => {
      const h = hex(32);
      const variant = "89ab"[Math.floor(next() * 4)] ?? "8";
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
    },
  };
}
