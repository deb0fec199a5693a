import { z } from 'zod';
import { isSafeSegment } from '../redis/keys';

/**
 * Field schemas shared by catalog entries and client actions. Ids become parts of room names and
 * Redis keys, so they are short printable strings; numbers are accepted and turned into strings.
 */
export const id = z
  .union([z.string(), z.number().int().nonnegative()])
  .transform((v) => String(v))
  .refine(isSafeSegment, 'must be 1-128 characters of letters, digits, _ . : @ -');

/** Non-empty text with a length cap, so no payload field can be made arbitrarily large. */
export const text = (max: number) => z.string().min(1).max(max);
