import { z } from 'zod';
import { HTTP_OPERATIONS } from '../api/operations';
import type { HttpAuth, HttpOperation } from '../api/operation';
import { Accepted } from '../api/operation';
import { examplesOf } from '../catalog/fields';
import { listEvents } from '../catalog';
import { SESSION_COOKIE } from '../admin/sessions';
import { ERROR_CODES, ErrorBodySchema, type ErrorCode } from '../errors';
import { specVersions } from './info';
import { SchemaComponents, toJsonSchema, type Json } from './json-schema';

const REF = '#/components/schemas/';

/** The security schemes of each kind of caller; a route accepts any one of its kind's schemes. */
const SECURITY: Record<Exclude<HttpAuth, 'none'>, Record<string, Json>> = {
  publish: {
    publishToken: {
      type: 'http',
      scheme: 'bearer',
      description:
        'PUBLISH_TOKEN, the service token of /api (development default `switchboard-dev-publish-token`, refused when NODE_ENV=production).',
    },
  },
  admin: {
    adminToken: {
      type: 'http',
      scheme: 'bearer',
      description:
        'ADMIN_TOKEN (16+ characters), compared in constant time. With no ADMIN_TOKEN configured every /admin request is 401.',
    },
  },
  adminPage: {
    adminBasic: {
      type: 'http',
      scheme: 'basic',
      description: 'The admin pages in a browser: user `admin`, password ADMIN_TOKEN.',
    },
    adminSession: {
      type: 'apiKey',
      in: 'cookie',
      name: SESSION_COOKIE,
      description: 'The HttpOnly cookie `POST /admin/login` sets (8 hours), for the admin pages.',
    },
  },
};

const ErrorResponse = z.object({ error: ErrorBodySchema });

/** The error codes a route answers with because of its shape, besides the ones it lists. */
function implicitErrors(op: HttpOperation): ErrorCode[] {
  const codes: ErrorCode[] = ['internal'];
  if (op.auth !== 'none') codes.push('unauthorized', 'rate_limited');
  // Whatever the route parses (src/api/validate.ts) answers `invalid_payload` when it does not fit.
  if (op.params || op.query || op.body) codes.push('invalid_payload');
  if (op.body && !op.bodyContentType) codes.push('invalid_json');
  if (op.body) codes.push('payload_too_large');
  return codes;
}

