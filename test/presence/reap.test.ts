import { connectRedis, closeRedis, type RedisClient } from '../../src/redis/connections';
import { createKeys, type Keys } from '../../src/redis/keys';
import { Presence, type PresenceStatus } from '../../src/presence/presence';
import { presenceScripts } from '../../src/presence/scripts';
import { deleteKeys, TEST_REDIS_MODE, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis';
import { until } from '../helpers/wait';

/**
 * Presence reaping with rooms under their own hash tags: a reap is one script for the users, then
 * one per room, so it can stop half way; the next heartbeat anywhere finishes it. Two Presence
 * objects stand for two gateways; a gateway "dies" by never beating again (a long heartbeat).
 */
describe('presence reaping across room slots', () => {
  let redis: RedisClient;
  let keys: Keys;
  let prefix: string;
  const started: Presence[] = [];
  const transitions: Array<[string, PresenceStatus]> = [];

  beforeEach(async () => {
    prefix = uniquePrefix('presence');
    keys = createKeys(prefix);
    redis = await connectRedis(
      { REDIS_URL: TEST_REDIS_URL, REDIS_MODE: TEST_REDIS_MODE },
      'command',
      'sb-test',
    );
    transitions.length = 0;
  });
  afterEach(async () => {
    for (const p of started.splice(0)) await p.close();
    await closeRedis(redis);
    await deleteKeys(prefix);
  });

  const gateway = async (heartbeatMs: number, ttlMs = 300): Promise<Presence> => {
    const p = new Presence({
      redis,
      keys,
      heartbeatMs,
      ttlMs,
      onTransition: (user, status) => transitions.push([user, status]),
    });
    await p.start();
    started.push(p);
    return p;
  };
  const inRoom = (room: string) => redis.hkeys(keys.presenceRoom('social', room));

  it("undoes a dead gateway's users and rooms, keeping what another gateway holds", async () => {
    const live = await gateway(60_000, 60_000);
    const doomed = await gateway(60_000);
    doomed.connected('gone');
    doomed.joined('social', 'post:a', 'gone');
    doomed.joined('social', 'post:b', 'gone');
    doomed.connected('both');
    doomed.joined('social', 'post:a', 'both');
    live.connected('both');
    live.joined('social', 'post:a', 'both');
    await until(
      async () => (await inRoom('post:a')).length === 2 && (await inRoom('post:b')).length === 1,
      5000,
      'joins landed',
    );

    // The doomed gateway's lease (300 ms) runs out; a third gateway's first beats reap it.
    await gateway(50);
    await until(
      async () =>
        (await inRoom('post:a')).join() === 'both' && (await inRoom('post:b')).length === 0,
      5000,
      'reaped',
    );
    expect(transitions.filter(([user]) => user === 'gone')).toEqual([
      ['gone', 'online'],
      ['gone', 'offline'],
    ]);
    expect(transitions.filter(([user, status]) => user === 'both' && status === 'offline')).toEqual(
      [],
    );
    expect(await redis.exists(keys.presenceGatewayRooms(doomed.gatewayId))).toBe(0);
    expect(await redis.scard(keys.presenceReaping)).toBe(0);
  });

  it('finishes the rooms of a reap that stopped after its users step', async () => {
    const doomed = await gateway(60_000);
    doomed.connected('half');
    doomed.joined('social', 'post:c', 'half');
    await until(async () => (await inRoom('post:c')).length === 1, 5000, 'join landed');
    await until(
      async () => Number(await redis.zscore(keys.presenceGateways, doomed.gatewayId)) < Date.now(),
      5000,
      'lease ran out',
    );

    // A reaper that ran the users script and then died: the gateway is marked reaping, rooms untouched.
    const scripts = presenceScripts(redis);
    const [state] = (await scripts.sbPresenceReapUsers(
      keys.presenceGateways,
      keys.presenceOnline,
      keys.presenceGateway(doomed.gatewayId),
      keys.presenceReaping,
      doomed.gatewayId,
      'expired',
    )) as [number];
    expect(state).toBe(1);
    expect(await inRoom('post:c')).toEqual(['half']);

    await gateway(50);
    await until(
      async () =>
        (await inRoom('post:c')).length === 0 && (await redis.scard(keys.presenceReaping)) === 0,
      5000,
      'reap finished',
    );
  });

  it('forgets a room it left from its room list after a heartbeat, and keeps the ones it is in', async () => {
    const p = await gateway(50, 60_000);
    p.connected('walker');
    p.joined('social', 'post:left', 'walker');
    p.joined('social', 'post:kept', 'walker');
    const list = keys.presenceGatewayRooms(p.gatewayId);
    await until(async () => (await redis.scard(list)) === 2, 5000, 'both listed');
    p.left('social', 'post:left', 'walker');
    await until(
      async () => (await redis.smembers(list)).join() === JSON.stringify(['social', 'post:kept']),
      5000,
      'left room forgotten',
    );
    expect(await inRoom('post:left')).toEqual([]);
    expect(await inRoom('post:kept')).toEqual(['walker']);
  });
});
