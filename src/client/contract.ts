/**
 * The catalog-derived types the client library is typed with: its only door to server types that
 * are computed from zod schemas. The package build (scripts/packages/build.ts) swaps this file for
 * the same names resolved to plain types (scripts/packages/client-contract.ts), so the declarations
 * of @switchboard/client import nothing but socket.io-client. Everything else the library shares
 * with the gateway (room table, protocol constants, error and ack shapes) is zod-free already.
 */
// '../catalog/index', not '../catalog': explicit files resolve the same in every build.
export type { DeliveredData, EventName } from '../catalog/index';
export type { ServerEventsOf } from '../gateway/event-maps';
export type { ClientActionsOf } from '../gateway/namespaces/registry';
