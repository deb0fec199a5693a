import { z } from 'zod';
import { isSafeSegment } from '../ids';

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

/**
 * Attaches examples to a schema as zod metadata, so `z.toJSONSchema` writes them as `examples`:
 * the OpenAPI and AsyncAPI documents show them and their tests send them to a live gateway. Typed
 * by the schema's input: an example that does not fit the schema does not compile.
 */
export function withExamples<S extends z.ZodType>(
  schema: S,
  ...examples: [z.input<S>, ...z.input<S>[]]
): S {
  return schema.meta({ examples });
}

/** The examples `withExamples` attached to a schema (none for a schema without). */
export function examplesOf(schema: z.ZodType): unknown[] {
  const examples = schema.meta()?.examples;
  return Array.isArray(examples) ? examples : [];
}
