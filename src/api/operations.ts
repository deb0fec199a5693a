import { z } from 'zod';
import { consoleOperations } from '../console/routes';
import { monitoringOperations, PUBLIC_HEALTH } from './monitoring';
import { probeResponses, type HttpOperation } from './operation';
import { dashboardOperations } from './routes/dashboards';
import { adminOperations } from './routes/admin';
import { domainOperations } from './routes/domain';
import { publishOperations } from './routes/publish';
import { adminUserOperations } from './routes/admin-users';
import { roomOperations } from './routes/rooms';
import { publishBatchOperations } from './routes/publish-batch';

const Health = z.object({
  ok: z.boolean(),
  redis: z.string().meta({
    description: '`ok`, `error` (no answer to PING) or the connection status, e.g. `reconnecting`',
  }),
});

/** Routes the app defines itself (src/api/app.ts and routes/specs.ts). */
const gatewayOperations: HttpOperation[] = [
  {
    ...PUBLIC_HEALTH,
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    summary: 'Is this gateway up and its Redis answering?',
    ...probeResponses(Health, 'Redis answers PING', 'Redis does not answer'),
    errors: [],
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'openapi',
    tag: 'specs',
    auth: 'none',
    summary: 'This document: the HTTP API as OpenAPI 3.1',
    description:
      'Generated from the zod schemas the routes validate with. No token needed: it describes, it holds no data.',
    response: {
      status: 200,
      description: 'an OpenAPI 3.1 document',
      schema: z.record(z.string(), z.unknown()),
    },
    errors: ['rate_limited'],
  },
  {
    method: 'get',
    path: '/api/asyncapi.json',
    operationId: 'asyncapi',
    tag: 'specs',
    auth: 'none',
    summary: 'The socket API as AsyncAPI 3.0',
    description:
      'Generated from the event catalog and the namespace modules: one channel per Socket.IO namespace, its events, client actions and their acks. No token needed.',
    response: {
      status: 200,
      description: 'an AsyncAPI 3.0 document',
      schema: z.record(z.string(), z.unknown()),
    },
    errors: ['rate_limited'],
  },
];

/**
 * Every route of the HTTP app, as the OpenAPI document shows it. test/specs/specs.test.ts walks the
 * express app and fails on a route missing here (or listed here and not served).
 */
export const HTTP_OPERATIONS: readonly HttpOperation[] = [
  ...gatewayOperations,
  ...monitoringOperations,
  ...publishOperations,
  ...publishBatchOperations,
  ...roomOperations,
  ...domainOperations,
  ...adminOperations,
  ...adminUserOperations,
  ...dashboardOperations,
  ...consoleOperations,
];
