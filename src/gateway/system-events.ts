import { z } from 'zod';
import { withExamples } from '../catalog/fields';
import { ErrorBodySchema, type ErrorBody } from '../errors';
import type { SameShape } from '../same-shape';

import { DISCONNECT_REASON_EVENT, RECOVERY_INCOMPLETE_EVENT } from '../wire/protocol';

export { DISCONNECT_REASON_EVENT };

/** `disconnect_reason`'s payload: an error body, and for some causes a `reason` word. */
export type DisconnectReason = ErrorBody & { reason?: string };

/** Sent by the gateway itself, on every namespace (the client's types include them). */
export interface SystemEvents {
  /** A re-join with `since` could not be replayed in full: refetch the room's state. */
  [RECOVERY_INCOMPLETE_EVENT]: (data: { room: string; reason: string }) => void;
  /** Sent just before the gateway disconnects the socket on purpose, saying why. */
  [DISCONNECT_REASON_EVENT]: (error: DisconnectReason) => void;
}

/**
 * Events the gateway itself sends on every namespace (not catalog events, so without `meta`):
 * their payload schemas, for the AsyncAPI document. Sent by recovery.ts and event-guard.ts.
 */
export const SYSTEM_EVENTS = {
  [RECOVERY_INCOMPLETE_EVENT]: {
    schema: withExamples(z.object({ room: z.string(), reason: z.string() }), {
      room: 'order:1001',
      reason: 'the history no longer reaches back to this offset',
    }),
    description:
      "A re-join with `since` could not be replayed in full (the room's history was trimmed past that offset, or too many events were missed): refetch the room's state. The join's ack says `{ room, recovered: 0, incomplete: true }`.",
  },
  [DISCONNECT_REASON_EVENT]: {
    schema: withExamples(
      ErrorBodySchema.extend({
        reason: z
          .string()
          .optional()
          .meta({ description: 'a machine-readable cause, e.g. `token_expired`' }),
      }),
      { code: 'rate_limited', message: 'disconnected: too many refused requests' },
      { code: 'unauthorized', message: 'token expired', reason: 'token_expired' },
    ),
    description:
      'Sent just before the gateway disconnects the socket on purpose, saying why: `rate_limited` after more than RATE_FLOOD_DISCONNECT_AFTER refused packets in about ten seconds; `unauthorized` with `reason: token_expired` when the token expired TOKEN_EXPIRY_GRACE_MS ago without a `refresh_token`. A slow consumer is closed with websocket close code 4008 `slow_consumer` instead.',
  },
} as const;

true satisfies SameShape<
  z.output<(typeof SYSTEM_EVENTS)['recovery_incomplete']['schema']>,
  Parameters<SystemEvents['recovery_incomplete']>[0]
>;
true satisfies SameShape<
  z.output<(typeof SYSTEM_EVENTS)[typeof DISCONNECT_REASON_EVENT]['schema']>,
  Parameters<SystemEvents[typeof DISCONNECT_REASON_EVENT]>[0]
>;
