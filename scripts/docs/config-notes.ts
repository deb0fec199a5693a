/**
 * What docs/configuration.md says about a variable that src/config.ts declares without a comment.
 * A variable with a comment of its own is described by that comment; a note here for one is left
 * over and fails test/docs (the source's comment is the one to keep).
 */
export const CONFIG_NOTES: Readonly<Record<string, string>> = {
  PORT: "A gateway's HTTP and socket.io port (`0`: any free port; `npm start` gives gateway n `PORT`+n). Workers serve their metrics on `METRICS_PORT` instead.",
  QUEUE_NAME:
    'BullMQ queue of delivery batches; throttle flushes use `<name>-throttle`, handler retries `<name>-handlers`. Every gateway and worker of a deployment must use the same.',
  BATCH_MAX_BYTES:
    "Cap of one delivery batch in bytes of its events' JSON payloads (with `BATCH_MAX_EVENTS`).",
  LOG_LEVEL: 'pino log level.',
  ADMIN_TOKEN:
    'Bearer token of `/admin`, and the password (user `admin`) of the dashboards. Unset: `/admin` refuses every request.',
  HISTORY_MAX_AGE_MS:
    "Default maximum age of a room's history entries (with `HISTORY_MAX_LEN`; a catalog entry may set its own).",
  HANDLER_CONCURRENCY: 'Handler retry jobs one worker runs at once.',
  JWT_ALG:
    'Algorithm of handshake tokens: HS256 with `JWT_SECRET`, or RS256 with `JWT_PUBLIC_KEY`. No other is accepted.',
  JWT_ISSUER: 'The `iss` claim every handshake token must carry.',
  JWT_AUDIENCE: 'The audience every handshake token must name in `aud`.',
  RATE_SOCKET_BURST: 'Per-socket bucket, every packet (a join with `since` takes 5): capacity.',
  RATE_SOCKET_PER_SEC: 'Per-socket bucket: tokens refilled per second.',
  RATE_USER_BURST: 'Per-user bucket, shared by every gateway: capacity.',
  RATE_USER_PER_SEC: 'Per-user bucket: tokens refilled per second.',
  RATE_HTTP_PER_SEC:
    "HTTP bucket (see `RATE_HTTP_BURST`): tokens refilled per second. Charged per verified token, else per client address (per `TRUST_PROXY`) on `/api`, `/admin` and the Admin UI's sign-in; a wrong or random bearer token is charged to the address, so guessing stops at the burst. The publish token on `/api` has its own bucket (`RATE_PUBLISH_*`).",
  RATE_PUBLISH_BURST:
    "Capacity of the publish token's bucket on `/api`, when `RATE_PUBLISH_PER_SEC` is set.",
};
