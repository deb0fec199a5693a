/**
 * What the gateway and its clients agree on beyond the catalog: close codes and the names of the
 * events the gateway itself sends. Plain constants, no imports: the client library takes them from
 * here, so a browser bundle pulls in nothing of the server.
 */

/** WebSocket close code a slow consumer's connection ends with (4000-4999: application codes). */
export const SLOW_CONSUMER_CLOSE_CODE = 4008;
/** The close reason beside that code, and the `code` of a `disconnect_reason` saying the same. */
export const SLOW_CONSUMER_REASON = 'slow_consumer';

/** Event a socket receives just before the gateway disconnects it, saying why. */
export const DISCONNECT_REASON_EVENT = 'disconnect_reason';

/** Event a socket receives when a re-join with `since` could not be replayed in full. */
export const RECOVERY_INCOMPLETE_EVENT = 'recovery_incomplete';
