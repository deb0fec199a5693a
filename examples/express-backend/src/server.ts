/**
 * A backend's own express route that publishes a Switchboard event with @switchboard/publisher:
 * straight into the gateway's Redis and queue (no HTTP hop), typed by the catalog the package was
 * built with. The gateway's workers deliver it to the order's room.
 *
 *   POST /orders/:id/status { "status": "shipped", "note"?: "..." }  ->  202 { id, replayed? }
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { createPublisher, GatewayError } from '@switchboard/publisher';

const STATUSES = ['created', 'paid', 'preparing', 'shipped', 'delivered', 'cancelled'] as const;
type Status = (typeof STATUSES)[number];

const publisher = await createPublisher({
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  keyPrefix: process.env.KEY_PREFIX ?? 'sb',
  queueName: process.env.QUEUE_NAME ?? 'events',
});

const app = express();
app.use(express.json());

app.post(
  '/orders/:id/status',
  async (req: Request<{ id: string }>, res: Response, next: NextFunction) => {
    const { status, note } = (req.body ?? {}) as { status?: unknown; note?: unknown };
    if (!STATUSES.includes(status as Status)) {
      res.status(400).json({
        error: {
          code: 'invalid_status',
          message: `status must be one of ${STATUSES.join(', ')}`,
        },
      });
      return;
    }
    try {
      // ... the application updates its own database here, then tells the frontends.
      // The key names the business change: a retried request publishes it once, not twice.
      const accepted = await publisher.emitToOrder(
        'order_status_changed',
        req.params.id,
        {
          orderId: req.params.id,
          status: status as Status,
          ...(typeof note === 'string' ? { note } : {}),
        },
        { idempotencyKey: `order-status:${req.params.id}:${String(status)}` },
      );
      res.status(202).json(accepted);
    } catch (err) {
      next(err);
    }
  },
);

// Switchboard's typed errors keep their code and HTTP status (503 `unavailable` when Redis is away).
app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
  if (err instanceof GatewayError) {
    res.status(err.status).json({ error: err.toJSON() });
    return;
  }
  res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
});

const server = app.listen(Number(process.env.PORT ?? 4000), '127.0.0.1', () => {
  const address = server.address();
  console.log(
    `express backend on http://127.0.0.1:${typeof address === 'object' && address ? address.port : '?'}`,
  );
});

const stop = () => {
  server.close();
  void publisher.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
