import { z } from 'zod';
import { id } from '../catalog/fields';
import { SEGMENT_RE } from '../ids';

/** A JSON Schema (or any JSON object) as the documents hold it. */
export type Json = Record<string, unknown>;

export interface ConvertOptions {
  /** `input` for what a caller sends (before defaults and transforms), `output` for what it receives. */
  readonly io: 'input' | 'output';
  /** OpenAPI 3.1 schemas are draft 2020-12; AsyncAPI 3.0's default schema format is a superset of draft-07. */
  readonly target: 'draft-2020-12' | 'draft-07';
}

const ID_STRING = {
  type: 'string',
  pattern: SEGMENT_RE.source,
  description: '1-128 characters of letters, digits, _ . : @ -',
};

/**
 * `z.toJSONSchema` with what the specs need: the shared `id` field (src/catalog/fields.ts), a
 * transform zod cannot describe, spelled out (a string or, as input, a whole number that becomes
 * one); schemas with no JSON Schema equivalent written as `{}` instead of throwing.
 */
function params(options: ConvertOptions) {
  return {
    io: options.io,
    target: options.target,
    unrepresentable: 'any' as const,
    override: (ctx: { zodSchema: unknown; jsonSchema: Json }) => {
      if (ctx.zodSchema !== id) return;
      // Replaced in place: the converter keeps this object, so its keys are cleared, not the object.
      for (const key of Object.keys(ctx.jsonSchema)) Reflect.deleteProperty(ctx.jsonSchema, key);
      Object.assign(
        ctx.jsonSchema,
        options.io === 'output'
          ? ID_STRING
          : {
              anyOf: [
                ID_STRING,
                {
                  type: 'integer',
                  minimum: 0,
                  description: 'a whole number, turned into a string',
                },
              ],
            },
      );
    },
  };
}

/** Drops the keywords a schema embedded in a document must not carry (`$schema`, a fragment `$id`). */
function embeddable(schema: Json): Json {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

/** One schema, inline. */
export function toJsonSchema(schema: z.ZodType, options: ConvertOptions): Json {
  return embeddable(z.toJSONSchema(schema, params(options)));
}

/**
 * Named schemas of a document's components: `ref(name, schema)` registers a schema and returns a
 * `$ref` to it; a registered schema met inside another one becomes a `$ref` too, so shared shapes
 * (ErrorBody, EventMeta, event payloads) are written once. One instance per io.
 */
export class SchemaComponents {
  private readonly registry = z.registry<{ id: string }>();
  private readonly names = new Map<z.ZodType, string>();

  constructor(private readonly options: ConvertOptions & { readonly refPrefix: string }) {}

  /** A schema registered once keeps its first name. */
  ref(name: string, schema: z.ZodType): { $ref: string } {
    let known = this.names.get(schema);
    if (known === undefined) {
      if ([...this.names.values()].includes(name))
        throw new Error(`specs: two schemas named ${name}`);
      this.registry.add(schema, { id: name });
      this.names.set(schema, name);
      known = name;
    }
    return { $ref: `${this.options.refPrefix}${known}` };
  }

  toJson(): Record<string, Json> {
    if (this.names.size === 0) return {};
    const { schemas } = z.toJSONSchema(this.registry, {
      ...params(this.options),
      uri: (name: string) => `${this.options.refPrefix}${name}`,
    });
    return Object.fromEntries(
      Object.entries(schemas).map(([name, schema]) => [name, embeddable(schema as Json)]),
    );
  }
}
