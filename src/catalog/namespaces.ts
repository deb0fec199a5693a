/**
 * The namespaces frontends connect to. Each has a module under src/gateway/namespaces/. This file
 * imports nothing: the client library runs it.
 */
export const NAMESPACES = ['/social', '/chat', '/orders', '/notification'] as const;
export type Namespace = (typeof NAMESPACES)[number];

export function isNamespace(value: unknown): value is Namespace {
  return typeof value === 'string' && (NAMESPACES as readonly string[]).includes(value);
}