const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * The HTTP API as an OpenAPI 3.1 document, generated from HTTP_OPERATIONS (src/api/operations.ts):
 * each route's params, query, headers, body and answers come from the zod schemas its handler
 * parses with (request schemas as zod's input, answers as its output), so the document cannot
 * drift from the validation. Errors are `{ error: { code, message, issues?, retryAfterMs? } }`
 * with the status of each code from src/errors.ts.
 */
export function buildOpenApi(): Json {
  const inputs = new SchemaComponents({ io: 'input', target: 'draft-2020-12', refPrefix: REF });
  const outputs = new SchemaComponents({ io: 'output', target: 'draft-2020-12', refPrefix: REF });
  // Shared shapes first, so every use refers to them by these names.
  for (const event of listEvents()) inputs.ref(`EventData.${event.name}`, event.schema);
  outputs.ref('ErrorResponse', ErrorResponse);
  outputs.ref('ErrorBody', ErrorBodySchema);
  outputs.ref('Accepted', Accepted);

  const paths: Record<string, Record<string, Json>> = {};
  for (const op of HTTP_OPERATIONS) {
    (paths[op.path] ??= {})[op.method] = operationObject(op, inputs, outputs);
  }

  const codes = Object.entries(ERROR_CODES).map(([code, status]) => `\`${code}\` ${status}`);
  const schemas = { ...inputs.toJson(), ...outputs.toJson() };
  schemas.ErrorBody = {
    ...schemas.ErrorBody,
    description: `Every error: HTTP bodies, socket acks and CLI lines. Codes and their HTTP status: ${codes.join(', ')}.`,
  };

  return {
    openapi: '3.1.0',
    info: {
      title: 'Switchboard HTTP API',
      ...specVersions(),
      description:
        'Publish typed events (any catalog event, or the example domain routes) and operate the gateway (/admin). Generated from the zod schemas the routes validate with. The socket API is described by /api/asyncapi.json.',
    },
    servers: [{ url: '/', description: 'the gateway that served this document' }],
    tags: [
      { name: 'publish', description: 'publish catalog events (bearer PUBLISH_TOKEN)' },
      {
        name: 'domain',
        description: 'example domain routes that publish events (bearer PUBLISH_TOKEN)',
      },
      { name: 'admin', description: 'the management core over HTTP (bearer ADMIN_TOKEN)' },
      { name: 'health', description: 'liveness, readiness and Prometheus metrics (no token)' },
      {
        name: 'pages',
        description:
          'browser pages: the console (no token) and the admin dashboards (HTTP Basic admin:ADMIN_TOKEN or the sign-in cookie)',
      },
      { name: 'specs', description: 'the API descriptions themselves (no token)' },
    ],
    paths,
    components: {
      schemas,
      securitySchemes: Object.assign({}, ...Object.values(SECURITY)) as Json,
    },
  };
}

function operationObject(
  op: HttpOperation,
  inputs: SchemaComponents,
  outputs: SchemaComponents,
): Json {
  const name = upperFirst(op.operationId);
  const operation: Json = {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    security:
      op.auth === 'none' ? [] : Object.keys(SECURITY[op.auth]).map((scheme) => ({ [scheme]: [] })),
    // A page with its own files (and API) below its path: the document describes the page only.
    ...(op.mount ? { 'x-switchboard-mount': true } : {}),
  };

  const parameters = [...parametersOf(op.params, 'path'), ...parametersOf(op.query, 'query')];
  for (const [header, { schema, description }] of Object.entries(op.headers ?? {})) {
    parameters.push({
      name: header,
      in: 'header',
      required: !schema.safeParse(undefined).success,
      description,
      schema: toJsonSchema(unwrapOptional(schema), { io: 'input', target: 'draft-2020-12' }),
    });
  }
  if (parameters.length > 0) operation.parameters = parameters;

  if (op.body) {
    const examples =
      op.examples ??
      Object.fromEntries(
        examplesOf(op.body).map((value, i) => [i === 0 ? 'default' : `example${i + 1}`, { value }]),
      );
    operation.requestBody = {
      // A body schema that takes `undefined` (a default) makes the body optional.
      required: !op.body.safeParse(undefined).success,
      content: {
        [op.bodyContentType ?? 'application/json']: {
          schema: inputs.ref(`${name}Request`, op.body),
          examples,
        },
      },
    };
  }

  const responses: Record<string, Json> = {};
  const { response } = op;
  const successHeaders = Object.entries(response.headers ?? {}).map(([header, description]) => [
    header,
    { description, schema: { type: 'string' } },
  ]);
  responses[String(response.status)] = {
    description: response.description,
    ...(successHeaders.length > 0 ? { headers: Object.fromEntries(successHeaders) } : {}),
    ...(response.schema
      ? {
          content: {
            [response.contentType ?? 'application/json']: {
              schema: outputs.ref(`${name}Response`, response.schema),
            },
          },
        }
      : {}),
  };
  for (const [status, other] of Object.entries(op.otherResponses ?? {})) {
    responses[status] = {
      description: other.description,
      content: {
        'application/json': { schema: outputs.ref(`${name}Response${status}`, other.schema) },
      },
    };
  }

  // Errors grouped by status; each status's schema narrows `code` to the codes it can carry.
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set([...op.errors, ...implicitErrors(op)])) {
    const status = ERROR_CODES[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = {
      description: codes.map((code) => `\`${code}\``).join(', '),
      ...(status === 429
        ? {
            headers: {
              'Retry-After': {
                description: 'seconds to wait (also `error.retryAfterMs`)',
                schema: { type: 'integer' },
              },
            },
          }
        : {}),
      content: {
        'application/json': {
          schema: {
            allOf: [
              { $ref: `${REF}ErrorResponse` },
              {
                type: 'object',
                properties: { error: { type: 'object', properties: { code: { enum: codes } } } },
              },
            ],
          },
        },
      },
    };
  }
  operation.responses = responses;
  return operation;
}

/** Path or query parameters from an object schema: one parameter per property. */
function parametersOf(schema: z.ZodObject | undefined, where: 'path' | 'query'): Json[] {
  if (!schema) return [];
  const json = toJsonSchema(schema, { io: 'input', target: 'draft-2020-12' });
  const properties = (json.properties ?? {}) as Record<string, Json>;
  const required = new Set((json.required ?? []) as string[]);
  const example = examplesOf(schema)[0] as Record<string, unknown> | undefined;
  return Object.entries(properties).map(([name, { description, ...propertySchema }]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    ...(typeof description === 'string' ? { description } : {}),
    schema: propertySchema,
    ...(example && example[name] !== undefined ? { example: example[name] } : {}),
  }));
}

function unwrapOptional(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
}
