import { Router } from 'express';
import { z } from 'zod';
import { Revocations } from '../../auth/revocations';
import { id, withExamples } from '../../catalog/fields';
import type { Runtime } from '../../runtime';
import { requireBearer } from '../bearer';
import type { HttpOperation } from '../operation';
import { parse } from '../validate';

export const UserParams = withExamples(z.object({ id }), { id: '42' });

export const Revoked = z.object({
  userId: z.string(),
  revokedBefore: z.number().int().meta({
    description:
      "ms since epoch (a whole second): the user's tokens issued before it are refused by every gateway, at the handshake and by refresh_token",
  }),
});

/**
 * `POST /admin/users/:id/revoke` (admin token): refuses the user's tokens issued before now on every
 * gateway for TOKEN_REVOCATION_TTL_S (src/auth/revocations.ts). Sockets already connected keep
 * going until their token expires, and then cannot refresh it.
 */
export function adminUserRoutes(rt: Pick<Runtime, 'config' | 'redis' | 'keys'>): Router {
  const revocations = new Revocations(rt.redis, rt.keys, rt.config.TOKEN_REVOCATION_TTL_S);
  const r = Router();
  r.use('/users', requireBearer([rt.config.ADMIN_TOKEN], 'admin API'));
  r.post('/users/:id/revoke', async (req, res) => {
    const { id: userId } = parse(UserParams, req.params, 'path');
    res.json({ userId, revokedBefore: await revocations.revoke(userId) });
  });
  return r;
}

export const adminUserOperations: HttpOperation[] = [
  {
    method: 'post',
    path: '/admin/users/{id}/revoke',
    operationId: 'revokeUserTokens',
    tag: 'admin',
    auth: 'admin',
    summary: "Revoke a user's tokens",
    description:
      "Every gateway refuses the user's tokens issued before now, at the handshake and by `refresh_token`, for TOKEN_REVOCATION_TTL_S; connected sockets keep going until their token expires.",
    params: UserParams,
    response: { status: 200, description: 'the revocation', schema: Revoked },
    errors: ['invalid_payload', 'unavailable'],
  },
];
