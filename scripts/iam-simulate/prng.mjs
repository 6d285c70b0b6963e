// The deterministic random source of the case generators (cases.mjs, semantic-cases.mjs):
// mulberry32, a small PRNG, from a fixed seed so every run with the same arguments is the same.
export function prng(seed) {
  let state = seed;
  const rand = () => {
    state |= 0;
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const chance = (p) => rand() < p;
  return { rand, pick, chance };
}
