/**
 * What the intrinsic functions (`States.MathRandom`, `States.Hash`) and JSONata's AWS functions
 * (`$random`, `$hash`) share: java.util.Random — AWS's runtime is a JVM, so a seed gives Java's sequence
 * (AWS documents only that the same seed gives the same number) — and the hash algorithms AWS names.
 */
import { createHash } from 'node:crypto';

const INT_MAX = 2_147_483_647;

/** java.util.Random (48-bit linear congruential generator). */
export class JavaRandom {
  private static readonly MULTIPLIER = 0x5deece66dn;
  private static readonly MASK = (1n << 48n) - 1n;
  private seed: bigint;

  constructor(seed: bigint) {
    this.seed = (BigInt.asUintN(64, seed) ^ JavaRandom.MULTIPLIER) & JavaRandom.MASK;
  }

  private next(bits: number): number {
    this.seed = (this.seed * JavaRandom.MULTIPLIER + 0xbn) & JavaRandom.MASK;
    return Number(BigInt.asIntN(32, this.seed >> BigInt(48 - bits)));
  }

  /** A uniform integer in [0, bound), bound > 0 (beyond Java's int range: from nextDouble()). */
  nextInt(bound: number): number {
    if (bound > INT_MAX) return Math.floor(this.nextDouble() * bound);
    if ((bound & -bound) === bound) {
      return Number((BigInt(bound) * BigInt(this.next(31))) >> 31n);
    }
    for (;;) {
      const bits = this.next(31);
      const value = bits % bound;
      if (bits - value + (bound - 1) <= INT_MAX) return value;
    }
  }

  /** A uniform number in [0, 1). */
  nextDouble(): number {
    return (this.next(26) * 2 ** 27 + this.next(27)) * 2 ** -53;
  }
}

/** The hash algorithms AWS names (States.Hash, $hash) and Node's names for them. */
const HASH_ALGORITHMS: Readonly<Record<string, string>> = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

export const HASH_ALGORITHM_NAMES: readonly string[] = Object.keys(HASH_ALGORITHMS);

/** The lowercase hex digest of `text` (UTF-8) with the algorithm AWS names, or undefined for another name. */
export function hashHex(text: string, algorithm: string): string | undefined {
  const nodeName = HASH_ALGORITHMS[algorithm];
  return nodeName === undefined ? undefined : createHash(nodeName).update(text, 'utf8').digest('hex');
}
