/**
 * Why a production secret is too weak to run with, or undefined when it is not: a published
 * placeholder, or a value with too little entropy to resist guessing (a repeated character, a short
 * word). The reason names no part of the value.
 */
export function secretWeakness(
  value: string,
  placeholders: ReadonlySet<string>,
): string | undefined {
  if (placeholders.has(value) || /change-?me|placeholder|example|secret-here|your-/i.test(value))
    return 'is a published placeholder; generate one (openssl rand -hex 32)';
  if (/^(.+?)\1+$/s.test(value))
    return 'has too little entropy (one pattern repeated); generate one (openssl rand -hex 32)';
  if (estimatedBits(value) < MIN_BITS)
    return `has too little entropy (under ${MIN_BITS} bits estimated); generate one (openssl rand -hex 32)`;
  return undefined;
}

/** 16 random hex digits (the shortest PUBLISH_TOKEN) estimate at about 54 bits: above this. */
const MIN_BITS = 48;

/**
 * The value's length times the Shannon entropy of its characters: 0 for `aaaa…`, about 4 bits a
 * character for random hex, 6 for base64url. A crude upper bound on real entropy, enough to refuse
 * what a careless integrator types, never proof that a value is random.
 */
export function estimatedBits(value: string): number {
  const counts = new Map<string, number>();
  let n = 0;
  for (const ch of value) {
    counts.set(ch, (counts.get(ch) ?? 0) + 1);
    n++;
  }
  let perChar = 0;
  for (const c of counts.values()) perChar -= (c / n) * Math.log2(c / n);
  return n * perChar;
}
