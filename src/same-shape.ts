/**
 * Compile-time check that two types describe one shape, e.g. a zod schema written for the specs
 * and the interface the code uses: `true satisfies SameShape<z.output<typeof Schema>, Interface>;`
 * fails the type check as soon as either one changes without the other.
 */
export type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
